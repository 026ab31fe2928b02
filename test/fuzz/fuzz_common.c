/*-------------------------------------------------------------------------
 *
 * fuzz_common.c
 *	  The malloc-backed arena and the limits of the payload decoder's
 *	  libFuzzer harnesses (fuzz_decode.c, fuzz_scan.c).
 *
 * Each block handed to the arena is its own malloc(), so AddressSanitizer
 * sees a read past any of them; the blocks of one input are kept in a list
 * and freed when the input is done, so the leak check covers the harness too.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"

#include <string.h>

#define BLOCK_HEADER	((sizeof(FuzzBlock) + 15) & ~(size_t) 15)

const PhaDecodeLimits fuzz_server_limits = {
	.max_payload_bytes = 16 * 1024 * 1024,
	.max_series = 1000000,
	.max_labels = 128,
	.max_label_name_len = 256,
	.max_label_value_len = 16384,
	.max_amplification = 16,	/* as the server (ingest.c) */
};

const PhaDecodeLimits fuzz_tight_limits = {
	.max_payload_bytes = 4096,
	.max_series = 8,
	.max_labels = 6,
	.max_label_name_len = 16,
	.max_label_value_len = 32,
	.max_amplification = 16,
};

/* PhaBlockAllocFn over malloc, with an optional budget; NULL once it is spent. */
void *
fuzz_block_alloc(void *ctx, size_t size)
{
	FuzzAlloc  *fa = ctx;
	FuzzBlock  *b;

	if (fa->limited && (size > fa->budget || fa->used > fa->budget - size))
		return NULL;
	b = malloc(BLOCK_HEADER + size);
	if (b == NULL)
		return NULL;
	b->next = fa->blocks;
	b->size = size;
	fa->blocks = b;
	fa->used += size;
	return (char *) b + BLOCK_HEADER;
}

/* Free every block handed out for one input. */
void
fuzz_free_blocks(FuzzAlloc *fa)
{
	while (fa->blocks)
	{
		FuzzBlock  *next = fa->blocks->next;

		free(fa->blocks);
		fa->blocks = next;
	}
	fa->used = 0;
}

/* Is the environment variable set to something other than "" or "0"? */
bool
fuzz_env_flag(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}
