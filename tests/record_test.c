/*
 * record_test.c: cells -> normalized records, checked against the verbatim
 * samples of powermta-accounting.md and the rules of design.md.
 *
 * Rows come from real CSV text run through the reader, and header lines
 * remap the columns exactly as the pipeline does, so a test sees what
 * mtascope-pipe would see.  Times are UTC epochs worked out by hand (see
 * ptime_test.c for the method).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"
#include "record.h"
#include "testutil.h"

/* 2019-02-08 21:54:05+0000 etc.: 2019-02-08 00:00:00 UTC is 1549584000. */
#define T_D	INT64_C(1549662845)	/* 21:54:05 */
#define T_B	INT64_C(1549662821)	/* 21:53:41 */
#define T_T	INT64_C(1549662834)	/* 21:53:54 */
#define T_TQ	INT64_C(1549662819)	/* 21:53:39 */
/* 2016-05-29 01:10:51+0200 = 2016-05-28 23:10:51 UTC. */
#define T_CB1	INT64_C(1464477051)
#define T_CB2	INT64_C(1464477023)	/* 01:10:23+0200 */

#define ARRIVAL	INT64_C(1700000000)

/* The typical 23-column header for d/b/t (`record-fields *`). */
#define HDR_TYPICAL \
	"type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus," \
	"dsnDiag,dsnMta,bounceCat,srcType,srcMta,dlvType,dlvSourceIp," \
	"dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,jobId,envId,queue," \
	"vmtaPool\r\n"

#define SAMPLE_D \
	"d,2019-02-08 21:54:05+0000,2019-02-08 21:54:05+0000," \
	"AA-D=1181.com@bounce.bar.com,D@1181.com,,relayed,2.0.0 (success)," \
	"smtp;250 DATA ok,foo.int.port25.com (10.1.2.3),,api," \
	"foo.int.port25.com (127.0.0.1),smtp,10.1.2.3,10.1.2.3," \
	"\"ENHANCEDSTATUSCODES,8BITMIME,SMTPUTF8\",41159,vmta48," \
	"JoBID29546016861868,,1181.com/vmta48\r\n"

#define SAMPLE_B \
	"b,2019-02-08 21:53:41+0000,2019-02-08 21:53:41+0000," \
	"CB-A=yahoo.com@bounce.bar.com,A@yahoo.com,,failed," \
	"5.7.1 (delivery not authorized),smtp;554 5.7.1 Denied - Spam " \
	"Suspected - http://www.w357sfhsjhf873.net/services/spamwatch/" \
	"blocked.php,foo.int.bar.com (10.1.2.3),spam-related,api," \
	"foo.int.bar.com (127.0.0.1),smtp,10.1.2.3,10.1.2.3," \
	"\"ENHANCEDSTATUSCODES,8BITMIME,SMTPUTF8\",,vmta18,,," \
	"yahoo.rollup/vmta18\r\n"

#define SAMPLE_T \
	"t,2019-02-08 21:53:54+0000,2019-02-08 21:53:54+0000," \
	"DB.AD.G.AA.AB-DA=yahoo.fr@bounce.bar.com,DA@yahoo.fr,,delayed," \
	"4.7.0 (other or undefined security status),smtp;421 4.7.0 " \
	"mx002.roc2.bluetie.com Error: too many errors," \
	"foo.int.bar.com (10.1.2.165),policy-related,api," \
	"foo.int.bar.com (127.0.0.1),smtp,10.59.14.69,10.1.2.165," \
	"\"ENHANCEDSTATUSCODES,8BITMIME,SMTPUTF8\",,vmta21,,," \
	"yahoo.rollup/vmta21,\r\n"

#define HDR_TQ \
	"type,timeLogged,dsnStatus,dsnDiag,dsnMta,dlvType,dlvSourceIp," \
	"dlvDestinationIp,vmta,queue\r\n"

#define SAMPLE_TQ \
	"tq,2019-02-08 21:53:39+0000,4.4.1 (no answer from host),," \
	"mx.xn--bcher-kva.de (87.98.150.101),smtp,0.0.0.0,87.98.150.101," \
	"vmta29,b\xc3\xbc" "cher.de/vmta29\r\n"

#define HDR_CUSTOM \
	"type,timeQueued,bounceCat,vmta,orig,rcpt,srcMta,dlvSourceIp,jobId," \
	"dsnStatus,dsnMta\r\n"

#define SAMPLE_CB1 \
	"b,2016-05-29 01:10:51+0200,bad-domain,vmta-mymta04," \
	"mailwizz@example.com,XXX@domain.com,sourcemta.domain.com (0.0.0.0)," \
	"1.1.1.1,,5.1.2 (bad destination system: no such domain),\r\n"

#define SAMPLE_CB2 \
	"b,2016-05-29 01:10:23+0200,bad-mailbox,vmta-mymta03," \
	"mailwizz@example.com,YYY@anotherdomain.com," \
	"sourcemta.domain.com (0.0.0.0),1.1.1.1,," \
	"5.1.1 (bad destination mailbox address)," \
	"mx1.destindomain.com (2.2.2.2)\r\n"

#define FIELD_CAP	1200

struct owned {
	char	b[FIELD_CAP];
	size_t	n;
};

/* A normalized record (or a rejection) copied out of the reader's buffer. */
struct nrec {
	int		rc;
	char		err[256];
	enum rec_type	type;
	int64_t		tl;
	int64_t		tq;
	uint64_t	size;
	uint64_t	line;
	uint64_t	session_id;
	struct owned	rcpt, domain, dsn_status, dsn_diag, dsn_mta,
			bounce_cat, src, dst, vmta, pool, queue, job;
};

#define MAX_NREC	16

static struct nrec out[MAX_NREC];

static void
own(struct owned *o, struct slice s, const char *what)
{
	if (!test_utf8_valid(s.p, s.n)) {
		print_error("field %s is not valid UTF-8 without NUL\n", what);
		fail();
	}
	assert_true(s.n < FIELD_CAP);
	memcpy(o->b, s.p, s.n);
	o->b[s.n] = '\0';
	o->n = s.n;
}

/*
 * Run text through the CSV reader and the normalizer the way pipeline.c
 * does: header rows remap, blank lines are skipped, everything else is a
 * record or a rejection.  Every accepted string field must be valid UTF-8.
 * Returns the number of results in out[].
 */
static size_t
normalize_text(const char *text, size_t len, int keep_rcpt, int64_t arrival)
{
	struct memsrc m;
	struct csv *c;
	struct normalizer *n;
	struct csv_row row;
	struct record r;
	enum csv_result res;
	size_t k = 0;

	memset(out, 0, sizeof(out));
	memsrc_init(&m, text, len, CHUNK_WHOLE, 0);
	assert_non_null(c = csv_new(64 * 1024, memsrc_read, &m));
	assert_non_null(n = normalizer_new(keep_rcpt));
	while ((res = csv_next(c, &row)) != CSV_EOF) {
		assert_int_equal(res, CSV_ROW);
		if (record_is_header(&row)) {
			record_set_header(n, &row);
			continue;
		}
		if (record_is_blank(&row))
			continue;
		assert_true(k < MAX_NREC);
		memset(&r, 0xa5, sizeof(r));
		out[k].rc = record_normalize(n, &row, arrival, &r);
		out[k].line = row.line;
		if (out[k].rc != 0) {
			assert_int_equal(out[k].rc, -1);
			strncpy(out[k].err, record_error(n),
			    sizeof(out[k].err) - 1);
			k++;
			continue;
		}
		out[k].type = r.type;
		out[k].tl = r.time_logged;
		out[k].tq = r.time_queued;
		out[k].size = r.size;
		out[k].session_id = r.session_id;
		assert_int_equal(r.line, row.line);
		own(&out[k].rcpt, r.rcpt, "rcpt");
		own(&out[k].domain, r.domain, "domain");
		own(&out[k].dsn_status, r.dsn_status, "dsn_status");
		own(&out[k].dsn_diag, r.dsn_diag, "dsn_diag");
		own(&out[k].dsn_mta, r.dsn_mta, "dsn_mta");
		own(&out[k].bounce_cat, r.bounce_cat, "bounce_cat");
		own(&out[k].src, r.src_ip, "src_ip");
		own(&out[k].dst, r.dst_ip, "dst_ip");
		own(&out[k].vmta, r.vmta, "vmta");
		own(&out[k].pool, r.vmta_pool, "vmta_pool");
		own(&out[k].queue, r.queue, "queue");
		own(&out[k].job, r.job_id, "job_id");
		k++;
	}
	normalizer_free(n);
	csv_free(c);
	return k;
}

#define NORMALIZE(text, keep, arrival) \
	normalize_text((text), LIT_LEN(text), (keep), (arrival))

#define assert_owned(o, want)	assert_bytes((o).b, (o).n, (want))
#define assert_owned_lit(o, lit) assert_bytes_lit((o).b, (o).n, lit)

static void
assert_accepted(const struct nrec *r)
{
	if (r->rc != 0) {
		print_error("line %llu rejected: %s\n",
		    (unsigned long long)r->line, r->err);
		fail();
	}
}

static void
check_d_sample(const struct nrec *r)
{
	assert_accepted(r);
	assert_int_equal(r->type, REC_D);
	assert_int_equal(r->tl, T_D);
	assert_int_equal(r->tq, T_D);
	assert_owned(r->domain, "1181.com");
	assert_owned(r->dsn_status, "2.0.0");
	assert_owned(r->dsn_diag, "smtp;250 DATA ok");
	assert_owned(r->dsn_mta, "foo.int.port25.com");
	assert_owned(r->bounce_cat, "");
	assert_owned(r->src, "10.1.2.3");
	assert_owned(r->dst, "10.1.2.3");
	assert_owned(r->vmta, "vmta48");
	assert_owned(r->pool, "");
	assert_owned(r->queue, "1181.com/vmta48");
	assert_owned(r->job, "JoBID29546016861868");
	assert_int_equal(r->size, 41159);
	assert_int_equal(r->session_id, 0);
}

static void
check_b_sample(const struct nrec *r)
{
	assert_accepted(r);
	assert_int_equal(r->type, REC_B);
	assert_int_equal(r->tl, T_B);
	assert_int_equal(r->tq, T_B);
	assert_owned(r->domain, "yahoo.com");
	assert_owned(r->dsn_status, "5.7.1");
	assert_owned(r->dsn_diag, "smtp;554 5.7.1 Denied - Spam Suspected - "
	    "http://www.w357sfhsjhf873.net/services/spamwatch/blocked.php");
	assert_owned(r->dsn_mta, "foo.int.bar.com");
	assert_owned(r->bounce_cat, "spam-related");
	assert_owned(r->src, "10.1.2.3");
	assert_owned(r->dst, "10.1.2.3");
	assert_owned(r->vmta, "vmta18");
	assert_owned(r->pool, "");
	assert_owned(r->queue, "yahoo.rollup/vmta18");
	assert_owned(r->job, "");
	assert_int_equal(r->size, 0);
}

static void
check_t_sample(const struct nrec *r)
{
	assert_accepted(r);
	assert_int_equal(r->type, REC_T);
	assert_int_equal(r->tl, T_T);
	assert_int_equal(r->tq, T_T);
	assert_owned(r->domain, "yahoo.fr");
	assert_owned(r->dsn_status, "4.7.0");
	assert_owned(r->dsn_diag,
	    "smtp;421 4.7.0 mx002.roc2.bluetie.com Error: too many errors");
	assert_owned(r->dsn_mta, "foo.int.bar.com");
	assert_owned(r->bounce_cat, "policy-related");
	assert_owned(r->src, "10.59.14.69");
	assert_owned(r->dst, "10.1.2.165");
	assert_owned(r->vmta, "vmta21");
	assert_owned(r->pool, "");
	assert_owned(r->queue, "yahoo.rollup/vmta21");
	assert_owned(r->job, "");
	assert_int_equal(r->size, 0);
}

static void
check_tq_sample(const struct nrec *r)
{
	assert_accepted(r);
	assert_int_equal(r->type, REC_TQ);
	assert_int_equal(r->tl, T_TQ);
	assert_int_equal(r->tq, 0);
	/* For tq the domain is the queue's domain part, here an IDN. */
	assert_owned(r->domain, "b\xc3\xbc" "cher.de");
	assert_owned(r->dsn_status, "4.4.1");
	assert_owned(r->dsn_diag, "");
	assert_owned(r->dsn_mta, "mx.xn--bcher-kva.de");
	assert_owned(r->bounce_cat, "");
	assert_owned(r->src, "0.0.0.0");
	assert_owned(r->dst, "87.98.150.101");
	assert_owned(r->vmta, "vmta29");
	assert_owned(r->queue, "b\xc3\xbc" "cher.de/vmta29");
	assert_owned(r->job, "");
	assert_owned(r->rcpt, "");
	assert_int_equal(r->size, 0);
}

/* The custom bounce file has no timeLogged: the time is timeQueued. */
static void
check_cb1_sample(const struct nrec *r)
{
	assert_accepted(r);
	assert_int_equal(r->type, REC_B);
	assert_int_equal(r->tl, T_CB1);
	assert_int_equal(r->tq, T_CB1);
	assert_owned(r->domain, "domain.com");
	assert_owned(r->dsn_status, "5.1.2");
	assert_owned(r->dsn_diag, "");
	assert_owned(r->dsn_mta, "");
	assert_owned(r->bounce_cat, "bad-domain");
	assert_owned(r->src, "1.1.1.1");
	assert_owned(r->dst, "");
	assert_owned(r->vmta, "vmta-mymta04");
	assert_owned(r->queue, "");
	assert_owned(r->job, "");
	assert_int_equal(r->size, 0);
}

static void
check_cb2_sample(const struct nrec *r)
{
	assert_accepted(r);
	assert_int_equal(r->type, REC_B);
	assert_int_equal(r->tl, T_CB2);
	assert_int_equal(r->tq, T_CB2);
	assert_owned(r->domain, "anotherdomain.com");
	assert_owned(r->dsn_status, "5.1.1");
	assert_owned(r->dsn_diag, "");
	assert_owned(r->dsn_mta, "mx1.destindomain.com");
	assert_owned(r->bounce_cat, "bad-mailbox");
	assert_owned(r->src, "1.1.1.1");
	assert_owned(r->dst, "");
	assert_owned(r->vmta, "vmta-mymta03");
	assert_owned(r->queue, "");
	assert_owned(r->job, "");
	assert_int_equal(r->size, 0);
}

static void
test_sample_d(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE(HDR_TYPICAL SAMPLE_D, 0, ARRIVAL), 1);
	check_d_sample(&out[0]);
	assert_int_equal(out[0].line, 2);
	assert_owned(out[0].rcpt, "");
}

static void
test_sample_b(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE(HDR_TYPICAL SAMPLE_B, 0, ARRIVAL), 1);
	check_b_sample(&out[0]);
}

static void
test_sample_t(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE(HDR_TYPICAL SAMPLE_T, 0, ARRIVAL), 1);
	check_t_sample(&out[0]);
}

static void
test_sample_tq(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE(HDR_TQ SAMPLE_TQ, 0, ARRIVAL), 1);
	check_tq_sample(&out[0]);
}

static void
test_sample_custom_bounce(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE(HDR_CUSTOM SAMPLE_CB1 SAMPLE_CB2, 0,
	    ARRIVAL), 2);
	check_cb1_sample(&out[0]);
	check_cb2_sample(&out[1]);
}

/* All samples in one stream: every header remaps the columns. */
static void
test_samples_in_one_stream(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE(HDR_TYPICAL SAMPLE_D SAMPLE_B SAMPLE_T
	    HDR_TQ SAMPLE_TQ HDR_CUSTOM SAMPLE_CB1 SAMPLE_CB2 HDR_TYPICAL
	    SAMPLE_D, 0, ARRIVAL), 7);
	check_d_sample(&out[0]);
	check_b_sample(&out[1]);
	check_t_sample(&out[2]);
	check_tq_sample(&out[3]);
	check_cb1_sample(&out[4]);
	check_cb2_sample(&out[5]);
	check_d_sample(&out[6]);
	assert_int_equal(out[0].line, 2);
	assert_int_equal(out[3].line, 6);
	assert_int_equal(out[5].line, 9);
	assert_int_equal(out[6].line, 11);
}

static void
test_keep_rcpt(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE(HDR_TYPICAL SAMPLE_D SAMPLE_B HDR_CUSTOM
	    SAMPLE_CB1, 1, ARRIVAL), 3);
	assert_owned(out[0].rcpt, "D@1181.com");
	assert_owned(out[0].domain, "1181.com");
	assert_owned(out[1].rcpt, "A@yahoo.com");
	assert_owned(out[2].rcpt, "XXX@domain.com");
	assert_owned(out[2].domain, "domain.com");
}

/* The local part never appears in any field unless asked for. */
static void
test_local_part_dropped(void **state)
{
	const struct owned *f[12];
	size_t i;

	(void)state;
	assert_int_equal(NORMALIZE("type,timeLogged,rcpt,dsnDiag\n"
	    "d,2019-02-08 21:54:05+0000,Jane.Doe@Example.com,ok\n", 0,
	    ARRIVAL), 1);
	assert_accepted(&out[0]);
	assert_owned(out[0].rcpt, "");
	assert_owned(out[0].domain, "example.com");
	f[0] = &out[0].rcpt; f[1] = &out[0].domain; f[2] = &out[0].dsn_status;
	f[3] = &out[0].dsn_diag; f[4] = &out[0].dsn_mta;
	f[5] = &out[0].bounce_cat; f[6] = &out[0].src; f[7] = &out[0].dst;
	f[8] = &out[0].vmta; f[9] = &out[0].pool; f[10] = &out[0].queue;
	f[11] = &out[0].job;
	for (i = 0; i < 12; i++)
		assert_null(strstr(f[i]->b, "Jane"));
}

/* The t sample with every column in reverse order (type stays first). */
static void
test_column_order_is_irrelevant(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE(
	    "type,vmtaPool,queue,envId,jobId,vmta,dlvSize,dlvEsmtpAvailable,"
	    "dlvDestinationIp,dlvSourceIp,dlvType,srcMta,srcType,bounceCat,"
	    "dsnMta,dsnDiag,dsnStatus,dsnAction,orcpt,rcpt,orig,timeQueued,"
	    "timeLogged\r\n"
	    "t,,yahoo.rollup/vmta21,,,vmta21,,"
	    "\"ENHANCEDSTATUSCODES,8BITMIME,SMTPUTF8\",10.1.2.165,10.59.14.69,"
	    "smtp,foo.int.bar.com (127.0.0.1),api,policy-related,"
	    "foo.int.bar.com (10.1.2.165),smtp;421 4.7.0 "
	    "mx002.roc2.bluetie.com Error: too many errors,"
	    "4.7.0 (other or undefined security status),delayed,,DA@yahoo.fr,"
	    "DB.AD.G.AA.AB-DA=yahoo.fr@bounce.bar.com,"
	    "2019-02-08 21:53:54+0000,2019-02-08 21:53:54+0000\r\n",
	    0, ARRIVAL), 1);
	check_t_sample(&out[0]);
}

/* timeLogged and timeQueued must not be confused when they differ. */
static void
test_logged_and_queued_distinct(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE("type,timeQueued,rcpt,timeLogged\n"
	    "d,2016-05-29 01:10:51+0200,a@b.example,2019-02-08 21:54:05+0000\n",
	    0, ARRIVAL), 1);
	assert_accepted(&out[0]);
	assert_int_equal(out[0].tl, T_D);
	assert_int_equal(out[0].tq, T_CB1);
}

static void
test_unknown_columns_ignored(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE(
	    "type,header_X-Mailer,timeLogged,totalSecondsQueued,rcpt,rcptX,"
	    "arf_foo,feedbackType,dlvSourceIp,dlvSourceIpv6,userString\n"
	    "d,Mailer 1.0,2019-02-08 21:54:05+0000,12,a@gmail.com,"
	    "x@evil.example,z,abuse,10.0.0.1,::1,hello\n", 0, ARRIVAL), 1);
	assert_accepted(&out[0]);
	assert_int_equal(out[0].type, REC_D);
	assert_int_equal(out[0].tl, T_D);
	assert_owned(out[0].domain, "gmail.com");
	assert_owned(out[0].src, "10.0.0.1");
	assert_owned(out[0].dst, "");
	assert_owned(out[0].dsn_diag, "");
	assert_owned(out[0].vmta, "");
	assert_int_equal(out[0].size, 0);
}

static void
test_mid_stream_header_remaps(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE(
	    "type,timeLogged,rcpt,dsnStatus,dlvSourceIp\n"
	    "d,2019-02-08 21:54:05+0000,a@gmail.com,2.0.0 (success),10.0.0.1\n"
	    "type,dlvSourceIp,timeLogged,rcpt\n"
	    "b,10.0.0.9,2019-02-08 21:53:41+0000,b@yahoo.com,5.1.1 (x)\n",
	    0, ARRIVAL), 2);
	assert_accepted(&out[0]);
	assert_int_equal(out[0].tl, T_D);
	assert_owned(out[0].domain, "gmail.com");
	assert_owned(out[0].dsn_status, "2.0.0");
	assert_owned(out[0].src, "10.0.0.1");
	assert_accepted(&out[1]);
	assert_int_equal(out[1].type, REC_B);
	assert_int_equal(out[1].tl, T_B);
	assert_owned(out[1].domain, "yahoo.com");
	assert_owned(out[1].src, "10.0.0.9");
	/* The new header has no dsnStatus: the old mapping is gone and the
	 * fifth cell is an extra one. */
	assert_owned(out[1].dsn_status, "");
	assert_int_equal(out[1].line, 4);
}

static void
test_short_row_padded(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE(HDR_TYPICAL
	    "d,2019-02-08 21:54:05+0000\r\n"
	    "b,2019-02-08 21:53:41+0000,2019-02-08 21:53:41+0000,o@x.example,"
	    "r@short.example\r\n", 0, ARRIVAL), 2);
	assert_accepted(&out[0]);
	assert_int_equal(out[0].type, REC_D);
	assert_int_equal(out[0].tl, T_D);
	assert_int_equal(out[0].tq, 0);
	assert_owned(out[0].domain, "");
	assert_owned(out[0].dsn_status, "");
	assert_owned(out[0].src, "");
	assert_owned(out[0].dst, "");
	assert_owned(out[0].vmta, "");
	assert_owned(out[0].pool, "");
	assert_owned(out[0].queue, "");
	assert_int_equal(out[0].size, 0);
	assert_accepted(&out[1]);
	assert_int_equal(out[1].tl, T_B);
	assert_owned(out[1].domain, "short.example");
	assert_owned(out[1].dsn_mta, "");
}

static void
test_extra_cells_ignored(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE("type,timeLogged,rcpt\n"
	    "d,2019-02-08 21:54:05+0000,a@gmail.com,x,y,z,,\n", 0, ARRIVAL), 1);
	assert_accepted(&out[0]);
	assert_int_equal(out[0].tl, T_D);
	assert_owned(out[0].domain, "gmail.com");
}

static void
test_unknown_type_rejected(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE("type,timeLogged,rcpt\n"
	    "delivered,2019-02-08 21:54:05+0000,a@gmail.com\n"
	    ",2019-02-08 21:54:05+0000,a@gmail.com\n"
	    "d,2019-02-08 21:54:05+0000,a@gmail.com\n", 0, ARRIVAL), 3);
	assert_int_equal(out[0].rc, -1);
	assert_non_null(strstr(out[0].err, "type"));
	assert_non_null(strstr(out[0].err, "delivered"));
	assert_int_equal(out[1].rc, -1);
	assert_non_null(strstr(out[1].err, "type"));
	/* A rejection does not disturb the next row. */
	assert_accepted(&out[2]);
	assert_int_equal(out[2].tl, T_D);
}

static void
test_every_type_name(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE("type,timeLogged\n"
	    "d,1\nb,2\nt,3\ntq,4\nr,5\nf,6\nrb,7\nrs,8\n", 0, ARRIVAL), 8);
	assert_int_equal(out[0].type, REC_D);
	assert_int_equal(out[1].type, REC_B);
	assert_int_equal(out[2].type, REC_T);
	assert_int_equal(out[3].type, REC_TQ);
	assert_int_equal(out[4].type, REC_R);
	assert_int_equal(out[5].type, REC_F);
	assert_int_equal(out[6].type, REC_RB);
	assert_int_equal(out[7].type, REC_RS);
	assert_int_equal(out[7].tl, 8);
	/* The wire enum fixes these numbers. */
	assert_int_equal(REC_D, 1);
	assert_int_equal(REC_RS, 8);
	assert_string_equal(rec_type_name(REC_TQ), "tq");
	assert_string_equal(rec_type_name(REC_RB), "rb");
}

static void
test_bad_time_logged_rejected(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE("type,timeLogged,timeQueued,rcpt\n"
	    "d,2019-02-30 10:00:00+0000,2019-02-08 21:54:05+0000,a@b.example\n"
	    "d,yesterday,,a@b.example\n"
	    "d,2019-02-08 21:54:05,,a@b.example\n", 0, ARRIVAL), 3);
	assert_int_equal(out[0].rc, -1);
	assert_non_null(strstr(out[0].err, "timeLogged"));
	assert_non_null(strstr(out[0].err, "2019-02-30"));
	assert_int_equal(out[1].rc, -1);
	assert_non_null(strstr(out[1].err, "yesterday"));
	assert_int_equal(out[2].rc, -1);
}

static void
test_time_fallbacks(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE("type,timeLogged,timeQueued,rcpt\n"
	    "d,,2016-05-29 01:10:51+0200,a@b.example\n"
	    "d,,,a@b.example\n"
	    "d,1178807903,,a@b.example\n"
	    "type,rcpt\n"
	    "d,a@b.example\n", 0, ARRIVAL), 4);
	assert_accepted(&out[0]);
	assert_int_equal(out[0].tl, T_CB1);
	assert_int_equal(out[0].tq, T_CB1);
	assert_accepted(&out[1]);
	assert_int_equal(out[1].tl, ARRIVAL);
	assert_int_equal(out[1].tq, 0);
	assert_accepted(&out[2]);
	assert_int_equal(out[2].tl, INT64_C(1178807903));
	assert_accepted(&out[3]);
	assert_int_equal(out[3].tl, ARRIVAL);
}

static void
test_domain_normalized(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE("type,timeLogged,rcpt\n"
	    "d,1,User@Example.COM.\n"
	    "d,1,user@gmail.com\n"
	    "d,1,x@b\xc3\xbc" "cher.de\n"
	    "d,1,x@XN--BCHER-KVA.DE.\n"
	    "d,1,x@xn--bcher-kva.de\n"
	    "d,1,\"\"\"a@b\"\"@Mail.Example.ORG\"\n"
	    "d,1, spaced@Example.net \n", 0, ARRIVAL), 7);
	assert_owned(out[0].domain, "example.com");
	assert_owned(out[1].domain, "gmail.com");
	/* One domain whichever form was written: the Unicode one. */
	assert_owned(out[2].domain, "b\xc3\xbc" "cher.de");
	assert_owned(out[3].domain, "b\xc3\xbc" "cher.de");
	assert_owned(out[4].domain, "b\xc3\xbc" "cher.de");
	/* The domain follows the last @. */
	assert_owned(out[5].domain, "mail.example.org");
	assert_owned(out[6].domain, "example.net");
}

/* dsnMta keeps the host, the text before " (".  It is lower-cased because
 * the ISP's MX suffixes are matched on lower-case names. */
static void
test_dsn_mta_host(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE("type,timeLogged,dsnMta\n"
	    "d,1,MX1.Google.COM (142.250.1.26)\n"
	    "d,1,gmail-smtp-in.l.google.com\n"
	    "d,1,mx.example.net   (192.0.2.1)\n", 0, ARRIVAL), 3);
	assert_owned(out[0].dsn_mta, "mx1.google.com");
	assert_owned(out[1].dsn_mta, "gmail-smtp-in.l.google.com");
	assert_owned(out[2].dsn_mta, "mx.example.net");
}

static void
test_diag_made_valid_utf8(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE("type,timeLogged,dsnDiag,rcpt\n"
	    "d,1,smtp;550 bad\xff\xfe end,a@x\xfc.example\n"
	    "d,1,\"smtp;550 a\0b\",a@b.example\n"
	    "d,1,\"smtp;550 5.1.1 \"\"user\"\" unknown, sorry\",a@b.example\n"
	    "d,1,smtp;250 ok \xc3\xa9t\xc3\xa9,a@b.example\n"
	    "d,1,smtp;250 \xed\xa0\x80 \xc0\xaf,a@b.example\n", 0, ARRIVAL),
	    5);
	/* Each invalid byte becomes U+FFFD (EF BF BD); NULs are dropped;
	 * valid UTF-8 passes unchanged.  normalize_text() has already
	 * checked every field with an independent validator. */
	assert_owned_lit(out[0].dsn_diag,
	    "smtp;550 bad\xef\xbf\xbd\xef\xbf\xbd end");
	assert_owned_lit(out[0].domain, "x\xef\xbf\xbd.example");
	assert_owned_lit(out[1].dsn_diag, "smtp;550 ab");
	assert_owned(out[2].dsn_diag, "smtp;550 5.1.1 \"user\" unknown, sorry");
	assert_owned(out[3].dsn_diag, "smtp;250 ok \xc3\xa9t\xc3\xa9");
	/* A surrogate and an overlong form are not valid UTF-8. */
	assert_true(test_utf8_valid(out[4].dsn_diag.b, out[4].dsn_diag.n));
	assert_null(strstr(out[4].dsn_diag.b, "\xed\xa0\x80"));
	assert_null(strstr(out[4].dsn_diag.b, "\xc0\xaf"));
}

/* dsnDiag is cut to MTA_MAX_DIAG (1024) bytes, never inside a character. */
static void
test_diag_truncated_on_character(void **state)
{
	char text[2200], *p;
	size_t i;

	(void)state;
	p = text + sprintf(text, "type,timeLogged,dsnDiag\nd,1,");
	for (i = 0; i < 1023; i++)
		*p++ = 'a';
	memcpy(p, "\xc3\xa9" "bbbb\n", 7);	/* é straddles byte 1024 */
	p += 7;
	assert_int_equal(normalize_text(text, (size_t)(p - text), 0, ARRIVAL),
	    1);
	assert_accepted(&out[0]);
	assert_int_equal(out[0].dsn_diag.n, 1023);
	assert_int_equal(out[0].dsn_diag.b[1022], 'a');
}

static void
test_data_before_header_rejected(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE("d,2019-02-08 21:54:05+0000,a@b.example\n"
	    "type,timeLogged,rcpt\n"
	    "d,2019-02-08 21:54:05+0000,a@b.example\n", 0, ARRIVAL), 2);
	assert_int_equal(out[0].rc, -1);
	assert_non_null(strstr(out[0].err, "header"));
	assert_accepted(&out[1]);
	assert_int_equal(out[1].tl, T_D);
	assert_owned(out[1].domain, "b.example");
}

static void
test_header_with_bom(void **state)
{
	(void)state;
	assert_int_equal(NORMALIZE("\xef\xbb\xbftype,timeLogged,rcpt\r\n"
	    "d,2019-02-08 21:54:05+0000,a@gmail.com\r\n", 0, ARRIVAL), 1);
	assert_accepted(&out[0]);
	assert_int_equal(out[0].type, REC_D);
	assert_int_equal(out[0].tl, T_D);
	assert_owned(out[0].domain, "gmail.com");
}

static void
test_header_and_blank_detection(void **state)
{
	struct csv_cell cells[3] = {
		{ "type", 4 }, { "", 0 }, { "typed", 5 }
	};
	struct csv_row row;

	(void)state;
	memset(&row, 0, sizeof(row));
	row.cells = cells;
	row.line = 1;
	row.ncells = 2;
	assert_true(record_is_header(&row));
	assert_false(record_is_blank(&row));
	row.cells = cells + 2;
	row.ncells = 1;
	assert_false(record_is_header(&row));
	row.cells = cells + 1;
	assert_true(record_is_blank(&row));
	assert_false(record_is_header(&row));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_d),
		cmocka_unit_test(test_sample_b),
		cmocka_unit_test(test_sample_t),
		cmocka_unit_test(test_sample_tq),
		cmocka_unit_test(test_sample_custom_bounce),
		cmocka_unit_test(test_samples_in_one_stream),
		cmocka_unit_test(test_keep_rcpt),
		cmocka_unit_test(test_local_part_dropped),
		cmocka_unit_test(test_column_order_is_irrelevant),
		cmocka_unit_test(test_logged_and_queued_distinct),
		cmocka_unit_test(test_unknown_columns_ignored),
		cmocka_unit_test(test_mid_stream_header_remaps),
		cmocka_unit_test(test_short_row_padded),
		cmocka_unit_test(test_extra_cells_ignored),
		cmocka_unit_test(test_unknown_type_rejected),
		cmocka_unit_test(test_every_type_name),
		cmocka_unit_test(test_bad_time_logged_rejected),
		cmocka_unit_test(test_time_fallbacks),
		cmocka_unit_test(test_domain_normalized),
		cmocka_unit_test(test_dsn_mta_host),
		cmocka_unit_test(test_diag_made_valid_utf8),
		cmocka_unit_test(test_diag_truncated_on_character),
		cmocka_unit_test(test_data_before_header_rejected),
		cmocka_unit_test(test_header_with_bom),
		cmocka_unit_test(test_header_and_blank_detection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
