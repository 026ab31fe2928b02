-- ha_outage: an outage of the database must not move the lead.  With the database
-- read-only for longer than failover_timeout, both replicas' writes fail (25006) and
-- are retried; the leader's failed attempts count as signs of life, so when the
-- database takes writes again the follower's retry, arriving first, is still a
-- follower's, and the leader keeps its lead (before: the follower took over).  A
-- leader that really went silent is still replaced.  Injected clock (test_now).
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
SET promscale_ha.failover_timeout = '10s';
SET promscale_ha.lease_refresh = '5s';
SET promscale_ha.max_future = '10min';
-- 3 series of cluster o1: a at :00, b 300 ms later; then every 5 s
\set a0 `:gen --series 3 --cluster o1 --replica a --start-ms 1767225600000 --hex`
\set b0 `:gen --series 3 --cluster o1 --replica b --start-ms 1767225600300 --hex`
\set a1 `:gen --series 3 --cluster o1 --replica a --start-ms 1767225605000 --hex`
\set b1 `:gen --series 3 --cluster o1 --replica b --start-ms 1767225605300 --hex`
\set a2 `:gen --series 3 --cluster o1 --replica a --start-ms 1767225610000 --hex`
\set b2 `:gen --series 3 --cluster o1 --replica b --start-ms 1767225610300 --hex`
\set a3 `:gen --series 3 --cluster o1 --replica a --start-ms 1767225615000 --hex`
\set b3 `:gen --series 3 --cluster o1 --replica b --start-ms 1767225615300 --hex`
\set a4 `:gen --series 3 --cluster o1 --replica a --start-ms 1767225620000 --hex`
\set b4 `:gen --series 3 --cluster o1 --replica b --start-ms 1767225620300 --hex`
SET promscale_ha.test_now = '2026-01-01 00:00:00.5+00';
SELECT outcome FROM promscale_ha.write(:'a0');
SELECT outcome FROM promscale_ha.write(:'b0');

-- 20 s read-only (failover_timeout is 10 s): every write fails and is retried
SET default_transaction_read_only = on;
\set VERBOSITY sqlstate
SET promscale_ha.test_now = '2026-01-01 00:00:05.5+00';
SELECT outcome FROM promscale_ha.write(:'a1');
SELECT outcome FROM promscale_ha.write(:'b1');
SET promscale_ha.test_now = '2026-01-01 00:00:10.5+00';
SELECT outcome FROM promscale_ha.write(:'a1');
SELECT outcome FROM promscale_ha.write(:'b1');
SET promscale_ha.test_now = '2026-01-01 00:00:15.5+00';
SELECT outcome FROM promscale_ha.write(:'a2');
SELECT outcome FROM promscale_ha.write(:'b2');
SET promscale_ha.test_now = '2026-01-01 00:00:20.5+00';
SELECT outcome FROM promscale_ha.write(:'a3');
SELECT outcome FROM promscale_ha.write(:'b3');
\set VERBOSITY default
SET default_transaction_read_only = off;

-- writable again at :21: the follower's retries happen to come first
SET promscale_ha.test_now = '2026-01-01 00:00:21+00';
SELECT samples_written, outcome FROM promscale_ha.write(:'b1');
SELECT samples_written, outcome FROM promscale_ha.write(:'b2');
SELECT samples_written, outcome FROM promscale_ha.write(:'b3');
SELECT samples_written, outcome FROM promscale_ha.write(:'a1');
SELECT samples_written, outcome FROM promscale_ha.write(:'a2');
SELECT samples_written, outcome FROM promscale_ha.write(:'a3');
SELECT leader_name, reason FROM promscale_ha.ha_leases_logs WHERE cluster_name = 'o1'
 ORDER BY lease_start;
-- every scrape of the leader stored once, none of the follower's
SELECT count(*) AS samples, count(DISTINCT (series_id, time)) AS distinct_samples
  FROM promscale_ha.samples x JOIN promscale_ha.series s ON s.id = x.series_id
 WHERE s.labels->>'cluster' = 'o1';

-- a leader that really goes silent is still replaced: a stops at :21, b takes over
-- 10 s later
SET promscale_ha.test_now = '2026-01-01 00:00:31.5+00';
SELECT samples_written, outcome FROM promscale_ha.write(:'b4');
SELECT leader_name, reason FROM promscale_ha.ha_leases_logs WHERE cluster_name = 'o1'
 ORDER BY lease_start;
RESET promscale_ha.test_now;
