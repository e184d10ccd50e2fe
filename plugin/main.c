/*
 * main.c: mtascope-pipe's options, configuration and lifecycle.
 *
 * PowerMTA starts this program from an <acct-file |...> directive and
 * writes accounting CSV to its stdin.  With --collector it spools batches
 * and sends them to mtascoped; at end of input (a `pmta reload` closes the
 * pipe) it flushes, keeps delivering for up to --drain-timeout, and exits
 * 0 only if everything was acknowledged.  Whatever is left stays in the
 * spool for the next start.  The offline modes (--dump, --summary,
 * --output) read a stream or file to its end and report what the record
 * path made of it.
 *
 * Every option can also be given in the file named by -c, one "name
 * value" per line; the command line wins.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "batch.h"
#include "bounds.h"
#include "config.h"
#include "crc32c.h"
#include "csv.h"
#include "log.h"
#include "pipeline.h"
#include "sender.h"
#include "session.h"
#include "spool.h"

#define VERSION	"0.1.0"

struct settings {
	struct pipeline_opts	 p;
	struct spool_opts	 spool;
	const char		*collector;
	const char		*output;
	int			 summary;
	int			 replay;
	int			 syslog;
	int			 drain_timeout;
	int			 senders;
	char			*owned[32];	/* option strings to free */
	int			 nowned;
};

static volatile sig_atomic_t	stop_requested;

static void	usage(int) __attribute__((noreturn));
static int	set_option(void *, const char *, const char *, const char **);
static int	parse_size(const char *, uint64_t *);
static int	host_ok(const char *);
static void	on_signal(int);
static int	deliver(struct settings *, struct pipeline_stats *);
static int	deliver_fd(struct settings *, int, struct pipeline_stats *);
static int	replay(struct settings *, char **, int, struct pipeline_stats *);
static int	file_id(int, char *, size_t);
static void	remove_tree(const char *);

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: mtascope-pipe [-c FILE] [--collector URL] [--spool DIR] "
	    "[--host NAME]\n"
	    "                     [--fsync interval|always] "
	    "[--fsync-interval MS] [--spool-cap SIZE]\n"
	    "                     [--batch-records N] [--batch-ms MS] "
	    "[--drain-timeout SECONDS]\n"
	    "                     [--senders N] [--session-gap SECONDS] "
	    "[--keep-rcpt]\n"
	    "                     [--max-record BYTES] [--max-errors N] "
	    "[--dump] [--summary]\n"
	    "                     [--output FILE] [--syslog] [-V] [-h]\n"
	    "       mtascope-pipe --replay --collector URL [options] FILE...\n");
	exit(status);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* "1073741824", "512M", "1G" */
static int
parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end != '\0' || v < 1024 * 1024)
		return -1;
	*out = v;
	return 0;
}

static int
number(const char *value, long long min, long long max, long long *out,
    const char **why)
{
	const char *err;

	*out = strtonum(value, min, max, &err);
	if (err != NULL) {
		*why = err;
		return -1;
	}
	return 0;
}

/* What the collector accepts as a host name (collector/validate.c). */
static int
host_ok(const char *h)
{
	size_t n = strlen(h);

	return n > 0 && n <= MTA_MAX_HOST && strspn(h, "abcdefghijklmnopqrstu"
	    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static int
yes(const char *value)
{
	return *value == '\0' || strcmp(value, "yes") == 0 ||
	    strcmp(value, "true") == 0 || strcmp(value, "1") == 0;
}

/* One setting, from the command line or the config file. */
static int
set_option(void *arg, const char *key, const char *value, const char **why)
{
	struct settings *s = arg;
	long long v;
	char *copy = NULL;

	if (strcmp(key, "dump") == 0)
		s->p.dump = yes(value);
	else if (strcmp(key, "summary") == 0)
		s->summary = yes(value);
	else if (strcmp(key, "keep-rcpt") == 0)
		s->p.keep_rcpt = yes(value);
	else if (strcmp(key, "replay") == 0)
		s->replay = yes(value);
	else if (strcmp(key, "syslog") == 0)
		s->syslog = yes(value);
	else if (strcmp(key, "host") == 0 || strcmp(key, "output") == 0 ||
	    strcmp(key, "collector") == 0 || strcmp(key, "spool") == 0) {
		if (*value == '\0' || strlen(value) > 1024) {
			*why = "expected 1 to 1024 bytes";
			return -1;
		}
		if (s->nowned == (int)(sizeof(s->owned) / sizeof(s->owned[0]))) {
			*why = "given too many times";
			return -1;
		}
		if ((copy = strdup(value)) == NULL)
			fatal("options");
		s->owned[s->nowned++] = copy;
		if (key[0] == 'h') {
			if (!host_ok(copy)) {
				*why = "host names are 1 to 255 letters, digits, "
				    "'-', '_' or '.'";
				return -1;
			}
			s->p.host = copy;
		} else if (key[0] == 'o')
			s->output = copy;
		else if (key[0] == 'c')
			s->collector = copy;
		else
			s->spool.dir = copy;
	} else if (strcmp(key, "fsync") == 0) {
		if (strcmp(value, "always") == 0)
			s->spool.fsync_always = 1;
		else if (strcmp(value, "interval") == 0)
			s->spool.fsync_always = 0;
		else {
			*why = "expected \"interval\" or \"always\"";
			return -1;
		}
	} else if (strcmp(key, "spool-cap") == 0) {
		if (parse_size(value, &s->spool.cap) == -1) {
			*why = "expected a size of at least 1M (K, M, G)";
			return -1;
		}
	} else {
		if (strcmp(key, "fsync-interval") == 0 &&
		    number(value, 1, 60000, &v, why) == 0)
			s->spool.interval_ms = (int)v;
		else if (strcmp(key, "session-gap") == 0 &&
		    number(value, 0, 3600, &v, why) == 0)
			s->p.session_gap = v;
		else if (strcmp(key, "max-record") == 0 &&
		    number(value, 256, 64 * 1024 * 1024, &v, why) == 0)
			s->p.max_record = (size_t)v;
		else if (strcmp(key, "max-errors") == 0 &&
		    number(value, 0, 1000000, &v, why) == 0)
			s->p.max_errors = (unsigned)v;
		else if (strcmp(key, "batch-records") == 0 &&
		    number(value, 1, MTA_MAX_PIPE_BATCH, &v, why) == 0)
			s->p.batch_records = (size_t)v;
		else if (strcmp(key, "batch-ms") == 0 &&
		    number(value, 10, 600000, &v, why) == 0)
			s->p.batch_ms = (int)v;
		else if (strcmp(key, "drain-timeout") == 0 &&
		    number(value, 0, 86400, &v, why) == 0)
			s->drain_timeout = (int)v;
		else if (strcmp(key, "senders") == 0 &&
		    number(value, 1, 64, &v, why) == 0)
			s->senders = (int)v;
		else
			return -1;
	}
	return 0;
}

static int
deliver(struct settings *s, struct pipeline_stats *st)
{
	return deliver_fd(s, STDIN_FILENO, st);
}

/* Spool, send, drain: the production mode. */
static int
deliver_fd(struct settings *s, int fd, struct pipeline_stats *st)
{
	struct spool *sp;
	struct sender *snd;
	struct spool_stats ss;
	struct sender_stats ds;
	struct timespec nap = { 0, 20 * 1000000L };
	time_t deadline;
	int rc;

	if ((sp = spool_open(&s->spool)) == NULL)
		fatalx("spool %s: cannot be used", s->spool.dir);
	if ((snd = sender_start(s->collector, sp, s->senders)) == NULL)
		fatalx("collector %s: cannot be used", s->collector);
	s->p.spool = sp;
	s->p.stop = &stop_requested;
	if (!s->p.replay)
		log_info("reading; spool %s, lane %s, collector %s",
		    s->spool.dir, spool_id(sp), s->collector);
	rc = pipeline_run(&s->p, fd, st);

	spool_flush(sp);
	deadline = time(NULL) + s->drain_timeout;
	for (;;) {
		spool_get_stats(sp, &ss);
		if (ss.pending == 0 && !s->p.replay) {
			/* Done with ours: take over what an exited pipe left
			 * (a `pmta reload`) before calling it a day. */
			spool_adopt_orphans(sp);
			spool_get_stats(sp, &ss);
		}
		if (ss.pending == 0 || time(NULL) >= deadline)
			break;
		nanosleep(&nap, NULL);
	}
	spool_shutdown(sp);
	sender_get_stats(snd, &ds);
	sender_stop(snd);
	spool_get_stats(sp, &ss);
	spool_close(sp);
	if (ds.rejected > 0)
		log_warnx("%llu batches (%llu records) were rejected by the "
		    "collector", (unsigned long long)ds.rejected,
		    (unsigned long long)ds.rejected_records);
	if (ss.pending > 0) {
		log_warnx("%llu batches (%llu bytes) not acknowledged within "
		    "%d s; they stay in %s for the next start",
		    (unsigned long long)ss.pending,
		    (unsigned long long)ss.bytes, s->drain_timeout,
		    s->spool.dir);
		rc = -1;
	}
	return rc;
}

/*
 * A file's identity, for its spool id: CRC-32C of the content and its
 * size.  The same file replayed again gets the same id and the same batch
 * numbers, so the collector counts it once.
 */
static int
file_id(int fd, char *id, size_t len)
{
	static char buf[1 << 16];
	uint32_t crc = 0;
	uint64_t size = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		crc = crc32c(crc, buf, (size_t)n);
		size += (uint64_t)n;
	}
	if (n < 0 || lseek(fd, 0, SEEK_SET) == -1)
		return -1;
	snprintf(id, len, "r%08x%011llx", crc, (unsigned long long)size);
	return 0;
}

/* rm -r for the replay's private spool: two levels, files only. */
static void
remove_tree(const char *dir)
{
	char path[2048];
	DIR *d;
	struct dirent *de;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == -1 && (errno == EISDIR || errno == EPERM))
			remove_tree(path);
	}
	closedir(d);
	rmdir(dir);
}

/*
 * Backfill: each file goes through the same path as the live stream, via
 * a private spool under the spool directory, and is waited for: a replay
 * drops nothing and ends only when the collector has acknowledged all of
 * it (or --drain-timeout passes after the file is read).
 */
static int
replay(struct settings *s, char **files, int nfiles,
    struct pipeline_stats *total)
{
	struct pipeline_stats st;
	struct spool_opts so = s->spool;
	char tmpl[1100], id[32];
	const char *spooldir = s->spool.dir;
	struct stat sb;
	int i, k, fd, rc = 0;

	memset(total, 0, sizeof(*total));
	if (mkdir(spooldir, 0750) == -1 && errno != EEXIST)
		fatal("spool %s", spooldir);
	for (i = 0; i < nfiles && !stop_requested; i++) {
		if ((fd = open(files[i], O_RDONLY | O_CLOEXEC)) == -1 ||
		    fstat(fd, &sb) == -1 || file_id(fd, id, sizeof(id)) == -1) {
			log_warn("%s", files[i]);
			if (fd != -1)
				close(fd);
			rc = -1;
			continue;
		}
		snprintf(tmpl, sizeof(tmpl), "%s/replay.XXXXXX", spooldir);
		if (mkdtemp(tmpl) == NULL)
			fatal("spool %s", tmpl);
		so.dir = tmpl;
		so.lane_id = id;
		s->spool = so;
		s->p.replay = 1;
		s->p.batch_ms = 0;
		s->p.input_name = files[i];
		s->p.progress_total = isatty(STDERR_FILENO) ?
		    (uint64_t)sb.st_size : 0;
		if (deliver_fd(s, fd, &st) == -1)
			rc = -1;
		close(fd);
		remove_tree(tmpl);
		total->records += st.records;
		total->rejected += st.rejected;
		total->sessions += st.sessions;
		total->session_records += st.session_records;
		for (k = 0; k < REC_NTYPES; k++)
			total->by_type[k] += st.by_type[k];
	}
	s->spool.dir = spooldir;
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "collector",		required_argument,	NULL, 0 },
		{ "spool",		required_argument,	NULL, 0 },
		{ "host",		required_argument,	NULL, 0 },
		{ "fsync",		required_argument,	NULL, 0 },
		{ "fsync-interval",	required_argument,	NULL, 0 },
		{ "spool-cap",		required_argument,	NULL, 0 },
		{ "batch-records",	required_argument,	NULL, 0 },
		{ "batch-ms",		required_argument,	NULL, 0 },
		{ "drain-timeout",	required_argument,	NULL, 0 },
		{ "senders",		required_argument,	NULL, 0 },
		{ "session-gap",	required_argument,	NULL, 0 },
		{ "keep-rcpt",		no_argument,		NULL, 0 },
		{ "max-record",		required_argument,	NULL, 0 },
		{ "max-errors",		required_argument,	NULL, 0 },
		{ "dump",		no_argument,		NULL, 0 },
		{ "summary",		no_argument,		NULL, 0 },
		{ "output",		required_argument,	NULL, 0 },
		{ "replay",		no_argument,		NULL, 0 },
		{ "syslog",		no_argument,		NULL, 0 },
		{ "version",		no_argument,		NULL, 'V' },
		{ "help",		no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct settings s;
	struct pipeline_stats st;
	struct sigaction sa;
	const char *why;
	char hostname[MTA_MAX_HOST + 1], line[512];
	int ch, idx, i, rc;

	log_init("mtascope-pipe", 0);
	memset(&s, 0, sizeof(s));
	s.p.output_fd = -1;
	s.p.max_record = CSV_DEFAULT_MAX_RECORD;
	s.p.max_errors = 10;
	s.p.session_gap = SESSION_DEFAULT_GAP;
	s.p.batch_records = BATCH_DEFAULT_RECORDS;
	s.p.batch_ms = 1000;
	s.spool.dir = "/var/spool/mtascope";
	s.spool.cap = SPOOL_DEFAULT_CAP;
	s.spool.interval_ms = SPOOL_DEFAULT_INTERVAL;
	s.spool.segment_bytes = SPOOL_SEGMENT_BYTES;
	s.drain_timeout = 10;
	s.senders = SENDER_DEFAULT_CONTEXTS;

	/* The config file first, so the command line overrides it. */
	for (i = 1; i < argc - 1; i++)
		if (strcmp(argv[i], "-c") == 0 &&
		    config_parse(argv[i + 1], set_option, &s) == -1)
			fatalx("%s: not started: fix the errors above",
			    argv[i + 1]);
	while ((ch = getopt_long(argc, argv, "c:Vh", longopts, &idx)) != -1) {
		switch (ch) {
		case 0:
			why = "unknown option";
			if (set_option(&s, longopts[idx].name,
			    optarg != NULL ? optarg : "", &why) == -1) {
				log_warnx("--%s %s: %s", longopts[idx].name,
				    optarg != NULL ? optarg : "", why);
				rc = 2;
				goto out;
			}
			break;
		case 'c':
			break;
		case 'V':
			printf("mtascope-pipe %s\n", VERSION);
			rc = 0;
			goto out;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (s.syslog)
		log_to_syslog();
	if (s.replay && (s.collector == NULL || optind == argc)) {
		log_warnx("--replay needs --collector URL and files");
		usage(2);
	}
	if (optind != argc && !s.replay)
		usage(2);
	if (s.collector == NULL && !s.p.dump && !s.summary &&
	    s.output == NULL) {
		log_warnx("nothing to do: give --collector URL, or --dump, "
		    "--summary or --output FILE");
		usage(2);
	}
	if (s.p.host == NULL) {
		if (gethostname(hostname, sizeof(hostname)) == -1)
			fatal("gethostname");
		hostname[sizeof(hostname) - 1] = '\0';
		if (!host_ok(hostname)) {
			log_warnx("host name \"%s\" cannot be sent: give "
			    "--host NAME (letters, digits, '-', '_', '.')",
			    hostname);
			rc = 2;
			goto out;
		}
		s.p.host = hostname;
	}
	if (s.output != NULL) {
		s.p.output_fd = open(s.output, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644);
		if (s.p.output_fd == -1)
			fatal("%s", s.output);
	}
	s.p.stop = &stop_requested;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (s.replay)
		rc = replay(&s, argv + optind, argc - optind, &st);
	else if (s.collector != NULL)
		rc = deliver(&s, &st);
	else
		rc = pipeline_run(&s.p, STDIN_FILENO, &st);
	if (s.summary) {
		pipeline_summary_line(&st, line, sizeof(line));
		printf("%s\n", line);
	}
	if (s.p.output_fd != -1 && close(s.p.output_fd) == -1) {
		log_warn("%s", s.output);
		rc = -1;
	}
	if (fflush(stdout) == EOF)
		rc = -1;
	rc = rc == 0 ? 0 : 1;
out:
	while (s.nowned > 0)
		free(s.owned[--s.nowned]);
	return rc;
}
