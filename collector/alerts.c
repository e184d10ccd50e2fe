/*
 * alerts.c: the rules an experienced deliverability operator applies in
 * the daily review, made explicit.
 *
 * For a day D, per ISP, over the whole fleet first:
 *   deferral-trend   the daily deferral rate has risen over four weeks: a
 *                    least-squares slope of at least 0.5 pp a week that
 *                    explains the data (R^2 >= 0.5) and a rise of at least
 *                    2 pp from the first week to the last.  A stable high
 *                    rate has no slope and does not fire this rule.
 *   *-jump           deferral, bounce or complaint rate on D against D-1
 *                    or against the 7 days before: a change above a floor
 *                    that matters (2 pp, 2 pp, 0.1 pp) and beyond noise
 *                    for the volumes behind it (z >= 4; 5 per host or IP).
 *   session-collapse messages per session down to 10 or fewer from 20 or
 *                    more, or halved, against the 7 days before; if the
 *                    delivered volume did not fall with it, the MTA is
 *                    opening more connections to compensate.
 * The same rules then run per (ISP, host) and per (ISP, source IP),
 * measured against the rest of the fleet at that ISP: a host or IP is
 * named only for what the others do not share, so a fleet-wide problem
 * gives one alert and a local one is pinned to where it is.  Per host, regardless of
 * ISP: host-silent (almost nothing on D after a normal week) and
 * host-dropped (records dropped at the host, from the gaps table).
 *
 * Every alert names the ISP and scope, gives the evidence in numbers and
 * the remediation order: reduce volume first, correct configuration
 * second, resume gradually third.
 */
#include "alerts.h"
#include "alerts_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "daily.h"
#include "log.h"
#include "stats.h"

#define TREND_MIN_POINTS 14
#define TREND_PP_WEEK	0.5
#define TREND_R2	0.5
#define TREND_RISE_PP	2.0
#define SESS_MIN	50	/* sessions a day behind a per-session figure */

enum scope { SC_FLEET, SC_HOST, SC_IP };

struct trend {
	double	pp_week;	/* fitted slope, percentage points a week */
	double	r2;
	double	first;		/* pooled rate of the first week, % */
	double	last;		/* and of the last week */
};

static const char *const scope_names[] = { "fleet", "host", "source-ip" };
/* Volumes below which a day says too little, per scope, and the z a local
 * jump needs: many more hosts and IPs are tested than ISPs, so the bar
 * for noise is higher there. */
static const uint64_t min_attempts[] = { 1000, 2000, 1000 };
static const double jump_z[] = { 4.0, 5.0, 5.0 };


static void	add(struct alert_list *, const char *, const char *,
		    enum scope, const char *, const char *, const char *);
static void	remedy(char *, size_t, const char *, enum scope,
		    const char *, const char *);
static void	pooled(const struct daily_series *, size_t, size_t,
		    struct day_metrics *);
static int	trend_of(const struct daily_series *, size_t, uint64_t,
		    struct trend *);
static void	rule_trend(struct alert_list *, const struct daily_series *,
		    const struct daily_series *, size_t, enum scope);
static void	rule_jumps(struct alert_list *, const struct daily_series *,
		    const struct daily_series *, size_t, enum scope);
static void	rule_sessions(struct alert_list *,
		    const struct daily_series *, const struct daily_series *,
		    size_t, enum scope);
static void	rate_of(int, const struct day_metrics *, uint64_t *,
		    uint64_t *);
static int	rest_of(const struct window *, const struct daily_series *,
		    struct daily_series *);
static void	rule_hosts(sqlite3 *, struct alert_list *,
		    const struct window *, size_t);
static uint64_t	volume(const struct day_metrics *);

static void
add(struct alert_list *l, const char *rule, const char *isp, enum scope sc,
    const char *subject, const char *evidence, const char *action)
{
	struct alert *a;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		if ((l->a = reallocarray(l->a, l->cap, sizeof(*l->a))) == NULL)
			fatal("alerts");
	}
	a = &l->a[l->n++];
	memset(a, 0, sizeof(*a));
	strlcpy(a->rule, rule, sizeof(a->rule));
	strlcpy(a->isp, isp, sizeof(a->isp));
	strlcpy(a->scope, scope_names[sc], sizeof(a->scope));
	strlcpy(a->subject, subject, sizeof(a->subject));
	strlcpy(a->evidence, evidence, sizeof(a->evidence));
	strlcpy(a->action, action, sizeof(a->action));
	snprintf(a->id, sizeof(a->id), "%s|%s|%s|%s", rule, isp, a->scope,
	    subject);
	a->first_seen = a->last_seen = -1;
	a->cleared = -1;
}

void
alerts_free(struct alert_list *l)
{
	free(l->a);
	memset(l, 0, sizeof(*l));
}

/* The remediation order, with the fix that fits the symptom. */
static void
remedy(char *buf, size_t len, const char *isp, enum scope sc,
    const char *subject, const char *fix)
{
	char where[300] = "";

	if (sc != SC_FLEET)
		snprintf(where, sizeof(where), " from %s %s",
		    scope_names[sc], subject);
	snprintf(buf, len, "1) reduce volume to %s%s first; 2) correct "
	    "configuration: %s; 3) resume volume gradually. Recovery "
	    "typically takes 2-4 weeks of clean operation.", isp, where, fix);
}

/* Sum of days [lo, hi) of a series. */
static void
pooled(const struct daily_series *s, size_t lo, size_t hi,
    struct day_metrics *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = lo; i < hi; i++)
		daily_add(out, &s->d[i]);
}

static uint64_t
volume(const struct day_metrics *m)
{
	return m->delivered + m->bounced + m->deferred + m->deferred_queue +
	    m->complaints + m->remote_bounces;
}

/* The deferral trend of s over the window ending at `at`. */
static int
trend_of(const struct daily_series *s, size_t at, uint64_t minvol,
    struct trend *t)
{
	double y[WINDOW], icpt;
	struct day_metrics w0, w3;
	size_t i, lo = at + 1 - WINDOW;

	for (i = 0; i < WINDOW; i++)
		y[i] = dm_attempts(&s->d[lo + i]) >= minvol ?
		    dm_deferral(&s->d[lo + i]) : NAN;
	if (stats_fit(y, WINDOW, &t->pp_week, &icpt, &t->r2) <
	    TREND_MIN_POINTS)
		return 0;
	t->pp_week *= 7 * 100;
	pooled(s, lo, lo + 7, &w0);
	pooled(s, at - 6, at + 1, &w3);
	t->first = dm_deferral(&w0) * 100;
	t->last = dm_deferral(&w3) * 100;
	return !isnan(t->first) && !isnan(t->last);
}

static void
rule_trend(struct alert_list *l, const struct daily_series *s,
    const struct daily_series *rest, size_t at, enum scope sc)
{
	struct trend t, r;
	char ev[600], act[600];

	if (!trend_of(s, at, min_attempts[sc], &t) ||
	    !(t.pp_week >= TREND_PP_WEEK && t.r2 >= TREND_R2 &&
	    t.last - t.first >= TREND_RISE_PP))
		return;
	/* Locally, only what the rest of the fleet does not share. */
	if (rest != NULL && trend_of(rest, at, min_attempts[SC_FLEET], &r) &&
	    (t.pp_week - r.pp_week < TREND_PP_WEEK ||
	    (t.last - t.first) - (r.last - r.first) < TREND_RISE_PP))
		return;
	snprintf(ev, sizeof(ev), "deferral rate rising for 4 weeks: %.2f%% "
	    "in the first week, %.2f%% in the last (%+.2f pp/week, R2 %.2f); "
	    "the trend is the signal, not the level", t.first, t.last,
	    t.pp_week, t.r2);
	remedy(act, sizeof(act), s->isp, sc, s->sub, "read the 4xx replies "
	    "from this ISP, lower max-smtp-out and the message rate for its "
	    "domains, check authentication and list hygiene");
	add(l, "deferral-trend", s->isp, sc, s->sub, ev, act);
}

/* Numerator and denominator of rate k: deferral, bounce, complaint. */
static void
rate_of(int k, const struct day_metrics *m, uint64_t *x, uint64_t *n)
{
	if (k == 0) {
		*x = m->deferred;
		*n = dm_attempts(m);
	} else if (k == 1) {
		*x = m->bounced;
		*n = m->delivered + m->bounced;
	} else {
		*x = m->complaints;
		*n = m->delivered;
	}
}

static void
rule_jumps(struct alert_list *l, const struct daily_series *s,
    const struct daily_series *rest, size_t at, enum scope sc)
{
	static const struct {
		const char	*rule, *what, *fix;
		double		 floor;	/* fraction */
	} kinds[] = {
		{ "deferral-jump", "deferral", "read the 4xx replies from this "
		    "ISP, lower max-smtp-out and the message rate for its "
		    "domains", 0.02 },
		{ "bounce-jump", "bounce", "read the 5xx replies; remove "
		    "invalid recipients and check for a policy block", 0.02 },
		{ "complaint-jump", "complaint", "review what was sent, honour "
		    "feedback-loop unsubscribes and suppress complainers",
		    0.001 },
	};
	const char *cmpname[2] = { "D-1", "the 7 days before" };
	struct day_metrics cmp[2], rcmp[2], rcur;
	char ev[600], act[600], part[2][200];
	uint64_t x1, n1, x0, n0;
	double r1, r0, z, shared;
	size_t k, j;
	int hits;

	if (dm_attempts(&s->d[at]) < min_attempts[sc])
		return;
	cmp[0] = s->d[at - 1];
	pooled(s, at - 7, at, &cmp[1]);
	if (rest != NULL) {
		rcur = rest->d[at];
		rcmp[0] = rest->d[at - 1];
		pooled(rest, at - 7, at, &rcmp[1]);
	}
	for (k = 0; k < 3; k++) {
		hits = 0;
		for (j = 0; j < 2; j++) {
			part[j][0] = '\0';
			rate_of((int)k, &s->d[at], &x1, &n1);
			rate_of((int)k, &cmp[j], &x0, &n0);
			if (n1 == 0 || n0 < min_attempts[sc])
				continue;
			r1 = (double)x1 / (double)n1;
			r0 = (double)x0 / (double)n0;
			z = stats_z(x1, n1, x0, n0);
			shared = 0;
			if (rest != NULL) {
				uint64_t rx1, rn1, rx0, rn0;

				rate_of((int)k, &rcur, &rx1, &rn1);
				rate_of((int)k, &rcmp[j], &rx0, &rn0);
				if (rn1 > 0 && rn0 > 0)
					shared = (double)rx1 / (double)rn1 -
					    (double)rx0 / (double)rn0;
			}
			if (r1 - r0 - shared < kinds[k].floor || z < jump_z[sc])
				continue;
			snprintf(part[j], sizeof(part[j]), "%.2f%% against "
			    "%.2f%% on %s (%+.2f pp, z %.1f)", r1 * 100,
			    r0 * 100, cmpname[j], (r1 - r0) * 100, z);
			hits++;
		}
		if (hits == 0)
			continue;
		snprintf(ev, sizeof(ev), "%s rate %s%s%s", kinds[k].what,
		    part[0], part[0][0] && part[1][0] ? "; " : "", part[1]);
		remedy(act, sizeof(act), s->isp, sc, s->sub, kinds[k].fix);
		add(l, kinds[k].rule, s->isp, sc, s->sub, ev, act);
	}
}

static void
rule_sessions(struct alert_list *l, const struct daily_series *s,
    const struct daily_series *rest, size_t at, enum scope sc)
{
	struct day_metrics cur = s->d[at], m7, r7;
	double mps, mps7, vol7, sess7;
	char ev[600], act[600], more[300] = "";

	pooled(s, at - 7, at, &m7);
	if (cur.sessions < SESS_MIN || m7.sessions < 7 * SESS_MIN)
		return;
	mps = dm_per_session(&cur);
	mps7 = dm_per_session(&m7);
	if (!((mps <= 10 && mps7 >= 20) || (mps <= mps7 / 2 && mps7 >= 10)))
		return;
	/* Locally, only if the rest of the fleet kept its sessions. */
	if (rest != NULL) {
		pooled(rest, at - 7, at, &r7);
		if (rest->d[at].sessions >= SESS_MIN &&
		    r7.sessions >= 7 * SESS_MIN &&
		    dm_per_session(&rest->d[at]) <= 0.75 * dm_per_session(&r7))
			return;
	}
	vol7 = (double)m7.delivered / 7;
	sess7 = (double)m7.sessions / 7;
	if ((double)cur.delivered >= 0.9 * vol7)
		snprintf(more, sizeof(more), "; delivered volume did not fall "
		    "(%llu against %.0f a day), so the MTA is compensating "
		    "with more connections (%llu sessions against %.0f a day), "
		    "which strains per-IP connection limits",
		    (unsigned long long)cur.delivered, vol7,
		    (unsigned long long)cur.sessions, sess7);
	snprintf(ev, sizeof(ev), "%.1f messages per session against %.1f over "
	    "the 7 days before (%+.0f%%)%s", mps, mps7,
	    (mps / mps7 - 1) * 100, more);
	remedy(act, sizeof(act), s->isp, sc, s->sub, "check "
	    "max-msg-per-connection for this ISP and the replies at session "
	    "close (ISP session limits, interrupted connections)");
	add(l, "session-collapse", s->isp, sc, s->sub, ev, act);
}

/* Hosts that went silent or dropped records on the day at index `at`. */
static void
rule_hosts(sqlite3 *db, struct alert_list *l, const struct window *w,
    size_t at)
{
	const struct daily_table *t = &w->hosts;
	const char *fix = "check mtascope-pipe and PowerMTA on the host "
	    "(PowerMTA logs \"Error writing to\" when it drops a pipe), then "
	    "backfill the hole from the on-disk accounting files with "
	    "mtascope-pipe --replay";
	struct day_metrics m7;
	sqlite3_stmt *st;
	char ev[600];
	uint64_t cur;
	double mean7;
	size_t i;
	int64_t day = w->first + (int64_t)at;

	for (i = 0; i < t->nseries; i++) {
		const struct daily_series *s = &t->series[i];

		pooled(s, at - 7, at, &m7);
		mean7 = (double)volume(&m7) / 7;
		cur = volume(&s->d[at]);
		if (mean7 < 100 || (double)cur >= 0.1 * mean7)
			continue;
		snprintf(ev, sizeof(ev), "%s sent %llu records against %.0f a "
		    "day over the 7 days before: it went silent or its pipe "
		    "was dropped; its figures for the day are incomplete",
		    s->sub, (unsigned long long)cur, mean7);
		add(l, "host-silent", "*", SC_HOST, s->sub, ev, fix);
	}
	if (sqlite3_prepare_v2(db, "SELECT host, sum(dropped) FROM gaps WHERE"
	    " hour >= ?1 AND hour < ?2 GROUP BY host HAVING sum(dropped) > 0"
	    " ORDER BY host", -1, &st, NULL) != SQLITE_OK)
		return;		/* an old database without gaps */
	sqlite3_bind_int64(st, 1, day * 24);
	sqlite3_bind_int64(st, 2, day * 24 + 24);
	while (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(ev, sizeof(ev), "%s dropped %lld records (its spool "
		    "was full); its figures for the day are incomplete",
		    sqlite3_column_text(st, 0),
		    (long long)sqlite3_column_int64(st, 1));
		add(l, "host-dropped", "*", SC_HOST,
		    (const char *)sqlite3_column_text(st, 0), ev, fix);
	}
	sqlite3_finalize(st);
}

int
window_load(sqlite3 *db, int64_t first, size_t n, struct window *w)
{
	memset(w, 0, sizeof(*w));
	w->first = first;
	w->n = n;
	if (daily_load(db, first, n, 0, DAILY_ISP, NULL, &w->by[SC_FLEET]) ||
	    daily_load(db, first, n, 0, DAILY_ISP_HOST, NULL,
	    &w->by[SC_HOST]) ||
	    daily_load(db, first, n, 0, DAILY_ISP_SOURCE_IP, NULL,
	    &w->by[SC_IP]) ||
	    daily_load(db, first, n, 0, DAILY_HOST, NULL, &w->hosts)) {
		window_free(w);
		return -1;
	}
	return 0;
}

void
window_free(struct window *w)
{
	int i;

	for (i = 0; i < 3; i++)
		daily_free(&w->by[i]);
	daily_free(&w->hosts);
}

/*
 * The rest of the fleet for a local series: its ISP's fleet series minus
 * itself, day by day.  Returns 0 if the ISP has no fleet series.
 */
static int
rest_of(const struct window *w, const struct daily_series *s,
    struct daily_series *rest)
{
	const struct daily_table *f = &w->by[SC_FLEET];
	const struct day_metrics *a, *b;
	struct day_metrics *r;
	size_t i, k;

	for (i = 0; i < f->nseries; i++)
		if (strcmp(f->series[i].isp, s->isp) == 0)
			break;
	if (i == f->nseries)
		return 0;
	for (k = 0; k < w->n; k++) {
		a = &f->series[i].d[k];
		b = &s->d[k];
		r = &rest->d[k];
		r->delivered = a->delivered - b->delivered;
		r->bounced = a->bounced - b->bounced;
		r->deferred = a->deferred - b->deferred;
		r->deferred_queue = a->deferred_queue - b->deferred_queue;
		r->complaints = a->complaints - b->complaints;
		r->remote_bounces = a->remote_bounces - b->remote_bounces;
		r->sessions = a->sessions - b->sessions;
		r->session_records = a->session_records - b->session_records;
		r->bytes = a->bytes - b->bytes;
	}
	strlcpy(rest->isp, s->isp, sizeof(rest->isp));
	return 1;
}

/* All rules for the day at index at (at >= WINDOW - 1). */
void
evaluate_at(sqlite3 *db, const struct window *w, size_t at,
    struct alert_list *l)
{
	const struct daily_series *s;
	struct daily_series rest;
	size_t i;
	int sc;

	memset(&rest, 0, sizeof(rest));
	if ((rest.d = calloc(w->n, sizeof(*rest.d))) == NULL)
		fatal("alerts");
	for (i = 0; i < w->by[SC_FLEET].nseries; i++) {
		s = &w->by[SC_FLEET].series[i];
		rule_trend(l, s, NULL, at, SC_FLEET);
		rule_jumps(l, s, NULL, at, SC_FLEET);
		rule_sessions(l, s, NULL, at, SC_FLEET);
	}
	for (sc = SC_HOST; sc <= SC_IP; sc++) {
		for (i = 0; i < w->by[sc].nseries; i++) {
			s = &w->by[sc].series[i];
			if (s->sub[0] == '\0' ||
			    strcmp(s->sub, "0.0.0.0") == 0 ||
			    !rest_of(w, s, &rest))
				continue;
			rule_trend(l, s, &rest, at, sc);
			rule_jumps(l, s, &rest, at, sc);
			rule_sessions(l, s, &rest, at, sc);
		}
	}
	free(rest.d);
	rule_hosts(db, l, w, at);
}

int
alerts_evaluate(sqlite3 *db, int64_t day, struct alert_list *l)
{
	struct window w;

	memset(l, 0, sizeof(*l));
	if (window_load(db, day - WINDOW + 1, WINDOW, &w) == -1)
		return -1;
	evaluate_at(db, &w, WINDOW - 1, l);
	window_free(&w);
	return 0;
}
