/*
 * record_rules_test.c: the normalizer's rules (design.md, and what
 * powermta-accounting.md says of columns, times and domains).
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

#include "record_harness.h"

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
