/*
 * batch_test.c: records, sessions and gaps -> protobuf Batch frames.
 *
 * Each emitted frame is unpacked with the generated protobuf-c code and
 * every field is compared with what went in, so a field that is dropped,
 * truncated or swapped on the way to the wire shows up here.  Records are
 * columnar and their strings are indices into the batch's string table
 * (proto/mtascope.proto): every column must hold one element per record,
 * index 0 must be "", and each distinct string must appear once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "batch.h"
#include "mtascope.pb-c.h"
#include "testutil.h"

struct frame {
	uint64_t	 seq;
	uint8_t		*buf;
	size_t		 len;
	size_t		 nrecords;
};

struct sink {
	struct frame	f[256];
	size_t		n;
};

static void
on_batch(void *arg, uint64_t seq, const uint8_t *buf, size_t len,
    size_t nrecords)
{
	struct sink *s = arg;
	struct frame *f;

	assert_true(s->n < 256);
	f = &s->f[s->n++];
	f->seq = seq;
	f->len = len;
	f->nrecords = nrecords;
	assert_non_null(f->buf = malloc(len ? len : 1));
	memcpy(f->buf, buf, len);
}

static void
sink_free(struct sink *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->f[i].buf);
	free(s);
}

static struct sink *
sink_new(void)
{
	struct sink *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	return s;
}

static Mtascope__V1__Batch *
unpack(const struct frame *f)
{
	Mtascope__V1__Batch *b;

	b = mtascope__v1__batch__unpack(NULL, f->len, f->buf);
	assert_non_null(b);
	return b;
}

/* The string an index names, which must be inside the table. */
static const char *
str_at(const Mtascope__V1__Batch *m, uint32_t idx)
{
	if (idx >= m->n_strings) {
		print_error("string index %u outside a table of %zu\n", idx,
		    m->n_strings);
		fail();
	}
	return m->strings[idx];
}

/* Every column as long as type; the table well formed. */
static size_t
check_shape(const Mtascope__V1__Batch *m)
{
	const Mtascope__V1__Records *c = m->records;
	size_t n, i, j;

	assert_true(m->n_strings >= 1);
	assert_string_equal(m->strings[0], "");
	for (i = 1; i < m->n_strings; i++) {
		assert_true(m->strings[i][0] != '\0');
		for (j = 1; j < i; j++)
			if (strcmp(m->strings[i], m->strings[j]) == 0) {
				print_error("\"%s\" is in the table twice\n",
				    m->strings[i]);
				fail();
			}
	}
	if (c == NULL)
		return 0;
	n = c->n_type;
	assert_int_equal(c->n_time_logged, n);
	assert_int_equal(c->n_time_queued, n);
	assert_int_equal(c->n_rcpt_domain, n);
	assert_int_equal(c->n_rcpt, n);
	assert_int_equal(c->n_dsn_status, n);
	assert_int_equal(c->n_dsn_diag, n);
	assert_int_equal(c->n_dsn_mta, n);
	assert_int_equal(c->n_bounce_cat, n);
	assert_int_equal(c->n_source_ip, n);
	assert_int_equal(c->n_destination_ip, n);
	assert_int_equal(c->n_vmta, n);
	assert_int_equal(c->n_vmta_pool, n);
	assert_int_equal(c->n_queue, n);
	assert_int_equal(c->n_job_id, n);
	assert_int_equal(c->n_size, n);
	assert_int_equal(c->n_session_id, n);
	assert_int_equal(c->n_line, n);
	return n;
}

static size_t
nrecords(const Mtascope__V1__Batch *m)
{
	return m->records == NULL ? 0 : m->records->n_type;
}

/*
 * Slices that are not NUL-terminated where they end, so a copy that
 * ignores the length shows.
 */
#define SL(lit, n)	((struct slice){ (lit), (n) })

static struct record
full_record(void)
{
	struct record r;

	memset(&r, 0, sizeof(r));
	r.type = REC_T;
	r.time_logged = INT64_C(1549662834);
	r.time_queued = INT64_C(1549662000);
	r.rcpt = SL("DA@yahoo.fr;junk", 11);
	r.domain = SL("yahoo.fr.junk", 8);
	r.dsn_status = SL("4.7.0 (other)", 5);
	r.dsn_diag = SL("smtp;421 4.7.0 too many errors", 30);
	r.dsn_mta = SL("foo.int.bar.com (10.1.2.165)", 15);
	r.bounce_cat = SL("policy-related", 14);
	r.src_ip = SL("10.59.14.69,", 11);
	r.dst_ip = SL("10.1.2.165,", 10);
	r.vmta = SL("vmta21", 6);
	r.vmta_pool = SL("pool-eu", 7);
	r.queue = SL("yahoo.rollup/vmta21", 19);
	r.job_id = SL("JoBID29546016861868", 19);
	r.size = 41159;
	r.session_id = 42;
	r.line = 4;
	return r;
}

static void
check_full_record(const Mtascope__V1__Batch *m, size_t i)
{
	const Mtascope__V1__Records *c = m->records;

	assert_int_equal(c->type[i], MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_T);
	assert_int_equal(c->time_logged[i], INT64_C(1549662834));
	assert_int_equal(c->time_queued[i], INT64_C(1549662000));
	assert_string_equal(str_at(m, c->rcpt[i]), "DA@yahoo.fr");
	assert_string_equal(str_at(m, c->rcpt_domain[i]), "yahoo.fr");
	assert_string_equal(str_at(m, c->dsn_status[i]), "4.7.0");
	assert_string_equal(str_at(m, c->dsn_diag[i]),
	    "smtp;421 4.7.0 too many errors");
	assert_string_equal(str_at(m, c->dsn_mta[i]), "foo.int.bar.com");
	assert_string_equal(str_at(m, c->bounce_cat[i]), "policy-related");
	assert_string_equal(str_at(m, c->source_ip[i]), "10.59.14.69");
	assert_string_equal(str_at(m, c->destination_ip[i]), "10.1.2.165");
	assert_string_equal(str_at(m, c->vmta[i]), "vmta21");
	assert_string_equal(str_at(m, c->vmta_pool[i]), "pool-eu");
	assert_string_equal(str_at(m, c->queue[i]), "yahoo.rollup/vmta21");
	assert_string_equal(str_at(m, c->job_id[i]), "JoBID29546016861868");
	assert_int_equal(c->size[i], 41159);
	assert_int_equal(c->session_id[i], 42);
	assert_int_equal(c->line[i], 4);
}

static struct record
line_record(uint64_t line)
{
	struct record r;

	memset(&r, 0, sizeof(r));
	r.type = REC_D;
	r.time_logged = INT64_C(1549662845);
	r.domain = SL("gmail.com", 9);
	r.src_ip = SL("10.0.0.1", 8);
	r.line = line;
	return r;
}

static void
test_round_trip(void **state)
{
	struct sink *s = sink_new();
	struct batcher *b;
	struct record r = full_record(), d;
	struct session_info si;
	Mtascope__V1__Batch *m;
	const Mtascope__V1__Records *c;
	time_t before, after;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.type = REC_D;
	d.time_logged = INT64_C(1549662845);
	d.domain = SL("1181.com", 8);
	d.src_ip = SL("10.59.14.69", 11);	/* the same as r's */
	d.line = 2;
	memset(&si, 0, sizeof(si));
	si.id = 7;
	si.src_ip = SL("10.59.14.69xx", 11);
	si.dst_ip = SL("10.1.2.4xx", 8);
	si.domain = SL("gmail.comxx", 9);
	si.dsn_mta = SL("gmail-smtp-in.l.google.com", 26);
	si.first = INT64_C(1549662845);
	si.last = INT64_C(1549662847);
	si.records = 3;

	assert_non_null(b = batcher_new("mta1.example.net", "spool-4f2a", 100,
	    10, on_batch, s));
	assert_int_equal(batcher_next_seq(b), 100);
	batcher_add_record(b, &r);
	batcher_add_record(b, &d);
	batcher_add_session(b, &si);
	batcher_add_gap(b, 430461, 17, "spool full");
	batcher_set_counters(b, 1234, 5, 65536, 17, 1549000000);
	assert_int_equal(batcher_pending(b), 4);
	assert_int_equal(s->n, 0);
	before = time(NULL);
	batcher_flush(b);
	after = time(NULL);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->f[0].seq, 100);
	assert_int_equal(s->f[0].nrecords, 2);
	assert_int_equal(batcher_pending(b), 0);
	assert_int_equal(batcher_next_seq(b), 101);

	m = unpack(&s->f[0]);
	assert_int_equal(m->schema, 1);
	assert_string_equal(m->host, "mta1.example.net");
	assert_string_equal(m->spool_id, "spool-4f2a");
	assert_int_equal(m->seq, 100);
	assert_true(m->created >= before && m->created <= after);

	assert_int_equal(check_shape(m), 2);
	check_full_record(m, 0);
	c = m->records;
	assert_int_equal(c->type[1], MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_D);
	assert_int_equal(c->time_logged[1], INT64_C(1549662845));
	assert_int_equal(c->time_queued[1], 0);
	assert_string_equal(str_at(m, c->rcpt_domain[1]), "1181.com");
	/* Empty strings are index 0. */
	assert_int_equal(c->rcpt[1], 0);
	assert_int_equal(c->dsn_diag[1], 0);
	assert_int_equal(c->job_id[1], 0);
	assert_int_equal(c->size[1], 0);
	assert_int_equal(c->session_id[1], 0);
	assert_int_equal(c->line[1], 2);
	/* A repeated value is one table entry. */
	assert_int_equal(c->source_ip[1], c->source_ip[0]);

	assert_int_equal(m->n_sessions, 1);
	assert_int_equal(m->sessions[0]->id, 7);
	assert_string_equal(str_at(m, m->sessions[0]->source_ip),
	    "10.59.14.69");
	assert_int_equal(m->sessions[0]->source_ip, c->source_ip[0]);
	assert_string_equal(str_at(m, m->sessions[0]->destination_ip),
	    "10.1.2.4");
	assert_int_equal(m->sessions[0]->first_time, INT64_C(1549662845));
	assert_int_equal(m->sessions[0]->last_time, INT64_C(1549662847));
	assert_int_equal(m->sessions[0]->records, 3);
	assert_string_equal(str_at(m, m->sessions[0]->rcpt_domain),
	    "gmail.com");
	assert_string_equal(str_at(m, m->sessions[0]->dsn_mta),
	    "gmail-smtp-in.l.google.com");

	assert_int_equal(m->n_gaps, 1);
	assert_int_equal(m->gaps[0]->hour, 430461);
	assert_int_equal(m->gaps[0]->dropped, 17);
	assert_string_equal(m->gaps[0]->reason, "spool full");

	assert_non_null(m->counters);
	assert_int_equal(m->counters->records_read, 1234);
	assert_int_equal(m->counters->rejected, 5);
	assert_int_equal(m->counters->spool_bytes, 65536);
	assert_int_equal(m->counters->dropped, 17);
	assert_int_equal(m->counters->started, 1549000000);
	mtascope__v1__batch__free_unpacked(m, NULL);

	batcher_free(b);
	sink_free(s);
}

/* Every record type keeps its wire enum value. */
static void
test_record_types_on_the_wire(void **state)
{
	static const struct {
		enum rec_type		t;
		Mtascope__V1__RecordType w;
	} map[] = {
		{ REC_D, MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_D },
		{ REC_B, MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_B },
		{ REC_T, MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_T },
		{ REC_TQ, MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_TQ },
		{ REC_R, MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_R },
		{ REC_F, MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_F },
		{ REC_RB, MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_RB },
		{ REC_RS, MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_RS },
	};
	struct sink *s = sink_new();
	struct batcher *b;
	struct record r;
	Mtascope__V1__Batch *m;
	size_t i;

	(void)state;
	assert_non_null(b = batcher_new("h", "sp", 1, 100, on_batch, s));
	for (i = 0; i < 8; i++) {
		r = line_record(i + 1);
		r.type = map[i].t;
		batcher_add_record(b, &r);
	}
	batcher_flush(b);
	assert_int_equal(s->n, 1);
	m = unpack(&s->f[0]);
	assert_int_equal(check_shape(m), 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(m->records->type[i], map[i].w);
	/* The numbers themselves are fixed by mtascope.proto. */
	assert_int_equal(MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_D, 1);
	assert_int_equal(MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_RS, 8);
	mtascope__v1__batch__free_unpacked(m, NULL);
	batcher_free(b);
	sink_free(s);
}

static void
test_split_at_max_records(void **state)
{
	struct sink *s = sink_new();
	struct batcher *b;
	struct record r;
	Mtascope__V1__Batch *m;
	size_t i, k;
	uint64_t line = 1;
	static const size_t sizes[] = { 3, 3, 1 };

	(void)state;
	assert_non_null(b = batcher_new("h", "sp", 10, 3, on_batch, s));
	batcher_set_counters(b, 7, 0, 0, 0, 1);
	for (i = 1; i <= 7; i++) {
		r = line_record(i);
		batcher_add_record(b, &r);
	}
	/* The fourth and seventh records closed a full batch each. */
	assert_int_equal(s->n, 2);
	assert_int_equal(batcher_pending(b), 1);
	batcher_flush(b);
	assert_int_equal(s->n, 3);
	assert_int_equal(batcher_next_seq(b), 13);
	for (k = 0; k < 3; k++) {
		assert_int_equal(s->f[k].seq, 10 + k);
		assert_int_equal(s->f[k].nrecords, sizes[k]);
		m = unpack(&s->f[k]);
		assert_int_equal(m->seq, 10 + k);
		assert_int_equal(check_shape(m), sizes[k]);
		for (i = 0; i < sizes[k]; i++) {
			assert_int_equal(m->records->line[i], line);
			/* Each batch has its own table. */
			assert_string_equal(str_at(m,
			    m->records->rcpt_domain[i]), "gmail.com");
			assert_string_equal(str_at(m,
			    m->records->source_ip[i]), "10.0.0.1");
			line++;
		}
		assert_int_equal(m->n_strings, 3);
		assert_non_null(m->counters);
		assert_int_equal(m->counters->records_read, 7);
		mtascope__v1__batch__free_unpacked(m, NULL);
	}
	assert_int_equal(line, 8);
	batcher_free(b);
	sink_free(s);
}

static void
test_sessions_split_at_max(void **state)
{
	struct sink *s = sink_new();
	struct batcher *b;
	struct session_info si;
	Mtascope__V1__Batch *m;
	size_t i, k, total = 0;
	uint64_t id = 1;

	(void)state;
	assert_non_null(b = batcher_new("h", "sp", 1, 2, on_batch, s));
	memset(&si, 0, sizeof(si));
	si.src_ip = SL("10.0.0.1", 8);
	si.dst_ip = SL("10.0.0.2", 8);
	si.records = 1;
	for (i = 1; i <= 5; i++) {
		si.id = i;
		batcher_add_session(b, &si);
	}
	batcher_flush(b);
	assert_int_equal(s->n, 3);
	for (k = 0; k < s->n; k++) {
		assert_int_equal(s->f[k].seq, 1 + k);
		assert_int_equal(s->f[k].nrecords, 0);
		m = unpack(&s->f[k]);
		assert_int_equal(check_shape(m), 0);
		assert_true(m->n_sessions <= 2);
		for (i = 0; i < m->n_sessions; i++) {
			assert_int_equal(m->sessions[i]->id, id++);
			assert_string_equal(str_at(m,
			    m->sessions[i]->source_ip), "10.0.0.1");
			assert_string_equal(str_at(m,
			    m->sessions[i]->destination_ip), "10.0.0.2");
		}
		total += m->n_sessions;
		mtascope__v1__batch__free_unpacked(m, NULL);
	}
	assert_int_equal(total, 5);
	batcher_free(b);
	sink_free(s);
}

static void
test_empty_flush_emits_nothing(void **state)
{
	struct sink *s = sink_new();
	struct batcher *b;
	struct record r = line_record(1);

	(void)state;
	assert_non_null(b = batcher_new("h", "sp", 5, 10, on_batch, s));
	batcher_flush(b);
	assert_int_equal(s->n, 0);
	assert_int_equal(batcher_next_seq(b), 5);
	/* Counters alone are not a batch. */
	batcher_set_counters(b, 1, 2, 3, 4, 5);
	batcher_flush(b);
	assert_int_equal(s->n, 0);
	batcher_add_record(b, &r);
	batcher_flush(b);
	assert_int_equal(s->n, 1);
	batcher_flush(b);
	assert_int_equal(s->n, 1);
	assert_int_equal(batcher_next_seq(b), 6);
	batcher_free(b);
	sink_free(s);
}

/* Drops in one hour add up into one gap; other hours get their own. */
static void
test_gaps_per_hour(void **state)
{
	struct sink *s = sink_new();
	struct batcher *b;
	Mtascope__V1__Batch *m;

	(void)state;
	assert_non_null(b = batcher_new("h", "sp", 1, 10, on_batch, s));
	batcher_add_gap(b, 430462, 3, "spool full");
	batcher_add_gap(b, 430463, 1, "spool full");
	batcher_add_gap(b, 430462, 4, "spool full");
	batcher_flush(b);
	assert_int_equal(s->n, 1);
	m = unpack(&s->f[0]);
	assert_int_equal(m->n_gaps, 2);
	assert_int_equal(m->gaps[0]->hour, 430462);
	assert_int_equal(m->gaps[0]->dropped, 7);
	assert_string_equal(m->gaps[0]->reason, "spool full");
	assert_int_equal(m->gaps[1]->hour, 430463);
	assert_int_equal(m->gaps[1]->dropped, 1);
	assert_int_equal(nrecords(m), 0);
	mtascope__v1__batch__free_unpacked(m, NULL);
	batcher_free(b);
	sink_free(s);
}

/* Many distinct hours may span batches; no gap is lost or doubled. */
static void
test_many_gaps(void **state)
{
	struct sink *s = sink_new();
	struct batcher *b;
	Mtascope__V1__Batch *m;
	size_t k, i, n = 0;
	uint64_t dropped = 0;
	int64_t hour = 1000;

	(void)state;
	assert_non_null(b = batcher_new("h", "sp", 1, 10, on_batch, s));
	for (i = 0; i < 200; i++)
		batcher_add_gap(b, 1000 + (int64_t)i, 2, "spool full");
	batcher_flush(b);
	assert_true(s->n >= 1);
	for (k = 0; k < s->n; k++) {
		m = unpack(&s->f[k]);
		for (i = 0; i < m->n_gaps; i++) {
			assert_int_equal(m->gaps[i]->hour, hour);
			assert_string_equal(m->gaps[i]->reason, "spool full");
			hour++;
			dropped += m->gaps[i]->dropped;
		}
		n += m->n_gaps;
		mtascope__v1__batch__free_unpacked(m, NULL);
	}
	assert_int_equal(n, 200);
	assert_int_equal(dropped, 400);
	batcher_free(b);
	sink_free(s);
}

/*
 * A thousand records with 1024-byte diagnostics need more string space
 * than one arena chunk; each must still come back intact, in a batch and
 * in the next one after the arena is rewound.
 */
static void
test_large_strings(void **state)
{
	enum { N = 1000, DIAG = 1024 };
	struct sink *s = sink_new();
	struct batcher *b;
	struct record r;
	Mtascope__V1__Batch *m;
	const char *got;
	char *diag;
	size_t i, k, j;

	(void)state;
	assert_non_null(diag = malloc((size_t)N * DIAG));
	for (i = 0; i < N; i++)
		for (j = 0; j < DIAG; j++)
			diag[i * DIAG + j] = (char)('a' + (i * 7 + j) % 26);
	assert_non_null(b = batcher_new("h", "sp", 1, N, on_batch, s));
	for (k = 0; k < 2; k++) {
		for (i = 0; i < N; i++) {
			r = line_record(i + 1);
			r.dsn_diag = SL(diag + i * DIAG, DIAG);
			r.queue = SL(diag + i * DIAG, 255);
			batcher_add_record(b, &r);
		}
		batcher_flush(b);
	}
	assert_int_equal(s->n, 2);
	for (k = 0; k < 2; k++) {
		m = unpack(&s->f[k]);
		assert_int_equal(nrecords(m), N);
		for (i = 0; i < N; i++) {
			got = str_at(m, m->records->dsn_diag[i]);
			assert_int_equal(strlen(got), DIAG);
			assert_memory_equal(got, diag + i * DIAG, DIAG);
			got = str_at(m, m->records->queue[i]);
			assert_int_equal(strlen(got), 255);
			assert_memory_equal(got, diag + i * DIAG, 255);
			assert_int_equal(m->records->line[i], i + 1);
		}
		mtascope__v1__batch__free_unpacked(m, NULL);
	}
	free(diag);
	batcher_free(b);
	sink_free(s);
}

/*
 * Strings that differ in one byte only, at every position and length,
 * must all be kept apart by the table; and equal ones must share an entry
 * even when they are not adjacent.
 */
static void
test_string_table_distinguishes(void **state)
{
	enum { MAXLEN = 40 };
	struct sink *s = sink_new();
	struct batcher *b;
	struct record r;
	Mtascope__V1__Batch *m;
	static char strs[MAXLEN + 1][MAXLEN][MAXLEN + 1];
	size_t len, k, i, n = 0;

	(void)state;
	assert_non_null(b = batcher_new("h", "sp", 1, 10000, on_batch, s));
	for (len = 1; len <= MAXLEN; len++) {
		for (k = 0; k < len; k++) {
			memset(strs[len][k], 'x', len);
			strs[len][k][k] = 'y';
			strs[len][k][len] = '\0';
			r = line_record(++n);
			r.job_id = SL(strs[len][k], len);
			/* Alternate with a fixed value so equal strings are
			 * not always the previous one. */
			r.vmta = SL(k % 2 ? "vmta-a" : "vmta-b", 6);
			batcher_add_record(b, &r);
		}
	}
	batcher_flush(b);
	m = unpack(&s->f[0]);
	assert_int_equal(check_shape(m), n);
	/* 820 distinct job ids, 2 vmtas, "gmail.com", "10.0.0.1", "". */
	assert_int_equal(m->n_strings, 820 + 2 + 2 + 1);
	i = 0;
	for (len = 1; len <= MAXLEN; len++)
		for (k = 0; k < len; k++, i++) {
			assert_string_equal(str_at(m, m->records->job_id[i]),
			    strs[len][k]);
			assert_string_equal(str_at(m, m->records->vmta[i]),
			    k % 2 ? "vmta-a" : "vmta-b");
		}
	mtascope__v1__batch__free_unpacked(m, NULL);
	batcher_free(b);
	sink_free(s);
}

/*
 * More distinct strings than the table starts with: it grows, and every
 * index still names its own string; the next batch starts afresh.
 */
static void
test_string_table_grows(void **state)
{
	enum { N = 6000 };
	struct sink *s = sink_new();
	struct batcher *b;
	struct record r;
	Mtascope__V1__Batch *m;
	char (*job)[32], (*dst)[32];
	size_t i, k;

	(void)state;
	assert_non_null(job = calloc(N, sizeof(*job)));
	assert_non_null(dst = calloc(N, sizeof(*dst)));
	for (i = 0; i < N; i++) {
		snprintf(job[i], sizeof(job[i]), "job-%zu", i);
		snprintf(dst[i], sizeof(dst[i]), "192.%zu.%zu.1", i / 256,
		    i % 256);
	}
	assert_non_null(b = batcher_new("h", "sp", 1, N, on_batch, s));
	for (k = 0; k < 2; k++) {
		for (i = 0; i < N; i++) {
			r = line_record(i + 1);
			/* The second batch pairs them differently. */
			r.job_id = SL(job[i], strlen(job[i]));
			r.dst_ip = SL(dst[k ? N - 1 - i : i],
			    strlen(dst[k ? N - 1 - i : i]));
			batcher_add_record(b, &r);
		}
		batcher_flush(b);
	}
	assert_int_equal(s->n, 2);
	for (k = 0; k < 2; k++) {
		m = unpack(&s->f[k]);
		assert_int_equal(nrecords(m), N);
		/* N job ids, N addresses, "gmail.com", "10.0.0.1", "". */
		assert_int_equal(m->n_strings, 2 * N + 3);
		for (i = 0; i < N; i++) {
			assert_string_equal(str_at(m, m->records->job_id[i]),
			    job[i]);
			assert_string_equal(str_at(m,
			    m->records->destination_ip[i]),
			    dst[k ? N - 1 - i : i]);
		}
		mtascope__v1__batch__free_unpacked(m, NULL);
	}
	free(job);
	free(dst);
	batcher_free(b);
	sink_free(s);
}

static void
test_new_bounds(void **state)
{
	struct sink *s = sink_new();

	(void)state;
	assert_null(batcher_new("h", "sp", 1, 0, on_batch, s));
	assert_null(batcher_new("h", "sp", 1, 100001, on_batch, s));
	sink_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_record_types_on_the_wire),
		cmocka_unit_test(test_split_at_max_records),
		cmocka_unit_test(test_sessions_split_at_max),
		cmocka_unit_test(test_empty_flush_emits_nothing),
		cmocka_unit_test(test_gaps_per_hour),
		cmocka_unit_test(test_many_gaps),
		cmocka_unit_test(test_large_strings),
		cmocka_unit_test(test_string_table_distinguishes),
		cmocka_unit_test(test_string_table_grows),
		cmocka_unit_test(test_new_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
