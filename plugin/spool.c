/*
 * spool.c: the durable queue between reading stdin and the network.
 *
 * A spool directory holds lanes, one per running mtascope-pipe:
 *
 *	DIR/lane-<id>/lock			flock(2)ed by the owner
 *	DIR/lane-<id>/cursor			every seq <= this is delivered
 *	DIR/lane-<id>/seg-<first seq>		frames, appended
 *
 * The lane's name is its spool id, so (host, spool id, seq) names a batch
 * for the collector's deduplication.  A process owns a lane by holding its
 * lock; that is what lets a new pipe start while the old one drains (a
 * `pmta reload`): the old one keeps its lane, the new one makes another,
 * and when the old one exits, whatever it left is adopted (locked) by the
 * new one and sent from the same lane, under the same id, so nothing is
 * sent under two names and nothing is written by two processes.
 *
 * Frames are handed to sender threads in order; acknowledgements may come
 * back out of order, so each lane keeps the seqs done above its cursor.
 * A segment is deleted once it is closed, read to its end, and nothing
 * handed out from it is still in flight.  A corrupt or torn frame is
 * reported once and skipped; the seqs it hid are treated as gone, so the
 * cursor moves past them and the rest of the spool is delivered.
 */
#include "spool_impl.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "bounds.h"
#include "crc32c.h"
#include "log.h"

static int	 seg_cmp(const void *, const void *);
static int	 lane_load(struct lane *);
static uint64_t	 lane_last_seq(struct spool *, struct lane *);
static int	 lane_next(struct spool *, struct lane *, struct spool_frame *);
static void	 lane_reap(struct spool *, struct lane *);
static void	 lane_free(struct lane *);
static int	 lane_create(struct spool *, const char *);
static int	 read_hdr(struct spool *, struct seg *, uint64_t,
		    struct frame_hdr *);
static void	 report_corrupt(struct spool *, struct seg *, uint64_t,
		    const char *);
static uint64_t	 resync(struct spool *, struct seg *, uint64_t);

static void
report_corrupt(struct spool *sp, struct seg *s, uint64_t off,
    const char *why)
{
	sp->corrupt++;
	log_warnx("spool %s: offset %llu: %s; frame skipped", s->path,
	    (unsigned long long)off, why);
}

static int
seg_cmp(const void *a, const void *b)
{
	const struct seg *x = *(struct seg *const *)a;
	const struct seg *y = *(struct seg *const *)b;

	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

/* Segments and cursor of a lane just locked. */
static int
lane_load(struct lane *l)
{
	struct seg **v = NULL, *s;
	struct dirent *de;
	struct stat st;
	DIR *d;
	size_t n = 0, cap = 0, i;
	char path[SPOOL_PATH_MAX], buf[32];
	unsigned long long first;
	ssize_t k;
	int fd;

	snprintf(path, sizeof(path), "%s/cursor", l->dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[k > 0 ? k : 0] = '\0';
		l->cursor = strtoull(buf, NULL, 10);
	}
	l->cursor_saved = l->dispatched = l->cursor;
	if ((d = opendir(l->dir)) == NULL) {
		log_warn("spool %s", l->dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (sscanf(de->d_name, "seg-%llu", &first) != 1)
			continue;
		if ((s = calloc(1, sizeof(*s))) == NULL)
			fatal("spool");
		snprintf(s->path, sizeof(s->path), "%s/%.40s", l->dir,
		    de->d_name);
		if (stat(s->path, &st) == -1) {
			free(s);
			continue;
		}
		s->first_seq = first;
		s->size = (uint64_t)st.st_size;
		s->closed = 1;
		s->fd = -1;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((v = reallocarray(v, cap, sizeof(*v))) == NULL)
				fatal("spool");
		}
		v[n++] = s;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), seg_cmp);
	for (i = 0; i < n; i++)
		TAILQ_INSERT_TAIL(&l->segs, v[i], entry);
	free(v);
	l->rseg = TAILQ_FIRST(&l->segs);
	l->roff = 0;
	return 0;
}

static void
lane_free(struct lane *l)
{
	struct seg *s;

	while ((s = TAILQ_FIRST(&l->segs)) != NULL) {
		TAILQ_REMOVE(&l->segs, s, entry);
		if (s->fd != -1)
			close(s->fd);
		free(s);
	}
	if (l->lockfd != -1)
		close(l->lockfd);
	free(l->done);
	free(l);
}

/*
 * Lock DIR/name and take it over.  Returns 1 if adopted, 0 if another
 * process holds it (or it vanished), -1 on error.
 */
int
lane_adopt(struct spool *sp, const char *name, int writing)
{
	struct lane *l;
	struct stat st;
	char path[SPOOL_PATH_MAX];

	TAILQ_FOREACH(l, &sp->lanes, entry)
		if (strcmp(l->id, name + 5) == 0)
			return 0;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		fatal("spool");
	TAILQ_INIT(&l->segs);
	snprintf(l->dir, sizeof(l->dir), "%s/%.40s", sp->dir, name);
	strlcpy(l->id, name + 5, sizeof(l->id));
	snprintf(path, sizeof(path), "%s/lock", l->dir);
	if ((l->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) ==
	    -1) {
		lane_free(l);
		return errno == ENOENT ? 0 : -1;
	}
	if (flock(l->lockfd, LOCK_EX | LOCK_NB) == -1) {
		lane_free(l);
		return 0;
	}
	/* Locked; but the previous owner may have removed it meanwhile. */
	if (stat(l->dir, &st) == -1) {
		lane_free(l);
		return 0;
	}
	if (lane_load(l) == -1) {
		lane_free(l);
		return -1;
	}
	l->writing = writing;
	TAILQ_INSERT_TAIL(&sp->lanes, l, entry);
	gaps_load(sp, l);
	if (!TAILQ_EMPTY(&l->segs))
		log_info("spool %s: adopted with undelivered batches",
		    l->dir);
	return 1;
}

static int
lane_create(struct spool *sp, const char *id)
{
	char name[64], path[SPOOL_PATH_MAX];
	uint8_t rnd[8];
	int i, tries;

	for (tries = 0; tries < 16; tries++) {
		memcpy(name, "lane-", 5);
		if (id != NULL)
			strlcpy(name + 5, id, sizeof(name) - 5);
		else {
			arc4random_buf(rnd, sizeof(rnd));
			for (i = 0; i < 8; i++)
				snprintf(name + 5 + 2 * i, 3, "%02x", rnd[i]);
		}
		snprintf(path, sizeof(path), "%s/%s", sp->dir, name);
		if (mkdir(path, 0750) == -1) {
			if (errno == EEXIST && id == NULL)
				continue;
			log_warn("spool %s", path);
			return -1;
		}
		fsync_dir(sp->dir);
		if (lane_adopt(sp, name, 1) != 1)
			return -1;
		return 0;
	}
	return -1;
}

/* The last valid seq in a lane's newest segment, or its cursor. */
static uint64_t
lane_last_seq(struct spool *sp, struct lane *l)
{
	struct seg *s = TAILQ_LAST(&l->segs, seglist);
	struct frame_hdr h;
	uint64_t off = 0, last = l->cursor;

	if (s == NULL)
		return last;
	if (s->first_seq > 0 && s->first_seq - 1 > last)
		last = s->first_seq - 1;
	while (off < s->size) {
		if (read_hdr(sp, s, off, &h) == -1 ||
		    off + FRAME_HDR + h.len > s->size) {
			off = resync(sp, s, off + 1);
			continue;
		}
		if (h.seq > last)
			last = h.seq;
		off += FRAME_HDR + h.len;
	}
	return last;
}

struct spool *
spool_open(const struct spool_opts *o)
{
	struct spool *sp;
	struct lane *l;
	struct dirent *de;
	DIR *d;
	int rv;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		fatal("spool");
	sp->o = *o;
	if (strlcpy(sp->dir, o->dir, sizeof(sp->dir)) >= sizeof(sp->dir)) {
		log_warnx("spool %s: path longer than %d bytes", o->dir,
		    SPOOL_DIR_MAX - 1);
		free(sp);
		return NULL;
	}
	TAILQ_INIT(&sp->lanes);
	STAILQ_INIT(&sp->q);
	pthread_mutex_init(&sp->mtx, NULL);
	pthread_mutex_init(&sp->qmtx, NULL);
	pthread_mutex_init(&sp->gmtx, NULL);
	pthread_cond_init(&sp->frames_cv, NULL);
	pthread_cond_init(&sp->qcv, NULL);
	pthread_cond_init(&sp->flushed_cv, NULL);
	sp->wfd = -1;
	if (mkdir(sp->dir, 0750) == -1 && errno != EEXIST) {
		log_warn("spool %s", sp->dir);
		goto fail;
	}
	if ((d = opendir(sp->dir)) == NULL) {
		log_warn("spool %s", sp->dir);
		goto fail;
	}
	/* The first free lane becomes ours to write; others are drained.
	 * A named lane (a replay) is created and used alone. */
	while (o->lane_id == NULL && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "lane-", 5) != 0 ||
		    strlen(de->d_name) > 5 + 32)
			continue;
		rv = lane_adopt(sp, de->d_name, sp->wl == NULL);
		if (rv == 1 && sp->wl == NULL)
			sp->wl = TAILQ_LAST(&sp->lanes, lanelist);
	}
	closedir(d);
	if (sp->wl == NULL) {
		if (lane_create(sp, o->lane_id) == -1)
			goto fail;
		sp->wl = TAILQ_LAST(&sp->lanes, lanelist);
	}
	TAILQ_FOREACH(l, &sp->lanes, entry) {
		struct seg *s;

		TAILQ_FOREACH(s, &l->segs, entry)
			sp->bytes += s->size;
	}
	sp->next_seq = lane_last_seq(sp, sp->wl) + 1;
	sp->wlast_seq = sp->next_seq - 1;
	clock_gettime(CLOCK_MONOTONIC, &sp->last_sync);
	sp->last_scan = sp->last_sync;
	if (pthread_create(&sp->writer, NULL, spool_writer_main, sp) != 0)
		fatal("spool writer thread");
	return sp;
fail:
	free(sp);
	return NULL;
}

const char *
spool_id(const struct spool *sp)
{
	return sp->wl->id;
}

uint64_t
spool_next_seq(const struct spool *sp)
{
	return sp->next_seq;
}

/* Orphaned lanes (their process exited) are adopted, to be drained. */
void
spool_adopt_orphans(struct spool *sp)
{
	struct dirent *de;
	struct lane *l;
	struct seg *s;
	DIR *d;

	if ((d = opendir(sp->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "lane-", 5) != 0 ||
		    strlen(de->d_name) > 5 + 32)
			continue;
		pthread_mutex_lock(&sp->mtx);
		if (lane_adopt(sp, de->d_name, 0) == 1) {
			l = TAILQ_LAST(&sp->lanes, lanelist);
			TAILQ_FOREACH(s, &l->segs, entry)
				sp->bytes += s->size;
			pthread_cond_broadcast(&sp->frames_cv);
		}
		pthread_mutex_unlock(&sp->mtx);
	}
	closedir(d);
}

static int
read_hdr(struct spool *sp, struct seg *s, uint64_t off, struct frame_hdr *h)
{
	(void)sp;
	if (off + FRAME_HDR > s->size)
		return -1;
	if (s->fd == -1 && (s->fd = open(s->path, O_RDONLY | O_CLOEXEC)) ==
	    -1)
		return -1;
	if (pread(s->fd, h, sizeof(*h), (off_t)off) != FRAME_HDR)
		return -1;
	if (h->magic != FRAME_MAGIC || h->len > MTA_MAX_FRAME)
		return -1;
	return 0;
}

/*
 * After a damaged header, the offset of the next frame whose header and
 * checksum are both right, or the segment's size if there is none.  A
 * magic number inside a payload does not fool it: the checksum must hold.
 */
static uint64_t
resync(struct spool *sp, struct seg *s, uint64_t off)
{
	static const uint8_t magic[4] = { 0x46, 0x53, 0x54, 0x4d };
	struct frame_hdr h;
	uint8_t chunk[65536], *buf;
	uint32_t m = FRAME_MAGIC, crc;
	ssize_t n;
	size_t i;
	int ok;

	memcpy(chunk, &m, 4);
	if (memcmp(chunk, magic, 4) != 0)
		return s->size;		/* magic bytes are little-endian */
	while (off + FRAME_HDR <= s->size) {
		if ((n = pread(s->fd, chunk, sizeof(chunk), (off_t)off)) <= 3)
			break;
		for (i = 0; i + 4 <= (size_t)n; i++) {
			if (memcmp(chunk + i, magic, 4) != 0 ||
			    read_hdr(sp, s, off + i, &h) == -1 ||
			    off + i + FRAME_HDR + h.len > s->size)
				continue;
			if ((buf = malloc(h.len ? h.len : 1)) == NULL)
				fatal("spool frame");
			ok = pread(s->fd, buf, h.len, (off_t)(off + i +
			    FRAME_HDR)) == (ssize_t)h.len;
			crc = crc32c(crc32c(0, &h.seq, sizeof(h.seq)), buf,
			    h.len);
			free(buf);
			if (ok && crc == h.crc)
				return off + i;
		}
		off += (uint64_t)n - 3;
	}
	return s->size;
}

/* Record seqs lo..hi as done and advance the cursor over them. */
void
lane_mark_done(struct lane *l, uint64_t lo, uint64_t hi)
{
	uint64_t s;
	size_t i, j;

	if (hi <= l->cursor)
		return;
	if (lo <= l->cursor + 1) {
		l->cursor = hi;
	} else {
		for (s = lo; s <= hi; s++) {
			for (i = 0; i < l->ndone && l->done[i] < s; i++)
				;
			if (i < l->ndone && l->done[i] == s)
				continue;
			if (l->ndone == l->capdone) {
				l->capdone = l->capdone ? l->capdone * 2 : 64;
				if ((l->done = reallocarray(l->done,
				    l->capdone, sizeof(*l->done))) == NULL)
					fatal("spool");
			}
			memmove(&l->done[i + 1], &l->done[i],
			    (l->ndone - i) * sizeof(*l->done));
			l->done[i] = s;
			l->ndone++;
		}
	}
	for (j = 0; j < l->ndone && l->done[j] <= l->cursor + 1; j++)
		if (l->done[j] == l->cursor + 1)
			l->cursor++;
	if (j > 0) {
		memmove(l->done, l->done + j, (l->ndone - j) *
		    sizeof(*l->done));
		l->ndone -= j;
	}
}

/* The next frame of lane l, if one is ready.  Called with mtx held. */
static int
lane_next(struct spool *sp, struct lane *l, struct spool_frame *f)
{
	struct frame_hdr h;
	struct seg *s;
	uint8_t *buf;
	uint32_t crc;

	while ((s = l->rseg) != NULL) {
		if (l->roff + FRAME_HDR > s->size ||
		    read_hdr(sp, s, l->roff, &h) == -1 ||
		    l->roff + FRAME_HDR + h.len > s->size) {
			if (!s->closed)
				return 0;	/* the writer is not done */
			if (l->roff < s->size) {
				uint64_t next = resync(sp, s, l->roff + 1);

				report_corrupt(sp, s, l->roff, next < s->size ?
				    "invalid frame header; resumed at the next "
				    "valid frame" : "torn or invalid frame at "
				    "the tail");
				if (next < s->size) {
					l->roff = next;
					continue;
				}
			}
			l->rseg = TAILQ_NEXT(s, entry);
			l->roff = 0;
			lane_reap(sp, l);
			continue;
		}
		if ((buf = malloc(h.len ? h.len : 1)) == NULL)
			fatal("spool frame");
		if (pread(s->fd, buf, h.len, (off_t)(l->roff + FRAME_HDR)) !=
		    (ssize_t)h.len) {
			free(buf);
			log_warn("spool %s", s->path);
			return 0;
		}
		crc = crc32c(crc32c(0, &h.seq, sizeof(h.seq)), buf, h.len);
		if (crc != h.crc) {
			report_corrupt(sp, s, l->roff, "checksum mismatch");
			l->roff += FRAME_HDR + h.len;
			free(buf);
			continue;
		}
		l->roff += FRAME_HDR + h.len;
		if (h.seq <= l->dispatched) {
			free(buf);		/* delivered before a restart */
			continue;
		}
		/* Seqs skipped over (lost frames, or segments already
		 * deleted) will never be sent: they count as done. */
		if (h.seq > l->dispatched + 1)
			lane_mark_done(l, l->dispatched + 1, h.seq - 1);
		l->dispatched = h.seq;
		s->outstanding++;
		l->inflight++;
		f->lane = l;
		strlcpy(f->spool_id, l->id, sizeof(f->spool_id));
		f->seq = h.seq;
		f->buf = buf;
		f->len = h.len;
		return 1;
	}
	return 0;
}

/*
 * Delete what is fully delivered: closed segments read to their end with
 * nothing in flight, and a drained lane that is not ours to write.
 */
static void
lane_reap(struct spool *sp, struct lane *l)
{
	struct seg *s;
	char path[SPOOL_PATH_MAX];

	while ((s = TAILQ_FIRST(&l->segs)) != NULL && s->closed &&
	    s->outstanding == 0 && s->released == 0) {
		if (s == l->rseg) {
			if (l->roff < s->size)
				break;
			l->rseg = TAILQ_NEXT(s, entry);
			l->roff = 0;
		}
		TAILQ_REMOVE(&l->segs, s, entry);
		if (unlink(s->path) == -1 && errno != ENOENT)
			log_warn("spool %s", s->path);
		sp->bytes -= s->size;
		if (s->fd != -1)
			close(s->fd);
		free(s);
	}
	if (l->writing || !TAILQ_EMPTY(&l->segs) || l->inflight > 0)
		return;
	snprintf(path, sizeof(path), "%s/cursor", l->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/cursor.tmp", l->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock", l->dir);
	unlink(path);
	if (rmdir(l->dir) == -1)
		log_warn("spool %s", l->dir);
	else
		log_info("spool %s: drained and removed", l->dir);
	TAILQ_REMOVE(&sp->lanes, l, entry);
	lane_free(l);
}

int
spool_next_frame(struct spool *sp, struct spool_frame *f, int timeout_ms)
{
	struct lane *l, *next;
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&sp->mtx);
	for (;;) {
		if (sp->closing) {
			pthread_mutex_unlock(&sp->mtx);
			return -1;
		}
		for (l = TAILQ_FIRST(&sp->lanes); l != NULL; l = next) {
			next = TAILQ_NEXT(l, entry);
			if (lane_next(sp, l, f) == 1) {
				pthread_mutex_unlock(&sp->mtx);
				return 1;
			}
		}
		if (pthread_cond_timedwait(&sp->frames_cv, &sp->mtx, &dl) ==
		    ETIMEDOUT) {
			pthread_mutex_unlock(&sp->mtx);
			return 0;
		}
	}
}

static void
frame_finish(struct spool *sp, struct spool_frame *f, int done)
{
	struct lane *l = f->lane;
	struct seg *s;

	pthread_mutex_lock(&sp->mtx);
	TAILQ_FOREACH(s, &l->segs, entry) {
		if (s->first_seq <= f->seq && (TAILQ_NEXT(s, entry) == NULL ||
		    TAILQ_NEXT(s, entry)->first_seq > f->seq)) {
			s->outstanding--;
			if (!done)
				s->released++;
			break;
		}
	}
	l->inflight--;
	if (done)
		lane_mark_done(l, f->seq, f->seq);
	lane_reap(sp, l);
	pthread_cond_broadcast(&sp->frames_cv);
	pthread_mutex_unlock(&sp->mtx);
	free(f->buf);
	f->buf = NULL;
}

void
spool_frame_done(struct spool *sp, struct spool_frame *f)
{
	frame_finish(sp, f, 1);
}

void
spool_frame_release(struct spool *sp, struct spool_frame *f)
{
	frame_finish(sp, f, 0);
}

uint64_t
spool_bytes(struct spool *sp)
{
	return sp->bytes;
}

void
spool_get_stats(struct spool *sp, struct spool_stats *st)
{
	struct lane *l;
	struct qitem *it;

	memset(st, 0, sizeof(*st));
	st->bytes = sp->bytes;
	pthread_mutex_lock(&sp->mtx);
	TAILQ_FOREACH(l, &sp->lanes, entry) {
		st->lanes++;
		if (l->writing) {
			if (sp->wlast_seq > l->cursor + l->ndone)
				st->pending += sp->wlast_seq - l->cursor -
				    l->ndone;
		} else if (!TAILQ_EMPTY(&l->segs) || l->inflight > 0)
			st->pending++;
	}
	st->corrupt = sp->corrupt;
	pthread_mutex_unlock(&sp->mtx);
	pthread_mutex_lock(&sp->qmtx);
	STAILQ_FOREACH(it, &sp->q, entry)
		st->pending++;
	pthread_mutex_unlock(&sp->qmtx);
}

void
spool_shutdown(struct spool *sp)
{
	pthread_mutex_lock(&sp->mtx);
	sp->closing = 1;
	pthread_cond_broadcast(&sp->frames_cv);
	pthread_mutex_unlock(&sp->mtx);
}

void
spool_close(struct spool *sp)
{
	struct lane *l;
	struct qitem *it;

	spool_shutdown(sp);
	pthread_mutex_lock(&sp->qmtx);
	sp->stop_writer = 1;
	pthread_cond_signal(&sp->qcv);
	pthread_mutex_unlock(&sp->qmtx);
	pthread_join(sp->writer, NULL);
	while ((it = STAILQ_FIRST(&sp->q)) != NULL) {
		STAILQ_REMOVE_HEAD(&sp->q, entry);
		free(it);
	}
	gaps_save(sp);
	/* Our lane stays, empty, for the next start to reuse its id;
	 * drained lanes adopted from others go. */
	while ((l = TAILQ_FIRST(&sp->lanes)) != NULL) {
		lane_reap(sp, l);
		if (l != TAILQ_FIRST(&sp->lanes))
			continue;
		TAILQ_REMOVE(&sp->lanes, l, entry);
		lane_save_cursor(l);
		lane_free(l);
	}
	free(sp);
}
