/*
 * csv.c: the byte-level half of the hot path, PowerMTA CSV -> cells.
 *
 * A resumable state machine over one buffer.  Cell boundaries are kept as
 * offsets from the row's start, so when a row straddles a read the partial
 * row is moved to the buffer's front and scanning resumes where it stopped:
 * no byte is examined twice.  Quoted cells are unescaped in place (a write
 * offset trails the read position), so a row costs no copy at all unless
 * it holds quotes.
 *
 * Lenient where PowerMTA or a hand-edited file may stray and it costs
 * nothing: LF or CRLF line ends, bytes after a closing quote are kept, a
 * final line without a line end is a row.  A quote that never closes eats
 * lines only up to the record bound, after which reading resynchronizes at
 * the next line; it never takes the rest of the stream with it.
 */
#include "csv.h"
#include "utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define CSV_READ_CHUNK	(256 * 1024)

enum csv_state {
	ST_START,	/* at the start of a cell */
	ST_UNQUOTED,	/* inside an unquoted cell */
	ST_QUOTED,	/* inside quotes */
	ST_QUOTE,	/* inside quotes, just saw a quote */
	ST_AFTER	/* after a closing quote, before the delimiter */
};

struct csv_span {
	uint32_t	off;	/* from the row's start */
	uint32_t	len;
};

struct csv {
	csv_readfn	 readfn;
	void		*readarg;
	char		*buf;
	size_t		 cap;
	size_t		 max_record;
	size_t		 row;		/* offset of the current row */
	size_t		 pos;		/* scan position */
	size_t		 end;		/* end of valid data */
	enum csv_state	 state;
	size_t		 cstart;	/* current cell, from row start */
	size_t		 w;		/* write offset, from row start */
	int		 eof;
	int		 skipping;	/* discarding up to the next LF */
	uint64_t	 line;		/* physical line at pos */
	uint64_t	 row_line;
	uint64_t	 err_line;
	uint64_t	 consumed;	/* bytes dropped from the front */
	size_t		 ncells;
	struct csv_span	 spans[CSV_MAX_CELLS];
	struct csv_cell	 cells[CSV_MAX_CELLS];
	char		 err[160];
};

/* Bytes that end an unquoted run. */
static unsigned char csv_stop[256];

static int		csv_scan(struct csv *);
static size_t		csv_find_stop(const char *, size_t, size_t);
static void		csv_cell_end(struct csv *, size_t, size_t);
static void		csv_row_reset(struct csv *);
static enum csv_result	csv_fill(struct csv *);
static int		csv_skip(struct csv *);
static int		csv_finish_eof(struct csv *, struct csv_row *,
			    enum csv_result *);
static enum csv_result	csv_emit(struct csv *, struct csv_row *);

struct csv *
csv_new(size_t max_record, csv_readfn readfn, void *arg)
{
	struct csv *c;

	csv_stop[','] = 1;
	csv_stop['\n'] = 1;
	if (max_record == 0 || max_record > 64 * 1024 * 1024)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	/* Room for a whole bounded row plus a full read behind it. */
	c->cap = max_record + 1 + CSV_READ_CHUNK;
	if ((c->buf = malloc(c->cap)) == NULL) {
		free(c);
		return NULL;
	}
	c->max_record = max_record;
	c->readfn = readfn;
	c->readarg = arg;
	c->line = 1;
	c->row_line = 1;
	return c;
}

void
csv_free(struct csv *c)
{
	if (c == NULL)
		return;
	free(c->buf);
	free(c);
}

const char *
csv_error(const struct csv *c)
{
	return c->err;
}

uint64_t
csv_error_line(const struct csv *c)
{
	return c->err_line;
}

uint64_t
csv_bytes(const struct csv *c)
{
	return c->consumed + c->pos;
}

ssize_t
csv_read_fd(void *arg, char *buf, size_t len)
{
	return read(*(int *)arg, buf, len);
}

static void
csv_row_reset(struct csv *c)
{
	c->row = c->pos;
	c->state = ST_START;
	c->ncells = 0;
	c->cstart = 0;
	c->w = 0;
	c->row_line = c->line;
}

static void
csv_cell_end(struct csv *c, size_t off, size_t len)
{
	if (c->ncells < CSV_MAX_CELLS) {
		c->spans[c->ncells].off = (uint32_t)off;
		c->spans[c->ncells].len = (uint32_t)len;
		c->ncells++;
	}
}

/*
 * Position of the first ',' or LF in b[p..end), or end.  Cells are short
 * but rows are long, so a 16-byte compare per step pays off: one load
 * usually covers a whole cell.
 */
static size_t
csv_find_stop(const char *b, size_t p, size_t end)
{
#ifdef __SSE2__
	const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n');
	__m128i v;
	int m;

	while (p + 16 <= end) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
		m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, comma),
		    _mm_cmpeq_epi8(v, lf)));
		if (m != 0)
			return p + (size_t)__builtin_ctz((unsigned)m);
		p += 16;
	}
#endif
	while (p < end && !csv_stop[(unsigned char)b[p]])
		p++;
	return p;
}

/*
 * Advance the state machine over [pos, end).  Returns 1 when a row ended
 * (pos is past its LF), 0 when the data ran out first.
 */
static int
csv_scan(struct csv *c)
{
	char *b = c->buf;
	const char *q, *nl;
	size_t p = c->pos, end = c->end, row = c->row, len, seg;
	unsigned char ch;

	/* Never look further than the bound (plus a CRLF) past the row's
	 * start: a runaway quote must not consume the lines after it. */
	if (end > row + c->max_record + 2)
		end = row + c->max_record + 2;

	for (;;) {
		switch (c->state) {
		case ST_START:
			if (p >= end)
				goto out;
			c->cstart = p - row;
			if (b[p] == '"') {
				c->w = c->cstart;
				p++;
				c->state = ST_QUOTED;
				continue;
			}
			c->state = ST_UNQUOTED;
			/* FALLTHROUGH */
		case ST_UNQUOTED:
			p = csv_find_stop(b, p, end);
			if (p >= end)
				goto out;
			len = p - row - c->cstart;
			if (b[p] == ',') {
				csv_cell_end(c, c->cstart, len);
				p++;
				c->state = ST_START;
				continue;
			}
			if (len > 0 && b[p - 1] == '\r')
				len--;
			csv_cell_end(c, c->cstart, len);
			goto row_end;
		case ST_QUOTED:
			q = memchr(b + p, '"', end - p);
			seg = (q != NULL ? (size_t)(q - b) : end) - p;
			for (nl = memchr(b + p, '\n', seg); nl != NULL;
			    nl = memchr(nl + 1, '\n', b + p + seg - nl - 1))
				c->line++;
			memmove(b + row + c->w, b + p, seg);
			c->w += seg;
			p += seg;
			if (q == NULL)
				goto out;
			p++;
			c->state = ST_QUOTE;
			continue;
		case ST_QUOTE:
			if (p >= end)
				goto out;
			ch = (unsigned char)b[p];
			if (ch == '"') {
				b[row + c->w++] = '"';
				p++;
				c->state = ST_QUOTED;
			} else if (ch == ',') {
				csv_cell_end(c, c->cstart, c->w - c->cstart);
				p++;
				c->state = ST_START;
			} else if (ch == '\n') {
				csv_cell_end(c, c->cstart, c->w - c->cstart);
				goto row_end;
			} else if (ch == '\r') {
				p++;
			} else {
				c->state = ST_AFTER;
			}
			continue;
		case ST_AFTER:
			while (p < end && !csv_stop[(unsigned char)b[p]])
				b[row + c->w++] = b[p++];
			if (p >= end)
				goto out;
			len = c->w - c->cstart;
			if (b[p] == ',') {
				csv_cell_end(c, c->cstart, len);
				p++;
				c->state = ST_START;
				continue;
			}
			if (len > 0 && b[row + c->w - 1] == '\r')
				len--;
			csv_cell_end(c, c->cstart, len);
			goto row_end;
		}
	}
row_end:
	c->pos = p + 1;
	c->line++;
	return 1;
out:
	c->pos = p;
	return 0;
}

/* Discard through the next LF.  Returns 1 once found, 0 if data ran out. */
static int
csv_skip(struct csv *c)
{
	const char *nl;

	nl = memchr(c->buf + c->pos, '\n', c->end - c->pos);
	if (nl == NULL) {
		c->pos = c->end;
		c->row = c->end;
		return 0;
	}
	c->pos = (size_t)(nl - c->buf) + 1;
	c->line++;
	c->skipping = 0;
	csv_row_reset(c);
	return 1;
}

/* Move the unfinished row to the front and read more behind it. */
static enum csv_result
csv_fill(struct csv *c)
{
	size_t keep = c->end - c->row;
	ssize_t n;

	if (c->row > 0) {
		memmove(c->buf, c->buf + c->row, keep);
		c->consumed += c->row;
		c->pos -= c->row;
		c->end = keep;
		c->row = 0;
	}
	n = c->readfn(c->readarg, c->buf + c->end, c->cap - c->end);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return CSV_AGAIN;
		snprintf(c->err, sizeof(c->err), "read: %s", strerror(errno));
		c->err_line = c->line;
		return CSV_IOERR;
	}
	if (n == 0)
		c->eof = 1;
	c->end += (size_t)n;
	return CSV_ROW;
}

static enum csv_result
csv_emit(struct csv *c, struct csv_row *out)
{
	size_t i, rowlen = c->pos - c->row;
	const char *base = c->buf + c->row;
	uint64_t line = c->row_line;

	/* The bound is on the record, not on its line end. */
	if (rowlen > 0 && base[rowlen - 1] == '\n') {
		rowlen--;
		if (rowlen > 0 && base[rowlen - 1] == '\r')
			rowlen--;
	}

	if (rowlen > c->max_record) {
		snprintf(c->err, sizeof(c->err),
		    "record of %zu bytes exceeds the %zu byte limit",
		    rowlen, c->max_record);
		c->err_line = line;
		csv_row_reset(c);
		return CSV_BAD;
	}
	for (i = 0; i < c->ncells; i++) {
		c->cells[i].p = base + c->spans[i].off;
		c->cells[i].n = c->spans[i].len;
	}
	out->cells = c->cells;
	out->ncells = c->ncells;
	out->line = line;
	/* One check for the whole row spares one per field downstream. */
	out->plain = utf8_is_plain(base, c->pos - c->row);
	csv_row_reset(c);
	return CSV_ROW;
}

/* The input ended: a last row without a line end is still a row. */
static int
csv_finish_eof(struct csv *c, struct csv_row *out, enum csv_result *res)
{
	size_t len;

	if (c->pos == c->row && c->state == ST_START && c->ncells == 0) {
		*res = CSV_EOF;
		return 1;
	}
	switch (c->state) {
	case ST_QUOTED:
		snprintf(c->err, sizeof(c->err),
		    "unterminated quoted field at end of input");
		c->err_line = c->row_line;
		c->row = c->pos = c->end;
		csv_row_reset(c);
		*res = CSV_BAD;
		return 1;
	case ST_START:
		csv_cell_end(c, c->pos - c->row, 0);
		break;
	case ST_UNQUOTED:
		len = c->pos - c->row - c->cstart;
		if (len > 0 && c->buf[c->pos - 1] == '\r')
			len--;
		csv_cell_end(c, c->cstart, len);
		break;
	case ST_QUOTE:
	case ST_AFTER:
		len = c->w - c->cstart;
		if (len > 0 && c->buf[c->row + c->w - 1] == '\r')
			len--;
		csv_cell_end(c, c->cstart, len);
		break;
	}
	*res = csv_emit(c, out);
	return 1;
}

enum csv_result
csv_next(struct csv *c, struct csv_row *out)
{
	enum csv_result r;

	for (;;) {
		if (c->skipping) {
			if (csv_skip(c))
				continue;
		} else {
			if (csv_scan(c))
				return csv_emit(c, out);
			if (c->pos - c->row > c->max_record + 1) {
				snprintf(c->err, sizeof(c->err),
				    "record exceeds the %zu byte limit; "
				    "skipped to the next line", c->max_record);
				c->err_line = c->row_line;
				c->skipping = 1;
				return CSV_BAD;
			}
		}
		if (c->eof) {
			if (c->skipping) {
				c->skipping = 0;
				csv_row_reset(c);
				return CSV_EOF;
			}
			if (csv_finish_eof(c, out, &r))
				return r;
		}
		if ((r = csv_fill(c)) != CSV_ROW)
			return r;
	}
}
