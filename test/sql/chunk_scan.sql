-- chunk_scan: the compressed tier read through the foreign table samples_compressed
-- (src/store/chunk_scan.c) and the view samples = samples_head UNION ALL
-- samples_compressed; chunk_encode()/chunk_decode() (src/store/chunk_sql.c).
-- Chunks are made by hand with chunk_encode(); series 9001..9005 have rows in
-- promscale_ha.series, 9101..9110 are chunks only (the chunks table has no FK).

SET timezone = 'UTC';
-- errors as one line each: SQLSTATE, message, detail
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN st || ' ' || msg || coalesce(nullif(' | ' || det, ' | '), '');
END $$;
-- a float8 from its IEEE bits (float8recv is not callable from SQL): the value of a
-- one-sample XOR chunk is its last 8 bytes, stored as they are
CREATE FUNCTION pg_temp.f8(bits bytea) RETURNS float8 LANGUAGE sql AS $$
  SELECT d.value
  FROM promscale_ha.chunk_encode('{2024-01-01 00:00:00+00}', '{1}', 'xor') AS c,
       promscale_ha.chunk_decode(overlay(c PLACING bits FROM length(c) - 7)) AS d
$$;

----------------------------------------------------------------------------------------
-- chunk_encode / chunk_decode
----------------------------------------------------------------------------------------

-- the format byte: 3 xor (a Prometheus XOR chunk after a CRC32C, since 0.4.0; 1 was xor
-- without it), 2 dense (the default)
SELECT get_byte(promscale_ha.chunk_encode('{2024-01-01 00:00:00+00}', '{1}', 'xor'), 0) AS xor,
       get_byte(promscale_ha.chunk_encode('{2024-01-01 00:00:00+00}', '{1}', 'dense'), 0) AS dense,
       get_byte(promscale_ha.chunk_encode('{2024-01-01 00:00:00+00}', '{1}'), 0) AS default_format,
       promscale_ha.chunk_encode(NULL, '{1}') IS NULL AS null_times;
-- every bit pattern comes back: NaN, the stale marker, -0, +-Infinity, a denormal
CREATE TEMP TABLE special AS
SELECT i, '2024-01-01 00:00:00+00'::timestamptz + i * interval '1.5 s' AS t, v
FROM unnest(ARRAY['NaN'::float8,
                  pg_temp.f8('\x7ff0000000000002'),
                  '-0'::float8, 'Infinity', '-Infinity', 1.5, 4.9e-324, -1e308]) WITH ORDINALITY AS u(v, i);
SELECT f.format, d.time, float8send(d.value) AS bits,
       float8send(d.value) = float8send(s.v) AS exact
FROM unnest(ARRAY['xor', 'dense']) AS f(format),
     promscale_ha.chunk_decode(promscale_ha.chunk_encode(
        (SELECT array_agg(t ORDER BY i) FROM special),
        (SELECT array_agg(v ORDER BY i) FROM special), f.format)) AS d
     JOIN special s ON s.t = d.time
ORDER BY 1, 2;
-- times before 1970 and far apart
SELECT * FROM promscale_ha.chunk_decode(promscale_ha.chunk_encode(
    '{1900-01-01 00:00:00.001+00, 1969-12-31 23:59:59.999+00, 2262-04-11 23:47:16.854+00}',
    '{1, 2, 3}', 'xor'));

-- bad arguments: one each
SELECT pg_temp.err($q$SELECT promscale_ha.chunk_encode('{2024-01-01, 2024-01-02}', '{1}')$q$);
SELECT pg_temp.err($q$SELECT promscale_ha.chunk_encode('{}', '{}')$q$);
SELECT pg_temp.err($q$SELECT promscale_ha.chunk_encode('{2024-01-01, NULL}', '{1, 2}')$q$);
SELECT pg_temp.err($q$SELECT promscale_ha.chunk_encode('{2024-01-01, 2024-01-02}', '{1, NULL}')$q$);
SELECT pg_temp.err($q$SELECT promscale_ha.chunk_encode('{2024-01-02, 2024-01-01}', '{1, 2}')$q$);
SELECT pg_temp.err($q$SELECT promscale_ha.chunk_encode('{2024-01-01, 2024-01-01}', '{1, 2}', 'xor')$q$);
SELECT pg_temp.err($q$SELECT promscale_ha.chunk_encode('{2024-01-01 00:00:00.0005}', '{1}')$q$);
SELECT pg_temp.err($q$SELECT promscale_ha.chunk_encode('{infinity}', '{1}')$q$);
SELECT pg_temp.err($q$SELECT promscale_ha.chunk_encode('{{2024-01-01}}', '{{1}}')$q$);
SELECT pg_temp.err($q$SELECT promscale_ha.chunk_encode('{2024-01-01}', '{1}', 'gorilla')$q$);
-- damaged chunks: empty, unknown format byte, truncated, trailing garbage
SELECT pg_temp.err($q$SELECT * FROM promscale_ha.chunk_decode('\x')$q$);
SELECT pg_temp.err($q$SELECT * FROM promscale_ha.chunk_decode('\x09000102')$q$);
SELECT pg_temp.err($q$SELECT * FROM promscale_ha.chunk_decode(substr(promscale_ha.chunk_encode('{2024-01-01, 2024-01-02}', '{1, 2}', 'xor'), 1, 6))$q$);
SELECT pg_temp.err($q$SELECT * FROM promscale_ha.chunk_decode(promscale_ha.chunk_encode('{2024-01-01}', '{1}', 'xor') || '\xff'::bytea)$q$);

----------------------------------------------------------------------------------------
-- data: series, chunks, a head partition, the compressed range
----------------------------------------------------------------------------------------

INSERT INTO promscale_ha.series (id, metric_name, labels, labels_hash)
OVERRIDING SYSTEM VALUE
SELECT id, m, jsonb_build_object('__name__', m, 'host', h), sha256(convert_to(m || h, 'UTF8'))
FROM (VALUES (9001, 'cpu', 'a'), (9002, 'cpu', 'b'), (9003, 'special', 'a'),
             (9004, 'edges', 'a'), (9005, 'broken', 'a'), (9006, 'big', 'a')) AS v(id, m, h);

-- the chunks of one series and day: 6 samples, 10 minutes apart, from 00:00 UTC
CREATE TEMP VIEW day_chunks AS
SELECT k, promscale_ha.chunk_encode(array_agg(t ORDER BY t), array_agg(v ORDER BY t),
                                    CASE WHEN k % 2 = 0 THEN 'xor' ELSE 'dense' END) AS data,
       min(t) AS min_time, max(t) AS max_time, count(*)::int AS samples
FROM (SELECT k, '2024-01-01 00:00:00+00'::timestamptz + k * interval '1 day' + j * interval '10 min' AS t,
             (k * 10 + j)::float8 AS v
      FROM generate_series(0, 9) k, generate_series(0, 5) j) s
GROUP BY k;
-- 9001: days 0..9; 9002: days 8, 9; 9101..9110: one day each; and as many chunks as
-- a few hundred series make, so that the planner sees a realistic table: 10001..10400,
-- days 0..9
INSERT INTO promscale_ha.chunks (series_id, min_time, max_time, samples, data)
SELECT 9001, min_time, max_time, samples, data FROM day_chunks
UNION ALL
SELECT 9002, min_time, max_time, samples, data FROM day_chunks WHERE k >= 8
UNION ALL
SELECT 9101 + k, min_time, max_time, samples, data FROM day_chunks
UNION ALL
SELECT 10000 + g, min_time, max_time, samples, data FROM day_chunks, generate_series(1, 400) g;
-- 9003: the special values, in an xor and a dense chunk
INSERT INTO promscale_ha.chunks (series_id, min_time, max_time, samples, data)
SELECT 9003, min(t) + d * interval '1 day', max(t) + d * interval '1 day', count(*),
       promscale_ha.chunk_encode(array_agg(t + d * interval '1 day' ORDER BY i),
                                 array_agg(v ORDER BY i), f)
FROM special, (VALUES (0, 'xor'), (1, 'dense')) AS x(d, f)
GROUP BY d, f;
-- 9004: samples 1 ms apart, for the bounds
INSERT INTO promscale_ha.chunks (series_id, min_time, max_time, samples, data)
VALUES (9004, '2024-01-02 12:00:00.000+00', '2024-01-02 12:00:00.004+00', 5,
        promscale_ha.chunk_encode('{2024-01-02 12:00:00.000+00, 2024-01-02 12:00:00.001+00,
                                    2024-01-02 12:00:00.002+00, 2024-01-02 12:00:00.003+00,
                                    2024-01-02 12:00:00.004+00}', '{0, 1, 2, 3, 4}', 'xor'));
-- 9006: 3000 full-precision values in one xor chunk, stored out of line (TOAST)
INSERT INTO promscale_ha.chunks (series_id, min_time, max_time, samples, data)
SELECT 9006, min(t), max(t), count(*),
       promscale_ha.chunk_encode(array_agg(t ORDER BY t), array_agg(sin(i) ORDER BY t), 'xor')
FROM (SELECT i, '2024-01-03 00:00:00+00'::timestamptz + i * interval '15 s' AS t
      FROM generate_series(1, 3000) i) s;
INSERT INTO promscale_ha.compressed_ranges VALUES
  ('2024-01-01 00:00:00+00', '2024-01-11 00:00:00+00', '2024-01-12 00:00:00+00',
   (SELECT sum(samples) FROM promscale_ha.chunks), (SELECT count(*) FROM promscale_ha.chunks),
   0, 0);
-- the head: one day after the compressed range
CREATE TABLE promscale_ha.samples_test_head PARTITION OF promscale_ha.samples_head
  FOR VALUES FROM ('2024-01-11 00:00:00+00') TO ('2024-01-12 00:00:00+00');
INSERT INTO promscale_ha.samples_head VALUES
  (9001, '2024-01-11 00:00:00+00', 100), (9001, '2024-01-11 00:10:00+00', 101),
  (9002, '2024-01-11 00:00:00+00', 200);
ANALYZE promscale_ha.chunks, promscale_ha.series, promscale_ha.samples_test_head;

----------------------------------------------------------------------------------------
-- reading through the view
----------------------------------------------------------------------------------------

-- head and chunks together, in both formats
SELECT series_id, count(*), min(time), max(time), sum(value)
FROM promscale_ha.samples WHERE series_id IN (9001, 9002) GROUP BY 1 ORDER BY 1;
SELECT count(*) AS compressed_samples, count(DISTINCT series_id) AS series,
       sum(value) FILTER (WHERE series_id <> 9003) AS sum
FROM promscale_ha.samples_compressed WHERE series_id < 10000;
SELECT count(*) AS compressed_samples, count(DISTINCT series_id) AS series
FROM promscale_ha.samples_compressed;
-- special values bit for bit, from both formats
SELECT time, float8send(value) AS bits
FROM promscale_ha.samples WHERE series_id = 9003 ORDER BY time;

-- a chunk read back from TOAST
SELECT pg_column_size(data) > 2000 AS large, samples FROM promscale_ha.chunks WHERE series_id = 9006;
SELECT count(*), sum(value) = (SELECT sum(sin(i)) FROM generate_series(1, 3000) i) AS same_sum,
       bool_and(value = sin((extract(epoch FROM time - '2024-01-03 00:00:00+00') / 15)::int)) AS exact
FROM promscale_ha.samples WHERE series_id = 9006;

-- time bounds at the exact millisecond (offsets in ms from 12:00)
CREATE TEMP VIEW edges AS
SELECT (extract(epoch FROM time - '2024-01-02 12:00:00+00') * 1000)::int AS ms, value, time
FROM promscale_ha.samples WHERE series_id = 9004;
SELECT array_agg(ms ORDER BY ms) FROM edges WHERE time > '2024-01-02 12:00:00.001+00';
SELECT array_agg(ms ORDER BY ms) FROM edges WHERE time >= '2024-01-02 12:00:00.001+00';
SELECT array_agg(ms ORDER BY ms) FROM edges WHERE time < '2024-01-02 12:00:00.003+00';
SELECT array_agg(ms ORDER BY ms) FROM edges WHERE time <= '2024-01-02 12:00:00.003+00';
SELECT array_agg(ms ORDER BY ms) FROM edges WHERE time = '2024-01-02 12:00:00.002+00';
SELECT array_agg(ms ORDER BY ms) FROM edges
  WHERE '2024-01-02 12:00:00.001+00' < time AND '2024-01-02 12:00:00.004+00' > time;
-- between two samples (microseconds), and an empty range
SELECT array_agg(ms ORDER BY ms) FROM edges
  WHERE time > '2024-01-02 12:00:00.0015+00' AND time <= '2024-01-02 12:00:00.0035+00';
SELECT count(*) FROM edges
  WHERE time > '2024-01-02 12:00:00.002+00' AND time < '2024-01-02 12:00:00.003+00';
-- several bounds on one side: the tightest wins, exclusive over inclusive
SELECT array_agg(ms ORDER BY ms) FROM edges
  WHERE time >= '2024-01-02 12:00:00.001+00' AND time > '2024-01-02 12:00:00.001+00'
    AND time > '2024-01-02 12:00:00+00' AND time <= '2024-01-02 12:00:00.004+00'
    AND time < '2024-01-02 12:00:00.004+00';

-- series conditions: =, IN, = ANY, integer types, reversed operands, NULLs
SELECT series_id, count(*) FROM promscale_ha.samples_compressed
  WHERE series_id IN (9002, 9004, 9999) GROUP BY 1 ORDER BY 1;
SELECT series_id, count(*) FROM promscale_ha.samples_compressed
  WHERE series_id = ANY ('{9004, 9002, 9004}') GROUP BY 1 ORDER BY 1;
SELECT series_id, count(*) FROM promscale_ha.samples_compressed
  WHERE series_id = ANY (ARRAY[9004, NULL]::int[]) GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM promscale_ha.samples_compressed WHERE 9004::int2 = series_id;
SELECT count(*) FROM promscale_ha.samples_compressed WHERE series_id = 9004 AND series_id = 9002;
SELECT count(*) FROM promscale_ha.samples_compressed WHERE series_id = NULL::bigint;
SELECT count(*) FROM promscale_ha.samples_compressed WHERE series_id = ANY (NULL::bigint[]);
SELECT count(*) FROM promscale_ha.samples_compressed WHERE time > NULL::timestamptz;
-- stable expressions and parameters are enforced by the scan as well
SELECT count(*) FROM promscale_ha.samples_compressed
  WHERE series_id = 9001 AND time >= now() - interval '1000 years';
-- (a generic plan: the bounds are Params the scan evaluates at run time)
SET plan_cache_mode = force_generic_plan;
PREPARE by_range(bigint[], timestamptz, timestamptz) AS
  SELECT count(*), min(time), max(time) FROM promscale_ha.samples
  WHERE series_id = ANY ($1) AND time >= $2 AND time < $3;
EXECUTE by_range('{9001, 9002}', '2024-01-09 00:10:00+00', '2024-01-11 00:10:00+00');
EXECUTE by_range('{9001}', '2024-01-05 00:00:00+00', '2024-01-05 00:00:00.001+00');
EXPLAIN (COSTS OFF) EXECUTE by_range('{9001}', '2024-01-05 00:00:00+00', '2024-01-06 00:00:00+00');
DEALLOCATE by_range;
RESET plan_cache_mode;

-- what the scan enforces, and what stays a filter
EXPLAIN (COSTS OFF)
SELECT * FROM promscale_ha.samples_compressed
WHERE series_id IN (9001, 9002) AND time >= '2024-01-03 00:00:00+00' AND value > 40
  AND '2024-01-06 00:00:00+00' > time;

-- only the chunks of the series that overlap the range are read: 9001 has one chunk a
-- day, so [01-03, 01-06) reads three of its ten; 9101..9110 are not touched
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM promscale_ha.samples
WHERE series_id = 9001 AND time >= '2024-01-03 00:00:00+00' AND time < '2024-01-06 00:00:00+00';
-- by time alone: the chunks of every series on those days (9001, 9102..9104,
-- 10001..10400 and 9006's: 3 + 3 + 1200 + 1)
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM promscale_ha.samples_compressed
WHERE time >= '2024-01-03 00:00:00+00' AND time < '2024-01-06 00:00:00+00';

-- a join from series by metric name: a nested loop probing the chunks of each series
EXPLAIN (COSTS OFF)
SELECT s.labels->>'host' AS host, x.time, x.value
FROM promscale_ha.series s JOIN promscale_ha.samples x ON x.series_id = s.id
WHERE s.metric_name = 'cpu' AND x.time >= '2024-01-09 00:30:00+00';
SELECT s.labels->>'host' AS host, x.time, x.value
FROM promscale_ha.series s JOIN promscale_ha.samples x ON x.series_id = s.id
WHERE s.metric_name = 'cpu' AND x.time >= '2024-01-09 00:30:00+00'
ORDER BY 1, 2;
-- the same join rescans once per series: chunks read over both loops
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*)
FROM promscale_ha.series s JOIN promscale_ha.samples_compressed x ON x.series_id = s.id
WHERE s.metric_name = 'cpu' AND x.time >= '2024-01-09 00:30:00+00';

-- a correlated subquery: the outer series id is a parameter of the scan
SELECT s.id,
       (SELECT max(time) FROM promscale_ha.samples x
        WHERE x.series_id = s.id AND x.time < '2024-01-09 00:00:00+00') AS last_before_9th,
       (SELECT count(*) FROM promscale_ha.samples x
        WHERE x.series_id = s.id AND x.time >= '2024-01-09 00:00:00+00') AS since_9th
FROM promscale_ha.series s WHERE s.id BETWEEN 9001 AND 9004 ORDER BY 1;
EXPLAIN (COSTS OFF)
SELECT s.id, (SELECT count(*) FROM promscale_ha.samples_compressed x
              WHERE x.series_id = s.id AND x.time >= '2024-01-09 00:00:00+00')
FROM promscale_ha.series s WHERE s.id BETWEEN 9001 AND 9004;

-- 400 rescans through LATERAL, 6 chunks of 6 samples each (days 4..9)
SELECT count(*) AS series, sum(n) AS samples
FROM generate_series(10001, 10400) g,
     LATERAL (SELECT count(*) AS n FROM promscale_ha.samples_compressed
              WHERE series_id = g AND time >= '2024-01-05 00:00:00+00') x;
-- a scan stopped early (LIMIT), and one driven fetch by fetch from a cursor
SELECT count(*) FROM (SELECT * FROM promscale_ha.samples_compressed LIMIT 100) s;
BEGIN;
DECLARE c CURSOR FOR
  SELECT series_id, time, value FROM promscale_ha.samples_compressed
  WHERE series_id IN (9002, 9001) AND time >= '2024-01-09 00:40:00+00';  -- in series, time order
FETCH 2 FROM c;
FETCH 3 FROM c;
FETCH 9 FROM c;
CLOSE c;
COMMIT;

-- the compressed tier is read-only
INSERT INTO promscale_ha.samples_compressed VALUES (9001, '2024-01-01', 1);
DELETE FROM promscale_ha.samples_compressed WHERE series_id = 9001;

----------------------------------------------------------------------------------------
-- corrupt chunks: ERRCODE_DATA_CORRUPTED (XX001), never a crash
----------------------------------------------------------------------------------------

INSERT INTO promscale_ha.chunks (series_id, min_time, max_time, samples, data)
SELECT 9005, min_time, max_time, samples, data FROM day_chunks WHERE k IN (0, 1);
SELECT count(*) FROM promscale_ha.samples WHERE series_id = 9005;
-- an unknown format byte
UPDATE promscale_ha.chunks SET data = set_byte(data, 0, 9)
  WHERE series_id = 9005 AND max_time < '2024-01-02';
SELECT count(*) FROM promscale_ha.samples WHERE series_id = 9005;
\set VERBOSITY sqlstate
SELECT count(*) FROM promscale_ha.samples WHERE series_id = 9005;
\set VERBOSITY default
-- a chunk outside the queried range is not read
SELECT count(*) FROM promscale_ha.samples WHERE series_id = 9005 AND time >= '2024-01-02';
-- damaged bytes: the xor chunk cut short, the dense chunk's body overwritten
UPDATE promscale_ha.chunks SET data = substr(set_byte(data, 0, 1), 1, length(data) - 2)
  WHERE series_id = 9005 AND max_time < '2024-01-02';
UPDATE promscale_ha.chunks SET data = overlay(data PLACING '\xffffffff'::bytea FROM 4)
  WHERE series_id = 9005 AND max_time > '2024-01-02';
SELECT pg_temp.err($q$SELECT sum(value) FROM promscale_ha.samples_compressed WHERE time < '2024-01-02'$q$);
SELECT pg_temp.err($q$SELECT count(*) FROM promscale_ha.samples WHERE series_id = 9005 AND time >= '2024-01-02'$q$);
-- good bytes that disagree with the row: the sample count, the time range
UPDATE promscale_ha.chunks c SET data = d.data FROM day_chunks d
  WHERE c.series_id = 9005 AND d.k = 1 AND c.max_time > '2024-01-02';
UPDATE promscale_ha.chunks SET samples = 7 WHERE series_id = 9005 AND max_time > '2024-01-02';
SELECT pg_temp.err($q$SELECT count(*) FROM promscale_ha.samples WHERE series_id = 9005 AND time >= '2024-01-02'$q$);
UPDATE promscale_ha.chunks SET samples = 6, min_time = min_time + interval '1 ms'
  WHERE series_id = 9005 AND max_time > '2024-01-02';
SELECT pg_temp.err($q$SELECT count(*) FROM promscale_ha.samples WHERE series_id = 9005 AND time >= '2024-01-02'$q$);
SELECT pg_temp.err($q$SELECT count(*) FROM promscale_ha.chunks c, promscale_ha.chunk_decode(set_byte(c.data, 1, 255)) d WHERE series_id = 9005$q$);
-- an xor chunk's checksum covers its bytes and its row: a changed checksum byte, or the
-- row's time range moved, is XX001 for the readers; chunk_decode() still shows the
-- samples (it is the tool to look at a refused chunk)
UPDATE promscale_ha.chunks c SET data = set_byte(d.data, 1, get_byte(d.data, 1) # 1),
                                 samples = d.samples, min_time = d.min_time
  FROM day_chunks d WHERE c.series_id = 9005 AND d.k = 0 AND c.max_time < '2024-01-02';
SELECT pg_temp.err($q$SELECT count(*) FROM promscale_ha.samples WHERE series_id = 9005 AND time < '2024-01-02'$q$);
SELECT count(*) AS decoded_anyway FROM promscale_ha.chunks c, promscale_ha.chunk_decode(c.data) d
  WHERE series_id = 9005 AND max_time < '2024-01-02';
UPDATE promscale_ha.chunks c SET data = d.data, max_time = d.max_time + interval '1 ms'
  FROM day_chunks d WHERE c.series_id = 9005 AND d.k = 0 AND c.max_time < '2024-01-02';
SELECT pg_temp.err($q$SELECT count(*) FROM promscale_ha.samples WHERE series_id = 9005 AND time < '2024-01-02'$q$);

-- a join into recent time, where no chunk lies: the head partition is still read
-- through its index, once per series the join finds (a parameterized path through the
-- view), not whole; the chunk scan takes the same parameter
CREATE TABLE promscale_ha.samples_test_recent PARTITION OF promscale_ha.samples_head
  FOR VALUES FROM ('2024-01-20 00:00:00+00') TO ('2024-01-21 00:00:00+00');
-- the unique index every head partition gets (src/store/partition.c)
CREATE UNIQUE INDEX ON promscale_ha.samples_test_recent (series_id, time);
INSERT INTO promscale_ha.samples_head
SELECT 9001 + i % 400, '2024-01-20 00:00:00+00'::timestamptz + (i / 400) * interval '15 s', i
FROM generate_series(0, 399999) i;
ANALYZE promscale_ha.samples_test_recent;
EXPLAIN (COSTS OFF)
SELECT x.time, x.value FROM promscale_ha.series s JOIN promscale_ha.samples x ON x.series_id = s.id
WHERE s.metric_name = 'cpu' AND s.labels @> '{"host": "a"}'
  AND x.time >= '2024-01-20 01:00:00+00' AND x.time < '2024-01-20 02:00:00+00';
SELECT count(*), min(x.value), max(x.value)
FROM promscale_ha.series s JOIN promscale_ha.samples x ON x.series_id = s.id
WHERE s.metric_name = 'cpu' AND s.labels @> '{"host": "a"}'
  AND x.time >= '2024-01-20 01:00:00+00' AND x.time < '2024-01-20 02:00:00+00';
DROP TABLE promscale_ha.samples_test_recent;

-- leave nothing behind for the next tests
DROP TABLE promscale_ha.samples_test_head;
DELETE FROM promscale_ha.chunks WHERE series_id BETWEEN 9001 AND 10400;
DELETE FROM promscale_ha.compressed_ranges WHERE range_start = '2024-01-01 00:00:00+00';
DELETE FROM promscale_ha.series WHERE id BETWEEN 9001 AND 9006;
