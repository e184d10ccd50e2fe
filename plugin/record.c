/*
 * record.c: cells -> normalized record, the second stage of the hot path.
 *
 * The header maps column names to the handful of fields mtascope keeps; a
 * data row is then read through that map.  Most fields are plain ASCII of
 * sane length and are passed through as pointers into the CSV buffer.  Only
 * a field that needs work (non-ASCII bytes, a NUL, an upper-case domain, an
 * over-long value) is rewritten, into a per-record scratch area: nothing is
 * allocated per record.
 *
 * Privacy: the recipient's local part is dropped here unless keep_rcpt is
 * set, so it can never reach the spool or the wire by accident.
 *
 * Internationalized recipient domains are counted in their Unicode form:
 * "xn--bcher-kva.de" and "bücher.de" are one domain.
 */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounds.h"
#include "ptime.h"
#include "punycode.h"
#include "utf8.h"

enum rec_field {
	RF_TYPE,
	RF_TIME_LOGGED,
	RF_TIME_QUEUED,
	RF_RCPT,
	RF_DSN_STATUS,
	RF_DSN_DIAG,
	RF_DSN_MTA,
	RF_BOUNCE_CAT,
	RF_SRC_IP,
	RF_DST_IP,
	RF_VMTA,
	RF_VMTA_POOL,
	RF_QUEUE,
	RF_JOB_ID,
	RF_SIZE,
	RF_NFIELDS
};

static const char *const rf_names[RF_NFIELDS] = {
	"type", "timeLogged", "timeQueued", "rcpt", "dsnStatus", "dsnDiag",
	"dsnMta", "bounceCat", "dlvSourceIp", "dlvDestinationIp", "vmta",
	"vmtaPool", "queue", "jobId", "dlvSize"
};

static const char *const rec_type_names[REC_NTYPES] = {
	"", "d", "b", "t", "tq", "r", "f", "rb", "rs"
};

#define SCRATCH_SIZE	8192
#define TIME_CACHE_LEN	32

struct time_cache {
	char	 s[TIME_CACHE_LEN];
	size_t	 n;
	int64_t	 t;
};

struct normalizer {
	int			 have_header;
	int			 keep_rcpt;
	int			 plain;		/* current row is all ASCII */
	int			 col[RF_NFIELDS];	/* -1: absent */
	struct time_cache	 tc[2];
	size_t			 used;
	char			 scratch[SCRATCH_SIZE];
	char			 err[256];
};

static struct slice	cell_of(const struct normalizer *,
			    const struct csv_row *, enum rec_field);
static int		parse_time(struct normalizer *, int, struct slice,
			    int64_t *);
static enum rec_type	parse_type(struct slice);
static struct slice	text_field(struct normalizer *, struct slice, size_t);
static struct slice	domain_field(struct normalizer *, struct slice, int);
static struct slice	trim(struct slice);
static int		reject(struct normalizer *, const char *,
			    struct slice);

const char *
rec_type_name(enum rec_type t)
{
	return (t > REC_NONE && t < REC_NTYPES) ? rec_type_names[t] : "?";
}

struct normalizer *
normalizer_new(int keep_rcpt)
{
	struct normalizer *n;
	int i;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->keep_rcpt = keep_rcpt;
	for (i = 0; i < RF_NFIELDS; i++)
		n->col[i] = -1;
	return n;
}

void
normalizer_free(struct normalizer *n)
{
	free(n);
}

const char *
record_error(const struct normalizer *n)
{
	return n->err;
}

int
record_is_header(const struct csv_row *row)
{
	const char *p = row->cells[0].p;
	size_t len = row->cells[0].n;

	/* A byte order mark is tolerated at the start of a stream. */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		p += 3;
		len -= 3;
	}
	return len == 4 && memcmp(p, "type", 4) == 0;
}

int
record_is_blank(const struct csv_row *row)
{
	return row->ncells == 1 && row->cells[0].n == 0;
}

void
record_set_header(struct normalizer *n, const struct csv_row *row)
{
	size_t i;
	int f;

	for (f = 0; f < RF_NFIELDS; f++)
		n->col[f] = -1;
	n->col[RF_TYPE] = 0;
	for (i = 1; i < row->ncells; i++) {
		struct slice c = trim((struct slice){ row->cells[i].p,
		    row->cells[i].n });
		for (f = 1; f < RF_NFIELDS; f++) {
			/* The first of duplicated names wins. */
			if (n->col[f] == -1 && strlen(rf_names[f]) == c.n &&
			    strncasecmp(rf_names[f], c.p, c.n) == 0) {
				n->col[f] = (int)i;
				break;
			}
		}
	}
	n->have_header = 1;
}

static struct slice
trim(struct slice s)
{
	while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
		s.n--;
	return s;
}

static struct slice
cell_of(const struct normalizer *n, const struct csv_row *row,
    enum rec_field f)
{
	int c = n->col[f];

	/* Short rows are padded with empty cells. */
	if (c < 0 || (size_t)c >= row->ncells)
		return (struct slice){ "", 0 };
	return (struct slice){ row->cells[c].p, row->cells[c].n };
}

/* Record the reason, quoting (a printable prefix of) the offending value. */
static int
reject(struct normalizer *n, const char *what, struct slice v)
{
	char shown[48];
	size_t i, o = 0;

	for (i = 0; i < v.n && o < sizeof(shown) - 4; i++) {
		unsigned char ch = (unsigned char)v.p[i];
		shown[o++] = (ch >= 0x20 && ch < 0x7f && ch != '"') ? ch : '?';
	}
	if (i < v.n) {
		memcpy(shown + o, "...", 3);
		o += 3;
	}
	shown[o] = '\0';
	snprintf(n->err, sizeof(n->err), "%s \"%s\"", what, shown);
	return -1;
}

static enum rec_type
parse_type(struct slice s)
{
	if (s.n == 1) {
		switch (s.p[0]) {
		case 'd': return REC_D;
		case 'b': return REC_B;
		case 't': return REC_T;
		case 'r': return REC_R;
		case 'f': return REC_F;
		}
	} else if (s.n == 2) {
		if (s.p[0] == 't' && s.p[1] == 'q')
			return REC_TQ;
		if (s.p[0] == 'r' && s.p[1] == 'b')
			return REC_RB;
		if (s.p[0] == 'r' && s.p[1] == 's')
			return REC_RS;
	}
	return REC_NONE;
}

/* Timestamps repeat across consecutive records: remember the last one. */
static int
parse_time(struct normalizer *n, int which, struct slice s, int64_t *out)
{
	struct time_cache *tc = &n->tc[which];

	if (s.n == tc->n && s.n <= TIME_CACHE_LEN && s.n > 0 &&
	    memcmp(s.p, tc->s, s.n) == 0) {
		*out = tc->t;
		return 0;
	}
	if (ptime_parse(s.p, s.n, out) == -1)
		return -1;
	if (s.n <= TIME_CACHE_LEN) {
		memcpy(tc->s, s.p, s.n);
		tc->n = s.n;
		tc->t = *out;
	}
	return 0;
}

/* A field as valid UTF-8 of at most max bytes, copied only if need be. */
static struct slice
text_field(struct normalizer *n, struct slice s, size_t max)
{
	char *dst;

	if (s.n <= max && (n->plain || utf8_is_plain(s.p, s.n)))
		return s;
	dst = n->scratch + n->used;
	s.n = utf8_sanitize(dst, max, s.p, s.n);
	s.p = dst;
	n->used += s.n;
	return s;
}

/*
 * Lower-case ASCII, no trailing dot, valid UTF-8.  With decode_idn, an
 * "xn--" label is turned into its Unicode form, so that a recipient
 * domain counts as one whichever form the sender wrote.
 */
static struct slice
domain_field(struct normalizer *n, struct slice s, int decode_idn)
{
	size_t i;
	char *dst;
	int upper = 0;

	s = trim(s);
	while (s.n > 0 && s.p[s.n - 1] == '.')
		s.n--;
	for (i = 0; i < s.n; i++)
		if (s.p[i] >= 'A' && s.p[i] <= 'Z')
			upper = 1;
	if (upper) {
		dst = n->scratch + n->used;
		s.n = utf8_sanitize(dst, MTA_MAX_DOMAIN, s.p, s.n);
		for (i = 0; i < s.n; i++)
			if (dst[i] >= 'A' && dst[i] <= 'Z')
				dst[i] += 'a' - 'A';
		s.p = dst;
		n->used += s.n;
	} else
		s = text_field(n, s, MTA_MAX_DOMAIN);
	if (decode_idn && s.n > 4 && memmem(s.p, s.n, "xn--", 4) != NULL) {
		/* Decoded labels may make the name longer than the bound,
		 * and a cut may fall inside a character: repair it. */
		char idn[MTA_MAX_DOMAIN];
		size_t k = punycode_domain(s.p, s.n, idn, sizeof(idn));

		dst = n->scratch + n->used;
		s.n = utf8_sanitize(dst, MTA_MAX_DOMAIN, idn, k);
		s.p = dst;
		n->used += s.n;
	}
	return s;
}

int
record_normalize(struct normalizer *n, const struct csv_row *row,
    int64_t arrival, struct record *r)
{
	struct slice s, tl, tq;
	const char *at, *cut;
	size_t i;
	uint64_t size;

	if (!n->have_header) {
		snprintf(n->err, sizeof(n->err),
		    "data before any header line");
		return -1;
	}
	n->used = 0;
	n->plain = row->plain;
	r->line = row->line;
	r->session_id = 0;
	s = cell_of(n, row, RF_TYPE);
	if ((r->type = parse_type(s)) == REC_NONE)
		return reject(n, "unknown record type", s);

	tl = trim(cell_of(n, row, RF_TIME_LOGGED));
	tq = trim(cell_of(n, row, RF_TIME_QUEUED));
	r->time_queued = 0;
	if (tq.n > 0 && parse_time(n, 1, tq, &r->time_queued) == -1)
		return reject(n, "bad timeQueued", tq);
	if (tl.n > 0) {
		if (parse_time(n, 0, tl, &r->time_logged) == -1)
			return reject(n, "bad timeLogged", tl);
	} else if (tq.n > 0)
		r->time_logged = r->time_queued;
	else
		r->time_logged = arrival;

	s = trim(cell_of(n, row, RF_SIZE));
	size = 0;
	for (i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9' || i >= 19)
			return reject(n, "bad dlvSize", s);
		size = size * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (size > MTA_MAX_SIZE)
		return reject(n, "dlvSize out of range", s);
	r->size = size;

	/* Recipient domain: from rcpt, or for tq (and rcpt-less rows) the
	 * domain part of queue. */
	s = trim(cell_of(n, row, RF_RCPT));
	r->rcpt = n->keep_rcpt ? text_field(n, s, MTA_MAX_RCPT) :
	    (struct slice){ "", 0 };
	r->queue = text_field(n, trim(cell_of(n, row, RF_QUEUE)),
	    MTA_MAX_NAME);
	if (r->type != REC_TQ && s.n > 0) {
		at = memrchr(s.p, '@', s.n);
		if (at != NULL) {
			s.n -= (size_t)(at + 1 - s.p);
			s.p = at + 1;
		}
	} else {
		s = trim(cell_of(n, row, RF_QUEUE));
		if ((cut = memchr(s.p, '/', s.n)) != NULL)
			s.n = (size_t)(cut - s.p);
	}
	r->domain = domain_field(n, s, 1);

	s = trim(cell_of(n, row, RF_DSN_STATUS));
	if ((cut = memchr(s.p, ' ', s.n)) != NULL)
		s.n = (size_t)(cut - s.p);
	r->dsn_status = text_field(n, s, MTA_MAX_SHORT);
	r->dsn_diag = text_field(n, cell_of(n, row, RF_DSN_DIAG),
	    MTA_MAX_DIAG);
	s = trim(cell_of(n, row, RF_DSN_MTA));
	if ((cut = memchr(s.p, '(', s.n)) != NULL)
		s = trim((struct slice){ s.p, (size_t)(cut - s.p) });
	r->dsn_mta = domain_field(n, s, 0);
	r->bounce_cat = text_field(n, trim(cell_of(n, row, RF_BOUNCE_CAT)),
	    MTA_MAX_NAME);
	r->src_ip = text_field(n, trim(cell_of(n, row, RF_SRC_IP)),
	    MTA_MAX_SHORT);
	r->dst_ip = text_field(n, trim(cell_of(n, row, RF_DST_IP)),
	    MTA_MAX_SHORT);
	r->vmta = text_field(n, trim(cell_of(n, row, RF_VMTA)), MTA_MAX_NAME);
	r->vmta_pool = text_field(n, trim(cell_of(n, row, RF_VMTA_POOL)),
	    MTA_MAX_NAME);
	r->job_id = text_field(n, trim(cell_of(n, row, RF_JOB_ID)),
	    MTA_MAX_NAME);
	return 0;
}
