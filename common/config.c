/*
 * config.c: the configuration file reader.
 *
 * Deliberately plain: no includes, no quoting, no sections.  An operator
 * reads it at 3 a.m.; every line means one thing, and every mistake is
 * reported with its file and line, all of them at once, before the
 * program refuses to start.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CONFIG_MAX_LINE	4096

int
config_parse(const char *path, config_fn fn, void *arg)
{
	FILE *f;
	char line[CONFIG_MAX_LINE], *key, *value, *p, *end;
	const char *why;
	int lineno = 0, errors = 0;
	size_t n;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		n = strlen(line);
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			log_warnx("%s:%d: line longer than %d bytes", path,
			    lineno, CONFIG_MAX_LINE - 2);
			errors++;
			while (n == sizeof(line) - 1 && line[n - 1] != '\n' &&
			    fgets(line, sizeof(line), f) != NULL)
				n = strlen(line);
			continue;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		for (key = line; *key == ' ' || *key == '\t'; key++)
			;
		end = key + strlen(key);
		while (end > key && (end[-1] == '\n' || end[-1] == '\r' ||
		    end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*key == '\0')
			continue;
		for (value = key; *value != '\0' && *value != ' ' &&
		    *value != '\t'; value++)
			;
		if (*value != '\0') {
			*value++ = '\0';
			while (*value == ' ' || *value == '\t')
				value++;
		}
		why = "unknown setting";
		if (fn(arg, key, value, &why) == -1) {
			log_warnx("%s:%d: %s: %s", path, lineno, key, why);
			errors++;
		}
	}
	if (ferror(f)) {
		log_warn("%s", path);
		errors++;
	}
	fclose(f);
	return errors ? -1 : 0;
}
