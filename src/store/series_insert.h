/*-------------------------------------------------------------------------
 *
 * series_insert.h
 *	  New rows of promscale_ha.series in one batch, without a statement.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_SERIES_INSERT_H
#define PHA_SERIES_INSERT_H

#include "postgres.h"

/*
 * Insert n series rows (metric_name text, labels jsonb, labels_hash bytea
 * Datums), in the order given, into the table relid with heap multi-inserts
 * and the indexes' own inserts, inside a subtransaction; the other columns
 * (id, created_at) get their defaults.  On success fills ids[0..n-1] and
 * returns true.  Returns false, having stored nothing, when a row with one of
 * the hashes exists or a concurrent transaction committed one meanwhile
 * (23505), or when the table has what this path does not handle (INSERT
 * triggers, row-level security, unknown columns): the caller then inserts
 * with INSERT ... ON CONFLICT DO NOTHING.  Other errors propagate.
 */
extern bool pha_series_insert_direct(Oid relid, int n, const Datum *names,
									 const Datum *labels, const Datum *hashes,
									 int64 *ids);

#endif							/* PHA_SERIES_INSERT_H */
