/*
 * session.h: SMTP session inference (records -> sessions).
 *
 * PowerMTA logs no connection id, so sessions are inferred with the rule of
 * design.md: records from one (source IP, destination IP) pair that follow
 * each other within the session gap G belong to one session.
 */
#ifndef MTASCOPE_SESSION_H
#define MTASCOPE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define SESSION_DEFAULT_GAP	2
#define SESSION_MAX_OPEN	16384

/* A closed session, as handed to the close callback. */
struct session_info {
	uint64_t	id;
	struct slice	src_ip;
	struct slice	dst_ip;
	struct slice	domain;		/* of the first record */
	struct slice	dsn_mta;	/* of the first record */
	int64_t		first;
	int64_t		last;
	uint32_t	records;
};

typedef void	(*session_closefn)(void *arg, const struct session_info *);

struct sessions;

struct sessions	*sessions_new(int64_t gap, session_closefn, void *arg);
void		 sessions_free(struct sessions *);
/* Advance the stream clock and attach r to a session if it is eligible. */
void		 sessions_add(struct sessions *, struct record *);
/* End of stream: close every open session. */
void		 sessions_close_all(struct sessions *);
size_t		 sessions_open_count(const struct sessions *);
/* Sessions closed early because SESSION_MAX_OPEN were open at once. */
uint64_t	 sessions_evicted(const struct sessions *);

#endif
