/*
 * malloc_tune.h
 *	  glibc's malloc thresholds for the front end (malloc_tune.c).
 */
#ifndef FE_MALLOC_TUNE_H
#define FE_MALLOC_TUNE_H

#include <stddef.h>

/*
 * Blocks below bytes come from the heap, which keeps up to 2 x bytes free
 * (bytes <= 32 MiB); 0 leaves glibc's adaptive defaults.  Call once, before
 * any thread starts; logs a warning if glibc refuses.
 */
extern void fe_malloc_tune(size_t bytes);

#endif
