/*
 * sim_fleet.c - the sending side: hosts, their IPs, vmtas, clocks and jobs.
 *
 * Hosts mta01..mtaNN sit in a few datacenters, each with its own subnet;
 * every host binds 4-16 source IPs, one vmta per IP, grouped into vmta pools.
 * Jobs (campaigns and transactional streams) pick a pool, so a job's mail
 * leaves from that pool's IPs only, as with PowerMTA's <pattern-list>s.
 *
 * What makes the streams awkward on purpose lives here too: each host writes
 * timestamps in its own UTC offset, one or two write UNIX seconds like older
 * PowerMTA, each host has its own column set and order, and each re-writes a
 * different header once or twice mid-stream, as after a pipe restart.
 *
 * The fleet is drawn from --seed alone, never from the host being generated,
 * so `--stdout --host-index I` sees exactly the host that `--out` writes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

const char *const dc_names[] = { "fra1", "ams1", "iad1", "sjc1" };
static const char *const dc_subnets[] = { "185.70", "5.79", "204.62",
	"162.213" };

/*
 * Offsets seen in a real fleet, half and quarter hours included; handed out
 * in this order (to hosts in random order) so that even a small fleet has
 * the awkward ones.
 */
static const int offsets[] = {
	0, -420, 330, 60, -210, 540, -300, 345, 120, -480, 600, 0, 60, -240,
};

static const char *const pool_names[SIM_MAX_POOLS] = {
	"bulk", "transactional", "warmup"
};

static const char *const brands[] = {
	"shopwell.com", "dailybrief.net", "travelnest.com", "fitpulse.io",
	"homegoods24.de", "bookcorner.fr", "techdeals.co.uk",
	"petparadise.com", "gourmetbox.com", "stylehub.eu",
};

/* CSV-escaped already: several need quoting, some are UTF-8. */
static const char *const mailers[] = {
	"PowerMTA Submitter 5.0", "AcmeMailer 4.2 (build 1187)",
	"\"Campaigner, v3.1\"", "Mailwizz", "\"Newsletter Engine \"\"NE\"\" 2\"",
};

static const char *const subjects[] = {
	"Your weekly digest",
	"Last chance: 30% off everything",
	"\"Hello, here are today's picks\"",
	"\"\"\"Black Friday\"\" starts now\"",
	"Ihre Bücher-Empfehlungen für diese Woche",
	"Votre commande est expédiée",
	"Ваш заказ отправлен",
	"Reset your password",
	"\"New arrivals, just for you\"",
	"Your order has shipped",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char subject_pad[NELEM(subjects)][128];
static uint8_t subject_len[NELEM(subjects)];

const char *
fleet_subject(uint8_t i, size_t *len)
{
	i = (uint8_t)(i % NELEM(subjects));
	*len = subject_len[i];
	return subject_pad[i];
}

static void
shuffle(uint8_t *v, int n, struct rng *r)
{
	int i;

	for (i = n - 1; i > 0; i--) {
		int j = (int)rng_below(r, (uint32_t)i + 1);
		uint8_t t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

/*
 * type first, as PowerMTA always writes it and as a consumer recognises a
 * header by it; then the typical columns, the two every host needs for f and
 * rb records, and three to six of the extras, in a host-specific order.
 */
static void
make_header(struct sim_header *hd, struct rng *r)
{
	uint8_t rest[SIM_MAX_COLS], opt[SIM_MAX_COLS];
	int n = 0, c, k, typical = rng_below(r, 4) == 0;
	size_t len = 0;

	for (c = C_TIMELOGGED; c < C_FIRST_OPTIONAL; c++)
		rest[n++] = (uint8_t)c;
	if (!typical)
		shuffle(rest, n, r);
	for (c = C_FIRST_OPTIONAL, k = 0; c < C_COUNT; c++)
		opt[k++] = (uint8_t)c;
	shuffle(opt, k, r);
	for (c = 0, k = (int)rng_range(r, 3, 6); c < k; c++)
		rest[n++] = opt[c];
	if (!typical)
		shuffle(rest, n, r);
	hd->cols[0] = C_TYPE;
	memcpy(hd->cols + 1, rest, (size_t)n);
	hd->ncols = (uint8_t)(n + 1);
	for (c = 0; c < hd->ncols; c++) {
		if (c)
			hd->line[len++] = ',';
		len += strlcpy(hd->line + len, col_names[hd->cols[c]],
		    sizeof(hd->line) - len);
	}
	hd->line[len++] = '\r';
	hd->line[len++] = '\n';
	hd->linelen = (uint16_t)len;
}

static void
make_job(struct sim_host *h, struct sim_job *j, int k, struct rng *r)
{
	const char *brand = brands[rng_below(r, NELEM(brands))];
	unsigned num = 10000 + rng_below(r, 90000);
	char buf[160], ip[16], hn[sizeof(h->name)];
	unsigned a, b;	/* drawn one per statement: argument order is unspecified */
	int n;

	memset(j, 0, sizeof(*j));
	j->brandlen = (uint8_t)strlcpy(j->brand, brand, sizeof(j->brand));
	/* a copy, as j lies inside h and gcc cannot tell the fields apart */
	strlcpy(hn, h->name, sizeof(hn));
	if (rng_below(r, 100) < 85)
		snprintf(j->id, sizeof(j->id), "%.3s%u-%s-%02u", brand, num,
		    hn, (unsigned char)k);
	j->idlen = (uint8_t)strlen(j->id);
	snprintf(j->orig, sizeof(j->orig), "bounces+%u@mail.%s", num, brand);
	j->origlen = (uint8_t)strlen(j->orig);
	a = rng_below(r, 8);
	b = rng_range(r, 10, 200);
	snprintf(ip, sizeof(ip), "10.%u.%u.%u", (unsigned char)(20 + h->dc),
	    (unsigned char)a, (unsigned char)b);
	j->injiplen = (uint8_t)strlcpy(j->injip, ip, sizeof(j->injip));
	snprintf(j->srcmta, sizeof(j->srcmta), "app%u.int.%s (%s)",
	    rng_range(r, 1, 9), brand, ip);
	j->srcmtalen = (uint8_t)strlen(j->srcmta);
	j->api = rng_below(r, 100) < 70;
	if (!j->api)
		snprintf(j->smtpuser, sizeof(j->smtpuser), "inject-%.12s",
		    brand);
	j->smtpuserlen = (uint8_t)strlen(j->smtpuser);
	j->mailerlen = (uint8_t)strlcpy(j->mailer,
	    mailers[rng_below(r, NELEM(mailers))], sizeof(j->mailer));
	if (rng_below(r, 2)) {
		a = rng_range(r, 1, 40);
		b = rng_range(r, 1, 9);
		snprintf(j->userstr, sizeof(j->userstr), "list=%u;segment=%u",
		    a, b);
	}
	j->userstrlen = (uint8_t)strlen(j->userstr);
	n = snprintf(buf, sizeof(buf),
	    "\"<mailto:u-%u@mail.%s>, <https://%s/u/%u>\"", num,
	    brand, brand, num);
	j->unsublen = (uint8_t)strlcpy(j->unsub, buf, sizeof(j->unsub));
	if (n < 0 || (size_t)n >= sizeof(j->unsub))
		sim_fatal("List-Unsubscribe value too long", buf);
	snprintf(j->campaign, sizeof(j->campaign), "cmp-%u", num);
	j->campaignlen = (uint8_t)strlen(j->campaign);
	j->pool = (uint8_t)rng_below(r, (uint32_t)h->npool);
	j->envid = rng_below(r, 100) < 30;
	j->orcpt = rng_below(r, 100) < 20;
	j->subject = (uint8_t)rng_below(r, NELEM(subjects));
	/* log-uniform 5-80 KB: text newsletters up to image-heavy promos */
	j->size = (uint32_t)(5000.0 * exp(rng_unit(r) * log(16.0)));
	j->weight = (uint16_t)rng_range(r, 1, 100);
}

/* Mail follows the recipients' day: a morning and an evening peak. */
static void
make_diurnal(struct sim_host *h)
{
	uint32_t cum = 0;
	int m;

	for (m = 0; m < 1440; m++) {
		int lm = ((m + h->offset_min) % 1440 + 1440) % 1440;
		double hl = lm / 60.0, w;

		w = 0.15 + 0.9 * exp(-pow((hl - 10.5) / 3.0, 2)) +
		    0.7 * exp(-pow((hl - 19.0) / 2.5, 2));
		cum += (uint32_t)(w * 1000.0);
		h->diurnal[m] = cum;
	}
}

static void
make_host(struct sim_fleet *f, const struct sim_opts *o, int i,
    struct rng *r)
{
	struct sim_host *h = &f->host[i];
	uint8_t order[SIM_MAX_VMTAS];
	int k, slot = i / f->ndc, width = f->nhosts >= 100 ? 3 : 2, p, at;
	int64_t span = o->end - o->start;

	h->index = i;
	h->dc = i % f->ndc;
	snprintf(h->name, sizeof(h->name), width == 3 ? "mta%03u" : "mta%02u",
	    (unsigned)(i + 1) % 1000);
	h->namelen = (uint8_t)strlen(h->name);
	snprintf(h->listen_ip, sizeof(h->listen_ip), "10.%u.%u.%u",
	    (unsigned char)(10 + h->dc), (unsigned char)(slot / 200),
	    (unsigned char)(slot % 200 + 20));
	h->listen_iplen = (uint8_t)strlen(h->listen_ip);
	h->nvmta = (int)rng_range(r, SIM_MIN_VMTAS, SIM_MAX_VMTAS);
	for (k = 0; k < h->nvmta; k++) {
		struct sim_vmta *v = &h->vmta[k];

		snprintf(v->name, sizeof(v->name), "vmta%d", 10 + k);
		v->namelen = (uint8_t)strlen(v->name);
		snprintf(v->ip, sizeof(v->ip), "%s.%d.%d", dc_subnets[h->dc],
		    16 + slot / 4, (slot % 4) * 32 + 10 + k);
		v->iplen = (uint8_t)strlen(v->ip);
		order[k] = (uint8_t)k;
	}
	h->npool = h->nvmta < 6 ? 1 : h->nvmta < 10 ? 2 : 3;
	shuffle(order, h->nvmta, r);
	for (p = 0, at = 0; p < h->npool; p++) {
		int n = p + 1 < h->npool ? h->nvmta / h->npool : h->nvmta - at;

		h->poollen[p] = (uint8_t)strlcpy(h->pool[p], pool_names[p],
		    sizeof(h->pool[p]));
		h->pool_n[p] = (uint8_t)n;
		for (k = 0; k < n; k++, at++) {
			h->pool_vmta[p][k] = order[at];
			h->vmta[order[at]].pool = (uint8_t)p;
		}
	}
	h->nhdr = 2 + (int)rng_below(r, 2);
	for (k = 0; k < h->nhdr; k++)
		make_header(&h->hdr[k], r);
	for (k = 0; k + 1 < h->nhdr; k++)
		h->hdr_switch[k] = o->start + span * 15 / 100 +
		    (int64_t)(rng_unit(r) * (double)(span * 75 / 100));
	if (h->nhdr == 3 && h->hdr_switch[0] > h->hdr_switch[1]) {
		int64_t t = h->hdr_switch[0];

		h->hdr_switch[0] = h->hdr_switch[1];
		h->hdr_switch[1] = t;
	}
	h->njob = 8 + (int)rng_below(r, SIM_MAX_JOBS - 7);
	for (k = 0; k < h->njob; k++) {
		make_job(h, &h->job[k], k, r);
		h->job_cum[k] = (k ? h->job_cum[k - 1] : 0) + h->job[k].weight;
	}
	h->end = o->end;
}

static void
set_offset(struct sim_host *h, int off)
{
	h->offset_min = off;
	h->offstr[0] = off < 0 ? '-' : '+';
	h->offstr[1] = (char)('0' + abs(off) / 600);
	h->offstr[2] = (char)('0' + abs(off) / 60 % 10);
	h->offstr[3] = (char)('0' + abs(off) % 60 / 10);
	h->offstr[4] = (char)('0' + abs(off) % 10);
	h->offstr[5] = '\0';
	make_diurnal(h);
}

void
fleet_init(struct sim_fleet *f, const struct sim_opts *o,
    const struct sim_world *w)
{
	struct rng r;
	int *order, i, n, u1 = -1, u2 = -1;

	(void)w;
	memset(f, 0, sizeof(*f));
	for (i = 0; i < (int)NELEM(subjects); i++)
		subject_len[i] = (uint8_t)strlcpy(subject_pad[i], subjects[i],
		    sizeof(subject_pad[i]));
	rng_seed(&r, o->seed, 0xf1ee7, 0);
	f->nhosts = o->hosts;
	f->ndc = o->hosts <= 2 ? 1 : o->hosts <= 5 ? 2 : o->hosts <= 11 ? 3 : 4;
	f->host = sim_alloc((size_t)o->hosts, sizeof(*f->host));
	for (i = 0; i < o->hosts; i++)
		make_host(f, o, i, &r);
	/* one or two hosts write UNIX seconds, like older PowerMTA */
	if (o->hosts >= 2) {
		u1 = 1 + (int)rng_below(&r, (uint32_t)o->hosts - 1);
		f->host[u1].unix_time = 1;
	}
	if (o->hosts >= 6) {
		do
			u2 = 1 + (int)rng_below(&r, (uint32_t)o->hosts - 1);
		while (u2 == u1);
		f->host[u2].unix_time = 1;
	}
	/* the others get offsets in list order, hosts in random order */
	order = sim_alloc((size_t)o->hosts, sizeof(*order));
	for (i = 0, n = 0; i < o->hosts; i++) {
		if (f->host[i].unix_time)
			set_offset(&f->host[i], 0);
		else
			order[n++] = i;
	}
	for (i = n - 1; i > 0; i--) {
		int j = (int)rng_below(&r, (uint32_t)i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++)
		set_offset(&f->host[order[i]], offsets[i % (int)NELEM(offsets)]);
	free(order);
}

void
fleet_free(struct sim_fleet *f)
{
	free(f->host);
	memset(f, 0, sizeof(*f));
}

int
fleet_set_silent(struct sim_fleet *f, const struct sim_opts *o,
    const char *name, int days)
{
	int i;

	for (i = 0; i < f->nhosts; i++) {
		if (strcmp(f->host[i].name, name) == 0) {
			f->host[i].silent_days = days;
			f->host[i].end = o->end - (int64_t)days * SIM_DAY;
			return 0;
		}
	}
	return -1;
}

int64_t
fleet_pick_time(const struct sim_host *h, int64_t day_start, struct rng *r)
{
	int64_t minute = pick_cum(h->diurnal, 1440, r);

	return day_start + minute * 60 + rng_below(r, 60);
}

uint8_t
fleet_pick_job(const struct sim_host *h, struct rng *r)
{
	return (uint8_t)pick_cum(h->job_cum, (uint32_t)h->njob, r);
}

uint8_t
fleet_pick_vmta(const struct sim_host *h, uint8_t job, struct rng *r)
{
	int p = h->job[job].pool;

	return h->pool_vmta[p][rng_below(r, h->pool_n[p])];
}

static void
put_time(FILE *fp, int64_t t)
{
	char buf[16];

	*fmt_date(buf, t / SIM_DAY) = '\0';
	fprintf(fp, "%s %02d:%02d:%02dZ", buf, (int)(t % SIM_DAY / 3600),
	    (int)(t % 3600 / 60), (int)(t % 60));
}

int
fleet_describe(const struct sim_fleet *f, const struct sim_opts *o,
    const char *path)
{
	FILE *fp = fopen(path, "w");
	int i, k, any = 0;

	if (fp == NULL)
		return -1;
	fprintf(fp, "mtascope-sim fleet: %d hosts in %d datacenters, seed %llu\n",
	    f->nhosts, f->ndc, (unsigned long long)o->seed);
	fprintf(fp, "period: ");
	put_time(fp, o->start);
	fprintf(fp, " to ");
	put_time(fp, o->end);
	fprintf(fp, " (%d days), about %llu records per host per day\n",
	    o->days, (unsigned long long)o->rate);
	fprintf(fp, "session gap: %d s, sessions: %s\n\n", o->gap,
	    o->clean ? "clean (recoverable by inference)" :
	    "realistic (parallel connections per IP pair)");
	for (i = 0; i < f->nhosts; i++) {
		const struct sim_host *h = &f->host[i];

		fprintf(fp, "%s  dc=%s  time=%s  columns=%d  header restarts=%d",
		    h->name, dc_names[h->dc], h->unix_time ? "unix" : h->offstr,
		    h->hdr[0].ncols, h->nhdr - 1);
		for (k = 0; k + 1 < h->nhdr; k++) {
			fprintf(fp, k ? ", " : " (at ");
			put_time(fp, h->hdr_switch[k]);
		}
		fprintf(fp, "%s\n", h->nhdr > 1 ? ")" : "");
		for (k = 0; k < h->npool; k++) {
			int v;

			fprintf(fp, "    pool %-13s", h->pool[k]);
			for (v = 0; v < h->pool_n[k]; v++) {
				const struct sim_vmta *vm =
				    &h->vmta[h->pool_vmta[k][v]];

				fprintf(fp, " %s=%s", vm->name, vm->ip);
			}
			fprintf(fp, "\n");
		}
		if (h->silent_days)
			fprintf(fp, "    silent for the last %d day(s)\n",
			    h->silent_days);
	}
	fprintf(fp, "\nincidents:\n");
	for (i = 0; i < ISP_COUNT; i++) {
		const struct sim_trend *t = &o->trend[i];
		const struct sim_collapse *c = &o->collapse[i];

		if (t->active) {
			fprintf(fp, "  deferral trend at %s: %g%% rising to %g%% "
			    "over the last %d days\n", isp_names[i], t->from,
			    t->to, t->days);
			any = 1;
		}
		if (c->active) {
			fprintf(fp, "  session collapse at %s: about %d messages "
			    "per session in the last %d days\n", isp_names[i],
			    c->mps, c->days);
			any = 1;
		}
	}
	for (i = 0; i < f->nhosts; i++)
		if (f->host[i].silent_days) {
			fprintf(fp, "  %s silent for the last %d day(s)\n",
			    f->host[i].name, f->host[i].silent_days);
			any = 1;
		}
	if (!any)
		fprintf(fp, "  none\n");
	if (fclose(fp) != 0)
		return -1;
	return 0;
}
