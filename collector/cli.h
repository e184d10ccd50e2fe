/*
 * cli.h: the subcommands of mtascope(1), each in its own file.
 */
#ifndef MTASCOPE_CLI_H
#define MTASCOPE_CLI_H

#include <stdint.h>

#include <sqlite3.h>

#define CLI_DEFAULT_DB	"/var/lib/mtascope/mtascope.db"

/* Open the collector's database read-only, or exit with a message. */
sqlite3	*cli_open_db(const char *path);
/* Parse a YYYY-MM-DD option value into days; -1 after saying what is
 * wrong, naming the subcommand and the option. */
int	cli_day_arg(const char *cmd, const char *opt, const char *s,
	    int64_t *day);
/* Format a day number as YYYY-MM-DD into buf (at least 32 bytes). */
void	cli_day_str(int64_t day, char *buf);

int	cmd_export(int, char **);
int	cmd_gaps(int, char **);
int	cmd_hosts(int, char **);
int	cmd_report(int, char **);
int	cmd_trend(int, char **);
int	cmd_alerts(int, char **);

#endif
