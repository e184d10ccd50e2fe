/*
 * dump.c: one JSON object per line, {"kind":"record",...} or
 * {"kind":"session",...}.  Field names follow the wire schema so the
 * output can be compared with what the collector receives.  Strings are
 * already valid UTF-8 (the normalizer saw to that); only JSON escaping is
 * left to do.
 */
#include "dump.h"

#include <string.h>

#include "ptime.h"

static void	dump_field(struct outbuf *, const char *, struct slice);
static void	dump_num(struct outbuf *, const char *, int64_t);

static void
dump_field(struct outbuf *o, const char *name, struct slice s)
{
	outbuf_str(o, ",\"");
	outbuf_str(o, name);
	outbuf_str(o, "\":");
	outbuf_json_str(o, s.p, s.n);
}

static void
dump_num(struct outbuf *o, const char *name, int64_t v)
{
	outbuf_str(o, ",\"");
	outbuf_str(o, name);
	outbuf_str(o, "\":");
	outbuf_i64(o, v);
}

void
dump_record(struct outbuf *o, const struct record *r)
{
	char iso[32];

	outbuf_str(o, "{\"kind\":\"record\",\"line\":");
	outbuf_u64(o, r->line);
	outbuf_str(o, ",\"type\":\"");
	outbuf_str(o, rec_type_name(r->type));
	outbuf_char(o, '"');
	dump_num(o, "time_logged", r->time_logged);
	ptime_format_iso(r->time_logged, iso);
	dump_field(o, "time_utc", (struct slice){ iso, strlen(iso) });
	dump_num(o, "time_queued", r->time_queued);
	dump_field(o, "rcpt_domain", r->domain);
	if (r->rcpt.n > 0)
		dump_field(o, "rcpt", r->rcpt);
	dump_field(o, "dsn_status", r->dsn_status);
	dump_field(o, "dsn_diag", r->dsn_diag);
	dump_field(o, "dsn_mta", r->dsn_mta);
	dump_field(o, "bounce_cat", r->bounce_cat);
	dump_field(o, "source_ip", r->src_ip);
	dump_field(o, "destination_ip", r->dst_ip);
	dump_field(o, "vmta", r->vmta);
	dump_field(o, "vmta_pool", r->vmta_pool);
	dump_field(o, "queue", r->queue);
	dump_field(o, "job_id", r->job_id);
	dump_num(o, "size", (int64_t)r->size);
	dump_num(o, "session_id", (int64_t)r->session_id);
	outbuf_str(o, "}\n");
}

void
dump_session(struct outbuf *o, const struct session_info *s)
{
	outbuf_str(o, "{\"kind\":\"session\",\"id\":");
	outbuf_u64(o, s->id);
	dump_field(o, "source_ip", s->src_ip);
	dump_field(o, "destination_ip", s->dst_ip);
	dump_num(o, "first_time", s->first);
	dump_num(o, "last_time", s->last);
	dump_num(o, "records", s->records);
	dump_field(o, "rcpt_domain", s->domain);
	dump_field(o, "dsn_mta", s->dsn_mta);
	outbuf_str(o, "}\n");
}
