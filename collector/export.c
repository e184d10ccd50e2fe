/*
 * export.c: `mtascope export`, `gaps` and `hosts`: the database as CSV.
 *
 * export is a stable interface (design.md): its columns, order and
 * formats do not change.  The day and hour are computed from the rollup's
 * hour number in SQL and formatted here in UTC, so the output does not
 * depend on the machine's time zone or locale.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "outbuf.h"
#include "ptime.h"

static void	csv_cell(struct outbuf *, const char *);
static void	run_query(sqlite3 *, sqlite3_stmt *, int, int);
static int	db_listing(int, char **, const char *, const char *,
		    const char *, int, int);

/* RFC 4180: quote only what needs it. */
static void
csv_cell(struct outbuf *o, const char *s)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		outbuf_str(o, s);
		return;
	}
	outbuf_char(o, '"');
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			outbuf_char(o, '"');
		outbuf_char(o, *p);
	}
	outbuf_char(o, '"');
}

/*
 * Print rows: column 0 is an hour number (time_kind 0), a day number (1)
 * or text (2); the next ntext columns are text, the rest numbers.
 */
static void
run_query(sqlite3 *db, sqlite3_stmt *st, int time_kind, int ntext)
{
	struct outbuf o;
	char iso[32];
	int rc, i, n;

	outbuf_init(&o, 1);
	n = sqlite3_column_count(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(st, 0);

		switch (time_kind) {
		case 0:		/* hour number */
			ptime_format_iso(t * 3600, iso);
			outbuf_str(&o, iso);
			break;
		case 1:		/* day number */
			cli_day_str(t, iso);
			outbuf_str(&o, iso);
			break;
		default:	/* text */
			csv_cell(&o, (const char *)sqlite3_column_text(st, 0));
			break;
		}
		for (i = 1; i < n; i++) {
			outbuf_char(&o, ',');
			if (i <= ntext || sqlite3_column_type(st, i) ==
			    SQLITE_TEXT) {
				const unsigned char *v =
				    sqlite3_column_text(st, i);

				csv_cell(&o, v != NULL ? (const char *)v : "");
			} else if (sqlite3_column_type(st, i) != SQLITE_NULL)
				outbuf_i64(&o, sqlite3_column_int64(st, i));
		}
		outbuf_char(&o, '\n');
	}
	if (rc != SQLITE_DONE)
		fatalx("query: %s", sqlite3_errmsg(db));
	if (outbuf_flush(&o) == -1)
		fatal("stdout");
}

int
cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db",		required_argument,	NULL, 'd' },
		{ "from",	required_argument,	NULL, 'f' },
		{ "to",		required_argument,	NULL, 't' },
		{ "by",		required_argument,	NULL, 'b' },
		{ "group",	required_argument,	NULL, 'g' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dbpath = CLI_DEFAULT_DB, *group = "isp", *by = "hour";
	const char *gcols;
	int64_t from = -1, to = -1;
	char sql[2048];
	sqlite3 *db;
	sqlite3_stmt *st;
	int ch, by_day, ngroup;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dbpath = optarg; break;
		case 'f':
			if (cli_day_arg("export", "--from", optarg, &from))
				return 2;
			break;
		case 't':
			if (cli_day_arg("export", "--to", optarg, &to))
				return 2;
			break;
		case 'b': by = optarg; break;
		case 'g': group = optarg; break;
		default:
			fprintf(stderr, "usage: mtascope export [--db PATH] "
			    "--from YYYY-MM-DD --to YYYY-MM-DD [--by hour|day] "
			    "[--group isp|isp,host|isp,host,source_ip]\n");
			return 2;
		}
	}
	if (from < 0 || to < 0) {
		log_warnx("export: --from and --to are required");
		return 2;
	}
	if (strcmp(by, "hour") != 0 && strcmp(by, "day") != 0) {
		log_warnx("export: --by %s: expected hour or day", by);
		return 2;
	}
	by_day = by[0] == 'd';
	if (strcmp(group, "isp") == 0) {
		gcols = "isp";
		ngroup = 1;
	} else if (strcmp(group, "isp,host") == 0) {
		gcols = "isp, host";
		ngroup = 2;
	} else if (strcmp(group, "isp,host,source_ip") == 0) {
		gcols = "isp, host, source_ip";
		ngroup = 3;
	} else {
		log_warnx("export: --group %s: expected isp, isp,host or "
		    "isp,host,source_ip", group);
		return 2;
	}
	snprintf(sql, sizeof(sql),
	    "SELECT %s AS t, %s, sum(delivered), sum(bounced), sum(deferred),"
	    " sum(deferred_queue), sum(complaints), sum(remote_bounces),"
	    " sum(sessions), sum(session_records), sum(bytes)"
	    " FROM %s WHERE hour >= ?1 AND hour < ?2"
	    " GROUP BY t, %s"
	    " HAVING sum(delivered) + sum(bounced) + sum(deferred) +"
	    " sum(deferred_queue) + sum(complaints) + sum(remote_bounces) +"
	    " sum(sessions) + sum(session_records) + sum(bytes) > 0"
	    " ORDER BY t, %s",
	    by_day ? "hour / 24" : "hour", gcols,
	    ngroup == 1 ? "isp_hour" : "rollup", gcols, gcols);
	db = cli_open_db(dbpath);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fatalx("%s: %s", dbpath, sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, from * 24);
	sqlite3_bind_int64(st, 2, to * 24);
	printf("%s,%s,delivered,bounced,deferred,deferred_queue,complaints,"
	    "remote_bounces,sessions,session_records,bytes\n", by, group);
	fflush(stdout);
	run_query(db, st, by_day, ngroup);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}

/* A listing with no option but --db: run sql and print it under header. */
static int
db_listing(int argc, char **argv, const char *name, const char *header,
    const char *sql, int time_kind, int ntext)
{
	static const struct option longopts[] = {
		{ "db",		required_argument,	NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dbpath = CLI_DEFAULT_DB;
	sqlite3 *db;
	sqlite3_stmt *st;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'd') {
			fprintf(stderr, "usage: mtascope %s [--db PATH]\n",
			    name);
			return 2;
		}
		dbpath = optarg;
	}
	db = cli_open_db(dbpath);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fatalx("%s: %s", dbpath, sqlite3_errmsg(db));
	printf("%s\n", header);
	fflush(stdout);
	run_query(db, st, time_kind, ntext);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}

int
cmd_gaps(int argc, char **argv)
{
	return db_listing(argc, argv, "gaps", "hour,host,dropped,reason",
	    "SELECT hour, host, dropped, reason FROM gaps WHERE dropped > 0"
	    " ORDER BY hour, host", 0, 1);
}

int
cmd_hosts(int argc, char **argv)
{
	return db_listing(argc, argv, "hosts", "host,last_batch,last_seen,"
	    "batches,records,records_read,rejected,spool_bytes,dropped,started",
	    "SELECT host,"
	    " strftime('%Y-%m-%dT%H:%M:%SZ', last_batch, 'unixepoch'),"
	    " strftime('%Y-%m-%dT%H:%M:%SZ', last_seen, 'unixepoch'),"
	    " batches, records, records_read, rejected, spool_bytes, dropped,"
	    " strftime('%Y-%m-%dT%H:%M:%SZ', started, 'unixepoch')"
	    " FROM hosts ORDER BY host", 2, 3);
}
