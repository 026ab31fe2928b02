-- promscale_ha 0.1.0 -> 0.2.0.  Run by ALTER EXTENSION promscale_ha UPDATE; a new
-- install runs promscale_ha--0.1.0.sql and then this script, so both paths give the
-- same database.  Released scripts never change: later changes go into the next
-- upgrade script.
\echo Use "ALTER EXTENSION promscale_ha UPDATE" to load this file. \quit

----------------------------------------------------------------------------------------
-- stats: the worker's last error keeps its SQLSTATE and detail; the worker's memory;
-- compression progress
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
    OUT worker_memory_bytes bigint, OUT worker_memory_total_bytes bigint,
    OUT samples_compressed bigint, OUT compress_bytes_before bigint,
    OUT compress_bytes_after bigint, OUT compress_last_run timestamptz,
    OUT compress_lag_seconds bigint)
    AS 'MODULE_PATHNAME', 'pha_stats' LANGUAGE C STRICT VOLATILE;
CREATE VIEW promscale_ha.stats AS SELECT * FROM promscale_ha.stats();
REVOKE ALL ON FUNCTION promscale_ha.stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION promscale_ha.stats() TO promscale_ha_reader, promscale_ha_admin;
GRANT SELECT ON promscale_ha.stats TO promscale_ha_reader, promscale_ha_admin;

----------------------------------------------------------------------------------------
-- Compressed storage: two tiers behind one view
--
-- samples_head: the row store write() inserts into (the 0.1.0 table samples, renamed),
--   partitioned by time (promscale_ha.partition_interval, now 2 hours by default).
-- chunks: per-series, time-ordered compressed chunks of older data, made by the worker
--   from whole head partitions older than promscale_ha.compress_after.  A chunk never
--   spans two compressed ranges nor a UTC day boundary, and the chunks of one series
--   never overlap in time.
-- samples_compressed: a foreign table served by this extension's foreign-data wrapper,
--   which reads only the chunks of the queried series that overlap the queried time.
-- samples: the view users query, the union of both; each sample is in exactly one.
----------------------------------------------------------------------------------------

ALTER TABLE promscale_ha.samples RENAME TO samples_head;
ALTER INDEX promscale_ha.samples_series_id_time_key RENAME TO samples_head_series_id_time_key;
COMMENT ON TABLE promscale_ha.samples_head IS
    'Recent float samples as rows (the head); one per (series_id, time), the first value wins';

CREATE TABLE promscale_ha.chunks (
    series_id bigint NOT NULL,
    min_time  timestamptz NOT NULL,     -- first sample of the chunk
    max_time  timestamptz NOT NULL,     -- last sample of the chunk
    samples   integer NOT NULL,
    data      bytea NOT NULL,           -- format byte + encoded samples (src/codec/)
    CONSTRAINT chunks_pkey PRIMARY KEY (series_id, max_time)
);
-- chunks are written in time order, so a BRIN index serves scans by time alone
CREATE INDEX chunks_max_time_idx ON promscale_ha.chunks USING brin (max_time);
-- already compressed: no pglz over it
ALTER TABLE promscale_ha.chunks ALTER COLUMN data SET STORAGE EXTERNAL;
COMMENT ON TABLE promscale_ha.chunks IS 'Compressed samples: one row per series and span of time';

CREATE TABLE promscale_ha.compressed_ranges (
    range_start   timestamptz PRIMARY KEY,
    range_end     timestamptz NOT NULL,
    compressed_at timestamptz NOT NULL,
    samples       bigint NOT NULL,      -- samples in the range's chunks
    chunks        bigint NOT NULL,
    bytes_before  bigint NOT NULL,      -- heap + index bytes of the head partition(s)
    bytes_after   bigint NOT NULL       -- bytes of the range's chunk rows
);
COMMENT ON TABLE promscale_ha.compressed_ranges IS
    'Time ranges whose head partitions were compressed into chunks';

CREATE FUNCTION promscale_ha.chunks_fdw_handler() RETURNS fdw_handler
    AS 'MODULE_PATHNAME', 'pha_chunks_fdw_handler' LANGUAGE C STRICT;
CREATE FOREIGN DATA WRAPPER promscale_ha_chunks HANDLER promscale_ha.chunks_fdw_handler;
CREATE SERVER promscale_ha_chunks FOREIGN DATA WRAPPER promscale_ha_chunks;
CREATE FOREIGN TABLE promscale_ha.samples_compressed (
    series_id bigint NOT NULL,
    time      timestamptz NOT NULL,
    value     double precision NOT NULL
) SERVER promscale_ha_chunks;
COMMENT ON FOREIGN TABLE promscale_ha.samples_compressed IS
    'The samples of promscale_ha.chunks, decoded on the fly';

CREATE VIEW promscale_ha.samples AS
    SELECT series_id, time, value FROM promscale_ha.samples_head
    UNION ALL
    SELECT series_id, time, value FROM promscale_ha.samples_compressed;
COMMENT ON VIEW promscale_ha.samples IS
    'Every stored float sample, head and compressed; one per (series_id, time)';

-- The codec at the SQL level: for tests, and to look inside a chunk.
CREATE FUNCTION promscale_ha.chunk_encode(times timestamptz[], vals double precision[],
                                          format text DEFAULT NULL) RETURNS bytea
    AS 'MODULE_PATHNAME', 'pha_chunk_encode_sql' LANGUAGE C IMMUTABLE;
CREATE FUNCTION promscale_ha.chunk_decode(chunk bytea,
                                          OUT "time" timestamptz, OUT value double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pha_chunk_decode_sql' LANGUAGE C IMMUTABLE STRICT;

REVOKE ALL ON promscale_ha.samples, promscale_ha.samples_head, promscale_ha.chunks,
              promscale_ha.compressed_ranges, promscale_ha.samples_compressed FROM PUBLIC;
REVOKE ALL ON FUNCTION promscale_ha.chunks_fdw_handler(),
              promscale_ha.chunk_encode(timestamptz[], double precision[], text),
              promscale_ha.chunk_decode(bytea) FROM PUBLIC;
GRANT SELECT ON promscale_ha.samples, promscale_ha.samples_head, promscale_ha.chunks,
                promscale_ha.compressed_ranges, promscale_ha.samples_compressed
    TO promscale_ha_reader, promscale_ha_admin;
GRANT EXECUTE ON FUNCTION promscale_ha.chunk_decode(bytea),
                          promscale_ha.chunk_encode(timestamptz[], double precision[], text)
    TO promscale_ha_reader, promscale_ha_admin;

-- Compress now, in this transaction, whatever head partition ended before
-- now() - older_than: an operator's lever (and the tests').
CREATE FUNCTION promscale_ha.compress_now(older_than interval DEFAULT '0',
    OUT range_start timestamptz, OUT range_end timestamptz, OUT samples bigint,
    OUT chunks bigint, OUT bytes_before bigint, OUT bytes_after bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pha_compress_now' LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION promscale_ha.compress_now(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION promscale_ha.compress_now(interval) TO promscale_ha_admin;

-- Delete samples of some series over a span of time, head and chunks alike.
CREATE FUNCTION promscale_ha.delete_samples(series_ids bigint[], start_time timestamptz,
                                            end_time timestamptz) RETURNS bigint
    AS 'MODULE_PATHNAME', 'pha_delete_samples_sql' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION promscale_ha.delete_samples(bigint[], timestamptz, timestamptz) IS
    'Delete the samples of these series with start_time <= time < end_time; returns how many';
REVOKE ALL ON FUNCTION promscale_ha.delete_samples(bigint[], timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION promscale_ha.delete_samples(bigint[], timestamptz, timestamptz)
    TO promscale_ha_admin;

-- promscale_ha.samples is a view: DELETE through it says how to delete instead.
CREATE FUNCTION promscale_ha.samples_delete_refused() RETURNS trigger
    AS 'MODULE_PATHNAME', 'pha_samples_delete_refused' LANGUAGE C;
CREATE TRIGGER samples_delete_refused INSTEAD OF DELETE OR UPDATE ON promscale_ha.samples
    FOR EACH ROW EXECUTE FUNCTION promscale_ha.samples_delete_refused();

GRANT SET ON PARAMETER promscale_ha.chunk_format TO promscale_ha_admin;

-- Each buffered payload keeps the HA label names it was received with (they may be set
-- per role or session): whoever replays it at a takeover -- the worker, set_leader(),
-- another session -- reads it as it was sent.  NULL for rows buffered by 0.1.0.
ALTER TABLE promscale_ha.replay_buffer ADD COLUMN cluster_label text, ADD COLUMN replica_label text;

----------------------------------------------------------------------------------------
-- Lossless under the database's own operations: dump/restore and crashes
--
-- replay_buffer: logged, so that a follower's request answered 202 survives a crash
--   and reaches a promoted standby (promscale_ha.replay_buffer_logged = off makes the
--   worker turn it back to unlogged, for those who prefer less WAL).
-- samples_head: the unique index on (series_id, time) lives on each partition only
--   (write() makes it with the partition).  An index on the parent -- a member of the
--   extension, so made by the CREATE EXTENSION of a restore -- made every partition's
--   index twice in a restore: once by the dump's ATTACH PARTITION, then by the dump's
--   CREATE INDEX, which failed ("relation ... already exists").  Detaching a partition
--   keeps its index as an index of its own; re-attaching it validates its rows (one
--   read of each partition) but builds nothing.
-- The tables of user data and the series id sequence are configuration tables, so
--   pg_dump dumps their rows and the sequence's value.
----------------------------------------------------------------------------------------

ALTER TABLE promscale_ha.replay_buffer SET LOGGED;
COMMENT ON TABLE promscale_ha.replay_buffer IS
    'Followers'' recent requests, kept for the takeover''s gap-filling replay; logged unless promscale_ha.replay_buffer_logged is off';

DO $$
DECLARE
    p record;
    parts text[] := '{}';
    bounds text[] := '{}';
BEGIN
    FOR p IN SELECT format('%I.%I', n.nspname, c.relname) AS part,
                    pg_get_expr(c.relpartbound, c.oid) AS bound
             FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE i.inhparent = 'promscale_ha.samples_head'::regclass
    LOOP
        EXECUTE format('ALTER TABLE promscale_ha.samples_head DETACH PARTITION %s', p.part);
        parts := parts || p.part;
        bounds := bounds || p.bound;
    END LOOP;
    DROP INDEX promscale_ha.samples_head_series_id_time_key;
    FOR k IN 1 .. coalesce(array_length(parts, 1), 0) LOOP
        EXECUTE format('ALTER TABLE promscale_ha.samples_head ATTACH PARTITION %s %s',
                       parts[k], bounds[k]);
    END LOOP;
END $$;
COMMENT ON TABLE promscale_ha.samples_head IS
    'Recent float samples as rows (the head); one per (series_id, time), the first value wins (a unique index on each partition)';

SELECT pg_catalog.pg_extension_config_dump('promscale_ha.series', '');
SELECT pg_catalog.pg_extension_config_dump('promscale_ha.series_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('promscale_ha.ha_leases', '');
SELECT pg_catalog.pg_extension_config_dump('promscale_ha.ha_leases_logs', '');
SELECT pg_catalog.pg_extension_config_dump('promscale_ha.chunks', '');
SELECT pg_catalog.pg_extension_config_dump('promscale_ha.compressed_ranges', '');
SELECT pg_catalog.pg_extension_config_dump('promscale_ha.replay_buffer', '');

----------------------------------------------------------------------------------------
-- Remote read: Prometheus reads the stored samples back (PromQL, Grafana and alerts
-- through Prometheus' remote_read).  The HTTP front end passes the body of a request
-- to read() as it is and sends the rows back: for kind 'samples' the one body is the
-- whole snappy-compressed ReadResponse; for 'chunks' each body is one frame of the
-- stream (uvarint length, big-endian CRC32C, ChunkedReadResponse), in order.
-- SECURITY DEFINER like write(): a reader role needs no right on the tables.
----------------------------------------------------------------------------------------

CREATE FUNCTION promscale_ha.read(request bytea)
    RETURNS TABLE (kind text, body bytea)
    AS 'MODULE_PATHNAME', 'pha_read'
    LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE ROWS 100
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION promscale_ha.read(bytea) IS
    'Answer one Prometheus remote-read request body (snappy-compressed ReadRequest): one ''samples'' row (snappy ReadResponse) or one ''chunks'' row per stream frame';
REVOKE ALL ON FUNCTION promscale_ha.read(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION promscale_ha.read(bytea) TO promscale_ha_reader, promscale_ha_admin;
GRANT SET ON PARAMETER
    promscale_ha.read_max_samples, promscale_ha.read_max_series, promscale_ha.read_frame_bytes
    TO promscale_ha_admin;
