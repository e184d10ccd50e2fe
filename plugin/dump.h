/*
 * dump.h: JSON lines for normalized records and closed sessions, the
 * operator's view of exactly what mtascope-pipe would send.
 */
#ifndef MTASCOPE_DUMP_H
#define MTASCOPE_DUMP_H

#include "outbuf.h"
#include "record.h"
#include "session.h"

void	dump_record(struct outbuf *, const struct record *);
void	dump_session(struct outbuf *, const struct session_info *);

#endif
