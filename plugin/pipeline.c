/*
 * pipeline.c: drive one input stream through the record path.
 *
 * The loop reads rows, remaps columns at every header line, normalizes,
 * infers sessions and hands records and closed sessions to the batcher
 * (and to the JSON dump when asked).  A bad line is counted, the first few
 * are reported with their line numbers, and reading always goes on: one
 * malformed record must never cost the records after it.
 *
 * With a spool, a batch closes when full or batch_ms after it opened,
 * whichever is first; the input is polled so a quiet stream still closes
 * its batch on time.  A batch the spool cannot take (it is at its cap) is
 * dropped, never waited for: its records are counted per hour and travel
 * to the collector as gaps in a later batch.
 */
#include "pipeline.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "csv.h"
#include "dump.h"
#include "log.h"
#include "outbuf.h"
#include "session.h"

struct input {
	int	fd;
	int	poll_ms;	/* -1: plain blocking reads */
};

struct pipeline {
	const struct pipeline_opts	*opts;
	struct pipeline_stats		*st;
	struct batcher			*batcher;
	struct outbuf			*dump;
	struct outbuf			*output;
	int				 batch_open;
	int64_t				 batch_started;	/* ms, monotonic */
	struct spool_hours		 hours;		/* of the open batch */
	struct spool_hours		 gaps;		/* it carries */
	int				 dropping;
	int64_t				 started;
	struct csv			*csv;
	int64_t				 progress_at;	/* ms */
	int64_t				 progress_t0;
};

static ssize_t	input_read(void *, char *, size_t);
static int64_t	now_ms(void);
static void	batch_begin(struct pipeline *);
static void	batch_close(struct pipeline *);
static void	tick(struct pipeline *);
static void	on_session(void *, const struct session_info *);
static void	on_batch(void *, uint64_t, const uint8_t *, size_t, size_t);
static void	report_reject(struct pipeline *, uint64_t, const char *);
static void	progress(struct pipeline *, int);

static ssize_t
input_read(void *arg, char *buf, size_t len)
{
	struct input *in = arg;
	struct pollfd pfd;
	int r;

	if (in->poll_ms >= 0) {
		pfd.fd = in->fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, in->poll_ms)) == 0) {
			errno = EAGAIN;
			return -1;
		}
		if (r < 0)
			return -1;
	}
	return read(in->fd, buf, len);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A batch opens: it carries the waiting gaps and the current counters. */
static void
batch_begin(struct pipeline *p)
{
	size_t i;

	if (p->batch_open)
		return;
	p->batch_open = 1;
	p->hours.n = 0;
	p->gaps.n = 0;
	if (p->opts->spool == NULL)
		return;
	p->batch_started = now_ms();
	if (spool_gap_take(p->opts->spool, &p->gaps))
		for (i = 0; i < p->gaps.n; i++)
			batcher_add_gap(p->batcher, p->gaps.hour[i],
			    p->gaps.count[i], "dropped by mtascope-pipe");
}

/* Close the open batch with the counters as they are now. */
static void
batch_close(struct pipeline *p)
{
	/* spool_bytes() takes no lock: the reader never waits on the
	 * senders or the writer. */
	if (p->opts->spool != NULL)
		batcher_set_counters(p->batcher, p->st->records,
		    p->st->rejected, spool_bytes(p->opts->spool),
		    p->st->dropped, p->started);
	batcher_flush(p->batcher);
}

/* A one-line progress bar on a terminal, redrawn five times a second. */
static void
progress(struct pipeline *p, int last)
{
	char bar[41];
	uint64_t done = csv_bytes(p->csv), total = p->opts->progress_total;
	int64_t now = now_ms();
	double frac, secs;
	int i, fill;

	if (total == 0 || (!last && now - p->progress_at < 200))
		return;
	p->progress_at = now;
	frac = done >= total ? 1.0 : (double)done / (double)total;
	fill = (int)(frac * 40);
	for (i = 0; i < 40; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[40] = '\0';
	secs = (double)(now - p->progress_t0) / 1000.0;
	fprintf(stderr, "\r%.30s [%s] %3.0f%% %llu records %.0f/s%s",
	    p->opts->input_name, bar, frac * 100,
	    (unsigned long long)p->st->records,
	    secs > 0 ? (double)p->st->records / secs : 0.0, last ? "\n" : "");
}

/* Timed work: close an old batch; send waiting gaps even when idle. */
static void
tick(struct pipeline *p)
{
	progress(p, 0);
	if (p->opts->spool == NULL || p->opts->replay)
		return;
	if (!p->batch_open) {
		if (!spool_gap_pending(p->opts->spool))
			return;
		batch_begin(p);
	}
	if (now_ms() - p->batch_started >= p->opts->batch_ms)
		batch_close(p);
}

static void
on_session(void *arg, const struct session_info *si)
{
	struct pipeline *p = arg;

	p->st->sessions++;
	p->st->session_records += si->records;
	batch_begin(p);
	batcher_add_session(p->batcher, si);
	if (p->dump != NULL)
		dump_session(p->dump, si);
}

static void
on_batch(void *arg, uint64_t seq, const uint8_t *buf, size_t len,
    size_t nrecords)
{
	struct pipeline *p = arg;
	struct spool *sp = p->opts->spool;
	uint32_t be;
	size_t i;

	p->st->batches++;
	p->st->bytes_out += len;
	if (p->output != NULL) {
		be = htonl((uint32_t)len);
		outbuf_mem(p->output, &be, sizeof(be));
		outbuf_mem(p->output, buf, len);
	}
	if (sp != NULL && p->opts->replay) {
		/* A file can wait: never drop, let the senders catch up. */
		while (spool_submit(sp, seq, buf, len, &p->hours, &p->gaps) ==
		    -1 && (p->opts->stop == NULL || !*p->opts->stop)) {
			struct timespec ts = { 0, 10 * 1000000L };

			nanosleep(&ts, NULL);
		}
	} else if (sp != NULL) {
		if (spool_submit(sp, seq, buf, len, &p->hours, &p->gaps) ==
		    0) {
			if (p->dropping)
				log_warnx("spool accepts batches again");
			p->dropping = 0;
		} else {
			if (!p->dropping)
				log_warnx("spool full: dropping records, "
				    "counted as gaps");
			p->dropping = 1;
			p->st->dropped += nrecords;
			for (i = 0; i < p->hours.n; i++)
				spool_gap_add(sp, p->hours.hour[i],
				    p->hours.count[i]);
			for (i = 0; i < p->gaps.n; i++)
				spool_gap_add(sp, p->gaps.hour[i],
				    p->gaps.count[i]);
		}
	}
	p->batch_open = 0;
}

static void
report_reject(struct pipeline *p, uint64_t line, const char *why)
{
	p->st->rejected++;
	if (p->st->rejected > p->opts->max_errors)
		return;
	if (p->opts->input_name != NULL)
		log_warnx("%s: line %llu: %s", p->opts->input_name,
		    (unsigned long long)line, why);
	else
		log_warnx("line %llu: %s", (unsigned long long)line, why);
}

void
pipeline_summary_line(const struct pipeline_stats *st, char *buf,
    size_t len)
{
	snprintf(buf, len, "records=%llu d=%llu b=%llu t=%llu tq=%llu r=%llu "
	    "f=%llu rb=%llu rs=%llu rejected=%llu sessions=%llu "
	    "session_records=%llu",
	    (unsigned long long)st->records,
	    (unsigned long long)st->by_type[REC_D],
	    (unsigned long long)st->by_type[REC_B],
	    (unsigned long long)st->by_type[REC_T],
	    (unsigned long long)st->by_type[REC_TQ],
	    (unsigned long long)st->by_type[REC_R],
	    (unsigned long long)st->by_type[REC_F],
	    (unsigned long long)st->by_type[REC_RB],
	    (unsigned long long)st->by_type[REC_RS],
	    (unsigned long long)st->rejected,
	    (unsigned long long)st->sessions,
	    (unsigned long long)st->session_records);
}

int
pipeline_run(const struct pipeline_opts *opts, int fd,
    struct pipeline_stats *st)
{
	struct pipeline p;
	struct outbuf *dump = NULL, *output = NULL;
	struct input in;
	struct csv *csv;
	struct normalizer *norm;
	struct sessions *ss;
	struct csv_row row;
	struct record rec;
	enum csv_result res;
	uint64_t rows = 0;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	memset(&p, 0, sizeof(p));
	p.opts = opts;
	p.st = st;
	p.started = time(NULL);
	in.fd = fd;
	in.poll_ms = opts->spool != NULL ? 50 : -1;
	if (opts->dump) {
		if ((dump = malloc(sizeof(*dump))) == NULL)
			fatal("dump buffer");
		outbuf_init(dump, 1);
		p.dump = dump;
	}
	if (opts->output_fd != -1) {
		if ((output = malloc(sizeof(*output))) == NULL)
			fatal("output buffer");
		outbuf_init(output, opts->output_fd);
		p.output = output;
	}
	if ((csv = csv_new(opts->max_record, input_read, &in)) == NULL ||
	    (norm = normalizer_new(opts->keep_rcpt)) == NULL ||
	    (ss = sessions_new(opts->session_gap, on_session, &p)) == NULL ||
	    (p.batcher = batcher_new(opts->host, opts->spool != NULL ?
	    spool_id(opts->spool) : "offline", opts->spool != NULL ?
	    spool_next_seq(opts->spool) : 1, opts->batch_records, on_batch,
	    &p)) == NULL)
		fatal("pipeline setup");
	p.csv = csv;
	p.progress_t0 = now_ms();
	if (opts->replay)
		batcher_omit_counters(p.batcher);

	while ((res = csv_next(csv, &row)) != CSV_EOF) {
		if (opts->stop != NULL && *opts->stop)
			break;
		if (res == CSV_AGAIN) {
			tick(&p);
			continue;
		}
		if (res == CSV_IOERR) {
			log_warnx("%s: %s", opts->input_name ? opts->input_name :
			    "stdin", csv_error(csv));
			rc = -1;
			break;
		}
		if ((++rows & 63) == 0)
			tick(&p);
		if (res == CSV_BAD) {
			report_reject(&p, csv_error_line(csv), csv_error(csv));
			continue;
		}
		if (record_is_header(&row)) {
			record_set_header(norm, &row);
			continue;
		}
		if (record_is_blank(&row))
			continue;
		if (record_normalize(norm, &row, time(NULL), &rec) == -1) {
			report_reject(&p, row.line, record_error(norm));
			continue;
		}
		st->records++;
		st->by_type[rec.type]++;
		sessions_add(ss, &rec);
		/* Close a full batch here rather than inside the batcher, so
		 * the next one opens through batch_begin(). */
		if (batcher_pending(p.batcher) >= opts->batch_records)
			batch_close(&p);
		batch_begin(&p);
		batcher_add_record(p.batcher, &rec);
		spool_hours_add(&p.hours, rec.time_logged / 3600, 1);
		if (dump != NULL)
			dump_record(dump, &rec);
	}
	sessions_close_all(ss);
	batch_close(&p);
	/* Drops still unreported (from this run or the one before) go out
	 * now, in batches of their own, if the spool has room. */
	while (opts->spool != NULL && !opts->replay &&
	    spool_gap_pending(opts->spool)) {
		batch_begin(&p);
		batch_close(&p);
		if (p.dropping)
			break;
	}
	progress(&p, 1);
	st->bytes_in = csv_bytes(csv);
	st->sessions_evicted = sessions_evicted(ss);
	if (st->rejected > opts->max_errors)
		log_warnx("%llu lines rejected in all; the first %u are shown",
		    (unsigned long long)st->rejected, opts->max_errors);
	if (st->sessions_evicted > 0)
		log_warnx("%llu sessions closed early: more than %d open at "
		    "once", (unsigned long long)st->sessions_evicted,
		    SESSION_MAX_OPEN);
	if (st->dropped > 0)
		log_warnx("%llu records dropped while the spool was full; "
		    "reported to the collector as gaps",
		    (unsigned long long)st->dropped);
	if (dump != NULL && outbuf_flush(dump) == -1) {
		log_warn("stdout");
		rc = -1;
	}
	if (output != NULL && outbuf_flush(output) == -1) {
		log_warn("batch output");
		rc = -1;
	}
	batcher_free(p.batcher);
	sessions_free(ss);
	normalizer_free(norm);
	csv_free(csv);
	free(dump);
	free(output);
	return rc;
}
