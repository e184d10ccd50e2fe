/*
 * outbuf_test.c: the buffered text writer behind the JSON dump and the
 * CLI's CSV, written to a temporary file and read back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "outbuf.h"
#include "testutil.h"

struct tmpout {
	int		 fd;
	struct outbuf	*o;
};

static struct tmpout
tmp_open(void)
{
	char path[] = "/tmp/outbuf_test.XXXXXX";
	struct tmpout t;

	assert_true((t.fd = mkstemp(path)) >= 0);
	unlink(path);
	assert_non_null(t.o = malloc(sizeof(*t.o)));
	outbuf_init(t.o, t.fd);
	return t;
}

/* Flush, then read the whole file back (NUL-terminated, length in *n). */
static char *
tmp_contents(struct tmpout *t, size_t *n)
{
	off_t size;
	char *buf;

	assert_int_equal(outbuf_flush(t->o), 0);
	assert_true((size = lseek(t->fd, 0, SEEK_END)) >= 0);
	assert_non_null(buf = malloc((size_t)size + 1));
	assert_int_equal(pread(t->fd, buf, (size_t)size, 0), size);
	buf[size] = '\0';
	*n = (size_t)size;
	return buf;
}

static void
tmp_close(struct tmpout *t)
{
	close(t->fd);
	free(t->o);
}

static void
test_numbers(void **state)
{
	struct tmpout t = tmp_open();
	char *got;
	size_t n;

	(void)state;
	outbuf_u64(t.o, 0);
	outbuf_char(t.o, ' ');
	outbuf_u64(t.o, 41159);
	outbuf_char(t.o, ' ');
	outbuf_u64(t.o, UINT64_MAX);
	outbuf_char(t.o, ' ');
	outbuf_i64(t.o, -1);
	outbuf_char(t.o, ' ');
	outbuf_i64(t.o, INT64_MIN);
	outbuf_char(t.o, ' ');
	outbuf_i64(t.o, INT64_MAX);
	outbuf_char(t.o, ' ');
	outbuf_i64(t.o, 0);
	got = tmp_contents(&t, &n);
	assert_string_equal(got, "0 41159 18446744073709551615 -1 "
	    "-9223372036854775808 9223372036854775807 0");
	free(got);
	tmp_close(&t);
}

static void
test_json_str(void **state)
{
	static const char in[] = "a\"b\\c\n\r\t\x01\x1f\x7f \xc3\xa9/";
	struct tmpout t = tmp_open();
	char *got;
	size_t n;

	(void)state;
	outbuf_json_str(t.o, in, LIT_LEN(in));
	outbuf_char(t.o, ' ');
	outbuf_json_str(t.o, "", 0);
	outbuf_char(t.o, ' ');
	/* Only the given length is written. */
	outbuf_json_str(t.o, "abc\"", 3);
	got = tmp_contents(&t, &n);
	/* Quote, backslash and control characters escaped; DEL, UTF-8 and
	 * the slash pass as they are (all legal in a JSON string). */
	assert_string_equal(got, "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f\x7f "
	    "\xc3\xa9/\" \"\" \"abc\"");
	free(got);
	tmp_close(&t);
}

/* More than the 64 KiB buffer, in pieces of every size, comes out whole
 * and in order. */
static void
test_large_output(void **state)
{
	enum { TOTAL = 300000 };
	struct tmpout t = tmp_open();
	char *want, *got;
	size_t n, off = 0, k = 1;

	(void)state;
	assert_non_null(want = malloc(TOTAL));
	for (n = 0; n < TOTAL; n++)
		want[n] = (char)('A' + (n * 31 + n / 977) % 26);
	while (off < TOTAL) {
		if (k % 3 == 0) {
			outbuf_char(t.o, want[off]);
			off++;
		} else {
			n = (k * 7919) % 70000;
			if (n > TOTAL - off)
				n = TOTAL - off;
			outbuf_mem(t.o, want + off, n);
			off += n;
		}
		k++;
	}
	got = tmp_contents(&t, &n);
	assert_int_equal(n, TOTAL);
	assert_memory_equal(got, want, TOTAL);
	free(got);
	free(want);
	tmp_close(&t);
}

/* A failed write is remembered and reported at flush, every time. */
static void
test_write_failure(void **state)
{
	struct outbuf *o;
	int fd;
	size_t i;

	(void)state;
	assert_true((fd = open("/dev/null", O_RDONLY)) >= 0);
	assert_non_null(o = malloc(sizeof(*o)));
	outbuf_init(o, fd);
	assert_int_equal(outbuf_flush(o), 0);	/* nothing written yet */
	outbuf_str(o, "lost");
	assert_int_equal(outbuf_flush(o), -1);
	for (i = 0; i < 100000; i++)
		outbuf_char(o, 'x');
	assert_int_equal(outbuf_flush(o), -1);
	close(fd);
	free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_json_str),
		cmocka_unit_test(test_large_output),
		cmocka_unit_test(test_write_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
