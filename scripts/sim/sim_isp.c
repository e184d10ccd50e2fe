/*
 * sim_isp.c - the recipient world: ISPs, their domains, MX hosts and IPs.
 *
 * A B2C list is mostly consumer mailboxes at a handful of ISPs, recognised
 * by domain name (design.md's table), plus company domains that are hosted at
 * Google or Microsoft 365 and can only be recognised by their MX host, plus a
 * long tail of companies with their own mail servers or a filtering service,
 * a few IDN domains in both spellings, and typos that do not resolve at all.
 *
 * The simulator's notion of which ISP a domain belongs to is the truth the
 * tests compare against, so this file must never produce an "other" domain
 * or MX host that design.md's rules would attribute to a listed ISP: every
 * generated name is checked against the table (clashes()) before use.  All
 * destination IPs are distinct, because a (source IP, destination IP) pair
 * is what identifies a session and two MX hosts sharing an IP would make two
 * sessions indistinguishable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

const char *const isp_names[ISP_COUNT] = {
	"apple", "att", "comcast", "gmx", "google", "mailru", "microsoft",
	"orange", "other", "t-online", "yahoo", "yandex"
};

/* design.md: domains and MX suffixes recognised by mtascope. */
static const char *const table_names[] = {
	"gmail.com", "googlemail.com", "outlook.com", "hotmail.com",
	"live.com", "msn.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de",
	"live.co.uk", "live.fr", "outlook.fr", "outlook.de", "yahoo.com",
	"ymail.com", "rocketmail.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
	"yahoo.it", "yahoo.es", "yahoo.ca", "aol.com", "aim.com",
	"verizon.net", "icloud.com", "me.com", "mac.com", "gmx.de", "gmx.net",
	"gmx.com", "gmx.at", "gmx.ch", "web.de", "mail.com", "orange.fr",
	"wanadoo.fr", "t-online.de", "comcast.net", "att.net",
	"sbcglobal.net", "bellsouth.net", "mail.ru", "bk.ru", "inbox.ru",
	"list.ru", "yandex.ru", "yandex.com", "ya.ru",
	/* MX suffixes */
	"google.com", "yahoodns.net", "yandex.net",
};

struct mxdef {
	const char *key;
	int isp;		/* belongs to a listed ISP */
	const char *host[6];
	const char *ip[6];
};

static const struct mxdef mx_static[] = {
	{ "gmail", 1, { "gmail-smtp-in.l.google.com", "gmail-smtp-in.l.google.com",
	    "alt1.gmail-smtp-in.l.google.com", "alt2.gmail-smtp-in.l.google.com",
	    "alt3.gmail-smtp-in.l.google.com" },
	  { "142.250.102.26", "142.250.102.27", "142.251.9.26",
	    "142.250.150.27", "64.233.184.26" } },
	{ "msolc", 1, { "", "", "", "", "", "" },
	  { "52.101.8.44", "52.101.9.17", "52.101.11.0", "52.101.40.26",
	    "52.101.41.57", "52.101.42.15" } },
	{ "yahoo", 1, { "mta5.am0.yahoodns.net", "mta6.am0.yahoodns.net",
	    "mta7.am0.yahoodns.net", "mta5.am0.yahoodns.net",
	    "mta6.am0.yahoodns.net", "mta7.am0.yahoodns.net" },
	  { "67.195.204.72", "67.195.204.73", "98.136.96.74", "98.136.96.75",
	    "67.195.228.106", "67.195.228.110" } },
	{ "apple", 1, { "mx01.mail.icloud.com", "mx01.mail.icloud.com",
	    "mx02.mail.icloud.com", "mx02.mail.icloud.com" },
	  { "17.57.154.6", "17.57.154.7", "17.42.251.62", "17.57.155.23" } },
	{ "gmx", 1, { "mx00.emig.gmx.net", "mx01.emig.gmx.net" },
	  { "212.227.15.9", "212.227.17.5" } },
	{ "webde", 1, { "mx-ha02.web.de", "mx-ha03.web.de" },
	  { "212.227.15.17", "212.227.17.26" } },
	{ "orange", 1, { "smtp-in.orange.fr", "smtp-in.orange.fr",
	    "smtp-in.orange.fr" },
	  { "193.252.22.84", "80.12.242.82", "193.252.23.67" } },
	{ "tonline", 1, { "mx00.t-online.de", "mx01.t-online.de",
	    "mx02.t-online.de", "mx03.t-online.de" },
	  { "194.25.134.8", "194.25.134.9", "194.25.134.72",
	    "194.25.134.73" } },
	{ "comcast", 1, { "mx1a1.comcast.net", "mx2c1.comcast.net",
	    "mx2h1.comcast.net" },
	  { "96.114.157.80", "96.102.19.80", "68.87.26.147" } },
	{ "att", 1, { "ff-ip4-mx-vip1.prodigy.net", "ff-ip4-mx-vip2.prodigy.net",
	    "al-ip4-mx-vip1.prodigy.net" },
	  { "144.160.159.21", "144.160.235.143", "144.160.235.144" } },
	{ "mailru", 1, { "mxs.mail.ru", "mxs.mail.ru", "mxs.mail.ru" },
	  { "94.100.180.31", "217.69.139.150", "94.100.180.104" } },
	{ "yandex", 1, { "mx.yandex.net", "mx.yandex.net", "mx.yandex.net" },
	  { "77.88.21.249", "87.250.250.89", "213.180.204.89" } },
	{ "gbiz", 1, { "aspmx.l.google.com", "aspmx.l.google.com",
	    "alt1.aspmx.l.google.com", "alt2.aspmx.l.google.com" },
	  { "142.250.27.26", "142.250.27.27", "142.250.153.26",
	    "74.125.200.27" } },
	{ "msbiz", 1, { "", "", "", "" },
	  { "52.101.68.10", "52.101.68.18", "52.101.73.2", "52.101.194.11" } },
	{ "mimecast", 0, { "eu-smtp-inbound-1.mimecast.com",
	    "eu-smtp-inbound-2.mimecast.com", "us-smtp-inbound-1.mimecast.com" },
	  { "195.130.217.221", "91.220.42.231", "205.139.110.221" } },
	{ "pphosted", 0, { "mx0a-00191d01.pphosted.com",
	    "mx0b-00191d01.pphosted.com" },
	  { "148.163.152.16", "148.163.148.56" } },
	{ "barracuda", 0, { "d223475a.ess.barracudanetworks.com",
	    "d223475b.ess.barracudanetworks.com" },
	  { "209.222.82.252", "209.222.82.255" } },
};
#define NMX_STATIC (sizeof(mx_static) / sizeof(mx_static[0]))

struct domdef {
	const char *name;
	uint16_t weight;
	const char *upper;
	const char *mx;		/* mx_static key */
	int olc;		/* Microsoft consumer: per-domain olc MX host */
};

static const struct domdef d_google[] = {
	{ "gmail.com", 970, "Gmail.com", "gmail", 0 },
	{ "googlemail.com", 30, NULL, "gmail", 0 }, { NULL, 0, NULL, NULL, 0 } };
static const struct domdef d_microsoft[] = {
	{ "hotmail.com", 330, "Hotmail.com", "msolc", 1 },
	{ "outlook.com", 300, "Outlook.com", "msolc", 1 },
	{ "live.com", 100, NULL, "msolc", 1 }, { "msn.com", 50, NULL, "msolc", 1 },
	{ "hotmail.co.uk", 60, NULL, "msolc", 1 },
	{ "hotmail.fr", 50, NULL, "msolc", 1 },
	{ "hotmail.de", 30, NULL, "msolc", 1 },
	{ "live.co.uk", 20, NULL, "msolc", 1 }, { "live.fr", 25, NULL, "msolc", 1 },
	{ "outlook.fr", 20, NULL, "msolc", 1 },
	{ "outlook.de", 15, NULL, "msolc", 1 }, { NULL, 0, NULL, NULL, 0 } };
static const struct domdef d_yahoo[] = {
	{ "yahoo.com", 480, "Yahoo.com", "yahoo", 0 },
	{ "aol.com", 230, "AOL.com", "yahoo", 0 },
	{ "ymail.com", 30, NULL, "yahoo", 0 },
	{ "rocketmail.com", 10, NULL, "yahoo", 0 },
	{ "yahoo.co.uk", 60, NULL, "yahoo", 0 }, { "yahoo.fr", 50, NULL, "yahoo", 0 },
	{ "yahoo.de", 30, NULL, "yahoo", 0 }, { "yahoo.it", 20, NULL, "yahoo", 0 },
	{ "yahoo.es", 20, NULL, "yahoo", 0 }, { "yahoo.ca", 20, NULL, "yahoo", 0 },
	{ "aim.com", 10, NULL, "yahoo", 0 },
	{ "verizon.net", 20, NULL, "yahoo", 0 }, { NULL, 0, NULL, NULL, 0 } };
static const struct domdef d_apple[] = {
	{ "icloud.com", 800, "iCloud.com", "apple", 0 },
	{ "me.com", 150, NULL, "apple", 0 },
	{ "mac.com", 50, NULL, "apple", 0 }, { NULL, 0, NULL, NULL, 0 } };
static const struct domdef d_gmx[] = {
	{ "gmx.de", 350, "GMX.de", "gmx", 0 }, { "web.de", 350, "WEB.DE", "webde", 0 },
	{ "gmx.net", 150, NULL, "gmx", 0 }, { "gmx.com", 50, NULL, "gmx", 0 },
	{ "gmx.at", 40, NULL, "gmx", 0 }, { "gmx.ch", 30, NULL, "gmx", 0 },
	{ "mail.com", 30, NULL, "gmx", 0 }, { NULL, 0, NULL, NULL, 0 } };
static const struct domdef d_orange[] = {
	{ "orange.fr", 700, NULL, "orange", 0 },
	{ "wanadoo.fr", 300, NULL, "orange", 0 }, { NULL, 0, NULL, NULL, 0 } };
static const struct domdef d_tonline[] = {
	{ "t-online.de", 1000, "T-Online.de", "tonline", 0 },
	{ NULL, 0, NULL, NULL, 0 } };
static const struct domdef d_comcast[] = {
	{ "comcast.net", 1000, "Comcast.net", "comcast", 0 },
	{ NULL, 0, NULL, NULL, 0 } };
static const struct domdef d_att[] = {
	{ "att.net", 400, NULL, "att", 0 }, { "sbcglobal.net", 400, NULL, "att", 0 },
	{ "bellsouth.net", 200, NULL, "att", 0 }, { NULL, 0, NULL, NULL, 0 } };
static const struct domdef d_mailru[] = {
	{ "mail.ru", 600, NULL, "mailru", 0 }, { "bk.ru", 130, NULL, "mailru", 0 },
	{ "inbox.ru", 150, NULL, "mailru", 0 }, { "list.ru", 120, NULL, "mailru", 0 },
	{ NULL, 0, NULL, NULL, 0 } };
static const struct domdef d_yandex[] = {
	{ "yandex.ru", 700, NULL, "yandex", 0 },
	{ "yandex.com", 150, NULL, "yandex", 0 },
	{ "ya.ru", 150, NULL, "yandex", 0 }, { NULL, 0, NULL, NULL, 0 } };

struct clsdef {
	const char *name;
	uint8_t isp;
	double weight;
	uint16_t lo, hi;
	double bounce, fbl, rb;
	const char *rollup;
	const struct domdef *dom;
};

/*
 * Shares of a B2C list, session sizes (design.md: 50-150 is healthy at the
 * big three; small receivers see fewer messages per connection), bounce,
 * complaint (Gmail sends no per-message reports) and remote-bounce rates.
 */
static const struct clsdef clsdefs[CLS_COUNT] = {
	[CLS_GOOGLE] = { "google", ISP_GOOGLE, 35, 50, 150, .012, 0, .003, NULL, d_google },
	[CLS_MICROSOFT] = { "microsoft", ISP_MICROSOFT, 20, 50, 150, .014, .0015, .003, NULL, d_microsoft },
	[CLS_YAHOO] = { "yahoo", ISP_YAHOO, 12, 50, 150, .013, .0014, .003, "yahoo.rollup", d_yahoo },
	[CLS_APPLE] = { "apple", ISP_APPLE, 6, 20, 80, .010, 0, .003, NULL, d_apple },
	[CLS_GMX] = { "gmx", ISP_GMX, 4, 20, 80, .012, .0008, .003, NULL, d_gmx },
	[CLS_ORANGE] = { "orange", ISP_ORANGE, 2, 10, 50, .015, .0008, .003, NULL, d_orange },
	[CLS_TONLINE] = { "t-online", ISP_TONLINE, 2, 10, 50, .012, .0005, .003, NULL, d_tonline },
	[CLS_COMCAST] = { "comcast", ISP_COMCAST, 3.5, 20, 80, .015, .0012, .003, NULL, d_comcast },
	[CLS_ATT] = { "att", ISP_ATT, 3, 20, 80, .016, .0009, .003, NULL, d_att },
	[CLS_MAILRU] = { "mailru", ISP_MAILRU, 1.5, 10, 50, .018, .0010, .003, NULL, d_mailru },
	[CLS_YANDEX] = { "yandex", ISP_YANDEX, 1.5, 10, 50, .016, .0009, .003, NULL, d_yandex },
	[CLS_GBIZ] = { "google-business", ISP_GOOGLE, 2, 5, 25, .012, 0, 0, NULL, NULL },
	[CLS_MSBIZ] = { "microsoft-business", ISP_MICROSOFT, 2, 5, 25, .012, 0, 0, NULL, NULL },
	[CLS_OTHER] = { "other", ISP_OTHER, 5.5, 1, 8, .020, 0, .005, NULL, NULL },
};

static const char *const words_a[] = {
	"acme", "northwind", "bluepeak", "silverline", "greenfield", "redwood",
	"stonebridge", "brightpath", "clearwater", "ironclad", "sunrise",
	"oakridge", "riverbend", "pinecrest", "highland", "lakeside", "summit",
	"harbor", "evergreen", "goldleaf", "crescent", "falcon", "maple",
	"granite", "horizon", "meridian", "nova", "orbit", "pioneer", "quantum",
	"vertex", "zenith", "atlas", "beacon", "cobalt", "delta", "ember",
	"fusion", "glacier", "helix",
};
static const char *const words_b[] = {
	"corp", "group", "labs", "systems", "partners", "logistics",
	"consulting", "media", "health", "foods", "energy", "capital",
	"design", "studio", "works", "tech", "solutions", "holdings",
	"retail", "travel",
};
static const char *const tlds[] = {
	".com", ".com", ".com", ".com", ".com", ".de", ".fr", ".co.uk", ".nl",
	".io", ".net", ".org", ".it", ".es",
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* UTF-8 spelling, punycode spelling. */
static const char *const idn[][2] = {
	{ "bücher.de", "xn--bcher-kva.de" },
	{ "münchen.de", "xn--mnchen-3ya.de" },
	{ "café.fr", "xn--caf-dma.fr" },
	{ "españa.com", "xn--espaa-rta.com" },
};

static const char *const typos[] = {
	"gmial.com", "gmai.com", "gmail.co", "hotmial.com", "hotmail.con",
	"outlok.com", "yaho.com", "yahooo.com", "iclod.com", "comcats.net",
};

static const uint8_t ip_first_octets[] = {
	62, 78, 81, 82, 109, 146, 176, 213,
};

#define OTHER_DOMAINS	300
#define BIZ_DOMAINS	40

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/*
 * Would design.md's rules attribute this name to a listed ISP?  Checked as
 * a plain string suffix, which is stricter than the label-wise rule.
 */
static int
clashes(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(table_names); i++)
		if (ends_with(name, table_names[i]))
			return 1;
	return 0;
}

/* Open-addressing set of destination IPs, to keep them distinct. */
struct ipset {
	uint32_t slot[4096];
};

static uint32_t
ip_parse(const char *s)
{
	unsigned a, b, c, d;

	if (sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
		sim_fatal("bad built-in IP address", s);
	return (a << 24) | (b << 16) | (c << 8) | d;
}

static int
ipset_add(struct ipset *set, uint32_t ip)
{
	uint32_t h = (uint32_t)(sim_mix64(ip) & 4095);

	while (set->slot[h] != 0) {
		if (set->slot[h] == ip)
			return 0;
		h = (h + 1) & 4095;
	}
	set->slot[h] = ip;
	return 1;
}

struct builder {
	struct sim_world *w;
	struct ipset ips;
	uint32_t domcap, destcap, mxgcap;
	uint16_t mxkey[NMX_STATIC];
	struct rng rng;
};

static uint16_t
add_dest_raw(struct builder *b, const char *host, const char *ip)
{
	struct sim_world *w = b->w;
	struct sim_dest *d;

	if (w->ndest == b->destcap) {
		b->destcap = b->destcap ? b->destcap * 2 : 256;
		w->dest = reallocarray(w->dest, b->destcap, sizeof(*w->dest));
		if (w->dest == NULL)
			sim_fatal("out of memory", NULL);
	}
	if (w->ndest >= SIM_NONE16)
		sim_fatal("too many destinations", NULL);
	d = &w->dest[w->ndest];
	memset(d, 0, sizeof(*d));
	d->hostlen = (uint8_t)strlcpy(d->host, host, sizeof(d->host));
	d->iplen = (uint8_t)strlcpy(d->ip, ip, sizeof(d->ip));
	return (uint16_t)w->ndest++;
}

static uint16_t
add_dest(struct builder *b, const char *host, const char *ip)
{
	if (!ipset_add(&b->ips, ip_parse(ip)))
		sim_fatal("duplicate destination IP", ip);
	return add_dest_raw(b, host, ip);
}

static uint16_t
add_group(struct builder *b, uint16_t first, uint16_t n)
{
	struct sim_world *w = b->w;

	if (w->nmxg == b->mxgcap) {
		b->mxgcap = b->mxgcap ? b->mxgcap * 2 : 64;
		w->mxg = reallocarray(w->mxg, b->mxgcap, sizeof(*w->mxg));
		if (w->mxg == NULL)
			sim_fatal("out of memory", NULL);
	}
	w->mxg[w->nmxg].first = first;
	w->mxg[w->nmxg].n = n;
	return (uint16_t)w->nmxg++;
}

/* A domain's own MX: one or two hosts with fresh IPs. */
static uint16_t
add_own_mx(struct builder *b, const char *mxdomain)
{
	char host[64], ip[16];
	uint16_t first = 0, n, i;

	n = (uint16_t)(1 + rng_below(&b->rng, 2));
	for (i = 0; i < n; i++) {
		uint32_t v;
		uint16_t idx;

		snprintf(host, sizeof(host), "mx%u.%s", (unsigned)(i + 1),
		    mxdomain);
		do {
			/* one draw per statement: operand order is unspecified */
			v = (uint32_t)ip_first_octets[rng_below(&b->rng,
			    NELEM(ip_first_octets))] << 24;
			v |= rng_range(&b->rng, 1, 254) << 16;
			v |= rng_range(&b->rng, 0, 254) << 8;
			v |= rng_range(&b->rng, 2, 253);
		} while (!ipset_add(&b->ips, v));
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", v >> 24,
		    (v >> 16) & 255, (v >> 8) & 255, v & 255);
		idx = add_dest_raw(b, host, ip);
		if (i == 0)
			first = idx;
	}
	return add_group(b, first, n);
}

static uint16_t
mx_by_key(struct builder *b, const char *key)
{
	size_t i;

	for (i = 0; i < NMX_STATIC; i++)
		if (strcmp(mx_static[i].key, key) == 0)
			return b->mxkey[i];
	sim_fatal("unknown MX group", key);
	return 0;
}

static struct sim_domain *
add_domain(struct builder *b, const char *name, int cls, int kind,
    uint16_t mxg)
{
	struct sim_world *w = b->w;
	struct sim_domain *d;

	if (w->ndom == b->domcap) {
		b->domcap = b->domcap ? b->domcap * 2 : 512;
		w->dom = reallocarray(w->dom, b->domcap, sizeof(*w->dom));
		if (w->dom == NULL)
			sim_fatal("out of memory", NULL);
	}
	if (w->ndom >= SIM_NONE16)
		sim_fatal("too many domains", NULL);
	d = &w->dom[w->ndom++];
	memset(d, 0, sizeof(*d));
	d->namelen = (uint8_t)strlcpy(d->name, name, sizeof(d->name));
	d->queuelen = (uint8_t)strlcpy(d->queue, name, sizeof(d->queue));
	d->cls = (uint8_t)cls;
	d->isp = cls < 0 ? ISP_OTHER : clsdefs[cls].isp;
	d->kind = (uint8_t)kind;
	d->mxg = mxg;
	return d;
}

static void
class_add(struct sim_classinfo *c, uint16_t dom, uint32_t weight)
{
	c->dom = reallocarray(c->dom, c->ndom + 1, sizeof(*c->dom));
	c->cum = reallocarray(c->cum, c->ndom + 1, sizeof(*c->cum));
	if (c->dom == NULL || c->cum == NULL)
		sim_fatal("out of memory", NULL);
	c->dom[c->ndom] = dom;
	c->cum[c->ndom] = (c->ndom ? c->cum[c->ndom - 1] : 0) + weight;
	c->ndom++;
}

static int
name_taken(const struct sim_world *w, const char *name)
{
	uint32_t i;

	for (i = 0; i < w->ndom; i++)
		if (strcmp(w->dom[i].name, name) == 0)
			return 1;
	return 0;
}

/* A made-up company domain nobody has used yet and no rule would claim. */
static void
company_name(struct builder *b, char *buf, size_t len)
{
	do {
		/* one draw per statement: argument order is unspecified */
		const char *a = words_a[rng_below(&b->rng, NELEM(words_a))];
		const char *dash = rng_below(&b->rng, 2) ? "-" : "";
		const char *n = words_b[rng_below(&b->rng, NELEM(words_b))];
		const char *tld = tlds[rng_below(&b->rng, NELEM(tlds))];

		snprintf(buf, len, "%s%s%s%s", a, dash, n, tld);
	} while (name_taken(b->w, buf) || clashes(buf));
}

static void
dashed(char *dst, size_t len, const char *name, const char *suffix)
{
	size_t i;

	strlcpy(dst, name, len);
	for (i = 0; dst[i] != '\0'; i++)
		if (dst[i] == '.')
			dst[i] = '-';
	strlcat(dst, suffix, len);
}

static void
build_consumers(struct builder *b)
{
	int c;

	for (c = 0; c <= CLS_YANDEX; c++) {
		const struct domdef *dd;

		for (dd = clsdefs[c].dom; dd->name != NULL; dd++) {
			uint16_t idx = (uint16_t)b->w->ndom;
			struct sim_domain *d = add_domain(b, dd->name, c,
			    DK_CONSUMER, mx_by_key(b, dd->mx));

			if (dd->upper != NULL)
				d->upperlen = (uint8_t)strlcpy(d->upper,
				    dd->upper, sizeof(d->upper));
			if (dd->olc) {
				dashed(d->mxhost, sizeof(d->mxhost), dd->name,
				    ".olc.protection.outlook.com");
				d->mxhostlen = (uint8_t)strlen(d->mxhost);
			}
			if (clsdefs[c].rollup != NULL)
				d->queuelen = (uint8_t)strlcpy(d->queue,
				    clsdefs[c].rollup, sizeof(d->queue));
			class_add(&b->w->cls[c], idx, dd->weight);
		}
	}
}

static void
build_business(struct builder *b)
{
	uint16_t gbiz = mx_by_key(b, "gbiz"), msbiz = mx_by_key(b, "msbiz");
	char name[64];
	int i, c;

	for (c = CLS_GBIZ; c <= CLS_MSBIZ; c++) {
		for (i = 0; i < BIZ_DOMAINS; i++) {
			uint16_t idx = (uint16_t)b->w->ndom;
			struct sim_domain *d;

			company_name(b, name, sizeof(name));
			d = add_domain(b, name, c, DK_BUSINESS,
			    c == CLS_GBIZ ? gbiz : msbiz);
			if (c == CLS_MSBIZ) {
				dashed(d->mxhost, sizeof(d->mxhost), name,
				    ".mail.protection.outlook.com");
				d->mxhostlen = (uint8_t)strlen(d->mxhost);
			}
			class_add(&b->w->cls[c], idx, 100000u / (uint32_t)(i + 5));
		}
	}
}

static void
build_others(struct builder *b)
{
	static const char *const shared[] = { "mimecast", "pphosted",
	    "barracuda" };
	char name[64];
	size_t k;
	int i;

	for (i = 0; i < OTHER_DOMAINS; i++) {
		uint16_t idx = (uint16_t)b->w->ndom, mxg;

		company_name(b, name, sizeof(name));
		if (rng_below(&b->rng, 10) < 3)
			mxg = mx_by_key(b, shared[rng_below(&b->rng,
			    NELEM(shared))]);
		else
			mxg = add_own_mx(b, name);
		add_domain(b, name, CLS_OTHER, DK_OTHER, mxg);
		class_add(&b->w->cls[CLS_OTHER], idx,
		    100000u / (uint32_t)(i + 5));
	}
	/* IDN: both spellings share the punycode MX. */
	for (k = 0; k < NELEM(idn); k++) {
		uint16_t mxg = add_own_mx(b, idn[k][1]);
		int s;

		for (s = 0; s < 2; s++) {
			uint16_t idx = (uint16_t)b->w->ndom;

			add_domain(b, idn[k][s], CLS_OTHER, DK_OTHER, mxg);
			class_add(&b->w->cls[CLS_OTHER], idx, 2500);
		}
	}
	b->w->typo = sim_alloc(NELEM(typos), sizeof(*b->w->typo));
	for (k = 0; k < NELEM(typos); k++) {
		if (clashes(typos[k]))
			sim_fatal("typo domain claimed by the ISP table", typos[k]);
		b->w->typo[b->w->ntypo++] = (uint16_t)b->w->ndom;
		add_domain(b, typos[k], -1, DK_TYPO, SIM_NONE16);
	}
}

void
world_init(struct sim_world *w, uint64_t seed)
{
	struct builder *b;
	size_t i, j;
	int c;
	uint32_t cum = 0;

	for (c = 1; c < ISP_COUNT; c++)
		if (strcmp(isp_names[c - 1], isp_names[c]) >= 0)
			sim_fatal("ISP names out of byte order", isp_names[c]);
	memset(w, 0, sizeof(*w));
	b = sim_alloc(1, sizeof(*b));
	b->w = w;
	rng_seed(&b->rng, seed, 0x15b, 0);
	for (i = 0; i < NMX_STATIC; i++) {
		uint16_t first = (uint16_t)w->ndest, n = 0;

		for (j = 0; j < NELEM(mx_static[i].ip) &&
		    mx_static[i].ip[j] != NULL; j++, n++) {
			const char *host = mx_static[i].host[j];

			if (host == NULL)
				host = "";
			if (!mx_static[i].isp && clashes(host))
				sim_fatal("filtering MX claimed by the ISP table",
				    host);
			add_dest(b, host, mx_static[i].ip[j]);
		}
		b->mxkey[i] = add_group(b, first, n);
	}
	for (c = 0; c < CLS_COUNT; c++) {
		struct sim_classinfo *ci = &w->cls[c];

		ci->name = clsdefs[c].name;
		ci->isp = clsdefs[c].isp;
		ci->weight = clsdefs[c].weight;
		ci->size_lo = clsdefs[c].lo;
		ci->size_hi = clsdefs[c].hi;
		ci->bounce = clsdefs[c].bounce;
		ci->fbl = clsdefs[c].fbl;
		ci->rb = clsdefs[c].rb;
		ci->rollup = clsdefs[c].rollup != NULL;
		cum += (uint32_t)(clsdefs[c].weight * 100 + 0.5);
		w->cls_cum[c] = cum;
	}
	build_consumers(b);
	build_business(b);
	build_others(b);
	for (c = 0; c < ISP_COUNT; c++)
		w->base_defer[c] = 0.03;
	w->base_defer[ISP_GOOGLE] = 0.025;
	w->base_defer[ISP_MICROSOFT] = 0.035;
	w->base_defer[ISP_YAHOO] = 0.04;
	w->base_defer[ISP_OTHER] = 0.02;
	free(b);
}

void
world_free(struct sim_world *w)
{
	int c;

	for (c = 0; c < CLS_COUNT; c++) {
		free(w->cls[c].dom);
		free(w->cls[c].cum);
	}
	free(w->dom);
	free(w->dest);
	free(w->mxg);
	free(w->typo);
	memset(w, 0, sizeof(*w));
}

int
world_isp_by_name(const char *name)
{
	int i;

	for (i = 0; i < ISP_COUNT; i++)
		if (strcmp(isp_names[i], name) == 0)
			return i;
	return -1;
}

int
world_pick_class(const struct sim_world *w, struct rng *r)
{
	return (int)pick_cum(w->cls_cum, CLS_COUNT, r);
}

uint16_t
world_pick_domain(const struct sim_world *w, int cls, struct rng *r)
{
	const struct sim_classinfo *c = &w->cls[cls];

	return c->dom[pick_cum(c->cum, c->ndom, r)];
}

uint16_t
world_pick_dest(const struct sim_world *w, uint16_t dom, struct rng *r)
{
	const struct sim_mxgroup *g = &w->mxg[w->dom[dom].mxg];

	return (uint16_t)(g->first + rng_below(r, g->n));
}
