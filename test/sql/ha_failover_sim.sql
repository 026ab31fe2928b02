-- ha_failover_sim: two simulated replicas of one cluster scrape 50 series every second,
-- a at whole seconds and b 400 ms later.  The leader a dies at t=15 s in the middle of a
-- send (only half of its series arrive).  b keeps sending, takes over once a has been
-- silent for promscale_ha.failover_timeout, and its buffered requests fill the gap.
-- Per series there must be no duplicate timestamp, no missing scrape and no doubled
-- one: consecutive samples 0.5 to 1.5 intervals apart (b's first sample, 0.4 s after
-- a's last, shares its scrape slot and is not stored; ha_scrape_slot.sql has more).
-- Payloads come from promscale-ha-gen (run by the server through COPY FROM PROGRAM);
-- the wall clock is promscale_ha.test_now, one commit per request.
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
SELECT set_config('sim.gen', :'gen', false) IS NOT NULL AS gen_set;
SET promscale_ha.failover_timeout = '5s';
CREATE TABLE sim_payload (p text);
CREATE PROCEDURE sim_send(replica text, t_ms bigint, nseries int) LANGUAGE plpgsql AS $$
BEGIN
  -- the request reaches the database 100 ms after its samples were scraped
  PERFORM set_config('promscale_ha.test_now',
                     (timestamptz 'epoch' + (t_ms + 100) * interval '1 ms')::text, false);
  TRUNCATE sim_payload;
  EXECUTE format('COPY sim_payload FROM PROGRAM %L WITH (FORMAT csv)',
                 format('%s --series %s --cluster sim --replica %s --start-ms %s --hex',
                        current_setting('sim.gen'), nseries, replica, t_ms));
  PERFORM promscale_ha.write(p::bytea) FROM sim_payload;
END $$;
DO $$
DECLARE
  base bigint := 1767225600000;
BEGIN
  FOR t IN 0..40 LOOP
    IF t < 15 THEN
      CALL sim_send('a', base + t * 1000, 50);
      COMMIT;
    ELSIF t = 15 THEN
      CALL sim_send('a', base + t * 1000, 25);   -- a dies mid-send
      COMMIT;
    END IF;
    CALL sim_send('b', base + t * 1000 + 400, 50);
    COMMIT;
  END LOOP;
END $$;
RESET promscale_ha.test_now;

-- one failover, from a to b
SELECT leader_name, reason FROM promscale_ha.ha_leases_logs WHERE cluster_name = 'sim'
  ORDER BY lease_start;
SELECT count(*) AS series FROM promscale_ha.series WHERE labels->>'cluster' = 'sim';
-- per series: samples, duplicates, the smallest and largest gap between samples
WITH s AS (
  SELECT x.series_id, x.time,
         x.time - lag(x.time) OVER (PARTITION BY x.series_id ORDER BY x.time) AS gap
  FROM promscale_ha.samples x JOIN promscale_ha.series se ON se.id = x.series_id
  WHERE se.labels->>'cluster' = 'sim')
SELECT count(DISTINCT series_id) AS series,
       min(n) AS min_samples, max(n) AS max_samples,
       max(max_gap) <= interval '1.5 second' AS no_missing_scrape,
       min(min_gap) >= interval '0.5 second' AS no_doubled_scrape,
       sum(n) = (SELECT count(DISTINCT (series_id, time)) FROM s) AS no_duplicate
FROM (SELECT series_id, count(*) AS n, min(gap) AS min_gap, max(gap) AS max_gap
      FROM s GROUP BY series_id) per_series;
-- the seam: where a's samples end and b's begin, per half of the series
SELECT last_from_a, first_from_b, count(*) AS series FROM (
  SELECT x.series_id,
         to_char(max(x.time) FILTER (WHERE extract(milliseconds FROM x.time)::int % 1000 = 0)
                 AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') AS last_from_a,
         to_char(min(x.time) FILTER (WHERE extract(milliseconds FROM x.time)::int % 1000 = 400)
                 AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') AS first_from_b
  FROM promscale_ha.samples x JOIN promscale_ha.series se ON se.id = x.series_id
  WHERE se.labels->>'cluster' = 'sim' GROUP BY x.series_id) seam
GROUP BY 1, 2 ORDER BY 1, 2;
DROP PROCEDURE sim_send;
DROP TABLE sim_payload;
