/*
 * daily.c: hourly rollups -> per-day (or per-hour) series per key.
 *
 * The database sums; this file only arranges the sums into dense arrays
 * (one slot per day, zero where nothing was sent) so that the review, the
 * trend fit and the alert rules can index days directly without caring
 * about missing rows.
 */
#include "daily.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "log.h"

static struct daily_series	*series_get(struct daily_table *,
				    const char *, const char *);

void
daily_add(struct day_metrics *a, const struct day_metrics *b)
{
	a->delivered += b->delivered;
	a->bounced += b->bounced;
	a->deferred += b->deferred;
	a->deferred_queue += b->deferred_queue;
	a->complaints += b->complaints;
	a->remote_bounces += b->remote_bounces;
	a->sessions += b->sessions;
	a->session_records += b->session_records;
	a->bytes += b->bytes;
}

uint64_t
dm_attempts(const struct day_metrics *m)
{
	return m->delivered + m->bounced + m->deferred;
}

double
dm_deferral(const struct day_metrics *m)
{
	uint64_t a = dm_attempts(m);

	return a ? (double)m->deferred / (double)a : NAN;
}

double
dm_bounce(const struct day_metrics *m)
{
	uint64_t a = m->delivered + m->bounced;

	return a ? (double)m->bounced / (double)a : NAN;
}

double
dm_complaint(const struct day_metrics *m)
{
	return m->delivered ? (double)m->complaints / (double)m->delivered :
	    NAN;
}

double
dm_per_session(const struct day_metrics *m)
{
	return m->sessions ? (double)m->session_records / (double)m->sessions :
	    NAN;
}

static struct daily_series *
series_get(struct daily_table *t, const char *isp, const char *sub)
{
	struct daily_series *s;
	size_t i;

	/* Few keys, and rows arrive grouped: check the last one first. */
	if (t->nseries > 0) {
		s = &t->series[t->nseries - 1];
		if (strcmp(s->isp, isp) == 0 && strcmp(s->sub, sub) == 0)
			return s;
	}
	for (i = 0; i < t->nseries; i++) {
		s = &t->series[i];
		if (strcmp(s->isp, isp) == 0 && strcmp(s->sub, sub) == 0)
			return s;
	}
	if ((t->series = reallocarray(t->series, t->nseries + 1,
	    sizeof(*t->series))) == NULL)
		fatal("daily");
	s = &t->series[t->nseries++];
	memset(s, 0, sizeof(*s));
	strlcpy(s->isp, isp, sizeof(s->isp));
	strlcpy(s->sub, sub, sizeof(s->sub));
	if ((s->d = calloc(t->n, sizeof(*s->d))) == NULL)
		fatal("daily");
	return s;
}

int
daily_load(sqlite3 *db, int64_t first, size_t n, int hourly,
    enum daily_by by, const char *isp, struct daily_table *t)
{
	static const char *const keys[] = {
		"isp, ''", "isp, host", "isp, source_ip", "'', host"
	};
	/* Per-day reads go to the aggregate tables kept beside rollup. */
	static const char *const day_tables[] = {
		"isp_hour", "isp_host_day", "isp_ip_day", "isp_host_day"
	};
	sqlite3_stmt *st;
	char sql[1024];
	struct daily_series *s;
	struct day_metrics m;
	const char *table, *bucket, *col;
	int64_t b, lo, hi;
	int rc;

	memset(t, 0, sizeof(*t));
	t->first = first;
	t->n = n;
	t->hourly = hourly;
	if ((t->fleet.d = calloc(n ? n : 1, sizeof(*t->fleet.d))) == NULL)
		fatal("daily");
	strlcpy(t->fleet.isp, "fleet", sizeof(t->fleet.isp));
	if (hourly) {
		table = by == DAILY_ISP ? "isp_hour" : "rollup";
		bucket = col = "hour";
		lo = first;
		hi = first + (int64_t)n;
	} else if (by == DAILY_ISP) {
		table = "isp_hour";
		bucket = "hour / 24";
		col = "hour";
		lo = first * 24;
		hi = (first + (int64_t)n) * 24;
	} else {
		table = day_tables[by];
		bucket = col = "day";
		lo = first;
		hi = first + (int64_t)n;
	}
	snprintf(sql, sizeof(sql),
	    "SELECT %s AS b, %s, sum(delivered), sum(bounced), sum(deferred),"
	    " sum(deferred_queue), sum(complaints), sum(remote_bounces),"
	    " sum(sessions), sum(session_records), sum(bytes)"
	    " FROM %s WHERE %s >= ?1 AND %s < ?2%s"
	    " GROUP BY b, %s ORDER BY 2, 3, b",
	    bucket, keys[by], table, col, col,
	    isp != NULL ? " AND isp = ?3" : "", keys[by]);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_warnx("query: %s", sqlite3_errmsg(db));
		daily_free(t);
		return -1;
	}
	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	if (isp != NULL)
		sqlite3_bind_text(st, 3, isp, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		b = sqlite3_column_int64(st, 0) - first;
		if (b < 0 || (size_t)b >= n)
			continue;
		s = series_get(t, (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2));
		m.delivered = (uint64_t)sqlite3_column_int64(st, 3);
		m.bounced = (uint64_t)sqlite3_column_int64(st, 4);
		m.deferred = (uint64_t)sqlite3_column_int64(st, 5);
		m.deferred_queue = (uint64_t)sqlite3_column_int64(st, 6);
		m.complaints = (uint64_t)sqlite3_column_int64(st, 7);
		m.remote_bounces = (uint64_t)sqlite3_column_int64(st, 8);
		m.sessions = (uint64_t)sqlite3_column_int64(st, 9);
		m.session_records = (uint64_t)sqlite3_column_int64(st, 10);
		m.bytes = (uint64_t)sqlite3_column_int64(st, 11);
		daily_add(&s->d[b], &m);
		daily_add(&s->total, &m);
		daily_add(&t->fleet.d[b], &m);
		daily_add(&t->fleet.total, &m);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("query: %s", sqlite3_errmsg(db));
		daily_free(t);
		return -1;
	}
	return 0;
}

void
daily_free(struct daily_table *t)
{
	size_t i;

	for (i = 0; i < t->nseries; i++)
		free(t->series[i].d);
	free(t->series);
	free(t->fleet.d);
	memset(t, 0, sizeof(*t));
}

int
daily_host_gap(sqlite3 *db, const char *host, int64_t day, uint64_t *dropped)
{
	sqlite3_stmt *st;
	int rc;

	*dropped = 0;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(sum(dropped), 0) FROM gaps"
	    " WHERE host = ?1 AND hour >= ?2 AND hour < ?3", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, day * 24);
	sqlite3_bind_int64(st, 3, day * 24 + 24);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*dropped = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? (*dropped > 0) : -1;
}
