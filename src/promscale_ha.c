/*-------------------------------------------------------------------------
 *
 * promscale_ha.c
 *	  Library entry point: _PG_init hands off to one init function per
 *	  subsystem.
 *
 * Loaded by shared_preload_libraries, the library also sets up shared memory
 * (the lease state) and the background worker.  Loaded on demand (no
 * preload), ingest of non-HA series works, and whatever needs shared memory
 * says so with an error that names shared_preload_libraries.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "guc.h"
#include "ha/cluster_stats.h"
#include "ha/lease_state.h"
#include "malloc_tune.h"
#include "store/late.h"
#include "store/partition.h"
#include "store/series.h"
#include "shmem.h"
#include "stats.h"
#include "worker/worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	pha_guc_init();
	pha_series_init();
	pha_partition_init();
	pha_late_init();
	pha_lease_state_init();
	pha_stats_init();
	pha_cluster_stats_init();
	if (process_shared_preload_libraries_in_progress)
	{
		pha_malloc_tune();
		pha_shmem_init();
		pha_cluster_stats_shmem_init();
		pha_worker_register();
	}
}
