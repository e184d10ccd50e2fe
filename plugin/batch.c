/*
 * batch.c: the encoding stage of the hot path.
 *
 * Records are turned into protobuf-c structures as they arrive; their
 * strings are copied into an arena of fixed-size chunks because the CSV
 * buffer they point into is reused by the next read.  When the batch holds
 * its quota of records (or sessions) it is packed into one reusable output
 * buffer and handed to the sink, and the arena is rewound.  After warm-up,
 * nothing is allocated: memory is bounded by the batch size.
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "bounds.h"
#include "log.h"
#include "mtascope.pb-c.h"

#define ARENA_CHUNK	(256 * 1024)
#define MAX_GAPS	64

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 used;
	char			 data[ARENA_CHUNK];
};

struct batcher {
	batch_sinkfn			 sink;
	void				*sinkarg;
	size_t				 max;
	uint64_t			 seq;
	char				*host;
	char				*spool_id;
	Mtascope__V1__Batch		 msg;
	Mtascope__V1__AgentCounters	 counters;
	Mtascope__V1__Record		*records;
	Mtascope__V1__Record		**record_ptrs;
	size_t				 nrecords;
	Mtascope__V1__Session		*sessions;
	Mtascope__V1__Session		**session_ptrs;
	size_t				 nsessions;
	Mtascope__V1__Gap		 gaps[MAX_GAPS];
	Mtascope__V1__Gap		*gap_ptrs[MAX_GAPS];
	size_t				 ngaps;
	struct arena_chunk		*arena;		/* chunk in use */
	struct arena_chunk		*arena_head;
	uint8_t				*out;
	size_t				 outcap;
};

static char	*arena_str(struct batcher *, struct slice);

struct batcher *
batcher_new(const char *host, const char *spool_id, uint64_t first_seq,
    size_t max_records, batch_sinkfn sink, void *arg)
{
	struct batcher *b;
	size_t i;

	if (max_records == 0 || max_records > MTA_MAX_BATCH_RECORDS)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->sink = sink;
	b->sinkarg = arg;
	b->max = max_records;
	b->seq = first_seq;
	if ((b->host = strdup(host)) == NULL ||
	    (b->spool_id = strdup(spool_id)) == NULL ||
	    (b->records = calloc(max_records, sizeof(*b->records))) == NULL ||
	    (b->record_ptrs = calloc(max_records,
	    sizeof(*b->record_ptrs))) == NULL ||
	    (b->sessions = calloc(max_records, sizeof(*b->sessions))) ==
	    NULL ||
	    (b->session_ptrs = calloc(max_records,
	    sizeof(*b->session_ptrs))) == NULL ||
	    (b->arena_head = calloc(1, sizeof(*b->arena_head))) == NULL) {
		batcher_free(b);
		return NULL;
	}
	b->arena = b->arena_head;
	for (i = 0; i < max_records; i++) {
		b->record_ptrs[i] = &b->records[i];
		b->session_ptrs[i] = &b->sessions[i];
	}
	for (i = 0; i < MAX_GAPS; i++)
		b->gap_ptrs[i] = &b->gaps[i];
	mtascope__v1__agent_counters__init(&b->counters);
	return b;
}

void
batcher_free(struct batcher *b)
{
	struct arena_chunk *c, *next;

	if (b == NULL)
		return;
	for (c = b->arena_head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(b->host);
	free(b->spool_id);
	free(b->records);
	free(b->record_ptrs);
	free(b->sessions);
	free(b->session_ptrs);
	free(b->out);
	free(b);
}

size_t
batcher_pending(const struct batcher *b)
{
	return b->nrecords + b->nsessions + b->ngaps;
}

uint64_t
batcher_next_seq(const struct batcher *b)
{
	return b->seq;
}

/* NUL-terminated copy in the arena; protobuf-c wants C strings. */
static char *
arena_str(struct batcher *b, struct slice s)
{
	struct arena_chunk *c = b->arena;
	char *p;

	if (s.n == 0)
		return (char *)"";
	if (c->used + s.n + 1 > ARENA_CHUNK) {
		if (c->next == NULL) {
			if ((c->next = calloc(1, sizeof(*c))) == NULL)
				fatal("batch arena");
		}
		c = b->arena = c->next;
		c->used = 0;
	}
	p = c->data + c->used;
	memcpy(p, s.p, s.n);
	p[s.n] = '\0';
	c->used += s.n + 1;
	return p;
}

void
batcher_add_record(struct batcher *b, const struct record *r)
{
	Mtascope__V1__Record *m;

	if (b->nrecords >= b->max)
		batcher_flush(b);
	m = &b->records[b->nrecords++];
	mtascope__v1__record__init(m);
	m->type = (Mtascope__V1__RecordType)r->type;
	m->time_logged = r->time_logged;
	m->time_queued = r->time_queued;
	m->rcpt_domain = arena_str(b, r->domain);
	m->rcpt = arena_str(b, r->rcpt);
	m->dsn_status = arena_str(b, r->dsn_status);
	m->dsn_diag = arena_str(b, r->dsn_diag);
	m->dsn_mta = arena_str(b, r->dsn_mta);
	m->bounce_cat = arena_str(b, r->bounce_cat);
	m->source_ip = arena_str(b, r->src_ip);
	m->destination_ip = arena_str(b, r->dst_ip);
	m->vmta = arena_str(b, r->vmta);
	m->vmta_pool = arena_str(b, r->vmta_pool);
	m->queue = arena_str(b, r->queue);
	m->job_id = arena_str(b, r->job_id);
	m->size = r->size;
	m->session_id = r->session_id;
	m->line = r->line;
}

void
batcher_add_session(struct batcher *b, const struct session_info *si)
{
	Mtascope__V1__Session *m;

	if (b->nsessions >= b->max)
		batcher_flush(b);
	m = &b->sessions[b->nsessions++];
	mtascope__v1__session__init(m);
	m->id = si->id;
	m->source_ip = arena_str(b, si->src_ip);
	m->destination_ip = arena_str(b, si->dst_ip);
	m->first_time = si->first;
	m->last_time = si->last;
	m->records = si->records;
	m->rcpt_domain = arena_str(b, si->domain);
	m->dsn_mta = arena_str(b, si->dsn_mta);
}

void
batcher_add_gap(struct batcher *b, int64_t hour, uint64_t dropped,
    const char *reason)
{
	Mtascope__V1__Gap *g;
	size_t i;

	for (i = 0; i < b->ngaps; i++) {
		if (b->gaps[i].hour == hour) {
			b->gaps[i].dropped += dropped;
			return;
		}
	}
	if (b->ngaps >= MAX_GAPS)
		batcher_flush(b);
	g = &b->gaps[b->ngaps++];
	mtascope__v1__gap__init(g);
	g->hour = hour;
	g->dropped = dropped;
	g->reason = arena_str(b, (struct slice){ reason, strlen(reason) });
}

void
batcher_set_counters(struct batcher *b, uint64_t read, uint64_t rejected,
    uint64_t spool_bytes, uint64_t dropped, int64_t started)
{
	b->counters.records_read = read;
	b->counters.rejected = rejected;
	b->counters.spool_bytes = spool_bytes;
	b->counters.dropped = dropped;
	b->counters.started = (uint64_t)started;
}

void
batcher_flush(struct batcher *b)
{
	Mtascope__V1__Batch *m = &b->msg;
	struct arena_chunk *c;
	size_t len;

	if (batcher_pending(b) == 0)
		return;
	mtascope__v1__batch__init(m);
	m->schema = 1;
	m->host = b->host;
	m->spool_id = b->spool_id;
	m->seq = b->seq;
	m->n_records = b->nrecords;
	m->records = b->record_ptrs;
	m->n_sessions = b->nsessions;
	m->sessions = b->session_ptrs;
	m->n_gaps = b->ngaps;
	m->gaps = b->gap_ptrs;
	m->counters = &b->counters;
	m->created = time(NULL);
	len = mtascope__v1__batch__get_packed_size(m);
	if (len > b->outcap) {
		uint8_t *no;

		if ((no = realloc(b->out, len)) == NULL)
			fatal("batch buffer of %zu bytes", len);
		b->out = no;
		b->outcap = len;
	}
	mtascope__v1__batch__pack(m, b->out);
	b->sink(b->sinkarg, b->seq, b->out, len, b->nrecords);
	b->seq++;
	b->nrecords = b->nsessions = b->ngaps = 0;
	for (c = b->arena_head; c != NULL; c = c->next)
		c->used = 0;
	b->arena = b->arena_head;
}
