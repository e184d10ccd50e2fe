/*
 * mtascope.c: the command-line reader of the collector's database.
 *
 * `mtascope SUBCOMMAND [options]`; each subcommand lives in its own file
 * and reads the SQLite database mtascoped writes, read-only, so it can run
 * beside a busy collector (WAL readers never block the writer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "ptime.h"

#define VERSION	"0.1.0"

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*what;
} commands[] = {
	{ "export",	cmd_export,	"hourly or daily counters as CSV" },
	{ "gaps",	cmd_gaps,	"records dropped at the hosts, by hour" },
	{ "hosts",	cmd_hosts,	"each host's last batch and counters" },
	{ "report",	cmd_report,	"daily review against D-1 and 7 days" },
	{ "trend",	cmd_trend,	"deferral and msgs/session trends" },
	{ "alerts",	cmd_alerts,	"alerts for a day, with their history" },
};

static void	usage(int) __attribute__((noreturn));

static void
usage(int status)
{
	size_t i;
	FILE *f = status ? stderr : stdout;

	fprintf(f, "usage: mtascope COMMAND [--db PATH] [options]\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].what);
	fprintf(f, "\nSee mtascope(1).\n");
	exit(status);
}

sqlite3 *
cli_open_db(const char *path)
{
	sqlite3 *db;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		log_warnx("%s: %s", path, db ? sqlite3_errmsg(db) :
		    "cannot open");
		exit(1);
	}
	sqlite3_busy_timeout(db, 10000);
	return db;
}

int
cli_day_arg(const char *cmd, const char *opt, const char *s, int64_t *day)
{
	if (ptime_parse_day(s, day) == -1) {
		log_warnx("%s: %s %s: expected YYYY-MM-DD", cmd, opt, s);
		return -1;
	}
	return 0;
}

void
cli_day_str(int64_t day, char *buf)
{
	ptime_format_iso(day * 86400, buf);
	buf[10] = '\0';
}

int
main(int argc, char **argv)
{
	size_t i;

	log_init("mtascope", 0);
	if (argc < 2)
		usage(2);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		usage(0);
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("mtascope %s\n", VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	log_warnx("unknown command \"%s\"", argv[1]);
	usage(2);
}
