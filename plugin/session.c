/*
 * session.c: infer SMTP sessions from delivery records.
 *
 * Eligible records (d, t, b with both IPs, source not 0.0.0.0) are keyed by
 * (source IP, destination IP).  Each key has at most one open session; a
 * record within G seconds of the session's latest time joins it, any other
 * record closes it and opens a new one.  The stream clock (largest time
 * seen on this stream) closes sessions whose latest time is more than G
 * behind it, so a quiet pair does not hold its session open forever.
 *
 * Open sessions live in a chained hash table for lookup and in a binary
 * min-heap on their latest time for the clock rule, so each record costs
 * one hash lookup and at most a heap sift.  A node holds its four strings
 * inline, sized to fit, and is allocated once per session (not per
 * record).  The number open at once is capped (the oldest is closed
 * early, and counted) so that a stream of random IP pairs, or one whose
 * time steps backwards and so never ages its sessions out, stays small.
 */
#include "session.h"

#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>

#include "bounds.h"
#include "log.h"

struct sess {
	struct sess	*next;		/* hash chain */
	uint64_t	 id;
	int64_t		 first;
	int64_t		 last;
	uint32_t	 records;
	uint32_t	 hash;
	size_t		 heap_idx;
	uint8_t		 src_n, dst_n, domain_n, mta_n;
	char		 str[];		/* src, dst, domain, mta */
};

#define S_SRC(s)	((s)->str)
#define S_DST(s)	((s)->str + (s)->src_n)
#define S_DOMAIN(s)	((s)->str + (s)->src_n + (s)->dst_n)
#define S_MTA(s)	(S_DOMAIN(s) + (s)->domain_n)

struct sessions {
	int64_t		 gap;
	int64_t		 clock;
	int		 clock_set;
	uint64_t	 next_id;
	uint64_t	 evicted;
	session_closefn	 closefn;
	void		*closearg;
	struct sess	**buckets;
	size_t		 nbuckets;	/* power of two */
	struct sess	**heap;
	size_t		 nopen;
	size_t		 heapcap;
};

static uint32_t		pair_hash(struct slice, struct slice);
static struct sess	*sess_new(const struct record *);
static void		sess_close(struct sessions *, struct sess *);
static void		heap_up(struct sessions *, size_t);
static void		heap_down(struct sessions *, size_t);
static void		heap_swap(struct sessions *, size_t, size_t);
static void		table_grow(struct sessions *);

struct sessions *
sessions_new(int64_t gap, session_closefn fn, void *arg)
{
	struct sessions *ss;

	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return NULL;
	ss->gap = gap;
	ss->closefn = fn;
	ss->closearg = arg;
	ss->next_id = 1;
	ss->nbuckets = 256;
	if ((ss->buckets = calloc(ss->nbuckets, sizeof(*ss->buckets))) ==
	    NULL) {
		free(ss);
		return NULL;
	}
	return ss;
}

void
sessions_free(struct sessions *ss)
{
	size_t i;

	if (ss == NULL)
		return;
	for (i = 0; i < ss->nopen; i++)
		free(ss->heap[i]);
	free(ss->heap);
	free(ss->buckets);
	free(ss);
}

size_t
sessions_open_count(const struct sessions *ss)
{
	return ss->nopen;
}

uint64_t
sessions_evicted(const struct sessions *ss)
{
	return ss->evicted;
}

/* FNV-1a over both addresses, with a separator so pairs cannot collide by
 * shifting bytes from one to the other. */
static uint32_t
pair_hash(struct slice a, struct slice b)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < a.n; i++)
		h = (h ^ (unsigned char)a.p[i]) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (i = 0; i < b.n; i++)
		h = (h ^ (unsigned char)b.p[i]) * 16777619u;
	return h;
}

/* A node with room for exactly its strings (each at most 255 bytes). */
static struct sess *
sess_new(const struct record *r)
{
	struct slice v[4] = { r->src_ip, r->dst_ip, r->domain, r->dsn_mta };
	struct sess *s;
	size_t i, n[4], off = 0;

	for (i = 0; i < 4; i++)
		n[i] = v[i].n < 255 ? v[i].n : 255;
	if ((s = malloc(sizeof(*s) + n[0] + n[1] + n[2] + n[3])) == NULL)
		fatal("session node");
	for (i = 0; i < 4; i++) {
		memcpy(s->str + off, v[i].p, n[i]);
		off += n[i];
	}
	s->src_n = (uint8_t)n[0];
	s->dst_n = (uint8_t)n[1];
	s->domain_n = (uint8_t)n[2];
	s->mta_n = (uint8_t)n[3];
	return s;
}

static void
heap_swap(struct sessions *ss, size_t a, size_t b)
{
	struct sess *t = ss->heap[a];

	ss->heap[a] = ss->heap[b];
	ss->heap[b] = t;
	ss->heap[a]->heap_idx = a;
	ss->heap[b]->heap_idx = b;
}

static void
heap_up(struct sessions *ss, size_t i)
{
	while (i > 0 && ss->heap[(i - 1) / 2]->last > ss->heap[i]->last) {
		heap_swap(ss, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct sessions *ss, size_t i)
{
	size_t l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < ss->nopen && ss->heap[l]->last < ss->heap[m]->last)
			m = l;
		if (r < ss->nopen && ss->heap[r]->last < ss->heap[m]->last)
			m = r;
		if (m == i)
			return;
		heap_swap(ss, i, m);
		i = m;
	}
}

static void
table_grow(struct sessions *ss)
{
	struct sess **nb, *s, *next;
	size_t i, nn = ss->nbuckets * 2;

	if ((nb = calloc(nn, sizeof(*nb))) == NULL)
		fatal("session table");
	for (i = 0; i < ss->nbuckets; i++) {
		for (s = ss->buckets[i]; s != NULL; s = next) {
			next = s->next;
			s->next = nb[s->hash & (nn - 1)];
			nb[s->hash & (nn - 1)] = s;
		}
	}
	free(ss->buckets);
	ss->buckets = nb;
	ss->nbuckets = nn;
}

/* Emit s, then unlink it from the table and the heap. */
static void
sess_close(struct sessions *ss, struct sess *s)
{
	struct session_info si;
	struct sess **pp;
	size_t i;

	si.id = s->id;
	si.src_ip = (struct slice){ S_SRC(s), s->src_n };
	si.dst_ip = (struct slice){ S_DST(s), s->dst_n };
	si.domain = (struct slice){ S_DOMAIN(s), s->domain_n };
	si.dsn_mta = (struct slice){ S_MTA(s), s->mta_n };
	si.first = s->first;
	si.last = s->last;
	si.records = s->records;
	ss->closefn(ss->closearg, &si);

	for (pp = &ss->buckets[s->hash & (ss->nbuckets - 1)]; *pp != s;
	    pp = &(*pp)->next)
		;
	*pp = s->next;
	i = s->heap_idx;
	ss->nopen--;
	if (i != ss->nopen) {
		heap_swap(ss, i, ss->nopen);
		heap_down(ss, i);
		heap_up(ss, i);
	}
	free(s);
}

void
sessions_add(struct sessions *ss, struct record *r)
{
	struct sess *s;
	uint32_t h;
	int64_t t = r->time_logged, d;

	if (!ss->clock_set || t > ss->clock) {
		ss->clock = t;
		ss->clock_set = 1;
		while (ss->nopen > 0 && ss->heap[0]->last + ss->gap <
		    ss->clock)
			sess_close(ss, ss->heap[0]);
	}
	if ((r->type != REC_D && r->type != REC_T && r->type != REC_B) ||
	    r->src_ip.n == 0 || r->dst_ip.n == 0 ||
	    (r->src_ip.n == 7 && memcmp(r->src_ip.p, "0.0.0.0", 7) == 0))
		return;

	h = pair_hash(r->src_ip, r->dst_ip);
	for (s = ss->buckets[h & (ss->nbuckets - 1)]; s != NULL; s = s->next)
		if (s->hash == h && s->src_n == r->src_ip.n &&
		    s->dst_n == r->dst_ip.n &&
		    memcmp(S_SRC(s), r->src_ip.p, s->src_n) == 0 &&
		    memcmp(S_DST(s), r->dst_ip.p, s->dst_n) == 0)
			break;
	if (s != NULL) {
		d = t - s->last;
		if (d >= -ss->gap && d <= ss->gap) {
			s->records++;
			if (t > s->last) {
				s->last = t;
				heap_down(ss, s->heap_idx);
			}
			r->session_id = s->id;
			return;
		}
		sess_close(ss, s);
	}

	if (ss->nopen >= SESSION_MAX_OPEN) {
		ss->evicted++;
		sess_close(ss, ss->heap[0]);
	}
	if (ss->nopen >= ss->nbuckets)
		table_grow(ss);
	if (ss->nopen >= ss->heapcap) {
		size_t nc = ss->heapcap ? ss->heapcap * 2 : 64;
		struct sess **nh;

		if ((nh = reallocarray(ss->heap, nc, sizeof(*nh))) == NULL)
			fatal("session heap");
		ss->heap = nh;
		ss->heapcap = nc;
	}
	s = sess_new(r);
	s->id = ss->next_id++;
	s->first = s->last = t;
	s->records = 1;
	s->hash = h;
	s->next = ss->buckets[h & (ss->nbuckets - 1)];
	ss->buckets[h & (ss->nbuckets - 1)] = s;
	s->heap_idx = ss->nopen;
	ss->heap[ss->nopen++] = s;
	heap_up(ss, s->heap_idx);
	r->session_id = s->id;
}

void
sessions_close_all(struct sessions *ss)
{
	/* Oldest first, so sessions come out in time order. */
	while (ss->nopen > 0)
		sess_close(ss, ss->heap[0]);
}
