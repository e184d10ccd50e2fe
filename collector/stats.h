/*
 * stats.h: the little statistics the review and the alerts need.
 */
#ifndef MTASCOPE_STATS_H
#define MTASCOPE_STATS_H

#include <stddef.h>
#include <stdint.h>

/*
 * z score of the change from proportion x0/n0 to x1/n1 (pooled two-
 * proportion test); 0 when either n is 0.
 */
double	stats_z(uint64_t x1, uint64_t n1, uint64_t x0, uint64_t n0);

/*
 * Least-squares line through (i, y[i]) for the i where y[i] is not NAN.
 * Sets slope (per step), r2, and returns the points used.
 */
size_t	stats_fit(const double *y, size_t n, double *slope, double *intercept,
	    double *r2);

#endif
