/*
 * cmd_trend.c: `mtascope trend`, one ISP's deferral rate and messages per
 * session over the last N days, fleet-wide.
 *
 * design.md: a deferral rate rising from 3% to 7% over four weeks matters
 * more than a stable 7%, so the headline is the slope of a least-squares
 * line (stats_fit) in percentage points per week, with R^2 to say whether
 * a line describes the series at all.  Messages per session get the same
 * treatment: a slow collapse means the ISP is cutting sessions short.
 *
 * Buckets are UTC days (or hours with --hourly) in [to - N days, to); a
 * bucket with no attempts has no rate and is left out of the fit rather
 * than counted as 0%, and the charts mark it as "no traffic".  The charts
 * are plain ASCII within 80 columns: one bar per bucket when there are few
 * buckets, else a column chart in which each column pools a few buckets
 * (sum over sum, as the review does).  The database is only read.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>

#include "cli.h"
#include "daily.h"
#include "log.h"
#include "outbuf.h"
#include "ptime.h"
#include "stats.h"

#define MAX_DAYS	3660
#define BAR_ROWS_MAX	62	/* more buckets than this: column chart */
#define BAR_WIDTH	58
#define COL_MAX		64	/* columns of the column chart */
#define COL_HEIGHT	10

enum series_kind { S_DEFERRAL, S_PER_SESSION };

struct trend {
	const char		*isp;
	int64_t			 first;		/* first bucket */
	size_t			 n;
	int			 hourly;
	const struct day_metrics *m;		/* n buckets */
};

static void	usage(void);
static double	value_of(enum series_kind, const struct day_metrics *);
static void	bucket_label(const struct trend *, size_t, char *, size_t);
static void	fmt_val(enum series_kind, double, char *, size_t);
static void	fit_line(struct outbuf *, const struct trend *,
		    enum series_kind, const double *);
static void	chart_bars(struct outbuf *, const struct trend *,
		    enum series_kind, const double *);
static void	chart_columns(struct outbuf *, const struct trend *,
		    enum series_kind);
static void	chart(struct outbuf *, const struct trend *, enum series_kind,
		    const double *);

static void
usage(void)
{
	fprintf(stderr, "usage: mtascope trend --isp X [--db PATH] "
	    "[--days N] [--hourly] [--to YYYY-MM-DD]\n");
}

/* Deferral in %, so that the slope reads in percentage points. */
static double
value_of(enum series_kind k, const struct day_metrics *m)
{
	return k == S_DEFERRAL ? 100 * dm_deferral(m) : dm_per_session(m);
}

static void
bucket_label(const struct trend *tr, size_t i, char *buf, size_t len)
{
	char iso[32];
	int64_t b = tr->first + (int64_t)i;

	ptime_format_iso(tr->hourly ? b * 3600 : b * 86400, iso);
	if (tr->hourly)		/* "MM-DD HH:00" */
		snprintf(buf, len, "%.5s %.5s", iso + 5, iso + 11);
	else
		snprintf(buf, len, "%.10s", iso);
}

static void
fmt_val(enum series_kind k, double v, char *buf, size_t len)
{
	if (isnan(v))
		strlcpy(buf, "-", len);
	else
		snprintf(buf, len, k == S_DEFERRAL ? "%.2f" : "%.1f", v);
}

/*
 * The fit's headline: slope per week, R^2, and the line's values at the
 * first and the last bucket with traffic, so "+0.9 pp/week" can be read
 * against the level it moves.
 */
static void
fit_line(struct outbuf *o, const struct trend *tr, enum series_kind k,
    const double *y)
{
	double slope, icept, r2, per_week, y0, y1;
	char line[160];
	size_t used, i0, i1;

	used = stats_fit(y, tr->n, &slope, &icept, &r2);
	if (used < 2) {
		snprintf(line, sizeof(line), "%-17s not enough buckets with "
		    "traffic for a trend (%zu)\n", k == S_DEFERRAL ?
		    "deferral rate" : "messages/session", used);
		outbuf_str(o, line);
		return;
	}
	for (i0 = 0; isnan(y[i0]); i0++)
		;
	for (i1 = tr->n - 1; isnan(y[i1]); i1--)
		;
	y0 = icept + slope * (double)i0;
	y1 = icept + slope * (double)i1;
	per_week = slope * (tr->hourly ? 7 * 24 : 7);
	if (k == S_DEFERRAL)
		snprintf(line, sizeof(line), "%-17s slope %+.3f pp/week, "
		    "R^2 %.3f, fit %.2f%% -> %.2f%%\n", "deferral rate",
		    per_week, r2, y0, y1);
	else
		snprintf(line, sizeof(line), "%-17s slope %+.3f per week, "
		    "R^2 %.3f, fit %.1f -> %.1f\n", "messages/session",
		    per_week, r2, y0, y1);
	outbuf_str(o, line);
}

/* One row per bucket: label, value, bar from 0 to the series maximum. */
static void
chart_bars(struct outbuf *o, const struct trend *tr, enum series_kind k,
    const double *y)
{
	char label[32], val[32], line[160], bar[BAR_WIDTH + 1];
	double max = 0;
	size_t i, w;

	for (i = 0; i < tr->n; i++)
		if (!isnan(y[i]) && y[i] > max)
			max = y[i];
	for (i = 0; i < tr->n; i++) {
		bucket_label(tr, i, label, sizeof(label));
		if (isnan(y[i])) {
			snprintf(line, sizeof(line), "%-11s %7s |  no %s\n",
			    label, "-", dm_attempts(&tr->m[i]) == 0 ?
			    "traffic" : "sessions");
			outbuf_str(o, line);
			continue;
		}
		w = max > 0 ? (size_t)lround(y[i] / max * BAR_WIDTH) : 0;
		if (w > BAR_WIDTH)
			w = BAR_WIDTH;
		memset(bar, '#', w);
		bar[w] = '\0';
		fmt_val(k, y[i], val, sizeof(val));
		snprintf(line, sizeof(line), "%-11s %7s |%s\n", label, val,
		    bar);
		outbuf_str(o, line);
	}
}

/*
 * A column chart with a y-axis from 0 to the maximum: each column pools
 * `per` consecutive buckets; "x" on the axis marks a column with no
 * traffic at all, "?" one with traffic but no sessions.
 */
static void
chart_columns(struct outbuf *o, const struct trend *tr, enum series_kind k)
{
	double v[COL_MAX], max = 0, thr;
	int quiet[COL_MAX];
	struct day_metrics sum;
	char line[160], a[32], b[32], val[32];
	size_t per, ncol, c, i, row, pos, w;

	per = (tr->n + COL_MAX - 1) / COL_MAX;
	ncol = (tr->n + per - 1) / per;
	for (c = 0; c < ncol; c++) {
		memset(&sum, 0, sizeof(sum));
		for (i = c * per; i < tr->n && i < (c + 1) * per; i++)
			daily_add(&sum, &tr->m[i]);
		v[c] = value_of(k, &sum);
		quiet[c] = dm_attempts(&sum) == 0;
		if (!isnan(v[c]) && v[c] > max)
			max = v[c];
	}
	for (row = COL_HEIGHT; row >= 1; row--) {
		/* A column reaches this row when its rounded height does. */
		thr = max * ((double)row - 0.5) / COL_HEIGHT;
		if (row == COL_HEIGHT || row == (COL_HEIGHT + 1) / 2) {
			fmt_val(k, max * row / COL_HEIGHT, val, sizeof(val));
			snprintf(line, sizeof(line), "%7s |", val);
		} else
			snprintf(line, sizeof(line), "%7s |", "");
		pos = strlen(line);
		for (c = 0; c < ncol; c++)
			line[pos++] = !isnan(v[c]) && max > 0 && v[c] >= thr ?
			    '#' : ' ';
		/* No blanks at the ends of lines. */
		while (pos > 0 && line[pos - 1] == ' ')
			pos--;
		line[pos++] = '\n';
		line[pos] = '\0';
		outbuf_str(o, line);
	}
	fmt_val(k, 0, val, sizeof(val));
	snprintf(line, sizeof(line), "%7s +", val);
	pos = strlen(line);
	for (c = 0; c < ncol; c++)
		line[pos++] = !isnan(v[c]) ? '-' : quiet[c] ? 'x' : '?';
	line[pos++] = '\n';
	line[pos] = '\0';
	outbuf_str(o, line);
	bucket_label(tr, 0, a, sizeof(a));
	bucket_label(tr, tr->n - 1, b, sizeof(b));
	/* The last label ends under the last column, if there is room. */
	w = ncol > strlen(b) ? ncol - strlen(b) : 0;
	if (w < strlen(a) + 1)
		w = strlen(a) + 1;
	snprintf(line, sizeof(line), "%9s%-*s%s\n", "", (int)w, a, b);
	outbuf_str(o, line);
	snprintf(line, sizeof(line), "%9seach column: %zu %s%s, pooled; x: no "
	    "traffic%s\n", "", per, tr->hourly ? "hour" : "day",
	    per == 1 ? "" : "s", k == S_PER_SESSION ? ", ?: no sessions" : "");
	outbuf_str(o, line);
}

static void
chart(struct outbuf *o, const struct trend *tr, enum series_kind k,
    const double *y)
{
	outbuf_str(o, k == S_DEFERRAL ? "\ndeferral rate (%)" :
	    "\nmessages per session");
	outbuf_str(o, tr->hourly ? ", hourly\n" : ", daily\n");
	if (tr->n <= BAR_ROWS_MAX)
		chart_bars(o, tr, k, y);
	else
		chart_columns(o, tr, k);
}

int
cmd_trend(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db",		required_argument,	NULL, 'd' },
		{ "isp",	required_argument,	NULL, 'i' },
		{ "days",	required_argument,	NULL, 'n' },
		{ "hourly",	no_argument,		NULL, 'h' },
		{ "to",		required_argument,	NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dbpath = CLI_DEFAULT_DB;
	struct daily_table t;
	struct trend tr;
	struct outbuf o;
	sqlite3 *db;
	double *ydef, *ymps;
	char from[32], last[32], line[200], *end;
	int64_t to, days = 30;
	size_t i, with;
	long long v;
	int ch, status = 0;

	memset(&tr, 0, sizeof(tr));
	to = time(NULL) / 86400;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dbpath = optarg;
			break;
		case 'i':
			tr.isp = optarg;
			break;
		case 'n':
			v = strtoll(optarg, &end, 10);
			if (end == optarg || *end != '\0' || v < 1 ||
			    v > MAX_DAYS) {
				log_warnx("trend: --days %s: expected 1 .. %d",
				    optarg, MAX_DAYS);
				return 2;
			}
			days = v;
			break;
		case 'h':
			tr.hourly = 1;
			break;
		case 't':
			if (cli_day_arg("trend", "--to", optarg, &to) == -1)
				return 2;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc || tr.isp == NULL) {
		if (tr.isp == NULL)
			log_warnx("trend: --isp is required");
		usage();
		return 2;
	}
	if (to < days) {
		log_warnx("trend: the span starts before 1970-01-01");
		return 2;
	}
	tr.n = (size_t)days * (tr.hourly ? 24 : 1);
	tr.first = tr.hourly ? (to - days) * 24 : to - days;

	db = cli_open_db(dbpath);
	if (daily_load(db, tr.first, tr.n, tr.hourly, DAILY_ISP, tr.isp,
	    &t) == -1) {
		daily_free(&t);		/* a failed load may hold memory */
		sqlite3_close(db);
		return 1;
	}
	tr.m = t.fleet.d;	/* the sum over the ISP's one key */
	outbuf_init(&o, 1);
	ptime_format_iso((to - days) * 86400, from);
	ptime_format_iso((to - 1) * 86400, last);
	snprintf(line, sizeof(line), "trend %s, %.10s .. %.10s (%lld day%s, "
	    "%s buckets, UTC)\n", tr.isp, from, last, (long long)days,
	    days == 1 ? "" : "s", tr.hourly ? "hourly" : "daily");
	outbuf_str(&o, line);
	if (t.nseries == 0) {
		snprintf(line, sizeof(line), "no traffic for isp %s in this "
		    "span\n", tr.isp);
		outbuf_str(&o, line);
		goto done;
	}
	if ((ydef = calloc(tr.n, sizeof(*ydef))) == NULL ||
	    (ymps = calloc(tr.n, sizeof(*ymps))) == NULL)
		fatal("trend");
	with = 0;
	for (i = 0; i < tr.n; i++) {
		ydef[i] = value_of(S_DEFERRAL, &tr.m[i]);
		ymps[i] = value_of(S_PER_SESSION, &tr.m[i]);
		with += !isnan(ydef[i]);
	}
	fit_line(&o, &tr, S_DEFERRAL, ydef);
	fit_line(&o, &tr, S_PER_SESSION, ymps);
	snprintf(line, sizeof(line), "%-17s %zu of %zu %s\n",
	    "with traffic", with, tr.n, tr.hourly ? "hours" : "days");
	outbuf_str(&o, line);
	chart(&o, &tr, S_DEFERRAL, ydef);
	chart(&o, &tr, S_PER_SESSION, ymps);
	free(ydef);
	free(ymps);
done:
	if (outbuf_flush(&o) == -1) {
		log_warn("stdout");
		status = 1;
	}
	daily_free(&t);
	sqlite3_close(db);
	return status;
}
