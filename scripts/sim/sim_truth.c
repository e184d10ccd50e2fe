/*
 * sim_truth.c - the ground truth of what the simulator wrote.
 *
 * Tests must not trust mtascope to tell them what mtascope should have
 * seen, so every record is also accounted for here, from the simulator's
 * own knowledge rather than by re-parsing its output:
 *
 *   <host>.sessions  one line per true session (source_ip, destination_ip,
 *                    first_epoch, last_epoch, records, domain of the first
 *                    record), in order of first record
 *   <host>.summary   the pipe's summary line: records per type, sessions
 *   truth.csv        design.md's rollup, one row per non-empty
 *                    (hour, isp, host, source_ip), sorted in byte order
 *
 * The ISP here is the one the simulator sent to (sim_isp.c's table), never a
 * re-derivation from the record.  A session counts once, under the hour, ISP
 * and source IP of its first record, with all its records.  Rows are built a
 * host-day at a time in a small dense array owned by the worker emitting
 * that host, then merged by host and ordered with a stable counting sort on
 * (hour, isp), which leaves them fully sorted as truth.csv requires.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

enum {
	K_DELIVERED, K_BOUNCED, K_DEFERRED, K_DEFERRED_QUEUE, K_COMPLAINTS,
	K_REMOTE_BOUNCES, K_SESSIONS, K_SESSION_RECORDS, K_N
};

struct cell {
	uint64_t c[K_N];
	uint64_t bytes;
};

struct row {
	uint16_t hi;		/* hour * ISP_COUNT + isp */
	uint16_t host;
	uint8_t slot;
	struct cell v;
};

struct hostsum {
	uint64_t n[REC_NTYPES];
	uint64_t records, sessions, session_records;
};

#define NCELLS (24 * ISP_COUNT * SIM_SLOTS)

/* One worker's share: the host-day being emitted and the day's rows. */
struct sim_truthw {
	struct sim_truth *t;
	int host;
	int64_t day_start;
	struct cell cells[NCELLS];
	struct row *rows;
	size_t nrows, caprows;
	struct sim_out sess;
};

struct sim_truth {
	const char *dir;
	char *csvpath;
	const struct sim_world *w;
	const struct sim_fleet *f;
	struct sim_truthw *wk;
	int nwk;
	struct row *merged, *sorted;
	size_t capmerged;
	struct sim_out csv;
	struct hostsum *sum;		/* per host, written by its worker */
	uint8_t (*byrank)[SIM_SLOTS];	/* per host: slots in IP byte order */
	const int *run;
	int nrun;
};

static const char *
slot_ip(const struct sim_host *h, int slot)
{
	return slot == 0 ? "" : slot == 1 ? "0.0.0.0" : h->vmta[slot - 2].ip;
}

static void
rank_slots(struct sim_truth *t, const struct sim_host *h)
{
	uint8_t *v = t->byrank[h->index];
	int n = h->nvmta + 2, i, j;

	for (i = 0; i < n; i++)
		v[i] = (uint8_t)i;
	for (i = 1; i < n; i++)	/* insertion sort: at most 18 */
		for (j = i; j > 0 && strcmp(slot_ip(h, v[j - 1]),
		    slot_ip(h, v[j])) > 0; j--) {
			uint8_t x = v[j];

			v[j] = v[j - 1];
			v[j - 1] = x;
		}
}

struct sim_truth *
truth_open(const char *dir, const struct sim_world *w,
    const struct sim_fleet *f, const int *run, int nrun, int nworkers)
{
	static const char header[] = "hour,isp,host,source_ip,delivered,"
	    "bounced,deferred,deferred_queue,complaints,remote_bounces,"
	    "sessions,session_records,bytes\n";
	struct sim_truth *t = sim_alloc(1, sizeof(*t));
	int i;

	t->dir = dir;
	t->w = w;
	t->f = f;
	t->run = run;
	t->nrun = nrun;
	t->sum = sim_alloc((size_t)f->nhosts, sizeof(*t->sum));
	t->byrank = sim_alloc((size_t)f->nhosts, sizeof(*t->byrank));
	out_init(&t->csv, 1 << 20);
	if (nworkers < 1 || nworkers > 64)
		sim_fatal("unsupported number of workers", NULL);
	t->nwk = nworkers;
	t->wk = sim_alloc((size_t)nworkers, sizeof(*t->wk));
	for (i = 0; i < nworkers; i++) {
		t->wk[i].t = t;
		out_init(&t->wk[i].sess, 1 << 20);
	}
	t->csvpath = sim_path(dir, "truth", ".csv");
	t->csv.path = t->csvpath;
	t->csv.fd = sim_open(t->csv.path, 0);
	out_put(&t->csv, header, sizeof(header) - 1);
	for (i = 0; i < nrun; i++) {
		char *p = sim_path(dir, f->host[run[i]].name, ".sessions");

		close(sim_open(p, 0));
		free(p);
		rank_slots(t, &f->host[run[i]]);
	}
	return t;
}

struct sim_truthw *
truth_worker(struct sim_truth *t, int i)
{
	return &t->wk[i];
}

void
truth_host_day_begin(struct sim_truthw *t, int host, int64_t day_start)
{
	t->host = host;
	t->day_start = day_start;
}

static void
session_line(struct sim_truthw *t, const struct sim_rec *r)
{
	const struct sim_vmta *vm = &t->t->f->host[t->host].vmta[r->vmta];
	const struct sim_dest *ds = &t->t->w->dest[r->dest];
	const struct sim_domain *d = &t->t->w->dom[r->dom];
	char *p;

	out_reserve(&t->sess, 256);
	p = t->sess.buf + t->sess.len;
	memcpy(p, vm->ip, vm->iplen);
	p += vm->iplen;
	*p++ = ',';
	memcpy(p, ds->ip, ds->iplen);
	p += ds->iplen;
	*p++ = ',';
	p = fmt_u64(p, (uint64_t)r->t);
	*p++ = ',';
	p = fmt_u64(p, (uint64_t)r->t + r->sess_dur);
	*p++ = ',';
	p = fmt_u64(p, r->sess_n);
	*p++ = ',';
	memcpy(p, d->name, d->namelen);
	p += d->namelen;
	*p++ = '\n';
	t->sess.bytes += (size_t)(p - (t->sess.buf + t->sess.len));
	t->sess.len = (size_t)(p - t->sess.buf);
}

void
truth_record(struct sim_truthw *t, const struct sim_rec *r)
{
	struct hostsum *s = &t->t->sum[t->host];
	int64_t hour = (r->t - t->day_start) / 3600;
	int slot = 0, isp = t->t->w->dom[r->dom].isp;
	struct cell *c;

	if (hour < 0 || hour > 23)
		sim_fatal("record outside its day", NULL);
	if (r->type <= REC_TQ) {
		if (r->flags & RF_SRC_ZERO)
			slot = 1;
		else if (!(r->flags & RF_SRC_NONE) && r->vmta != SIM_NONE8)
			slot = 2 + r->vmta;
	}
	c = &t->cells[((size_t)hour * ISP_COUNT + (size_t)isp) * SIM_SLOTS +
	    (size_t)slot];
	switch (r->type) {
	case REC_D:
		c->c[K_DELIVERED]++;
		c->bytes += r->size;
		break;
	case REC_B:
		c->c[K_BOUNCED]++;
		break;
	case REC_T:
		c->c[K_DEFERRED]++;
		break;
	case REC_TQ:
		c->c[K_DEFERRED_QUEUE]++;
		break;
	case REC_F:
		c->c[K_COMPLAINTS]++;
		break;
	case REC_RB:
		c->c[K_REMOTE_BOUNCES]++;
		break;
	default:
		break;
	}
	if (r->flags & RF_FIRST) {
		c->c[K_SESSIONS]++;
		c->c[K_SESSION_RECORDS] += r->sess_n;
		s->sessions++;
		s->session_records += r->sess_n;
		session_line(t, r);
	}
	s->n[r->type]++;
	s->records++;
}

static int
cell_empty(const struct cell *c)
{
	int k;

	for (k = 0; k < K_N; k++)
		if (c->c[k])
			return 0;
	return c->bytes == 0;
}

void
truth_host_day_end(struct sim_truthw *t)
{
	const struct sim_host *h = &t->t->f->host[t->host];
	const uint8_t *byrank = t->t->byrank[t->host];
	int hi, k, nslot = h->nvmta + 2;

	for (hi = 0; hi < 24 * ISP_COUNT; hi++) {
		for (k = 0; k < nslot; k++) {
			struct cell *c = &t->cells[(size_t)hi * SIM_SLOTS +
			    byrank[k]];
			struct row *rw;

			if (cell_empty(c))
				continue;
			if (t->nrows == t->caprows) {
				t->caprows = t->caprows ? t->caprows * 2 : 4096;
				t->rows = reallocarray(t->rows, t->caprows,
				    sizeof(*t->rows));
				if (t->rows == NULL)
					sim_fatal("out of memory", NULL);
			}
			rw = &t->rows[t->nrows++];
			rw->hi = (uint16_t)hi;
			rw->host = (uint16_t)t->host;
			rw->slot = byrank[k];
			rw->v = *c;
			memset(c, 0, sizeof(*c));
		}
	}
	if (t->sess.len) {
		char *p = sim_path(t->t->dir, h->name, ".sessions");

		t->sess.fd = sim_open(p, 1);
		t->sess.path = p;
		out_flush(&t->sess);
		close(t->sess.fd);
		t->sess.path = NULL;
		free(p);
	}
}

/*
 * Each worker's rows are in ascending host order, so merging the workers by
 * host gives all rows in (host, hour, isp, IP) order; the stable counting
 * sort on (hour, isp) then yields design.md's (hour, isp, host, IP) order.
 */
static size_t
merge_workers(struct sim_truth *t)
{
	size_t pos[64], total = 0, n = 0;
	int i;

	for (i = 0; i < t->nwk; i++) {
		pos[i] = 0;
		total += t->wk[i].nrows;
	}
	if (total > t->capmerged) {
		t->capmerged = total;
		t->merged = reallocarray(t->merged, total, sizeof(*t->merged));
		t->sorted = reallocarray(t->sorted, total, sizeof(*t->sorted));
		if (t->merged == NULL || t->sorted == NULL)
			sim_fatal("out of memory", NULL);
	}
	while (n < total) {
		int best = -1;
		uint16_t host;

		for (i = 0; i < t->nwk; i++)
			if (pos[i] < t->wk[i].nrows && (best < 0 ||
			    t->wk[i].rows[pos[i]].host <
			    t->wk[best].rows[pos[best]].host))
				best = i;
		host = t->wk[best].rows[pos[best]].host;
		while (pos[best] < t->wk[best].nrows &&
		    t->wk[best].rows[pos[best]].host == host)
			t->merged[n++] = t->wk[best].rows[pos[best]++];
	}
	for (i = 0; i < t->nwk; i++)
		t->wk[i].nrows = 0;
	return total;
}

void
truth_day_end(struct sim_truth *t, int64_t day_start)
{
	size_t cnt[24 * ISP_COUNT], i, sum = 0, nrows = merge_workers(t);
	struct sim_out *o = &t->csv;
	char hour[24];
	int k;

	memset(cnt, 0, sizeof(cnt));
	for (i = 0; i < nrows; i++)
		cnt[t->merged[i].hi]++;
	for (i = 0; i < 24 * ISP_COUNT; i++) {
		size_t c = cnt[i];

		cnt[i] = sum;
		sum += c;
	}
	for (i = 0; i < nrows; i++)
		t->sorted[cnt[t->merged[i].hi]++] = t->merged[i];
	for (i = 0; i < nrows; i++) {
		const struct row *rw = &t->sorted[i];
		const struct sim_host *h = &t->f->host[rw->host];
		int64_t hs = day_start + (int64_t)(rw->hi / ISP_COUNT) * 3600;
		const char *ip = slot_ip(h, rw->slot);
		const char *isp = isp_names[rw->hi % ISP_COUNT];
		size_t iplen = strlen(ip), isplen = strlen(isp);
		char *p;

		p = fmt_date(hour, hs / SIM_DAY);
		*p++ = 'T';
		p[0] = (char)('0' + hs % SIM_DAY / 3600 / 10);
		p[1] = (char)('0' + hs % SIM_DAY / 3600 % 10);
		memcpy(p + 2, ":00:00Z", 7);
		out_reserve(o, 512);
		p = o->buf + o->len;
		memcpy(p, hour, 20);
		p += 20;
		*p++ = ',';
		memcpy(p, isp, isplen);
		p += isplen;
		*p++ = ',';
		memcpy(p, h->name, h->namelen);
		p += h->namelen;
		*p++ = ',';
		memcpy(p, ip, iplen);
		p += iplen;
		for (k = 0; k < K_N; k++) {
			*p++ = ',';
			p = fmt_u64(p, rw->v.c[k]);
		}
		*p++ = ',';
		p = fmt_u64(p, rw->v.bytes);
		*p++ = '\n';
		o->bytes += (size_t)(p - (o->buf + o->len));
		o->len = (size_t)(p - o->buf);
	}
}

void
truth_close(struct sim_truth *t)
{
	int i, k;

	if (t == NULL)
		return;
	out_flush(&t->csv);
	if (close(t->csv.fd) != 0)
		sim_fatal(t->csv.path, "close failed");
	for (i = 0; i < t->nrun; i++) {
		const struct sim_host *h = &t->f->host[t->run[i]];
		const struct hostsum *s = &t->sum[h->index];
		char *p = sim_path(t->dir, h->name, ".summary");
		struct sim_out o;

		out_init(&o, 4096);
		o.path = p;
		o.fd = sim_open(p, 0);
		out_str(&o, "records=");
		out_u64(&o, s->records);
		for (k = 0; k < REC_NTYPES; k++) {
			out_str(&o, " ");
			out_str(&o, rec_type_names[k]);
			out_str(&o, "=");
			out_u64(&o, s->n[k]);
		}
		out_str(&o, " rejected=0 sessions=");
		out_u64(&o, s->sessions);
		out_str(&o, " session_records=");
		out_u64(&o, s->session_records);
		out_str(&o, "\n");
		out_flush(&o);
		close(o.fd);
		out_free(&o);
		free(p);
	}
	free(t->csvpath);
	out_free(&t->csv);
	for (i = 0; i < t->nwk; i++) {
		out_free(&t->wk[i].sess);
		free(t->wk[i].rows);
	}
	free(t->wk);
	free(t->merged);
	free(t->sorted);
	free(t->sum);
	free(t->byrank);
	free(t);
}
