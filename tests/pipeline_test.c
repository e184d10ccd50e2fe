/*
 * pipeline_test.c: one small hand-written accounting stream through the
 * whole record path (CSV, normalizer, sessions, batches), from a file.
 *
 * The expected counts are derived by hand in the comments beside each
 * line of the stream, with G = 2 s.  Times: 2019-02-08 21:54:05 UTC is
 * 1549662845; the comments give the last three digits ("845").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mtascope.pb-c.h"
#include "pipeline.h"
#include "testutil.h"

#define LONG_TAIL \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

static const char stream[] =
    /* 1: data before any header: rejected */
    "d,2019-02-08 21:54:05+0000,z@gmail.com\r\n"
    /* 2 */
    "type,timeLogged,rcpt,dsnStatus,dlvSourceIp,dlvDestinationIp,dlvSize,"
    "queue\r\n"
    /* 3: 845, pair A opens session A1 */
    "d,2019-02-08 21:54:05+0000,a@gmail.com,2.0.0 (success),10.0.0.1,"
    "192.0.2.1,100,gmail.com/v1\r\n"
    /* 4: 846, joins A1 */
    "d,2019-02-08 21:54:06+0000,b@gmail.com,2.0.0 (success),10.0.0.1,"
    "192.0.2.1,200,gmail.com/v1\r\n"
    /* 5: 847, t joins A1 (3 records) */
    "t,2019-02-08 21:54:07+0000,c@gmail.com,4.7.0 (x),10.0.0.1,192.0.2.1,,"
    "gmail.com/v1\r\n"
    /* 6: 847, pair B opens session B1 */
    "b,2019-02-08 21:54:07+0000,d@yahoo.com,5.1.1 (x),10.0.0.2,192.0.2.2,,"
    "yahoo.rollup/v2\r\n"
    /* 7: 848, tq: no session (source 0.0.0.0); 848 does not pass 849 */
    "tq,2019-02-08 21:54:08+0000,,4.4.1 (x),0.0.0.0,192.0.2.2,,"
    "yahoo.com/v2\r\n"
    /* 8: blank, skipped without a rejection */
    "\r\n"
    /* 9: unknown type: rejected */
    "zz,2019-02-08 21:54:08+0000,e@gmail.com,,,,,\r\n"
    /* 10: over the 256 byte bound: rejected */
    "d,2019-02-08 21:54:09+0000,x@gmail.com," LONG_TAIL "\r\n"
    /* 11: 860 closes A1 (847 + 2 < 860) and B1; opens A2 */
    "d,2019-02-08 21:54:20+0000,f@gmail.com,2.0.0,10.0.0.1,192.0.2.1,50,"
    "\r\n"
    /* 12: bad timeLogged: rejected */
    "d,not-a-time,g@gmail.com,2.0.0,10.0.0.1,192.0.2.1,,\r\n"
    /* 13: 861, f: no session */
    "f,2019-02-08 21:54:21+0000,h@gmail.com,,,,,\r\n"
    /* 14: 861, d without a source IP: no session */
    "d,2019-02-08 21:54:21+0000,i@gmail.com,2.0.0,,192.0.2.1,70,\r\n"
    /* 15: PowerMTA restarted the pipe: a new header, columns moved */
    "type,dlvSourceIp,dlvDestinationIp,timeLogged,rcpt\r\n"
    /* 16: 862, joins A2 (862 - 860 = 2 <= G) */
    "d,10.0.0.1,192.0.2.1,2019-02-08 21:54:22+0000,j@gmail.com\r\n"
    /* 17: 900, rb: no session; the clock closes A2 */
    "rb,,,2019-02-08 21:55:00+0000,k@gmail.com\r\n"
    /* 18: 901, r: no session */
    "r,10.0.0.9,192.0.2.9,2019-02-08 21:55:01+0000,l@gmail.com\r\n"
    /* 19: a quote that never closes before the end: rejected */
    "\"unterminated,10.0.0.1";

/*
 * Accepted: d on 3, 4, 11, 14, 16 (5); b on 6; t on 5; tq on 7; f on 13;
 * rb on 17; r on 18: 11 records.  Rejected: lines 1, 9, 10, 12, 19.
 * Sessions: A1 (3, 4, 5), B1 (6), A2 (11, 16): 3 sessions, 6 records.
 */
#define WANT_RECORDS	11
#define WANT_REJECTED	5
#define WANT_SESSIONS	3
#define WANT_SREC	6
#define T0		INT64_C(1549662845)

static int
tmp_fd(const char *data, size_t len)
{
	char path[] = "/tmp/pipeline_test.XXXXXX";
	int fd;

	assert_true((fd = mkstemp(path)) >= 0);
	unlink(path);
	if (len > 0)
		assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static char *
fd_contents(int fd, size_t *n)
{
	off_t size;
	char *buf;

	assert_true((size = lseek(fd, 0, SEEK_END)) >= 0);
	assert_non_null(buf = malloc((size_t)size + 1));
	assert_int_equal(pread(fd, buf, (size_t)size, 0), size);
	buf[size] = '\0';
	*n = (size_t)size;
	return buf;
}

static struct pipeline_opts
default_opts(void)
{
	struct pipeline_opts o;

	memset(&o, 0, sizeof(o));
	o.host = "mta1.example.net";
	o.input_name = "test-stream";
	o.dump = 0;
	o.output_fd = -1;
	o.keep_rcpt = 0;
	o.max_record = 256;
	o.max_errors = 10;
	o.session_gap = 2;
	o.batch_records = 1000;
	return o;
}

/* What the last run wrote to stdout and stderr; freed by teardown. */
static char *cap_out, *cap_err;

static int
teardown(void **state)
{
	(void)state;
	free(cap_out);
	free(cap_err);
	cap_out = cap_err = NULL;
	return 0;
}

/*
 * Run the stream with stdout and stderr sent to files, so the dump and
 * the reject reports can be checked.
 */
static int
run_captured(const struct pipeline_opts *o, const char *data, size_t len,
    struct pipeline_stats *st, char **out, char **err)
{
	int in = tmp_fd(data, len), ofd = tmp_fd("", 0), efd = tmp_fd("", 0);
	int saved_out, saved_err, rc;
	size_t n;

	fflush(stdout);
	fflush(stderr);
	assert_true((saved_out = dup(1)) >= 0);
	assert_true((saved_err = dup(2)) >= 0);
	assert_int_equal(dup2(ofd, 1), 1);
	assert_int_equal(dup2(efd, 2), 2);
	rc = pipeline_run(o, in, st);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	free(cap_out);
	free(cap_err);
	*out = cap_out = fd_contents(ofd, &n);
	*err = cap_err = fd_contents(efd, &n);
	close(in);
	close(ofd);
	close(efd);
	return rc;
}

static size_t
count_substr(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void
test_counts(void **state)
{
	struct pipeline_opts o = default_opts();
	struct pipeline_stats st;
	char *out, *err;

	(void)state;
	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(run_captured(&o, stream, LIT_LEN(stream), &st, &out,
	    &err), 0);
	assert_int_equal(st.records, WANT_RECORDS);
	assert_int_equal(st.by_type[REC_D], 5);
	assert_int_equal(st.by_type[REC_B], 1);
	assert_int_equal(st.by_type[REC_T], 1);
	assert_int_equal(st.by_type[REC_TQ], 1);
	assert_int_equal(st.by_type[REC_R], 1);
	assert_int_equal(st.by_type[REC_F], 1);
	assert_int_equal(st.by_type[REC_RB], 1);
	assert_int_equal(st.by_type[REC_RS], 0);
	assert_int_equal(st.by_type[REC_NONE], 0);
	assert_int_equal(st.rejected, WANT_REJECTED);
	assert_int_equal(st.sessions, WANT_SESSIONS);
	assert_int_equal(st.session_records, WANT_SREC);
	assert_int_equal(st.sessions_evicted, 0);
	assert_int_equal(st.batches, 1);
	assert_int_equal(st.bytes_in, LIT_LEN(stream));
	assert_true(st.bytes_out > 0);
	/* Nothing on stdout without --dump. */
	assert_string_equal(out, "");
	/* Each rejected line reported with its input name and number. */
	assert_non_null(strstr(err, "test-stream: line 1: "));
	assert_non_null(strstr(err, "test-stream: line 9: "));
	assert_non_null(strstr(err, "test-stream: line 10: "));
	assert_non_null(strstr(err, "test-stream: line 12: "));
	assert_non_null(strstr(err, "test-stream: line 19: "));
	assert_int_equal(count_substr(err, "test-stream: line "), 5);
}

/* Only the first max_errors rejects are shown, but all are counted. */
static void
test_reports_capped(void **state)
{
	struct pipeline_opts o = default_opts();
	struct pipeline_stats st;
	char *out, *err;

	(void)state;
	o.max_errors = 2;
	assert_int_equal(run_captured(&o, stream, LIT_LEN(stream), &st, &out,
	    &err), 0);
	assert_int_equal(st.rejected, WANT_REJECTED);
	assert_int_equal(count_substr(err, "test-stream: line "), 2);
	assert_non_null(strstr(err, "test-stream: line 1: "));
	assert_non_null(strstr(err, "test-stream: line 9: "));
}

struct want_session {
	const char	*src, *dst, *domain;
	int64_t		 first, last;
	uint32_t	 records;
	uint64_t	 first_line;	/* a record of the session */
	int		 seen;
};

/* The batches written to --output: length-prefixed, in sequence, and
 * holding every accepted record and every session exactly once. */
static void
test_batches(void **state)
{
	static const uint64_t want_lines[WANT_RECORDS] = {
		3, 4, 5, 6, 7, 11, 13, 14, 16, 17, 18
	};
	struct want_session ws[WANT_SESSIONS] = {
		{ "10.0.0.1", "192.0.2.1", "gmail.com", T0, T0 + 2, 3, 3, 0 },
		{ "10.0.0.2", "192.0.2.2", "yahoo.com", T0 + 2, T0 + 2, 1, 6,
		    0 },
		{ "10.0.0.1", "192.0.2.1", "gmail.com", T0 + 15, T0 + 17, 2,
		    11, 0 },
	};
	uint64_t sid_of_line[32] = { 0 };
	struct pipeline_opts o = default_opts();
	struct pipeline_stats st;
	Mtascope__V1__Batch *m;
	char *out, *err, *frames;
	size_t n, off = 0, nrec = 0, nframes = 0, i, k;
	uint64_t seq = 1;
	uint32_t be;
	int ofd = tmp_fd("", 0);

	(void)state;
	o.output_fd = ofd;
	o.batch_records = 4;
	assert_int_equal(run_captured(&o, stream, LIT_LEN(stream), &st, &out,
	    &err), 0);
	frames = fd_contents(ofd, &n);
	while (off < n) {
		assert_true(off + 4 <= n);
		memcpy(&be, frames + off, 4);
		off += 4;
		assert_true(off + ntohl(be) <= n);
		m = mtascope__v1__batch__unpack(NULL, ntohl(be),
		    (const uint8_t *)frames + off);
		assert_non_null(m);
		off += ntohl(be);
		nframes++;
		assert_string_equal(m->host, "mta1.example.net");
		assert_int_equal(m->seq, seq);
		seq++;
		assert_true(m->n_strings >= 1);
		if (m->records != NULL) {
			for (i = 0; i < m->records->n_type; i++, nrec++) {
				uint64_t line = m->records->line[i];

				assert_true(nrec < WANT_RECORDS);
				assert_int_equal(line, want_lines[nrec]);
				sid_of_line[line] =
				    m->records->session_id[i];
				/* The local part never leaves the host. */
				assert_true(m->records->rcpt[i] == 0);
			}
		}
		for (i = 0; i < m->n_sessions; i++) {
			const Mtascope__V1__Session *s = m->sessions[i];

			assert_true(s->source_ip < m->n_strings);
			assert_true(s->destination_ip < m->n_strings);
			assert_true(s->rcpt_domain < m->n_strings);
			for (k = 0; k < WANT_SESSIONS; k++) {
				if (ws[k].first != s->first_time ||
				    strcmp(ws[k].src,
				    m->strings[s->source_ip]) != 0)
					continue;
				assert_false(ws[k].seen);
				ws[k].seen = 1;
				assert_string_equal(
				    m->strings[s->destination_ip], ws[k].dst);
				assert_string_equal(
				    m->strings[s->rcpt_domain], ws[k].domain);
				assert_int_equal(s->last_time, ws[k].last);
				assert_int_equal(s->records, ws[k].records);
				assert_int_equal(sid_of_line[ws[k].first_line],
				    s->id);
			}
		}
		mtascope__v1__batch__free_unpacked(m, NULL);
	}
	assert_int_equal(nrec, WANT_RECORDS);
	for (k = 0; k < WANT_SESSIONS; k++)
		assert_true(ws[k].seen);
	assert_int_equal(nframes, st.batches);
	/* 11 records at 4 a batch need at least 3 batches. */
	assert_true(nframes >= 3);
	assert_int_equal(st.bytes_out, n - 4 * nframes);
	/* Records of one session share its id; others have none. */
	assert_int_not_equal(sid_of_line[3], 0);
	assert_int_equal(sid_of_line[4], sid_of_line[3]);
	assert_int_equal(sid_of_line[5], sid_of_line[3]);
	assert_int_not_equal(sid_of_line[6], 0);
	assert_int_not_equal(sid_of_line[6], sid_of_line[3]);
	assert_int_not_equal(sid_of_line[11], 0);
	assert_int_not_equal(sid_of_line[11], sid_of_line[3]);
	assert_int_equal(sid_of_line[16], sid_of_line[11]);
	assert_int_equal(sid_of_line[7], 0);
	assert_int_equal(sid_of_line[13], 0);
	assert_int_equal(sid_of_line[14], 0);
	assert_int_equal(sid_of_line[17], 0);
	assert_int_equal(sid_of_line[18], 0);
	free(frames);
	close(ofd);
}

/* --dump: one JSON line per record and per session, local parts gone. */
static void
test_dump(void **state)
{
	struct pipeline_opts o = default_opts();
	struct pipeline_stats st;
	char *out, *err;

	(void)state;
	o.dump = 1;
	assert_int_equal(run_captured(&o, stream, LIT_LEN(stream), &st, &out,
	    &err), 0);
	assert_int_equal(count_substr(out, "{\"kind\":\"record\""),
	    WANT_RECORDS);
	assert_int_equal(count_substr(out, "{\"kind\":\"session\""),
	    WANT_SESSIONS);
	assert_int_equal(count_substr(out, "\n"),
	    WANT_RECORDS + WANT_SESSIONS);
	assert_non_null(strstr(out, "\"line\":3,\"type\":\"d\","
	    "\"time_logged\":1549662845,\"time_utc\":\"2019-02-08T21:54:05Z\""));
	assert_non_null(strstr(out, "\"rcpt_domain\":\"gmail.com\""));
	assert_non_null(strstr(out, "\"line\":7,\"type\":\"tq\""));
	assert_non_null(strstr(out, "\"rcpt_domain\":\"yahoo.com\""));
	assert_null(strstr(out, "a@gmail.com"));
	assert_null(strstr(out, "\"rcpt\""));
}

/* With keep_rcpt the full address is kept. */
static void
test_keep_rcpt(void **state)
{
	struct pipeline_opts o = default_opts();
	struct pipeline_stats st;
	char *out, *err;

	(void)state;
	o.dump = 1;
	o.keep_rcpt = 1;
	assert_int_equal(run_captured(&o, stream, LIT_LEN(stream), &st, &out,
	    &err), 0);
	assert_non_null(strstr(out, "\"rcpt\":\"a@gmail.com\""));
	assert_int_equal(st.records, WANT_RECORDS);
}

/* A bigger gap merges what G = 2 splits: with G = 20, A1 and A2 are one
 * session (847 to 860 is 13 s), so 2 sessions of 6 records. */
static void
test_session_gap_option(void **state)
{
	struct pipeline_opts o = default_opts();
	struct pipeline_stats st;
	char *out, *err;

	(void)state;
	o.session_gap = 20;
	assert_int_equal(run_captured(&o, stream, LIT_LEN(stream), &st, &out,
	    &err), 0);
	assert_int_equal(st.sessions, 2);
	assert_int_equal(st.session_records, WANT_SREC);
}

/*
 * A quote that never closes may cost the lines up to the record bound, and
 * no more: here line 2 opens a quote, the 256 byte bound falls inside
 * line 3, and lines 4 to 6 are good records that must all arrive.
 */
static void
test_unterminated_quote_costs_only_its_lines(void **state)
{
	static const char in[] =
	    "type,timeLogged,rcpt\r\n"
	    "d,\"2019-02-08 21:54:05+0000,a@gmail.com\r\n"
	    LONG_TAIL LONG_TAIL "\r\n"
	    "d,2019-02-08 21:54:06+0000,b@gmail.com\r\n"
	    "d,2019-02-08 21:54:07+0000,c@gmail.com\r\n"
	    "b,2019-02-08 21:54:08+0000,d@gmail.com\r\n";
	struct pipeline_opts o = default_opts();
	struct pipeline_stats st;
	char *out, *err;

	(void)state;
	assert_int_equal(run_captured(&o, in, LIT_LEN(in), &st, &out, &err),
	    0);
	assert_int_equal(st.rejected, 1);
	assert_non_null(strstr(err, "test-stream: line 2: "));
	assert_int_equal(st.records, 3);
	assert_int_equal(st.by_type[REC_D], 2);
	assert_int_equal(st.by_type[REC_B], 1);
}

static void
test_empty_input(void **state)
{
	struct pipeline_opts o = default_opts();
	struct pipeline_stats st;
	char *out, *err;

	(void)state;
	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(run_captured(&o, "", 0, &st, &out, &err), 0);
	assert_int_equal(st.records, 0);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(st.sessions, 0);
	assert_int_equal(st.batches, 0);
	assert_int_equal(st.bytes_in, 0);
}

/* The summary line names every count. */
static void
test_summary_line(void **state)
{
	struct pipeline_stats st;
	char buf[512];

	(void)state;
	memset(&st, 0, sizeof(st));
	st.records = 11;
	st.by_type[REC_D] = 5;
	st.by_type[REC_TQ] = 1;
	st.rejected = 5;
	st.sessions = 3;
	st.session_records = 6;
	pipeline_summary_line(&st, buf, sizeof(buf));
	assert_string_equal(buf, "records=11 d=5 b=0 t=0 tq=1 r=0 f=0 rb=0 "
	    "rs=0 rejected=5 sessions=3 session_records=6");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_counts, teardown),
		cmocka_unit_test_teardown(test_reports_capped, teardown),
		cmocka_unit_test_teardown(test_batches, teardown),
		cmocka_unit_test_teardown(test_dump, teardown),
		cmocka_unit_test_teardown(test_keep_rcpt, teardown),
		cmocka_unit_test_teardown(test_session_gap_option, teardown),
		cmocka_unit_test_teardown(test_unterminated_quote_costs_only_its_lines, teardown),
		cmocka_unit_test_teardown(test_empty_input, teardown),
		cmocka_unit_test_teardown(test_summary_line, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
