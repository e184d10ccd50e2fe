/*
 * outbuf.h: a buffered writer for text output (JSON lines, CSV, reports)
 * that needs no stdio locking or locale on the output path.
 */
#ifndef MTASCOPE_OUTBUF_H
#define MTASCOPE_OUTBUF_H

#include <stddef.h>
#include <stdint.h>

struct outbuf {
	int	 fd;
	int	 failed;	/* a write failed; later writes are dropped */
	size_t	 used;
	char	 buf[65536];
};

void	outbuf_init(struct outbuf *, int fd);
void	outbuf_mem(struct outbuf *, const void *, size_t);
void	outbuf_str(struct outbuf *, const char *);
void	outbuf_char(struct outbuf *, char);
void	outbuf_u64(struct outbuf *, uint64_t);
void	outbuf_i64(struct outbuf *, int64_t);
/* s[0..n) as a quoted JSON string (s must be valid UTF-8). */
void	outbuf_json_str(struct outbuf *, const char *, size_t);
/* Returns 0, or -1 if any write failed. */
int	outbuf_flush(struct outbuf *);

#endif
