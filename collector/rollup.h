/*
 * rollup.h: hourly counters per (hour, isp, host, source_ip), aggregated in
 * memory from validated batches before they are written in one transaction.
 */
#ifndef MTASCOPE_ROLLUP_H
#define MTASCOPE_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#include "isp.h"
#include "mtascope.pb-c.h"

/*
 * Session sizes are kept as a histogram of fixed log2 buckets: 1, 2-3,
 * 4-7, ... 128-255, 256 and more.  Buckets add, so the histogram merges
 * across hosts, hours and collectors.
 */
#define ROLLUP_HIST_BUCKETS	9

enum rollup_counter {
	RC_DELIVERED,
	RC_BOUNCED,
	RC_DEFERRED,
	RC_DEFERRED_QUEUE,
	RC_COMPLAINTS,
	RC_REMOTE_BOUNCES,
	RC_SESSIONS,
	RC_SESSION_RECORDS,
	RC_BYTES,
	RC_HIST0,
	RC_NCOUNTERS = RC_HIST0 + ROLLUP_HIST_BUCKETS
};

/* Per-host counts that have no ISP: received (r) and remote status (rs). */
enum host_counter {
	HC_RECEIVED,
	HC_REMOTE_STATUS,
	HC_RECORDS,
	HC_NCOUNTERS
};

struct rollup_row {
	int64_t		 hour;
	int		 isp;
	const char	*host;
	const char	*source_ip;
	uint64_t	 c[RC_NCOUNTERS];
};

struct host_row {
	int64_t		 hour;
	const char	*host;
	uint64_t	 c[HC_NCOUNTERS];
};

struct rollup;

struct rollup	*rollup_new(const struct isp_table *);
void		 rollup_free(struct rollup *);
void		 rollup_clear(struct rollup *);
/* Add a validated batch's records and sessions. */
void		 rollup_add_batch(struct rollup *, const Mtascope__V1__Batch *);
size_t		 rollup_rows(const struct rollup *);
/* Iterate: returns NULL past the end. */
const struct rollup_row	*rollup_row_at(const struct rollup *, size_t);
size_t		 rollup_host_rows(const struct rollup *);
const struct host_row	*rollup_host_row_at(const struct rollup *, size_t);
const char	*rollup_counter_name(enum rollup_counter);
int		 rollup_hist_bucket(uint64_t records);

#endif
