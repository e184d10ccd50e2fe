/*
 * daily.h: per-day metrics series read from the hourly rollups, shared by
 * the daily review, the trends and the alert rules.
 */
#ifndef MTASCOPE_DAILY_H
#define MTASCOPE_DAILY_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct day_metrics {
	uint64_t	delivered;
	uint64_t	bounced;
	uint64_t	deferred;
	uint64_t	deferred_queue;
	uint64_t	complaints;
	uint64_t	remote_bounces;
	uint64_t	sessions;
	uint64_t	session_records;
	uint64_t	bytes;
};

enum daily_by {
	DAILY_ISP,		/* key: isp */
	DAILY_ISP_HOST,		/* key: isp, host */
	DAILY_ISP_SOURCE_IP,	/* key: isp, source ip */
	DAILY_HOST		/* key: host (all ISPs) */
};

/* One key's series: d[i] is day (first_day + i); bucket = 1 day or 1 h. */
struct daily_series {
	char			 isp[33];
	char			 sub[256];	/* host or source ip, or "" */
	struct day_metrics	*d;
	struct day_metrics	 total;		/* over all the buckets */
};

struct daily_table {
	int64_t			 first;		/* first bucket (day or hour) */
	size_t			 n;		/* buckets */
	int			 hourly;
	struct daily_series	*series;
	size_t			 nseries;
	struct daily_series	 fleet;		/* sum over every key */
};

/*
 * Load buckets [first, first + n) of days (or hours if hourly) grouped by
 * `by`, optionally only one ISP.  Returns 0, or -1 after logging.
 */
int	daily_load(sqlite3 *, int64_t first, size_t n, int hourly,
	    enum daily_by, const char *isp, struct daily_table *);
void	daily_free(struct daily_table *);
/* Add b into a. */
void	daily_add(struct day_metrics *a, const struct day_metrics *b);

/* Rates as fractions (NAN when the denominator is 0). */
uint64_t	dm_attempts(const struct day_metrics *);
double		dm_deferral(const struct day_metrics *);
double		dm_bounce(const struct day_metrics *);
double		dm_complaint(const struct day_metrics *);
double		dm_per_session(const struct day_metrics *);

/* Days with gaps for a host (dropped records or silence): 1 if day d of
 * host had dropped records. */
int	daily_host_gap(sqlite3 *, const char *host, int64_t day,
	    uint64_t *dropped);

#endif
