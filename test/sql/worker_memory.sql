-- worker_memory: long-lived processes keep flat memory.  The worker once leaked every
-- allocation made between its transactions into TopMemoryContext (a commit leaves you
-- there): with many clusters and a short cycle that was ~150 kB a second.  Here: 300
-- clusters, a 200 ms cycle, and the worker's own TopMemoryContext (promscale_ha.stats)
-- must not grow across 20 cycles.  Then a backend that calls write() thousands of times,
-- one transaction each, must keep its long-lived memory contexts flat.
\getenv abs_builddir PG_ABS_BUILDDIR
\getenv abs_srcdir PG_ABS_SRCDIR
\set gen :abs_builddir '/promscale-ha-gen'
\c postgres
SET client_min_messages = warning;
CREATE EXTENSION promscale_ha;
RESET client_min_messages;
\set wait_for :abs_srcdir '/lib/wait_for.sql'
\i :wait_for
ALTER SYSTEM SET promscale_ha.failover_timeout = '1h';
ALTER SYSTEM SET promscale_ha.lease_refresh = '200ms';
ALTER SYSTEM SET promscale_ha.housekeeping_interval = '1s';
SELECT pg_reload_conf();

-- 300 clusters, each with one leader that wrote once
SELECT (extract(epoch FROM now()) * 1000)::bigint AS now_ms \gset
\set many `for i in $(seq 1 300); do :gen --series 1 --cluster m$i --replica a --start-ms :now_ms --hex; done`
SELECT count(*) AS clusters_written
  FROM regexp_split_to_table(:'many', E'\n') p, LATERAL promscale_ha.write(p::bytea) w
 WHERE w.samples_written = 1;
SELECT count(*) AS clusters FROM promscale_ha.ha_leases;

-- the worker's TopMemoryContext after 20 cycles and after 20 more
-- (an error the worker logged before, e.g. while worker.sql dropped and created the
-- extension under it, is not this test's: only one during these cycles counts)
SELECT worker_runs AS runs0, coalesce(worker_last_error_at, '-infinity') AS err_at0
  FROM promscale_ha.stats \gset
SELECT wait_for(format('SELECT worker_runs >= %s FROM promscale_ha.stats', :runs0 + 20)) AS twenty_cycles;
SELECT worker_memory_bytes AS top1, worker_runs AS runs1 FROM promscale_ha.stats \gset
SELECT wait_for(format('SELECT worker_runs >= %s FROM promscale_ha.stats', :runs1 + 20)) AS twenty_more_cycles;
SELECT worker_memory_bytes - :top1 AS top_growth_bytes,
       worker_memory_bytes - :top1 < 65536 AS worker_top_memory_flat,
       worker_memory_total_bytes < 64 * 1024 * 1024 AS worker_total_memory_bounded,
       coalesce(worker_last_error_at, '-infinity') = :'err_at0'::timestamptz AS no_worker_error
  FROM promscale_ha.stats \gset
SELECT :'worker_top_memory_flat'::boolean AS worker_top_memory_flat,
       :'worker_total_memory_bounded'::boolean AS worker_total_memory_bounded,
       :'no_worker_error'::boolean AS no_worker_error;
\if :worker_top_memory_flat
\else
\echo worker TopMemoryContext grew by :top_growth_bytes bytes in 20 cycles
\endif

-- a backend calling write() thousands of times, a transaction each: the long-lived
-- contexts (everything but the statement's own) stay flat
\set p `:gen --series 10 --cluster mw --replica a --start-ms :now_ms --hex`
CREATE TEMP TABLE payload AS SELECT :'p'::bytea AS p;
CREATE PROCEDURE write_many(n int) LANGUAGE plpgsql AS $$
DECLARE
  b bytea;
BEGIN
  SELECT p INTO b FROM payload;
  FOR i IN 1 .. n LOOP
    PERFORM promscale_ha.write(b);
    COMMIT;
  END LOOP;
END $$;
CALL write_many(500);
SELECT sum(total_bytes) AS mem1 FROM pg_backend_memory_contexts \gset
CALL write_many(3000);
SELECT sum(total_bytes) - :mem1 AS growth_bytes, sum(total_bytes) - :mem1 < 131072 AS backend_memory_flat
  FROM pg_backend_memory_contexts \gset
SELECT :'backend_memory_flat'::boolean AS backend_memory_flat;
\if :backend_memory_flat
\else
\echo backend memory grew by :growth_bytes bytes over 3000 writes
\endif
SELECT samples_written + samples_already_stored AS samples_seen FROM promscale_ha.stats \gset

DROP PROCEDURE write_many(int);
ALTER SYSTEM RESET ALL;
SELECT pg_reload_conf();
DROP EXTENSION promscale_ha;
DROP FUNCTION wait_for(text, int);
\c contrib_regression
