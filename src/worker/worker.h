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

/* One unit of the worker's work: a transaction with SPI and a snapshot. */
extern void pha_worker_begin_xact(const char *activity);
extern void pha_worker_end_xact(void);
extern PGDLLEXPORT void pha_worker_main(Datum arg);

#endif							/* PHA_WORKER_H */
