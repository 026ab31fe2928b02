/*-------------------------------------------------------------------------
 *
 * malloc_tune.c
 *	  glibc's malloc thresholds for the front end, set once at start.
 *
 * glibc hands allocations of 128 kB and more to mmap() and gives the top of
 * a heap back to the kernel once 128 kB of it is free, until the process
 * frees a larger mmap()-ed block; then both thresholds follow that size (up
 * to 32 MB).  A SAMPLES answer is held three times over (libpq's input
 * buffer, the result's value, libmicrohttpd's copy), so with that rule a
 * worker thread's heap was trimmed after every large answer and the next
 * one faulted its pages in again: 369 page faults and 7.9 ms of front-end
 * CPU to pass on an 800 kB answer, 9,000 and 239 ms for 18 MB; with the
 * thresholds at 32 MB, none once the thread's heap has grown: 1.5 and 16 ms.
 *
 * --malloc-mmap-threshold sets the point glibc's own rule would reach
 * after a block of that size (as promscale_ha.malloc_mmap_threshold does in
 * the database): blocks below it come from a heap, and each heap keeps up
 * to twice it free at its top.  0 leaves glibc's adaptive rule.  On a C
 * library other than glibc this does nothing.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>				/* first: defines __GLIBC__ on glibc */
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "log.h"
#include "malloc_tune.h"

void
fe_malloc_tune(size_t bytes)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
	if (bytes == 0)
		return;
	if (mallopt(M_MMAP_THRESHOLD, (int) bytes) != 1 ||
		mallopt(M_TRIM_THRESHOLD, (int) (2 * bytes)) != 1)
		fe_log(FE_LOG_WARNING, "--malloc-mmap-threshold: glibc refused %zu bytes; its defaults stay",
			   bytes);
#else
	(void) bytes;
#endif
}
