/*-------------------------------------------------------------------------
 *
 * schema.c
 *	  Which of the extension's relations this database has: the library may
 *	  be newer than the database's SQL until ALTER EXTENSION UPDATE, and must
 *	  keep working with the older schema meanwhile.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "utils/lsyscache.h"

#include "schema.h"

Oid
pha_samples_relid(void)
{
	Oid			nsp = get_namespace_oid("promscale_ha", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("samples_head", nsp) : InvalidOid;

	/* a database still at 0.1.0 (until ALTER EXTENSION UPDATE): samples is the table */
	if (!OidIsValid(relid) && OidIsValid(nsp))
	{
		relid = get_relname_relid("samples", nsp);
		if (OidIsValid(relid) && get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
			relid = InvalidOid;
	}
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table promscale_ha.samples_head does not exist"),
				 errhint("Run CREATE EXTENSION promscale_ha.")));
	return relid;
}

bool
pha_store_has_chunks(void)
{
	Oid			nsp = get_namespace_oid("promscale_ha", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("compressed_ranges", nsp));
}

bool
pha_schema_has_column(const char *rel, const char *col)
{
	Oid			nsp = get_namespace_oid("promscale_ha", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(rel, nsp) : InvalidOid;

	return OidIsValid(relid) && get_attnum(relid, col) != InvalidAttrNumber;
}
