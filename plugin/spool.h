/*
 * spool.h: the pipe's durable queue of encoded batches (batches -> disk),
 * and the frames the sender takes from it.
 */
#ifndef MTASCOPE_SPOOL_H
#define MTASCOPE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_DEFAULT_CAP	(1024ull * 1024 * 1024)
#define SPOOL_DEFAULT_INTERVAL	500		/* ms between fsyncs */
#define SPOOL_SEGMENT_BYTES	(4u * 1024 * 1024)
#define SPOOL_MAX_HOURS		64	/* per batch; the gap book has more */
#define SPOOL_GAPBOOK_HOURS	8784	/* a year */

/* Records of a batch per hour, so a batch that is dropped becomes gaps. */
struct spool_hours {
	size_t		n;
	int64_t		hour[SPOOL_MAX_HOURS];
	uint64_t	count[SPOOL_MAX_HOURS];
};

/* Count n records at hour into h (the last slot takes any overflow). */
void	spool_hours_add(struct spool_hours *, int64_t hour, uint64_t n);

struct spool_opts {
	const char	*dir;
	uint64_t	 cap;		/* bytes on disk and queued */
	int		 fsync_always;
	int		 interval_ms;
	uint64_t	 segment_bytes;
	const char	*lane_id;	/* write this lane; adopt no other */
};

/* A frame handed to the sender; buf is owned by the frame. */
struct spool_frame {
	void		*lane;
	char		 spool_id[33];
	uint64_t	 seq;
	uint8_t		*buf;
	size_t		 len;
};

struct spool_stats {
	uint64_t	bytes;		/* on disk and queued */
	uint64_t	pending;	/* batches not yet acknowledged */
	uint64_t	corrupt;	/* frames skipped as corrupt */
	uint64_t	lanes;
};

struct spool;

/* Lock or create a lane under opts->dir and adopt orphaned ones. */
struct spool	*spool_open(const struct spool_opts *);
const char	*spool_id(const struct spool *);
uint64_t	 spool_next_seq(const struct spool *);

/*
 * Reader side, never blocking on the disk: queue a packed batch for the
 * writer thread.  Returns 0, or -1 if the spool is at its cap (the caller
 * turns hours into gaps).  gaps_carried: the gaps packed into this batch,
 * given back to the gap book if the write later fails.
 */
int		 spool_submit(struct spool *, uint64_t seq, const uint8_t *,
		    size_t, const struct spool_hours *records,
		    const struct spool_hours *gaps_carried);
/* Drops waiting to travel as gaps: add, or take them all. */
void		 spool_gap_add(struct spool *, int64_t hour, uint64_t n);
int		 spool_gap_take(struct spool *, struct spool_hours *);
int		 spool_gap_pending(struct spool *);

/*
 * Sender side: the next frame not yet sent, waiting up to timeout_ms.
 * Returns 1 with *f filled, 0 on timeout, -1 once the spool is closing.
 */
int		 spool_next_frame(struct spool *, struct spool_frame *,
		    int timeout_ms);
/* The frame is acknowledged (or refused for good): release it. */
void		 spool_frame_done(struct spool *, struct spool_frame *);
/* Give the frame back unsent (shutdown). */
void		 spool_frame_release(struct spool *, struct spool_frame *);

void		 spool_get_stats(struct spool *, struct spool_stats *);
/* Bytes on disk and queued, without taking any lock. */
uint64_t	 spool_bytes(struct spool *);
/* Adopt, now, lanes whose process has exited, to deliver what they left. */
void		 spool_adopt_orphans(struct spool *);
/* Write everything queued and fsync it; wait until done. */
void		 spool_flush(struct spool *);
/* Stop handing out frames (senders see -1). */
void		 spool_shutdown(struct spool *);
void		 spool_close(struct spool *);

#endif
