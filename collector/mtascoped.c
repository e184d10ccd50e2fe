/*
 * mtascoped.c: the collector's options, configuration and lifecycle.
 *
 * It opens the store, loads the ISP table, starts the ingest side and the
 * housekeeping thread (alerts, retention), and waits for SIGINT or SIGTERM,
 * on which it answers what is queued and closes the database cleanly;
 * SIGHUP evaluates the alerts at once.  It runs in the foreground and logs to
 * stderr; a service manager does the rest.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>

#include "bounds.h"
#include "config.h"
#include "ingest.h"
#include "isp.h"
#include "log.h"
#include "maint.h"
#include "store.h"

#define VERSION	"0.1.0"

struct settings {
	const char	*db;
	const char	*listen;
	const char	*isp_table;
	size_t		 max_frame;
	int		 contexts;
	int		 retention_days;
	int		 syslog;
	char		*owned[16];	/* strings from the config file */
	int		 nowned;
};

static void	usage(int) __attribute__((noreturn));
static int	set_option(void *, const char *, const char *, const char **);

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: mtascoped [-c FILE] [--db PATH] [--listen URL] "
	    "[--isp-table FILE]\n"
	    "                 [--max-frame BYTES] [--contexts N] "
	    "[--retention-days N]\n"
	    "                 [--syslog] [-V] [-h]\n");
	exit(status);
}

static int
set_option(void *arg, const char *key, const char *value, const char **why)
{
	struct settings *s = arg;
	const char *err;
	char *copy;

	if (*value == '\0' && strcmp(key, "syslog") != 0) {
		*why = "missing value";
		return -1;
	}
	if (strcmp(key, "db") == 0 || strcmp(key, "listen") == 0 ||
	    strcmp(key, "isp-table") == 0) {
		if (s->nowned == (int)(sizeof(s->owned) / sizeof(s->owned[0]))) {
			*why = "given too many times";
			return -1;
		}
		if ((copy = strdup(value)) == NULL)
			fatal("config");
		s->owned[s->nowned++] = copy;
		if (key[0] == 'd')
			s->db = copy;
		else if (key[0] == 'l')
			s->listen = copy;
		else
			s->isp_table = copy;
		return 0;
	}
	if (strcmp(key, "max-frame") == 0) {
		s->max_frame = (size_t)strtonum(value, 4096, MTA_MAX_FRAME,
		    &err);
		if (err != NULL) {
			*why = "expected 4096 .. 67108864";
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "syslog") == 0) {
		s->syslog = strcmp(value, "yes") == 0;
		if (!s->syslog && strcmp(value, "no") != 0) {
			*why = "expected yes or no";
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "retention-days") == 0) {
		s->retention_days = (int)strtonum(value, RETENTION_MIN, 100000,
		    &err);
		if (err != NULL) {
			*why = "expected at least 30 days";
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "contexts") == 0) {
		s->contexts = (int)strtonum(value, 1, 1024, &err);
		if (err != NULL) {
			*why = "expected 1 .. 1024";
			return -1;
		}
		return 0;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db",		required_argument,	NULL, 'd' },
		{ "listen",	required_argument,	NULL, 'l' },
		{ "isp-table",	required_argument,	NULL, 'i' },
		{ "max-frame",	required_argument,	NULL, 'm' },
		{ "contexts",	required_argument,	NULL, 'n' },
		{ "retention-days", required_argument,	NULL, 'r' },
		{ "syslog",	no_argument,		NULL, 's' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct settings s = { NULL, "tcp://0.0.0.0:4817", NULL, MTA_MAX_FRAME,
	    64, RETENTION_DEFAULT, 0, { NULL }, 0 };
	struct isp_table *isps;
	struct store *store;
	struct ingest *in;
	struct maint *maint;
	struct ingest_stats st;
	const char *why;
	sigset_t set;
	int ch, sig, i;

	log_init("mtascoped", 0);
	/* A config file first, so command-line options override it. */
	for (i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "-c") == 0 &&
		    config_parse(argv[i + 1], set_option, &s) == -1)
			fatalx("%s: not started: fix the errors above",
			    argv[i + 1]);
	}
	while ((ch = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
		why = "bad value";
		switch (ch) {
		case 'c':
			break;
		case 'd':
			s.db = optarg;
			break;
		case 'l':
			s.listen = optarg;
			break;
		case 'i':
			s.isp_table = optarg;
			break;
		case 'm':
			if (set_option(&s, "max-frame", optarg, &why) == -1)
				fatalx("--max-frame %s: %s", optarg, why);
			break;
		case 'n':
			if (set_option(&s, "contexts", optarg, &why) == -1)
				fatalx("--contexts %s: %s", optarg, why);
			break;
		case 's':
			s.syslog = 1;
			break;
		case 'r':
			if (set_option(&s, "retention-days", optarg, &why) ==
			    -1)
				fatalx("--retention-days %s: %s", optarg, why);
			break;
		case 'V':
			printf("mtascoped %s\n", VERSION);
			return 0;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (s.syslog)
		log_to_syslog();
	if (s.db == NULL) {
		log_warnx("no database: give --db PATH (or \"db\" in the "
		    "config file)");
		usage(2);
	}

	isps = isp_table_default();
	if (s.isp_table != NULL && isp_table_load(&isps, s.isp_table) == -1)
		fatalx("%s: not started: fix the errors above", s.isp_table);
	if ((store = store_open(s.db, 0)) == NULL)
		fatalx("%s: cannot open the database", s.db);

	/* Signals are taken synchronously by this thread only; nng's
	 * threads inherit the blocked mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((in = ingest_start(s.listen, store, isps, s.max_frame,
	    s.contexts)) == NULL)
		fatalx("not started");
	log_info("listening on %s, database %s", s.listen, s.db);
	maint = maint_start(s.db, s.retention_days, in);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			fatal("sigwait");
		if (sig != SIGHUP)
			break;
		maint_kick(maint);
	}
	maint_stop(maint);
	ingest_get_stats(in, &st);
	ingest_stop(in);
	store_close(store);
	isp_table_free(isps);
	log_info("stopped: %llu batches applied, %llu duplicates, "
	    "%llu rejected, %llu records",
	    (unsigned long long)st.batches, (unsigned long long)st.duplicates,
	    (unsigned long long)st.rejected, (unsigned long long)st.records);
	while (s.nowned > 0)
		free(s.owned[--s.nowned]);
	return 0;
}
