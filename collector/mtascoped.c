/*
 * mtascoped.c: the mtascope collector.
 *
 * It will accept Batch frames from mtascope-pipe over nng and keep hourly
 * per-ISP rollups in SQLite.  This build only identifies itself; starting
 * it as a service is refused so that nothing mistakes it for a collector
 * that stores data.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"

int
main(int argc, char **argv)
{
	log_init("mtascoped", 0);
	if (argc == 2 && (strcmp(argv[1], "-V") == 0 ||
	    strcmp(argv[1], "--version") == 0)) {
		printf("mtascoped 0.1.0\n");
		return 0;
	}
	log_warnx("the collector service is not available in this build");
	return 2;
}
