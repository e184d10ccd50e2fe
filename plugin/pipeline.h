/*
 * pipeline.h: the reading half of mtascope-pipe, wired end to end:
 * CSV bytes -> records -> sessions -> batches -> spool (or the offline
 * outputs: JSON dump, summary counts, a batch file).
 */
#ifndef MTASCOPE_PIPELINE_H
#define MTASCOPE_PIPELINE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "spool.h"

struct pipeline_opts {
	const char	*host;
	const char	*input_name;	/* for messages; NULL for stdin */
	int		 dump;		/* JSON lines on stdout */
	int		 output_fd;	/* length-prefixed batches, or -1 */
	int		 keep_rcpt;
	size_t		 max_record;
	unsigned	 max_errors;	/* rejected lines reported in full */
	int64_t		 session_gap;
	size_t		 batch_records;
	int		 batch_ms;	/* a batch closes this old, at most */
	struct spool	*spool;		/* deliver through it, or NULL */
	int		 replay;	/* a file: wait for the spool, never
					   drop; batches close only when full
					   so they are the same every time */
	uint64_t	 progress_total; /* input bytes, for a progress bar */
	volatile sig_atomic_t *stop;	/* set by a signal: end as at EOF */
};

struct pipeline_stats {
	uint64_t	records;		/* accepted */
	uint64_t	by_type[REC_NTYPES];
	uint64_t	rejected;
	uint64_t	sessions;
	uint64_t	session_records;
	uint64_t	sessions_evicted;
	uint64_t	batches;
	uint64_t	dropped;		/* spool full: became gaps */
	uint64_t	bytes_in;
	uint64_t	bytes_out;
};

/* Read fd to its end.  Returns 0, or -1 on a read or write error. */
int	pipeline_run(const struct pipeline_opts *, int fd,
	    struct pipeline_stats *);
/* The one-line summary, as printed by --summary. */
void	pipeline_summary_line(const struct pipeline_stats *, char *, size_t);

#endif
