-- compress: the two tiers.  Head partitions become per-series chunks; promscale_ha.samples
-- returns every sample exactly once, bit for bit, before and after; late writes into
-- compressed time are stored once (first value wins) and merged by the next compression;
-- a takeover's gap fill sees the newest sample in the chunks; deletes work on both tiers.
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
SET timezone = 'UTC';
SET promscale_ha.partition_interval = '2h';
SET promscale_ha.failover_timeout = '30s';
SET promscale_ha.max_future = '10min';
SET promscale_ha.test_now = '2026-01-01 06:00:00+00';
TRUNCATE promscale_ha.series, promscale_ha.samples_head, promscale_ha.chunks,
         promscale_ha.compressed_ranges;
-- every sample as (series, time, bits): what "the same data" means below
CREATE VIEW all_bits AS
  SELECT series_id, time, float8send(value) AS bits FROM promscale_ha.samples;

-- 2026-01-01 00:00-04:00 UTC: 20 counters every 15 s (two 2-hour partitions) and
-- 5 series of special values (NaN, +-Inf, the stale marker, -0.0, 1e308, 5e-324)
\set data1 `:gen --series 20 --samples 960 --start-ms 1767225600000 --hex`
\set special `:gen --series 5 --series-offset 100 --samples 100 --step-ms 60000 --values special --start-ms 1767225600000 --hex`
SELECT samples_written FROM promscale_ha.write(:'data1');
SELECT samples_written FROM promscale_ha.write(:'special');
-- and recent data, which stays in the head
SELECT (extract(epoch FROM now()) * 1000)::bigint AS now_ms \gset
\set recent `:gen --series 5 --series-offset 200 --samples 4 --start-ms :now_ms --hex`
RESET promscale_ha.test_now;
SELECT samples_written FROM promscale_ha.write(:'recent');
CREATE TEMP TABLE before AS SELECT * FROM all_bits;
SELECT count(*) AS samples_before FROM before;

-- compress what ended a day ago or earlier: the two 2026-01-01 partitions
SELECT range_start, range_end, samples, chunks, bytes_after < bytes_before / 10 AS ten_times_smaller
  FROM promscale_ha.compress_now('1 day') ORDER BY 1;
SELECT count(*) AS head_rows_left_in_compressed_time FROM promscale_ha.samples_head
  WHERE time < '2026-01-02';
SELECT count(*) AS recent_rows_in_head FROM promscale_ha.samples_head;
SELECT count(*) AS chunks, sum(samples) AS chunk_samples,
       count(DISTINCT get_byte(data, 0)) AS formats FROM promscale_ha.chunks;
SELECT count(*) AS partitions_left FROM pg_inherits
  WHERE inhparent = 'promscale_ha.samples_head'::regclass;
-- exactly the same samples, bit for bit, both ways
SELECT count(*) AS missing FROM (SELECT * FROM before EXCEPT ALL SELECT * FROM all_bits) x;
SELECT count(*) AS extra FROM (SELECT * FROM all_bits EXCEPT ALL SELECT * FROM before) x;
-- nothing left to do a second time
SELECT count(*) AS compressed_again FROM promscale_ha.compress_now('1 day');

-- a query by series and time reads that series' chunks in the range only
SELECT min(id) AS sid FROM promscale_ha.series \gset
SELECT count(*), min(time), max(time) FROM promscale_ha.samples
  WHERE series_id = :sid AND time >= '2026-01-01 01:00' AND time < '2026-01-01 02:00';
SELECT count(*) FROM promscale_ha.samples
  WHERE series_id = :sid AND time BETWEEN '2026-01-01 01:59:45' AND '2026-01-01 02:00:00';
-- a join from series by metric name, over an hour
SELECT count(*) FROM promscale_ha.series s JOIN promscale_ha.samples x ON x.series_id = s.id
  WHERE s.metric_name = (SELECT metric_name FROM promscale_ha.series WHERE id = :sid)
    AND x.time >= '2026-01-01 03:00' AND x.time < '2026-01-01 04:00';

-- late writes into compressed time: the same request again is already stored, all of it
SET promscale_ha.test_now = '2026-01-01 06:00:00+00';
SELECT samples_written, samples_already_stored FROM promscale_ha.write(:'data1');
-- other values at the same times: the first value stays
\set data1_gauge `:gen --series 20 --samples 960 --start-ms 1767225600000 --values gauge --hex`
SELECT samples_written, samples_already_stored FROM promscale_ha.write(:'data1_gauge');
SELECT count(*) AS changed FROM (SELECT * FROM all_bits EXCEPT ALL SELECT * FROM before) x;
-- new times in compressed time (7.5 s later) are stored, in a partition made again
\set late `:gen --series 20 --samples 960 --start-ms 1767225607500 --hex`
SELECT samples_written, samples_already_stored FROM promscale_ha.write(:'late');
SELECT count(*) AS late_rows_in_head FROM promscale_ha.samples_head WHERE time < '2026-01-02';
SELECT count(*) AS samples_with_late FROM promscale_ha.samples;
-- the next compression merges them into the chunks
SELECT range_start, samples FROM promscale_ha.compress_now('1 day') ORDER BY 1;
SELECT count(*) AS head_rows_left_in_compressed_time FROM promscale_ha.samples_head
  WHERE time < '2026-01-02';
SELECT count(*) AS samples_after_merge FROM promscale_ha.samples;
SELECT count(*) AS repeated FROM (SELECT series_id, time FROM promscale_ha.samples
  GROUP BY 1, 2 HAVING count(*) > 1) x;
SELECT count(*) AS original_missing FROM (SELECT * FROM before EXCEPT ALL SELECT * FROM all_bits) x;
-- chunks of one series never overlap, never cross a day
SELECT count(*) AS overlapping FROM promscale_ha.chunks a JOIN promscale_ha.chunks b
  ON a.series_id = b.series_id AND a.max_time < b.max_time AND b.min_time <= a.max_time;
SELECT count(*) AS across_a_day FROM promscale_ha.chunks
  WHERE date_trunc('day', min_time) <> date_trunc('day', max_time);

-- a takeover's gap fill sees the newest sample in the chunks: a leads cluster cz, b
-- follows 300 ms behind; a's samples get compressed; then b takes over and its
-- buffered samples are kept only after a's newest one, less the one 300 ms after it
-- (the same scrape slot: README, HA rule 6): 8 + 1 per series, not 8 + 9
SET promscale_ha.test_now = '2026-01-01 05:02:00+00';
\set a1 `:gen --series 3 --series-offset 300 --samples 8 --cluster cz --replica a --start-ms 1767243600000 --hex`
\set b1 `:gen --series 3 --series-offset 300 --samples 9 --cluster cz --replica b --start-ms 1767243600300 --hex`
SELECT samples_written, outcome FROM promscale_ha.write(:'a1');
SELECT samples_written, outcome FROM promscale_ha.write(:'b1');
RESET promscale_ha.test_now;
SELECT range_start, samples FROM promscale_ha.compress_now('1 day') ORDER BY 1;
SET promscale_ha.test_now = '2026-01-01 05:02:01+00';
SELECT promscale_ha.set_leader('cz', 'b');
SELECT s.labels->>'__name__' <> '' AS ok, count(*) AS samples_per_series
  FROM promscale_ha.samples x JOIN promscale_ha.series s ON s.id = x.series_id
 WHERE s.labels->>'cluster' = 'cz' GROUP BY s.id, 1 ORDER BY s.id;
RESET promscale_ha.test_now;

-- DELETE through the view says how to delete; delete_samples() works on both tiers
\set VERBOSITY sqlstate
DELETE FROM promscale_ha.samples WHERE series_id = :sid;
\set VERBOSITY default
DELETE FROM promscale_ha.samples WHERE series_id = :sid;
SELECT promscale_ha.delete_samples(ARRAY[:sid]::bigint[], '2026-01-01 01:00', '2026-01-01 03:00')
  AS deleted;
SELECT count(*) AS left_in_range FROM promscale_ha.samples
  WHERE series_id = :sid AND time >= '2026-01-01 01:00' AND time < '2026-01-01 03:00';
SELECT count(*) AS left_of_series FROM promscale_ha.samples WHERE series_id = :sid;

-- the counters
SELECT samples_compressed > 0 AS compressed_counted,
       compress_bytes_after < compress_bytes_before AS smaller FROM promscale_ha.stats;

DROP VIEW all_bits;
RESET promscale_ha.partition_interval;
TRUNCATE promscale_ha.series, promscale_ha.samples_head, promscale_ha.chunks,
         promscale_ha.compressed_ranges;
