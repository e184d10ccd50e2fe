/*
 * batch.c: the encoding stage of the hot path.
 *
 * A batch is columnar (see proto/mtascope.proto): each record appends one
 * element to every column, and string values are interned in a per-batch
 * string table so a domain, an IP or a vmta name seen a thousand times is
 * stored and sent once.  The table is an open-addressing hash over copies
 * kept in an arena of fixed-size chunks (the CSV buffer the record points
 * into is reused by the next read).  When the batch holds its quota it is
 * packed into one reusable buffer, handed to the sink, and everything is
 * rewound.  After warm-up nothing is allocated: memory is bounded by the
 * batch size.
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/stdlib.h>

#include "bounds.h"
#include "log.h"
#include "mtascope.pb-c.h"
#include "spool.h"

#define ARENA_CHUNK	(256 * 1024)
#define MAX_GAPS	SPOOL_MAX_HOURS
#define STR_FIELDS	12	/* string columns per record, upper bound */

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 used;
	char			 data[ARENA_CHUNK];
};

struct strtab {
	char		**strs;		/* the Batch.strings array */
	uint32_t	 *lens;
	size_t		  n;
	size_t		  cap;
	uint64_t	 *slots;	/* hash << 32 | entry + 1; 0: empty */
	uint32_t	  last[STR_FIELDS + 4];	/* per column, see intern() */
	size_t		  nslots;	/* power of two, > 2 * cap */
};

struct batcher {
	batch_sinkfn			 sink;
	void				*sinkarg;
	size_t				 max;
	uint64_t			 seq;
	char				*host;
	char				*spool_id;
	Mtascope__V1__Batch		 msg;
	Mtascope__V1__Records		 cols;
	Mtascope__V1__AgentCounters	 counters;
	size_t				 nrecords;
	Mtascope__V1__Session		*sessions;
	Mtascope__V1__Session		**session_ptrs;
	size_t				 nsessions;
	Mtascope__V1__Gap		 gaps[MAX_GAPS];
	Mtascope__V1__Gap		*gap_ptrs[MAX_GAPS];
	size_t				 ngaps;
	struct strtab			 tab;
	struct arena_chunk		*arena;		/* chunk in use */
	struct arena_chunk		*arena_head;
	uint8_t				*out;
	size_t				 outcap;
	int				 omit_counters;
};

static char	*arena_str(struct batcher *, const char *, size_t);
static uint32_t	 str_hash(const char *, size_t);
static uint32_t	 intern(struct batcher *, struct slice, uint32_t *);
static int	 strtab_init(struct strtab *, size_t);
static void	 strtab_grow(struct strtab *);
static void	 strtab_reset(struct strtab *);
static void	 strtab_free(struct strtab *);

/*
 * The table starts small enough to stay in L1/L2 cache and doubles when
 * half full; a batch of unusually diverse records grows it once and the
 * size is kept for the batches after.
 */
static int
strtab_init(struct strtab *t, size_t cap)
{
	t->cap = cap;
	t->nslots = 2 * cap;
	t->strs = calloc(cap, sizeof(*t->strs));
	t->lens = calloc(cap, sizeof(*t->lens));
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	if (t->strs == NULL || t->lens == NULL ||
	    t->slots == NULL)
		return -1;
	strtab_reset(t);
	return 0;
}

static void
strtab_grow(struct strtab *t)
{
	size_t cap = t->cap * 2, nslots = t->nslots * 2, i, j;
	uint64_t *slots;
	char **strs;
	uint32_t *lens;

	if ((strs = reallocarray(t->strs, cap, sizeof(*strs))) == NULL)
		fatal("batch string table");
	t->strs = strs;
	if ((lens = reallocarray(t->lens, cap, sizeof(*lens))) == NULL)
		fatal("batch string table");
	t->lens = lens;
	if ((slots = calloc(nslots, sizeof(*slots))) == NULL)
		fatal("batch string table");
	for (i = 0; i < t->nslots; i++) {
		if (t->slots[i] == 0)
			continue;
		for (j = (t->slots[i] >> 32) & (nslots - 1); slots[j] != 0;
		    j = (j + 1) & (nslots - 1))
			;
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	t->cap = cap;
}

/* Equality for the short strings interned here, without a libc call. */
static inline int
bytes_equal(const char *a, const char *b, size_t n)
{
	uint64_t x, y, u, v;

	if (n >= 8 && n <= 16) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(&u, a + n - 8, 8);
		memcpy(&v, b + n - 8, 8);
		return ((x ^ y) | (u ^ v)) == 0;
	}
	return memcmp(a, b, n) == 0;
}

static void
strtab_reset(struct strtab *t)
{
	memset(t->slots, 0, t->nslots * sizeof(*t->slots));
	t->strs[0] = (char *)"";
	t->lens[0] = 0;
	t->n = 1;
	memset(t->last, 0, sizeof(t->last));
}

static void
strtab_free(struct strtab *t)
{
	free(t->strs);
	free(t->lens);
	free(t->slots);
}

struct batcher *
batcher_new(const char *host, const char *spool_id, uint64_t first_seq,
    size_t max_records, batch_sinkfn sink, void *arg)
{
	struct batcher *b;
	Mtascope__V1__Records *c;
	size_t i, m = max_records;

	if (max_records == 0 || max_records > MTA_MAX_BATCH_RECORDS)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->sink = sink;
	b->sinkarg = arg;
	b->max = m;
	b->seq = first_seq;
	c = &b->cols;
	mtascope__v1__records__init(c);
	if ((b->host = strdup(host)) == NULL ||
	    (b->spool_id = strdup(spool_id)) == NULL ||
	    (c->type = calloc(m, sizeof(*c->type))) == NULL ||
	    (c->time_logged = calloc(m, sizeof(int64_t))) == NULL ||
	    (c->time_queued = calloc(m, sizeof(int64_t))) == NULL ||
	    (c->rcpt_domain = calloc(m, sizeof(uint32_t))) == NULL ||
	    (c->rcpt = calloc(m, sizeof(uint32_t))) == NULL ||
	    (c->dsn_status = calloc(m, sizeof(uint32_t))) == NULL ||
	    (c->dsn_diag = calloc(m, sizeof(uint32_t))) == NULL ||
	    (c->dsn_mta = calloc(m, sizeof(uint32_t))) == NULL ||
	    (c->bounce_cat = calloc(m, sizeof(uint32_t))) == NULL ||
	    (c->source_ip = calloc(m, sizeof(uint32_t))) == NULL ||
	    (c->destination_ip = calloc(m, sizeof(uint32_t))) == NULL ||
	    (c->vmta = calloc(m, sizeof(uint32_t))) == NULL ||
	    (c->vmta_pool = calloc(m, sizeof(uint32_t))) == NULL ||
	    (c->queue = calloc(m, sizeof(uint32_t))) == NULL ||
	    (c->job_id = calloc(m, sizeof(uint32_t))) == NULL ||
	    (c->size = calloc(m, sizeof(uint64_t))) == NULL ||
	    (c->session_id = calloc(m, sizeof(uint64_t))) == NULL ||
	    (c->line = calloc(m, sizeof(uint64_t))) == NULL ||
	    (b->sessions = calloc(m, sizeof(*b->sessions))) == NULL ||
	    (b->session_ptrs = calloc(m, sizeof(*b->session_ptrs))) ==
	    NULL ||
	    strtab_init(&b->tab, 2048) == -1 ||
	    (b->arena_head = calloc(1, sizeof(*b->arena_head))) == NULL) {
		batcher_free(b);
		return NULL;
	}
	b->arena = b->arena_head;
	for (i = 0; i < m; i++)
		b->session_ptrs[i] = &b->sessions[i];
	for (i = 0; i < MAX_GAPS; i++)
		b->gap_ptrs[i] = &b->gaps[i];
	mtascope__v1__agent_counters__init(&b->counters);
	return b;
}

void
batcher_free(struct batcher *b)
{
	struct arena_chunk *ch, *next;
	Mtascope__V1__Records *c;

	if (b == NULL)
		return;
	c = &b->cols;
	for (ch = b->arena_head; ch != NULL; ch = next) {
		next = ch->next;
		free(ch);
	}
	free(c->type);
	free(c->time_logged);
	free(c->time_queued);
	free(c->rcpt_domain);
	free(c->rcpt);
	free(c->dsn_status);
	free(c->dsn_diag);
	free(c->dsn_mta);
	free(c->bounce_cat);
	free(c->source_ip);
	free(c->destination_ip);
	free(c->vmta);
	free(c->vmta_pool);
	free(c->queue);
	free(c->job_id);
	free(c->size);
	free(c->session_id);
	free(c->line);
	strtab_free(&b->tab);
	free(b->host);
	free(b->spool_id);
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
arena_str(struct batcher *b, const char *s, size_t n)
{
	struct arena_chunk *c = b->arena;
	char *p;

	if (c->used + n + 1 > ARENA_CHUNK) {
		if (c->next == NULL) {
			if ((c->next = calloc(1, sizeof(*c))) == NULL)
				fatal("batch arena");
		}
		c = b->arena = c->next;
		c->used = 0;
	}
	p = c->data + c->used;
	memcpy(p, s, n);
	p[n] = '\0';
	c->used += n + 1;
	return p;
}

/* A multiplicative hash, eight bytes a step: the values are short. */
static uint32_t
str_hash(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w, lo, hi;
	size_t len = n;

	while (n > 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	/* The last 1..8 bytes, by fixed-size loads only. */
	if (len >= 8) {
		memcpy(&w, p + n - 8, 8);
	} else if (n >= 4) {
		uint32_t a, c;

		memcpy(&a, p, 4);
		memcpy(&c, p + n - 4, 4);
		lo = a;
		hi = c;
		w = lo | hi << 32;
	} else {
		w = (uint64_t)(unsigned char)p[0] |
		    (uint64_t)(unsigned char)p[n / 2] << 8 |
		    (uint64_t)(unsigned char)p[n - 1] << 16;
	}
	h = (h ^ w) * 0xff51afd7ed558ccdull;
	h ^= h >> 29;
	return (uint32_t)h;
}

/*
 * Index of s in the batch's string table, adding it if new.  A slot holds
 * the hash beside the entry number so a probe touches one cache line, and
 * *last remembers the column's previous value: consecutive records of a
 * session share most of their strings and skip the hash entirely.
 */
static uint32_t
intern(struct batcher *b, struct slice s, uint32_t *last)
{
	struct strtab *t = &b->tab;
	size_t mask = t->nslots - 1, i, e;
	uint64_t slot;
	uint32_t h;

	if (s.n == 0)
		return 0;
	e = *last;
	if (e < t->n && t->lens[e] == s.n && bytes_equal(t->strs[e], s.p, s.n))
		return (uint32_t)e;
	h = str_hash(s.p, s.n);
	for (i = h & mask; (slot = t->slots[i]) != 0; i = (i + 1) & mask) {
		if ((uint32_t)(slot >> 32) != h)
			continue;
		e = (uint32_t)slot - 1;
		if (t->lens[e] == s.n && bytes_equal(t->strs[e], s.p, s.n)) {
			*last = (uint32_t)e;
			return (uint32_t)e;
		}
	}
	if (t->n >= t->cap) {
		strtab_grow(t);
		for (i = h & (t->nslots - 1); t->slots[i] != 0;
		    i = (i + 1) & (t->nslots - 1))
			;
	}
	e = t->n++;
	t->strs[e] = arena_str(b, s.p, s.n);
	t->lens[e] = (uint32_t)s.n;
	t->slots[i] = ((uint64_t)h << 32) | (uint32_t)(e + 1);
	*last = (uint32_t)e;
	return (uint32_t)e;
}

void
batcher_add_record(struct batcher *b, const struct record *r)
{
	Mtascope__V1__Records *c = &b->cols;
	size_t i;

	if (b->nrecords >= b->max)
		batcher_flush(b);
	i = b->nrecords++;
	c->type[i] = (Mtascope__V1__RecordType)r->type;
	c->time_logged[i] = r->time_logged;
	c->time_queued[i] = r->time_queued;
	c->rcpt_domain[i] = intern(b, r->domain, &b->tab.last[0]);
	c->rcpt[i] = intern(b, r->rcpt, &b->tab.last[1]);
	c->dsn_status[i] = intern(b, r->dsn_status, &b->tab.last[2]);
	c->dsn_diag[i] = intern(b, r->dsn_diag, &b->tab.last[3]);
	c->dsn_mta[i] = intern(b, r->dsn_mta, &b->tab.last[4]);
	c->bounce_cat[i] = intern(b, r->bounce_cat, &b->tab.last[5]);
	c->source_ip[i] = intern(b, r->src_ip, &b->tab.last[6]);
	c->destination_ip[i] = intern(b, r->dst_ip, &b->tab.last[7]);
	c->vmta[i] = intern(b, r->vmta, &b->tab.last[8]);
	c->vmta_pool[i] = intern(b, r->vmta_pool, &b->tab.last[9]);
	c->queue[i] = intern(b, r->queue, &b->tab.last[10]);
	c->job_id[i] = intern(b, r->job_id, &b->tab.last[11]);
	c->size[i] = r->size;
	c->session_id[i] = r->session_id;
	c->line[i] = r->line;
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
	m->source_ip = intern(b, si->src_ip, &b->tab.last[14]);
	m->destination_ip = intern(b, si->dst_ip, &b->tab.last[15]);
	m->first_time = si->first;
	m->last_time = si->last;
	m->records = si->records;
	m->rcpt_domain = intern(b, si->domain, &b->tab.last[12]);
	m->dsn_mta = intern(b, si->dsn_mta, &b->tab.last[13]);
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
	g->reason = arena_str(b, reason, strlen(reason));
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
batcher_omit_counters(struct batcher *b)
{
	b->omit_counters = 1;
}

void
batcher_flush(struct batcher *b)
{
	Mtascope__V1__Batch *m = &b->msg;
	Mtascope__V1__Records *c = &b->cols;
	struct arena_chunk *ch;
	size_t len, n = b->nrecords;

	if (batcher_pending(b) == 0)
		return;
	c->n_type = c->n_time_logged = c->n_time_queued = n;
	c->n_rcpt_domain = c->n_rcpt = c->n_dsn_status = c->n_dsn_diag = n;
	c->n_dsn_mta = c->n_bounce_cat = c->n_source_ip = n;
	c->n_destination_ip = c->n_vmta = c->n_vmta_pool = c->n_queue = n;
	c->n_job_id = c->n_size = c->n_session_id = c->n_line = n;
	mtascope__v1__batch__init(m);
	m->schema = 1;
	m->host = b->host;
	m->spool_id = b->spool_id;
	m->seq = b->seq;
	m->records = n > 0 ? c : NULL;
	m->n_sessions = b->nsessions;
	m->sessions = b->session_ptrs;
	m->n_gaps = b->ngaps;
	m->gaps = b->gap_ptrs;
	m->counters = b->omit_counters ? NULL : &b->counters;
	m->created = time(NULL);
	m->n_strings = b->tab.n;
	m->strings = b->tab.strs;
	len = mtascope__v1__batch__get_packed_size(m);
	if (len > b->outcap) {
		uint8_t *no;

		if ((no = realloc(b->out, len)) == NULL)
			fatal("batch buffer of %zu bytes", len);
		b->out = no;
		b->outcap = len;
	}
	mtascope__v1__batch__pack(m, b->out);
	b->sink(b->sinkarg, b->seq, b->out, len, n);
	b->seq++;
	b->nrecords = b->nsessions = b->ngaps = 0;
	strtab_reset(&b->tab);
	for (ch = b->arena_head; ch != NULL; ch = ch->next)
		ch->used = 0;
	b->arena = b->arena_head;
}
