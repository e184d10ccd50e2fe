/*
 * sender.c: the network half of mtascope-pipe.
 *
 * Several threads, each with its own nng req context on one socket, take
 * frames from the spool in order and send them until mtascoped answers.
 * An Ack "ok" (applied now or before) releases the frame; "retry" or no
 * answer means wait and send again, with capped exponential backoff;
 * "rejected" means the batch can never be applied: it is logged, its
 * records become a gap so the loss is visible in the fleet view, and it
 * is released.  nng reconnects by itself, also with capped backoff.
 *
 * Nothing here touches stdin: the reader goes on at full speed whatever
 * the network does, and the spool absorbs the difference.
 */
#include "sender.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <bsd/string.h>

#include "log.h"
#include "mtascope.pb-c.h"

#define SEND_TIMEOUT_MS		5000
#define RECV_TIMEOUT_MS		15000
#define BACKOFF_MIN_MS		50
#define BACKOFF_MAX_MS		5000

struct sender {
	nng_socket		 sock;
	nng_dialer		 dialer;
	struct spool		*sp;
	pthread_t		*threads;
	int			 nthreads;
	atomic_int		 stop;
	pthread_mutex_t		 mtx;
	struct sender_stats	 stats;
	char			 url[512];
	char			 last_error[256];
};

static void	*sender_main(void *);
static int	 exchange(nng_ctx, nng_aio *,
		    struct spool_frame *, char *, size_t);
static void	 rejected(struct sender *, struct spool_frame *,
		    const char *);
static void	 nap(struct sender *, int);

/* Sleep ms, waking early if the sender is stopping. */
static void
nap(struct sender *s, int ms)
{
	struct timespec ts = { 0, 10 * 1000000L };

	while (ms > 0 && !atomic_load(&s->stop)) {
		nanosleep(&ts, NULL);
		ms -= 10;
	}
}

/*
 * One request and its answer.  Returns 1 acknowledged, 2 rejected, 0 to
 * try again (why says why).
 */
static int
exchange(nng_ctx ctx, nng_aio *aio, struct spool_frame *f, char *why,
    size_t whylen)
{
	Mtascope__V1__Ack *ack;
	nng_msg *msg;
	int rv, ret;

	if ((rv = nng_msg_alloc(&msg, f->len)) != 0) {
		strlcpy(why, nng_strerror(rv), whylen);
		return 0;
	}
	memcpy(nng_msg_body(msg), f->buf, f->len);
	nng_aio_set_msg(aio, msg);
	nng_aio_set_timeout(aio, SEND_TIMEOUT_MS);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		nng_msg_free(msg);
		snprintf(why, whylen, "send: %s", nng_strerror(rv));
		return 0;
	}
	nng_aio_set_timeout(aio, RECV_TIMEOUT_MS);
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		snprintf(why, whylen, "no answer: %s", nng_strerror(rv));
		return 0;
	}
	msg = nng_aio_get_msg(aio);
	ack = mtascope__v1__ack__unpack(NULL, nng_msg_len(msg),
	    nng_msg_body(msg));
	nng_msg_free(msg);
	if (ack == NULL) {
		strlcpy(why, "answer is not a mtascope.v1.Ack", whylen);
		return 0;
	}
	switch (ack->status) {
	case MTASCOPE__V1__ACK__STATUS__STATUS_OK:
		if (ack->seq != f->seq || strcmp(ack->spool_id, f->spool_id)) {
			snprintf(why, whylen, "answer for batch %llu, sent "
			    "%llu", (unsigned long long)ack->seq,
			    (unsigned long long)f->seq);
			ret = 0;
		} else
			ret = 1;
		break;
	case MTASCOPE__V1__ACK__STATUS__STATUS_REJECTED:
		snprintf(why, whylen, "%s", ack->reason);
		ret = 2;
		break;
	default:
		snprintf(why, whylen, "collector asks to retry: %s",
		    ack->reason);
		ret = 0;
		break;
	}
	mtascope__v1__ack__free_unpacked(ack, NULL);
	return ret;
}

/* A batch the collector will never accept: count its records as a gap. */
static void
rejected(struct sender *s, struct spool_frame *f, const char *why)
{
	Mtascope__V1__Batch *b;
	uint64_t n = 0;
	size_t i;

	log_warnx("collector %s rejected batch %s/%llu: %s", s->url,
	    f->spool_id, (unsigned long long)f->seq, why);
	b = mtascope__v1__batch__unpack(NULL, f->len, f->buf);
	if (b != NULL && b->records != NULL) {
		for (i = 0; i < b->records->n_type &&
		    i < b->records->n_time_logged; i++)
			spool_gap_add(s->sp, b->records->time_logged[i] / 3600,
			    1);
		n = b->records->n_type;
	}
	/* The drops it carried were not reported either. */
	for (i = 0; b != NULL && i < b->n_gaps; i++)
		spool_gap_add(s->sp, b->gaps[i]->hour, b->gaps[i]->dropped);
	if (b != NULL)
		mtascope__v1__batch__free_unpacked(b, NULL);
	pthread_mutex_lock(&s->mtx);
	s->stats.rejected++;
	s->stats.rejected_records += n;
	pthread_mutex_unlock(&s->mtx);
}

static void *
sender_main(void *arg)
{
	struct sender *s = arg;
	struct spool_frame f;
	nng_ctx ctx;
	nng_aio *aio;
	char why[256];
	int r, rv, backoff;

	if ((rv = nng_ctx_open(&ctx, s->sock)) != 0) {
		/* Stopped before this thread got going: nothing to do. */
		if (rv == NNG_ECLOSED || atomic_load(&s->stop))
			return NULL;
		fatalx("nng context: %s", nng_strerror(rv));
	}
	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0)
		fatalx("nng aio: %s", nng_strerror(rv));
	while (!atomic_load(&s->stop)) {
		if ((r = spool_next_frame(s->sp, &f, 200)) < 0)
			break;
		if (r == 0)
			continue;
		backoff = BACKOFF_MIN_MS;
		for (;;) {
			if (atomic_load(&s->stop)) {
				spool_frame_release(s->sp, &f);
				goto out;
			}
			r = exchange(ctx, aio, &f, why, sizeof(why));
			if (r == 1)
				break;
			if (r == 2) {
				rejected(s, &f, why);
				break;
			}
			if (atomic_load(&s->stop)) {
				spool_frame_release(s->sp, &f);
				goto out;
			}
			pthread_mutex_lock(&s->mtx);
			s->stats.retries++;
			if (strcmp(why, s->last_error) != 0) {
				strlcpy(s->last_error, why,
				    sizeof(s->last_error));
				log_warnx("collector %s: %s; retrying", s->url,
				    why);
			}
			pthread_mutex_unlock(&s->mtx);
			nap(s, backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ?
			    BACKOFF_MAX_MS : backoff * 2;
		}
		spool_frame_done(s->sp, &f);
		pthread_mutex_lock(&s->mtx);
		s->stats.acked += (r == 1);
		s->last_error[0] = '\0';
		pthread_mutex_unlock(&s->mtx);
	}
out:
	/* The context is closed with the socket, in sender_stop(): closing
	 * it here could race with that and touch a socket being freed. */
	nng_aio_free(aio);
	return NULL;
}

struct sender *
sender_start(const char *url, struct spool *sp, int contexts)
{
	struct sender *s;
	int i, rv;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("sender");
	s->sp = sp;
	strlcpy(s->url, url, sizeof(s->url));
	pthread_mutex_init(&s->mtx, NULL);
	if ((rv = nng_req0_open(&s->sock)) != 0)
		fatalx("nng req socket: %s", nng_strerror(rv));
	/* Resending is ours (with backoff); nng's own timer would only
	 * duplicate it. */
	nng_socket_set_ms(s->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	if ((rv = nng_dialer_create(&s->dialer, s->sock, url)) != 0) {
		log_warnx("collector %s: %s", url, nng_strerror(rv));
		nng_close(s->sock);
		free(s);
		return NULL;
	}
	nng_dialer_set_ms(s->dialer, NNG_OPT_RECONNMINT, 100);
	nng_dialer_set_ms(s->dialer, NNG_OPT_RECONNMAXT, BACKOFF_MAX_MS);
	nng_dialer_set_size(s->dialer, NNG_OPT_RECVMAXSZ, 1024 * 1024);
	/* Non-blocking: a collector that is down now is dialed again later. */
	if ((rv = nng_dialer_start(s->dialer, NNG_FLAG_NONBLOCK)) != 0) {
		log_warnx("collector %s: %s", url, nng_strerror(rv));
		nng_close(s->sock);
		free(s);
		return NULL;
	}
	s->nthreads = contexts;
	if ((s->threads = calloc((size_t)contexts, sizeof(*s->threads))) ==
	    NULL)
		fatal("sender");
	for (i = 0; i < contexts; i++)
		if (pthread_create(&s->threads[i], NULL, sender_main, s) != 0)
			fatal("sender thread");
	return s;
}

void
sender_stop(struct sender *s)
{
	int i;

	if (s == NULL)
		return;
	atomic_store(&s->stop, 1);
	/* Closing the socket ends any send or receive under way. */
	nng_close(s->sock);
	for (i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	pthread_mutex_destroy(&s->mtx);
	free(s->threads);
	free(s);
}

void
sender_get_stats(struct sender *s, struct sender_stats *st)
{
	pthread_mutex_lock(&s->mtx);
	*st = s->stats;
	pthread_mutex_unlock(&s->mtx);
}
