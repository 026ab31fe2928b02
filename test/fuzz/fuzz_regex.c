/*-------------------------------------------------------------------------
 *
 * fuzz_regex.c
 *	  libFuzzer harness for the RE2 -> PostgreSQL regex translation
 *	  (src/wire/regex.c), whose input is a remote-read request's matcher
 *	  value: untrusted bytes.
 *
 * Any input must give OK or a refusal, never a crash, an overread or
 * unbounded work.  Invariants: OK comes with a NUL-terminated result
 * anchored as ^(?: ... )$ and no reason; a refusal with a reason and no
 * result; the translation is deterministic (the same input twice, the same
 * answer); and the first input byte, when bit 0 is set, puts the arena on a
 * small budget, where running out must be reported as NO_MEMORY, not crash.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "wire/regex.h"

/* Translate re once with its own arena; the result copied out (malloc), or NULL. */
static PhaRegexStatus
translate(const char *re, size_t len, bool tight, char **copy, const char **why)
{
	FuzzAlloc	fa = {0};
	PhaArena	arena;
	char	   *are = NULL;
	PhaRegexStatus st;

	fa.limited = tight;
	fa.budget = tight ? 4096 : 0;
	pha_arena_init(&arena, fuzz_block_alloc, &fa);
	st = pha_re2_to_are(re, len, &arena, &are, why);
	*copy = NULL;
	if (st == PHA_REGEX_OK)
	{
		CHECK(are != NULL, "OK without a result");
		CHECK(*why == NULL, "OK with a reason: %s", *why);
		*copy = strdup(are);
	}
	else if (st == PHA_REGEX_REFUSED)
	{
		CHECK(are == NULL, "a refusal with a result");
		CHECK(*why != NULL && (*why)[0] != '\0', "a refusal without a reason");
	}
	else
		CHECK(st == PHA_REGEX_NO_MEMORY && tight, "status %d with an unlimited arena", (int) st);
	fuzz_free_blocks(&fa);
	return st;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool		tight;
	char	   *a,
			   *b;
	const char *why_a,
			   *why_b;
	PhaRegexStatus st_a,
				st_b;

	if (size == 0)
		return 0;
	tight = (data[0] & 1) != 0;
	st_a = translate((const char *) data + 1, size - 1, tight, &a, &why_a);
	st_b = translate((const char *) data + 1, size - 1, tight, &b, &why_b);
	CHECK(st_a == st_b, "not deterministic: %d then %d", (int) st_a, (int) st_b);
	if (a != NULL)
	{
		size_t		n = strlen(a);

		CHECK(n >= 6 && strncmp(a, "^(?:", 4) == 0 && strcmp(a + n - 2, ")$") == 0,
			  "result not anchored: %s", a);
		CHECK(b != NULL && strcmp(a, b) == 0, "not deterministic: %s vs %s", a, b ? b : "(null)");
	}
	free(a);
	free(b);
	return 0;
}
