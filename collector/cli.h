/*
 * cli.h: the subcommands of mtascope(1), each in its own file.
 */
#ifndef MTASCOPE_CLI_H
#define MTASCOPE_CLI_H

#include <sqlite3.h>

#define CLI_DEFAULT_DB	"/var/lib/mtascope/mtascope.db"

/* Open the collector's database read-only, or exit with a message. */
sqlite3	*cli_open_db(const char *path);

int	cmd_export(int, char **);
int	cmd_gaps(int, char **);
int	cmd_hosts(int, char **);
int	cmd_report(int, char **);
int	cmd_trend(int, char **);
int	cmd_alerts(int, char **);

#endif
