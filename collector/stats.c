/*
 * stats.c: significance and trend, kept deliberately simple.
 *
 * A change in a rate is significant when it is both large enough to
 * matter to an operator (an absolute threshold, chosen by the caller) and
 * unlikely to be noise given the volumes behind it (a two-proportion z
 * test).  A trend is an ordinary least-squares line through the daily
 * values; its R^2 says whether the line describes the data at all.
 */
#include "stats.h"

#include <math.h>

double
stats_z(uint64_t x1, uint64_t n1, uint64_t x0, uint64_t n0)
{
	double p1, p0, p, se;

	if (n1 == 0 || n0 == 0)
		return 0;
	p1 = (double)x1 / (double)n1;
	p0 = (double)x0 / (double)n0;
	p = (double)(x1 + x0) / (double)(n1 + n0);
	se = sqrt(p * (1 - p) * (1.0 / (double)n1 + 1.0 / (double)n0));
	if (se == 0)
		return 0;
	return (p1 - p0) / se;
}

size_t
stats_fit(const double *y, size_t n, double *slope, double *intercept,
    double *r2)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, k = 0, dx, b, a;
	double ss_tot, ss_res;
	size_t i;

	for (i = 0; i < n; i++) {
		if (isnan(y[i]))
			continue;
		sx += (double)i;
		sy += y[i];
		sxx += (double)i * (double)i;
		sxy += (double)i * y[i];
		syy += y[i] * y[i];
		k++;
	}
	*slope = *intercept = *r2 = 0;
	if (k < 2)
		return (size_t)k;
	dx = k * sxx - sx * sx;
	if (dx == 0)
		return (size_t)k;
	b = (k * sxy - sx * sy) / dx;
	a = (sy - b * sx) / k;
	ss_tot = syy - sy * sy / k;
	ss_res = 0;
	for (i = 0; i < n; i++) {
		double e;

		if (isnan(y[i]))
			continue;
		e = y[i] - (a + b * (double)i);
		ss_res += e * e;
	}
	*slope = b;
	*intercept = a;
	*r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 0;
	return (size_t)k;
}
