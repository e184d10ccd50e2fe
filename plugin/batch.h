/*
 * batch.h: group normalized records and closed sessions into protobuf
 * Batch messages (records -> wire bytes).
 */
#ifndef MTASCOPE_BATCH_H
#define MTASCOPE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "session.h"

#define BATCH_DEFAULT_RECORDS	1000

/* A packed Batch; buf is valid only during the call. */
typedef void	(*batch_sinkfn)(void *arg, uint64_t seq, const uint8_t *buf,
		    size_t len, size_t nrecords);

struct batcher;

struct batcher	*batcher_new(const char *host, const char *spool_id,
		    uint64_t first_seq, size_t max_records, batch_sinkfn,
		    void *arg);
void		 batcher_free(struct batcher *);
void		 batcher_add_record(struct batcher *, const struct record *);
void		 batcher_add_session(struct batcher *,
		    const struct session_info *);
void		 batcher_add_gap(struct batcher *, int64_t hour,
		    uint64_t dropped, const char *reason);
/* Counters carried by the next batch. */
void		 batcher_set_counters(struct batcher *, uint64_t read,
		    uint64_t rejected, uint64_t spool_bytes, uint64_t dropped,
		    int64_t started);
/* Send no agent counters (a replay must not overwrite the live pipe's). */
void		 batcher_omit_counters(struct batcher *);
/* Close the open batch, if it holds anything, and hand it to the sink. */
void		 batcher_flush(struct batcher *);
size_t		 batcher_pending(const struct batcher *);
uint64_t	 batcher_next_seq(const struct batcher *);

#endif
