/*
 * ingest.h: mtascoped's network side: receive Batch frames over nng
 * req/rep, apply them in group commits, acknowledge after the commit.
 */
#ifndef MTASCOPE_INGEST_H
#define MTASCOPE_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "isp.h"
#include "store.h"

struct ingest_stats {
	uint64_t	batches;	/* applied */
	uint64_t	duplicates;	/* acknowledged, not applied again */
	uint64_t	rejected;
	uint64_t	retried;	/* answered "retry" after a failed commit */
	uint64_t	records;
	uint64_t	commits;
	int64_t		earliest_day;	/* of records applied; -1 if none */
};

struct ingest;

struct ingest	*ingest_start(const char *url, struct store *,
		    const struct isp_table *, size_t max_frame,
		    int contexts);
void		 ingest_stop(struct ingest *);
void		 ingest_get_stats(struct ingest *, struct ingest_stats *);
/* The earliest day records were applied to since the last call, or -1. */
int64_t		 ingest_take_earliest_day(struct ingest *);

#endif
