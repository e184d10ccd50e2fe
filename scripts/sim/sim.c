/*
 * sim.c - mtascope-sim: options, the day-by-day driver, files, --stats.
 *
 * The driver walks the simulated period day by day and, within a day, host
 * by host: sim_gen.c produces the host-day's records in time order,
 * sim_emit.c appends them to the host's CSV stream and sim_truth.c accounts
 * for each.  Going day-major keeps memory bounded (one host-day of records
 * per worker plus one day of truth rows) and lets truth.csv be written in
 * hour order without holding the whole period.  Hosts are independent, so
 * a day's hosts are spread over one worker thread per CPU (up to 8): the
 * cost of writing is mostly the kernel copying into the page cache, and
 * that parallelises across files.
 *
 * Usage errors are one line on stderr and exit status 2; I/O errors and
 * broken invariants exit 1.  Output is a pure function of the options and
 * --seed, except for the default --start, which follows the clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

static const char usage_text[] =
"usage: mtascope-sim [options] (--out DIR | --stdout)\n"
"Write PowerMTA accounting CSV streams for a simulated fleet, plus the\n"
"ground truth of what was written.\n"
"\n"
"  --hosts N               hosts mta01..mtaNN (default 10)\n"
"  --days D                days to simulate (default 35)\n"
"  --start YYYY-MM-DD      first UTC day (default: today minus D days)\n"
"  --rate N                records per host per day, about (default 20000)\n"
"  --seed N                PRNG seed (default 1)\n"
"  --session-gap G         session gap of the inference, s (default 2)\n"
"  --clean-sessions        sessions the inference can recover exactly\n"
"  --out DIR               write DIR/<host>.csv and the truth files\n"
"  --stdout                write one host's stream to stdout\n"
"  --host-index I          host for --stdout (default 0)\n"
"  --stats                 print throughput to stderr\n"
"  -h, --help              this text\n"
"\n"
"Incidents (each may be repeated; a later one for the same ISP wins):\n"
"  --deferral-trend ISP:FROM:TO:DAYS   the ISP's deferral rate, FROM% before,\n"
"                                      ramping to TO% over the last DAYS\n"
"  --session-collapse ISP:MPS:DAYS     about MPS messages per session in the\n"
"                                      last DAYS, delivered volume held up\n"
"  --silent-host HOST:DAYS             HOST writes nothing for the last DAYS\n";

static void
usage_error(const char *fmt, const char *arg)
{
	fputs("mtascope-sim: ", stderr);
	fprintf(stderr, fmt, arg ? arg : "");
	fputs(" (see --help)\n", stderr);
	exit(2);
}

void
sim_fatal(const char *what, const char *detail)
{
	if (detail != NULL)
		fprintf(stderr, "mtascope-sim: %s: %s\n", what, detail);
	else
		fprintf(stderr, "mtascope-sim: %s\n", what);
	exit(1);
}

void *
sim_alloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		sim_fatal("out of memory", NULL);
	return p;
}

int
sim_open(const char *path, int append)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC |
	    (append ? O_APPEND : O_TRUNC), 0644);

	if (fd < 0)
		sim_fatal(path, strerror(errno));
	return fd;
}

char *
sim_path(const char *dir, const char *name, const char *ext)
{
	size_t n = strlen(dir) + strlen(name) + strlen(ext) + 2;
	char *p = sim_alloc(n, 1);

	snprintf(p, n, "%s/%s%s", dir, name, ext);
	return p;
}

static long long
parse_int(const char *s, long long lo, long long hi, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "mtascope-sim: %s: '%s' is not an integer in "
		    "%lld..%lld (see --help)\n", what, s, lo, hi);
		exit(2);
	}
	return v;
}

static double
parse_pct(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0 && v <= 100)) {
		fprintf(stderr, "mtascope-sim: %s: '%s' is not a percentage "
		    "0..100 (see --help)\n", what, s);
		exit(2);
	}
	return v;
}

static int64_t
parse_date(const char *s)
{
	int y, m, d, n = 0;
	int64_t days;
	char back[16];

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
	    s[n] != '\0' || y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		usage_error("--start: '%s' is not a date YYYY-MM-DD", s);
	days = days_from_civil(y, (unsigned)m, (unsigned)d);
	*fmt_date(back, days) = '\0';
	if (strcmp(back, s) != 0)
		usage_error("--start: '%s' is not a calendar date", s);
	return days * SIM_DAY;
}

/* Split "a:b:c" into exactly n fields, in place. */
static void
split(char *s, char **f, int n, const char *opt, const char *orig)
{
	int i;

	for (i = 0; i < n; i++) {
		f[i] = s;
		s = strchr(s, ':');
		if ((s == NULL) != (i == n - 1) || f[i][0] == '\0') {
			fprintf(stderr, "mtascope-sim: %s: '%s' does not have the "
			    "form %s (see --help)\n", opt, orig,
			    n == 4 ? "ISP:FROM:TO:DAYS" : n == 3 ? "ISP:MPS:DAYS" :
			    "HOST:DAYS");
			exit(2);
		}
		if (s != NULL)
			*s++ = '\0';
	}
}

static int
isp_arg(const char *name, const char *opt)
{
	int i = world_isp_by_name(name);

	if (i < 0) {
		fprintf(stderr, "mtascope-sim: %s: unknown ISP '%s' (one of "
		    "apple att comcast gmx google mailru microsoft orange other "
		    "t-online yahoo yandex)\n", opt, name);
		exit(2);
	}
	return i;
}

enum {
	O_HOSTS = 256, O_DAYS, O_START, O_RATE, O_SEED, O_GAP, O_CLEAN, O_OUT,
	O_STDOUT, O_HOSTIDX, O_STATS, O_TREND, O_COLLAPSE, O_SILENT
};

static const struct option longopts[] = {
	{ "hosts", required_argument, NULL, O_HOSTS },
	{ "days", required_argument, NULL, O_DAYS },
	{ "start", required_argument, NULL, O_START },
	{ "rate", required_argument, NULL, O_RATE },
	{ "seed", required_argument, NULL, O_SEED },
	{ "session-gap", required_argument, NULL, O_GAP },
	{ "clean-sessions", no_argument, NULL, O_CLEAN },
	{ "out", required_argument, NULL, O_OUT },
	{ "stdout", no_argument, NULL, O_STDOUT },
	{ "host-index", required_argument, NULL, O_HOSTIDX },
	{ "stats", no_argument, NULL, O_STATS },
	{ "deferral-trend", required_argument, NULL, O_TREND },
	{ "session-collapse", required_argument, NULL, O_COLLAPSE },
	{ "silent-host", required_argument, NULL, O_SILENT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
parse_options(struct sim_opts *o, int argc, char **argv)
{
	int have_start = 0, c;
	int64_t start = 0;
	char *f[4], *copy;

	memset(o, 0, sizeof(*o));
	o->hosts = 10;
	o->days = 35;
	o->rate = 20000;
	o->seed = 1;
	o->gap = 2;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case O_HOSTS:
			o->hosts = (int)parse_int(optarg, 1, SIM_MAX_HOSTS,
			    "--hosts");
			break;
		case O_DAYS:
			o->days = (int)parse_int(optarg, 1, 3660, "--days");
			break;
		case O_START:
			start = parse_date(optarg);
			have_start = 1;
			break;
		case O_RATE:
			o->rate = (uint64_t)parse_int(optarg, 0, 100000000,
			    "--rate");
			break;
		case O_SEED:
			o->seed = (uint64_t)parse_int(optarg, 0, INT64_MAX,
			    "--seed");
			break;
		case O_GAP:
			o->gap = (int)parse_int(optarg, 0, SIM_MAX_GAP,
			    "--session-gap");
			break;
		case O_CLEAN:
			o->clean = 1;
			break;
		case O_OUT:
			if (optarg[0] == '\0')
				usage_error("--out: empty directory name%s", "");
			o->out = optarg;
			break;
		case O_STDOUT:
			o->to_stdout = 1;
			break;
		case O_HOSTIDX:
			o->host_index = (int)parse_int(optarg, 0,
			    SIM_MAX_HOSTS - 1, "--host-index");
			break;
		case O_STATS:
			o->stats = 1;
			break;
		case O_TREND: {
			struct sim_trend *t;

			copy = strdup(optarg);
			split(copy, f, 4, "--deferral-trend", optarg);
			t = &o->trend[isp_arg(f[0], "--deferral-trend")];
			t->from = parse_pct(f[1], "--deferral-trend FROM");
			t->to = parse_pct(f[2], "--deferral-trend TO");
			t->days = (int)parse_int(f[3], 1, 3660,
			    "--deferral-trend DAYS");
			t->active = 1;
			free(copy);
			break;
		}
		case O_COLLAPSE: {
			struct sim_collapse *k;

			copy = strdup(optarg);
			split(copy, f, 3, "--session-collapse", optarg);
			k = &o->collapse[isp_arg(f[0], "--session-collapse")];
			k->mps = (int)parse_int(f[1], 1, SIM_MAX_MPS,
			    "--session-collapse MPS");
			k->days = (int)parse_int(f[2], 1, 3660,
			    "--session-collapse DAYS");
			k->active = 1;
			free(copy);
			break;
		}
		case O_SILENT:
			copy = strdup(optarg);
			split(copy, f, 2, "--silent-host", optarg);
			o->silent = reallocarray(o->silent, (size_t)o->nsilent + 1,
			    sizeof(*o->silent));
			if (o->silent == NULL)
				sim_fatal("out of memory", NULL);
			o->silent[o->nsilent].host = strdup(f[0]);
			o->silent[o->nsilent].days = (int)parse_int(f[1], 1, 3660,
			    "--silent-host DAYS");
			o->nsilent++;
			free(copy);
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
			break;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			break;
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (o->out == NULL && !o->to_stdout)
		usage_error("one of --out DIR or --stdout is required%s", "");
	if (o->host_index >= o->hosts)
		usage_error("--host-index: no such host (%s)", "index >= --hosts");
	for (c = 0; c < ISP_COUNT; c++)
		if ((o->trend[c].active && o->trend[c].days > o->days) ||
		    (o->collapse[c].active && o->collapse[c].days > o->days))
			usage_error("incident at %s lasts longer than --days",
			    isp_names[c]);
	for (c = 0; c < o->nsilent; c++)
		if (o->silent[c].days > o->days)
			usage_error("--silent-host %s: longer than --days",
			    o->silent[c].host);
	if (!have_start) {
		int64_t now = (int64_t)time(NULL);

		start = now - now % SIM_DAY - (int64_t)o->days * SIM_DAY;
	}
	o->start = start;
	o->end = start + (int64_t)o->days * SIM_DAY;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What every worker reads; only the per-host entries of em are written. */
struct runctx {
	const struct sim_opts *o;
	const struct sim_world *w;
	const struct sim_fleet *f;
	struct sim_gen *g;
	struct sim_emit *em;	/* per entry of run */
	char **paths;		/* per entry of run, NULL with --stdout */
	const int *run;
	int nrun, nwk;
};

/*
 * A worker owns the hosts run[id], run[id + nwk], ... for the whole run, so
 * a host's generator, emitter and files are only ever touched by one thread
 * at a time, and each host's bytes do not depend on the number of workers.
 */
struct worker {
	int id;
	int day;
	const struct runctx *rc;
	struct sim_genw *gw;
	struct sim_truthw *tw;
	struct sim_out csv;
	uint64_t records;
	pthread_t thr;
};

static void
work_day(struct worker *wk)
{
	const struct runctx *rc = wk->rc;
	int64_t day_start = rc->o->start + (int64_t)wk->day * SIM_DAY;
	int i;

	for (i = wk->id; i < rc->nrun; i += rc->nwk) {
		const struct sim_rec *rec;
		const uint32_t *order;
		int host = rc->run[i];
		size_t n = gen_day(rc->g, wk->gw, host, wk->day, &rec, &order), k;

		if (n == 0)
			continue;
		if (rc->paths[i] != NULL) {
			wk->csv.fd = sim_open(rc->paths[i], 1);
			wk->csv.path = rc->paths[i];
		}
		if (wk->tw != NULL)
			truth_host_day_begin(wk->tw, host, day_start);
		for (k = 0; k < n; k++) {
			const struct sim_rec *r = &rec[order[k]];

			emit_record(&rc->em[i], &wk->csv, r);
			if (wk->tw != NULL)
				truth_record(wk->tw, r);
		}
		out_flush(&wk->csv);
		if (rc->paths[i] != NULL && close(wk->csv.fd) != 0)
			sim_fatal(rc->paths[i], strerror(errno));
		if (wk->tw != NULL)
			truth_host_day_end(wk->tw);
		wk->records += n;
	}
}

static void *
work_thread(void *arg)
{
	work_day(arg);
	return NULL;
}

static int
cpu_count(void)
{
	cpu_set_t set;
	int n = 1;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > 8 ? 8 : n;
}

int
main(int argc, char **argv)
{
	struct sim_opts o;
	struct sim_world w;
	struct sim_fleet f;
	struct sim_truth *truth = NULL;
	struct runctx rc;
	struct worker *wk;
	int *run, nrun, nwk, i, day;
	uint64_t records = 0, bytes = 0;
	double t0 = now_s(), secs;

	parse_options(&o, argc, argv);
	world_init(&w, o.seed);
	diag_init();
	emit_init();
	fleet_init(&f, &o, &w);
	for (i = 0; i < o.nsilent; i++)
		if (fleet_set_silent(&f, &o, o.silent[i].host,
		    o.silent[i].days) != 0)
			usage_error("--silent-host: no host named '%s'",
			    o.silent[i].host);
	nrun = o.to_stdout ? 1 : o.hosts;
	nwk = cpu_count();
	if (nwk > nrun)
		nwk = nrun;
	run = sim_alloc((size_t)nrun, sizeof(*run));
	for (i = 0; i < nrun; i++)
		run[i] = o.to_stdout ? o.host_index : i;
	if (o.out != NULL) {
		char *p;

		if (mkdir(o.out, 0755) != 0 && errno != EEXIST)
			sim_fatal(o.out, strerror(errno));
		truth = truth_open(o.out, &w, &f, run, nrun, nwk);
		p = sim_path(o.out, "fleet", ".txt");
		if (fleet_describe(&f, &o, p) != 0)
			sim_fatal(p, strerror(errno));
		free(p);
	}
	memset(&rc, 0, sizeof(rc));
	rc.o = &o;
	rc.w = &w;
	rc.f = &f;
	rc.g = gen_new(&o, &w, &f);
	rc.em = sim_alloc((size_t)nrun, sizeof(*rc.em));
	rc.paths = sim_alloc((size_t)nrun, sizeof(*rc.paths));
	rc.run = run;
	rc.nrun = nrun;
	rc.nwk = nwk;
	wk = sim_alloc((size_t)nwk, sizeof(*wk));
	for (i = 0; i < nwk; i++) {
		wk[i].id = i;
		wk[i].rc = &rc;
		wk[i].gw = gen_worker_new();
		wk[i].tw = truth != NULL ? truth_worker(truth, i) : NULL;
		out_init(&wk[i].csv, 4 << 20);
		if (o.to_stdout) {
			wk[i].csv.fd = STDOUT_FILENO;
			wk[i].csv.path = "stdout";
		}
	}
	/* Every stream opens with its header, as PowerMTA starts a pipe. */
	for (i = 0; i < nrun; i++) {
		struct sim_out *csv = &wk[i % nwk].csv;

		if (!o.to_stdout) {
			rc.paths[i] = sim_path(o.out, f.host[run[i]].name, ".csv");
			csv->fd = sim_open(rc.paths[i], 0);
			csv->path = rc.paths[i];
		}
		emit_begin(&rc.em[i], &w, &f.host[run[i]], csv);
		out_flush(csv);
		if (!o.to_stdout)
			close(csv->fd);
	}
	for (day = 0; day < o.days; day++) {
		for (i = 0; i < nwk; i++)
			wk[i].day = day;
		for (i = 1; i < nwk; i++)
			if (pthread_create(&wk[i].thr, NULL, work_thread, &wk[i]) != 0)
				sim_fatal("cannot start a worker thread", NULL);
		work_day(&wk[0]);
		for (i = 1; i < nwk; i++)
			pthread_join(wk[i].thr, NULL);
		if (truth != NULL)
			truth_day_end(truth, o.start + (int64_t)day * SIM_DAY);
	}
	truth_close(truth);
	for (i = 0; i < nwk; i++) {
		records += wk[i].records;
		bytes += wk[i].csv.bytes;
		out_free(&wk[i].csv);
		gen_worker_free(wk[i].gw);
	}
	secs = now_s() - t0;
	if (o.stats)
		fprintf(stderr, "records=%llu bytes=%llu seconds=%.3f "
		    "records_per_s=%llu MB_per_s=%.1f\n",
		    (unsigned long long)records, (unsigned long long)bytes,
		    secs, (unsigned long long)(secs > 0 ? records / secs : 0),
		    secs > 0 ? bytes / 1e6 / secs : 0.0);
	for (i = 0; i < nrun; i++)
		free(rc.paths[i]);
	free(rc.paths);
	free(rc.em);
	free(wk);
	free(run);
	gen_free(rc.g);
	fleet_free(&f);
	world_free(&w);
	for (i = 0; i < o.nsilent; i++)
		free(o.silent[i].host);
	free(o.silent);
	return 0;
}
