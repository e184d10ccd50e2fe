/*
 * mtascope.c: the command-line reader of the collector's rollups.
 *
 * This build only identifies itself; its subcommands (export, report,
 * trend, alerts, gaps, hosts) come with the collector's store.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"

int
main(int argc, char **argv)
{
	log_init("mtascope", 0);
	if (argc == 2 && (strcmp(argv[1], "-V") == 0 ||
	    strcmp(argv[1], "--version") == 0)) {
		printf("mtascope 0.1.0\n");
		return 0;
	}
	log_warnx("no subcommands are available in this build");
	return 2;
}
