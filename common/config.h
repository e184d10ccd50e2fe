/*
 * config.h: "key value" configuration files, shared by mtascope-pipe and
 * mtascoped.  Each program supplies the keys it knows.
 */
#ifndef MTASCOPE_CONFIG_H
#define MTASCOPE_CONFIG_H

/*
 * Called for each setting; returns 0, or -1 after setting *why (a static
 * string) to reject the value.
 */
typedef int	(*config_fn)(void *arg, const char *key, const char *value,
		    const char **why);

/*
 * Parse path: one setting per line, '#' starts a comment, the key is the
 * first word and the value the rest of the line (trimmed).  Every error is
 * logged as "file:line: reason"; returns 0 only if there was none.
 */
int	config_parse(const char *path, config_fn, void *arg);

#endif
