/*
 * isp.h: which mailbox provider a recipient domain (or its MX) belongs to.
 */
#ifndef MTASCOPE_ISP_H
#define MTASCOPE_ISP_H

#include <stddef.h>

#define ISP_OTHER	0		/* index of "other" */
#define ISP_MAX_NAME	32

struct isp_table;

/* The table shipped with mtascope (collector/isp.conf, compiled in). */
struct isp_table	*isp_table_default(void);
/*
 * Add the entries of a file to t (or, with "replace-defaults" in it, start
 * from an empty table).  Returns 0, or -1 after logging "file:line: why".
 */
int			 isp_table_load(struct isp_table **t, const char *path);
void			 isp_table_free(struct isp_table *);

/* ISP index for a recipient domain and MX host (either may be empty). */
int			 isp_classify(const struct isp_table *,
			    const char *domain, size_t dlen,
			    const char *mta, size_t mlen);
const char		*isp_name(const struct isp_table *, int);
int			 isp_count(const struct isp_table *);

#endif
