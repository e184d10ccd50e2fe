/*
 * crc32c.c: CRC-32C with the SSE4.2 instruction when the CPU has it and a
 * table otherwise.  None of the project's libraries exports CRC-32C (zlib's
 * crc32 is the other polynomial), and CRC-32C is what the spool promises:
 * the hardware instruction makes checksumming cost less than the write.
 * The table is built by a constructor, before any thread can ask.
 */
#include "crc32c.h"

#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define HAVE_SSE42_PATH 1
#endif

static uint32_t	crc_table[256];
static int	crc_hw;

static void	crc_init(void) __attribute__((constructor));
static uint32_t	crc_sw(uint32_t, const unsigned char *, size_t);

static void
crc_init(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
#ifdef HAVE_SSE42_PATH
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t
crc_sw(uint32_t crc, const unsigned char *p, size_t n)
{
	while (n-- > 0)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#ifdef HAVE_SSE42_PATH
__attribute__((target("sse4.2")))
static uint32_t
crc_hw_run(uint32_t crc, const unsigned char *p, size_t n)
{
	uint64_t c = crc, w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		c = _mm_crc32_u64(c, w);
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return (uint32_t)c;
}
#endif

uint32_t
crc32c(uint32_t crc, const void *p, size_t n)
{
	crc = ~crc;
#ifdef HAVE_SSE42_PATH
	if (crc_hw)
		return ~crc_hw_run(crc, p, n);
#endif
	return ~crc_sw(crc, p, n);
}
