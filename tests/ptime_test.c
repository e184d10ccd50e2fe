/*
 * ptime_test.c: PowerMTA timestamps to UTC seconds and back.
 *
 * Expected epochs are worked out by hand: days since 1970-01-01 (365 per
 * year plus one per leap year passed, plus the days of the months passed),
 * times 86400, plus the time of day, minus the UTC offset.  For example
 * 2019-02-08: 49 years with 12 leap days = 17897 days, plus 31 + 7 = 17935
 * days = 1549584000 s; 21:54:05 adds 78845 s: 1549662845.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ptime.h"
#include "testutil.h"

/* 1549584000 is 2019-02-08 00:00:00 UTC; 21:54:05 is 78845 s later. */
#define T_20190208_215405	INT64_C(1549662845)

static int64_t
parse_ok(const char *s)
{
	int64_t t = -12345;

	if (ptime_parse(s, strlen(s), &t) != 0) {
		print_error("\"%s\" was refused\n", s);
		fail();
	}
	return t;
}

static void
refused(const char *s)
{
	int64_t t = -12345;

	if (ptime_parse(s, strlen(s), &t) != -1) {
		print_error("\"%s\" was accepted as %lld\n", s, (long long)t);
		fail();
	}
}

static void
test_offsets(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2019-02-08 21:54:05+0000"),
	    T_20190208_215405);
	/* Local time minus the offset: -0700 is 7 h (25200 s) later in UTC. */
	assert_int_equal(parse_ok("2019-02-08 21:54:05-0700"),
	    INT64_C(1549688045));
	/* +0530: 19800 s earlier. */
	assert_int_equal(parse_ok("2019-02-08 21:54:05+0530"),
	    INT64_C(1549643045));
	/* +1400 (Kiribati): 50400 s earlier. */
	assert_int_equal(parse_ok("2019-02-08 21:54:05+1400"),
	    INT64_C(1549612445));
	/* -0330 (Newfoundland): 12600 s later. */
	assert_int_equal(parse_ok("2019-02-08 21:54:05-0330"),
	    INT64_C(1549675445));
	/* The "+hh:mm" form. */
	assert_int_equal(parse_ok("2019-02-08 21:54:05+05:30"),
	    INT64_C(1549643045));
	assert_int_equal(parse_ok("2019-02-08 21:54:05-07:00"),
	    INT64_C(1549688045));
	assert_int_equal(parse_ok("2019-02-08 21:54:05+00:00"),
	    T_20190208_215405);
}

/* The custom bounce sample: 2016-05-29 01:10:51+0200 is 2016-05-28
 * 23:10:51 UTC; 16949 days (46 years, 11 leap days, 148 days into 2016)
 * = 1464393600 s, plus 83451 s. */
static void
test_accounting_samples(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2016-05-29 01:10:51+0200"),
	    INT64_C(1464477051));
	assert_int_equal(parse_ok("2016-05-29 01:10:23+0200"),
	    INT64_C(1464477023));
	assert_int_equal(parse_ok("2019-02-08 21:53:41+0000"),
	    INT64_C(1549662821));
	assert_int_equal(parse_ok("2019-02-08 21:53:54+0000"),
	    INT64_C(1549662834));
	assert_int_equal(parse_ok("2019-02-08 21:53:39+0000"),
	    INT64_C(1549662819));
}

/* A negative offset can move the UTC date into the next day, month and
 * year. */
static void
test_offset_crosses_year(void **state)
{
	(void)state;
	/* 2019-12-31 23:30:00-0100 is 2020-01-01 00:30:00 UTC; 2020-01-01
	 * is day 18262 (50 years, 12 leap days) = 1577836800 s. */
	assert_int_equal(parse_ok("2019-12-31 23:30:00-0100"),
	    INT64_C(1577838600));
	/* And back: 2020-01-01 00:30:00+0100 is 2019-12-31 23:30:00 UTC. */
	assert_int_equal(parse_ok("2020-01-01 00:30:00+0100"),
	    INT64_C(1577835000));
}

static void
test_unix_seconds(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1178807903"), INT64_C(1178807903));
	assert_int_equal(parse_ok("1549662845"), T_20190208_215405);
	assert_int_equal(parse_ok("0"), 0);
	assert_int_equal(parse_ok("86400"), 86400);
}

static void
test_only_the_given_length_is_read(void **state)
{
	static const char s[] = "2019-02-08 21:54:05+0000,d,more";
	int64_t t = 0;

	(void)state;
	assert_int_equal(ptime_parse(s, 24, &t), 0);
	assert_int_equal(t, T_20190208_215405);
	assert_int_equal(ptime_parse("1178807903,x", 10, &t), 0);
	assert_int_equal(t, INT64_C(1178807903));
}

static void
test_rejects(void **state)
{
	(void)state;
	refused("2019-02-30 10:00:00+0000");	/* Feb 30 */
	refused("2019-02-29 10:00:00+0000");	/* 2019 is not a leap year */
	refused("2019-04-31 10:00:00+0000");	/* April has 30 days */
	refused("2019-13-01 10:00:00+0000");	/* month 13 */
	refused("2019-00-01 10:00:00+0000");	/* month 0 */
	refused("2019-01-00 10:00:00+0000");	/* day 0 */
	refused("2019-01-32 10:00:00+0000");	/* day 32 */
	refused("2019-02-08 24:00:00+0000");	/* hour 24 */
	refused("2019-02-08 21:60:05+0000");	/* minute 60 */
	refused("2019-02-08 21:54:05+0060");	/* offset minute 60 */
	refused("2019-02-08 21:54:05");		/* missing offset */
	refused("2019-02-08 21:54:05 +0000");	/* space before offset */
	refused("2019-02-08 21:54:05+000");	/* short offset */
	refused("2019-02-08 21:54:05*0000");	/* not a sign */
	refused("2019-02-08 21:54:05+05-30");	/* bad offset separator */
	refused("2019/02/08 21:54:05+0000");	/* wrong separators */
	refused("2019-2-8 21:54:05+0000");	/* unpadded fields */
	refused("2019-02-08 2a:54:05+0000");	/* a letter in a field */
	refused("yesterday");
	refused("not a time at all, no");
	refused("");
	refused("-1");
	refused("12ab");
	refused("1969-12-31 23:59:59+0000");	/* before 1970 */
}

static void
test_leap_years(void **state)
{
	(void)state;
	/* 2024-02-29: 54 years with 13 leap days = 19723, + 59 = 19782 days. */
	assert_int_equal(parse_ok("2024-02-29 00:00:00+0000"),
	    INT64_C(1709164800));
	refused("2023-02-29 00:00:00+0000");
	/* 2000 is divisible by 400, so a leap year: 10957 + 59 days. */
	assert_int_equal(parse_ok("2000-02-29 00:00:00+0000"),
	    INT64_C(951782400));
	/* 2100 is divisible by 100 but not by 400: no Feb 29. */
	refused("2100-02-29 00:00:00+0000");
	/* 2100-03-01: 47482 days to 2100-01-01, + 59. */
	assert_int_equal(parse_ok("2100-03-01 00:00:00+0000"),
	    INT64_C(4107542400));
	/* The day after Feb 29 follows it by 86400 s. */
	assert_int_equal(parse_ok("2024-03-01 00:00:00+0000"),
	    INT64_C(1709251200));
}

static void
test_days_from_civil(void **state)
{
	(void)state;
	assert_int_equal(ptime_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(ptime_days_from_civil(1970, 1, 2), 1);
	assert_int_equal(ptime_days_from_civil(1971, 1, 1), 365);
	assert_int_equal(ptime_days_from_civil(2000, 1, 1), 10957);
	assert_int_equal(ptime_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(ptime_days_from_civil(2019, 2, 8), 17935);
	assert_int_equal(ptime_days_from_civil(2024, 2, 29), 19782);
	assert_int_equal(ptime_days_from_civil(1969, 12, 31), -1);
}

static void
check_iso(int64_t t, const char *want)
{
	char buf[32];

	memset(buf, 'X', sizeof(buf));
	ptime_format_iso(t, buf);
	assert_string_equal(buf, want);
}

static void
test_format_iso(void **state)
{
	(void)state;
	check_iso(0, "1970-01-01T00:00:00Z");
	check_iso(T_20190208_215405, "2019-02-08T21:54:05Z");
	check_iso(86399, "1970-01-01T23:59:59Z");
	check_iso(INT64_C(1464477051), "2016-05-28T23:10:51Z");
	check_iso(INT64_C(1709164800), "2024-02-29T00:00:00Z");
	check_iso(INT64_C(951782400), "2000-02-29T00:00:00Z");
	check_iso(INT64_C(4107542400), "2100-03-01T00:00:00Z");
	check_iso(INT64_C(1577836799), "2019-12-31T23:59:59Z");
	check_iso(-1, "1969-12-31T23:59:59Z");
	/* The hour label of design.md: floor(t / 3600) * 3600. */
	check_iso(INT64_C(1549659600), "2019-02-08T21:00:00Z");
}

static void
test_round_trip(void **state)
{
	static const struct {
		const char	*in;
		const char	*iso;
	} cases[] = {
		{ "2019-02-08 21:54:05+0000", "2019-02-08T21:54:05Z" },
		{ "2019-02-08 14:54:05-0700", "2019-02-08T21:54:05Z" },
		{ "2019-02-09 03:24:05+0530", "2019-02-08T21:54:05Z" },
		{ "2024-02-29 23:59:59+0000", "2024-02-29T23:59:59Z" },
		{ "2024-03-01 13:59:59+1400", "2024-02-29T23:59:59Z" },
		{ "1970-01-01 00:00:00+0000", "1970-01-01T00:00:00Z" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ptime_format_iso(parse_ok(cases[i].in), buf);
		assert_string_equal(buf, cases[i].iso);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_accounting_samples),
		cmocka_unit_test(test_offset_crosses_year),
		cmocka_unit_test(test_unix_seconds),
		cmocka_unit_test(test_only_the_given_length_is_read),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_leap_years),
		cmocka_unit_test(test_days_from_civil),
		cmocka_unit_test(test_format_iso),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
