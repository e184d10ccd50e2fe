/*
 * fuzz_batch.c: libFuzzer target for mtascoped's frame decoder and
 * validator, the collector's border with the network.
 *
 * Any input must either be refused with a reason or come out as a batch
 * that the rollup code can fold without reading out of bounds: every
 * string index, column length and count that validate_batch() lets
 * through is then exercised by rollup_add_batch().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isp.h"
#include "rollup.h"
#include "validate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct isp_table	*isps;
static struct rollup	*rollup;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Mtascope__V1__Batch *b;
	char why[256], host[256];

	if (isps == NULL) {
		isps = isp_table_default();
		rollup = rollup_new(isps);
	}
	b = validate_batch(data, size, why, sizeof(why), host, sizeof(host));
	if (b == NULL) {
		if (why[0] == '\0')
			abort();	/* a refusal always says why */
		return 0;
	}
	rollup_clear(rollup);
	rollup_add_batch(rollup, b);
	validate_free(b);
	return 0;
}
