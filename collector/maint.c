/*
 * maint.c: the collector's housekeeping thread.
 *
 * Alerts are evaluated once an hour, at start, on SIGHUP, and a few
 * seconds after a burst of ingest goes quiet (so a backfill or a returning
 * host is reviewed at once rather than up to an hour later).  Each run
 * evaluates every complete day not yet evaluated, and prunes rollups older
 * than the retention.  It uses its own SQLite connection: in WAL mode its
 * reads never block the ingest, and its short writes wait their turn.
 */
#include "maint.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "alerts.h"
#include "log.h"

#define QUIET_SECONDS	2
#define HOURLY		3600

struct maint {
	sqlite3		*db;
	struct ingest	*ingest;
	int		 retention_days;
	pthread_t	 thread;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	int		 stop;
	int		 kick;
};

static void	*maint_main(void *);
static void	 maint_run(struct maint *);

static void
maint_run(struct maint *m)
{
	int64_t today = time(NULL) / 86400, cut, day;
	char *err = NULL, sql[512];
	int active, before;

	if ((day = ingest_take_earliest_day(m->ingest)) >= 0)
		alerts_reopen(m->db, day);
	if ((active = alerts_update(m->db, today - 1)) >= 0)
		log_info("alerts: evaluated through yesterday: %d firing",
		    active);
	cut = (today - m->retention_days) * 24;
	snprintf(sql, sizeof(sql), "DELETE FROM rollup WHERE hour < %lld;"
	    "DELETE FROM host_hour WHERE hour < %lld;"
	    "DELETE FROM gaps WHERE hour < %lld;"
	    "DELETE FROM isp_hour WHERE hour < %lld;"
	    "DELETE FROM isp_host_day WHERE day < %lld;"
	    "DELETE FROM isp_ip_day WHERE day < %lld", (long long)cut,
	    (long long)cut, (long long)cut, (long long)cut,
	    (long long)(cut / 24), (long long)(cut / 24));
	before = sqlite3_total_changes(m->db);
	if (sqlite3_exec(m->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("retention: %s", err);
		sqlite3_free(err);
	} else if (sqlite3_total_changes(m->db) > before)
		log_info("retention: pruned %d rows older than %d days",
		    sqlite3_total_changes(m->db) - before, m->retention_days);
}

static void *
maint_main(void *arg)
{
	struct maint *m = arg;
	struct ingest_stats st;
	struct timespec dl;
	time_t last_run = 0, last_change = 0;
	uint64_t commits = 0;
	int changed = 0, run;

	pthread_mutex_lock(&m->mtx);
	while (!m->stop) {
		run = m->kick || time(NULL) - last_run >= HOURLY;
		m->kick = 0;
		ingest_get_stats(m->ingest, &st);
		if (st.commits != commits) {
			commits = st.commits;
			last_change = time(NULL);
			changed = 1;
		} else if (changed && time(NULL) - last_change >=
		    QUIET_SECONDS)
			run = 1;
		if (run) {
			changed = 0;
			last_run = time(NULL);
			pthread_mutex_unlock(&m->mtx);
			maint_run(m);
			pthread_mutex_lock(&m->mtx);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 1;
		pthread_cond_timedwait(&m->cond, &m->mtx, &dl);
	}
	pthread_mutex_unlock(&m->mtx);
	return NULL;
}

struct maint *
maint_start(const char *dbpath, int retention_days, struct ingest *in)
{
	struct maint *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("maint");
	if (sqlite3_open_v2(dbpath, &m->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		fatalx("%s: %s", dbpath, sqlite3_errmsg(m->db));
	sqlite3_busy_timeout(m->db, 30000);
	m->ingest = in;
	m->retention_days = retention_days;
	pthread_mutex_init(&m->mtx, NULL);
	pthread_cond_init(&m->cond, NULL);
	if (pthread_create(&m->thread, NULL, maint_main, m) != 0)
		fatal("maintenance thread");
	return m;
}

void
maint_kick(struct maint *m)
{
	pthread_mutex_lock(&m->mtx);
	m->kick = 1;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->mtx);
}

void
maint_stop(struct maint *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mtx);
	m->stop = 1;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->mtx);
	pthread_join(m->thread, NULL);
	sqlite3_close(m->db);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->mtx);
	free(m);
}
