-- ingest_values: what is stored is exactly what was sent.  Special float values keep
-- their bits (the stale marker NaN 0x7ff0000000000002 above all), a request made by an
-- encoder that shares no code with the project is stored row for row, and samples of
-- any time (a year back, an hour ahead, long ago) land in partitions made on demand.
\getenv abs_srcdir PG_ABS_SRCDIR
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
\set special :abs_srcdir '/data/special_values.bin'
\set independent :abs_srcdir '/data/independent.bin'
\set independent_expected :abs_srcdir '/data/independent.expected'
\set big :abs_srcdir '/data/big_10k.bin'
SET TIME ZONE 'UTC';
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
-- every stored sample: its series' name and other labels, ms since the epoch, the value
-- and the value's bits
CREATE VIEW rows AS
  SELECT s.metric_name, s.labels - '__name__' AS labels,
         (extract(epoch FROM x.time) * 1000)::bigint AS ts_ms, x.value,
         encode(float8send(x.value), 'hex') AS bits
  FROM promscale_ha.samples x JOIN promscale_ha.series s ON s.id = x.series_id;

-- special values, bit for bit
SELECT samples_received, samples_written, series_created, outcome
  FROM promscale_ha.write(pg_read_binary_file(:'special'));
SELECT r.ts_ms - 1767225600000 AS offset_ms, r.value, r.bits, e.bits AS sent,
       r.bits = e.bits AS exact
FROM rows r
JOIN (VALUES (0, '7ff8000000000001'),        -- a NaN with a payload
             (15000, '7ff0000000000000'),    -- +Inf
             (30000, 'fff0000000000000'),    -- -Inf
             (45000, '7ff0000000000002'),    -- the stale marker
             (60000, '8000000000000000'),    -- -0.0
             (75000, '7fe1ccf385ebc8a0'),    -- 1e308
             (90000, '0000000000000001'),    -- 5e-324, the smallest subnormal
             (105000, '7ff8000000000001')) AS e(offset_ms, bits)
  ON r.ts_ms - 1767225600000 = e.offset_ms
ORDER BY r.ts_ms;
SELECT count(*) AS stale_markers FROM promscale_ha.samples
  WHERE float8send(value) = '\x7ff0000000000002'::bytea;

-- the independent encoder's request (test/independent_encoder.py): every row of
-- independent.expected is stored, and nothing else
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
CREATE TEMP TABLE expected (metric_name text, labels text, ts_ms bigint, bits text);
COPY expected FROM :'independent_expected';
SELECT samples_received, samples_written, series_created, outcome
  FROM promscale_ha.write(pg_read_binary_file(:'independent'));
SELECT e.metric_name, e.labels, e.ts_ms, e.bits, r.bits IS NOT NULL AS stored
FROM expected e
LEFT JOIN rows r ON r.metric_name = e.metric_name AND r.labels = e.labels::jsonb
                AND r.ts_ms = e.ts_ms AND r.bits = e.bits
ORDER BY e.metric_name, e.ts_ms;
SELECT count(*) AS stored_but_not_expected FROM rows r
  WHERE NOT EXISTS (SELECT 1 FROM expected e
                    WHERE r.metric_name = e.metric_name AND r.labels = e.labels::jsonb
                      AND r.ts_ms = e.ts_ms AND r.bits = e.bits);
-- the label values come back as sent, quotes and non-ASCII included
SELECT metric_name, labels->>'path' AS path, labels->>'unicode' AS unicode,
       octet_length(labels->>'unicode') AS unicode_bytes
  FROM promscale_ha.series WHERE metric_name = 'weird_metric';

-- backfill: a year back and an hour ahead of now.  Each sample is in the partition of
-- its UTC day, made by write() when it was first needed.
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
SELECT (extract(epoch FROM now() - interval '1 year') * 1000)::bigint AS year_ago_ms,
       (extract(epoch FROM now() + interval '1 hour') * 1000)::bigint AS hour_ahead_ms \gset
\set year_ago `:gen --series 3 --samples 2 --start-ms :year_ago_ms --hex`
\set hour_ahead `:gen --series 3 --samples 2 --start-ms :hour_ahead_ms --hex`
SELECT samples_written, series_created FROM promscale_ha.write(:'year_ago');
SELECT samples_written, series_created FROM promscale_ha.write(:'hour_ahead');
SELECT CASE WHEN x.time < now() THEN 'a year ago' ELSE 'an hour ahead' END AS sent_for,
       count(*) AS samples,
       bool_and(x.tableoid::regclass::text
                = 'promscale_ha.samples_' || to_char(x.time, 'YYYYMMDD')) AS in_partition_of_its_day,
       bool_and(EXISTS (SELECT 1 FROM pg_inherits i
                        WHERE i.inhrelid = x.tableoid
                          AND i.inhparent = 'promscale_ha.samples_head'::regclass)) AS partition_of_samples
FROM promscale_ha.samples_head x GROUP BY 1 ORDER BY 1;
-- the partitions' ranges are whole UTC days
SELECT bool_and(pg_get_expr(c.relpartbound, c.oid)
                = format('FOR VALUES FROM (%L) TO (%L)',
                         to_timestamp(substr(c.relname, 9), 'YYYYMMDD'),
                         to_timestamp(substr(c.relname, 9), 'YYYYMMDD') + interval '1 day'))
         AS whole_days
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'promscale_ha.samples_head'::regclass AND c.relkind = 'r'
  AND c.relname ~ '^samples_[0-9]{8}$';

-- 40 days of history in one request: 40 new partitions
\set history `:gen --series 2 --samples 40 --step-ms 86400000 --start-ms 1262304000000 --hex`
SELECT samples_written, series_created FROM promscale_ha.write(:'history');
SELECT count(*) AS partitions, min(c.relname), max(c.relname)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'promscale_ha.samples_head'::regclass AND c.relname LIKE 'samples\_2010%';

-- with promscale_ha.partition_interval = 1h the names carry the hour; a partition made
-- later with a wider interval fills only the gap next to it
\set hourly `:gen --series 1 --start-ms 1592217000000 --hex`
\set later `:gen --series 1 --start-ms 1592224200000 --hex`
SET promscale_ha.partition_interval = '1h';
SELECT samples_written FROM promscale_ha.write(:'hourly');
RESET promscale_ha.partition_interval;
SELECT samples_written FROM promscale_ha.write(:'later');
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bounds
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'promscale_ha.samples_head'::regclass AND c.relname LIKE 'samples\_202006%'
ORDER BY 1;
SELECT to_char(time, 'YYYY-MM-DD HH24:MI') AS time, tableoid::regclass AS partition
  FROM promscale_ha.samples_head WHERE time >= '2020-06-15' AND time < '2020-06-16' ORDER BY 1;

-- 10,000 new series in one request, and the same request again
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
SELECT samples_received, samples_written, series_created, outcome
  FROM promscale_ha.write(pg_read_binary_file(:'big'));
SELECT samples_received, samples_written, series_created, samples_already_stored, outcome
  FROM promscale_ha.write(pg_read_binary_file(:'big'));
SELECT count(*) AS series, count(DISTINCT metric_name) AS metric_names FROM promscale_ha.series;

DROP VIEW rows;
