/*-------------------------------------------------------------------------
 *
 * schema.h
 *	  Which of the extension's relations this database has.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_SCHEMA_H
#define PHA_SCHEMA_H

#include "postgres.h"

/*
 * OID of the partitioned sample table write() inserts into: samples_head,
 * or samples in a database still at 0.1.0.  ERROR if the extension's tables
 * are missing.
 */
extern Oid	pha_samples_relid(void);

/* Has the database the compressed tier (0.2.0 and later)? */
extern bool pha_store_has_chunks(void);

#endif							/* PHA_SCHEMA_H */
