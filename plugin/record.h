/*
 * record.h: one normalized PowerMTA accounting record (cells -> record).
 *
 * Columns are mapped by the most recent header's names, never by position.
 * A record's strings point either into the CSV reader's buffer or into the
 * normalizer's scratch space; both stay valid until the next row is read.
 */
#ifndef MTASCOPE_RECORD_H
#define MTASCOPE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "csv.h"

/* Values equal the wire enum mtascope.v1.RecordType. */
enum rec_type {
	REC_NONE = 0,
	REC_D,
	REC_B,
	REC_T,
	REC_TQ,
	REC_R,
	REC_F,
	REC_RB,
	REC_RS,
	REC_NTYPES
};

struct slice {
	const char	*p;
	size_t		 n;
};

struct record {
	enum rec_type	type;
	int64_t		time_logged;	/* UTC seconds */
	int64_t		time_queued;	/* UTC seconds, 0 if absent */
	struct slice	rcpt;		/* empty unless keep_rcpt */
	struct slice	domain;		/* recipient (tq: queue) domain */
	struct slice	dsn_status;	/* code only */
	struct slice	dsn_diag;
	struct slice	dsn_mta;	/* host only */
	struct slice	bounce_cat;
	struct slice	src_ip;
	struct slice	dst_ip;
	struct slice	vmta;
	struct slice	vmta_pool;
	struct slice	queue;
	struct slice	job_id;
	uint64_t	size;
	uint64_t	session_id;	/* set by the session module */
	uint64_t	line;
};

struct normalizer;

struct normalizer	*normalizer_new(int keep_rcpt);
void			 normalizer_free(struct normalizer *);

/* Non-zero when the row is a header line (first cell "type"). */
int		 record_is_header(const struct csv_row *);
/* Non-zero for a line with nothing on it. */
int		 record_is_blank(const struct csv_row *);
/* Remap columns from a header row. */
void		 record_set_header(struct normalizer *, const struct csv_row *);
/*
 * Normalize a data row.  arrival is the time to use when the row carries
 * neither timeLogged nor timeQueued.  Returns 0, or -1 with the reason in
 * record_error().
 */
int		 record_normalize(struct normalizer *, const struct csv_row *,
		    int64_t arrival, struct record *);
const char	*record_error(const struct normalizer *);

const char	*rec_type_name(enum rec_type);

#endif
