/*
 * punycode_test.c: A-label decoding against RFC 3492's own examples and
 * the IDNA forms mail logs carry; anything that is not valid Punycode is
 * refused so the caller keeps the label as written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "punycode.h"

static void
check_label(const char *in, const char *want)
{
	char out[256];
	int n = punycode_decode(in, strlen(in), out, sizeof(out));

	assert_int_equal(n, (int)strlen(want));
	assert_memory_equal(out, want, strlen(want));
}

static void
check_domain(const char *in, const char *want)
{
	char out[256];
	size_t n = punycode_domain(in, strlen(in), out, sizeof(out));

	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
}

static void
test_rfc3492_samples(void **state)
{
	(void)state;
	/* RFC 3492 7.1 (A) Arabic (Egyptian) and (L) Japanese. */
	check_label("egbpdaj6bu4bxfgehfvwxn",
	    "\xd9\x84\xd9\x8a\xd9\x87\xd9\x85\xd8\xa7\xd8\xa8\xd8\xaa\xd9\x83"
	    "\xd9\x84\xd9\x85\xd9\x88\xd8\xb4\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a"
	    "\xd8\x9f");
	check_label("3B-ww4c5e180e575a65lsy2b",
	    "3\xe5\xb9\xb4" "B\xe7\xb5\x84\xe9\x87\x91\xe5\x85\xab\xe5\x85\x88"
	    "\xe7\x94\x9f");
	/* (S) -> $1.00 <- : only ASCII after the delimiter... none, so it
	 * is no A-label for a domain. */
	assert_int_equal(punycode_decode("-> $1.00 <--", 12, (char[64]){0},
	    64), -1);
}

static void
test_mail_domains(void **state)
{
	(void)state;
	check_label("bcher-kva", "b\xc3\xbc" "cher");
	check_label("mnchen-3ya", "m\xc3\xbc" "nchen");
	check_label("caf-dma", "caf\xc3\xa9");
	check_label("ls8h", "\xf0\x9f\x92\xa9");
	check_domain("xn--bcher-kva.de", "b\xc3\xbc" "cher.de");
	check_domain("mx.xn--mnchen-3ya.de", "mx.m\xc3\xbc" "nchen.de");
	check_domain("xn--caf-dma.xn--espaa-rta.com",
	    "caf\xc3\xa9.espa\xc3\xb1" "a.com");
	check_domain("plain.example.com", "plain.example.com");
}

static void
test_invalid_kept_as_written(void **state)
{
	(void)state;
	check_domain("xn--.com", "xn--.com");
	check_domain("xn--zz-.de", "xn--zz-.de");	/* nothing encoded */
	check_domain("xn--99999999999999.de", "xn--99999999999999.de");
	check_domain("xn--a!b.de", "xn--a!b.de");
	check_domain("xn--\xc3\xbc-kva.de", "xn--\xc3\xbc-kva.de");
	/* A surrogate code point is not a scalar value. */
	check_domain("xn--ib9b.de", "xn--ib9b.de");
}

static void
test_output_bounded(void **state)
{
	char out[4];

	(void)state;
	assert_int_equal(punycode_decode("bcher-kva", 9, out, sizeof(out)), -1);
	assert_true(punycode_domain("xn--bcher-kva.de", 16, out,
	    sizeof(out)) <= sizeof(out));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3492_samples),
		cmocka_unit_test(test_mail_domains),
		cmocka_unit_test(test_invalid_kept_as_written),
		cmocka_unit_test(test_output_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
