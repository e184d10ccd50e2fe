/*
 * bounds.h: bounds shared by mtascope-pipe (which truncates to them) and
 * mtascoped (which rejects frames that exceed them).  Changing one of these
 * is a wire-compatibility decision: a collector must accept what any pipe
 * of the same schema version may send.
 */
#ifndef MTASCOPE_BOUNDS_H
#define MTASCOPE_BOUNDS_H

#include <stdint.h>

#define MTA_MAX_HOST		255	/* host name */
#define MTA_MAX_DOMAIN		255	/* rcpt_domain, dsn_mta */
#define MTA_MAX_RCPT		320	/* full recipient address */
#define MTA_MAX_DIAG		1024	/* dsn_diag */
#define MTA_MAX_SHORT		64	/* dsn_status, source/destination ip */
#define MTA_MAX_NAME		255	/* bounce_cat, vmta, pool, queue, job */
#define MTA_MAX_BATCH_RECORDS	100000	/* what a collector accepts */
#define MTA_MAX_PIPE_BATCH	10000	/* what a pipe sends: even with every
					   string at its bound, a batch packs
					   well under MTA_MAX_FRAME */
#define MTA_MAX_TIME		(INT64_C(1) << 33)	/* UTC seconds, 2242 */
#define MTA_MAX_SIZE		(UINT64_C(1) << 40)	/* dlvSize, bytes */
#define MTA_MAX_FRAME		(64u * 1024 * 1024)

#endif
