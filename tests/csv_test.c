/*
 * csv_test.c: the RFC 4180 reader, byte by byte.
 *
 * PowerMTA writes to a pipe, so a row may arrive split at any byte, and
 * the reader may be told "no data yet" at any point.  Every case below is
 * therefore run with the input delivered 1, 2 and 7 bytes at a time and in
 * one piece, each both plainly and with EAGAIN before every read: the
 * result must not depend on where the reads fall.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"
#include "testutil.h"

struct want_cell {
	const char	*p;
	size_t		 n;
};

#define CELL(s)		{ (s), LIT_LEN(s) }
#define MAX_WANT_CELLS	8

/* One expected outcome of csv_next(): a row, or a rejected line. */
struct want {
	enum csv_result		r;
	uint64_t		line;
	size_t			ncells;
	struct want_cell	cells[MAX_WANT_CELLS];
};

#define ROW(line, n, ...)	{ CSV_ROW, (line), (n), { __VA_ARGS__ } }
#define BAD(line)		{ CSV_BAD, (line), 0, { { NULL, 0 } } }

static const size_t chunk_sizes[] = { 1, 2, 7, CHUNK_WHOLE };

/* The reader in use, freed by teardown when a failed check leaves early. */
static struct csv *live;

static int
teardown(void **state)
{
	(void)state;
	csv_free(live);
	live = NULL;
	return 0;
}

static const char *
result_name(enum csv_result r)
{
	switch (r) {
	case CSV_ROW:	return "ROW";
	case CSV_BAD:	return "BAD";
	case CSV_AGAIN:	return "AGAIN";
	case CSV_EOF:	return "EOF";
	case CSV_IOERR:	return "IOERR";
	}
	return "?";
}

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		print_error("chunk %zu, eagain %d, event %zu: ",	\
		    chunk == CHUNK_WHOLE ? (size_t)0 : chunk, again, i);	\
		print_error(__VA_ARGS__);				\
		print_error("\n");					\
		fail();							\
	}								\
} while (0)

/*
 * Parse in[0..len) with every chunking and EAGAIN pattern and check the
 * sequence of rows and rejections, then EOF.  Chunk 0 in a failure message
 * means the whole input in one read.
 */
static void
run_case(const char *in, size_t len, size_t max_record,
    const struct want *w, size_t nw)
{
	size_t ci, i, k;
	int again;

	for (ci = 0; ci < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); ci++) {
		for (again = 0; again <= 1; again++) {
			size_t chunk = chunk_sizes[ci];
			struct memsrc m;
			struct csv *c;
			struct csv_row row;
			enum csv_result r;
			unsigned agains_seen = 0;

			memsrc_init(&m, in, len, chunk, again);
			live = c = csv_new(max_record, memsrc_read, &m);
			assert_non_null(c);
			i = 0;
			for (;;) {
				r = csv_next(c, &row);
				if (r == CSV_AGAIN) {
					CHECK(again, "CSV_AGAIN without EAGAIN");
					agains_seen++;
					continue;
				}
				if (r == CSV_EOF)
					break;
				CHECK(i < nw, "unexpected %s (line %llu)",
				    result_name(r), r == CSV_ROW ?
				    (unsigned long long)row.line :
				    (unsigned long long)csv_error_line(c));
				CHECK(r == w[i].r, "got %s, want %s",
				    result_name(r), result_name(w[i].r));
				if (r == CSV_BAD) {
					CHECK(csv_error_line(c) == w[i].line,
					    "rejected line %llu, want %llu",
					    (unsigned long long)
					    csv_error_line(c),
					    (unsigned long long)w[i].line);
					CHECK(csv_error(c)[0] != '\0',
					    "rejection without a reason");
					i++;
					continue;
				}
				CHECK(row.line == w[i].line,
				    "row on line %llu, want %llu",
				    (unsigned long long)row.line,
				    (unsigned long long)w[i].line);
				CHECK(row.ncells == w[i].ncells,
				    "%zu cells, want %zu", row.ncells,
				    w[i].ncells);
				for (k = 0; k < row.ncells; k++) {
					char g[256], e[256];

					if (row.cells[k].n == w[i].cells[k].n &&
					    memcmp(row.cells[k].p,
					    w[i].cells[k].p,
					    w[i].cells[k].n) == 0)
						continue;
					test_show(g, sizeof(g),
					    row.cells[k].p, row.cells[k].n);
					test_show(e, sizeof(e),
					    w[i].cells[k].p, w[i].cells[k].n);
					CHECK(0, "cell %zu is \"%s\", want "
					    "\"%s\"", k, g, e);
				}
				i++;
			}
			CHECK(i == nw, "EOF after %zu events, want %zu", i, nw);
			/* Every EAGAIN surfaces to the caller. */
			CHECK(agains_seen == m.agains,
			    "%u CSV_AGAIN for %u EAGAIN", agains_seen,
			    m.agains);
			CHECK(csv_bytes(c) == len, "consumed %llu of %zu bytes",
			    (unsigned long long)csv_bytes(c), len);
			/* EOF is sticky. */
			CHECK(csv_next(c, &row) == CSV_EOF, "EOF not repeated");
			csv_free(c);
			live = NULL;
		}
	}
}

#define RUN(in, max, ...) do {						\
	static const struct want w_[] = { __VA_ARGS__ };		\
	run_case((in), LIT_LEN(in), (max), w_,				\
	    sizeof(w_) / sizeof(w_[0]));				\
} while (0)

static void
test_plain_rows(void **state)
{
	(void)state;
	RUN("a,b,c\nd,e,f\n", 1024,
	    ROW(1, 3, CELL("a"), CELL("b"), CELL("c")),
	    ROW(2, 3, CELL("d"), CELL("e"), CELL("f")));
}

static void
test_quoted_commas(void **state)
{
	(void)state;
	RUN("a,\"b,c\",d\n\"x,\",\",y\"\n", 1024,
	    ROW(1, 3, CELL("a"), CELL("b,c"), CELL("d")),
	    ROW(2, 2, CELL("x,"), CELL(",y")));
	/* The dlvEsmtpAvailable shape from the accounting samples. */
	RUN("smtp,10.1.2.3,\"ENHANCEDSTATUSCODES,8BITMIME,SMTPUTF8\",41159\n",
	    1024,
	    ROW(1, 4, CELL("smtp"), CELL("10.1.2.3"),
	    CELL("ENHANCEDSTATUSCODES,8BITMIME,SMTPUTF8"), CELL("41159")));
}

static void
test_doubled_quotes(void **state)
{
	(void)state;
	RUN("\"say \"\"hi\"\"\",x\n\"\"\"\",\"\",\"a\"\"\"\"b\"\n", 1024,
	    ROW(1, 2, CELL("say \"hi\""), CELL("x")),
	    ROW(2, 3, CELL("\""), CELL(""), CELL("a\"\"b")));
	RUN("\"smtp;550 5.1.1 \"\"user\"\" unknown, sorry\",end\r\n", 1024,
	    ROW(1, 2, CELL("smtp;550 5.1.1 \"user\" unknown, sorry"),
	    CELL("end")));
}

static void
test_quoted_line_breaks(void **state)
{
	(void)state;
	/* Line breaks inside quotes are cell bytes, and the physical line
	 * numbers of the rows after them still count those lines. */
	RUN("h1,\"line one\r\nline two\",z\r\n"	/* lines 1-2 */
	    "next,row\r\n"			/* line 3 */
	    "\"a\nb\nc\",q\n"			/* lines 4-6 */
	    "last,1\n"				/* line 7 */
	    "\"\n\",end\n"			/* lines 8-9 */
	    "tail\n",				/* line 10 */
	    1024,
	    ROW(1, 3, CELL("h1"), CELL("line one\r\nline two"), CELL("z")),
	    ROW(3, 2, CELL("next"), CELL("row")),
	    ROW(4, 2, CELL("a\nb\nc"), CELL("q")),
	    ROW(7, 2, CELL("last"), CELL("1")),
	    ROW(8, 2, CELL("\n"), CELL("end")),
	    ROW(10, 1, CELL("tail")));
}

static void
test_line_ends(void **state)
{
	(void)state;
	RUN("a,b\r\nc,d\ne,f\r\n\"g\"\r\n\"h\"\ni,\"j\"\r\nlast", 1024,
	    ROW(1, 2, CELL("a"), CELL("b")),
	    ROW(2, 2, CELL("c"), CELL("d")),
	    ROW(3, 2, CELL("e"), CELL("f")),
	    ROW(4, 1, CELL("g")),
	    ROW(5, 1, CELL("h")),
	    ROW(6, 2, CELL("i"), CELL("j")),
	    ROW(7, 1, CELL("last")));
	/* A CR that is not part of a line end is data. */
	RUN("a\rb,c\r\n", 1024,
	    ROW(1, 2, CELL("a\rb"), CELL("c")));
}

static void
test_last_line_without_newline(void **state)
{
	(void)state;
	RUN("a,b\nc,d", 1024,
	    ROW(1, 2, CELL("a"), CELL("b")),
	    ROW(2, 2, CELL("c"), CELL("d")));
	RUN("a,\"q\"", 1024,
	    ROW(1, 2, CELL("a"), CELL("q")));
	RUN("a,", 1024,
	    ROW(1, 2, CELL("a"), CELL("")));
	RUN("\"a\"\"b\"", 1024,
	    ROW(1, 1, CELL("a\"b")));
	RUN("x,y\r\nz\r", 1024,
	    ROW(1, 2, CELL("x"), CELL("y")),
	    ROW(2, 1, CELL("z")));
}

static void
test_empty_input(void **state)
{
	(void)state;
	run_case("", 0, 1024, NULL, 0);
}

static void
test_empty_cells(void **state)
{
	(void)state;
	RUN(",,\na,,b,\n\n\"\"\nz\n\r\n", 1024,
	    ROW(1, 3, CELL(""), CELL(""), CELL("")),
	    ROW(2, 4, CELL("a"), CELL(""), CELL("b"), CELL("")),
	    ROW(3, 1, CELL("")),
	    ROW(4, 1, CELL("")),
	    ROW(5, 1, CELL("z")),
	    ROW(6, 1, CELL("")));
	/* The t sample's shape: a trailing comma adds one empty cell. */
	RUN("vmta21,,,yahoo.rollup/vmta21,\r\n", 1024,
	    ROW(1, 5, CELL("vmta21"), CELL(""), CELL(""),
	    CELL("yahoo.rollup/vmta21"), CELL("")));
}

static void
test_bytes_after_closing_quote_kept(void **state)
{
	(void)state;
	RUN("\"ab\"cd,e\n", 1024,
	    ROW(1, 2, CELL("abcd"), CELL("e")));
}

static void
test_long_unquoted_row(void **state)
{
	(void)state;
	/* Line 2 is 32 bytes against a 16 byte bound. */
	RUN("ok,1\n0123456789,0123456789,0123456789\nafter,2\n", 16,
	    ROW(1, 2, CELL("ok"), CELL("1")),
	    BAD(2),
	    ROW(3, 2, CELL("after"), CELL("2")));
	/* Two long lines in a row, then a good one. */
	RUN("0123456789012345678\n0123456789012345678\r\nok\n", 16,
	    BAD(1),
	    BAD(2),
	    ROW(3, 1, CELL("ok")));
	/* A long last line without a line end. */
	RUN("ok,1\n01234567890123456789", 16,
	    ROW(1, 2, CELL("ok"), CELL("1")),
	    BAD(2));
}

static void
test_long_quoted_row(void **state)
{
	(void)state;
	/* A closed quote spanning lines 1-2 makes a 27 byte row: rejected as
	 * one record, reading resumes on line 3. */
	RUN("x,\"0123456789\n0123456789\",y\nafter\n", 16,
	    BAD(1),
	    ROW(3, 1, CELL("after")));
}

static void
test_unterminated_quote_past_bound(void **state)
{
	(void)state;
	/*
	 * The quote opened on line 2 never closes.  It may eat lines only up
	 * to the 16 byte bound, which falls inside line 3; reading then
	 * resynchronizes at the next line, so line 4 is a row again, however
	 * the bytes were delivered.
	 */
	RUN("ok,1\n"			/* line 1 */
	    "x,\"abc\n"			/* line 2: 7 bytes, quote opens */
	    "0123456789012345\n"	/* line 3: the bound falls here */
	    "after,2\n"			/* line 4 */
	    "more,3\n",			/* line 5 */
	    16,
	    ROW(1, 2, CELL("ok"), CELL("1")),
	    BAD(2),
	    ROW(4, 2, CELL("after"), CELL("2")),
	    ROW(5, 2, CELL("more"), CELL("3")));
}

static void
test_bound_counts_record_not_line_end(void **state)
{
	(void)state;
	/*
	 * The bound is on the record: a record of exactly max_record bytes
	 * is accepted and one byte more is not, whether the line ends in LF
	 * or CRLF (PowerMTA writes CRLF; LF must behave the same).
	 */
	RUN("12345678\nabcdefgh\r\n123456789\n123456789\r\nok\n", 8,
	    ROW(1, 1, CELL("12345678")),
	    ROW(2, 1, CELL("abcdefgh")),
	    BAD(3),
	    BAD(4),
	    ROW(5, 1, CELL("ok")));
}

static void
test_unterminated_quote_at_eof(void **state)
{
	(void)state;
	RUN("ok,1\nx,\"abc\ndef", 1024,
	    ROW(1, 2, CELL("ok"), CELL("1")),
	    BAD(2));
	RUN("\"", 1024,
	    BAD(1));
}

static void
test_nul_and_invalid_utf8_are_bytes(void **state)
{
	(void)state;
	RUN("a\0b,\xff\xfe,\"q\0\x80\"\n\xc0\xaf\n", 1024,
	    ROW(1, 3, CELL("a\0b"), CELL("\xff\xfe"), CELL("q\0\x80")),
	    ROW(2, 1, CELL("\xc0\xaf")));
}

/* EINTR is reported like EAGAIN; the row in progress survives it. */
static void
test_eintr_resumes(void **state)
{
	static const char in[] = "\"a\"\"b\",c\r\nd\n";
	struct memsrc m;
	struct csv *c;
	struct csv_row row;
	enum csv_result r;
	unsigned agains = 0;

	(void)state;
	memsrc_init(&m, in, LIT_LEN(in), 1, 1);
	m.again_errno = EINTR;
	assert_non_null(c = csv_new(1024, memsrc_read, &m));
	while ((r = csv_next(c, &row)) == CSV_AGAIN)
		agains++;
	assert_int_equal(r, CSV_ROW);
	/* Ten bytes up to and including the first LF, an EINTR before
	 * each read. */
	assert_int_equal(agains, 10);
	assert_int_equal(row.line, 1);
	assert_int_equal(row.ncells, 2);
	assert_bytes(row.cells[0].p, row.cells[0].n, "a\"b");
	assert_bytes(row.cells[1].p, row.cells[1].n, "c");
	while ((r = csv_next(c, &row)) == CSV_AGAIN)
		;
	assert_int_equal(r, CSV_ROW);
	assert_int_equal(row.line, 2);
	assert_int_equal(row.ncells, 1);
	assert_bytes(row.cells[0].p, row.cells[0].n, "d");
	while ((r = csv_next(c, &row)) == CSV_AGAIN)
		;
	assert_int_equal(r, CSV_EOF);
	csv_free(c);
}

static void
test_read_error(void **state)
{
	static const char in[] = "a,b\nc";
	struct memsrc m;
	struct csv *c;
	struct csv_row row;

	(void)state;
	memsrc_init(&m, in, LIT_LEN(in), CHUNK_WHOLE, 0);
	m.fail_errno = EIO;
	assert_non_null(c = csv_new(1024, memsrc_read, &m));
	assert_int_equal(csv_next(c, &row), CSV_ROW);
	assert_int_equal(row.ncells, 2);
	assert_int_equal(csv_next(c, &row), CSV_IOERR);
	assert_non_null(strstr(csv_error(c), "read"));
	assert_non_null(strstr(csv_error(c), strerror(EIO)));
	csv_free(c);
}

/* Cells past CSV_MAX_CELLS are dropped; the row and the next are fine. */
static void
test_many_cells(void **state)
{
	enum { NCELLS = 3000 };
	char *in, *p;
	size_t ci, len;
	int i, again;

	(void)state;
	assert_non_null(in = malloc(NCELLS * 6 + 32));
	p = in;
	for (i = 0; i < NCELLS; i++)
		p += sprintf(p, i ? ",%d" : "%d", i);
	p += sprintf(p, "\nnext,1\n");
	len = (size_t)(p - in);

	for (ci = 0; ci < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); ci++) {
		for (again = 0; again <= 1; again++) {
			struct memsrc m;
			struct csv *c;
			struct csv_row row;
			enum csv_result r;

			memsrc_init(&m, in, len, chunk_sizes[ci], again);
			assert_non_null(c = csv_new(64 * 1024, memsrc_read,
			    &m));
			while ((r = csv_next(c, &row)) == CSV_AGAIN)
				;
			assert_int_equal(r, CSV_ROW);
			assert_int_equal(row.line, 1);
			assert_int_equal(row.ncells, 1024);
			assert_bytes(row.cells[0].p, row.cells[0].n, "0");
			assert_bytes(row.cells[1].p, row.cells[1].n, "1");
			assert_bytes(row.cells[1023].p, row.cells[1023].n,
			    "1023");
			while ((r = csv_next(c, &row)) == CSV_AGAIN)
				;
			assert_int_equal(r, CSV_ROW);
			assert_int_equal(row.line, 2);
			assert_int_equal(row.ncells, 2);
			assert_bytes(row.cells[0].p, row.cells[0].n, "next");
			assert_bytes(row.cells[1].p, row.cells[1].n, "1");
			while ((r = csv_next(c, &row)) == CSV_AGAIN)
				;
			assert_int_equal(r, CSV_EOF);
			csv_free(c);
		}
	}
	free(in);
}

/* A bound that cannot hold a row, or one beyond reason, is refused. */
static void
test_new_bounds(void **state)
{
	struct memsrc m;

	(void)state;
	memsrc_init(&m, "", 0, 1, 0);
	assert_null(csv_new(0, memsrc_read, &m));
	assert_null(csv_new((size_t)64 * 1024 * 1024 + 1, memsrc_read, &m));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_plain_rows, teardown),
		cmocka_unit_test_teardown(test_quoted_commas, teardown),
		cmocka_unit_test_teardown(test_doubled_quotes, teardown),
		cmocka_unit_test_teardown(test_quoted_line_breaks, teardown),
		cmocka_unit_test_teardown(test_line_ends, teardown),
		cmocka_unit_test_teardown(test_last_line_without_newline, teardown),
		cmocka_unit_test_teardown(test_empty_input, teardown),
		cmocka_unit_test_teardown(test_empty_cells, teardown),
		cmocka_unit_test_teardown(test_bytes_after_closing_quote_kept, teardown),
		cmocka_unit_test_teardown(test_long_unquoted_row, teardown),
		cmocka_unit_test_teardown(test_long_quoted_row, teardown),
		cmocka_unit_test_teardown(test_unterminated_quote_past_bound, teardown),
		cmocka_unit_test_teardown(test_bound_counts_record_not_line_end, teardown),
		cmocka_unit_test_teardown(test_unterminated_quote_at_eof, teardown),
		cmocka_unit_test_teardown(test_nul_and_invalid_utf8_are_bytes, teardown),
		cmocka_unit_test_teardown(test_eintr_resumes, teardown),
		cmocka_unit_test_teardown(test_read_error, teardown),
		cmocka_unit_test_teardown(test_many_cells, teardown),
		cmocka_unit_test_teardown(test_new_bounds, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
