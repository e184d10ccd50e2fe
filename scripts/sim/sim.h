/*
 * sim.h - shared types of mtascope-sim, the PowerMTA fleet simulator.
 *
 * mtascope-sim writes the accounting CSV streams a fleet of PowerMTA hosts
 * would pipe to mtascope-pipe, and beside them the ground truth of what it
 * wrote, so tests can compute expectations without trusting the code they
 * test.  The work is split by responsibility:
 *
 *   sim.c        options, the day-by-day driver, output files, --stats
 *   sim_isp.c    the recipient world: ISPs, domains, MX hosts, their IPs
 *   sim_diag.c   SMTP replies (dsnStatus, dsnDiag, bounceCat) and ESMTP lists
 *   sim_fleet.c  the sending hosts: source IPs, vmtas, offsets, headers, jobs
 *   sim_gen.c    one host-day of sessions and records, sorted by time
 *   sim_emit.c   records to RFC 4180 CSV lines, as fast as memcpy allows
 *   sim_out.c    output buffers, decimal and date formatting
 *   sim_truth.c  .sessions, .summary and truth.csv
 *
 * Every random choice flows from struct rng seeded by --seed, the host index
 * and the day index, so a seed and an option set always give the same bytes,
 * and one host's stream does not depend on which other hosts were generated.
 */
#ifndef SIM_H
#define SIM_H

#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_HOSTS	999
#define SIM_MIN_VMTAS	4
#define SIM_MAX_VMTAS	16
#define SIM_MAX_POOLS	3
#define SIM_MAX_JOBS	24
#define SIM_MAX_HEADERS	3	/* the pipe start plus up to two restarts */
#define SIM_MAX_COLS	64
#define SIM_MAX_GAP	300
#define SIM_MAX_MPS	5000
#define SIM_SLOTS	(SIM_MAX_VMTAS + 2)	/* "", "0.0.0.0", then vmtas */
#define SIM_NONE8	0xffu
#define SIM_NONE16	0xffffu
#define SIM_DAY		86400

/* ------------------------------------------------------------------ */
/* PRNG: xoshiro256** seeded through splitmix64.  Never arc4random: the */
/* output must be a pure function of --seed.                           */

struct rng {
	uint64_t s[4];
};

static inline uint64_t
sim_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void
rng_seed(struct rng *r, uint64_t seed, uint64_t a, uint64_t b)
{
	uint64_t x = sim_mix64(seed + 0x9e3779b97f4a7c15ULL);
	int i;

	x = sim_mix64(x ^ (a * 0xd1342543de82ef95ULL + 1));
	x = sim_mix64(x ^ (b * 0x2545f4914f6cdd1dULL + 2));
	for (i = 0; i < 4; i++) {
		x += 0x9e3779b97f4a7c15ULL;
		r->s[i] = sim_mix64(x);
	}
}

static inline uint64_t
rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return res;
}

/* Uniform in [0, n); n == 0 gives 0. */
static inline uint32_t
rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi], inclusive. */
static inline uint32_t
rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

/* Index drawn from a cumulative weight table cum[0..n). */
static inline uint32_t
pick_cum(const uint32_t *cum, uint32_t n, struct rng *r)
{
	uint32_t x = rng_below(r, cum[n - 1]), lo = 0, hi = n - 1;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (cum[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static inline double
rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1p-53;
}

/* x rounded up or down at random so that counts average out to x. */
static inline uint64_t
rng_round(struct rng *r, double x)
{
	uint64_t n;

	if (x <= 0)
		return 0;
	n = (uint64_t)x;
	if (rng_unit(r) < x - (double)n)
		n++;
	return n;
}

/* ------------------------------------------------------------------ */
/* ISPs, in byte order of their names so an enum value is a sort rank. */

enum sim_isp {
	ISP_APPLE, ISP_ATT, ISP_COMCAST, ISP_GMX, ISP_GOOGLE, ISP_MAILRU,
	ISP_MICROSOFT, ISP_ORANGE, ISP_OTHER, ISP_TONLINE, ISP_YAHOO,
	ISP_YANDEX, ISP_COUNT
};

/* Volume classes: how the list splits, and how sessions behave. */
enum sim_class {
	CLS_GOOGLE, CLS_MICROSOFT, CLS_YAHOO, CLS_APPLE, CLS_GMX, CLS_ORANGE,
	CLS_TONLINE, CLS_COMCAST, CLS_ATT, CLS_MAILRU, CLS_YANDEX,
	CLS_GBIZ,	/* business domains on Google, known only by MX */
	CLS_MSBIZ,	/* business domains on Microsoft 365, known only by MX */
	CLS_OTHER,	/* everyone else, IDN domains included */
	CLS_COUNT
};

enum sim_domkind { DK_CONSUMER, DK_BUSINESS, DK_OTHER, DK_TYPO };

struct sim_domain {
	char name[64];		/* lowercase, as in rcpt (UTF-8 or punycode) */
	char upper[64];		/* a capitalised spelling some lists keep */
	char queue[64];		/* queue domain part: the domain or a rollup */
	char mxhost[96];	/* domain-specific MX host, else "" */
	uint8_t namelen, upperlen, queuelen, mxhostlen;
	uint8_t isp, cls, kind;
	uint16_t mxg;		/* destination group */
};

struct sim_dest {
	char host[64];		/* MX host name */
	char ip[16];
	uint8_t hostlen, iplen;
};

struct sim_mxgroup {
	uint16_t first, n;	/* range in sim_world.dest */
};

struct sim_classinfo {
	const char *name;
	uint8_t isp;
	double weight;		/* share of the list, percent */
	uint16_t size_lo, size_hi;	/* messages per session */
	double bounce;		/* b per attempt */
	double fbl;		/* f per delivered */
	double rb;		/* rb per delivered */
	int rollup;		/* one queue for all the class's domains */
	uint16_t *dom;		/* domains of the class */
	uint32_t *cum;		/* cumulative domain weights */
	uint32_t ndom;
};

struct sim_world {
	struct sim_domain *dom;
	uint32_t ndom;
	struct sim_dest *dest;
	uint32_t ndest;
	struct sim_mxgroup *mxg;
	uint32_t nmxg;
	struct sim_classinfo cls[CLS_COUNT];
	uint32_t cls_cum[CLS_COUNT];	/* cumulative class weights */
	uint16_t *typo;			/* domains that do not exist */
	uint32_t ntypo;
	double base_defer[ISP_COUNT];
};

extern const char *const isp_names[ISP_COUNT];

void world_init(struct sim_world *w, uint64_t seed);
void world_free(struct sim_world *w);
int world_isp_by_name(const char *name);
int world_pick_class(const struct sim_world *w, struct rng *r);
uint16_t world_pick_domain(const struct sim_world *w, int cls, struct rng *r);
uint16_t world_pick_dest(const struct sim_world *w, uint16_t dom,
    struct rng *r);

/* ------------------------------------------------------------------ */
/* SMTP replies. */

enum sim_diagkind {
	DG_D, DG_T, DG_B,	/* over a connection, per ISP */
	DG_TQ, DG_BADDOM, DG_DNS, DG_RB, DG_RS,	/* fleet-wide */
	DG_COUNT
};

struct sim_diag {
	const char *status;	/* dsnStatus */
	const char *cat;	/* bounceCat, "" for none */
	const char *text;	/* dsnDiag template, see sim_diag.c */
	uint16_t weight;
	/* CSV-escaped copies, padded so they may be copied in 16-byte blocks */
	char *st_csv, *cat_csv, *tpl_csv;
	uint8_t st_csvlen, cat_csvlen;
	uint16_t tpl_csvlen;
};

void diag_init(void);
uint8_t diag_pick(int isp, int kind, struct rng *r);
const struct sim_diag *diag_get(int isp, int kind, uint8_t i);
/* CSV-ready and padded for 16-byte block copies, like everything below. */
const char *diag_esmtp(int isp, size_t *len);
const char *diag_tls(int isp, size_t *len);
const char *diag_cipher(int isp, size_t *len);
char *sim_padded(const char *s, size_t n);

/* ------------------------------------------------------------------ */
/* Accounting columns. */

enum sim_col {
	/* the typical 23-column header, in PowerMTA's order */
	C_TYPE, C_TIMELOGGED, C_TIMEQUEUED, C_ORIG, C_RCPT, C_ORCPT,
	C_DSNACTION, C_DSNSTATUS, C_DSNDIAG, C_DSNMTA, C_BOUNCECAT,
	C_SRCTYPE, C_SRCMTA, C_DLVTYPE, C_DLVSOURCEIP, C_DLVDESTIP,
	C_DLVESMTP, C_DLVSIZE, C_VMTA, C_JOBID, C_ENVID, C_QUEUE, C_VMTAPOOL,
	/* always added so f and rb records carry their own fields */
	C_FEEDBACKTYPE, C_DSNREPORTINGMTA,
	/* optional extras a consumer must ignore or use */
	C_TOTALSECQUEUED, C_TIMEIMPRINTED, C_TIMEFIRSTATTEMPT, C_USERSTRING,
	C_DLVTLSPROTO, C_DLVTLSCIPHER, C_RCVSMTPUSER, C_RCVSOURCEIP,
	C_RCVDESTIP, C_FORMAT, C_USERAGENT, C_REPORTINGMTA,
	C_REPORTEDDOMAIN, C_REPSOURCEIP, C_HDR_XMAILER, C_HDR_SUBJECT,
	C_HDR_LISTUNSUB, C_HDR_CAMPAIGN,
	C_COUNT
};

#define C_FIRST_OPTIONAL C_TOTALSECQUEUED

extern const char *const col_names[C_COUNT];

/* ------------------------------------------------------------------ */
/* Records. */

enum sim_type {
	REC_D, REC_B, REC_T, REC_TQ, REC_R, REC_F, REC_RB, REC_RS, REC_NTYPES
};

extern const char *const rec_type_names[REC_NTYPES];

enum {
	RF_FIRST = 1,		/* first record of a true session */
	RF_SRC_NONE = 2,	/* dlvSourceIp empty */
	RF_SRC_ZERO = 4,	/* dlvSourceIp 0.0.0.0 */
	RF_UPPER = 8,		/* rcpt domain in its capitalised spelling */
	RF_CONN = 16		/* happened over an SMTP connection */
};

struct sim_rec {
	int64_t t;		/* timeLogged, UTC epoch seconds */
	uint32_t qdelay;	/* timeQueued = t - qdelay */
	uint32_t size;		/* dlvSize, 0 = empty */
	uint32_t rnd;		/* seeds the local part and reply ids */
	uint32_t sess_dur;	/* RF_FIRST: last - first of the session */
	uint16_t sess_n;	/* RF_FIRST: records in the session */
	uint16_t dom;
	uint16_t dest;		/* index in sim_world.dest, SIM_NONE16 */
	uint8_t type;
	uint8_t vmta;		/* SIM_NONE8 when none */
	uint8_t diag;
	uint8_t flags;
	uint8_t job;
};

/* ------------------------------------------------------------------ */
/* The fleet. */

struct sim_vmta {
	char name[16];
	char ip[16];
	uint8_t namelen, iplen, pool;
};

struct sim_header {
	uint8_t cols[SIM_MAX_COLS];
	uint8_t ncols;
	char line[1024];	/* the header line, CRLF included */
	uint16_t linelen;
};

struct sim_job {
	char id[48];
	char orig[80];
	char brand[32];		/* the sender's domain */
	char srcmta[64];
	char mailer[48];	/* CSV-escaped */
	char userstr[48];
	char unsub[160];	/* CSV-escaped */
	char campaign[32];
	char injip[16];		/* the injecting application's address */
	char smtpuser[32];	/* rcvSmtpUser, "" for API injection */
	uint8_t idlen, origlen, brandlen, srcmtalen, mailerlen, userstrlen;
	uint8_t unsublen, campaignlen, injiplen, smtpuserlen;
	uint8_t pool, api, envid, orcpt, subject;
	uint32_t size;		/* typical message size of the job */
	uint16_t weight;
};

struct sim_host {
	char name[16];
	uint8_t namelen;
	int index;
	int dc;
	int nvmta;
	struct sim_vmta vmta[SIM_MAX_VMTAS];
	int npool;
	char pool[SIM_MAX_POOLS][16];
	uint8_t poollen[SIM_MAX_POOLS];
	uint8_t pool_vmta[SIM_MAX_POOLS][SIM_MAX_VMTAS];
	uint8_t pool_n[SIM_MAX_POOLS];
	int offset_min;		/* UTC offset of its timestamps, minutes */
	char offstr[16];	/* "+0530" */
	int unix_time;		/* writes UNIX seconds, like older PowerMTA */
	char listen_ip[16];	/* where injections arrive (r records) */
	uint8_t listen_iplen;
	int nhdr;
	struct sim_header hdr[SIM_MAX_HEADERS];
	int64_t hdr_switch[SIM_MAX_HEADERS - 1];	/* pipe restarts */
	int njob;
	struct sim_job job[SIM_MAX_JOBS];
	uint32_t job_cum[SIM_MAX_JOBS];
	int silent_days;	/* writes nothing for the last silent_days */
	int64_t end;		/* first second it writes nothing */
	uint32_t diurnal[1440];	/* cumulative volume per UTC minute */
};

struct sim_fleet {
	int nhosts;
	struct sim_host *host;
	int ndc;
};

extern const char *const dc_names[];

/* ------------------------------------------------------------------ */
/* Options. */

struct sim_trend {
	int active;
	double from, to;	/* percent */
	int days;
};

struct sim_collapse {
	int active;
	int mps;
	int days;
};

struct sim_silent {
	char *host;
	int days;
};

struct sim_opts {
	int hosts;
	int days;
	int64_t start;		/* UTC epoch of the first simulated midnight */
	int64_t end;		/* start + days */
	uint64_t rate;
	uint64_t seed;
	int gap;
	int clean;
	const char *out;
	int to_stdout;
	int host_index;
	int stats;
	struct sim_trend trend[ISP_COUNT];
	struct sim_collapse collapse[ISP_COUNT];
	struct sim_silent *silent;
	int nsilent;
};

void fleet_init(struct sim_fleet *f, const struct sim_opts *o,
    const struct sim_world *w);
void fleet_free(struct sim_fleet *f);
int fleet_set_silent(struct sim_fleet *f, const struct sim_opts *o,
    const char *name, int days);
int fleet_describe(const struct sim_fleet *f, const struct sim_opts *o,
    const char *path);
int64_t fleet_pick_time(const struct sim_host *h, int64_t day_start,
    struct rng *r);
uint8_t fleet_pick_job(const struct sim_host *h, struct rng *r);
uint8_t fleet_pick_vmta(const struct sim_host *h, uint8_t job, struct rng *r);
const char *fleet_subject(uint8_t i, size_t *len);	/* CSV-escaped */

/* ------------------------------------------------------------------ */
/* Output buffers: big, flushed with write(2), no stdio on the hot path. */

struct sim_out {
	char *buf;
	size_t len, cap;
	int fd;
	const char *path;	/* for error messages */
	uint64_t bytes;		/* everything flushed or buffered so far */
};

void out_init(struct sim_out *o, size_t cap);
void out_free(struct sim_out *o);
void out_flush(struct sim_out *o);
void out_put(struct sim_out *o, const char *s, size_t n);
void out_str(struct sim_out *o, const char *s);
void out_u64(struct sim_out *o, uint64_t v);
extern const char sim_digits2[201];	/* "00", "01", ... "99" */
char *fmt_u64(char *p, uint64_t v);
char *fmt_date(char *p, int64_t days);	/* YYYY-MM-DD, days since epoch */
int64_t days_from_civil(int y, unsigned m, unsigned d);

static inline void
out_reserve(struct sim_out *o, size_t n)
{
	if (o->cap - o->len < n)
		out_flush(o);
}

/* ------------------------------------------------------------------ */
/* Emission. */

struct sim_tcache {
	int64_t day;
	char date[11];
};

struct sim_emit {
	const struct sim_world *w;
	const struct sim_host *h;
	int hdr;		/* header in force */
	struct sim_tcache tc[2];	/* timeLogged, the other times */
};

void emit_init(void);
void emit_begin(struct sim_emit *e, const struct sim_world *w,
    const struct sim_host *h, struct sim_out *o);
void emit_record(struct sim_emit *e, struct sim_out *o,
    const struct sim_rec *r);

/* ------------------------------------------------------------------ */
/* Generation. */

struct sim_gen;		/* per-host state that outlives a day */
struct sim_genw;	/* one worker's scratch */

struct sim_gen *gen_new(const struct sim_opts *o, const struct sim_world *w,
    const struct sim_fleet *f);
void gen_free(struct sim_gen *g);
struct sim_genw *gen_worker_new(void);
void gen_worker_free(struct sim_genw *s);
/*
 * The records of host for day, in time order as rec[order[0..n)], all inside
 * the day.  A host's days must be asked for in order and never concurrently;
 * different hosts may be generated at once, each with its own scratch.
 */
size_t gen_day(struct sim_gen *g, struct sim_genw *s, int host, int day,
    const struct sim_rec **rec, const uint32_t **order);

/* ------------------------------------------------------------------ */
/* Truth. */

struct sim_truth;		/* truth.csv and the per-host totals */
struct sim_truthw;		/* one worker's host-day accumulator */

struct sim_truth *truth_open(const char *dir, const struct sim_world *w,
    const struct sim_fleet *f, const int *run, int nrun, int nworkers);
struct sim_truthw *truth_worker(struct sim_truth *t, int i);
void truth_host_day_begin(struct sim_truthw *t, int host, int64_t day_start);
void truth_record(struct sim_truthw *t, const struct sim_rec *r);
void truth_host_day_end(struct sim_truthw *t);
void truth_day_end(struct sim_truth *t, int64_t day_start);
void truth_close(struct sim_truth *t);

/* ------------------------------------------------------------------ */
/* sim.c */

void sim_fatal(const char *what, const char *detail);
void *sim_alloc(size_t n, size_t size);
int sim_open(const char *path, int append);
char *sim_path(const char *dir, const char *name, const char *ext);

#endif
