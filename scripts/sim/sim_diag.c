/*
 * sim_diag.c - what receiving servers answer: dsnStatus, dsnDiag, bounceCat.
 *
 * Each ISP gets the replies it really sends, in spirit if not to the byte,
 * because their shape is what stresses a CSV reader: Microsoft's 250 reply
 * and Google's rate-limit text hold commas, Yahoo's policy text holds double
 * quotes, and a few multi-line replies keep their CR LF, so the quoted field
 * spans lines.  Templates are expanded by sim_emit.c; the placeholders are:
 *
 *   %t epoch of timeLogged   %i 10 random [a-z0-9]   %n 6 random digits
 *   %h 16 random hex         %s dlvSourceIp           %d recipient domain
 *   %r recipient address     %b sender domain         %z dlvSize
 *   %I an Exchange Online server name
 *
 * Expansions never contain a comma, a quote or a line break, so whether a
 * reply needs quoting is decided once per template at start-up.
 */
#include <string.h>

#include "sim.h"

#define D(st, cat, text, w) { st, cat, text, w, NULL, NULL, NULL, 0, 0, 0 }

#define S_OK	"2.0.0 (success)"
#define S_470	"4.7.0 (other or undefined security status)"
#define S_4728	"4.7.28 (other or undefined security status)"
#define S_421	"4.2.1 (mailbox disabled, not accepting messages)"
#define S_422	"4.2.2 (mailbox full)"
#define S_430	"4.3.0 (other or undefined mail system status)"
#define S_432	"4.3.2 (system not accepting network messages)"
#define S_441	"4.4.1 (no answer from host)"
#define S_442	"4.4.2 (bad connection)"
#define S_443	"4.4.3 (directory server failure)"
#define S_447	"4.4.7 (delivery time expired)"
#define S_471	"4.7.1 (delivery not authorized, message refused)"
#define S_511	"5.1.1 (bad destination mailbox address)"
#define S_512	"5.1.2 (bad destination system: no such domain)"
#define S_521	"5.2.1 (mailbox disabled, not accepting messages)"
#define S_522	"5.2.2 (mailbox full)"
#define S_550	"5.5.0 (other or undefined protocol status)"
#define S_571	"5.7.1 (delivery not authorized, message refused)"
#define S_579	"5.7.9 (other or undefined security status)"
#define S_500	"5.0.0 (undefined status)"

static struct sim_diag google_d[] = {
	D(S_OK, "", "smtp;250 2.0.0 OK  %t %i.%n - gsmtp", 1) };
static struct sim_diag google_t[] = {
	D(S_4728, "policy-related", "smtp;421-4.7.28 [%s      15] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. Please visit https://support.google.com/mail/?p=UnsolicitedRateLimitError to review our Bulk Email Senders Guidelines. %i.%n - gsmtp", 45),
	D(S_421, "quota-issues", "smtp;450-4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered. Please resend your message at a later time. %i.%n - gsmtp", 30),
	D(S_470, "policy-related", "smtp;421-4.7.0 [%s      15] Our system has detected that this message is suspicious due to the very low reputation of the sending IP address.\r\n421-4.7.0 To protect our users from spam, mail sent from your IP address has been temporarily rate limited.\r\n421 4.7.0 %i.%n - gsmtp", 8),
	D(S_442, "bad-connection", "smtp;421 4.4.2 Connection dropped due to timeout", 7) };
static struct sim_diag google_b[] = {
	D(S_511, "bad-mailbox", "smtp;550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser %i.%n - gsmtp", 70),
	D(S_571, "spam-related", "smtp;550-5.7.1 [%s] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. %i.%n - gsmtp", 15),
	D(S_521, "inactive-mailbox", "smtp;550 5.2.1 The email account that you tried to reach is inactive. %i.%n - gsmtp", 10),
	D(S_522, "quota-issues", "smtp;552-5.2.2 The recipient's inbox is out of storage space. %i.%n - gsmtp", 5) };

static struct sim_diag ms_d[] = {
	D(S_OK, "", "smtp;250 2.6.0 <%h@mail.%b> [InternalId=%n%n, Hostname=%I.eurprd04.prod.outlook.com] Queued mail for delivery", 1) };
static struct sim_diag ms_t[] = {
	D(S_470, "policy-related", "smtp;451 4.7.650 The mail server [%s] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [%I.eurprd04.prod.outlook.com]", 50),
	D(S_470, "other", "smtp;451 4.7.500 Server busy. Please try again later from [%s]. (S77719) [%I.eurprd04.prod.outlook.com]", 40),
	D(S_432, "other", "smtp;452 4.3.2 Temporary server error. Please try again later ATTR218 [%I.eurprd04.prod.outlook.com]", 10) };
static struct sim_diag ms_b[] = {
	D(S_550, "bad-mailbox", "smtp;550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [%I.eurprd04.prod.outlook.com]", 70),
	D(S_571, "policy-related", "smtp;550 5.7.1 Unfortunately, messages from [%s] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [%I.eurprd04.prod.outlook.com]", 20),
	D(S_511, "bad-mailbox", "smtp;550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [%I.eurprd04.prod.outlook.com]", 10) };

static struct sim_diag yahoo_d[] = {
	D(S_OK, "", "smtp;250 ok dirdel", 1) };
static struct sim_diag yahoo_t[] = {
	D(S_470, "policy-related", "smtp;421 4.7.0 [TSS04] Messages from %s temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes", 70),
	D(S_470, "policy-related", "smtp;421 4.7.0 [TSS09] All messages from %s will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes", 8),
	D(S_430, "policy-related", "smtp;451 Message temporarily deferred due to user complaints - 4.16.56.1; see https://postmaster.yahooinc.com/error-codes", 22) };
static struct sim_diag yahoo_b[] = {
	D(S_511, "bad-mailbox", "smtp;554 delivery error: dd This user doesn't have a %d account (%r) [0] - mta%n.mail.bf2.yahoo.com", 80),
	D(S_579, "policy-related", "smtp;554 5.7.9 Message not accepted for policy reasons.  See \"https://postmaster.yahooinc.com/error-codes\"", 20) };

static struct sim_diag gmx_t[] = {
	D(S_470, "policy-related", "smtp;421-gmx.net (mxgmx017) Nemesis ESMTP Service not available\r\n421-Service unavailable\r\n421-Reject due to policy restrictions.\r\n421 For explanation visit https://postmaster.gmx.net/en/error-messages?ip=%s&c=sp", 20),
	D(S_471, "policy-related", "smtp;450 4.7.1 Greylisted, please try again later", 50),
	D(S_422, "quota-issues", "smtp;452 4.2.2 Mailbox full", 30) };
static struct sim_diag orange_t[] = {
	D(S_470, "policy-related", "smtp;421 mwinf5c30 ME Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR_999 [%n]", 70),
	D(S_422, "quota-issues", "smtp;452 4.2.2 Mailbox full", 30) };

static struct sim_diag generic_d[] = {
	D(S_OK, "", "smtp;250 2.0.0 Ok: queued as %i", 60),
	D(S_OK, "", "smtp;250 Requested mail action okay, completed: id=%i", 20),
	D(S_OK, "", "smtp;250 2.0.0 %i mail accepted for delivery", 20) };
static struct sim_diag generic_t[] = {
	D(S_471, "policy-related", "smtp;450 4.7.1 Greylisted, please try again later", 40),
	D(S_422, "quota-issues", "smtp;452 4.2.2 Mailbox full", 20),
	D(S_430, "other", "smtp;451 4.3.0 Mail server temporarily rejected message: \"Resources temporarily unavailable\"", 20),
	D(S_470, "policy-related", "smtp;421 4.7.0 Too many connections from %s, try again later", 20) };
static struct sim_diag generic_b[] = {
	D(S_511, "bad-mailbox", "smtp;550 5.1.1 <%r>: Recipient address rejected: User unknown in virtual mailbox table", 60),
	D(S_522, "quota-issues", "smtp;552 5.2.2 Mailbox full", 10),
	D(S_571, "spam-related", "smtp;550 5.7.1 Message rejected as spam by Content Filtering.", 10),
	D(S_500, "other", "smtp;550 Requested action not taken: mailbox unavailable", 10),
	D(S_521, "inactive-mailbox", "smtp;550 5.2.1 Mailbox disabled, account inactive, closed", 10) };

static struct sim_diag tq_v[] = {
	D(S_441, "", "", 45),
	D(S_441, "", "Connection timed out", 20),
	D(S_442, "", "smtp;421 4.4.2 Connection dropped", 10),
	D(S_470, "", "smtp;421 4.7.0 Too many concurrent SMTP connections; please try again later.", 15),
	D(S_430, "", "smtp;421 Service not available, closing transmission channel", 10) };
static struct sim_diag baddom_v[] = {
	D(S_512, "bad-domain", "smtp;550 5.1.2 Host unknown (Name server: %d: host not found)", 70),
	D(S_512, "bad-domain", "", 30) };
static struct sim_diag dns_v[] = {
	D(S_443, "routing-errors", "DNS temporary failure looking up MX for %d", 70),
	D(S_441, "no-answer-from-host", "No answer from host, connection timed out", 30) };
static struct sim_diag rb_v[] = {
	D(S_511, "bad-mailbox", "smtp;550 5.1.1 <%r>... User unknown", 50),
	D(S_522, "quota-issues", "smtp;552 5.2.2 Quota exceeded (mailbox for user is full)", 20),
	D(S_571, "spam-related", "smtp;550 5.7.1 Message rejected due to content restrictions", 15),
	D(S_500, "other", "", 15) };
static struct sim_diag rs_v[] = {
	D(S_447, "", "smtp;421 4.4.7 Delivery delayed, will keep trying", 60),
	D(S_OK, "", "smtp;250 2.0.0 Delivered to mailbox", 40) };

struct diagset {
	struct sim_diag *v;
	uint8_t n;
	uint32_t total;
};

#define SET(a) { a, (uint8_t)(sizeof(a) / sizeof(a[0])), 0 }

static struct diagset sets[ISP_COUNT][3];
static struct diagset fleet_sets[DG_COUNT] = {
	[DG_TQ] = SET(tq_v), [DG_BADDOM] = SET(baddom_v), [DG_DNS] = SET(dns_v),
	[DG_RB] = SET(rb_v), [DG_RS] = SET(rs_v),
};

struct esmtp {
	const char *list;	/* CSV-quoted */
	const char *tls, *cipher;
};

#define ESMTP(s, tls, cipher) { s, tls, cipher }

struct padstr {
	char *s;
	size_t len;
};

static const struct esmtp esmtp_google = ESMTP(
    "\"ENHANCEDSTATUSCODES,8BITMIME,PIPELINING,SMTPUTF8\"",
    "TLSv1.3", "TLS_AES_256_GCM_SHA384");
static const struct esmtp esmtp_ms = ESMTP(
    "\"ENHANCEDSTATUSCODES,8BITMIME,PIPELINING,SMTPUTF8,CHUNKING\"",
    "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384");
static const struct esmtp esmtp_yahoo = ESMTP(
    "\"ENHANCEDSTATUSCODES,8BITMIME,PIPELINING\"",
    "TLSv1.3", "TLS_AES_128_GCM_SHA256");
static const struct esmtp esmtp_generic = ESMTP(
    "\"ENHANCEDSTATUSCODES,8BITMIME,PIPELINING,DSN\"",
    "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256");
static const struct esmtp esmtp_small = ESMTP(
    "\"8BITMIME,PIPELINING\"", "", "");

static int
needs_quote(const char *s)
{
	return strpbrk(s, ",\"\r\n") != NULL;
}

static const struct esmtp *esmtp[ISP_COUNT];
static struct padstr pad_esmtp[ISP_COUNT], pad_tls[ISP_COUNT],
    pad_cipher[ISP_COUNT];

char *
sim_padded(const char *s, size_t n)
{
	char *p = sim_alloc((n + 15) / 16 * 16 + 16, 1);

	memcpy(p, s, n);
	return p;
}

static void
pad(struct padstr *ps, const char *s)
{
	ps->len = strlen(s);
	ps->s = sim_padded(s, ps->len);
}

/* The template as a CSV field: quoted if needed, inner quotes doubled. */
static void
compile(struct sim_diag *d)
{
	char buf[1024];
	size_t n = 0;
	const char *s;
	int q = needs_quote(d->text);

	if (q)
		buf[n++] = '"';
	for (s = d->text; *s != '\0' && n + 3 < sizeof(buf); s++) {
		if (*s == '"')
			buf[n++] = '"';
		buf[n++] = *s;
	}
	if (*s != '\0')
		sim_fatal("reply template too long", d->text);
	if (q)
		buf[n++] = '"';
	d->tpl_csv = sim_padded(buf, n);
	d->tpl_csvlen = (uint16_t)n;
	n = 0;
	q = needs_quote(d->status);
	if (q)
		buf[n++] = '"';
	n += strlcpy(buf + n, d->status, sizeof(buf) - n - 1);
	if (q)
		buf[n++] = '"';
	d->st_csv = sim_padded(buf, n);
	d->st_csvlen = (uint8_t)n;
	d->cat_csv = sim_padded(d->cat, strlen(d->cat));
	d->cat_csvlen = (uint8_t)strlen(d->cat);
}

static void
set_init(struct diagset *s)
{
	uint8_t i;

	s->total = 0;
	for (i = 0; i < s->n; i++) {
		struct sim_diag *d = &s->v[i];

		if (d->tpl_csv != NULL) {	/* shared by several ISPs */
			s->total += d->weight;
			continue;
		}
		if (strchr(d->status, '"') != NULL || needs_quote(d->cat))
			sim_fatal("status or bounceCat needs escaping", d->status);
		compile(d);
		s->total += d->weight;
	}
}

static void
assign(int isp, struct sim_diag *d, uint8_t nd, struct sim_diag *t,
    uint8_t nt, struct sim_diag *b, uint8_t nb)
{
	sets[isp][DG_D].v = d;
	sets[isp][DG_D].n = nd;
	sets[isp][DG_T].v = t;
	sets[isp][DG_T].n = nt;
	sets[isp][DG_B].v = b;
	sets[isp][DG_B].n = nb;
}

#define N(a) (uint8_t)(sizeof(a) / sizeof(a[0]))

void
diag_init(void)
{
	int i, k;

	for (i = 0; i < ISP_COUNT; i++) {
		assign(i, generic_d, N(generic_d), generic_t, N(generic_t),
		    generic_b, N(generic_b));
		esmtp[i] = &esmtp_generic;
	}
	assign(ISP_GOOGLE, google_d, N(google_d), google_t, N(google_t),
	    google_b, N(google_b));
	assign(ISP_MICROSOFT, ms_d, N(ms_d), ms_t, N(ms_t), ms_b, N(ms_b));
	assign(ISP_YAHOO, yahoo_d, N(yahoo_d), yahoo_t, N(yahoo_t), yahoo_b,
	    N(yahoo_b));
	sets[ISP_GMX][DG_T].v = gmx_t;
	sets[ISP_GMX][DG_T].n = N(gmx_t);
	sets[ISP_ORANGE][DG_T].v = orange_t;
	sets[ISP_ORANGE][DG_T].n = N(orange_t);
	esmtp[ISP_GOOGLE] = &esmtp_google;
	esmtp[ISP_MICROSOFT] = &esmtp_ms;
	esmtp[ISP_YAHOO] = &esmtp_yahoo;
	esmtp[ISP_MAILRU] = &esmtp_small;
	esmtp[ISP_OTHER] = &esmtp_small;
	for (i = 0; i < ISP_COUNT; i++) {
		for (k = 0; k < 3; k++)
			set_init(&sets[i][k]);
		pad(&pad_esmtp[i], esmtp[i]->list);
		pad(&pad_tls[i], esmtp[i]->tls);
		pad(&pad_cipher[i], esmtp[i]->cipher);
	}
	for (k = DG_TQ; k < DG_COUNT; k++)
		set_init(&fleet_sets[k]);
}

static const struct diagset *
set_of(int isp, int kind)
{
	return kind <= DG_B ? &sets[isp][kind] : &fleet_sets[kind];
}

uint8_t
diag_pick(int isp, int kind, struct rng *r)
{
	const struct diagset *s = set_of(isp, kind);
	uint32_t x;
	uint8_t i;

	if (s->n == 1)
		return 0;
	x = rng_below(r, s->total);
	for (i = 0; i + 1 < s->n; i++) {
		if (x < s->v[i].weight)
			return i;
		x -= s->v[i].weight;
	}
	return i;
}

const struct sim_diag *
diag_get(int isp, int kind, uint8_t i)
{
	return &set_of(isp, kind)->v[i];
}

const char *
diag_esmtp(int isp, size_t *len)
{
	*len = pad_esmtp[isp].len;
	return pad_esmtp[isp].s;
}

const char *
diag_tls(int isp, size_t *len)
{
	*len = pad_tls[isp].len;
	return pad_tls[isp].s;
}

const char *
diag_cipher(int isp, size_t *len)
{
	*len = pad_cipher[isp].len;
	return pad_cipher[isp].s;
}
