/*
 * store.c: durable state of the collector, in SQLite.
 *
 * Exactly-once rests on one rule: a batch's effects and the note that it
 * was applied are written in the same transaction, and the Ack goes out
 * only after that transaction commits with synchronous=FULL.  A batch seen
 * again (a pipe that never got the Ack) finds its note and is acknowledged
 * without being applied twice.
 *
 * The notes are kept compactly: per (host, spool id), the set of applied
 * sequence numbers as sorted, merged ranges ("1-18230" once delivery is in
 * order; a hole costs one more range).  A table of one row per batch would
 * grow by a thousand rows a second at fleet rates.  The ranges of the
 * spools that are sending are cached in memory (read from the table on
 * first use, so a collector holds only what is active however many
 * replayed files it has seen) and written back, for the spools a commit
 * touched, inside that commit.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "log.h"

#define SPOOL_KEY_MAX	(255 + 1 + 64 + 1)

struct range {
	uint64_t	lo, hi;
};

struct spool_state {
	char		 key[SPOOL_KEY_MAX];	/* host \0 spool_id */
	size_t		 hostlen;
	struct range	*r;
	size_t		 n, cap;
	int		 dirty;
};

struct store {
	sqlite3			*db;
	sqlite3_stmt		*upsert_rollup;
	sqlite3_stmt		*upsert_host_hour;
	sqlite3_stmt		*upsert_agg[3];	/* isp_hour, *_day */
	sqlite3_stmt		*upsert_gap;
	sqlite3_stmt		*upsert_host;
	sqlite3_stmt		*upsert_spool;
	sqlite3_stmt		*select_spool;
	/* A cache of the spools' notes, filled from the spools table on
	 * demand: only spools that send are held, however many exist. */
	struct spool_state	*spools;
	size_t			 nspools, cap;
	uint32_t		*index;		/* spools entry + 1; 0 empty */
	size_t			 nindex;	/* power of two */
	size_t			*dirty;		/* entries marked this txn */
	size_t			 ndirty;
	int			 in_txn;
};

#ifndef SPOOL_CACHE_MAX
#define SPOOL_CACHE_MAX	4096	/* cleared past this, at a commit */
#endif

#define AGG_COLUMNS \
    " delivered INTEGER NOT NULL DEFAULT 0, bounced INTEGER NOT NULL DEFAULT 0," \
    " deferred INTEGER NOT NULL DEFAULT 0," \
    " deferred_queue INTEGER NOT NULL DEFAULT 0," \
    " complaints INTEGER NOT NULL DEFAULT 0," \
    " remote_bounces INTEGER NOT NULL DEFAULT 0," \
    " sessions INTEGER NOT NULL DEFAULT 0," \
    " session_records INTEGER NOT NULL DEFAULT 0," \
    " bytes INTEGER NOT NULL DEFAULT 0"
#define AGG_UPDATE \
    "delivered=delivered+excluded.delivered," \
    "bounced=bounced+excluded.bounced,deferred=deferred+excluded.deferred," \
    "deferred_queue=deferred_queue+excluded.deferred_queue," \
    "complaints=complaints+excluded.complaints," \
    "remote_bounces=remote_bounces+excluded.remote_bounces," \
    "sessions=sessions+excluded.sessions," \
    "session_records=session_records+excluded.session_records," \
    "bytes=bytes+excluded.bytes"

static const char schema_sql[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "INSERT OR IGNORE INTO meta VALUES('schema', '2');"
    "CREATE TABLE IF NOT EXISTS rollup("
    " hour INTEGER NOT NULL, isp TEXT NOT NULL, host TEXT NOT NULL,"
    " source_ip TEXT NOT NULL,"
    " delivered INTEGER NOT NULL DEFAULT 0,"
    " bounced INTEGER NOT NULL DEFAULT 0,"
    " deferred INTEGER NOT NULL DEFAULT 0,"
    " deferred_queue INTEGER NOT NULL DEFAULT 0,"
    " complaints INTEGER NOT NULL DEFAULT 0,"
    " remote_bounces INTEGER NOT NULL DEFAULT 0,"
    " sessions INTEGER NOT NULL DEFAULT 0,"
    " session_records INTEGER NOT NULL DEFAULT 0,"
    " bytes INTEGER NOT NULL DEFAULT 0,"
    " s1 INTEGER NOT NULL DEFAULT 0, s2 INTEGER NOT NULL DEFAULT 0,"
    " s4 INTEGER NOT NULL DEFAULT 0, s8 INTEGER NOT NULL DEFAULT 0,"
    " s16 INTEGER NOT NULL DEFAULT 0, s32 INTEGER NOT NULL DEFAULT 0,"
    " s64 INTEGER NOT NULL DEFAULT 0, s128 INTEGER NOT NULL DEFAULT 0,"
    " s256 INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(hour, isp, host, source_ip)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS host_hour("
    " hour INTEGER NOT NULL, host TEXT NOT NULL,"
    " received INTEGER NOT NULL DEFAULT 0,"
    " remote_status INTEGER NOT NULL DEFAULT 0,"
    " records INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(hour, host)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS gaps("
    " host TEXT NOT NULL, hour INTEGER NOT NULL,"
    " dropped INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY(host, hour)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS hosts("
    " host TEXT PRIMARY KEY, last_batch INTEGER, last_seen INTEGER,"
    " batches INTEGER NOT NULL DEFAULT 0,"
    " records INTEGER NOT NULL DEFAULT 0,"
    " records_read INTEGER, rejected INTEGER, spool_bytes INTEGER,"
    " dropped INTEGER, started INTEGER) WITHOUT ROWID;"
    /* Pre-aggregated views of rollup, kept in the same transactions, so
     * the daily review and the ISP exports read a few thousand rows, not
     * millions, however large the fleet. */
    "CREATE TABLE IF NOT EXISTS isp_hour(hour INTEGER NOT NULL,"
    " isp TEXT NOT NULL," AGG_COLUMNS ", PRIMARY KEY(hour, isp))"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS isp_host_day(day INTEGER NOT NULL,"
    " isp TEXT NOT NULL, host TEXT NOT NULL," AGG_COLUMNS ","
    " PRIMARY KEY(day, isp, host)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS isp_ip_day(day INTEGER NOT NULL,"
    " isp TEXT NOT NULL, source_ip TEXT NOT NULL," AGG_COLUMNS ","
    " PRIMARY KEY(day, isp, source_ip)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS spools("
    " host TEXT NOT NULL, spool_id TEXT NOT NULL, applied TEXT NOT NULL,"
    " PRIMARY KEY(host, spool_id)) WITHOUT ROWID;";

/* Schema 1 had no aggregate tables: build them from rollup, once. */
static const char migrate_1_2_sql[] =
    "BEGIN IMMEDIATE;"
    "INSERT INTO isp_hour SELECT hour, isp, sum(delivered), sum(bounced),"
    " sum(deferred), sum(deferred_queue), sum(complaints),"
    " sum(remote_bounces), sum(sessions), sum(session_records), sum(bytes)"
    " FROM rollup GROUP BY hour, isp;"
    "INSERT INTO isp_host_day SELECT hour / 24, isp, host, sum(delivered),"
    " sum(bounced), sum(deferred), sum(deferred_queue), sum(complaints),"
    " sum(remote_bounces), sum(sessions), sum(session_records), sum(bytes)"
    " FROM rollup GROUP BY hour / 24, isp, host;"
    "INSERT INTO isp_ip_day SELECT hour / 24, isp, source_ip,"
    " sum(delivered), sum(bounced), sum(deferred), sum(deferred_queue),"
    " sum(complaints), sum(remote_bounces), sum(sessions),"
    " sum(session_records), sum(bytes)"
    " FROM rollup GROUP BY hour / 24, isp, source_ip;"
    "UPDATE meta SET value = '2' WHERE key = 'schema';"
    "COMMIT;";

static int	prepare(struct store *, sqlite3_stmt **, const char *);
static int	schema_version(struct store *);
static int	load_spools(struct store *);
static struct spool_state *spool_get(struct store *, const char *,
		    const char *, int);
static uint32_t	spool_hash(const char *, size_t, const char *, size_t);
static void	index_grow(struct store *);
static void	ranges_room(struct spool_state *);
static int	ranges_parse(struct spool_state *, const char *);
static int	ranges_add(struct spool_state *, uint64_t);
static int	ranges_has(const struct spool_state *, uint64_t);
static void	spools_free(struct store *);

static int
prepare(struct store *s, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	    NULL) != SQLITE_OK) {
		log_warnx("sqlite prepare: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

static int
schema_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = "
	    "'schema'", -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

struct store *
store_open(const char *path, int readonly)
{
	struct store *s;
	char *err = NULL;
	int flags;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("store");
	flags = readonly ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK) {
		log_warnx("%s: %s", path, s->db ? sqlite3_errmsg(s->db) :
		    "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if (readonly)
		return s;
	if (sqlite3_exec(s->db, schema_sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("%s: schema: %s", path, err);
		sqlite3_free(err);
		goto fail;
	}
	if (schema_version(s) == 1) {
		log_info("%s: building the aggregate tables", path);
		if (sqlite3_exec(s->db, migrate_1_2_sql, NULL, NULL, &err) !=
		    SQLITE_OK) {
			log_warnx("%s: migration: %s", path, err);
			sqlite3_free(err);
			goto fail;
		}
	}
	if (prepare(s, &s->upsert_rollup,
	    "INSERT INTO rollup VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
	    "?13,?14,?15,?16,?17,?18,?19,?20,?21,?22) "
	    "ON CONFLICT(hour,isp,host,source_ip) DO UPDATE SET "
	    "delivered=delivered+?5, bounced=bounced+?6, deferred=deferred+?7,"
	    "deferred_queue=deferred_queue+?8, complaints=complaints+?9,"
	    "remote_bounces=remote_bounces+?10, sessions=sessions+?11,"
	    "session_records=session_records+?12, bytes=bytes+?13,"
	    "s1=s1+?14, s2=s2+?15, s4=s4+?16, s8=s8+?17, s16=s16+?18,"
	    "s32=s32+?19, s64=s64+?20, s128=s128+?21, s256=s256+?22") == -1 ||
	    prepare(s, &s->upsert_agg[0], "INSERT INTO isp_hour VALUES(?1,?2,"
	    "?4,?5,?6,?7,?8,?9,?10,?11,?12) ON CONFLICT(hour,isp) DO UPDATE "
	    "SET " AGG_UPDATE) == -1 ||
	    prepare(s, &s->upsert_agg[1], "INSERT INTO isp_host_day VALUES("
	    "?1/24,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12) ON CONFLICT(day,isp,"
	    "host) DO UPDATE SET " AGG_UPDATE) == -1 ||
	    prepare(s, &s->upsert_agg[2], "INSERT INTO isp_ip_day VALUES("
	    "?1/24,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12) ON CONFLICT(day,isp,"
	    "source_ip) DO UPDATE SET " AGG_UPDATE) == -1 ||
	    prepare(s, &s->upsert_host_hour,
	    "INSERT INTO host_hour VALUES(?1,?2,?3,?4,?5) "
	    "ON CONFLICT(hour,host) DO UPDATE SET received=received+?3,"
	    "remote_status=remote_status+?4, records=records+?5") == -1 ||
	    prepare(s, &s->upsert_gap,
	    "INSERT INTO gaps VALUES(?1,?2,?3,?4) "
	    "ON CONFLICT(host,hour) DO UPDATE SET dropped=dropped+?3,"
	    "reason=?4") == -1 ||
	    prepare(s, &s->upsert_host,
	    "INSERT INTO hosts VALUES(?1,?2,?3,1,?4,?5,?6,?7,?8,?9) "
	    "ON CONFLICT(host) DO UPDATE SET "
	    "last_batch=max(coalesce(last_batch,0),?2), last_seen=?3,"
	    "batches=batches+1, records=records+?4,"
	    "records_read=coalesce(?5,records_read),"
	    "rejected=coalesce(?6,rejected),"
	    "spool_bytes=coalesce(?7,spool_bytes),"
	    "dropped=coalesce(?8,dropped), started=coalesce(?9,started)") ==
	    -1 ||
	    prepare(s, &s->select_spool, "SELECT applied FROM spools "
	    "WHERE host = ?1 AND spool_id = ?2") == -1 ||
	    prepare(s, &s->upsert_spool,
	    "INSERT INTO spools VALUES(?1,?2,?3) "
	    "ON CONFLICT(host,spool_id) DO UPDATE SET applied=?3") == -1)
		goto fail;
	if (load_spools(s) == -1)
		goto fail;
	return s;
fail:
	store_close(s);
	return NULL;
}

static void
spools_free(struct store *s)
{
	size_t i;

	for (i = 0; i < s->nspools; i++)
		free(s->spools[i].r);
	free(s->spools);
	free(s->index);
	free(s->dirty);
	s->spools = NULL;
	s->index = NULL;
	s->dirty = NULL;
	s->nspools = s->cap = s->nindex = s->ndirty = 0;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->upsert_rollup);
	sqlite3_finalize(s->upsert_host_hour);
	sqlite3_finalize(s->upsert_agg[0]);
	sqlite3_finalize(s->upsert_agg[1]);
	sqlite3_finalize(s->upsert_agg[2]);
	sqlite3_finalize(s->upsert_gap);
	sqlite3_finalize(s->upsert_host);
	sqlite3_finalize(s->upsert_spool);
	sqlite3_finalize(s->select_spool);
	if (s->db != NULL)
		sqlite3_close(s->db);
	spools_free(s);
	free(s);
}

sqlite3 *
store_db(struct store *s)
{
	return s->db;
}

/* Room for one more range. */
static void
ranges_room(struct spool_state *sp)
{
	size_t nc;
	struct range *nr;

	if (sp->n < sp->cap)
		return;
	nc = sp->cap ? sp->cap * 2 : 4;
	if ((nr = reallocarray(sp->r, nc, sizeof(*nr))) == NULL)
		fatal("store");
	sp->r = nr;
	sp->cap = nc;
}

/* "1-500,502-900" */
static int
ranges_parse(struct spool_state *sp, const char *text)
{
	const char *p = text;
	char *end;
	unsigned long long lo, hi;

	while (*p != '\0') {
		lo = strtoull(p, &end, 10);
		if (end == p)
			return -1;
		hi = lo;
		p = end;
		if (*p == '-') {
			hi = strtoull(p + 1, &end, 10);
			if (end == p + 1)
				return -1;
			p = end;
		}
		if (hi < lo)
			return -1;
		ranges_room(sp);
		sp->r[sp->n].lo = lo;
		sp->r[sp->n].hi = hi;
		sp->n++;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return -1;
	}
	return 0;
}

static int
ranges_has(const struct spool_state *sp, uint64_t seq)
{
	size_t lo = 0, hi = sp->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (seq < sp->r[mid].lo)
			hi = mid;
		else if (seq > sp->r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/* Insert seq (known absent), merging with its neighbours. */
static int
ranges_add(struct spool_state *sp, uint64_t seq)
{
	size_t i = 0;

	while (i < sp->n && sp->r[i].hi < seq)
		i++;
	if (i > 0 && sp->r[i - 1].hi + 1 == seq) {
		sp->r[i - 1].hi = seq;
		if (i < sp->n && sp->r[i].lo == seq + 1) {
			sp->r[i - 1].hi = sp->r[i].hi;
			memmove(&sp->r[i], &sp->r[i + 1],
			    (sp->n - i - 1) * sizeof(*sp->r));
			sp->n--;
		}
		return 0;
	}
	if (i < sp->n && sp->r[i].lo == seq + 1) {
		sp->r[i].lo = seq;
		return 0;
	}
	ranges_room(sp);
	memmove(&sp->r[i + 1], &sp->r[i], (sp->n - i) * sizeof(*sp->r));
	sp->r[i].lo = sp->r[i].hi = seq;
	sp->n++;
	return 0;
}

static uint32_t
spool_hash(const char *host, size_t hl, const char *id, size_t il)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < hl; i++)
		h = (h ^ (unsigned char)host[i]) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (i = 0; i < il; i++)
		h = (h ^ (unsigned char)id[i]) * 16777619u;
	return h;
}

/* Rebuild the index at twice the size when it is half full. */
static void
index_grow(struct store *s)
{
	size_t i, j, n = s->nindex ? s->nindex * 2 : 64;
	uint32_t *ix;
	struct spool_state *sp;

	if ((ix = calloc(n, sizeof(*ix))) == NULL)
		fatal("store");
	for (i = 0; i < s->nspools; i++) {
		sp = &s->spools[i];
		for (j = spool_hash(sp->key, sp->hostlen, sp->key +
		    sp->hostlen + 1, strlen(sp->key + sp->hostlen + 1)) &
		    (n - 1); ix[j] != 0; j = (j + 1) & (n - 1))
			;
		ix[j] = (uint32_t)i + 1;
	}
	free(s->index);
	s->index = ix;
	s->nindex = n;
}

/*
 * The notes of (host, spool_id): from the cache, else from the spools
 * table, else (if create) new and empty.
 */
static struct spool_state *
spool_get(struct store *s, const char *host, const char *spool_id,
    int create)
{
	struct spool_state *sp;
	const unsigned char *applied = NULL;
	size_t j, hl = strlen(host), sl = strlen(spool_id);
	int rc;

	if (hl > 255 || sl > 64)
		return NULL;
	if (s->nindex > 0) {
		for (j = spool_hash(host, hl, spool_id, sl) & (s->nindex - 1);
		    s->index[j] != 0; j = (j + 1) & (s->nindex - 1)) {
			sp = &s->spools[s->index[j] - 1];
			if (sp->hostlen == hl &&
			    memcmp(sp->key, host, hl) == 0 &&
			    strcmp(sp->key + hl + 1, spool_id) == 0)
				return sp;
		}
	}
	sqlite3_bind_text(s->select_spool, 1, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->select_spool, 2, spool_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s->select_spool);
	if (rc == SQLITE_ROW)
		applied = sqlite3_column_text(s->select_spool, 0);
	else if (rc != SQLITE_DONE)
		log_warnx("sqlite spools: %s", sqlite3_errmsg(s->db));
	if (applied == NULL && !create) {
		sqlite3_reset(s->select_spool);
		return NULL;
	}
	if (s->nspools == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 16;
		struct spool_state *ns;

		if ((ns = reallocarray(s->spools, nc, sizeof(*ns))) == NULL)
			fatal("store");
		s->spools = ns;
		s->cap = nc;
	}
	sp = &s->spools[s->nspools++];
	memset(sp, 0, sizeof(*sp));
	memcpy(sp->key, host, hl);
	memcpy(sp->key + hl + 1, spool_id, sl + 1);
	sp->hostlen = hl;
	if (applied != NULL && ranges_parse(sp, (const char *)applied) == -1)
		log_warnx("spools table: bad notes for host %s spool %s; "
		    "starting them afresh", host, spool_id);
	sqlite3_reset(s->select_spool);
	if ((s->nspools + 1) * 2 > s->nindex)
		index_grow(s);
	else {
		for (j = spool_hash(host, hl, spool_id, sl) & (s->nindex - 1);
		    s->index[j] != 0; j = (j + 1) & (s->nindex - 1))
			;
		s->index[j] = (uint32_t)s->nspools;
	}
	return sp;
}

/* Forget the cached notes; they are read again from the table. */
static int
load_spools(struct store *s)
{
	spools_free(s);
	return 0;
}

int
store_seen(struct store *s, const char *host, const char *spool_id,
    uint64_t seq)
{
	struct spool_state *sp = spool_get(s, host, spool_id, 0);

	return sp != NULL && ranges_has(sp, seq);
}

int
store_begin(struct store *s)
{
	char *err = NULL;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &err) !=
	    SQLITE_OK) {
		log_warnx("sqlite begin: %s", err);
		sqlite3_free(err);
		return -1;
	}
	s->in_txn = 1;
	return 0;
}

int
store_mark(struct store *s, const char *host, const char *spool_id,
    uint64_t seq)
{
	struct spool_state *sp = spool_get(s, host, spool_id, 1);

	if (sp == NULL || ranges_has(sp, seq))
		return -1;
	ranges_add(sp, seq);
	if (!sp->dirty) {
		if ((s->dirty = reallocarray(s->dirty, s->ndirty + 1,
		    sizeof(*s->dirty))) == NULL)
			fatal("store");
		s->dirty[s->ndirty++] = (size_t)(sp - s->spools);
		sp->dirty = 1;
	}
	return 0;
}

static int
step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_warnx("sqlite %s: %s", what, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

int
store_batch_meta(struct store *s, const Mtascope__V1__Batch *b, int64_t now)
{
	const Mtascope__V1__AgentCounters *c = b->counters;
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < b->n_gaps; i++) {
		st = s->upsert_gap;
		sqlite3_bind_text(st, 1, b->host, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, b->gaps[i]->hour);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)b->gaps[i]->dropped);
		sqlite3_bind_text(st, 4, b->gaps[i]->reason, -1,
		    SQLITE_STATIC);
		if (step_done(s, st, "gap") == -1)
			return -1;
	}
	st = s->upsert_host;
	sqlite3_bind_text(st, 1, b->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, b->created);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, b->records != NULL ?
	    (sqlite3_int64)b->records->n_type : 0);
	if (c != NULL) {
		sqlite3_bind_int64(st, 5, (sqlite3_int64)c->records_read);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)c->rejected);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)c->spool_bytes);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)c->dropped);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)c->started);
	} else {
		for (i = 5; i <= 9; i++)
			sqlite3_bind_null(st, (int)i);
	}
	return step_done(s, st, "host");
}

int
store_write_rollup(struct store *s, const struct rollup *r,
    const struct isp_table *isps)
{
	const struct rollup_row *row;
	const struct host_row *hr;
	sqlite3_stmt *st = s->upsert_rollup;
	size_t i;
	int k, a;

	for (i = 0; (row = rollup_row_at(r, i)) != NULL; i++) {
		sqlite3_bind_int64(st, 1, row->hour);
		sqlite3_bind_text(st, 2, isp_name(isps, row->isp), -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 3, row->host, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, row->source_ip, -1, SQLITE_STATIC);
		for (k = 0; k < RC_NCOUNTERS; k++)
			sqlite3_bind_int64(st, 5 + k,
			    (sqlite3_int64)row->c[k]);
		if (step_done(s, st, "rollup") == -1)
			return -1;
		for (a = 0; a < 3; a++) {
			sqlite3_stmt *ag = s->upsert_agg[a];

			sqlite3_bind_int64(ag, 1, row->hour);
			sqlite3_bind_text(ag, 2, isp_name(isps, row->isp), -1,
			    SQLITE_STATIC);
			sqlite3_bind_text(ag, 3, a == 2 ? row->source_ip :
			    row->host, -1, SQLITE_STATIC);
			for (k = 0; k <= RC_BYTES; k++)
				sqlite3_bind_int64(ag, 4 + k,
				    (sqlite3_int64)row->c[k]);
			if (step_done(s, ag, "aggregates") == -1)
				return -1;
		}
	}
	st = s->upsert_host_hour;
	for (i = 0; (hr = rollup_host_row_at(r, i)) != NULL; i++) {
		sqlite3_bind_int64(st, 1, hr->hour);
		sqlite3_bind_text(st, 2, hr->host, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)hr->c[HC_RECEIVED]);
		sqlite3_bind_int64(st, 4,
		    (sqlite3_int64)hr->c[HC_REMOTE_STATUS]);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)hr->c[HC_RECORDS]);
		if (step_done(s, st, "host hour") == -1)
			return -1;
	}
	return 0;
}

int
store_commit(struct store *s)
{
	struct spool_state *sp;
	char *text = NULL, *err = NULL;
	size_t i, j, len, cap = 0;

	for (i = 0; i < s->ndirty; i++) {
		sp = &s->spools[s->dirty[i]];
		len = 0;
		if (cap < sp->n * 42 + 1) {
			cap = sp->n * 42 + 1;
			free(text);
			if ((text = malloc(cap)) == NULL)
				fatal("store");
		}
		text[0] = '\0';
		for (j = 0; j < sp->n; j++) {
			if (sp->r[j].lo == sp->r[j].hi)
				len += (size_t)snprintf(text + len, cap - len,
				    "%s%llu", j ? "," : "",
				    (unsigned long long)sp->r[j].lo);
			else
				len += (size_t)snprintf(text + len, cap - len,
				    "%s%llu-%llu", j ? "," : "",
				    (unsigned long long)sp->r[j].lo,
				    (unsigned long long)sp->r[j].hi);
		}
		sqlite3_bind_text(s->upsert_spool, 1, sp->key, -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(s->upsert_spool, 2, sp->key + sp->hostlen + 1,
		    -1, SQLITE_STATIC);
		sqlite3_bind_text(s->upsert_spool, 3, text, (int)len,
		    SQLITE_STATIC);
		if (step_done(s, s->upsert_spool, "spool") == -1) {
			free(text);
			store_rollback(s);
			return -1;
		}
	}
	free(text);
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("sqlite commit: %s", err);
		sqlite3_free(err);
		store_rollback(s);
		return -1;
	}
	s->in_txn = 0;
	for (i = 0; i < s->ndirty; i++)
		s->spools[s->dirty[i]].dirty = 0;
	s->ndirty = 0;
	if (s->nspools > SPOOL_CACHE_MAX)
		spools_free(s);
	return 0;
}

void
store_rollback(struct store *s)
{
	if (s->in_txn)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_txn = 0;
	/* The in-memory notes may include batches that were not committed. */
	if (load_spools(s) == -1)
		fatalx("cannot reload the applied-batch state");
}
