/*
 * sim_gen.c - one host-day of mail: sessions first, then records, by time.
 *
 * A day's volume (--rate, shaped by weekday and the host's diurnal curve) is
 * split across the volume classes of sim_isp.c.  Each class's attempts are
 * cut into SMTP sessions of a class-specific size; a session is a (source
 * IP, destination IP) connection on which messages go out 0..G seconds apart
 * (one-second resolution), each one a d, t or b record.  Around the sessions
 * come the records that belong to none: tq for whole queues, synchronous b
 * for domains that do not resolve, DNS-failure t, f, rb, r and rs.
 *
 * Sessions are placed in start order.  By default bursts of 2-4 connections
 * open on the same IP pair at once, as PowerMTA does with parallel
 * connections, which no inference can separate.  With --clean-sessions each
 * IP pair carries one session at a time and the next one starts more than G
 * seconds after the last record of the previous one, so design.md's rule
 * recovers the sessions exactly; pair_free remembers, across days, the first
 * second each pair may be used again.
 *
 * The day's records are sorted by time with a stable radix sort.  A session
 * that runs past midnight leaves its tail in a per-host carry that opens the
 * next day, so every day's output lies inside that day and each host's
 * stream is in non-decreasing time order.  Nothing is generated at or after
 * the host's end (simulation end, or the start of a --silent-host period).
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

struct spec {
	int64_t start;
	uint32_t seq;
	uint32_t group;		/* parallel-connection burst, UINT32_MAX: none */
	uint16_t n;
	uint16_t dom;
	uint8_t cls;
	uint8_t job;
};

struct ghost {
	int64_t *pair_free;	/* clean mode, [vmta][dest] */
	struct sim_rec *carry;
	size_t ncarry, capcarry;
};

struct burst {
	uint8_t set, vmta;
	uint16_t dest;
};

struct sim_gen {
	const struct sim_opts *o;
	const struct sim_world *w;
	const struct sim_fleet *f;
	struct ghost *gh;
};

/* A worker's scratch, reused by every host-day it generates. */
struct sim_genw {
	struct rng r;
	struct sim_rec *rec;
	size_t nrec, caprec;
	uint64_t *key, *ktmp;
	uint32_t *order;
	size_t capkey;
	struct spec *spec;
	size_t nspec, capspec;
	struct burst *burst;
	size_t capburst;
	uint32_t off[65536];
};

/* What the functions below work on: one host-day for one worker. */
struct genctx {
	const struct sim_opts *o;
	const struct sim_world *w;
	const struct sim_fleet *f;
	struct ghost *gh;
	struct sim_genw *ws;
	struct rng *r;		/* &ws->r */
};

/* Share of records that belong to no session, per day's volume. */
#define SHARE_TQ	0.003
#define SHARE_BADDOM	0.0015
#define SHARE_DNS	0.0005
#define SHARE_R		0.002
#define SHARE_RS	0.0005
#define SHARE_SESSION	(1.0 - SHARE_TQ - SHARE_BADDOM - SHARE_DNS - \
			    SHARE_R - SHARE_RS - 0.001)

static void *
grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 1024;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	p = reallocarray(p, n, size);
	if (p == NULL)
		sim_fatal("out of memory", NULL);
	*cap = n;
	return p;
}

struct sim_gen *
gen_new(const struct sim_opts *o, const struct sim_world *w,
    const struct sim_fleet *f)
{
	struct sim_gen *g = sim_alloc(1, sizeof(*g));
	int i;

	g->o = o;
	g->w = w;
	g->f = f;
	g->gh = sim_alloc((size_t)f->nhosts, sizeof(*g->gh));
	if (o->clean) {
		for (i = 0; i < f->nhosts; i++) {
			size_t n = (size_t)f->host[i].nvmta * w->ndest, k;

			if (o->to_stdout && i != o->host_index)
				continue;
			g->gh[i].pair_free = sim_alloc(n, sizeof(int64_t));
			for (k = 0; k < n; k++)
				g->gh[i].pair_free[k] = INT64_MIN;
		}
	}
	return g;
}

void
gen_free(struct sim_gen *g)
{
	int i;

	if (g == NULL)
		return;
	for (i = 0; i < g->f->nhosts; i++) {
		free(g->gh[i].pair_free);
		free(g->gh[i].carry);
	}
	free(g->gh);
	free(g);
}

struct sim_genw *
gen_worker_new(void)
{
	return sim_alloc(1, sizeof(struct sim_genw));
}

void
gen_worker_free(struct sim_genw *s)
{
	if (s == NULL)
		return;
	free(s->rec);
	free(s->key);
	free(s->ktmp);
	free(s->order);
	free(s->spec);
	free(s->burst);
	free(s);
}

static struct sim_rec *
push(struct genctx *g)
{
	struct sim_genw *ws = g->ws;
	struct sim_rec *r;

	ws->rec = grow(ws->rec, &ws->caprec, ws->nrec + 1, sizeof(*ws->rec));
	r = &ws->rec[ws->nrec++];
	memset(r, 0, sizeof(*r));
	r->vmta = SIM_NONE8;
	r->dest = SIM_NONE16;
	r->rnd = (uint32_t)rng_next(g->r);
	return r;
}

/* design.md's deferral rate t / (d + b + t), with --deferral-trend ramps. */
static double
defer_rate(const struct genctx *g, int isp, int64_t t)
{
	const struct sim_trend *tr = &g->o->trend[isp];
	int64_t ramp;

	if (!tr->active)
		return g->w->base_defer[isp];
	ramp = g->o->end - (int64_t)tr->days * SIM_DAY;
	if (t < ramp)
		return tr->from / 100.0;
	return (tr->from + (tr->to - tr->from) * (double)(t - ramp) /
	    ((double)tr->days * SIM_DAY)) / 100.0;
}

static uint16_t
session_size(struct genctx *g, int cls, int day)
{
	const struct sim_classinfo *c = &g->w->cls[cls];
	const struct sim_collapse *k = &g->o->collapse[c->isp];

	if (k->active && day >= g->o->days - k->days) {
		uint32_t lo = k->mps / 2 ? (uint32_t)k->mps / 2 : 1;
		uint32_t hi = (uint32_t)k->mps * 3 / 2;

		return (uint16_t)rng_range(g->r, lo, hi > lo ? hi : lo);
	}
	return (uint16_t)rng_range(g->r, c->size_lo, c->size_hi);
}

/* PowerMTA opens several connections per queue when it has the volume. */
static int
burst_size(struct genctx *g, int cls)
{
	uint32_t x = rng_below(g->r, 100);

	if (g->o->clean)
		return 1;
	if (cls <= CLS_YAHOO)
		return x < 30 ? 1 : x < 60 ? 2 : x < 85 ? 3 : 4;
	return x < 80 ? 1 : 2;
}

static int
spec_cmp(const void *a, const void *b)
{
	const struct spec *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
plan_sessions(struct genctx *g, const struct sim_host *h, int day,
    int64_t day_start, double rs)
{
	struct sim_genw *ws = g->ws;
	uint32_t group = 0;
	int c;

	ws->nspec = 0;
	for (c = 0; c < CLS_COUNT; c++) {
		uint64_t left = rng_round(g->r, rs * g->w->cls[c].weight / 100);

		while (left > 0) {
			int k, nb = burst_size(g, c);
			int64_t base = fleet_pick_time(h, day_start, g->r);
			uint16_t dom = world_pick_domain(g->w, c, g->r);
			uint8_t job = fleet_pick_job(h, g->r);

			for (k = 0; k < nb && left > 0; k++) {
				struct spec *s;
				uint16_t n = session_size(g, c, day);

				if (n > left)
					n = (uint16_t)left;
				left -= n;
				ws->spec = grow(ws->spec, &ws->capspec,
				    ws->nspec + 1, sizeof(*ws->spec));
				s = &ws->spec[ws->nspec];
				s->start = base + (k ? rng_below(g->r, 4) : 0);
				s->seq = (uint32_t)ws->nspec++;
				s->group = nb > 1 ? group : UINT32_MAX;
				s->n = n;
				s->dom = dom;
				s->cls = (uint8_t)c;
				s->job = job;
			}
			if (nb > 1)
				group++;
		}
	}
	ws->burst = grow(ws->burst, &ws->capburst, group + 1,
	    sizeof(*ws->burst));
	memset(ws->burst, 0, (group + 1) * sizeof(*ws->burst));
	if (ws->nspec > 0)
		qsort(ws->spec, ws->nspec, sizeof(*ws->spec), spec_cmp);
}

/*
 * Clean mode: a (vmta, MX) pair of the job's pool and the domain's MX group
 * that is free at *start, else the one free soonest, moving *start there.
 */
static void
clean_pair(struct genctx *g, const struct sim_host *h, const struct spec *s,
    int64_t *start, uint8_t *vmta, uint16_t *dest)
{
	const struct sim_mxgroup *mg = &g->w->mxg[g->w->dom[s->dom].mxg];
	int pool = h->job[s->job].pool, pn = h->pool_n[pool], a, b;
	uint32_t v0 = rng_below(g->r, (uint32_t)pn);
	uint32_t d0 = rng_below(g->r, mg->n);
	int64_t best = INT64_MAX;

	for (a = 0; a < pn; a++) {
		uint8_t v = h->pool_vmta[pool][(v0 + (uint32_t)a) % (uint32_t)pn];

		for (b = 0; b < mg->n; b++) {
			uint16_t d = (uint16_t)(mg->first +
			    (d0 + (uint32_t)b) % mg->n);
			int64_t fr = g->gh->pair_free[(size_t)v * g->w->ndest + d];

			if (fr < best) {
				best = fr;
				*vmta = v;
				*dest = d;
				if (fr <= *start)
					return;
			}
		}
	}
	*start = best;
}

static void
make_session(struct genctx *g, const struct sim_host *h, const struct spec *s,
    int64_t day_start)
{
	const struct sim_classinfo *c = &g->w->cls[s->cls];
	const struct sim_job *job = &h->job[s->job];
	int64_t start = s->start, latest;
	uint32_t dur, i, gap = (uint32_t)g->o->gap;
	uint8_t vmta = 0;
	uint16_t dest = 0;
	double pt, pb;

	g->ws->off[0] = 0;
	for (i = 1; i < s->n; i++)
		g->ws->off[i] = g->ws->off[i - 1] + rng_below(g->r, gap + 1);
	dur = g->ws->off[s->n - 1];
	latest = h->end - 1 - dur;
	if (start > latest)
		start = latest;
	if (start < day_start)
		return;
	if (g->o->clean) {
		clean_pair(g, h, s, &start, &vmta, &dest);
		if (start > latest)
			return;
		g->gh->pair_free[(size_t)vmta * g->w->ndest + dest] =
		    start + dur + gap + 1;
	} else if (s->group != UINT32_MAX && g->ws->burst[s->group].set) {
		vmta = g->ws->burst[s->group].vmta;
		dest = g->ws->burst[s->group].dest;
	} else {
		vmta = fleet_pick_vmta(h, s->job, g->r);
		dest = world_pick_dest(g->w, s->dom, g->r);
		if (s->group != UINT32_MAX) {
			g->ws->burst[s->group].set = 1;
			g->ws->burst[s->group].vmta = vmta;
			g->ws->burst[s->group].dest = dest;
		}
	}
	pt = defer_rate(g, c->isp, start);
	pb = c->bounce;
	for (i = 0; i < s->n; i++) {
		struct sim_rec *r = push(g);
		double u = rng_unit(g->r);

		r->t = start + g->ws->off[i];
		r->dom = c->rollup ? world_pick_domain(g->w, s->cls, g->r) : s->dom;
		r->vmta = vmta;
		r->dest = dest;
		r->job = s->job;
		r->flags = RF_CONN;
		if (i == 0) {
			r->flags |= RF_FIRST;
			r->sess_n = s->n;
			r->sess_dur = dur;
		}
		if (g->w->dom[r->dom].upperlen && (r->rnd >> 24) == 0)
			r->flags |= RF_UPPER;
		if (u < pt) {
			r->type = REC_T;
			r->diag = diag_pick(c->isp, DG_T, g->r);
			r->qdelay = rng_range(g->r, 300, 14400);
			if (rng_below(g->r, 5) == 0)
				r->size = (uint32_t)(job->size * (0.85 + 0.3 * u));
		} else if (u < pt + pb) {
			r->type = REC_B;
			r->diag = diag_pick(c->isp, DG_B, g->r);
			r->qdelay = rng_below(g->r, 30);
		} else {
			r->type = REC_D;
			r->diag = diag_pick(c->isp, DG_D, g->r);
			r->size = (uint32_t)(job->size * (0.85 + 0.3 * u));
			r->qdelay = rng_below(g->r, 20) == 0 ?
			    rng_range(g->r, 60, 3600) : rng_below(g->r, 20);
		}
	}
}

/* A record outside any session, at a time drawn from the diurnal curve. */
static struct sim_rec *
loose(struct genctx *g, const struct sim_host *h, int64_t day_start,
    int type, uint16_t dom)
{
	struct sim_rec *r = push(g);

	r->t = fleet_pick_time(h, day_start, g->r);
	r->type = (uint8_t)type;
	r->dom = dom;
	r->job = fleet_pick_job(h, g->r);
	r->vmta = fleet_pick_vmta(h, r->job, g->r);
	r->flags = RF_SRC_NONE;
	return r;
}

static int
pick_mailbox_class(struct genctx *g)
{
	int c;

	do
		c = world_pick_class(g->w, g->r);
	while (c == CLS_GBIZ || c == CLS_MSBIZ);
	return c;
}

static void
make_loose(struct genctx *g, const struct sim_host *h, int64_t day_start,
    double rtot, double rs)
{
	const struct sim_world *w = g->w;
	struct sim_rec *r;
	uint64_t n, i;
	int c;

	for (n = rng_round(g->r, rtot * SHARE_TQ), i = 0; i < n; i++) {
		c = world_pick_class(w, g->r);
		r = loose(g, h, day_start, REC_TQ, world_pick_domain(w, c, g->r));
		r->dest = world_pick_dest(w, r->dom, g->r);
		r->flags = rng_below(g->r, 10) < 7 ? RF_SRC_ZERO : RF_SRC_NONE;
		r->diag = diag_pick(ISP_OTHER, DG_TQ, g->r);
	}
	for (n = rng_round(g->r, rtot * SHARE_BADDOM), i = 0; i < n; i++) {
		r = loose(g, h, day_start, REC_B,
		    w->typo[rng_below(g->r, w->ntypo)]);
		if (rng_below(g->r, 2))
			r->flags = 0;	/* the vmta's IP, but no destination */
		r->diag = diag_pick(ISP_OTHER, DG_BADDOM, g->r);
		r->qdelay = rng_below(g->r, 5);
	}
	for (n = rng_round(g->r, rtot * SHARE_DNS), i = 0; i < n; i++) {
		r = loose(g, h, day_start, REC_T,
		    world_pick_domain(w, CLS_OTHER, g->r));
		r->diag = diag_pick(ISP_OTHER, DG_DNS, g->r);
		r->qdelay = rng_range(g->r, 60, 7200);
	}
	for (c = 0; c < CLS_COUNT; c++) {
		const struct sim_classinfo *ci = &w->cls[c];
		double delivered = rs * ci->weight / 100 *
		    (1 - w->base_defer[ci->isp] - ci->bounce);

		if (c == CLS_GBIZ || c == CLS_MSBIZ)
			continue;	/* only their MX says who they are */
		for (n = rng_round(g->r, delivered * ci->fbl), i = 0; i < n; i++)
			loose(g, h, day_start, REC_F,
			    world_pick_domain(w, c, g->r));
		for (n = rng_round(g->r, delivered * ci->rb), i = 0; i < n; i++) {
			r = loose(g, h, day_start, REC_RB,
			    world_pick_domain(w, c, g->r));
			r->diag = diag_pick(ISP_OTHER, DG_RB, g->r);
			r->qdelay = rng_range(g->r, 600, SIM_DAY);
		}
	}
	for (n = rng_round(g->r, rtot * SHARE_R), i = 0; i < n; i++) {
		c = world_pick_class(w, g->r);
		r = loose(g, h, day_start, REC_R, world_pick_domain(w, c, g->r));
		r->size = h->job[r->job].size;
	}
	for (n = rng_round(g->r, rtot * SHARE_RS), i = 0; i < n; i++) {
		c = pick_mailbox_class(g);
		r = loose(g, h, day_start, REC_RS, world_pick_domain(w, c, g->r));
		r->diag = diag_pick(ISP_OTHER, DG_RS, g->r);
		r->qdelay = rng_range(g->r, 600, SIM_DAY);
	}
}

static void
make_day(struct genctx *g, int host, int day, int64_t day_start)
{
	const struct sim_host *h = &g->f->host[host];
	int64_t epoch_day = day_start / SIM_DAY;
	int dow = (int)((epoch_day + 4) % 7);	/* 0 = Sunday */
	double rtot, rs;
	size_t i;

	rng_seed(g->r, g->o->seed, 0x40000 + (uint64_t)host, (uint64_t)day);
	rtot = (double)g->o->rate * (dow == 0 || dow == 6 ? 0.85 : 1.0) *
	    (0.95 + 0.1 * rng_unit(g->r));
	rs = rtot * SHARE_SESSION;
	plan_sessions(g, h, day, day_start, rs);
	for (i = 0; i < g->ws->nspec; i++)
		make_session(g, h, &g->ws->spec[i], day_start);
	make_loose(g, h, day_start, rtot, rs);
}

/* Stable LSD radix sort on the time part (upper 32 bits) of the keys. */
static uint64_t *
sort_keys(uint64_t *a, uint64_t *tmp, size_t n)
{
	uint64_t maxv = 0;
	size_t i;
	int shift;

	for (i = 0; i < n; i++)
		if (a[i] > maxv)
			maxv = a[i];
	for (shift = 32; shift < 64 && (maxv >> shift) != 0; shift += 11) {
		size_t cnt[2048], sum = 0;
		uint64_t *t;

		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[(a[i] >> shift) & 2047]++;
		for (i = 0; i < 2048; i++) {
			size_t c = cnt[i];

			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			tmp[cnt[(a[i] >> shift) & 2047]++] = a[i];
		t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

size_t
gen_day(struct sim_gen *gen, struct sim_genw *s, int host, int day,
    const struct sim_rec **rec, const uint32_t **order)
{
	struct genctx ctx = { gen->o, gen->w, gen->f, &gen->gh[host], s, &s->r };
	struct ghost *gh = ctx.gh;
	const struct sim_host *h = &gen->f->host[host];
	int64_t day_start = gen->o->start + (int64_t)day * SIM_DAY;
	uint64_t *key;
	size_t i, n, nemit;

	s->nrec = 0;
	if (gh->ncarry) {
		s->rec = grow(s->rec, &s->caprec, gh->ncarry, sizeof(*s->rec));
		memcpy(s->rec, gh->carry, gh->ncarry * sizeof(*s->rec));
		s->nrec = gh->ncarry;
		gh->ncarry = 0;
	}
	if (day_start < h->end)
		make_day(&ctx, host, day, day_start);
	n = s->nrec;
	if (n > UINT32_MAX)
		sim_fatal("too many records in one host-day", NULL);
	if (s->capkey < n) {
		size_t cap = s->capkey;

		s->key = grow(s->key, &cap, n, sizeof(*s->key));
		cap = s->capkey;
		s->ktmp = grow(s->ktmp, &cap, n, sizeof(*s->ktmp));
		cap = s->capkey;
		s->order = grow(s->order, &cap, n, sizeof(*s->order));
		s->capkey = cap;
	}
	for (i = 0; i < n; i++)
		s->key[i] = ((uint64_t)(s->rec[i].t - day_start) << 32) | i;
	key = sort_keys(s->key, s->ktmp, n);
	for (nemit = 0; nemit < n; nemit++)
		if ((key[nemit] >> 32) >= SIM_DAY)
			break;
	for (i = 0; i < n; i++)
		s->order[i] = (uint32_t)key[i];
	if (nemit < n) {
		gh->carry = grow(gh->carry, &gh->capcarry, n - nemit,
		    sizeof(*gh->carry));
		for (i = nemit; i < n; i++)
			gh->carry[i - nemit] = s->rec[s->order[i]];
		gh->ncarry = n - nemit;
	}
	*rec = s->rec;
	*order = s->order;
	return nemit;
}
