/*-------------------------------------------------------------------------
 *
 * delete.h
 *	  Deleting samples from both tiers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_DELETE_H
#define PHA_DELETE_H

#include "postgres.h"

#include "utils/array.h"

/*
 * Delete the samples of the given series with start_ms <= time < end_ms, in
 * the head and in the chunks (a chunk that keeps some samples is written
 * again without the others); returns how many were deleted.
 */
extern int64 pha_delete_samples(ArrayType *series_ids, int64 start_ms, int64 end_ms);

#endif							/* PHA_DELETE_H */
