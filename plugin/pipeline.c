/*
 * pipeline.c: drive one input stream through the record path.
 *
 * The loop reads rows, remaps columns at every header line, normalizes,
 * infers sessions and hands records and closed sessions to the batcher
 * (and to the JSON dump when asked).  A bad line is counted, the first few
 * are reported with their line numbers, and reading always goes on: one
 * malformed record must never cost the records after it.
 */
#include "pipeline.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "csv.h"
#include "dump.h"
#include "log.h"
#include "outbuf.h"
#include "session.h"

struct pipeline {
	const struct pipeline_opts	*opts;
	struct pipeline_stats		*st;
	struct batcher			*batcher;
	struct outbuf			*dump;
	struct outbuf			*output;
};

static void	on_session(void *, const struct session_info *);
static void	on_batch(void *, uint64_t, const uint8_t *, size_t, size_t);
static void	report_reject(struct pipeline *, uint64_t, const char *);

static void
on_session(void *arg, const struct session_info *si)
{
	struct pipeline *p = arg;

	p->st->sessions++;
	p->st->session_records += si->records;
	batcher_add_session(p->batcher, si);
	if (p->dump != NULL)
		dump_session(p->dump, si);
}

static void
on_batch(void *arg, uint64_t seq, const uint8_t *buf, size_t len,
    size_t nrecords)
{
	struct pipeline *p = arg;
	uint32_t be;

	(void)seq;
	(void)nrecords;
	p->st->batches++;
	p->st->bytes_out += len;
	if (p->output != NULL) {
		be = htonl((uint32_t)len);
		outbuf_mem(p->output, &be, sizeof(be));
		outbuf_mem(p->output, buf, len);
	}
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
	struct csv *csv;
	struct normalizer *norm;
	struct sessions *ss;
	struct csv_row row;
	struct record rec;
	enum csv_result res;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	memset(&p, 0, sizeof(p));
	p.opts = opts;
	p.st = st;
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
	if ((csv = csv_new(opts->max_record, csv_read_fd, &fd)) == NULL ||
	    (norm = normalizer_new(opts->keep_rcpt)) == NULL ||
	    (ss = sessions_new(opts->session_gap, on_session, &p)) == NULL ||
	    (p.batcher = batcher_new(opts->host, "offline", 1,
	    opts->batch_records, on_batch, &p)) == NULL)
		fatal("pipeline setup");

	while ((res = csv_next(csv, &row)) != CSV_EOF) {
		if (res == CSV_AGAIN)
			continue;
		if (res == CSV_IOERR) {
			log_warnx("%s: %s", opts->input_name ? opts->input_name :
			    "stdin", csv_error(csv));
			rc = -1;
			break;
		}
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
		batcher_add_record(p.batcher, &rec);
		if (dump != NULL)
			dump_record(dump, &rec);
	}
	sessions_close_all(ss);
	batcher_flush(p.batcher);
	st->bytes_in = csv_bytes(csv);
	st->sessions_evicted = sessions_evicted(ss);
	if (st->rejected > opts->max_errors)
		log_warnx("%llu lines rejected in all; the first %u are shown",
		    (unsigned long long)st->rejected, opts->max_errors);
	if (st->sessions_evicted > 0)
		log_warnx("%llu sessions closed early: more than %d open at "
		    "once", (unsigned long long)st->sessions_evicted,
		    SESSION_MAX_OPEN);
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
