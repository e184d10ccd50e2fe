/*
 * alerts_test.c: each alert rule on constructed daily series: it fires
 * where it must and stays quiet where it must not.  Series are written
 * straight into a collector database (the schema of store.c), one row per
 * host per day at noon, so the rules see exactly the numbers set here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts.h"
#include "store.h"

#define DAYS	35
#define DAY0	20400		/* 2025-11-08 */
#define LAST	(DAY0 + DAYS - 1)

struct fixture {
	char		 path[64];
	struct store	*store;
	sqlite3		*db;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	strcpy(f->path, "/tmp/alerts_test.XXXXXX");
	fd = mkstemp(f->path);
	close(fd);
	unlink(f->path);
	f->store = store_open(f->path, 0);
	assert_non_null(f->store);
	f->db = store_db(f->store);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[80];

	store_close(f->store);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	free(f);
	return 0;
}

/* One day of one host at one ISP: attempts split as given. */
static void
put(struct fixture *f, int64_t day, const char *isp, const char *host,
    const char *ip, long delivered, long bounced, long deferred,
    long complaints, long sessions, long session_records)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO rollup(hour, isp, host, "
	    "source_ip, delivered, bounced, deferred, complaints, sessions, "
	    "session_records) VALUES(%lld, '%s', '%s', '%s', %ld, %ld, %ld, "
	    "%ld, %ld, %ld) ON CONFLICT DO UPDATE SET delivered = delivered + "
	    "excluded.delivered, bounced = bounced + excluded.bounced, "
	    "deferred = deferred + excluded.deferred, complaints = complaints "
	    "+ excluded.complaints, sessions = sessions + excluded.sessions, "
	    "session_records = session_records + excluded.session_records",
	    (long long)(day * 24 + 12), isp, host, ip, delivered, bounced,
	    deferred, complaints, sessions, session_records);
	assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL),
	    SQLITE_OK);
}

/*
 * A healthy fleet of 4 hosts at one ISP: 20000 attempts a host a day,
 * deferral `defer` (fraction), 1% bounces, 0.02% complaints, 80
 * messages per session.
 */
static void
fleet_day(struct fixture *f, int64_t day, const char *isp, double defer,
    int hosts)
{
	char host[32], ip[32];
	long att = 20000, dfr, bnc, dlv;
	int h;

	for (h = 0; h < hosts; h++) {
		snprintf(host, sizeof(host), "mta%02d", h + 1);
		snprintf(ip, sizeof(ip), "10.0.0.%d", h + 1);
		dfr = (long)(att * defer + 0.5);
		bnc = (att - dfr) / 100;
		dlv = att - dfr - bnc;
		put(f, day, isp, host, ip, dlv, bnc, dfr, dlv / 5000,
		    (dlv + bnc + dfr) / 80, dlv + bnc + dfr);
	}
}

static int
has(const struct alert_list *l, const char *rule, const char *isp,
    const char *scope, const char *subject)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->a[i].rule, rule) == 0 &&
		    strcmp(l->a[i].isp, isp) == 0 &&
		    strcmp(l->a[i].scope, scope) == 0 &&
		    (subject == NULL || strcmp(l->a[i].subject, subject) == 0))
			return 1;
	return 0;
}

/* The rules read the per-ISP and per-day tables that mtascoped keeps
 * beside rollup; derive them from the rows written here. */
static void
aggregate(struct fixture *f)
{
	static const char sql[] =
	    "DELETE FROM isp_hour; DELETE FROM isp_host_day;"
	    "DELETE FROM isp_ip_day;"
	    "INSERT INTO isp_hour SELECT hour, isp, sum(delivered),"
	    " sum(bounced), sum(deferred), sum(deferred_queue),"
	    " sum(complaints), sum(remote_bounces), sum(sessions),"
	    " sum(session_records), sum(bytes) FROM rollup GROUP BY 1, 2;"
	    "INSERT INTO isp_host_day SELECT hour / 24, isp, host,"
	    " sum(delivered), sum(bounced), sum(deferred), sum(deferred_queue),"
	    " sum(complaints), sum(remote_bounces), sum(sessions),"
	    " sum(session_records), sum(bytes) FROM rollup GROUP BY 1, 2, 3;"
	    "INSERT INTO isp_ip_day SELECT hour / 24, isp, source_ip,"
	    " sum(delivered), sum(bounced), sum(deferred), sum(deferred_queue),"
	    " sum(complaints), sum(remote_bounces), sum(sessions),"
	    " sum(session_records), sum(bytes) FROM rollup GROUP BY 1, 2, 3;";

	assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL),
	    SQLITE_OK);
}

static void
evaluate(struct fixture *f, int64_t day, struct alert_list *l)
{
	aggregate(f);
	assert_int_equal(alerts_evaluate(f->db, day, l), 0);
}

static void
test_quiet_fleet(void **state)
{
	struct fixture *f = *state;
	struct alert_list l;
	int64_t d;

	for (d = DAY0; d <= LAST; d++)
		fleet_day(f, d, "google", 0.03 + 0.002 * (double)(d % 3), 4);
	evaluate(f, LAST, &l);
	assert_int_equal(l.n, 0);
	alerts_free(&l);
}

static void
test_trend_fires(void **state)
{
	struct fixture *f = *state;
	struct alert_list l;
	int64_t d;

	/* 3% rising to 7% over the last 28 days. */
	for (d = DAY0; d <= LAST; d++) {
		double p = d < LAST - 27 ? 0.03 :
		    0.03 + 0.04 * (double)(d - (LAST - 27)) / 27.0;
		fleet_day(f, d, "microsoft", p, 4);
	}
	evaluate(f, LAST, &l);
	assert_true(has(&l, "deferral-trend", "microsoft", "fleet", ""));
	/* One alert for a fleet-wide trend, not one per host or IP. */
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.a[0].action, "1) reduce volume to microsoft"));
	alerts_free(&l);
}

static void
test_stable_high_does_not_trend(void **state)
{
	struct fixture *f = *state;
	struct alert_list l;
	int64_t d;

	for (d = DAY0; d <= LAST; d++)
		fleet_day(f, d, "microsoft", 0.07, 4);
	evaluate(f, LAST, &l);
	assert_false(has(&l, "deferral-trend", "microsoft", "fleet", NULL));
	assert_int_equal(l.n, 0);
	alerts_free(&l);
}

static void
test_deferral_jump(void **state)
{
	struct fixture *f = *state;
	struct alert_list l;
	int64_t d;

	for (d = DAY0; d < LAST; d++)
		fleet_day(f, d, "yahoo", 0.03, 4);
	fleet_day(f, LAST, "yahoo", 0.09, 4);
	evaluate(f, LAST, &l);
	assert_true(has(&l, "deferral-jump", "yahoo", "fleet", ""));
	assert_false(has(&l, "deferral-trend", "yahoo", "fleet", NULL));
	assert_false(has(&l, "deferral-jump", "yahoo", "host", NULL));
	alerts_free(&l);
	/* The day before was normal: nothing then. */
	evaluate(f, LAST - 1, &l);
	assert_int_equal(l.n, 0);
	alerts_free(&l);
}

static void
test_small_change_is_not_a_jump(void **state)
{
	struct fixture *f = *state;
	struct alert_list l;
	int64_t d;

	/* +1.5 pp: significant for these volumes, but below the floor. */
	for (d = DAY0; d < LAST; d++)
		fleet_day(f, d, "yahoo", 0.03, 4);
	fleet_day(f, LAST, "yahoo", 0.045, 4);
	evaluate(f, LAST, &l);
	assert_int_equal(l.n, 0);
	alerts_free(&l);
}

static void
test_local_jump_names_the_host(void **state)
{
	struct fixture *f = *state;
	struct alert_list l;
	int64_t d;

	for (d = DAY0; d <= LAST; d++)
		fleet_day(f, d, "gmx", 0.03, 4);
	/* mta03 alone: 11% deferrals on the last day (the fleet's rate
	 * moves by 2.1 pp with it, so the fleet alert fires too). */
	put(f, LAST, "gmx", "mta03", "10.0.0.3", 0, 0, 1800, 0, 0, 0);
	evaluate(f, LAST, &l);
	assert_true(has(&l, "deferral-jump", "gmx", "host", "mta03"));
	assert_true(has(&l, "deferral-jump", "gmx", "source-ip", "10.0.0.3"));
	assert_false(has(&l, "deferral-jump", "gmx", "host", "mta01"));
	assert_false(has(&l, "deferral-jump", "gmx", "source-ip", "10.0.0.1"));
	alerts_free(&l);
}

static void
test_bounce_and_complaint_jumps(void **state)
{
	struct fixture *f = *state;
	struct alert_list l;
	int64_t d;

	for (d = DAY0; d <= LAST; d++)
		fleet_day(f, d, "orange", 0.03, 4);
	/* Each host: +1500 bounces and +40 complaints on the last day. */
	put(f, LAST, "orange", "mta01", "10.0.0.1", 0, 1500, 0, 40, 0, 0);
	put(f, LAST, "orange", "mta02", "10.0.0.2", 0, 1500, 0, 40, 0, 0);
	put(f, LAST, "orange", "mta03", "10.0.0.3", 0, 1500, 0, 40, 0, 0);
	put(f, LAST, "orange", "mta04", "10.0.0.4", 0, 1500, 0, 40, 0, 0);
	evaluate(f, LAST, &l);
	assert_true(has(&l, "bounce-jump", "orange", "fleet", ""));
	assert_true(has(&l, "complaint-jump", "orange", "fleet", ""));
	alerts_free(&l);
}

static void
test_session_collapse_with_volume_held(void **state)
{
	struct fixture *f = *state;
	struct alert_list l;
	int64_t d;
	int h;

	for (d = DAY0; d < LAST; d++)
		fleet_day(f, d, "google", 0.03, 4);
	/* Same volume, 8 messages per session. */
	for (h = 1; h <= 4; h++) {
		char host[32], ip[32];

		snprintf(host, sizeof(host), "mta%02d", h);
		snprintf(ip, sizeof(ip), "10.0.0.%d", h);
		put(f, LAST, "google", host, ip, 19206, 194, 600, 3, 2500,
		    20000);
	}
	evaluate(f, LAST, &l);
	assert_true(has(&l, "session-collapse", "google", "fleet", ""));
	assert_non_null(strstr(l.a[0].evidence, "compensating with more "
	    "connections"));
	assert_int_equal(l.n, 1);
	alerts_free(&l);
}

static void
test_session_collapse_with_volume_down(void **state)
{
	struct fixture *f = *state;
	struct alert_list l;
	int64_t d;

	for (d = DAY0; d < LAST; d++)
		fleet_day(f, d, "google", 0.03, 4);
	/* A quarter of the volume at 8 per session: no compensation. */
	put(f, LAST, "google", "mta01", "10.0.0.1", 4800, 50, 150, 1, 625,
	    5000);
	evaluate(f, LAST, &l);
	assert_true(has(&l, "session-collapse", "google", "fleet", ""));
	assert_null(strstr(l.a[0].evidence, "compensating"));
	alerts_free(&l);
}

static void
test_host_silent_and_dropped(void **state)
{
	struct fixture *f = *state;
	struct alert_list l;
	int64_t d;

	char sql[128];

	for (d = DAY0; d < LAST; d++)
		fleet_day(f, d, "apple", 0.03, 4);
	fleet_day(f, LAST, "apple", 0.03, 3);	/* mta04 is silent */

	snprintf(sql, sizeof(sql), "INSERT INTO gaps VALUES('mta02', %d, "
	    "1234, 'spool full')", LAST * 24 + 5);
	assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL),
	    SQLITE_OK);
	evaluate(f, LAST, &l);
	assert_true(has(&l, "host-silent", "*", "host", "mta04"));
	assert_false(has(&l, "host-silent", "*", "host", "mta01"));
	assert_true(has(&l, "host-dropped", "*", "host", "mta02"));
	alerts_free(&l);
}

static void
test_history_first_seen_and_cleared(void **state)
{
	struct fixture *f = *state;
	struct alert_list l;
	int64_t d;

	/* A jump on LAST-3 only: fires that day, clears the next. */
	for (d = DAY0; d <= LAST; d++)
		fleet_day(f, d, "yahoo", d == LAST - 3 ? 0.10 : 0.03, 4);
	aggregate(f);
	assert_int_equal(alerts_update(f->db, LAST), 0);
	assert_int_equal(alerts_stored(f->db, LAST, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.a[0].rule, "deferral-jump");
	assert_int_equal(l.a[0].first_seen, LAST - 3);
	assert_int_equal(l.a[0].cleared, LAST - 2);
	alerts_free(&l);
	/* Up to date: evaluating again changes nothing. */
	assert_int_equal(alerts_update(f->db, LAST), 0);
}

static void
test_backfill_reopens_history(void **state)
{
	struct fixture *f = *state;
	struct alert_list l;
	int64_t d;
	int h;

	for (d = DAY0; d <= LAST; d++)
		fleet_day(f, d, "yahoo", d == LAST - 3 ? 0.10 : 0.03, 4);
	aggregate(f);
	assert_int_equal(alerts_update(f->db, LAST), 0);
	/* A backfill brings LAST-3's missing deliveries: the rate was 3%. */
	for (h = 1; h <= 4; h++) {
		char host[32], ip[32];

		snprintf(host, sizeof(host), "mta%02d", h);
		snprintf(ip, sizeof(ip), "10.0.0.%d", h);
		put(f, LAST - 3, "yahoo", host, ip, 46667, 0, 0, 0, 583,
		    46667);
	}
	aggregate(f);
	alerts_reopen(f->db, LAST - 3);
	assert_int_equal(alerts_update(f->db, LAST), 0);
	assert_int_equal(alerts_stored(f->db, LAST, &l), 0);
	assert_int_equal(l.n, 0);
	alerts_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_quiet_fleet, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_trend_fires, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stable_high_does_not_trend,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferral_jump, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_small_change_is_not_a_jump,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_jump_names_the_host,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounce_and_complaint_jumps,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_session_collapse_with_volume_held, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_session_collapse_with_volume_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_silent_and_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_history_first_seen_and_cleared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backfill_reopens_history,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
