/*
 * fuzz_csv.c: libFuzzer target for mtascope-pipe's whole reading half.
 *
 * The input is fed through the CSV reader in chunks whose size comes from
 * the first byte (so row and quote states are cut at every possible
 * place), with a small record bound from the second byte (so the resync
 * path is reached), then normalized, sessionized and packed into batches.
 * Every packed batch is unpacked again and each string on it must be valid
 * UTF-8 and within the wire bounds: that is the promise the collector
 * relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "bounds.h"
#include "csv.h"
#include "mtascope.pb-c.h"
#include "record.h"
#include "session.h"
#include "utf8.h"

struct memsrc {
	const uint8_t	*p;
	size_t		 n;
	size_t		 chunk;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static ssize_t
mem_read(void *arg, char *buf, size_t len)
{
	struct memsrc *m = arg;
	size_t k = m->chunk < len ? m->chunk : len;

	if (k > m->n)
		k = m->n;
	memcpy(buf, m->p, k);
	m->p += k;
	m->n -= k;
	return (ssize_t)k;
}

static void
check_str(const char *s, size_t max)
{
	char tmp[4096];
	size_t n = strlen(s);

	if (n > max)
		abort();
	if (utf8_sanitize(tmp, sizeof(tmp), s, n) != n ||
	    memcmp(tmp, s, n) != 0)
		abort();
}

static void
check_batch(void *arg, uint64_t seq, const uint8_t *buf, size_t len,
    size_t nrecords)
{
	Mtascope__V1__Batch *b;
	size_t i;

	(void)arg;
	b = mtascope__v1__batch__unpack(NULL, len, buf);
	if (b == NULL || b->seq != seq || b->n_records != nrecords)
		abort();
	for (i = 0; i < b->n_records; i++) {
		Mtascope__V1__Record *r = b->records[i];

		check_str(r->rcpt_domain, MTA_MAX_DOMAIN);
		check_str(r->rcpt, MTA_MAX_RCPT);
		check_str(r->dsn_status, MTA_MAX_SHORT);
		check_str(r->dsn_diag, MTA_MAX_DIAG);
		check_str(r->dsn_mta, MTA_MAX_DOMAIN);
		check_str(r->bounce_cat, MTA_MAX_NAME);
		check_str(r->source_ip, MTA_MAX_SHORT);
		check_str(r->destination_ip, MTA_MAX_SHORT);
		check_str(r->vmta, MTA_MAX_NAME);
		check_str(r->vmta_pool, MTA_MAX_NAME);
		check_str(r->queue, MTA_MAX_NAME);
		check_str(r->job_id, MTA_MAX_NAME);
		if (r->type < 1 || r->type > 8)
			abort();
	}
	for (i = 0; i < b->n_sessions; i++) {
		check_str(b->sessions[i]->rcpt_domain, MTA_MAX_DOMAIN);
		if (b->sessions[i]->records == 0)
			abort();
	}
	mtascope__v1__batch__free_unpacked(b, NULL);
}

static void
on_session(void *arg, const struct session_info *si)
{
	batcher_add_session(arg, si);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memsrc m;
	struct csv *csv;
	struct normalizer *norm;
	struct sessions *ss;
	struct batcher *b;
	struct csv_row row;
	struct record rec;
	enum csv_result res;

	if (size < 2)
		return 0;
	m.chunk = 1 + data[0] % 64;
	m.p = data + 2;
	m.n = size - 2;
	csv = csv_new(64 + (size_t)data[1] * 16, mem_read, &m);
	norm = normalizer_new(data[1] & 1);
	b = batcher_new("fuzz", "spool", 1, 8, check_batch, NULL);
	ss = sessions_new(data[0] % 4, on_session, b);
	if (csv == NULL || norm == NULL || b == NULL || ss == NULL)
		abort();
	while ((res = csv_next(csv, &row)) != CSV_EOF) {
		if (res != CSV_ROW)
			continue;
		if (record_is_header(&row)) {
			record_set_header(norm, &row);
			continue;
		}
		if (record_is_blank(&row) ||
		    record_normalize(norm, &row, 1700000000, &rec) == -1)
			continue;
		sessions_add(ss, &rec);
		batcher_add_record(b, &rec);
	}
	sessions_close_all(ss);
	batcher_flush(b);
	sessions_free(ss);
	batcher_free(b);
	normalizer_free(norm);
	csv_free(csv);
	return 0;
}
