/*-------------------------------------------------------------------------
 *
 * fuzz_common.h
 *	  What the libFuzzer harnesses of the payload decoder share: the input's
 *	  mode byte, the limits, a malloc-backed arena, and CHECK().
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_FUZZ_COMMON_H
#define PHA_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "wire/decode.h"

/*
 * Every input is one mode byte and a body; the harnesses read the bits below
 * the same way, so that they share one corpus (test/fuzz/corpus).
 */
#define FUZZ_MODE_RAW_PROTOBUF	0x01	/* body is bare protobuf, not snappy */
#define FUZZ_MODE_TIGHT_LIMITS	0x02	/* fuzz_tight_limits, not the server's */
#define FUZZ_MODE_BIT2			0x04	/* each harness's own use */

/* Stop the fuzzer with a message naming the broken promise (clang's __FILE_NAME__). */
#define CHECK(cond, ...) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "%s:%d: invariant violated: ", __FILE_NAME__, __LINE__); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
			abort(); \
		} \
	} while (0)

/* Header in front of every arena block: the blocks of one input form a list. */
typedef struct FuzzBlock
{
	struct FuzzBlock *next;
	size_t		size;
} FuzzBlock;

/* The ctx of fuzz_block_alloc: the blocks of one input, and a budget. */
typedef struct FuzzAlloc
{
	FuzzBlock  *blocks;
	size_t		used;
	bool		limited;		/* is there a budget? */
	size_t		budget;			/* bytes that fuzz_block_alloc may hand out */
} FuzzAlloc;

/* The server's default limits, but 16 MiB a payload instead of 64 (speed). */
extern const PhaDecodeLimits fuzz_server_limits;

/* Limits small enough for the fuzzer to cross each one often. */
extern const PhaDecodeLimits fuzz_tight_limits;

extern void *fuzz_block_alloc(void *ctx, size_t size);
extern void fuzz_free_blocks(FuzzAlloc *fa);
extern bool fuzz_env_flag(const char *name);

#endif							/* PHA_FUZZ_COMMON_H */
