/*
 * rollup.c: turn validated batches into hourly rollup increments.
 *
 * A group of batches is folded into one in-memory map keyed by (hour, isp,
 * host, source_ip) so the store writes each touched row once per commit,
 * however many records hit it.  ISP classification is memoized per string
 * of the batch's string table: a batch names only a few dozen distinct
 * domains, so the table is consulted a few dozen times, not once per
 * record.
 */
#include "rollup.h"

#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>

#include "log.h"

struct rollup {
	const struct isp_table	*isps;
	struct rollup_row	*rows;
	size_t			 nrows;
	size_t			 cap;
	uint32_t		*slots;		/* row index + 1 */
	size_t			 nslots;
	struct host_row		*hrows;
	size_t			 nhrows;
	size_t			 hcap;
	int16_t			*memo_domain;	/* per string: isp or -1/-2 */
	int16_t			*memo_mta;
	size_t			 memo_cap;
	const char		**memo_key;	/* per string: interned */
	char			**strs;		/* interned key strings */
	size_t			 nstrs;
	size_t			 strs_cap;	/* power of two, open hash */
	struct host_row		*last_hr;
};

static const char *const counter_names[RC_NCOUNTERS] = {
	"delivered", "bounced", "deferred", "deferred_queue", "complaints",
	"remote_bounces", "sessions", "session_records", "bytes",
	"s1", "s2", "s4", "s8", "s16", "s32", "s64", "s128", "s256"
};

static uint64_t		 key_hash(int64_t, int, const char *, const char *);
static struct rollup_row *row_get(struct rollup *, int64_t, int,
			    const char *, const char *);
static struct host_row	*host_row_get(struct rollup *, int64_t,
			    const char *);
static const char	*key_str(struct rollup *, const char *);
static const char	*memo_key(struct rollup *,
			    const Mtascope__V1__Batch *, uint32_t);
static int		 classify(struct rollup *, const Mtascope__V1__Batch *,
			    uint32_t, uint32_t);

const char *
rollup_counter_name(enum rollup_counter c)
{
	return counter_names[c];
}

int
rollup_hist_bucket(uint64_t records)
{
	int b = 0;

	while (records > 1 && b < ROLLUP_HIST_BUCKETS - 1) {
		records >>= 1;
		b++;
	}
	return b;
}

struct rollup *
rollup_new(const struct isp_table *isps)
{
	struct rollup *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("rollup");
	r->isps = isps;
	r->nslots = 1024;
	if ((r->slots = calloc(r->nslots, sizeof(*r->slots))) == NULL)
		fatal("rollup");
	return r;
}

void
rollup_free(struct rollup *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->strs_cap; i++)
		free(r->strs[i]);
	free(r->strs);
	free(r->rows);
	free(r->slots);
	free(r->hrows);
	free(r->memo_domain);
	free(r->memo_mta);
	free(r->memo_key);
	free(r);
}

void
rollup_clear(struct rollup *r)
{
	memset(r->slots, 0, r->nslots * sizeof(*r->slots));
	r->nrows = 0;
	r->nhrows = 0;
	r->last_hr = NULL;
}

size_t
rollup_rows(const struct rollup *r)
{
	return r->nrows;
}

const struct rollup_row *
rollup_row_at(const struct rollup *r, size_t i)
{
	return i < r->nrows ? &r->rows[i] : NULL;
}

size_t
rollup_host_rows(const struct rollup *r)
{
	return r->nhrows;
}

const struct host_row *
rollup_host_row_at(const struct rollup *r, size_t i)
{
	return i < r->nhrows ? &r->hrows[i] : NULL;
}

/*
 * Key strings (hosts, source IPs) are interned for the life of the
 * rollup, in an open hash set: there are few of them, rows keep pointers
 * to them, and pointer equality then compares keys.
 */
static const char *
key_str(struct rollup *r, const char *s)
{
	size_t i, mask, j;
	uint64_t h;
	const char *p;

	if ((r->nstrs + 1) * 2 > r->strs_cap) {
		size_t nc = r->strs_cap ? r->strs_cap * 2 : 256;
		char **ns;

		if ((ns = calloc(nc, sizeof(*ns))) == NULL)
			fatal("rollup");
		for (j = 0; j < r->strs_cap; j++) {
			if (r->strs[j] == NULL)
				continue;
			for (h = 1469598103934665603ull, p = r->strs[j]; *p;
			    p++)
				h = (h ^ (unsigned char)*p) * 1099511628211ull;
			for (i = h & (nc - 1); ns[i] != NULL;
			    i = (i + 1) & (nc - 1))
				;
			ns[i] = r->strs[j];
		}
		free(r->strs);
		r->strs = ns;
		r->strs_cap = nc;
	}
	mask = r->strs_cap - 1;
	for (h = 1469598103934665603ull, p = s; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	for (i = h & mask; r->strs[i] != NULL; i = (i + 1) & mask)
		if (strcmp(r->strs[i], s) == 0)
			return r->strs[i];
	if ((r->strs[i] = strdup(s)) == NULL)
		fatal("rollup");
	r->nstrs++;
	return r->strs[i];
}

static uint64_t
key_hash(int64_t hour, int isp, const char *host, const char *ip)
{
	uint64_t h = (uint64_t)hour * 0x9e3779b97f4a7c15ull ^ (uint64_t)isp;

	/* host and ip are interned: their addresses identify them. */
	h ^= (uint64_t)(uintptr_t)host * 0xff51afd7ed558ccdull;
	h ^= (uint64_t)(uintptr_t)ip * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

static struct rollup_row *
row_get(struct rollup *r, int64_t hour, int isp, const char *host,
    const char *ip)
{
	struct rollup_row *row;
	size_t i, mask;

	if ((r->nrows + 1) * 2 > r->nslots) {
		size_t j;

		free(r->slots);
		r->nslots *= 2;
		if ((r->slots = calloc(r->nslots, sizeof(*r->slots))) == NULL)
			fatal("rollup");
		mask = r->nslots - 1;
		for (j = 0; j < r->nrows; j++) {
			row = &r->rows[j];
			for (i = key_hash(row->hour, row->isp, row->host,
			    row->source_ip) & mask; r->slots[i] != 0;
			    i = (i + 1) & mask)
				;
			r->slots[i] = (uint32_t)j + 1;
		}
	}
	mask = r->nslots - 1;
	for (i = key_hash(hour, isp, host, ip) & mask; r->slots[i] != 0;
	    i = (i + 1) & mask) {
		row = &r->rows[r->slots[i] - 1];
		if (row->hour == hour && row->isp == isp &&
		    row->host == host && row->source_ip == ip)
			return row;
	}
	if (r->nrows == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 256;
		struct rollup_row *nr;

		if ((nr = reallocarray(r->rows, nc, sizeof(*nr))) == NULL)
			fatal("rollup");
		r->rows = nr;
		r->cap = nc;
	}
	row = &r->rows[r->nrows];
	memset(row, 0, sizeof(*row));
	row->hour = hour;
	row->isp = isp;
	row->host = host;
	row->source_ip = ip;
	r->slots[i] = (uint32_t)++r->nrows;
	return row;
}

static struct host_row *
host_row_get(struct rollup *r, int64_t hour, const char *host)
{
	struct host_row *hr;
	size_t i;

	/* Records arrive in time order: the last row usually matches. */
	if ((hr = r->last_hr) != NULL && hr->hour == hour && hr->host == host)
		return hr;
	for (i = r->nhrows; i > 0; i--) {
		hr = &r->hrows[i - 1];
		if (hr->hour == hour && hr->host == host)
			return r->last_hr = hr;
	}
	if (r->nhrows == r->hcap) {
		size_t nc = r->hcap ? r->hcap * 2 : 64;
		struct host_row *nh;

		if ((nh = reallocarray(r->hrows, nc, sizeof(*nh))) == NULL)
			fatal("rollup");
		r->hrows = nh;
		r->hcap = nc;
	}
	hr = &r->hrows[r->nhrows++];
	memset(hr, 0, sizeof(*hr));
	hr->hour = hour;
	hr->host = host;
	return r->last_hr = hr;
}

static const char *
memo_key(struct rollup *r, const Mtascope__V1__Batch *b, uint32_t i)
{
	if (r->memo_key[i] == NULL)
		r->memo_key[i] = key_str(r, b->strings[i]);
	return r->memo_key[i];
}

/* ISP of (domain, mta) string indices, memoized for this batch. */
static int
classify(struct rollup *r, const Mtascope__V1__Batch *b, uint32_t d,
    uint32_t m)
{
	const char *s;
	int isp;

	if (r->memo_domain[d] == -2) {
		s = b->strings[d];
		isp = isp_classify(r->isps, s, strlen(s), "", 0);
		r->memo_domain[d] = (int16_t)(isp == ISP_OTHER ? -1 : isp);
	}
	if (r->memo_domain[d] >= 0)
		return r->memo_domain[d];
	if (r->memo_mta[m] == -2) {
		s = b->strings[m];
		r->memo_mta[m] = (int16_t)isp_classify(r->isps, "", 0, s,
		    strlen(s));
	}
	return r->memo_mta[m];
}

void
rollup_add_batch(struct rollup *r, const Mtascope__V1__Batch *b)
{
	const Mtascope__V1__Records *c = b->records;
	const char *host, *ip;
	struct rollup_row *row;
	struct host_row *hr;
	size_t i, n = c != NULL ? c->n_type : 0;
	int64_t hour;
	int isp;

	if (b->n_strings > r->memo_cap) {
		free(r->memo_domain);
		free(r->memo_mta);
		free(r->memo_key);
		r->memo_cap = b->n_strings;
		if ((r->memo_domain = calloc(r->memo_cap, 2)) == NULL ||
		    (r->memo_mta = calloc(r->memo_cap, 2)) == NULL ||
		    (r->memo_key = calloc(r->memo_cap, sizeof(char *))) ==
		    NULL)
			fatal("rollup");
	}
	for (i = 0; i < b->n_strings; i++) {
		r->memo_domain[i] = r->memo_mta[i] = -2;
		r->memo_key[i] = NULL;
	}
	host = key_str(r, b->host);

	for (i = 0; i < n; i++) {
		hour = c->time_logged[i] / 3600;
		if (c->type[i] == MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_R ||
		    c->type[i] == MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_RS) {
			hr = host_row_get(r, hour, host);
			hr->c[c->type[i] ==
			    MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_R ?
			    HC_RECEIVED : HC_REMOTE_STATUS]++;
			hr->c[HC_RECORDS]++;
			continue;
		}
		isp = classify(r, b, c->rcpt_domain[i], c->dsn_mta[i]);
		ip = memo_key(r, b, c->source_ip[i]);
		row = row_get(r, hour, isp, host, ip);
		switch (c->type[i]) {
		case MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_D:
			row->c[RC_DELIVERED]++;
			row->c[RC_BYTES] += c->size[i];
			break;
		case MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_B:
			row->c[RC_BOUNCED]++;
			break;
		case MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_T:
			row->c[RC_DEFERRED]++;
			break;
		case MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_TQ:
			row->c[RC_DEFERRED_QUEUE]++;
			break;
		case MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_F:
			row->c[RC_COMPLAINTS]++;
			break;
		case MTASCOPE__V1__RECORD_TYPE__RECORD_TYPE_RB:
			row->c[RC_REMOTE_BOUNCES]++;
			break;
		default:
			break;
		}
		hr = host_row_get(r, hour, host);
		hr->c[HC_RECORDS]++;
	}
	for (i = 0; i < b->n_sessions; i++) {
		const Mtascope__V1__Session *s = b->sessions[i];

		hour = s->first_time / 3600;
		isp = classify(r, b, s->rcpt_domain, s->dsn_mta);
		ip = memo_key(r, b, s->source_ip);
		row = row_get(r, hour, isp, host, ip);
		row->c[RC_SESSIONS]++;
		row->c[RC_SESSION_RECORDS] += s->records;
		row->c[RC_HIST0 + rollup_hist_bucket(s->records)]++;
	}
}
