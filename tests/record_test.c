/*
 * record_test.c: cells -> normalized records, checked against the verbatim
 * samples of powermta-accounting.md (the rules are in record_rules_test.c).
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
