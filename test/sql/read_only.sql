-- read_only: in a read-only transaction (default_transaction_read_only = on, BEGIN READ
-- ONLY) every entry point that stores fails with SQLSTATE 25006, as INSERT does, and
-- stores nothing: write() of a leader (series already known, so only the COPY path
-- would run), of a follower (its replay-buffer insert), set_leader(), compress_now()
-- and delete_samples().  The front end answers 503 to 25006, so Prometheus retries.
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
SET promscale_ha.failover_timeout = '30s';
SET promscale_ha.test_now = '2026-01-01 00:00:01+00';
\set a0 `:gen --series 3 --samples 2 --cluster ro --replica a --start-ms 1767225600000 --hex`
\set b0 `:gen --series 3 --samples 2 --cluster ro --replica b --start-ms 1767225600000 --hex`
\set a1 `:gen --series 3 --samples 2 --cluster ro --replica a --start-ms 1767225630000 --hex`
\set b1 `:gen --series 3 --samples 2 --cluster ro --replica b --start-ms 1767225630000 --hex`
\set p1 `:gen --series 2 --samples 2 --series-offset 50 --label test=read_only --start-ms 1767225630000 --hex`
\set p0 `:gen --series 2 --samples 2 --series-offset 50 --label test=read_only --start-ms 1767225600000 --hex`
-- a leads, b follows (its payload is buffered); plain series too
SELECT samples_written, outcome FROM promscale_ha.write(:'a0');
SELECT samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'b0');
SELECT samples_written, outcome FROM promscale_ha.write(:'p0');
-- what this test stores: its series (cluster ro, label test), buffer rows, periods
CREATE TEMP VIEW now_ AS
SELECT (SELECT count(*) FROM promscale_ha.samples x JOIN promscale_ha.series s ON s.id = x.series_id
         WHERE s.labels->>'cluster' = 'ro' OR s.labels->>'test' = 'read_only') AS samples,
       (SELECT count(*) FROM promscale_ha.series s
         WHERE s.labels->>'cluster' = 'ro' OR s.labels->>'test' = 'read_only') AS series,
       (SELECT count(*) FROM promscale_ha.replay_buffer WHERE cluster_name = 'ro') AS buffered,
       (SELECT count(*) FROM promscale_ha.ha_leases_logs WHERE cluster_name = 'ro') AS periods,
       (SELECT sum(requests) FROM promscale_ha.replica_state() WHERE cluster_name = 'ro') AS requests,
       (SELECT leader FROM promscale_ha.leaders WHERE cluster = 'ro') AS leader;
CREATE TEMP TABLE before AS SELECT * FROM now_;
SELECT samples, series, buffered, periods, leader FROM before;
CREATE TEMP VIEW unchanged AS
SELECT n.samples = b.samples AS samples, n.series = b.series AS series,
       n.buffered = b.buffered AS buffered, n.periods = b.periods AS periods,
       n.requests = b.requests AS requests, n.leader
FROM now_ n, before b;

-- 1. default_transaction_read_only = on (a maintenance freeze)
SET default_transaction_read_only = on;
\set VERBOSITY sqlstate
SELECT * FROM promscale_ha.write(:'a1');
SELECT * FROM promscale_ha.write(:'b1');
SELECT * FROM promscale_ha.write(:'p1');
SELECT promscale_ha.set_leader('ro', 'b');
SELECT * FROM promscale_ha.compress_now('0');
SELECT promscale_ha.delete_samples(ARRAY[1::bigint], '-infinity', 'infinity');
-- a payload that is not even valid is refused for the same reason first
SELECT * FROM promscale_ha.write('\x00');
\set VERBOSITY default
SELECT * FROM promscale_ha.write(:'a1');
RESET default_transaction_read_only;
SELECT * FROM unchanged;

-- 2. BEGIN READ ONLY
\set VERBOSITY sqlstate
BEGIN READ ONLY;
SELECT * FROM promscale_ha.write(:'a1');
ROLLBACK;
BEGIN READ ONLY;
SELECT * FROM promscale_ha.write(:'b1');
ROLLBACK;
BEGIN READ ONLY;
SELECT promscale_ha.set_leader('ro', 'b');
ROLLBACK;
BEGIN;
SET TRANSACTION READ ONLY;
SELECT * FROM promscale_ha.compress_now('0');
ROLLBACK;
BEGIN READ ONLY;
SELECT promscale_ha.delete_samples(ARRAY[1::bigint], '-infinity', 'infinity');
ROLLBACK;
\set VERBOSITY default
SELECT * FROM unchanged;

-- 3. read-write again: the same requests go through as before the freeze
SELECT samples_written, outcome FROM promscale_ha.write(:'a1');
SELECT samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'b1');
SELECT samples_written, outcome FROM promscale_ha.write(:'p1');
SELECT n.samples - b.samples AS samples_added, n.buffered - b.buffered AS buffered_added,
       n.leader
FROM now_ n, before b;
