/*
 * alert_state.c: the alerts' history in the database.
 *
 * An alert is identified by rule, ISP, scope and subject.  Each day it
 * fires, its last-seen day and evidence are updated (first-seen stays);
 * the first day it does not fire, it is marked cleared, and a cleared
 * alert is still shown for four weeks with its days of clean operation,
 * because an ISP's trust comes back over 2-4 weeks, not overnight.  If it
 * fires again it starts over.  Days are evaluated in order and the last
 * one is remembered, so a collector that was down catches up day by day;
 * records that arrive for a day already evaluated (a backfill) reopen the
 * evaluation from that day.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "alerts.h"
#include "alerts_impl.h"
#include "log.h"

#define CATCHUP_DAYS	60	/* evaluate at most this far back */
#define SHOW_CLEARED	28

static const char alerts_schema[] =
    "CREATE TABLE IF NOT EXISTS alerts("
    " id TEXT PRIMARY KEY, rule TEXT NOT NULL, isp TEXT NOT NULL,"
    " scope TEXT NOT NULL, subject TEXT NOT NULL,"
    " first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    " cleared INTEGER, evidence TEXT NOT NULL, action TEXT NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);";

static int	exec(sqlite3 *, const char *);
static int64_t	meta_int(sqlite3 *, const char *, int64_t);
static int	store_day(sqlite3 *, int64_t, const struct alert_list *);

static int
exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("alerts: %s", err);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int64_t
meta_int(sqlite3 *db, const char *sql, int64_t dflt)
{
	sqlite3_stmt *st;
	int64_t v = dflt;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
store_day(sqlite3 *db, int64_t day, const struct alert_list *l)
{
	sqlite3_stmt *up, *clr, *meta;
	size_t i;
	int ok = 1;

	if (sqlite3_prepare_v2(db, "INSERT INTO alerts VALUES(?1,?2,?3,?4,?5,"
	    "?6,?6,NULL,?7,?8) ON CONFLICT(id) DO UPDATE SET"
	    " first_seen = CASE WHEN cleared IS NULL THEN first_seen ELSE ?6"
	    " END, last_seen = ?6, cleared = NULL, evidence = ?7, action = ?8",
	    -1, &up, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, "UPDATE alerts SET cleared = ?1 WHERE"
	    " cleared IS NULL AND last_seen < ?1", -1, &clr, NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(up);
		return -1;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO meta VALUES('alerts_through',"
	    " ?1) ON CONFLICT(key) DO UPDATE SET value = ?1", -1, &meta,
	    NULL) != SQLITE_OK) {
		sqlite3_finalize(up);
		sqlite3_finalize(clr);
		return -1;
	}
	for (i = 0; ok && i < l->n; i++) {
		const struct alert *a = &l->a[i];

		sqlite3_bind_text(up, 1, a->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 2, a->rule, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 3, a->isp, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 4, a->scope, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 5, a->subject, -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 6, day);
		sqlite3_bind_text(up, 7, a->evidence, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 8, a->action, -1, SQLITE_STATIC);
		ok = sqlite3_step(up) == SQLITE_DONE;
		sqlite3_reset(up);
	}
	if (ok) {
		sqlite3_bind_int64(clr, 1, day);
		ok = sqlite3_step(clr) == SQLITE_DONE;
	}
	if (ok) {
		sqlite3_bind_int64(meta, 1, day);
		ok = sqlite3_step(meta) == SQLITE_DONE;
	}
	if (!ok)
		log_warnx("alerts: %s", sqlite3_errmsg(db));
	sqlite3_finalize(up);
	sqlite3_finalize(clr);
	sqlite3_finalize(meta);
	return ok ? 0 : -1;
}

int
alerts_update(sqlite3 *db, int64_t through)
{
	struct window w;
	struct alert_list l;
	int64_t start, first_data, day;
	int active = 0;

	if (exec(db, alerts_schema) == -1)
		return -1;
	first_data = meta_int(db, "SELECT min(hour) / 24 FROM rollup", -1);
	if (first_data < 0)
		return 0;		/* nothing to look at yet */
	start = meta_int(db, "SELECT value FROM meta WHERE key = "
	    "'alerts_through'", first_data) + 1;
	if (start < first_data + 1)
		start = first_data + 1;
	if (start < through - CATCHUP_DAYS)
		start = through - CATCHUP_DAYS;
	if (start > through)
		return (int)meta_int(db, "SELECT count(*) FROM alerts WHERE "
		    "cleared IS NULL", 0);
	if (window_load(db, start - WINDOW + 1,
	    (size_t)(through - start + WINDOW), &w) == -1)
		return -1;
	for (day = start; day <= through; day++) {
		memset(&l, 0, sizeof(l));
		evaluate_at(db, &w, (size_t)(day - w.first), &l);
		if (exec(db, "BEGIN IMMEDIATE") == -1 ||
		    store_day(db, day, &l) == -1 || exec(db, "COMMIT") == -1) {
			exec(db, "ROLLBACK");
			alerts_free(&l);
			window_free(&w);
			return -1;
		}
		active = (int)l.n;
		alerts_free(&l);
	}
	window_free(&w);
	return active;
}

void
alerts_reopen(sqlite3 *db, int64_t day)
{
	char sql[512];
	long long d = (long long)day;

	/* Forget what was decided from `day` on; it is decided again. */
	snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE;"
	    "UPDATE meta SET value = %lld WHERE key = 'alerts_through'"
	    " AND CAST(value AS INTEGER) >= %lld;"
	    "DELETE FROM alerts WHERE first_seen >= %lld;"
	    "UPDATE alerts SET cleared = NULL WHERE cleared >= %lld;"
	    "UPDATE alerts SET last_seen = %lld WHERE last_seen >= %lld;"
	    "COMMIT", d - 1, d, d, d, d - 1, d);
	if (exec(db, alerts_schema) == -1 || exec(db, sql) == -1)
		exec(db, "ROLLBACK");
}

int
alerts_stored(sqlite3 *db, int64_t day, struct alert_list *l)
{
	sqlite3_stmt *st;
	struct alert *a;

	memset(l, 0, sizeof(*l));
	if (sqlite3_prepare_v2(db, "SELECT id, rule, isp, scope, subject,"
	    " first_seen, last_seen, cleared, evidence, action FROM alerts"
	    " WHERE first_seen <= ?1 AND (cleared IS NULL OR (cleared <= ?1"
	    " AND cleared > ?1 - ?2)) ORDER BY cleared IS NOT NULL, isp, rule,"
	    " scope, subject", -1, &st, NULL) != SQLITE_OK)
		return 0;		/* no alerts table yet */
	sqlite3_bind_int64(st, 1, day);
	sqlite3_bind_int64(st, 2, SHOW_CLEARED);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 16;
			if ((l->a = realloc(l->a, l->cap * sizeof(*l->a))) ==
			    NULL)
				fatal("alerts");
		}
		a = &l->a[l->n++];
		memset(a, 0, sizeof(*a));
		strlcpy(a->id, (const char *)sqlite3_column_text(st, 0),
		    sizeof(a->id));
		strlcpy(a->rule, (const char *)sqlite3_column_text(st, 1),
		    sizeof(a->rule));
		strlcpy(a->isp, (const char *)sqlite3_column_text(st, 2),
		    sizeof(a->isp));
		strlcpy(a->scope, (const char *)sqlite3_column_text(st, 3),
		    sizeof(a->scope));
		strlcpy(a->subject, (const char *)sqlite3_column_text(st, 4),
		    sizeof(a->subject));
		a->first_seen = sqlite3_column_int64(st, 5);
		a->last_seen = sqlite3_column_int64(st, 6);
		a->cleared = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(st, 7);
		strlcpy(a->evidence, (const char *)sqlite3_column_text(st, 8),
		    sizeof(a->evidence));
		strlcpy(a->action, (const char *)sqlite3_column_text(st, 9),
		    sizeof(a->action));
	}
	sqlite3_finalize(st);
	return 0;
}
