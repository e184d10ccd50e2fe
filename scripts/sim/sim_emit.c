/*
 * sim_emit.c - records to PowerMTA accounting CSV, at memory speed.
 *
 * Each host writes RFC 4180 with CRLF line ends under its own header: a
 * record is laid out by walking the header's column list and writing the
 * cell each column has for the record's type (a tq record has no rcpt, an r
 * record no dsnStatus, and so on: cells a type lacks stay empty, as in a
 * PowerMTA file that mixes types).  Before the first record at or after a
 * pipe-restart time the next header is written, as PowerMTA does on restart.
 *
 * The hot path never calls printf or allocates: strings are precomputed and
 * already CSV-escaped where that is static, timestamps reuse a per-day date
 * prefix, numbers use a digit-pair table, short strings are copied in
 * 16-byte blocks, and bytes go into one large buffer (sim_out.c).  Reply
 * templates (see sim_diag.c) are expanded here with ids drawn from the
 * record's own random word, so emission consumes no state from the
 * generator's PRNG.
 */
#include <string.h>

#include "sim.h"

const char *const col_names[C_COUNT] = {
	"type", "timeLogged", "timeQueued", "orig", "rcpt", "orcpt",
	"dsnAction", "dsnStatus", "dsnDiag", "dsnMta", "bounceCat", "srcType",
	"srcMta", "dlvType", "dlvSourceIp", "dlvDestinationIp",
	"dlvEsmtpAvailable", "dlvSize", "vmta", "jobId", "envId", "queue",
	"vmtaPool", "feedbackType", "dsnReportingMta", "totalSecondsQueued",
	"timeImprinted", "timeFirstAttempt", "userString", "dlvTlsProtocol",
	"dlvTlsCipher", "rcvSmtpUser", "rcvSourceIp", "rcvDestinationIp",
	"format", "userAgent", "reportingMTA", "reportedDomain", "repSourceIp",
	"header_X-Mailer", "header_Subject", "header_List-Unsubscribe",
	"header_X-Campaign",
};

const char *const rec_type_names[REC_NTYPES] = {
	"d", "b", "t", "tq", "r", "f", "rb", "rs"
};

static const char firsts[32][16] = {
	"anna", "ben", "carla", "david", "emma", "felix", "greta", "hugo",
	"ines", "jonas", "karin", "lukas", "mia", "noah", "olga", "paul",
	"quinn", "rosa", "sam", "tina", "uwe", "vera", "will", "xenia",
	"yusuf", "zoe", "li", "maria", "jose", "sofia", "ivan", "fatima",
};
static const char lasts[32][16] = {
	"schmidt", "smith", "martin", "garcia", "rossi", "dubois", "mueller",
	"jones", "brown", "novak", "kowalski", "silva", "ivanov", "jensen",
	"nielsen", "weber", "fischer", "moreau", "lopez", "wilson", "taylor",
	"kim", "nguyen", "tanaka", "cohen", "costa", "meyer", "wagner",
	"becker", "hoffmann", "schulz", "koch",
};
static uint8_t firstlen[32], lastlen[32];

struct fbl {
	const char *agent, *mta;
};
static const struct fbl fbls[ISP_COUNT] = {
	[ISP_MICROSOFT] = { "Microsoft JMRP/1.0", "dns;jmrp.outlook.com" },
	[ISP_YAHOO] = { "Yahoo!-Mail-Feedback/2.0", "dns;feedback.yahoo.com" },
	[ISP_COMCAST] = { "Comcast Feedback Loop (V0.01)", "dns;fbl.comcast.net" },
	[ISP_MAILRU] = { "Mail.Ru FBL/1.0", "dns;fbl.mail.ru" },
	[ISP_YANDEX] = { "Yandex FBL/1.0", "dns;fbl.yandex.net" },
};

static uint64_t col_mask[REC_NTYPES];

#define M(c) (1ULL << (c))

/* ------------------------------------------------------------------ */

void
emit_init(void)
{
	uint64_t dlv, hdrs;
	int i;

	for (i = 0; i < 32; i++) {
		firstlen[i] = (uint8_t)strlen(firsts[i]);
		lastlen[i] = (uint8_t)strlen(lasts[i]);
	}
	hdrs = M(C_HDR_XMAILER) | M(C_HDR_SUBJECT) | M(C_HDR_LISTUNSUB) |
	    M(C_HDR_CAMPAIGN);
	dlv = M(C_TYPE) | M(C_TIMELOGGED) | M(C_TIMEQUEUED) | M(C_ORIG) |
	    M(C_RCPT) | M(C_ORCPT) | M(C_DSNACTION) | M(C_DSNSTATUS) |
	    M(C_DSNDIAG) | M(C_DSNMTA) | M(C_BOUNCECAT) | M(C_SRCTYPE) |
	    M(C_SRCMTA) | M(C_DLVTYPE) | M(C_DLVSOURCEIP) | M(C_DLVDESTIP) |
	    M(C_DLVESMTP) | M(C_DLVSIZE) | M(C_VMTA) | M(C_JOBID) |
	    M(C_ENVID) | M(C_QUEUE) | M(C_VMTAPOOL) | M(C_TOTALSECQUEUED) |
	    M(C_TIMEIMPRINTED) | M(C_TIMEFIRSTATTEMPT) | M(C_USERSTRING) |
	    M(C_DLVTLSPROTO) | M(C_DLVTLSCIPHER) | hdrs;
	col_mask[REC_D] = col_mask[REC_B] = col_mask[REC_T] = dlv;
	col_mask[REC_TQ] = M(C_TYPE) | M(C_TIMELOGGED) | M(C_QUEUE) |
	    M(C_VMTA) | M(C_DSNSTATUS) | M(C_DSNDIAG) | M(C_DSNMTA) |
	    M(C_DLVTYPE) | M(C_DLVSOURCEIP) | M(C_DLVDESTIP);
	col_mask[REC_R] = M(C_TYPE) | M(C_TIMELOGGED) | M(C_TIMEQUEUED) |
	    M(C_ORIG) | M(C_RCPT) | M(C_ORCPT) | M(C_SRCTYPE) | M(C_SRCMTA) |
	    M(C_DLVSIZE) | M(C_VMTA) | M(C_VMTAPOOL) | M(C_JOBID) |
	    M(C_ENVID) | M(C_TIMEIMPRINTED) | M(C_USERSTRING) |
	    M(C_RCVSMTPUSER) | M(C_RCVSOURCEIP) | M(C_RCVDESTIP) | hdrs;
	col_mask[REC_F] = M(C_TYPE) | M(C_TIMELOGGED) | M(C_ORIG) |
	    M(C_RCPT) | M(C_JOBID) | M(C_FEEDBACKTYPE) | M(C_FORMAT) |
	    M(C_USERAGENT) | M(C_REPORTINGMTA) | M(C_REPORTEDDOMAIN) |
	    M(C_REPSOURCEIP) | M(C_HDR_SUBJECT) | M(C_HDR_CAMPAIGN);
	col_mask[REC_RB] = M(C_TYPE) | M(C_TIMELOGGED) | M(C_TIMEQUEUED) |
	    M(C_ORIG) | M(C_RCPT) | M(C_DSNACTION) | M(C_DSNSTATUS) |
	    M(C_DSNDIAG) | M(C_BOUNCECAT) | M(C_JOBID) |
	    M(C_DSNREPORTINGMTA) | M(C_FORMAT);
	col_mask[REC_RS] = M(C_TYPE) | M(C_TIMELOGGED) | M(C_ORIG) |
	    M(C_RCPT) | M(C_DSNACTION) | M(C_DSNSTATUS) | M(C_DSNDIAG) |
	    M(C_JOBID) | M(C_DSNREPORTINGMTA) | M(C_FORMAT);
}

void
emit_begin(struct sim_emit *e, const struct sim_world *w,
    const struct sim_host *h, struct sim_out *o)
{
	memset(e, 0, sizeof(*e));
	e->w = w;
	e->h = h;
	e->tc[0].day = e->tc[1].day = INT64_MIN;
	out_put(o, h->hdr[0].line, h->hdr[0].linelen);
}

static inline char *
cpy(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/*
 * Copy n bytes in 16-byte blocks.  The source must be readable up to the
 * next multiple of 16 (see sim.h); the few bytes written past p + n land in
 * the output reserve and are overwritten by what follows.
 */
static inline char *
cpy16(char *p, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i += 16)
		memcpy(p + i, s + i, 16);
	return p + n;
}

static char *
put_time(char *p, struct sim_emit *e, int which, int64_t t)
{
	struct sim_tcache *c = &e->tc[which];
	int64_t local, day, sod;

	if (e->h->unix_time)
		return fmt_u64(p, (uint64_t)t);
	local = t + (int64_t)e->h->offset_min * 60;
	day = local >= 0 ? local / SIM_DAY : -((-local + SIM_DAY - 1) / SIM_DAY);
	if (day != c->day) {
		fmt_date(c->date, day);
		c->day = day;
	}
	sod = local - day * SIM_DAY;
	p = cpy(p, c->date, 10);
	*p++ = ' ';
	p = cpy(p, sim_digits2 + sod / 3600 * 2, 2);
	*p++ = ':';
	p = cpy(p, sim_digits2 + sod / 60 % 60 * 2, 2);
	*p++ = ':';
	p = cpy(p, sim_digits2 + sod % 60 * 2, 2);
	return cpy(p, e->h->offstr, 5);
}

/* Local part from the record's random word: stable, cheap, plausible. */
static char *
put_rcpt(char *p, const struct sim_domain *d, const struct sim_rec *r)
{
	uint32_t x = r->rnd;
	unsigned f = x & 31, l = (x >> 5) & 31, num = (x >> 12) % 100;

	switch ((x >> 10) & 3) {
	case 0:
		p = cpy16(p, firsts[f], firstlen[f]);
		*p++ = '.';
		p = cpy16(p, lasts[l], lastlen[l]);
		break;
	case 1:
		p = cpy16(p, firsts[f], firstlen[f]);
		p = cpy16(p, lasts[l], lastlen[l]);
		p = cpy(p, sim_digits2 + num * 2, 2);
		break;
	case 2:
		*p++ = firsts[f][0];
		*p++ = '.';
		p = cpy16(p, lasts[l], lastlen[l]);
		break;
	default:
		p = cpy16(p, firsts[f], firstlen[f]);
		*p++ = '_';
		p = cpy16(p, lasts[l], lastlen[l]);
		p = fmt_u64(p, 1950 + (x >> 20) % 56);
		break;
	}
	*p++ = '@';
	if ((r->flags & RF_UPPER) && d->upperlen)
		return cpy16(p, d->upper, d->upperlen);
	return cpy16(p, d->name, d->namelen);
}

struct xctx {
	const struct sim_rec *r;
	const char *rcpt, *srcip, *brand, *domain;
	size_t rcptlen, srciplen, brandlen, domainlen;
	uint64_t x;
};

static inline uint64_t
xnext(struct xctx *c)
{
	c->x += 0x9e3779b97f4a7c15ULL;
	return sim_mix64(c->x);
}

static char *
put_diag(char *p, const struct sim_diag *d, struct xctx *c)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	static const char hex[] = "0123456789abcdef";
	const char *s = d->tpl_csv, *end = s + d->tpl_csvlen, *pc;
	uint64_t v;
	int i;

	while ((pc = memchr(s, '%', (size_t)(end - s))) != NULL) {
		p = cpy16(p, s, (size_t)(pc - s));
		s = pc + 2;
		switch (pc[1]) {
		case 't':
			p = fmt_u64(p, (uint64_t)c->r->t);
			break;
		case 'i':
			v = xnext(c);
			for (i = 0; i < 10; i++, v /= 36)
				*p++ = alnum[v % 36];
			break;
		case 'n':
			v = xnext(c);
			for (i = 0; i < 6; i++, v /= 10)
				*p++ = (char)('0' + v % 10);
			break;
		case 'h':
			v = xnext(c);
			for (i = 0; i < 16; i++, v >>= 4)
				*p++ = hex[v & 15];
			break;
		case 'I':
			v = xnext(c);
			p = cpy(p, "DB", 2);
			*p++ = (char)('1' + v % 9);
			p = cpy(p, "PR04MB", 6);
			for (i = 0; i < 4; i++)
				*p++ = (char)('0' + (v >>= 4) % 10);
			break;
		case 's':
			p = cpy16(p, c->srcip, c->srciplen);
			break;
		case 'd':
			p = cpy16(p, c->domain, c->domainlen);
			break;
		case 'r':
			p = cpy16(p, c->rcpt, c->rcptlen);
			break;
		case 'b':
			p = cpy16(p, c->brand, c->brandlen);
			break;
		case 'z':
			p = fmt_u64(p, c->r->size);
			break;
		default:
			*p++ = pc[1];
			break;
		}
	}
	return cpy16(p, s, (size_t)(end - s));
}

static const struct sim_diag *
rec_diag(const struct sim_rec *r, int isp)
{
	int conn = (r->flags & RF_CONN) != 0;

	switch (r->type) {
	case REC_D:
		return diag_get(isp, DG_D, r->diag);
	case REC_T:
		return diag_get(isp, conn ? DG_T : DG_DNS, r->diag);
	case REC_B:
		return diag_get(isp, conn ? DG_B : DG_BADDOM, r->diag);
	case REC_TQ:
		return diag_get(isp, DG_TQ, r->diag);
	case REC_RB:
		return diag_get(isp, DG_RB, r->diag);
	case REC_RS:
		return diag_get(isp, DG_RS, r->diag);
	default:
		return NULL;
	}
}

static char *
put_mx(char *p, const struct sim_domain *d, const struct sim_dest *ds)
{
	if (d->mxhostlen)
		return cpy16(p, d->mxhost, d->mxhostlen);
	return cpy16(p, ds->host, ds->hostlen);
}

void
emit_record(struct sim_emit *e, struct sim_out *o, const struct sim_rec *r)
{
	const struct sim_host *h = e->h;
	const struct sim_world *w = e->w;
	const struct sim_domain *dom = &w->dom[r->dom];
	const struct sim_job *job = &h->job[r->job];
	const struct sim_vmta *vm = r->vmta != SIM_NONE8 ? &h->vmta[r->vmta] : NULL;
	const struct sim_dest *ds = r->dest != SIM_NONE16 ? &w->dest[r->dest] : NULL;
	const struct sim_diag *dg = rec_diag(r, dom->isp);
	const struct sim_header *hd;
	uint64_t mask = col_mask[r->type];
	char rcpt[192], *p, *start;
	const char *s;
	size_t n;
	struct xctx xc;
	int i;

	while (e->hdr + 1 < h->nhdr && r->t >= h->hdr_switch[e->hdr]) {
		e->hdr++;
		out_put(o, h->hdr[e->hdr].line, h->hdr[e->hdr].linelen);
	}
	hd = &h->hdr[e->hdr];
	xc.r = r;
	xc.rcpt = rcpt;
	xc.rcptlen = r->type == REC_TQ ? 0 : (size_t)(put_rcpt(rcpt, dom, r) - rcpt);
	xc.srcip = vm ? vm->ip : "";
	xc.srciplen = vm ? vm->iplen : 0;
	xc.brand = job->brand;
	xc.brandlen = job->brandlen;
	xc.domain = dom->name;
	xc.domainlen = dom->namelen;
	xc.x = ((uint64_t)r->rnd << 32) ^ (uint64_t)r->t;

	out_reserve(o, 8192);
	start = p = o->buf + o->len;
	for (i = 0; i < hd->ncols; i++) {
		int c = hd->cols[i];

		if (i)
			*p++ = ',';
		if (!(mask & M(c)))
			continue;
		switch (c) {
		case C_TYPE:
			s = rec_type_names[r->type];
			*p++ = s[0];
			if (s[1])
				*p++ = s[1];
			break;
		case C_TIMELOGGED:
			p = put_time(p, e, 0, r->t);
			break;
		case C_TIMEQUEUED:
		case C_TIMEIMPRINTED:
			p = put_time(p, e, 1, r->t - r->qdelay);
			break;
		case C_TIMEFIRSTATTEMPT:
			p = put_time(p, e, 1, r->t - r->qdelay + (r->qdelay > 0));
			break;
		case C_TOTALSECQUEUED:
			p = fmt_u64(p, r->qdelay);
			break;
		case C_ORIG:
			p = cpy16(p, job->orig, job->origlen);
			break;
		case C_RCPT:
			p = cpy16(p, rcpt, xc.rcptlen);
			break;
		case C_ORCPT:
			if (job->orcpt) {
				p = cpy(p, "rfc822;", 7);
				p = cpy16(p, rcpt, xc.rcptlen);
			}
			break;
		case C_DSNACTION:
			if (r->type == REC_D)
				p = cpy(p, "relayed", 7);
			else if (r->type == REC_T)
				p = cpy(p, "delayed", 7);
			else if (r->type == REC_RS && dg->status[0] == '2')
				p = cpy(p, "delivered", 9);
			else if (r->type == REC_RS)
				p = cpy(p, "delayed", 7);
			else
				p = cpy(p, "failed", 6);
			break;
		case C_DSNSTATUS:
			p = cpy16(p, dg->st_csv, dg->st_csvlen);
			break;
		case C_DSNDIAG:
			p = put_diag(p, dg, &xc);
			break;
		case C_DSNMTA:
			if (ds != NULL) {
				p = put_mx(p, dom, ds);
				*p++ = ' ';
				*p++ = '(';
				p = cpy16(p, ds->ip, ds->iplen);
				*p++ = ')';
			}
			break;
		case C_BOUNCECAT:
			if (r->type != REC_D)
				p = cpy16(p, dg->cat_csv, dg->cat_csvlen);
			break;
		case C_SRCTYPE:
			p = job->api ? cpy(p, "api", 3) : cpy(p, "smtp", 4);
			break;
		case C_SRCMTA:
			p = cpy16(p, job->srcmta, job->srcmtalen);
			break;
		case C_DLVTYPE:
			p = cpy(p, "smtp", 4);
			break;
		case C_DLVSOURCEIP:
			if (r->flags & RF_SRC_ZERO)
				p = cpy(p, "0.0.0.0", 7);
			else if (!(r->flags & RF_SRC_NONE) && vm != NULL)
				p = cpy16(p, vm->ip, vm->iplen);
			break;
		case C_DLVDESTIP:
			if (ds != NULL)
				p = cpy16(p, ds->ip, ds->iplen);
			break;
		case C_DLVESMTP:
			if (ds != NULL) {
				s = diag_esmtp(dom->isp, &n);
				p = cpy16(p, s, n);
			}
			break;
		case C_DLVTLSPROTO:
			if (ds != NULL) {
				s = diag_tls(dom->isp, &n);
				p = cpy16(p, s, n);
			}
			break;
		case C_DLVTLSCIPHER:
			if (ds != NULL) {
				s = diag_cipher(dom->isp, &n);
				p = cpy16(p, s, n);
			}
			break;
		case C_DLVSIZE:
			if (r->size)
				p = fmt_u64(p, r->size);
			break;
		case C_VMTA:
			if (vm != NULL)
				p = cpy16(p, vm->name, vm->namelen);
			break;
		case C_VMTAPOOL:
			if (vm != NULL)
				p = cpy16(p, h->pool[vm->pool], h->poollen[vm->pool]);
			break;
		case C_JOBID:
			p = cpy16(p, job->id, job->idlen);
			break;
		case C_ENVID:
			if (job->envid) {
				p = cpy(p, "env-", 4);
				p = fmt_u64(p, r->rnd);
			}
			break;
		case C_QUEUE:
			p = cpy16(p, dom->queue, dom->queuelen);
			*p++ = '/';
			if (vm != NULL)
				p = cpy16(p, vm->name, vm->namelen);
			break;
		case C_USERSTRING:
			p = cpy16(p, job->userstr, job->userstrlen);
			break;
		case C_RCVSMTPUSER:
			p = cpy16(p, job->smtpuser, job->smtpuserlen);
			break;
		case C_RCVSOURCEIP:
			p = cpy16(p, job->injip, job->injiplen);
			break;
		case C_RCVDESTIP:
			p = cpy16(p, h->listen_ip, h->listen_iplen);
			break;
		case C_FEEDBACKTYPE:
			p = cpy(p, "abuse", 5);
			break;
		case C_FORMAT:
			p = r->type == REC_F ? cpy(p, "arf", 3) : cpy(p, "dsn", 3);
			break;
		case C_USERAGENT:
			s = fbls[dom->isp].agent ? fbls[dom->isp].agent :
			    "FBL Reporter/1.0";
			p = cpy(p, s, strlen(s));
			break;
		case C_REPORTINGMTA:
			s = fbls[dom->isp].mta ? fbls[dom->isp].mta :
			    "dns;fbl.returnpath.net";
			p = cpy(p, s, strlen(s));
			break;
		case C_REPORTEDDOMAIN:
			p = cpy(p, "mail.", 5);
			p = cpy16(p, job->brand, job->brandlen);
			break;
		case C_REPSOURCEIP:
			if (vm != NULL)
				p = cpy16(p, vm->ip, vm->iplen);
			break;
		case C_DSNREPORTINGMTA:
			if (dom->mxg != SIM_NONE16) {
				p = cpy(p, "dns;", 4);
				p = put_mx(p, dom, &w->dest[w->mxg[dom->mxg].first]);
			}
			break;
		case C_HDR_XMAILER:
			p = cpy16(p, job->mailer, job->mailerlen);
			break;
		case C_HDR_SUBJECT:
			s = fleet_subject(job->subject, &n);
			p = cpy16(p, s, n);
			break;
		case C_HDR_LISTUNSUB:
			p = cpy16(p, job->unsub, job->unsublen);
			break;
		case C_HDR_CAMPAIGN:
			p = cpy16(p, job->campaign, job->campaignlen);
			break;
		default:
			break;
		}
	}
	*p++ = '\r';
	*p++ = '\n';
	n = (size_t)(p - start);
	if (n + 16 > 8192)
		sim_fatal("record longer than the output reserve", NULL);
	o->len += n;
	o->bytes += n;
}
