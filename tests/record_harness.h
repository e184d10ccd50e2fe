/*
 * record_harness.h: the normalizer test harness shared by record_test.c
 * (the verbatim samples) and record_rules_test.c (the rules): CSV text is
 * run through the reader and the normalizer as pipeline.c runs it, and the
 * results are kept, every string checked for valid UTF-8.
 */
#ifndef MTASCOPE_RECORD_HARNESS_H
#define MTASCOPE_RECORD_HARNESS_H

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

static inline void
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
static inline size_t
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

static inline void
assert_accepted(const struct nrec *r)
{
	if (r->rc != 0) {
		print_error("line %llu rejected: %s\n",
		    (unsigned long long)r->line, r->err);
		fail();
	}
}

static inline void
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

static inline void
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

static inline void
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

static inline void
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
static inline void
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

static inline void
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

#endif
