/*
 * spool_impl.h: the spool's internals, shared by spool.c (lanes, reading,
 * acknowledgement) and spool_write.c (the writer thread).  Nothing else
 * includes this file.
 */
#ifndef MTASCOPE_SPOOL_IMPL_H
#define MTASCOPE_SPOOL_IMPL_H

#include <sys/queue.h>

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "spool.h"

/*
 * A frame on disk: a 24-byte header, then the payload (a packed Batch).
 * The CRC-32C covers the seq and the payload, so a frame whose header
 * survived a crash but whose payload did not is still caught.
 */
/* Path bounds, so every name built below provably fits. */
#define SPOOL_DIR_MAX	1024
#define LANE_DIR_MAX	(SPOOL_DIR_MAX + 48)
#define SPOOL_PATH_MAX	(LANE_DIR_MAX + 48)

#define FRAME_MAGIC	0x4d545346u	/* "MTSF" */
#define FRAME_HDR	24

struct frame_hdr {
	uint32_t	magic;
	uint32_t	len;
	uint64_t	seq;
	uint32_t	crc;
	uint32_t	reserved;
};

struct seg {
	TAILQ_ENTRY(seg) entry;
	uint64_t	 first_seq;
	uint64_t	 size;		/* bytes readers may see */
	int		 closed;	/* nothing more will be appended */
	int		 fd;		/* for reading; -1 until opened */
	uint32_t	 outstanding;	/* handed to senders, not done */
	uint32_t	 released;	/* given back unsent: keep the file */
	char		 path[SPOOL_PATH_MAX];
};
TAILQ_HEAD(seglist, seg);

struct lane {
	TAILQ_ENTRY(lane) entry;
	char		 dir[LANE_DIR_MAX];
	char		 id[33];
	int		 lockfd;
	int		 writing;
	struct seglist	 segs;
	struct seg	*rseg;		/* next frame to hand out is here */
	uint64_t	 roff;
	uint64_t	 dispatched;	/* highest seq handed out or passed */
	uint64_t	 cursor;	/* every seq <= cursor is done */
	uint64_t	 cursor_saved;
	uint64_t	*done;		/* done seqs above cursor, sorted */
	size_t		 ndone, capdone;
	uint32_t	 inflight;
};
TAILQ_HEAD(lanelist, lane);

struct qitem {
	STAILQ_ENTRY(qitem) entry;
	uint64_t	 seq;
	size_t		 len;
	struct spool_hours records;
	struct spool_hours gaps;
	uint8_t		 buf[];
};
STAILQ_HEAD(qlist, qitem);

/* Drops waiting to be reported, per hour. */
struct gapbook {
	size_t		n;
	int64_t		hour[SPOOL_GAPBOOK_HOURS];
	uint64_t	count[SPOOL_GAPBOOK_HOURS];
};

struct spool {
	struct spool_opts	 o;
	char			 dir[SPOOL_DIR_MAX];

	/* Lanes, segments and dispatch: senders and the writer. */
	pthread_mutex_t		 mtx;
	pthread_cond_t		 frames_cv;
	struct lanelist		 lanes;
	struct lane		*wl;		/* the lane this process writes */
	int			 closing;
	uint64_t		 corrupt;

	/* Reader -> writer queue: the reader holds qmtx only briefly. */
	pthread_mutex_t		 qmtx;
	pthread_cond_t		 qcv;
	pthread_cond_t		 flushed_cv;
	struct qlist		 q;
	int			 stop_writer;
	uint64_t		 flush_gen, flushed_gen;
	pthread_t		 writer;
	_Atomic uint64_t	 bytes;		/* on disk plus queued */
	uint64_t		 next_seq;	/* reader thread only */

	/* Writer thread only. */
	int			 wfd;
	struct seg		*wseg;
	uint64_t		 wsize;		/* bytes written to wseg */
	uint64_t		 wlast_seq;
	struct timespec		 last_sync;
	struct timespec		 last_scan;

	/* Drops waiting to travel as gaps. */
	pthread_mutex_t		 gmtx;
	struct gapbook		 gapbook;
};

/* spool.c */
int	lane_adopt(struct spool *, const char *name, int writing);
void	lane_mark_done(struct lane *, uint64_t lo, uint64_t hi);
void	lane_save_cursor(struct lane *);
/* spool_gaps.c */
void	gaps_load(struct spool *, struct lane *);
void	gaps_save(struct spool *);
/* spool_write.c */
void	*spool_writer_main(void *);
int	 fsync_dir(const char *);

#endif
