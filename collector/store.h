/*
 * store.h: mtascoped's SQLite database: hourly rollups, gaps, host state,
 * and the record of which batches have been applied.
 */
#ifndef MTASCOPE_STORE_H
#define MTASCOPE_STORE_H

#include <stdint.h>

#include <sqlite3.h>

#include "isp.h"
#include "mtascope.pb-c.h"
#include "rollup.h"

struct store;

/* Open (creating the schema unless readonly).  NULL after logging why. */
struct store	*store_open(const char *path, int readonly);
void		 store_close(struct store *);
sqlite3		*store_db(struct store *);

/* Non-zero if (host, spool_id, seq) was applied, or marked in this
 * transaction. */
int		 store_seen(struct store *, const char *host,
		    const char *spool_id, uint64_t seq);

/*
 * One group commit: begin, then for each new batch mark it and record its
 * gaps and counters, write the rollup, commit.  Only after store_commit()
 * returns 0 is anything durable (synchronous=FULL in WAL mode); on -1 the
 * transaction is rolled back, the in-memory dedup state reloaded, and the
 * batches must be answered "retry".
 */
int		 store_begin(struct store *);
int		 store_mark(struct store *, const char *host,
		    const char *spool_id, uint64_t seq);
int		 store_batch_meta(struct store *, const Mtascope__V1__Batch *,
		    int64_t now);
int		 store_write_rollup(struct store *, const struct rollup *,
		    const struct isp_table *);
int		 store_commit(struct store *);
void		 store_rollback(struct store *);

#endif
