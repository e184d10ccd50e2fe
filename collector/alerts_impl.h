/*
 * alerts_impl.h: shared by alerts.c (the rules) and alert_state.c (their
 * history); nothing else includes it.
 */
#ifndef MTASCOPE_ALERTS_IMPL_H
#define MTASCOPE_ALERTS_IMPL_H

#include "alerts.h"
#include "daily.h"

#define WINDOW		28	/* days of history a rule may look at */

/* Daily series over [first, first + n): per ISP, per (ISP, host), per
 * (ISP, source IP), and per host. */
struct window {
	struct daily_table	 by[3];
	struct daily_table	 hosts;
	int64_t			 first;
	size_t			 n;
};

int	window_load(sqlite3 *, int64_t first, size_t n, struct window *);
void	window_free(struct window *);
/* Every rule for the day at index at of w (at >= WINDOW - 1). */
void	evaluate_at(sqlite3 *, const struct window *, size_t at,
	    struct alert_list *);

#endif
