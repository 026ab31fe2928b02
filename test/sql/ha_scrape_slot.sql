-- ha_scrape_slot: one sample per scrape slot across a failover (src/ha/slot.c).
-- Two simulated replicas per cluster: a scrapes at phase 0, b at 0, 0.3, 0.5 or
-- 0.7 of the interval (clusters slot_p00, slot_p30, slot_p50, slot_p70), each
-- request holding series of two intervals (1 s and 3 s).  a dies mid-send after
-- 20 s; b takes over 5 s later and its buffered requests fill the gap.  Per
-- series, the new leader's first sample after the old leader's last is kept only
-- if it is at least half an interval later, so every spacing stays within
-- [0.5, 1.5] intervals: no scrape slot missing, none doubled.  Clusters
-- slot_stale and slot_single check the edges: stale markers are never dropped; a
-- series the new leader has one sample of is judged by the old leader's stored
-- interval (dropped in a's last slot, kept in the next), and kept when neither side
-- has an interval to judge by.  In slot_restart b was just restarted: its first
-- scrape is 54 ms after a's last one, so all it replays is newer than a's last
-- samples (the takeover must look before them).  In slot_p30 b's
-- buffered requests include a retry and a late one (replayed out of order).
-- The requests are made by test/ha_slot_sim.py (its docstring has the timeline);
-- the wall clock is promscale_ha.test_now, one commit per request.
\getenv abs_srcdir PG_ABS_SRCDIR
\set sim '/usr/bin/python3 ' :abs_srcdir '/ha_slot_sim.py'
SET timezone = 'UTC';
SET promscale_ha.failover_timeout = '5s';
CREATE TABLE slot_req (seq int, send_ms bigint, payload bytea);
COPY slot_req FROM PROGRAM :'sim' WITH (FORMAT csv);
SELECT count(*) AS requests FROM slot_req;
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT * FROM slot_req ORDER BY seq LOOP
    PERFORM set_config('promscale_ha.test_now',
                       (timestamptz 'epoch' + r.send_ms * interval '1 ms')::text, false);
    PERFORM promscale_ha.write(r.payload);
    COMMIT;
  END LOOP;
END $$;
RESET promscale_ha.test_now;

-- one failover per cluster, from a to b
SELECT cluster_name, string_agg(leader_name || ' (' || reason || ')', ' -> ' ORDER BY lease_start)
  FROM promscale_ha.ha_leases_logs WHERE cluster_name LIKE 'slot\_%' GROUP BY 1 ORDER BY 1;

-- every stored sample with its replica (value digit) and its series' interval;
-- stale markers (NaN) apart
CREATE TEMP VIEW slot_rows AS
  SELECT se.labels->>'cluster' AS cluster, coalesce(se.labels->>'interval', '1s') AS iv,
         se.metric_name || coalesce(':' || (se.labels->>'series'), '') AS name,
         x.series_id, x.time, x.value,
         CASE WHEN x.value = 'NaN' THEN '-' ELSE (x.value::bigint % 10)::text END AS replica
  FROM promscale_ha.samples x JOIN promscale_ha.series se ON se.id = x.series_id
  WHERE se.metric_name LIKE 'slot\_%';
CREATE TEMP VIEW slot_spacing AS
  SELECT cluster, iv, series_id, time, replica,
         lag(replica) OVER w AS prev_replica,
         round(extract(epoch FROM time - lag(time) OVER w)
               / extract(epoch FROM iv::interval), 3) AS ratio
  FROM slot_rows WHERE replica <> '-'
  WINDOW w AS (PARTITION BY series_id ORDER BY time);

-- per cluster and interval: every consecutive pair of samples within [0.5, 1.5]
-- intervals, and the spacing at the cut (a's last sample -> b's first)
SELECT cluster, iv, count(DISTINCT series_id) AS series,
       min(ratio) AS min_ratio, max(ratio) AS max_ratio,
       count(*) FILTER (WHERE ratio < 0.5 OR ratio > 1.5) AS out_of_bounds,
       min(ratio) FILTER (WHERE prev_replica = '1' AND replica = '2') AS cut_min,
       max(ratio) FILTER (WHERE prev_replica = '1' AND replica = '2') AS cut_max,
       count(*) FILTER (WHERE prev_replica = '1' AND replica = '2') AS cuts
  FROM slot_spacing WHERE cluster LIKE 'slot\_p%' GROUP BY 1, 2 ORDER BY 1, 2;
-- no slot missing, no time twice: per series, the samples are exactly a's slots up
-- to a's last sample and b's slots from b's first one on (a doubled slot shows as
-- out_of_bounds above)
WITH per AS (
  SELECT cluster, iv, series_id, count(*) AS n, count(DISTINCT time) AS distinct_times,
         max(time) FILTER (WHERE replica = '1') AS a_last,
         min(time) FILTER (WHERE replica = '2') AS b_first,
         max(time) AS last, min(time) AS first
  FROM slot_rows WHERE cluster LIKE 'slot\_p%' GROUP BY 1, 2, 3)
SELECT cluster, iv, count(*) AS series,
       bool_and(n = distinct_times) AS no_time_twice,
       bool_and(n = 1 + floor(extract(epoch FROM a_last - first) / extract(epoch FROM iv::interval))
                    + 1 + floor(extract(epoch FROM last - b_first) / extract(epoch FROM iv::interval)))
         AS one_per_slot
  FROM per GROUP BY 1, 2 ORDER BY 1, 2;

-- the edges, around the cut at 00:00:20 (b scrapes 300 ms after a)
SELECT cluster, name, to_char(time, 'SS.MS') AS t, replica,
       CASE WHEN value = 'NaN' THEN 'stale marker' ELSE value::text END AS value
  FROM slot_rows
  WHERE cluster IN ('slot_stale', 'slot_single', 'slot_restart')
    AND time >= '2026-01-01 00:00:18+00'
    AND time < '2026-01-01 00:00:22+00'
  ORDER BY cluster, name, time;
-- the stale markers are the Prometheus ones, bit for bit
SELECT count(*) AS stale_markers FROM promscale_ha.samples x
  JOIN promscale_ha.series se ON se.id = x.series_id
  WHERE se.metric_name = 'slot_stale'
    AND float8send(x.value) = '\x7ff0000000000002'::bytea;
DROP VIEW slot_spacing, slot_rows;
DROP TABLE slot_req;
