/*
 * cmd_report.c: `mtascope report`, the daily review (design.md).
 *
 * For a UTC day D, every ISP (or, drilled down, every host or source IP
 * of one ISP) shows six metrics on D beside D-1 and beside the seven days
 * D-7 .. D-1, with the change against each.  Counts compare with the mean
 * of the days that had traffic; rates and messages per session compare
 * with the pooled value of the seven days (sum over sum), so a quiet day
 * does not weigh as much as a busy one.  A change is flagged only when it
 * is both large enough to matter and, for rates, unlikely to be noise
 * (two-proportion z test, stats.c): a review that cries wolf every
 * morning is not read.
 *
 * Hosts that dropped records on D, or went silent on D after sending in
 * the week before, are listed as incomplete: their missing traffic would
 * otherwise read as an ISP-side change.
 *
 * The text must fit an 80-column terminal; --json carries the same numbers
 * (rates in %, rate changes in percentage points, other changes in %).
 * The database is only read.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "cli.h"
#include "daily.h"
#include "log.h"
#include "outbuf.h"
#include "ptime.h"
#include "stats.h"

#define WEEK		7	/* days in the rolling comparison */
#define SPAN		(WEEK + 1)
#define IDX_D		WEEK	/* D's slot in the loaded series */
#define IDX_D1		(WEEK - 1)

/* Significance thresholds (see the legend printed under the table). */
#define SIG_Z		4.0
#define SIG_REL		30.0	/* % change of a count or of msgs/session */
#define SIG_MIN_COUNT	1000.0	/* comparison-side volume for counts */
#define SIG_MIN_SESS	50	/* sessions on each side for msgs/session */

enum metric_kind { K_COUNT, K_RATE, K_RATIO };

enum metric {
	M_DELIVERED, M_ATTEMPTS, M_DEFERRAL, M_BOUNCE, M_COMPLAINT,
	M_PER_SESSION, M_N
};

static const struct metric_def {
	const char		*label;		/* text column, <= 10 */
	const char		*json;
	enum metric_kind	 kind;
	double			(*ratio)(const struct day_metrics *);
	double			 scale;		/* rates in % */
	double			 floor_pp;	/* rates: flag floor, pp */
	int			 decimals;	/* of the value as printed */
} metric_defs[M_N] = {
	{ "delivered", "delivered", K_COUNT, NULL, 1, 0, 0 },
	{ "attempts", "attempts", K_COUNT, NULL, 1, 0, 0 },
	{ "deferral%", "deferral_pct", K_RATE, dm_deferral, 100, 1.0, 2 },
	{ "bounce%", "bounce_pct", K_RATE, dm_bounce, 100, 1.0, 2 },
	{ "complaint%", "complaint_pct", K_RATE, dm_complaint, 100, 0.05, 3 },
	{ "msg/sess", "msgs_per_session", K_RATIO, dm_per_session, 1, 0, 1 },
};

/* One metric of one row: D, and the two comparisons. */
struct mval {
	double	v, d1, d1_chg, m7, m7_chg, d1_z, m7_z;
	int	d1_sig, m7_sig;
};

struct row {
	const char		*isp;		/* NULL: every ISP */
	const char		*key;		/* NULL for the total row */
	int			 incomplete;
	const char		*why;		/* why incomplete */
	struct day_metrics	 d, d1, w7;	/* w7: sums over D-7 .. D-1 */
	unsigned		 w7_days;	/* of them with traffic */
	struct mval		 m[M_N];
};

/* A host whose D is incomplete. */
struct gap {
	char		host[256];
	uint64_t	dropped;
	int		silent;
};

struct report {
	int64_t		 day;
	const char	*isp;
	const char	*by;		/* "isp", "host" or "source-ip" */
	struct row	*rows;		/* sorted, then the total last */
	size_t		 nrows;
	struct gap	*gaps;
	size_t		 ngaps;
};

static void	usage(void);
static int	has_records(const struct day_metrics *);
static double	mval_of(enum metric, const struct day_metrics *, unsigned);
static void	rate_counts(enum metric, const struct day_metrics *,
		    uint64_t *, uint64_t *);
static double	change(enum metric, double, double);
static int	significant(enum metric, double, double,
		    const struct day_metrics *, const struct day_metrics *,
		    double *);
static void	row_fill(struct row *, const struct daily_series *);
static int	row_cmp(const void *, const void *);
static int	gaps_load(sqlite3 *, struct report *);
static int64_t	last_day(sqlite3 *);
static void	fmt_value(char *, size_t, enum metric, double);
static void	fmt_change(char *, size_t, enum metric, double);
static void	text_header(struct outbuf *, const struct report *);
static void	out_line(struct outbuf *, const char *);
static void	text_row(struct outbuf *, const struct report *,
		    const struct row *);
static void	text_out(struct outbuf *, const struct report *);
static void	json_num(struct outbuf *, const char *, double);
static void	json_key(struct outbuf *, const char *);
static void	json_str(struct outbuf *, const char *, const char *);
static void	json_bool(struct outbuf *, const char *, int);
static void	json_row(struct outbuf *, const struct row *);
static void	json_out(struct outbuf *, const struct report *, int);

static void
usage(void)
{
	fprintf(stderr, "usage: mtascope report [--db PATH] [--day YYYY-MM-DD]"
	    " [--isp X [--by host|source-ip]] [--json]\n");
}

static int
has_records(const struct day_metrics *m)
{
	return m->delivered + m->bounced + m->deferred + m->deferred_queue +
	    m->complaints + m->remote_bounces > 0;
}

/*
 * The metric over counters m; for counts, m holds the sum of `days` days
 * and the value is their mean (days == 1 for a single day).
 */
static double
mval_of(enum metric k, const struct day_metrics *m, unsigned days)
{
	if (metric_defs[k].kind != K_COUNT)
		return metric_defs[k].scale * metric_defs[k].ratio(m);
	if (days == 0)
		return NAN;
	return (double)(k == M_DELIVERED ? m->delivered : dm_attempts(m)) /
	    days;
}

/* A rate's numerator and denominator, for the z test. */
static void
rate_counts(enum metric k, const struct day_metrics *m, uint64_t *x,
    uint64_t *n)
{
	*x = k == M_DEFERRAL ? m->deferred : k == M_BOUNCE ? m->bounced :
	    m->complaints;
	*n = k == M_DEFERRAL ? dm_attempts(m) : k == M_BOUNCE ?
	    m->delivered + m->bounced : m->delivered;
}

/* Rates move in percentage points; counts and msgs/session in %. */
static double
change(enum metric k, double v, double base)
{
	if (isnan(v) || isnan(base))
		return NAN;
	if (metric_defs[k].kind == K_RATE)
		return v - base;
	if (base == 0)
		return NAN;
	return (v - base) / base * 100;
}

/*
 * Whether the change chg from base (counters cm) to D (counters dm) is
 * worth an operator's attention; *z gets the z score for rates.
 */
static int
significant(enum metric k, double chg, double base,
    const struct day_metrics *dm, const struct day_metrics *cm, double *z)
{
	uint64_t x1, n1, x0, n0;

	*z = NAN;
	if (isnan(chg))
		return 0;
	switch (metric_defs[k].kind) {
	case K_COUNT:
		return fabs(chg) >= SIG_REL && base >= SIG_MIN_COUNT;
	case K_RATE:
		rate_counts(k, dm, &x1, &n1);
		rate_counts(k, cm, &x0, &n0);
		*z = stats_z(x1, n1, x0, n0);
		return fabs(chg) >= metric_defs[k].floor_pp &&
		    fabs(*z) >= SIG_Z;
	default:
		return fabs(chg) >= SIG_REL && dm->sessions >= SIG_MIN_SESS &&
		    cm->sessions >= SIG_MIN_SESS;
	}
}

static void
row_fill(struct row *r, const struct daily_series *s)
{
	struct mval *mv;
	size_t i;
	int k;

	r->d = s->d[IDX_D];
	r->d1 = s->d[IDX_D1];
	memset(&r->w7, 0, sizeof(r->w7));
	r->w7_days = 0;
	for (i = 0; i < WEEK; i++) {
		daily_add(&r->w7, &s->d[i]);
		/* A day counts towards a mean only if it had attempts. */
		if (dm_attempts(&s->d[i]) > 0)
			r->w7_days++;
	}
	for (k = 0; k < M_N; k++) {
		mv = &r->m[k];
		mv->v = mval_of(k, &r->d, 1);
		mv->d1 = mval_of(k, &r->d1, 1);
		mv->m7 = mval_of(k, &r->w7, r->w7_days);
		mv->d1_chg = change(k, mv->v, mv->d1);
		mv->m7_chg = change(k, mv->v, mv->m7);
		mv->d1_sig = significant(k, mv->d1_chg, mv->d1, &r->d, &r->d1,
		    &mv->d1_z);
		mv->m7_sig = significant(k, mv->m7_chg, mv->m7, &r->d, &r->w7,
		    &mv->m7_z);
	}
}

/* Busiest on D first; a key that fell silent on D still shows, last. */
static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->d.delivered != y->d.delivered)
		return x->d.delivered > y->d.delivered ? -1 : 1;
	return strcmp(x->key, y->key);
}

/*
 * Incomplete hosts on D: records dropped at the host (the gaps the pipe
 * reported), or no records on D after some in the week before.
 */
static int
gaps_load(sqlite3 *db, struct report *rp)
{
	sqlite3_stmt *st;
	struct gap *g;
	int rc;

	/* isp_host_day: the per-day sums the collector keeps beside rollup. */
	if (sqlite3_prepare_v2(db, "SELECT host, sum(dropped), max(silent)"
	    " FROM (SELECT host, dropped, 0 AS silent FROM gaps"
	    "  WHERE hour >= ?2 * 24 AND hour < ?2 * 24 + 24 AND dropped > 0"
	    " UNION ALL SELECT DISTINCT host, 0, 1 FROM isp_host_day"
	    "  WHERE day >= ?1 AND day < ?2 AND host NOT IN"
	    "  (SELECT host FROM isp_host_day WHERE day = ?2))"
	    " GROUP BY host ORDER BY host", -1, &st, NULL) != SQLITE_OK) {
		log_warnx("gaps: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, rp->day - WEEK);
	sqlite3_bind_int64(st, 2, rp->day);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rp->gaps = reallocarray(rp->gaps, rp->ngaps + 1,
		    sizeof(*rp->gaps))) == NULL)
			fatal("report");
		g = &rp->gaps[rp->ngaps++];
		strlcpy(g->host, (const char *)sqlite3_column_text(st, 0),
		    sizeof(g->host));
		g->dropped = (uint64_t)sqlite3_column_int64(st, 1);
		g->silent = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("gaps: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/*
 * The last day with any rollup, or -1: a database the collector has not
 * written to yet may not even have the table.
 */
static int64_t
last_day(sqlite3 *db)
{
	sqlite3_stmt *st;
	int64_t d = -1;

	if (sqlite3_prepare_v2(db, "SELECT max(hour) / 24 FROM rollup", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		d = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return d;
}

static void
fmt_value(char *buf, size_t len, enum metric k, double v)
{
	if (isnan(v))
		strlcpy(buf, "-", len);
	else if (v >= 999999999.5)	/* wider than its column */
		snprintf(buf, len, "%.2fG", v / 1e9);
	else
		snprintf(buf, len, "%.*f%s", metric_defs[k].decimals, v,
		    metric_defs[k].kind == K_RATE ? "%" : "");
}

static void
fmt_change(char *buf, size_t len, enum metric k, double c)
{
	if (isnan(c))
		strlcpy(buf, "-", len);
	else if (metric_defs[k].kind == K_RATE)
		snprintf(buf, len, "%+.*fpp", metric_defs[k].decimals, c);
	else if (c >= 99999.5)
		strlcpy(buf, ">+99999%", len);
	else
		snprintf(buf, len, "%+.*f%%", fabs(c) >= 999.95 ? 0 : 1, c);
}

static void
text_header(struct outbuf *o, const struct report *rp)
{
	char d[32], d1[32], w0[32], line[128], drop[32];
	size_t i, col;
	int n;

	cli_day_str(rp->day, d);
	cli_day_str(rp->day - 1, d1);
	cli_day_str(rp->day - WEEK, w0);
	snprintf(line, sizeof(line), "daily review %s (UTC), %s%.40s%sby %s\n",
	    d, rp->isp ? "isp " : "", rp->isp ? rp->isp : "", rp->isp ? ", " :
	    "", rp->by);
	outbuf_str(o, line);
	snprintf(line, sizeof(line), "D-1 = %s; 7d = %s .. %s\n", d1, w0, d1);
	outbuf_str(o, line);
	if (rp->ngaps == 0)
		return;
	/* The host list wraps so that the report stays 80 columns wide. */
	outbuf_str(o, "incomplete hosts:");
	col = 17;
	for (i = 0; i < rp->ngaps; i++) {
		const struct gap *g = &rp->gaps[i];
		const char *sep = i + 1 < rp->ngaps ? "," : "";

		snprintf(drop, sizeof(drop), "%s%llu dropped", g->silent ?
		    ", " : "", (unsigned long long)g->dropped);
		n = snprintf(line, sizeof(line), " %.30s (%s%s)%s", g->host,
		    g->silent ? "no records" : "", g->dropped ? drop : "", sep);
		if (col + (size_t)n > 80) {
			outbuf_str(o, "\n ");
			col = 1;
		}
		outbuf_str(o, line);
		col += (size_t)n;
	}
	outbuf_char(o, '\n');
}

/*
 * key(15, an IPv4 address fits) metric(10) D(9) D-1(9) chg(9+1) 7d(9)
 * chg(9+1): 78 columns; the character after a change is "!" when the
 * change is significant.
 */
#define KEY_W	15
#define ROW_FMT	"%-15s %-10s %9s %9s %9s%c %9s %9s%c\n"

/* Lines end without blanks, however the columns fell. */
static void
out_line(struct outbuf *o, const char *line)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\n'))
		n--;
	outbuf_mem(o, line, n);
	outbuf_char(o, '\n');
}

static void
text_row(struct outbuf *o, const struct report *rp, const struct row *r)
{
	char v[32], d1[32], c1[32], m7[32], c7[32], line[256];
	const char *key;
	int k;

	if (r->key == NULL)
		key = rp->isp != NULL ? "total" : "fleet";
	else if (r->key[0] == '\0')
		key = "(none)";
	else
		key = r->key;
	outbuf_char(o, '\n');
	if (strlen(key) > KEY_W || r->incomplete) {
		snprintf(line, sizeof(line), "%.*s%s%s\n", r->incomplete ?
		    44 : 80, key, r->incomplete ? "  incomplete: " : "",
		    r->incomplete ? r->why : "");
		outbuf_str(o, line);
		key = "";
	}
	for (k = 0; k < M_N; k++) {
		const struct mval *mv = &r->m[k];

		fmt_value(v, sizeof(v), k, mv->v);
		fmt_value(d1, sizeof(d1), k, mv->d1);
		fmt_change(c1, sizeof(c1), k, mv->d1_chg);
		fmt_value(m7, sizeof(m7), k, mv->m7);
		fmt_change(c7, sizeof(c7), k, mv->m7_chg);
		snprintf(line, sizeof(line), ROW_FMT, k == 0 ? key : "",
		    metric_defs[k].label, v, d1, c1, mv->d1_sig ? '!' : ' ',
		    m7, c7, mv->m7_sig ? '!' : ' ');
		out_line(o, line);
	}
}

static void
text_out(struct outbuf *o, const struct report *rp)
{
	char line[160];
	size_t i;

	text_header(o, rp);
	outbuf_char(o, '\n');
	snprintf(line, sizeof(line), ROW_FMT, rp->isp != NULL ? rp->by : "isp",
	    "metric", "D", "D-1", "chg", ' ', "7d", "chg", ' ');
	out_line(o, line);
	for (i = 0; i < rp->nrows; i++)
		text_row(o, rp, &rp->rows[i]);
	outbuf_str(o, "\n7d: mean of the days with traffic; rates and "
	    "msg/sess pooled over the 7 days.\n"
	    "! significant: rates >= 1 pp (complaints 0.05 pp) and |z| >= 4;"
	    " counts\n"
	    "  >= 30% from >= 1000; msg/sess >= 30% with >= 50 sessions on "
	    "each side.\n");
}

/* NAN and infinities are not JSON: they become null. */
static void
json_num(struct outbuf *o, const char *key, double v)
{
	char buf[64];

	json_key(o, key);
	if (!isfinite(v)) {
		outbuf_str(o, "null");
		return;
	}
	/* The shorter of the two that reads back as the same double. */
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	outbuf_str(o, buf);
}

/* ,"key": -- every member but an object's first starts this way. */
static void
json_key(struct outbuf *o, const char *key)
{
	outbuf_str(o, ",\"");
	outbuf_str(o, key);
	outbuf_str(o, "\":");
}

static void
json_str(struct outbuf *o, const char *key, const char *v)
{
	json_key(o, key);
	if (v != NULL)
		outbuf_json_str(o, v, strlen(v));
	else
		outbuf_str(o, "null");
}

static void
json_bool(struct outbuf *o, const char *key, int v)
{
	json_key(o, key);
	outbuf_str(o, v ? "true" : "false");
}

static void
json_row(struct outbuf *o, const struct row *r)
{
	const struct mval *mv;
	int k;

	outbuf_str(o, r->key == NULL ? "{\"total\":true" : "{\"total\":false");
	json_str(o, "isp", r->isp);
	json_str(o, "key", r->key);
	json_bool(o, "incomplete", r->incomplete);
	json_num(o, "mean7_days", r->w7_days);
	json_key(o, "sessions");
	outbuf_str(o, "{\"value\":");
	outbuf_u64(o, r->d.sessions);
	json_num(o, "d1", (double)r->d1.sessions);
	json_num(o, "week", (double)r->w7.sessions);
	outbuf_char(o, '}');
	for (k = 0; k < M_N; k++) {
		mv = &r->m[k];
		json_key(o, metric_defs[k].json);
		outbuf_str(o, "{\"change_unit\":");
		outbuf_str(o, metric_defs[k].kind == K_RATE ? "\"pp\"" :
		    "\"%\"");
		json_num(o, "value", mv->v);
		json_num(o, "d1", mv->d1);
		json_num(o, "d1_change", mv->d1_chg);
		json_num(o, "mean7", mv->m7);
		json_num(o, "mean7_change", mv->m7_chg);
		if (metric_defs[k].kind == K_RATE) {
			json_num(o, "d1_z", mv->d1_z);
			json_num(o, "mean7_z", mv->m7_z);
		}
		json_bool(o, "d1_significant", mv->d1_sig);
		json_bool(o, "mean7_significant", mv->m7_sig);
		outbuf_char(o, '}');
	}
	outbuf_char(o, '}');
}

static void
json_out(struct outbuf *o, const struct report *rp, int no_data)
{
	static const struct {
		const char	*key;
		int		 offset;
	} days[] = {
		{ "day", 0 }, { "d1", 1 }, { "mean7_from", WEEK },
		{ "mean7_to", 1 }
	};
	char d[32];
	size_t i;

	outbuf_str(o, "{\"version\":1");
	for (i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		cli_day_str(rp->day - days[i].offset, d);
		json_str(o, days[i].key, d);
	}
	json_str(o, "by", rp->by);
	json_str(o, "isp", rp->isp);
	json_bool(o, "no_data", no_data);
	json_key(o, "incomplete_hosts");
	outbuf_str(o, "[");
	for (i = 0; i < rp->ngaps; i++) {
		outbuf_str(o, i ? ",{\"host\":" : "{\"host\":");
		outbuf_json_str(o, rp->gaps[i].host, strlen(rp->gaps[i].host));
		json_num(o, "dropped", (double)rp->gaps[i].dropped);
		json_bool(o, "silent", rp->gaps[i].silent);
		outbuf_char(o, '}');
	}
	outbuf_str(o, "],\n\"rows\":[");
	for (i = 0; i < rp->nrows; i++) {
		outbuf_str(o, i ? ",\n" : "\n");
		json_row(o, &rp->rows[i]);
	}
	outbuf_str(o, "]}\n");
}

int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db",		required_argument,	NULL, 'd' },
		{ "day",	required_argument,	NULL, 'D' },
		{ "isp",	required_argument,	NULL, 'i' },
		{ "by",		required_argument,	NULL, 'b' },
		{ "json",	no_argument,		NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dbpath = CLI_DEFAULT_DB, *by = NULL;
	struct report rp;
	struct daily_table t;
	struct outbuf o;
	struct row *r;
	enum daily_by dby = DAILY_ISP;
	sqlite3 *db;
	char d[32], ld[32], msg[160];
	int64_t last;
	size_t i, j, n;
	int ch, json = 0, status = 0;

	memset(&rp, 0, sizeof(rp));
	rp.day = time(NULL) / 86400 - 1;
	rp.by = "isp";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dbpath = optarg; break;
		case 'i': rp.isp = optarg; break;
		case 'b': by = optarg; break;
		case 'j': json = 1; break;
		case 'D':
			if (ptime_parse_day(optarg, &rp.day) == 0 &&
			    rp.day >= WEEK)
				break;
			log_warnx("report: --day %s: expected YYYY-MM-DD",
			    optarg);
			return 2;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	if (by != NULL) {
		if (strcmp(by, "host") == 0)
			dby = DAILY_ISP_HOST;
		else if (strcmp(by, "source-ip") == 0)
			dby = DAILY_ISP_SOURCE_IP;
		if (rp.isp == NULL || dby == DAILY_ISP) {
			log_warnx("report: --by %s: expected --isp X and "
			    "--by host or --by source-ip", by);
			return 2;
		}
		rp.by = by;
	}

	db = cli_open_db(dbpath);
	outbuf_init(&o, 1);
	cli_day_str(rp.day, d);
	if ((last = last_day(db)) < 0) {
		/* Header only: an empty database is not an error. */
		log_warnx("%s: no data yet", dbpath);
		snprintf(msg, sizeof(msg), "no data on %s: the database is "
		    "empty\n", d);
		goto header_only;
	}
	if (daily_load(db, rp.day - WEEK, SPAN, 0, dby, rp.isp, &t) == -1) {
		daily_free(&t);		/* a failed load may hold memory */
		status = 1;
		goto done;
	}
	if (gaps_load(db, &rp) == -1)
		status = 1;
	if (!has_records(&t.fleet.d[IDX_D])) {
		daily_free(&t);
		cli_day_str(last, ld);
		snprintf(msg, sizeof(msg), "no data on %s%s%s (the latest is "
		    "from %s)\n", d, rp.isp ? " for " : "", rp.isp ?
		    rp.isp : "", ld);
		log_warnx("%.*s", (int)strlen(msg) - 1, msg);
		goto header_only;
	}

	/* One row per key, then the total (unless one ISP's row is it). */
	n = t.nseries + (rp.isp == NULL || by != NULL);
	if ((rp.rows = calloc(n, sizeof(*rp.rows))) == NULL)
		fatal("report");
	for (i = 0; i < t.nseries; i++) {
		r = &rp.rows[rp.nrows++];
		r->isp = t.series[i].isp;
		r->key = by != NULL ? t.series[i].sub : t.series[i].isp;
		row_fill(r, &t.series[i]);
		/* Host rows of a drill-down carry their host's gaps. */
		for (j = 0; dby == DAILY_ISP_HOST && j < rp.ngaps; j++) {
			if (strcmp(rp.gaps[j].host, r->key) != 0)
				continue;
			r->incomplete = 1;
			r->why = rp.gaps[j].silent ? "no records on D" :
			    "records dropped on D";
		}
	}
	qsort(rp.rows, rp.nrows, sizeof(*rp.rows), row_cmp);
	if (rp.nrows < n) {
		r = &rp.rows[rp.nrows++];
		r->isp = rp.isp;
		row_fill(r, &t.fleet);
	}
	if (json)
		json_out(&o, &rp, 0);
	else
		text_out(&o, &rp);
	free(rp.rows);
	daily_free(&t);
	goto done;
header_only:
	if (json)
		json_out(&o, &rp, 1);
	else {
		text_header(&o, &rp);
		outbuf_str(&o, msg);
	}
done:
	if (outbuf_flush(&o) == -1) {
		log_warn("stdout");
		status = 1;
	}
	free(rp.gaps);
	sqlite3_close(db);
	return status;
}
