/*
 * isp.c: the ISP table and the classification rule of design.md.
 *
 * A recipient domain matches a listed domain exactly or as a subdomain;
 * failing that, the remote MX host matches a listed MX suffix (how a
 * business domain hosted at Google or Microsoft is recognised); failing
 * that, the ISP is "other".  Both lookups walk the name label by label
 * against open-addressing hash sets, so classification costs a few hash
 * probes, and the collector calls it once per distinct domain in a batch.
 *
 * The table is text (isp.conf(5)); the shipped one is compiled in, and an
 * operator's file extends or replaces it.  A later entry for the same name
 * wins, so a site can move a domain from one ISP to another.
 */
#include "isp.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "isp_default.h"
#include "log.h"

#define ISP_MAX		250

struct name_set {
	char		**keys;
	uint8_t		 *isp;
	size_t		  n;
	size_t		  cap;		/* power of two */
};

struct isp_table {
	char		 names[ISP_MAX][ISP_MAX_NAME + 1];
	int		 nisp;
	struct name_set	 domains;
	struct name_set	 mx;
};

static uint32_t	set_hash(const char *, size_t);
static int	set_find(const struct name_set *, const char *, size_t);
static int	set_put(struct name_set *, const char *, int);
static void	set_free(struct name_set *);
static int	isp_index(struct isp_table *, const char *);
static int	parse_line(struct isp_table *, char *, const char *, int,
		    int *);
static int	parse_text(struct isp_table **, const char *, const char *);
static int	match_walk(const struct name_set *, const char *, size_t);

static uint32_t
set_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* ISP index of the exact name s[0..n), or -1. */
static int
set_find(const struct name_set *set, const char *s, size_t n)
{
	size_t i, mask;

	if (set->cap == 0)
		return -1;
	mask = set->cap - 1;
	for (i = set_hash(s, n) & mask; set->keys[i] != NULL;
	    i = (i + 1) & mask)
		if (strncmp(set->keys[i], s, n) == 0 && set->keys[i][n] == '\0')
			return set->isp[i];
	return -1;
}

static int
set_put(struct name_set *set, const char *key, int isp)
{
	size_t i, mask, n = strlen(key);

	if ((set->n + 1) * 2 > set->cap) {
		struct name_set bigger = { 0 };
		size_t j;

		bigger.cap = set->cap ? set->cap * 2 : 64;
		if ((bigger.keys = calloc(bigger.cap, sizeof(char *))) ==
		    NULL || (bigger.isp = calloc(bigger.cap, 1)) == NULL) {
			free(bigger.keys);
			return -1;
		}
		for (j = 0; j < set->cap; j++) {
			if (set->keys[j] == NULL)
				continue;
			mask = bigger.cap - 1;
			for (i = set_hash(set->keys[j],
			    strlen(set->keys[j])) & mask;
			    bigger.keys[i] != NULL; i = (i + 1) & mask)
				;
			bigger.keys[i] = set->keys[j];
			bigger.isp[i] = set->isp[j];
		}
		bigger.n = set->n;
		free(set->keys);
		free(set->isp);
		*set = bigger;
	}
	mask = set->cap - 1;
	for (i = set_hash(key, n) & mask; set->keys[i] != NULL;
	    i = (i + 1) & mask) {
		if (strcmp(set->keys[i], key) == 0) {
			set->isp[i] = (uint8_t)isp;
			return 0;
		}
	}
	if ((set->keys[i] = strdup(key)) == NULL)
		return -1;
	set->isp[i] = (uint8_t)isp;
	set->n++;
	return 0;
}

static void
set_free(struct name_set *set)
{
	size_t i;

	for (i = 0; i < set->cap; i++)
		free(set->keys[i]);
	free(set->keys);
	free(set->isp);
	memset(set, 0, sizeof(*set));
}

static int
isp_index(struct isp_table *t, const char *name)
{
	int i;

	for (i = 0; i < t->nisp; i++)
		if (strcmp(t->names[i], name) == 0)
			return i;
	if (t->nisp >= ISP_MAX)
		return -1;
	strlcpy(t->names[t->nisp], name, sizeof(t->names[0]));
	return t->nisp++;
}

/* "google domain gmail.com googlemail.com"; where is "file:line". */
static int
parse_line(struct isp_table *t, char *line, const char *file, int lineno,
    int *replace)
{
	char *word, *name, *kind, *p;
	size_t i;
	int isp, nvalues = 0;

	if ((p = strchr(line, '#')) != NULL)
		*p = '\0';
	p = line;
	if ((name = strsep(&p, " \t\r")) == NULL)
		return 0;
	while (*name == '\0' && p != NULL)
		name = strsep(&p, " \t\r");
	if (*name == '\0')
		return 0;
	if (strcmp(name, "replace-defaults") == 0) {
		*replace = 1;
		return 0;
	}
	if (strlen(name) > ISP_MAX_NAME) {
		log_warnx("%s:%d: ISP name longer than %d bytes", file, lineno,
		    ISP_MAX_NAME);
		return -1;
	}
	for (i = 0; name[i] != '\0'; i++) {
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) &&
		    strchr("-_.", name[i]) == NULL) {
			log_warnx("%s:%d: ISP name \"%s\": use a-z, 0-9, "
			    "'-', '_' and '.'", file, lineno, name);
			return -1;
		}
	}
	do
		kind = strsep(&p, " \t\r");
	while (kind != NULL && *kind == '\0');
	if (kind == NULL || (strcmp(kind, "domain") != 0 &&
	    strcmp(kind, "mx") != 0)) {
		log_warnx("%s:%d: expected \"domain\" or \"mx\" after \"%s\"",
		    file, lineno, name);
		return -1;
	}
	if ((isp = isp_index(t, name)) == -1) {
		log_warnx("%s:%d: more than %d ISPs", file, lineno, ISP_MAX);
		return -1;
	}
	while ((word = strsep(&p, " \t\r")) != NULL) {
		if (*word == '\0')
			continue;
		for (i = 0; word[i] != '\0'; i++)
			word[i] = (char)tolower((unsigned char)word[i]);
		while (i > 0 && word[i - 1] == '.')
			word[--i] = '\0';
		if (i == 0 || i > 255) {
			log_warnx("%s:%d: bad %s name", file, lineno, kind);
			return -1;
		}
		if (set_put(kind[0] == 'd' ? &t->domains : &t->mx, word,
		    isp) == -1)
			fatal("isp table");
		nvalues++;
	}
	if (nvalues == 0) {
		log_warnx("%s:%d: no %s names for \"%s\"", file, lineno, kind,
		    name);
		return -1;
	}
	return 0;
}

static int
parse_text(struct isp_table **tp, const char *text, const char *file)
{
	struct isp_table *t = *tp;
	char *copy, *p, *line;
	int lineno = 0, replace = 0, rc = 0;

	if ((copy = strdup(text)) == NULL)
		fatal("isp table");
	/* A replace-defaults line anywhere applies to the whole file. */
	for (p = copy; (line = strsep(&p, "\n")) != NULL;) {
		char *q = line;

		while (*q == ' ' || *q == '\t')
			q++;
		if (strncmp(q, "replace-defaults", 16) == 0)
			replace = 1;
	}
	free(copy);
	if (replace) {
		isp_table_free(t);
		if ((t = calloc(1, sizeof(*t))) == NULL)
			fatal("isp table");
		isp_index(t, "other");
		*tp = t;
	}
	if ((copy = strdup(text)) == NULL)
		fatal("isp table");
	for (p = copy; (line = strsep(&p, "\n")) != NULL;) {
		lineno++;
		if (parse_line(t, line, file, lineno, &replace) == -1)
			rc = -1;
	}
	free(copy);
	return rc;
}

struct isp_table *
isp_table_default(void)
{
	struct isp_table *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		fatal("isp table");
	isp_index(t, "other");
	if (parse_text(&t, isp_default_conf, "isp.conf (built in)") == -1)
		fatalx("the built-in ISP table is invalid");
	return t;
}

int
isp_table_load(struct isp_table **tp, const char *path)
{
	FILE *f;
	char *text;
	size_t len;
	int rc;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	if ((text = calloc(1, 1024 * 1024 + 1)) == NULL)
		fatal("isp table");
	len = fread(text, 1, 1024 * 1024 + 1, f);
	if (ferror(f) || len > 1024 * 1024) {
		log_warnx("%s: %s", path, ferror(f) ? strerror(errno) :
		    "larger than 1 MiB");
		fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	text[len] = '\0';
	rc = parse_text(tp, text, path);
	free(text);
	return rc;
}

void
isp_table_free(struct isp_table *t)
{
	if (t == NULL)
		return;
	set_free(&t->domains);
	set_free(&t->mx);
	free(t);
}

/* The name itself, then each parent domain in turn. */
static int
match_walk(const struct name_set *set, const char *s, size_t n)
{
	const char *dot;
	int isp;

	while (n > 0) {
		if ((isp = set_find(set, s, n)) != -1)
			return isp;
		if ((dot = memchr(s, '.', n)) == NULL)
			break;
		n -= (size_t)(dot + 1 - s);
		s = dot + 1;
	}
	return -1;
}

int
isp_classify(const struct isp_table *t, const char *domain, size_t dlen,
    const char *mta, size_t mlen)
{
	int isp;

	if ((isp = match_walk(&t->domains, domain, dlen)) != -1)
		return isp;
	if ((isp = match_walk(&t->mx, mta, mlen)) != -1)
		return isp;
	return ISP_OTHER;
}

const char *
isp_name(const struct isp_table *t, int i)
{
	return (i >= 0 && i < t->nisp) ? t->names[i] : "other";
}

int
isp_count(const struct isp_table *t)
{
	return t->nisp;
}
