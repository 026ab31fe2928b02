-- compress_read: compression reads a head partition by one scan of its heap, grouping rows
-- by series in memory or, when they may not fit maintenance_work_mem, through temporary
-- files of a batch of series each (series_id % batches).  Either way every sample is
-- stored once, in time order, a repeated ms keeping its earliest microsecond.
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
SET timezone = 'UTC';
SET promscale_ha.partition_interval = '2h';
SET promscale_ha.max_future = '10min';
SET promscale_ha.test_now = '2026-02-01 06:00:00+00';
TRUNCATE promscale_ha.series, promscale_ha.samples_head, promscale_ha.chunks,
         promscale_ha.compressed_ranges;

-- 2026-02-01 00:00-02:00: 200 series every 15 s; 02:00-04:00: 600 series.  The slots at
-- :15 and :45 are written after those at :00 and :30, so on the heap each series' rows
-- are out of time order.
\set a_even `:gen --series 200 --samples 240 --step-ms 30000 --values gauge --start-ms 1769904000000 --hex`
\set a_odd `:gen --series 200 --samples 240 --step-ms 30000 --values gauge --start-ms 1769904015000 --hex`
\set b_even `:gen --series 600 --samples 240 --step-ms 30000 --values gauge --start-ms 1769911200000 --hex`
\set b_odd `:gen --series 600 --samples 240 --step-ms 30000 --values gauge --start-ms 1769911215000 --hex`
SELECT samples_written FROM promscale_ha.write(:'a_even');
SELECT samples_written FROM promscale_ha.write(:'a_odd');
SELECT samples_written FROM promscale_ha.write(:'b_even');
SELECT samples_written FROM promscale_ha.write(:'b_odd');
-- sub-ms times written by hand: the later microsecond of one ms is inserted first, and
-- one row falls in the ms of a sample already there (which stays)
SELECT min(id) AS sid FROM promscale_ha.series \gset
INSERT INTO promscale_ha.samples_head (series_id, time, value) VALUES
  (:sid, '2026-02-01 00:00:07.0009', 2), (:sid, '2026-02-01 00:00:07.0004', 1),
  (:sid, '2026-02-01 00:00:15.0005', 99),
  (:sid, '2026-02-01 02:00:07.0009', 2), (:sid, '2026-02-01 02:00:07.0004', 1),
  (:sid, '2026-02-01 02:00:15.0005', 99);
-- what must come back: per (series, ms) the row of the earliest microsecond
CREATE TEMP TABLE expect AS
  SELECT DISTINCT ON (series_id, ms) series_id, ms, float8send(value) AS bits
    FROM (SELECT series_id, value, time,
                 floor(extract(epoch FROM time) * 1000)::bigint AS ms
            FROM promscale_ha.samples_head) x
   ORDER BY series_id, ms, time;
SELECT count(*) AS rows_written, (SELECT count(*) FROM expect) AS samples_expected
  FROM promscale_ha.samples_head;

-- 1 MB holds 32,768 rows (32 bytes each at most): 96,000 rows go in 3 batches, 288,000
-- in 9 (the DEBUG lines); compress.sql's partitions are read in memory
SET maintenance_work_mem = '1MB';
SET log_temp_files = -1;  -- their names carry the backend's pid
SET client_min_messages = debug1;
SELECT range_start, range_end, samples, chunks FROM promscale_ha.compress_now('1 day') ORDER BY 1;
RESET client_min_messages;
RESET maintenance_work_mem;

CREATE TEMP TABLE got AS
  SELECT series_id, (extract(epoch FROM time) * 1000)::bigint AS ms, float8send(value) AS bits
    FROM promscale_ha.samples;
SELECT count(*) AS samples_read FROM got;
SELECT count(*) AS missing FROM (SELECT * FROM expect EXCEPT ALL SELECT * FROM got) x;
SELECT count(*) AS extra FROM (SELECT * FROM got EXCEPT ALL SELECT * FROM expect) x;
SELECT count(*) AS head_rows_left FROM promscale_ha.samples_head;
-- the chunks' time ranges are right: a range query finds what is in the range
SELECT (SELECT count(*) FROM promscale_ha.samples
         WHERE time >= '2026-02-01 01:00' AND time < '2026-02-01 03:00')
     = (SELECT count(*) FROM expect
         WHERE ms >= 1769907600000 AND ms < 1769914800000) AS range_query_matches;
SELECT count(*) AS overlapping_chunks
  FROM (SELECT max_time, lead(min_time) OVER (PARTITION BY series_id ORDER BY min_time) AS next
          FROM promscale_ha.chunks) c
 WHERE next <= max_time;
SELECT time, value FROM promscale_ha.samples
 WHERE series_id = :sid AND time < '2026-02-01 00:00:31' ORDER BY time;
-- rows written earlier in the same statement are compressed too, not emptied away
\set c `:gen --series 10 --samples 100 --values gauge --start-ms 1769918400000 --hex`
-- (at the default maintenance_work_mem, in memory)
SET client_min_messages = debug1;
SELECT w.samples_written, c.samples
  FROM promscale_ha.write(:'c') w, LATERAL promscale_ha.compress_now('1 day') c;
RESET client_min_messages;
SELECT count(*) AS head_rows, (SELECT count(*) FROM promscale_ha.samples
                                WHERE time >= '2026-02-01 04:00') AS stored_after_4h
  FROM promscale_ha.samples_head;

-- leave nothing behind for the suites after this one
TRUNCATE promscale_ha.series, promscale_ha.samples_head, promscale_ha.chunks,
         promscale_ha.compressed_ranges;
