/*
 * cmd_alerts.c: `mtascope alerts`, the alert rules evaluated on demand.
 *
 * The rules run for the day asked (default: yesterday, UTC) against the
 * database as it is; where mtascoped has kept the alerts' history, each
 * alert shows since when it has been firing, and alerts that cleared show
 * their days of clean operation.  Text wraps at 80 columns.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "cli.h"
#include "log.h"
#include "outbuf.h"

static void	wrap(struct outbuf *, const char *, const char *);
static void	json_id(struct outbuf *, const struct alert *, int);
static void	print_json(struct outbuf *, int64_t, const struct alert_list *,
		    const struct alert_list *);

/* Words of text after a prefix, folded at 78 columns. */
static void
wrap(struct outbuf *o, const char *prefix, const char *text)
{
	const char *p = text, *sp;
	size_t col, w, indent = strlen(prefix);

	outbuf_str(o, prefix);
	col = indent;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if ((sp = strchr(p, ' ')) == NULL)
			sp = p + strlen(p);
		w = (size_t)(sp - p);
		if (w == 0)
			break;
		if (col > indent && col + 1 + w > 78) {
			outbuf_char(o, '\n');
			for (col = 0; col < indent; col++)
				outbuf_char(o, ' ');
		} else if (col > indent) {
			outbuf_char(o, ' ');
			col++;
		}
		outbuf_mem(o, p, w);
		col += w;
		p = sp;
	}
	outbuf_char(o, '\n');
}

/* Opens an alert's object with the fields that identify it. */
static void
json_id(struct outbuf *o, const struct alert *a, int comma)
{
	outbuf_str(o, comma ? ",{\"rule\":" : "{\"rule\":");
	outbuf_json_str(o, a->rule, strlen(a->rule));
	outbuf_str(o, ",\"isp\":");
	outbuf_json_str(o, a->isp, strlen(a->isp));
	outbuf_str(o, ",\"scope\":");
	outbuf_json_str(o, a->scope, strlen(a->scope));
	outbuf_str(o, ",\"subject\":");
	outbuf_json_str(o, a->subject, strlen(a->subject));
}

static void
print_json(struct outbuf *o, int64_t day, const struct alert_list *now,
    const struct alert_list *stored)
{
	char d[32];
	size_t i, j;

	cli_day_str(day, d);
	outbuf_str(o, "{\"day\":\"");
	outbuf_str(o, d);
	outbuf_str(o, "\",\"alerts\":[");
	for (i = 0; i < now->n; i++) {
		const struct alert *a = &now->a[i];
		int64_t first = day;

		for (j = 0; j < stored->n; j++)
			if (strcmp(stored->a[j].id, a->id) == 0 &&
			    stored->a[j].cleared < 0)
				first = stored->a[j].first_seen;
		cli_day_str(first, d);
		json_id(o, a, i > 0);
		outbuf_str(o, ",\"first_seen\":\"");
		outbuf_str(o, d);
		outbuf_str(o, "\",\"evidence\":");
		outbuf_json_str(o, a->evidence, strlen(a->evidence));
		outbuf_str(o, ",\"action\":");
		outbuf_json_str(o, a->action, strlen(a->action));
		outbuf_char(o, '}');
	}
	outbuf_str(o, "],\"recovering\":[");
	for (i = 0, j = 0; i < stored->n; i++) {
		const struct alert *a = &stored->a[i];

		if (a->cleared < 0)
			continue;
		cli_day_str(a->cleared, d);
		json_id(o, a, j++ > 0);
		outbuf_str(o, ",\"cleared\":\"");
		outbuf_str(o, d);
		outbuf_str(o, "\",\"clean_days\":");
		outbuf_i64(o, day - a->cleared + 1);
		outbuf_char(o, '}');
	}
	outbuf_str(o, "]}\n");
}

int
cmd_alerts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db",		required_argument,	NULL, 'd' },
		{ "day",	required_argument,	NULL, 'D' },
		{ "json",	no_argument,		NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dbpath = CLI_DEFAULT_DB;
	struct alert_list now, stored;
	struct outbuf o;
	sqlite3 *db;
	int64_t day = time(NULL) / 86400 - 1, first;
	char d[32], head[1024], since[64];
	size_t i, j;
	int ch, json = 0, recovering = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dbpath = optarg;
			break;
		case 'D':
			if (cli_day_arg("alerts", "--day", optarg, &day) == -1)
				return 2;
			break;
		case 'j':
			json = 1;
			break;
		default:
			fprintf(stderr, "usage: mtascope alerts [--db PATH] "
			    "[--day YYYY-MM-DD] [--json]\n");
			return 2;
		}
	}
	db = cli_open_db(dbpath);
	if (alerts_evaluate(db, day, &now) == -1)
		fatalx("%s: cannot evaluate the alerts", dbpath);
	alerts_stored(db, day, &stored);
	outbuf_init(&o, 1);
	if (json) {
		print_json(&o, day, &now, &stored);
		goto out;
	}
	cli_day_str(day, d);
	snprintf(head, sizeof(head), "mtascope alerts for %s: %zu firing\n",
	    d, now.n);
	outbuf_str(&o, head);
	for (i = 0; i < now.n; i++) {
		const struct alert *a = &now.a[i];

		first = day;
		for (j = 0; j < stored.n; j++)
			if (strcmp(stored.a[j].id, a->id) == 0 &&
			    stored.a[j].cleared < 0)
				first = stored.a[j].first_seen;
		cli_day_str(first, d);
		if (first < day)
			snprintf(since, sizeof(since), "since %s, %lld days", d,
			    (long long)(day - first + 1));
		else
			snprintf(since, sizeof(since), "new");
		snprintf(head, sizeof(head), "\n[%s] %s, %s%s%s (%s)\n",
		    a->rule, strcmp(a->isp, "*") ? a->isp : "all ISPs",
		    a->scope, a->subject[0] ? " " : "", a->subject, since);
		outbuf_str(&o, head);
		wrap(&o, "  evidence: ", a->evidence);
		wrap(&o, "  do:       ", a->action);
	}
	for (i = 0; i < stored.n; i++) {
		const struct alert *a = &stored.a[i];

		if (a->cleared < 0)
			continue;
		if (!recovering++)
			outbuf_str(&o, "\nrecovering (cleared; recovery "
			    "typically takes 2-4 weeks of clean operation):\n");
		cli_day_str(a->cleared, d);
		snprintf(head, sizeof(head), "  [%s] %s, %s%s%s: cleared %s, "
		    "%lld days clean\n", a->rule,
		    strcmp(a->isp, "*") ? a->isp : "all ISPs", a->scope,
		    a->subject[0] ? " " : "", a->subject, d,
		    (long long)(day - a->cleared + 1));
		outbuf_str(&o, head);
	}
out:
	if (outbuf_flush(&o) == -1)
		fatal("stdout");
	alerts_free(&now);
	alerts_free(&stored);
	sqlite3_close(db);
	return 0;
}
