/*
 * alerts.h: the alert rules of the daily discipline, and their state.
 */
#ifndef MTASCOPE_ALERTS_H
#define MTASCOPE_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct alert {
	char	id[400];		/* rule|isp|scope|subject */
	char	rule[24];
	char	isp[33];
	char	scope[12];		/* fleet, host, source-ip */
	char	subject[256];		/* host or IP; "" for fleet */
	char	evidence[600];
	char	action[600];
	/* From the stored state, when there is one. */
	int64_t	first_seen;		/* day */
	int64_t	last_seen;
	int64_t	cleared;		/* day, or -1 while active */
};

struct alert_list {
	struct alert	*a;
	size_t		 n, cap;
};

/* Evaluate every rule for UTC day `day` (days since 1970). */
int	alerts_evaluate(sqlite3 *, int64_t day, struct alert_list *);
void	alerts_free(struct alert_list *);

/*
 * Evaluate each day after the last one evaluated up to `through` and keep
 * the state in the alerts table: first and last day seen, and the day an
 * alert cleared.  db must be writable.  Returns active alerts, or -1.
 */
int	alerts_update(sqlite3 *, int64_t through);
/* Records arrived for `day`: evaluate again from there (a backfill). */
void	alerts_reopen(sqlite3 *, int64_t day);
/* Stored alerts active on `day` or cleared within 28 days before it. */
int	alerts_stored(sqlite3 *, int64_t day, struct alert_list *);

#endif
