-- promscale_ha 0.1.0 -> 0.2.0.  Run by ALTER EXTENSION promscale_ha UPDATE; a new
-- install runs promscale_ha--0.1.0.sql and then this script, so both paths give the
-- same database.  Released scripts never change: later changes go into the next
-- upgrade script.
\echo Use "ALTER EXTENSION promscale_ha UPDATE" to load this file. \quit

----------------------------------------------------------------------------------------
-- stats: the worker's last error keeps its SQLSTATE and detail; the worker's memory
----------------------------------------------------------------------------------------

DROP VIEW promscale_ha.stats;
DROP FUNCTION promscale_ha.stats();
CREATE FUNCTION promscale_ha.stats(
    OUT samples_written bigint, OUT samples_deduplicated bigint,
    OUT samples_future_dropped bigint, OUT samples_already_stored bigint,
    OUT samples_replayed bigint, OUT requests_stored bigint,
    OUT requests_deduplicated bigint, OUT requests_partial bigint, OUT requests_empty bigint,
    OUT leader_changes bigint, OUT worker_runs bigint, OUT worker_pid integer,
    OUT worker_last_run timestamptz, OUT worker_last_error text,
    OUT worker_last_error_at timestamptz,
    OUT worker_last_error_sqlstate text, OUT worker_last_error_detail text,
    OUT worker_memory_bytes bigint, OUT worker_memory_total_bytes bigint)
    AS 'MODULE_PATHNAME', 'pha_stats' LANGUAGE C STRICT VOLATILE;
CREATE VIEW promscale_ha.stats AS SELECT * FROM promscale_ha.stats();
REVOKE ALL ON FUNCTION promscale_ha.stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION promscale_ha.stats() TO promscale_ha_reader, promscale_ha_admin;
GRANT SELECT ON promscale_ha.stats TO promscale_ha_reader, promscale_ha_admin;
