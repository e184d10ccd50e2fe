/*
 * fuzz_csv.c: libFuzzer target for mtascope-pipe's whole reading half.
 *
 * The input is fed through the CSV reader in chunks whose size comes from
 * the first byte (so row and quote states are cut at every possible
 * place), with a small record bound from the second byte (so the resync
 * path is reached), then normalized, sessionized and packed into batches.
 * Every packed batch must pass the collector's own validator: valid
 * UTF-8 within the wire bounds, consistent columns, indices in range.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "csv.h"
#include "record.h"
#include "session.h"
#include "validate.h"

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
check_batch(void *arg, uint64_t seq, const uint8_t *buf, size_t len,
    size_t nrecords)
{
	Mtascope__V1__Batch *b;
	char why[256], host[256];

	(void)arg;
	b = validate_batch(buf, len, why, sizeof(why), host, sizeof(host));
	if (b == NULL) {
		fprintf(stderr, "collector would refuse: %s\n", why);
		abort();
	}
	if (b->seq != seq || (b->records != NULL ? b->records->n_type : 0) !=
	    nrecords)
		abort();
	validate_free(b);
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
