/*
 * maint.h: mtascoped's periodic work: alert evaluation and retention.
 */
#ifndef MTASCOPE_MAINT_H
#define MTASCOPE_MAINT_H

#include "ingest.h"

#define RETENTION_DEFAULT	400
#define RETENTION_MIN		30

struct maint;

struct maint	*maint_start(const char *dbpath, int retention_days,
		    struct ingest *);
/* Evaluate now (SIGHUP). */
void		 maint_kick(struct maint *);
void		 maint_stop(struct maint *);

#endif
