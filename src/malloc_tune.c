/*-------------------------------------------------------------------------
 *
 * malloc_tune.c
 *	  glibc's malloc thresholds for every backend, set once in the postmaster.
 *
 * glibc hands allocations of 128 kB and more to mmap() and gives the top of
 * its heap back to the kernel once 128 kB of it is free, until the process
 * frees a larger mmap()-ed block: then both thresholds follow that size (up
 * to 32 MB).  A young backend therefore faults in fresh pages for every
 * large palloc block, each request again: a remote read's frames, a
 * SAMPLES response growing by doubling, printtup's copy of each row, a
 * write()'s decoded request.  On the benchmark's machine that was half of a
 * 100-series read's CPU in a new connection (9.5 ms against 3.4-5.0 ms for
 * the SAMPLES response; 2.0 against 1.5-1.6 ms streamed).
 *
 * promscale_ha.malloc_mmap_threshold sets, when the library is preloaded,
 * the point glibc's own rule would reach after a block of that size: blocks
 * below it come from the heap, and the heap keeps up to twice it free at
 * its top.  The default, 32 MB, is where glibc's rule stops: setting the
 * thresholds ends the rule, so a smaller value would also keep larger blocks
 * on mmap() for good (4 MB made a 100,000-series write() take 450 ms of CPU
 * instead of 230).  The setting is the postmaster's, inherited by every
 * process it forks; 0 leaves glibc's adaptive defaults.  A backend keeps at
 * most its own peak of freed memory, as glibc's rule lets it do anyway.  On
 * a C library other than glibc this does nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "guc.h"
#include "malloc_tune.h"

void
pha_malloc_tune(void)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
	int			bytes;

	if (pha_malloc_mmap_threshold_kb <= 0)
		return;
	bytes = pha_malloc_mmap_threshold_kb * 1024;
	if (mallopt(M_MMAP_THRESHOLD, bytes) != 1 || mallopt(M_TRIM_THRESHOLD, 2 * bytes) != 1)
		ereport(WARNING,
				(errmsg("promscale_ha.malloc_mmap_threshold: glibc refused %d kB; its defaults stay",
						pha_malloc_mmap_threshold_kb)));
#endif
}
