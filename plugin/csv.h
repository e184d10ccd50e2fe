/*
 * csv.h: streaming RFC 4180 reader (bytes -> rows of cells).
 *
 * The reader owns one fixed buffer and hands out cells that point into it;
 * they stay valid until the next csv_next() call.  Nothing is allocated per
 * row.  A row longer than the configured bound is rejected and the reader
 * resynchronizes at the next physical line.
 */
#ifndef MTASCOPE_CSV_H
#define MTASCOPE_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CSV_MAX_CELLS		1024		/* further cells are ignored */
#define CSV_DEFAULT_MAX_RECORD	(64 * 1024)

struct csv_cell {
	const char	*p;
	size_t		 n;
};

struct csv_row {
	const struct csv_cell	*cells;
	size_t			 ncells;
	uint64_t		 line;		/* physical line it starts on */
	int			 plain;		/* all ASCII, no NUL */
};

enum csv_result {
	CSV_ROW,	/* a row is in *row */
	CSV_BAD,	/* a malformed or oversized row was skipped */
	CSV_AGAIN,	/* the source had no data yet (readfn gave EAGAIN) */
	CSV_EOF,
	CSV_IOERR	/* read error; csv_error() says which */
};

/*
 * Reads up to len bytes into buf.  Returns the count, 0 at end of input,
 * or -1 with errno set; EAGAIN/EWOULDBLOCK/EINTR make csv_next() return
 * CSV_AGAIN so the caller can do timed work.
 */
typedef ssize_t	(*csv_readfn)(void *arg, char *buf, size_t len);

struct csv;

struct csv	*csv_new(size_t max_record, csv_readfn readfn, void *arg);
void		 csv_free(struct csv *);
enum csv_result	 csv_next(struct csv *, struct csv_row *);
const char	*csv_error(const struct csv *);	/* reason for CSV_BAD/IOERR */
uint64_t	 csv_error_line(const struct csv *);
uint64_t	 csv_bytes(const struct csv *);	/* bytes consumed so far */

/* A readfn over a file descriptor. arg is a pointer to the int fd. */
ssize_t		 csv_read_fd(void *arg, char *buf, size_t len);

#endif
