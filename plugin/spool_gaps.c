/*
 * spool_gaps.c: the gap book, records the pipe could not keep.
 *
 * A batch that found the spool full, failed to be written, or was refused
 * by the collector is not silently lost: its records are counted per hour
 * here, and the counts travel to the collector as Gap messages in later
 * batches.  The counts survive a restart in the lane's "gaps" file, and a
 * lane adopted from an exited pipe brings its counts along.
 */
#include "spool_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void
spool_hours_add(struct spool_hours *h, int64_t hour, uint64_t n)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		if (h->hour[i] == hour) {
			h->count[i] += n;
			return;
		}
	}
	if (h->n < SPOOL_MAX_HOURS) {
		h->hour[h->n] = hour;
		h->count[h->n++] = n;
	} else
		h->count[h->n - 1] += n;	/* never lose a count */
}

/*
 * Drops not yet reported survive a restart in the lane's "gaps" file, so
 * a pipe that exits (or is killed) with a full spool still gets its gaps
 * to the collector.
 */
void
gaps_load(struct spool *sp, struct lane *l)
{
	char path[SPOOL_PATH_MAX];
	long long hour;
	unsigned long long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/gaps", l->dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fscanf(f, "%lld %llu", &hour, &n) == 2)
		spool_gap_add(sp, hour, n);
	fclose(f);
	unlink(path);
}

void
gaps_save(struct spool *sp)
{
	char tmp[SPOOL_PATH_MAX], path[SPOOL_PATH_MAX];
	FILE *f;
	size_t i;

	if (sp->gapbook.n == 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s/gaps.tmp", sp->wl->dir);
	snprintf(path, sizeof(path), "%s/gaps", sp->wl->dir);
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warn("spool %s", tmp);
		return;
	}
	for (i = 0; i < sp->gapbook.n; i++)
		fprintf(f, "%lld %llu\n", (long long)sp->gapbook.hour[i],
		    (unsigned long long)sp->gapbook.count[i]);
	if (fflush(f) == EOF || fsync(fileno(f)) == -1 || fclose(f) == EOF ||
	    rename(tmp, path) == -1)
		log_warn("spool %s: %zu hours of drop counts not saved", path,
		    sp->gapbook.n);
	fsync_dir(sp->wl->dir);
}

void
spool_gap_add(struct spool *sp, int64_t hour, uint64_t n)
{
	size_t i;

	pthread_mutex_lock(&sp->gmtx);
	for (i = 0; i < sp->gapbook.n; i++)
		if (sp->gapbook.hour[i] == hour)
			break;
	if (i == sp->gapbook.n) {
		if (i == SPOOL_GAPBOOK_HOURS)
			i--;		/* never lose a count */
		else {
			sp->gapbook.hour[i] = hour;
			sp->gapbook.count[i] = 0;
			sp->gapbook.n++;
		}
	}
	sp->gapbook.count[i] += n;
	pthread_mutex_unlock(&sp->gmtx);
}

int
spool_gap_pending(struct spool *sp)
{
	int n;

	pthread_mutex_lock(&sp->gmtx);
	n = sp->gapbook.n > 0;
	pthread_mutex_unlock(&sp->gmtx);
	return n;
}

int
spool_gap_take(struct spool *sp, struct spool_hours *out)
{
	size_t k;

	/* At most a batch's worth; the rest waits for the next batch. */
	pthread_mutex_lock(&sp->gmtx);
	for (out->n = 0; out->n < SPOOL_MAX_HOURS && sp->gapbook.n > 0;
	    out->n++) {
		k = --sp->gapbook.n;
		out->hour[out->n] = sp->gapbook.hour[k];
		out->count[out->n] = sp->gapbook.count[k];
	}
	pthread_mutex_unlock(&sp->gmtx);
	return out->n > 0;
}

