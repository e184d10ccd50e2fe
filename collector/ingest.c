/*
 * ingest.c: receive, validate, apply, acknowledge.
 *
 * Many nng rep contexts wait for Batch frames at once, each a small state
 * machine driven by its aio callback (nng's documented async server
 * pattern).  A frame is validated in that callback; a bad one is answered
 * "rejected" at once, with the reason, and touches nothing else.  A good
 * one is queued for the single commit thread, which takes everything
 * queued, applies it in one SQLite transaction (group commit: one fsync
 * for many batches), and only after COMMIT returns sends each context its
 * Ack.  So an Ack always means "on disk", and a crash before the commit
 * means no Ack, a resend, and, the note being absent, a fresh apply.
 */
#include "ingest.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include <bsd/string.h>

#include "log.h"
#include "mtascope.pb-c.h"
#include "rollup.h"
#include "validate.h"

enum work_state { W_RECV, W_COMMIT, W_SEND };

struct work {
	struct ingest		*in;
	enum work_state		 state;
	nng_aio			*aio;
	nng_ctx			 ctx;
	Mtascope__V1__Batch	*batch;
	struct work		*next;		/* commit queue */
	Mtascope__V1__Ack__Status status;
	char			 reason[256];
};

struct ingest {
	nng_socket		 sock;
	struct store		*store;
	const struct isp_table	*isps;
	size_t			 max_frame;
	struct work		*works;
	int			 nworks;
	pthread_t		 committer;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	struct work		*queue_head, **queue_tail;
	int			 stopping;
	struct rollup		*rollup;
	struct ingest_stats	 stats;
};

static void	 work_cb(void *);
static void	 reply(struct work *, uint64_t, const char *);
static void	 peer_name(nng_msg *, char *, size_t);
static void	*commit_main(void *);
static void	 commit_group(struct ingest *, struct work *);

static void
peer_name(nng_msg *msg, char *buf, size_t len)
{
	nng_sockaddr sa;
	char ip[INET6_ADDRSTRLEN];
	nng_pipe p = nng_msg_get_pipe(msg);

	strlcpy(buf, "?", len);
	if (nng_pipe_id(p) < 0 ||
	    nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0)
		return;
	switch (sa.s_family) {
	case NNG_AF_INET:
		inet_ntop(AF_INET, &sa.s_in.sa_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(sa.s_in.sa_port));
		break;
	case NNG_AF_INET6:
		inet_ntop(AF_INET6, sa.s_in6.sa_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sa.s_in6.sa_port));
		break;
	case NNG_AF_IPC:
		strlcpy(buf, "ipc", len);
		break;
	default:
		break;
	}
}

/* Send the Ack for w (status and reason already set) and go back to
 * receiving once it is out. */
static void
reply(struct work *w, uint64_t seq, const char *spool_id)
{
	Mtascope__V1__Ack ack = MTASCOPE__V1__ACK__INIT;
	nng_msg *msg;
	size_t len;

	ack.seq = seq;
	ack.status = w->status;
	ack.reason = w->reason;
	ack.spool_id = (char *)(spool_id != NULL ? spool_id : "");
	len = mtascope__v1__ack__get_packed_size(&ack);
	if (nng_msg_alloc(&msg, len) != 0)
		fatalx("ack message");
	mtascope__v1__ack__pack(&ack, nng_msg_body(msg));
	w->state = W_SEND;
	nng_aio_set_msg(w->aio, msg);
	nng_ctx_send(w->ctx, w->aio);
}

static void
work_cb(void *arg)
{
	struct work *w = arg;
	struct ingest *in = w->in;
	nng_msg *msg;
	char peer[160], host[256];
	int rv;

	switch (w->state) {
	case W_SEND:
		if ((rv = nng_aio_result(w->aio)) != 0) {
			nng_msg_free(nng_aio_get_msg(w->aio));
			if (rv == NNG_ECLOSED)
				return;
		}
		w->state = W_RECV;
		nng_ctx_recv(w->ctx, w->aio);
		break;
	case W_RECV:
		if ((rv = nng_aio_result(w->aio)) != 0) {
			if (rv == NNG_ECLOSED)
				return;
			nng_ctx_recv(w->ctx, w->aio);
			break;
		}
		msg = nng_aio_get_msg(w->aio);
		w->batch = NULL;
		if (nng_msg_len(msg) > in->max_frame) {
			snprintf(w->reason, sizeof(w->reason), "frame of %zu "
			    "bytes exceeds the limit of %zu", nng_msg_len(msg),
			    in->max_frame);
			strlcpy(host, "?", sizeof(host));
		} else {
			w->batch = validate_batch(nng_msg_body(msg),
			    nng_msg_len(msg), w->reason, sizeof(w->reason),
			    host, sizeof(host));
		}
		if (w->batch == NULL) {
			peer_name(msg, peer, sizeof(peer));
			log_warnx("peer %s host %s: batch rejected: %s", peer,
			    host, w->reason);
			nng_msg_free(msg);
			pthread_mutex_lock(&in->mtx);
			in->stats.rejected++;
			pthread_mutex_unlock(&in->mtx);
			w->status = MTASCOPE__V1__ACK__STATUS__STATUS_REJECTED;
			reply(w, 0, NULL);
			break;
		}
		nng_msg_free(msg);
		w->state = W_COMMIT;
		w->next = NULL;
		pthread_mutex_lock(&in->mtx);
		*in->queue_tail = w;
		in->queue_tail = &w->next;
		pthread_cond_signal(&in->cond);
		pthread_mutex_unlock(&in->mtx);
		break;
	case W_COMMIT:
		break;
	}
}

/* Apply a group of validated batches in one transaction, then answer. */
static void
commit_group(struct ingest *in, struct work *group)
{
	struct work *w, *next;
	Mtascope__V1__Batch *b;
	struct ingest_stats d = { 0 };
	int64_t now = time(NULL);
	size_t i;
	int ok;

	d.earliest_day = -1;

	rollup_clear(in->rollup);
	ok = store_begin(in->store) == 0;
	for (w = group; ok && w != NULL; w = w->next) {
		b = w->batch;
		w->status = MTASCOPE__V1__ACK__STATUS__STATUS_OK;
		w->reason[0] = '\0';
		if (store_seen(in->store, b->host, b->spool_id, b->seq)) {
			strlcpy(w->reason, "duplicate", sizeof(w->reason));
			d.duplicates++;
			continue;
		}
		if (store_mark(in->store, b->host, b->spool_id, b->seq) == -1 ||
		    store_batch_meta(in->store, b, now) == -1) {
			ok = 0;
			break;
		}
		rollup_add_batch(in->rollup, b);
		d.batches++;
		d.records += b->records != NULL ? b->records->n_type : 0;
		for (i = 0; b->records != NULL && i < b->records->n_type; i++)
			if (d.earliest_day < 0 ||
			    b->records->time_logged[i] / 86400 < d.earliest_day)
				d.earliest_day = b->records->time_logged[i] /
				    86400;
	}
	if (ok && store_write_rollup(in->store, in->rollup, in->isps) == -1)
		ok = 0;
	if (ok && store_commit(in->store) == -1)
		ok = 0;
	if (!ok) {
		store_rollback(in->store);
		memset(&d, 0, sizeof(d));
	}
	for (w = group; w != NULL; w = next) {
		next = w->next;
		b = w->batch;
		if (!ok) {
			w->status = MTASCOPE__V1__ACK__STATUS__STATUS_RETRY;
			strlcpy(w->reason, "collector could not commit",
			    sizeof(w->reason));
			d.retried++;
		}
		reply(w, b->seq, b->spool_id);
		validate_free(b);
		w->batch = NULL;
	}
	pthread_mutex_lock(&in->mtx);
	in->stats.batches += d.batches;
	in->stats.duplicates += d.duplicates;
	in->stats.retried += d.retried;
	in->stats.records += d.records;
	in->stats.commits += ok;
	if (d.earliest_day >= 0 && (in->stats.earliest_day < 0 ||
	    d.earliest_day < in->stats.earliest_day))
		in->stats.earliest_day = d.earliest_day;
	pthread_mutex_unlock(&in->mtx);
}

static void *
commit_main(void *arg)
{
	struct ingest *in = arg;
	struct work *group;

	pthread_mutex_lock(&in->mtx);
	for (;;) {
		while (in->queue_head == NULL && !in->stopping)
			pthread_cond_wait(&in->cond, &in->mtx);
		if (in->queue_head == NULL && in->stopping)
			break;
		group = in->queue_head;
		in->queue_head = NULL;
		in->queue_tail = &in->queue_head;
		pthread_mutex_unlock(&in->mtx);
		commit_group(in, group);
		pthread_mutex_lock(&in->mtx);
	}
	pthread_mutex_unlock(&in->mtx);
	return NULL;
}

struct ingest *
ingest_start(const char *url, struct store *store,
    const struct isp_table *isps, size_t max_frame, int contexts)
{
	struct ingest *in;
	int i, rv;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		fatal("ingest");
	in->store = store;
	in->isps = isps;
	in->max_frame = max_frame;
	in->queue_tail = &in->queue_head;
	in->stats.earliest_day = -1;
	in->rollup = rollup_new(isps);
	pthread_mutex_init(&in->mtx, NULL);
	pthread_cond_init(&in->cond, NULL);
	if ((rv = nng_rep0_open(&in->sock)) != 0)
		fatalx("nng rep socket: %s", nng_strerror(rv));
	/* Frames up to twice the limit are read so they can be refused
	 * with a reason; beyond that nng drops the connection. */
	nng_socket_set_size(in->sock, NNG_OPT_RECVMAXSZ, 2 * max_frame);
	if ((rv = nng_listen(in->sock, url, NULL, 0)) != 0) {
		log_warnx("listen %s: %s", url, nng_strerror(rv));
		nng_close(in->sock);
		rollup_free(in->rollup);
		free(in);
		return NULL;
	}
	if (pthread_create(&in->committer, NULL, commit_main, in) != 0)
		fatal("commit thread");
	in->nworks = contexts;
	if ((in->works = calloc((size_t)contexts, sizeof(*in->works))) ==
	    NULL)
		fatal("ingest");
	for (i = 0; i < contexts; i++) {
		struct work *w = &in->works[i];

		w->in = in;
		if (nng_aio_alloc(&w->aio, work_cb, w) != 0 ||
		    nng_ctx_open(&w->ctx, in->sock) != 0)
			fatalx("nng context");
		w->state = W_RECV;
		nng_ctx_recv(w->ctx, w->aio);
	}
	return in;
}

void
ingest_stop(struct ingest *in)
{
	int i;

	if (in == NULL)
		return;
	/* Answer what is queued, then close: pending receives end with
	 * NNG_ECLOSED and their callbacks do not re-arm. */
	pthread_mutex_lock(&in->mtx);
	in->stopping = 1;
	pthread_cond_signal(&in->cond);
	pthread_mutex_unlock(&in->mtx);
	pthread_join(in->committer, NULL);
	nng_close(in->sock);
	for (i = 0; i < in->nworks; i++) {
		nng_aio_free(in->works[i].aio);
		validate_free(in->works[i].batch);
	}
	rollup_free(in->rollup);
	pthread_mutex_destroy(&in->mtx);
	pthread_cond_destroy(&in->cond);
	free(in->works);
	free(in);
}

int64_t
ingest_take_earliest_day(struct ingest *in)
{
	int64_t d;

	pthread_mutex_lock(&in->mtx);
	d = in->stats.earliest_day;
	in->stats.earliest_day = -1;
	pthread_mutex_unlock(&in->mtx);
	return d;
}

void
ingest_get_stats(struct ingest *in, struct ingest_stats *st)
{
	pthread_mutex_lock(&in->mtx);
	*st = in->stats;
	pthread_mutex_unlock(&in->mtx);
}
