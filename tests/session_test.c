/*
 * session_test.c: session inference, against the rule in design.md:
 *
 *   eligible = d, t, b with both IPs non-empty and source not 0.0.0.0;
 *   key = (source IP, destination IP); a record at T joins the key's open
 *   session when |T - last| <= G, else that session closes and a new one
 *   opens at T; a session also closes when the stream clock (largest
 *   timeLogged seen) exceeds last + G; all close at EOF.  A session is
 *   reported with its first record's time, domain and MX host.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"
#include "session.h"
#include "testutil.h"

struct closed {
	uint64_t	id;
	char		src[64], dst[64], domain[256], mta[256];
	int64_t		first, last;
	uint32_t	records;
	unsigned	adds_done;	/* sessions_add() calls finished */
	uint64_t	inflight_sid;	/* session_id of the record being added */
};

struct collector {
	struct closed	*c;
	size_t		 n, cap;
	unsigned	 adds_done;
	struct record	*inflight;
	/* Totals only, for the large tests. */
	int		 count_only;
	uint64_t	 sessions;
	uint64_t	 records;
	uint64_t	 not_two;
};

static void
copy_str(char *dst, size_t cap, struct slice s)
{
	size_t n = s.n < cap - 1 ? s.n : cap - 1;

	memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static void
on_close(void *arg, const struct session_info *si)
{
	struct collector *col = arg;
	struct closed *c;

	col->sessions++;
	col->records += si->records;
	if (si->records != 2)
		col->not_two++;
	if (col->count_only)
		return;
	if (col->n == col->cap) {
		col->cap = col->cap ? col->cap * 2 : 16;
		col->c = realloc(col->c, col->cap * sizeof(*col->c));
		assert_non_null(col->c);
	}
	c = &col->c[col->n++];
	c->id = si->id;
	copy_str(c->src, sizeof(c->src), si->src_ip);
	copy_str(c->dst, sizeof(c->dst), si->dst_ip);
	copy_str(c->domain, sizeof(c->domain), si->domain);
	copy_str(c->mta, sizeof(c->mta), si->dsn_mta);
	c->first = si->first;
	c->last = si->last;
	c->records = si->records;
	c->adds_done = col->adds_done;
	c->inflight_sid = col->inflight != NULL ? col->inflight->session_id :
	    UINT64_MAX;
}

static struct record
mkrec(enum rec_type type, int64_t t, const char *src, const char *dst)
{
	struct record r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.time_logged = t;
	r.src_ip = (struct slice){ src, strlen(src) };
	r.dst_ip = (struct slice){ dst, strlen(dst) };
	r.domain = (struct slice){ "gmail.com", 9 };
	r.dsn_mta = (struct slice){ "gmail-smtp-in.l.google.com", 26 };
	return r;
}

static void
add(struct sessions *ss, struct collector *col, struct record *r)
{
	col->inflight = r;
	sessions_add(ss, r);
	col->inflight = NULL;
	col->adds_done++;
}

#define A_SRC	"10.0.0.1"
#define A_DST	"192.0.2.10"
#define B_SRC	"10.0.0.2"
#define B_DST	"192.0.2.20"

static void
test_join_within_gap(void **state)
{
	struct collector col = { 0 };
	struct sessions *ss;
	struct record r1 = mkrec(REC_D, 100, A_SRC, A_DST);
	struct record r2 = mkrec(REC_D, 102, A_SRC, A_DST);

	(void)state;
	assert_non_null(ss = sessions_new(2, on_close, &col));
	add(ss, &col, &r1);
	add(ss, &col, &r2);
	assert_int_equal(col.n, 0);
	assert_int_equal(sessions_open_count(ss), 1);
	sessions_close_all(ss);
	assert_int_equal(col.n, 1);
	assert_int_equal(col.c[0].records, 2);
	assert_int_equal(col.c[0].first, 100);
	assert_int_equal(col.c[0].last, 102);
	assert_string_equal(col.c[0].src, A_SRC);
	assert_string_equal(col.c[0].dst, A_DST);
	assert_int_not_equal(col.c[0].id, 0);
	assert_int_equal(r1.session_id, col.c[0].id);
	assert_int_equal(r2.session_id, col.c[0].id);
	assert_int_equal(sessions_open_count(ss), 0);
	sessions_free(ss);
	free(col.c);
}

static void
test_split_beyond_gap(void **state)
{
	struct collector col = { 0 };
	struct sessions *ss;
	struct record r1 = mkrec(REC_D, 100, A_SRC, A_DST);
	struct record r2 = mkrec(REC_D, 103, A_SRC, A_DST);

	(void)state;
	assert_non_null(ss = sessions_new(2, on_close, &col));
	add(ss, &col, &r1);
	add(ss, &col, &r2);
	/* 103 - 100 = 3 > G: the first session is closed by the time the
	 * second record is attached. */
	assert_int_equal(col.n, 1);
	assert_int_equal(col.c[0].records, 1);
	assert_int_equal(col.c[0].first, 100);
	assert_int_equal(col.c[0].last, 100);
	sessions_close_all(ss);
	assert_int_equal(col.n, 2);
	assert_int_equal(col.c[1].records, 1);
	assert_int_equal(col.c[1].first, 103);
	assert_int_not_equal(col.c[0].id, col.c[1].id);
	assert_int_equal(r1.session_id, col.c[0].id);
	assert_int_equal(r2.session_id, col.c[1].id);
	sessions_free(ss);
	free(col.c);
}

/* A record far behind its key's latest time (|T - last| > G) closes the
 * open session and opens a new one at T. */
static void
test_old_record_splits(void **state)
{
	struct collector col = { 0 };
	struct sessions *ss;
	struct record r1 = mkrec(REC_D, 110, A_SRC, A_DST);
	struct record r2 = mkrec(REC_D, 105, A_SRC, A_DST);

	(void)state;
	assert_non_null(ss = sessions_new(2, on_close, &col));
	add(ss, &col, &r1);
	add(ss, &col, &r2);
	assert_int_equal(col.n, 1);
	assert_int_equal(col.c[0].first, 110);
	assert_int_equal(col.c[0].records, 1);
	sessions_close_all(ss);
	assert_int_equal(col.n, 2);
	assert_int_equal(col.c[1].first, 105);
	assert_int_equal(col.c[1].last, 105);
	assert_int_equal(col.c[1].records, 1);
	sessions_free(ss);
	free(col.c);
}

static void
test_stream_clock_closes(void **state)
{
	struct collector col = { 0 };
	struct sessions *ss;
	struct record a = mkrec(REC_D, 100, A_SRC, A_DST);
	struct record b1 = mkrec(REC_D, 101, B_SRC, B_DST);
	struct record b2 = mkrec(REC_T, 102, B_SRC, B_DST);
	struct record b3 = mkrec(REC_B, 103, B_SRC, B_DST);

	(void)state;
	assert_non_null(ss = sessions_new(2, on_close, &col));
	add(ss, &col, &a);
	add(ss, &col, &b1);
	/* Clock 102 = A's last + G: not past it yet. */
	add(ss, &col, &b2);
	assert_int_equal(col.n, 0);
	assert_int_equal(sessions_open_count(ss), 2);
	/* Clock 103 > 102: A closes, and before B's record at 103 is
	 * attached (that record has no session id yet in the callback). */
	add(ss, &col, &b3);
	assert_int_equal(col.n, 1);
	assert_string_equal(col.c[0].src, A_SRC);
	assert_int_equal(col.c[0].records, 1);
	assert_int_equal(col.c[0].adds_done, 3);
	assert_int_equal(col.c[0].inflight_sid, 0);
	assert_int_not_equal(b3.session_id, 0);
	assert_int_equal(b3.session_id, b1.session_id);
	assert_int_equal(sessions_open_count(ss), 1);
	sessions_close_all(ss);
	assert_int_equal(col.n, 2);
	assert_string_equal(col.c[1].src, B_SRC);
	assert_string_equal(col.c[1].dst, B_DST);
	assert_int_equal(col.c[1].records, 3);
	assert_int_equal(col.c[1].first, 101);
	assert_int_equal(col.c[1].last, 103);
	sessions_free(ss);
	free(col.c);
}

/* The clock is the largest time of any record, eligible or not. */
static void
test_ineligible_record_moves_clock(void **state)
{
	struct collector col = { 0 };
	struct sessions *ss;
	struct record a = mkrec(REC_D, 100, A_SRC, A_DST);
	struct record tq = mkrec(REC_TQ, 103, "0.0.0.0", B_DST);

	(void)state;
	assert_non_null(ss = sessions_new(2, on_close, &col));
	add(ss, &col, &a);
	add(ss, &col, &tq);
	assert_int_equal(col.n, 1);
	assert_int_equal(col.c[0].records, 1);
	assert_int_equal(tq.session_id, 0);
	assert_int_equal(sessions_open_count(ss), 0);
	sessions_free(ss);
	free(col.c);
}

static void
test_eof_closes_all(void **state)
{
	struct collector col = { 0 };
	struct sessions *ss;
	struct record r[3] = {
		mkrec(REC_D, 100, A_SRC, A_DST),
		mkrec(REC_D, 100, B_SRC, B_DST),
		mkrec(REC_D, 101, A_SRC, B_DST),	/* a third pair */
	};
	size_t i;

	(void)state;
	assert_non_null(ss = sessions_new(2, on_close, &col));
	for (i = 0; i < 3; i++)
		add(ss, &col, &r[i]);
	assert_int_equal(col.n, 0);
	assert_int_equal(sessions_open_count(ss), 3);
	sessions_close_all(ss);
	assert_int_equal(col.n, 3);
	assert_int_equal(sessions_open_count(ss), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(col.c[i].records, 1);
	/* Each record has its own session. */
	assert_int_not_equal(r[0].session_id, r[1].session_id);
	assert_int_not_equal(r[0].session_id, r[2].session_id);
	assert_int_not_equal(r[1].session_id, r[2].session_id);
	/* Nothing left to close. */
	sessions_close_all(ss);
	assert_int_equal(col.n, 3);
	sessions_free(ss);
	free(col.c);
}

static void
test_out_of_order_joins(void **state)
{
	struct collector col = { 0 };
	struct sessions *ss;
	struct record r1 = mkrec(REC_D, 100, A_SRC, A_DST);
	struct record r2 = mkrec(REC_D, 102, A_SRC, A_DST);
	struct record r3 = mkrec(REC_D, 101, A_SRC, A_DST);
	struct record b1 = mkrec(REC_D, 104, B_SRC, B_DST);
	struct record b2 = mkrec(REC_D, 105, B_SRC, B_DST);

	(void)state;
	assert_non_null(ss = sessions_new(2, on_close, &col));
	add(ss, &col, &r1);
	add(ss, &col, &r2);
	add(ss, &col, &r3);
	assert_int_equal(r3.session_id, r1.session_id);
	/* last stays 102 (the largest time), so clock 104 = 102 + G keeps
	 * the session open and clock 105 closes it. */
	add(ss, &col, &b1);
	assert_int_equal(col.n, 0);
	add(ss, &col, &b2);
	assert_int_equal(col.n, 1);
	assert_int_equal(col.c[0].records, 3);
	assert_int_equal(col.c[0].first, 100);
	assert_int_equal(col.c[0].last, 102);
	assert_int_equal(col.c[0].adds_done, 4);
	sessions_close_all(ss);
	sessions_free(ss);
	free(col.c);
}

static void
test_ineligible_records(void **state)
{
	static const enum rec_type types[] = {
		REC_TQ, REC_F, REC_R, REC_RB, REC_RS
	};
	struct collector col = { 0 };
	struct sessions *ss;
	struct record r;
	size_t i;

	(void)state;
	assert_non_null(ss = sessions_new(2, on_close, &col));
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		r = mkrec(types[i], 100, A_SRC, A_DST);
		add(ss, &col, &r);
		assert_int_equal(r.session_id, 0);
	}
	r = mkrec(REC_D, 100, "", A_DST);
	add(ss, &col, &r);
	assert_int_equal(r.session_id, 0);
	r = mkrec(REC_T, 100, A_SRC, "");
	add(ss, &col, &r);
	assert_int_equal(r.session_id, 0);
	r = mkrec(REC_B, 100, "0.0.0.0", A_DST);
	add(ss, &col, &r);
	assert_int_equal(r.session_id, 0);
	assert_int_equal(sessions_open_count(ss), 0);
	sessions_close_all(ss);
	assert_int_equal(col.n, 0);

	/* A source merely starting like 0.0.0.0 is a real address. */
	r = mkrec(REC_D, 100, "0.0.0.01", A_DST);
	add(ss, &col, &r);
	assert_int_not_equal(r.session_id, 0);
	sessions_close_all(ss);
	assert_int_equal(col.n, 1);
	sessions_free(ss);
	free(col.c);
}

/* d, t and b of one pair share a session. */
static void
test_eligible_types_mix(void **state)
{
	struct collector col = { 0 };
	struct sessions *ss;
	struct record r1 = mkrec(REC_D, 100, A_SRC, A_DST);
	struct record r2 = mkrec(REC_T, 100, A_SRC, A_DST);
	struct record r3 = mkrec(REC_B, 101, A_SRC, A_DST);

	(void)state;
	assert_non_null(ss = sessions_new(2, on_close, &col));
	add(ss, &col, &r1);
	add(ss, &col, &r2);
	add(ss, &col, &r3);
	sessions_close_all(ss);
	assert_int_equal(col.n, 1);
	assert_int_equal(col.c[0].records, 3);
	assert_int_equal(r2.session_id, r1.session_id);
	assert_int_equal(r3.session_id, r1.session_id);
	sessions_free(ss);
	free(col.c);
}

/* The pair is the key: the same source to another destination, or the
 * reverse direction, is another session. */
static void
test_key_is_the_pair(void **state)
{
	struct collector col = { 0 };
	struct sessions *ss;
	struct record r1 = mkrec(REC_D, 100, "10.0.0.1", "10.0.0.2");
	struct record r2 = mkrec(REC_D, 100, "10.0.0.2", "10.0.0.1");
	struct record r3 = mkrec(REC_D, 100, "10.0.0.1", "10.0.0.3");
	struct record r4 = mkrec(REC_D, 100, "10.0.0.1", "10.0.0.2");

	(void)state;
	assert_non_null(ss = sessions_new(2, on_close, &col));
	add(ss, &col, &r1);
	add(ss, &col, &r2);
	add(ss, &col, &r3);
	add(ss, &col, &r4);
	assert_int_equal(sessions_open_count(ss), 3);
	assert_int_equal(r4.session_id, r1.session_id);
	assert_int_not_equal(r2.session_id, r1.session_id);
	assert_int_not_equal(r3.session_id, r1.session_id);
	sessions_close_all(ss);
	assert_int_equal(col.n, 3);
	sessions_free(ss);
	free(col.c);
}

static void
test_reported_with_first_record(void **state)
{
	struct collector col = { 0 };
	struct sessions *ss;
	struct record r1 = mkrec(REC_D, 100, A_SRC, A_DST);
	struct record r2 = mkrec(REC_D, 101, A_SRC, A_DST);

	(void)state;
	r1.domain = (struct slice){ "hotmail.comXXXX", 11 };
	r1.dsn_mta = (struct slice){ "mx1.outlook.com", 15 };
	r2.domain = (struct slice){ "yahoo.com", 9 };
	r2.dsn_mta = (struct slice){ "mta5.am0.yahoodns.net", 21 };
	assert_non_null(ss = sessions_new(2, on_close, &col));
	add(ss, &col, &r1);
	add(ss, &col, &r2);
	sessions_close_all(ss);
	assert_int_equal(col.n, 1);
	assert_string_equal(col.c[0].domain, "hotmail.com");
	assert_string_equal(col.c[0].mta, "mx1.outlook.com");
	assert_int_equal(col.c[0].first, 100);
	assert_int_equal(col.c[0].last, 101);
	assert_int_equal(col.c[0].records, 2);
	sessions_free(ss);
	free(col.c);
}

static void
test_gap_zero(void **state)
{
	struct collector col = { 0 };
	struct sessions *ss;
	struct record r[5] = {
		mkrec(REC_D, 100, A_SRC, A_DST),
		mkrec(REC_D, 100, A_SRC, A_DST),	/* same second: joins */
		mkrec(REC_D, 101, A_SRC, A_DST),	/* 1 > 0: new session */
		mkrec(REC_D, 101, B_SRC, B_DST),
		mkrec(REC_D, 101, B_SRC, B_DST),
	};
	size_t i;

	(void)state;
	assert_non_null(ss = sessions_new(0, on_close, &col));
	for (i = 0; i < 5; i++)
		add(ss, &col, &r[i]);
	assert_int_equal(col.n, 1);
	assert_int_equal(col.c[0].records, 2);
	assert_int_equal(col.c[0].first, 100);
	assert_int_equal(col.c[0].adds_done, 2);
	assert_int_equal(r[1].session_id, r[0].session_id);
	assert_int_not_equal(r[2].session_id, r[0].session_id);
	assert_int_equal(r[4].session_id, r[3].session_id);
	sessions_close_all(ss);
	assert_int_equal(col.n, 3);
	assert_int_equal(col.c[1].records + col.c[2].records, 3);
	sessions_free(ss);
	free(col.c);
}

static void
pair_ip(char *buf, size_t cap, unsigned i)
{
	snprintf(buf, cap, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255,
	    i & 255);
}

/*
 * 50000 pairs, ten starting each second, each with records at T and T+1:
 * by the rule, 50000 sessions of exactly 2 records.  The clock keeps only
 * a few dozen sessions open at a time.
 */
static void
test_many_pairs_over_time(void **state)
{
	enum { PAIRS = 50000, PER_SEC = 10 };
	struct collector col = { 0 };
	struct sessions *ss;
	struct record r;
	char src[32];
	unsigned s, k, i, eligible = 0;

	(void)state;
	col.count_only = 1;
	assert_non_null(ss = sessions_new(2, on_close, &col));
	for (s = 0; s <= PAIRS / PER_SEC; s++) {
		for (k = 0; k < PER_SEC; k++) {
			/* Second record of the pairs that started at s-1. */
			if (s > 0) {
				i = (s - 1) * PER_SEC + k;
				pair_ip(src, sizeof(src), i);
				r = mkrec(REC_D, 1000 + s, src, "192.0.2.1");
				add(ss, &col, &r);
				assert_int_not_equal(r.session_id, 0);
				eligible++;
			}
			/* First record of the pairs starting at s. */
			if (s < PAIRS / PER_SEC) {
				i = s * PER_SEC + k;
				pair_ip(src, sizeof(src), i);
				r = mkrec(REC_T, 1000 + s, src, "192.0.2.1");
				add(ss, &col, &r);
				assert_int_not_equal(r.session_id, 0);
				eligible++;
			}
		}
		assert_true(sessions_open_count(ss) <= 4 * PER_SEC);
	}
	sessions_close_all(ss);
	assert_int_equal(eligible, 2 * PAIRS);
	assert_int_equal(col.sessions, PAIRS);
	assert_int_equal(col.records, 2 * PAIRS);
	assert_int_equal(col.not_two, 0);
	assert_int_equal(sessions_evicted(ss), 0);
	sessions_free(ss);
}

/*
 * 50000 pairs open at the same second exceed SESSION_MAX_OPEN: the oldest
 * are closed early and counted, and no record is lost from the totals.
 */
static void
test_many_pairs_at_once(void **state)
{
	enum { PAIRS = 50000 };
	struct collector col = { 0 };
	struct sessions *ss;
	struct record r;
	char src[32];
	unsigned i, round;

	(void)state;
	col.count_only = 1;
	assert_non_null(ss = sessions_new(2, on_close, &col));
	for (i = 0; i < PAIRS; i++) {
		pair_ip(src, sizeof(src), i);
		r = mkrec(REC_D, 1000, src, "192.0.2.1");
		add(ss, &col, &r);
		assert_int_not_equal(r.session_id, 0);
	}
	assert_int_equal(sessions_open_count(ss), SESSION_MAX_OPEN);
	assert_int_equal(sessions_evicted(ss), PAIRS - SESSION_MAX_OPEN);
	sessions_close_all(ss);
	assert_int_equal(col.sessions, PAIRS);
	assert_int_equal(col.records, PAIRS);

	/* A second round on the same pairs, one second later, with the
	 * table full: whatever is split, every record is counted once. */
	col.sessions = col.records = 0;
	for (round = 0; round < 2; round++) {
		for (i = 0; i < PAIRS; i++) {
			pair_ip(src, sizeof(src), i);
			r = mkrec(REC_B, 2000 + round, src, "192.0.2.1");
			add(ss, &col, &r);
		}
	}
	sessions_close_all(ss);
	assert_int_equal(col.records, 2 * PAIRS);
	assert_int_equal(sessions_open_count(ss), 0);
	sessions_free(ss);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_within_gap),
		cmocka_unit_test(test_split_beyond_gap),
		cmocka_unit_test(test_old_record_splits),
		cmocka_unit_test(test_stream_clock_closes),
		cmocka_unit_test(test_ineligible_record_moves_clock),
		cmocka_unit_test(test_eof_closes_all),
		cmocka_unit_test(test_out_of_order_joins),
		cmocka_unit_test(test_ineligible_records),
		cmocka_unit_test(test_eligible_types_mix),
		cmocka_unit_test(test_key_is_the_pair),
		cmocka_unit_test(test_reported_with_first_record),
		cmocka_unit_test(test_gap_zero),
		cmocka_unit_test(test_many_pairs_over_time),
		cmocka_unit_test(test_many_pairs_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
