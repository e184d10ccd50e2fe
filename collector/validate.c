/*
 * validate.c: the collector's border.
 *
 * Every frame is untrusted: it may be truncated, oversized, of another
 * schema, or crafted.  protobuf-c checks the wire encoding; this file
 * checks what the encoding cannot: the schema version, that every column
 * has one element per record, that every string index points into the
 * string table, that strings are valid UTF-8 within the bounds a pipe
 * would respect (common/bounds.h), that enums and times are in range.  A
 * batch either passes whole or is refused whole with the first reason
 * found; nothing downstream re-checks.
 */
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "bounds.h"
#include "utf8.h"

#define MAX_TIME	MTA_MAX_TIME
#define MAX_GAPS	1024
#define MAX_SPOOL_ID	64

static int	fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	valid_name(const char *, size_t, const char *);
static int	check_column(const uint32_t *, size_t, size_t,
		    const uint32_t *, size_t, size_t, const char *, char *,
		    size_t);
static int	check_records(const Mtascope__V1__Batch *, const uint32_t *,
		    char *, size_t);
static int	check_sessions(const Mtascope__V1__Batch *,
		    const uint32_t *, char *, size_t);

static int
fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* Host names and spool ids: letters, digits and "-_.", nothing else. */
static int
valid_name(const char *s, size_t max, const char *extra)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(extra, c) != NULL))
			return 0;
	}
	return 1;
}

static int
check_column(const uint32_t *col, size_t ncol, size_t nrec,
    const uint32_t *lens, size_t nstrings, size_t max, const char *name,
    char *why, size_t whylen)
{
	size_t i;

	if (ncol != nrec)
		return fail(why, whylen, "column %s has %zu values for %zu "
		    "records", name, ncol, nrec);
	for (i = 0; i < ncol; i++) {
		if (col[i] >= nstrings)
			return fail(why, whylen, "record %zu: %s index %u "
			    "outside the string table (%zu)", i, name, col[i],
			    nstrings);
		if (lens[col[i]] > max)
			return fail(why, whylen, "record %zu: %s longer than "
			    "%zu bytes", i, name, max);
	}
	return 0;
}

static int
check_records(const Mtascope__V1__Batch *b, const uint32_t *lens, char *why,
    size_t whylen)
{
	const Mtascope__V1__Records *c = b->records;
	size_t i, n, ns = b->n_strings;

	if (c == NULL)
		return 0;
	n = c->n_type;
	if (n > MTA_MAX_BATCH_RECORDS)
		return fail(why, whylen, "%zu records exceed the limit of %d",
		    n, MTA_MAX_BATCH_RECORDS);
	if (c->n_time_logged != n || c->n_time_queued != n ||
	    c->n_size != n || c->n_session_id != n || c->n_line != n)
		return fail(why, whylen, "record columns differ in length");
#define COL(f, max) \
	if (check_column(c->f, c->n_##f, n, lens, ns, max, #f, why, \
	    whylen) == -1) \
		return -1
	COL(rcpt_domain, MTA_MAX_DOMAIN);
	COL(rcpt, MTA_MAX_RCPT);
	COL(dsn_status, MTA_MAX_SHORT);
	COL(dsn_diag, MTA_MAX_DIAG);
	COL(dsn_mta, MTA_MAX_DOMAIN);
	COL(bounce_cat, MTA_MAX_NAME);
	COL(source_ip, MTA_MAX_SHORT);
	COL(destination_ip, MTA_MAX_SHORT);
	COL(vmta, MTA_MAX_NAME);
	COL(vmta_pool, MTA_MAX_NAME);
	COL(queue, MTA_MAX_NAME);
	COL(job_id, MTA_MAX_NAME);
#undef COL
	for (i = 0; i < n; i++) {
		if (c->type[i] < MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_D ||
		    c->type[i] > MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_RS)
			return fail(why, whylen, "record %zu: unknown type %d",
			    i, (int)c->type[i]);
		if (c->time_logged[i] < 0 || c->time_logged[i] >= MAX_TIME)
			return fail(why, whylen, "record %zu: time_logged %lld "
			    "out of range", i, (long long)c->time_logged[i]);
		if (c->time_queued[i] < 0 || c->time_queued[i] >= MAX_TIME)
			return fail(why, whylen, "record %zu: time_queued %lld "
			    "out of range", i, (long long)c->time_queued[i]);
		if (c->size[i] > MTA_MAX_SIZE)
			return fail(why, whylen, "record %zu: size %llu out of "
			    "range", i, (unsigned long long)c->size[i]);
	}
	return 0;
}

static int
check_sessions(const Mtascope__V1__Batch *b, const uint32_t *lens, char *why,
    size_t whylen)
{
	size_t i, ns = b->n_strings;

	if (b->n_sessions > MTA_MAX_BATCH_RECORDS)
		return fail(why, whylen, "%zu sessions exceed the limit of %d",
		    b->n_sessions, MTA_MAX_BATCH_RECORDS);
	for (i = 0; i < b->n_sessions; i++) {
		const Mtascope__V1__Session *s = b->sessions[i];

		if (s->source_ip >= ns || s->destination_ip >= ns ||
		    s->rcpt_domain >= ns || s->dsn_mta >= ns)
			return fail(why, whylen, "session %zu: string index "
			    "outside the string table", i);
		if (lens[s->source_ip] > MTA_MAX_SHORT ||
		    lens[s->destination_ip] > MTA_MAX_SHORT ||
		    lens[s->rcpt_domain] > MTA_MAX_DOMAIN ||
		    lens[s->dsn_mta] > MTA_MAX_DOMAIN)
			return fail(why, whylen, "session %zu: field too long",
			    i);
		if (s->records == 0 || s->first_time < 0 ||
		    s->first_time >= MAX_TIME || s->last_time < s->first_time ||
		    s->last_time >= MAX_TIME)
			return fail(why, whylen, "session %zu: bad times or "
			    "record count", i);
	}
	return 0;
}

Mtascope__V1__Batch *
validate_batch(const uint8_t *buf, size_t len, char *why, size_t whylen,
    char *host, size_t hostlen)
{
	Mtascope__V1__Batch *b;
	uint32_t *lens = NULL;
	size_t i, n;

	strlcpy(host, "?", hostlen);
	if (len > MTA_MAX_FRAME) {
		fail(why, whylen, "frame of %zu bytes exceeds the limit of %u",
		    len, MTA_MAX_FRAME);
		return NULL;
	}
	if ((b = mtascope__v1__batch__unpack(NULL, len, buf)) == NULL) {
		fail(why, whylen, "not a mtascope.v1.Batch: protobuf decoding "
		    "failed (%zu bytes)", len);
		return NULL;
	}
	if (b->schema != 1) {
		fail(why, whylen, "schema %u not supported (expected 1)",
		    b->schema);
		goto bad;
	}
	if (!valid_name(b->host, MTA_MAX_HOST, "-_.")) {
		fail(why, whylen, "bad host name");
		goto bad;
	}
	strlcpy(host, b->host, hostlen);
	if (!valid_name(b->spool_id, MAX_SPOOL_ID, "-_.")) {
		fail(why, whylen, "bad spool id");
		goto bad;
	}
	if (b->seq == 0) {
		fail(why, whylen, "seq 0");
		goto bad;
	}
	if (b->n_strings == 0 || b->strings[0][0] != '\0') {
		fail(why, whylen, "string table must start with \"\"");
		goto bad;
	}
	if (b->n_strings > (size_t)(MTA_MAX_BATCH_RECORDS) * 16 + 16) {
		fail(why, whylen, "string table of %zu entries too large",
		    b->n_strings);
		goto bad;
	}
	if ((lens = calloc(b->n_strings, sizeof(*lens))) == NULL) {
		fail(why, whylen, "out of memory");
		goto bad;
	}
	for (i = 0; i < b->n_strings; i++) {
		n = strlen(b->strings[i]);
		if (n > MTA_MAX_DIAG) {
			fail(why, whylen, "string %zu longer than %d bytes", i,
			    MTA_MAX_DIAG);
			goto bad;
		}
		if (!utf8_is_plain(b->strings[i], n) &&
		    !utf8_valid(b->strings[i], n)) {
			fail(why, whylen, "string %zu is not UTF-8", i);
			goto bad;
		}
		lens[i] = (uint32_t)n;
	}
	if (check_records(b, lens, why, whylen) == -1 ||
	    check_sessions(b, lens, why, whylen) == -1)
		goto bad;
	if (b->n_gaps > MAX_GAPS) {
		fail(why, whylen, "%zu gaps exceed the limit of %d", b->n_gaps,
		    MAX_GAPS);
		goto bad;
	}
	for (i = 0; i < b->n_gaps; i++) {
		if (b->gaps[i]->hour < 0 || b->gaps[i]->hour >= MAX_TIME / 3600 ||
		    strlen(b->gaps[i]->reason) > MTA_MAX_NAME) {
			fail(why, whylen, "gap %zu out of range", i);
			goto bad;
		}
	}
	free(lens);
	return b;
bad:
	free(lens);
	mtascope__v1__batch__free_unpacked(b, NULL);
	return NULL;
}

void
validate_free(Mtascope__V1__Batch *b)
{
	if (b != NULL)
		mtascope__v1__batch__free_unpacked(b, NULL);
}
