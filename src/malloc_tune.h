/*-------------------------------------------------------------------------
 *
 * malloc_tune.h
 *	  glibc's malloc thresholds for every backend (malloc_tune.c says why).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_MALLOC_TUNE_H
#define PHA_MALLOC_TUNE_H

/*
 * Apply promscale_ha.malloc_mmap_threshold to this process (call in the
 * postmaster, while preloading: its children inherit it).  A refusal is a
 * WARNING and leaves glibc's defaults.
 */
extern void pha_malloc_tune(void);

#endif							/* PHA_MALLOC_TUNE_H */
