/*
 * utf8_test.c: making untrusted bytes safe wire strings.
 *
 * protobuf strings must be valid UTF-8 and PowerMTA copies remote replies
 * verbatim, so sanitize must turn anything into valid UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), drop NULs, mark
 * each invalid byte with U+FFFD, and never cut a character in two.  The
 * validator used to judge the output is the test's own (testutil.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "utf8.h"

#define FFFD	"\xef\xbf\xbd"

static void
sanitized(const char *in, size_t inlen, size_t max, const char *want,
    size_t wantlen)
{
	char dst[256];

	assert_true(max <= sizeof(dst));
	memset(dst, '#', sizeof(dst));
	test_bytes_eq(dst, utf8_sanitize(dst, max, in, inlen), want, wantlen,
	    __FILE__, __LINE__);
}

#define SAN(in, max, want) \
	sanitized((in), LIT_LEN(in), (max), (want), LIT_LEN(want))

static void
test_is_plain(void **state)
{
	static const char long_plain[] =
	    "smtp;250 2.0.0 OK 1549662845 a1si1234567qkb.123 - gsmtp";
	char buf[64];
	size_t i;

	(void)state;
	assert_true(utf8_is_plain("", 0));
	assert_true(utf8_is_plain("abc", 3));
	assert_true(utf8_is_plain("\x7f\x01 ~", 4));
	assert_true(utf8_is_plain(long_plain, LIT_LEN(long_plain)));
	assert_false(utf8_is_plain("a\0b", 3));
	assert_false(utf8_is_plain("b\xc3\xbc" "cher.de", 10));
	assert_false(utf8_is_plain("\x80", 1));
	/* Only the given length counts. */
	assert_true(utf8_is_plain("abc\xff", 3));
	/* One bad byte anywhere in a long run, at every position. */
	for (i = 0; i < 40; i++) {
		memset(buf, 'a', sizeof(buf));
		buf[i] = (char)0xe9;
		assert_false(utf8_is_plain(buf, 40));
		buf[i] = '\0';
		assert_false(utf8_is_plain(buf, 40));
		assert_true(utf8_is_plain(buf + i + 1, 40 - i - 1));
	}
}

static void
test_valid_passes(void **state)
{
	(void)state;
	SAN("", 64, "");
	SAN("plain ascii", 64, "plain ascii");
	/* 2-, 3- and 4-byte characters: e-acute, euro sign, U+1F600. */
	SAN("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 64,
	    "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z");
	/* The boundaries: U+0080, U+07FF, U+0800, U+FFFF, U+10000,
	 * U+10FFFF, and U+E000 just past the surrogates. */
	SAN("\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80"
	    "\xf4\x8f\xbf\xbf\xee\x80\x80", 64,
	    "\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80"
	    "\xf4\x8f\xbf\xbf\xee\x80\x80");
}

static void
test_nul_dropped(void **state)
{
	(void)state;
	SAN("a\0b\0\0c", 64, "abc");
	SAN("\0", 64, "");
}

static void
test_invalid_bytes_replaced(void **state)
{
	(void)state;
	SAN("\xff", 64, FFFD);
	SAN("a\xfe" "b", 64, "a" FFFD "b");
	/* A lone continuation byte. */
	SAN("\x80x", 64, FFFD "x");
	/* Overlong forms: C0/C1 never start a character, E0 80..9F and
	 * F0 80..8F are overlong. */
	SAN("\xc0\xaf", 64, FFFD FFFD);
	SAN("\xc1\xbf", 64, FFFD FFFD);
	SAN("\xe0\x80\xaf", 64, FFFD FFFD FFFD);
	SAN("\xf0\x80\x80\xaf", 64, FFFD FFFD FFFD FFFD);
	/* Surrogates U+D800 and U+DFFF. */
	SAN("\xed\xa0\x80", 64, FFFD FFFD FFFD);
	SAN("\xed\xbf\xbf", 64, FFFD FFFD FFFD);
	/* Above U+10FFFF, and F5..FF lead bytes. */
	SAN("\xf4\x90\x80\x80", 64, FFFD FFFD FFFD FFFD);
	SAN("\xf5\x80\x80\x80", 64, FFFD FFFD FFFD FFFD);
	/* Latin-1 text, as a misconfigured remote server sends it. */
	SAN("M\xfcller", 64, "M" FFFD "ller");
}

/* A sequence cut short is invalid, and the bytes after it survive. */
static void
test_truncated_sequences(void **state)
{
	static const char *const cases[] = {
		"\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xe2", "\xf0\x9f"
	};
	char dst[64], in[16];
	size_t i, n, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = strlen(cases[i]);
		memcpy(in, cases[i], len);
		memcpy(in + len, "ok", 2);
		n = utf8_sanitize(dst, sizeof(dst), in, len + 2);
		assert_true(test_utf8_valid(dst, n));
		assert_true(n >= 5);
		assert_memory_equal(dst, FFFD, 3);
		assert_memory_equal(dst + n - 2, "ok", 2);
		/* And at the very end of the input. */
		n = utf8_sanitize(dst, sizeof(dst), in, len);
		assert_true(test_utf8_valid(dst, n));
		assert_true(n >= 3);
		assert_memory_equal(dst, FFFD, 3);
	}
}

static void
test_max_never_splits(void **state)
{
	(void)state;
	/* Three euro signs, 9 bytes. */
	SAN("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 9,
	    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac");
	SAN("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 8, "\xe2\x82\xac\xe2\x82\xac");
	SAN("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 6, "\xe2\x82\xac\xe2\x82\xac");
	SAN("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 2, "");
	SAN("abcdef", 4, "abcd");
	SAN("abcdef", 0, "");
	/* A replacement character is three bytes and is not split either. */
	SAN("ab\xff", 4, "ab");
	SAN("ab\xff", 5, "ab" FFFD);
	SAN("a\xf0\x9f\x98\x80", 4, "a");
}

/*
 * Whatever the bytes and the bound, the output is valid UTF-8 without NUL
 * and within the bound.  A fixed-seed generator keeps runs repeatable;
 * the bytes favour the interesting ranges (lead and continuation bytes).
 */
static void
test_output_always_valid(void **state)
{
	static const unsigned char pool[] = {
		'a', 0, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
		0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff
	};
	uint64_t x = 0x2545f4914f6cdd1dull;
	char in[64], dst[200];
	size_t it, i, n, max, len;

	(void)state;
	for (it = 0; it < 200000; it++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = x % 24;
		max = (x >> 8) % 80;
		for (i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			in[i] = (char)pool[x % sizeof(pool)];
		}
		memset(dst, '#', sizeof(dst));
		n = utf8_sanitize(dst, max, in, len);
		assert_true(n <= max);
		if (!test_utf8_valid(dst, n)) {
			char shown[256];

			test_show(shown, sizeof(shown), in, len);
			print_error("input \"%s\", max %zu\n", shown, max);
			fail();
		}
		/* Nothing is written past the bound. */
		assert_int_equal(dst[max], '#');
		/* Valid input within the bound comes out unchanged. */
		if (test_utf8_valid(in, len) && len <= max) {
			assert_int_equal(n, len);
			assert_memory_equal(dst, in, len);
		}
	}
}

static void
test_valid(void **state)
{
	(void)state;
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("abc", 3));
	assert_true(utf8_valid("b\xc3\xbc" "cher.de", 10));
	assert_true(utf8_valid("\xf4\x8f\xbf\xbf", 4));
	assert_false(utf8_valid("a\0b", 3));
	assert_false(utf8_valid("\xff", 1));
	assert_false(utf8_valid("\xc0\xaf", 2));
	assert_false(utf8_valid("\xed\xa0\x80", 3));
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4));
	assert_false(utf8_valid("\xe2\x82", 2));
	/* Only the given length counts. */
	assert_true(utf8_valid("\xe2\x82\xac", 3));
	assert_false(utf8_valid("\xe2\x82\xac", 2));
}

static void
test_truncate(void **state)
{
	/* "a", e-acute (2 bytes), euro (3 bytes), U+1F600 (4 bytes). */
	static const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";

	(void)state;
	assert_int_equal(utf8_truncate(s, 10, 20), 10);
	assert_int_equal(utf8_truncate(s, 10, 10), 10);
	assert_int_equal(utf8_truncate(s, 10, 9), 6);
	assert_int_equal(utf8_truncate(s, 10, 7), 6);
	assert_int_equal(utf8_truncate(s, 10, 6), 6);
	assert_int_equal(utf8_truncate(s, 10, 5), 3);
	assert_int_equal(utf8_truncate(s, 10, 4), 3);
	assert_int_equal(utf8_truncate(s, 10, 3), 3);
	assert_int_equal(utf8_truncate(s, 10, 2), 1);
	assert_int_equal(utf8_truncate(s, 10, 1), 1);
	assert_int_equal(utf8_truncate(s, 10, 0), 0);
	assert_int_equal(utf8_truncate("abc", 3, 2), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_plain),
		cmocka_unit_test(test_valid_passes),
		cmocka_unit_test(test_nul_dropped),
		cmocka_unit_test(test_invalid_bytes_replaced),
		cmocka_unit_test(test_truncated_sequences),
		cmocka_unit_test(test_max_never_splits),
		cmocka_unit_test(test_output_always_valid),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_truncate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
