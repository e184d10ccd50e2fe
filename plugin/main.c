/*
 * main.c: mtascope-pipe's options and wiring.
 *
 * PowerMTA starts this program from an <acct-file |...> directive and
 * writes accounting CSV to its stdin.  The offline modes (--dump,
 * --summary, --output) read a stream or a file to its end and report what
 * the record path made of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "batch.h"
#include "csv.h"
#include "bounds.h"
#include "log.h"
#include "pipeline.h"
#include "session.h"

#define VERSION	"0.1.0"

static void	usage(int) __attribute__((noreturn));
static long long	number_arg(const char *, const char *, long long,
			    long long);

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: mtascope-pipe [--dump] [--summary] [--output FILE] "
	    "[--host NAME]\n"
	    "                     [--session-gap SECONDS] [--keep-rcpt] "
	    "[--max-record BYTES]\n"
	    "                     [--max-errors N] [--batch-records N] "
	    "[-V] [-h]\n");
	exit(status);
}

static long long
number_arg(const char *opt, const char *s, long long min, long long max)
{
	const char *err;
	long long v;

	v = strtonum(s, min, max, &err);
	if (err != NULL)
		fatalx("--%s %s: %s (allowed %lld..%lld)", opt, s, err, min,
		    max);
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dump",		no_argument,		NULL, 'd' },
		{ "summary",		no_argument,		NULL, 's' },
		{ "output",		required_argument,	NULL, 'o' },
		{ "host",		required_argument,	NULL, 'H' },
		{ "session-gap",	required_argument,	NULL, 'g' },
		{ "keep-rcpt",		no_argument,		NULL, 'k' },
		{ "max-record",		required_argument,	NULL, 'm' },
		{ "max-errors",		required_argument,	NULL, 'e' },
		{ "batch-records",	required_argument,	NULL, 'b' },
		{ "version",		no_argument,		NULL, 'V' },
		{ "help",		no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pipeline_opts opts;
	struct pipeline_stats st;
	const char *output = NULL;
	char hostname[MTA_MAX_HOST + 1], line[512];
	int ch, summary = 0, rc;

	log_init("mtascope-pipe", 0);
	memset(&opts, 0, sizeof(opts));
	opts.output_fd = -1;
	opts.max_record = CSV_DEFAULT_MAX_RECORD;
	opts.max_errors = 10;
	opts.session_gap = SESSION_DEFAULT_GAP;
	opts.batch_records = BATCH_DEFAULT_RECORDS;

	while ((ch = getopt_long(argc, argv, "Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			opts.dump = 1;
			break;
		case 's':
			summary = 1;
			break;
		case 'o':
			output = optarg;
			break;
		case 'H':
			if (strlen(optarg) == 0 ||
			    strlen(optarg) > MTA_MAX_HOST)
				fatalx("--host: 1 to %d bytes", MTA_MAX_HOST);
			opts.host = optarg;
			break;
		case 'g':
			opts.session_gap = number_arg("session-gap", optarg,
			    0, 3600);
			break;
		case 'k':
			opts.keep_rcpt = 1;
			break;
		case 'm':
			opts.max_record = (size_t)number_arg("max-record",
			    optarg, 256, 64 * 1024 * 1024);
			break;
		case 'e':
			opts.max_errors = (unsigned)number_arg("max-errors",
			    optarg, 0, 1000000);
			break;
		case 'b':
			opts.batch_records = (size_t)number_arg(
			    "batch-records", optarg, 1, MTA_MAX_BATCH_RECORDS);
			break;
		case 'V':
			printf("mtascope-pipe %s\n", VERSION);
			return 0;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (!opts.dump && !summary && output == NULL) {
		log_warnx("nothing to do: give --dump, --summary or "
		    "--output FILE");
		usage(2);
	}
	if (opts.host == NULL) {
		if (gethostname(hostname, sizeof(hostname)) == -1)
			fatal("gethostname");
		hostname[sizeof(hostname) - 1] = '\0';
		opts.host = hostname;
	}
	if (output != NULL) {
		opts.output_fd = open(output, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644);
		if (opts.output_fd == -1)
			fatal("%s", output);
	}

	rc = pipeline_run(&opts, STDIN_FILENO, &st);
	if (summary) {
		pipeline_summary_line(&st, line, sizeof(line));
		printf("%s\n", line);
	}
	if (opts.output_fd != -1 && close(opts.output_fd) == -1) {
		log_warn("%s", output);
		rc = -1;
	}
	if (fflush(stdout) == EOF)
		rc = -1;
	return rc == 0 ? 0 : 1;
}
