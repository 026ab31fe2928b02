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

/* Has promscale_ha.<rel> the column col?  (Columns added by an upgrade.) */
extern bool pha_schema_has_column(const char *rel, const char *col);

#endif							/* PHA_SCHEMA_H */
