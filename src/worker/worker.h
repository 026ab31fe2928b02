/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The promscale_ha background worker.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_WORKER_H
#define PHA_WORKER_H

#include "postgres.h"

extern void pha_worker_register(void);

extern PGDLLEXPORT void pha_worker_main(Datum arg);

#endif							/* PHA_WORKER_H */
