/*
 * spool_write.c: the spool's writer thread.
 *
 * The reader thread must never wait on the disk (PowerMTA drops a pipe
 * that blocks), so it only appends encoded batches to an in-memory queue,
 * bounded by the spool's size cap.  This thread writes them as frames to
 * the lane's current segment, rotates segments, and fsyncs by policy:
 * every interval (default 500 ms), or after every write with "always", in
 * which case senders see a frame only once it is on disk.  It also saves
 * each lane's cursor (write, fsync, rename, the boring way) and looks for
 * lanes orphaned by an exited pipe.
 *
 * A write that fails (disk full, I/O error) is cut back to the last whole
 * frame; its records and the gaps it carried go back to the gap book, so
 * the loss is reported to the collector rather than silent.
 */
#include "spool_impl.h"

#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "log.h"

#define ORPHAN_SCAN_MS	2000
#define WAKE_MS		100

static long	 ms_since(const struct timespec *);
static int	 seg_open(struct spool *, uint64_t);
static void	 seg_close(struct spool *);
static void	 write_item(struct spool *, struct qitem *);
static void	 sync_now(struct spool *);
static void	 save_cursors(struct spool *);

int
fsync_dir(const char *path)
{
	int fd, rv;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rv = fsync(fd);
	close(fd);
	return rv;
}

static long
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

int
spool_submit(struct spool *sp, uint64_t seq, const uint8_t *buf, size_t len,
    const struct spool_hours *records, const struct spool_hours *gaps)
{
	struct qitem *it;

	if (sp->bytes + len + FRAME_HDR > sp->o.cap)
		return -1;
	if ((it = malloc(sizeof(*it) + len)) == NULL)
		return -1;
	it->seq = seq;
	it->len = len;
	it->records = *records;
	it->gaps = *gaps;
	memcpy(it->buf, buf, len);
	sp->bytes += len + FRAME_HDR;
	pthread_mutex_lock(&sp->qmtx);
	STAILQ_INSERT_TAIL(&sp->q, it, entry);
	pthread_cond_signal(&sp->qcv);
	pthread_mutex_unlock(&sp->qmtx);
	return 0;
}

/* Start a new segment named by the first seq it will hold. */
static int
seg_open(struct spool *sp, uint64_t first)
{
	struct seg *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	snprintf(s->path, sizeof(s->path), "%s/seg-%020llu", sp->wl->dir,
	    (unsigned long long)first);
	sp->wfd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
	    O_CLOEXEC, 0640);
	if (sp->wfd == -1) {
		log_warn("spool %s", s->path);
		free(s);
		return -1;
	}
	fsync_dir(sp->wl->dir);
	s->first_seq = first;
	s->fd = -1;
	pthread_mutex_lock(&sp->mtx);
	TAILQ_INSERT_TAIL(&sp->wl->segs, s, entry);
	if (sp->wl->rseg == NULL) {
		sp->wl->rseg = s;
		sp->wl->roff = 0;
	}
	pthread_mutex_unlock(&sp->mtx);
	sp->wseg = s;
	sp->wsize = 0;
	return 0;
}

static void
seg_close(struct spool *sp)
{
	if (sp->wseg == NULL)
		return;
	if (fdatasync(sp->wfd) == -1)
		log_warn("spool %s", sp->wseg->path);
	close(sp->wfd);
	sp->wfd = -1;
	pthread_mutex_lock(&sp->mtx);
	sp->wseg->size = sp->wsize;
	sp->wseg->closed = 1;
	pthread_cond_broadcast(&sp->frames_cv);
	pthread_mutex_unlock(&sp->mtx);
	sp->wseg = NULL;
}

static void
write_item(struct spool *sp, struct qitem *it)
{
	struct frame_hdr h;
	struct iovec iov[2];
	size_t i, want = FRAME_HDR + it->len;
	ssize_t n;

	if (sp->wseg != NULL && sp->wsize > 0 &&
	    sp->wsize + want > sp->o.segment_bytes)
		seg_close(sp);
	if (sp->wseg == NULL && seg_open(sp, it->seq) == -1)
		goto lost;
	memset(&h, 0, sizeof(h));
	h.magic = FRAME_MAGIC;
	h.len = (uint32_t)it->len;
	h.seq = it->seq;
	h.crc = crc32c(crc32c(0, &h.seq, sizeof(h.seq)), it->buf, it->len);
	iov[0].iov_base = &h;
	iov[0].iov_len = FRAME_HDR;
	iov[1].iov_base = it->buf;
	iov[1].iov_len = it->len;
	n = writev(sp->wfd, iov, 2);
	if (n != (ssize_t)want) {
		log_warn("spool %s: write of batch %llu", sp->wseg->path,
		    (unsigned long long)it->seq);
		/* Cut back to the last whole frame and start afresh. */
		if (ftruncate(sp->wfd, (off_t)sp->wsize) == -1)
			log_warn("spool %s", sp->wseg->path);
		seg_close(sp);
		goto lost;
	}
	sp->wsize += want;
	sp->wlast_seq = it->seq;
	if (!sp->o.fsync_always) {
		pthread_mutex_lock(&sp->mtx);
		sp->wseg->size = sp->wsize;
		pthread_cond_broadcast(&sp->frames_cv);
		pthread_mutex_unlock(&sp->mtx);
	}
	return;
lost:
	sp->bytes -= want;
	for (i = 0; i < it->records.n; i++)
		spool_gap_add(sp, it->records.hour[i], it->records.count[i]);
	for (i = 0; i < it->gaps.n; i++)
		spool_gap_add(sp, it->gaps.hour[i], it->gaps.count[i]);
	/* The seq is never written: the sender's cursor steps over it. */
	pthread_mutex_lock(&sp->mtx);
	lane_mark_done(sp->wl, it->seq, it->seq);
	pthread_mutex_unlock(&sp->mtx);
}

static void
sync_now(struct spool *sp)
{
	if (sp->wseg != NULL && fdatasync(sp->wfd) == -1)
		log_warn("spool %s", sp->wseg->path);
	clock_gettime(CLOCK_MONOTONIC, &sp->last_sync);
	if (sp->o.fsync_always && sp->wseg != NULL) {
		pthread_mutex_lock(&sp->mtx);
		sp->wseg->size = sp->wsize;
		pthread_cond_broadcast(&sp->frames_cv);
		pthread_mutex_unlock(&sp->mtx);
	}
}

/* The boring durable write: temp file, fsync, rename, fsync the dir. */
void
lane_save_cursor(struct lane *l)
{
	char tmp[SPOOL_PATH_MAX], path[SPOOL_PATH_MAX], buf[32];
	int fd, n;

	if (l->cursor == l->cursor_saved)
		return;
	snprintf(tmp, sizeof(tmp), "%s/cursor.tmp", l->dir);
	snprintf(path, sizeof(path), "%s/cursor", l->dir);
	n = snprintf(buf, sizeof(buf), "%llu\n",
	    (unsigned long long)l->cursor);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0640)) == -1) {
		if (errno != ENOENT)
			log_warn("spool %s", tmp);
		return;
	}
	if (write(fd, buf, (size_t)n) != n || fsync(fd) == -1) {
		log_warn("spool %s", tmp);
		close(fd);
		return;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		log_warn("spool %s", path);
		return;
	}
	fsync_dir(l->dir);
	l->cursor_saved = l->cursor;
}

static void
save_cursors(struct spool *sp)
{
	struct lane *l;

	pthread_mutex_lock(&sp->mtx);
	TAILQ_FOREACH(l, &sp->lanes, entry)
		lane_save_cursor(l);
	pthread_mutex_unlock(&sp->mtx);
}

void *
spool_writer_main(void *arg)
{
	struct spool *sp = arg;
	struct qlist batch;
	struct qitem *it;
	struct timespec dl;
	uint64_t gen;
	int stop, wrote;

	for (;;) {
		pthread_mutex_lock(&sp->qmtx);
		if (STAILQ_EMPTY(&sp->q) && !sp->stop_writer &&
		    sp->flush_gen == sp->flushed_gen) {
			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_nsec += WAKE_MS * 1000000L;
			if (dl.tv_nsec >= 1000000000L) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&sp->qcv, &sp->qmtx, &dl);
		}
		STAILQ_INIT(&batch);
		STAILQ_CONCAT(&batch, &sp->q);
		stop = sp->stop_writer;
		gen = sp->flush_gen;
		pthread_mutex_unlock(&sp->qmtx);

		wrote = 0;
		while ((it = STAILQ_FIRST(&batch)) != NULL) {
			STAILQ_REMOVE_HEAD(&batch, entry);
			write_item(sp, it);
			free(it);
			wrote = 1;
		}
		if ((wrote && sp->o.fsync_always) || gen != sp->flushed_gen ||
		    stop || (wrote && ms_since(&sp->last_sync) >=
		    sp->o.interval_ms))
			sync_now(sp);
		else if (sp->wseg != NULL &&
		    ms_since(&sp->last_sync) >= sp->o.interval_ms)
			sync_now(sp);
		save_cursors(sp);
		if (ms_since(&sp->last_scan) >= ORPHAN_SCAN_MS && !stop &&
		    sp->o.lane_id == NULL) {
			clock_gettime(CLOCK_MONOTONIC, &sp->last_scan);
			spool_adopt_orphans(sp);
		}
		if (gen != sp->flushed_gen) {
			pthread_mutex_lock(&sp->qmtx);
			sp->flushed_gen = gen;
			pthread_cond_broadcast(&sp->flushed_cv);
			pthread_mutex_unlock(&sp->qmtx);
		}
		if (stop) {
			pthread_mutex_lock(&sp->qmtx);
			stop = STAILQ_EMPTY(&sp->q);
			pthread_mutex_unlock(&sp->qmtx);
			if (stop)
				break;
		}
	}
	seg_close(sp);
	save_cursors(sp);
	return NULL;
}

void
spool_flush(struct spool *sp)
{
	uint64_t gen;

	pthread_mutex_lock(&sp->qmtx);
	gen = ++sp->flush_gen;
	pthread_cond_signal(&sp->qcv);
	while (sp->flushed_gen < gen)
		pthread_cond_wait(&sp->flushed_cv, &sp->qmtx);
	pthread_mutex_unlock(&sp->qmtx);
}
