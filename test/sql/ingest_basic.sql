-- ingest_basic: promscale_ha.write() stores what it is sent, and reads back the same.
-- Label order does not make a new series, a repeated payload stores nothing twice (the
-- first value wins), exemplars/histograms/metadata are counted and not stored, empty
-- label values are dropped, and a series with only the cluster label is plain data.
-- Payloads: test/data fixtures (test/data/README.md) and promscale-ha-gen.
\getenv abs_srcdir PG_ABS_SRCDIR
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
\set basic :abs_srcdir '/data/basic_10x3.bin'
\set unsorted :abs_srcdir '/data/unsorted.bin'
\set extras :abs_srcdir '/data/extras.bin'
\set empty_request :abs_srcdir '/data/case_empty-request.bin'
-- earlier tests of this database leave rows behind; this one starts from empty tables
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
-- the stored samples of every series, one row per series
CREATE VIEW stored AS
  SELECT s.metric_name, s.labels::text AS labels, count(*) AS n,
         to_char(min(x.time) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS first,
         to_char(max(x.time) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS last,
         array_agg(x.value ORDER BY x.time) AS vals,
         s.id
  FROM promscale_ha.series s JOIN promscale_ha.samples x ON x.series_id = s.id
  GROUP BY s.id, s.metric_name, s.labels;
-- samples whose series_id names no series (must stay 0)
CREATE VIEW orphans AS
  SELECT count(*) AS orphan_samples FROM promscale_ha.samples x
  WHERE NOT EXISTS (SELECT 1 FROM promscale_ha.series s WHERE s.id = x.series_id);

-- 10 series over 3 metric names, 3 samples each: everything is new
\x on
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'basic'));
\x off
SELECT metric_name, labels, n, first, last, vals FROM stored ORDER BY metric_name, labels;
SELECT count(*) AS series, count(DISTINCT labels_hash) AS hashes,
       bool_and(length(labels_hash) = 32) AS sha256_hashes,
       bool_and(metric_name = labels->>'__name__') AS name_matches_label
FROM promscale_ha.series;
SELECT * FROM orphans;

-- the same series with each label set in reverse order: no new series, nothing new
\x on
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'unsorted'));
\x off
-- the same payload again: every sample is already stored
SELECT samples_received, samples_written, series_created, samples_already_stored, outcome
  FROM promscale_ha.write(pg_read_binary_file(:'basic'));
SELECT count(*) AS series FROM promscale_ha.series;
SELECT count(*) AS samples FROM promscale_ha.samples;

-- one more sample per series: only the new one is written
\set four `:gen --series 10 --samples 4 --metrics 3 --hex`
SELECT samples_received, samples_written, series_created, samples_already_stored, outcome
  FROM promscale_ha.write(:'four');
-- other values for stored times: skipped, the first value stays
\set gauge `:gen --series 10 --samples 4 --metrics 3 --values gauge --hex`
SELECT samples_received, samples_written, series_created, samples_already_stored, outcome
  FROM promscale_ha.write(:'gauge');
SELECT metric_name, labels, n, first, last, vals FROM stored ORDER BY metric_name, labels;
-- three samples of one series at the same time in one request: the first one wins
\set same_time `:gen --series 1 --series-offset 900 --samples 3 --step-ms 0 --values special --hex`
SELECT samples_received, samples_written, series_created, samples_already_stored, outcome
  FROM promscale_ha.write(:'same_time');
SELECT n, first, encode(float8send(vals[1]), 'hex') AS value_bits
  FROM stored WHERE id = (SELECT max(id) FROM promscale_ha.series);

-- exemplars, native histograms and metadata: counted, not stored; the float samples of
-- the same series are stored (on empty tables: some of these series are above too)
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
\x on
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'extras'));
\x off
SELECT metric_name, n, first, last FROM stored ORDER BY metric_name, labels;

-- a request with no series
\x on
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'empty_request'));
\x off

-- a label with an empty value is no label: the same series as without it
\set with_empty `:gen --series 2 --series-offset 50 --label extra= --hex`
\set without `:gen --series 2 --series-offset 50 --hex`
SELECT samples_written, series_created FROM promscale_ha.write(:'with_empty');
SELECT samples_written, series_created, samples_already_stored FROM promscale_ha.write(:'without');
SELECT count(*) AS with_extra_label FROM promscale_ha.series WHERE labels ? 'extra';

-- only the cluster label (no replica label): plain data, stored as sent, no election
\set cluster_only `:gen --series 2 --series-offset 60 --cluster solo --hex`
SELECT samples_written, samples_deduplicated, series_created, outcome
  FROM promscale_ha.write(:'cluster_only');
SELECT count(*) AS series, min(labels->>'cluster') AS cluster,
       bool_or(labels ? '__replica__') AS has_replica
  FROM promscale_ha.series WHERE labels ? 'cluster';
SELECT count(*) AS leases FROM promscale_ha.ha_leases WHERE cluster_name = 'solo';
-- ... unless every series must carry both labels
SET promscale_ha.require_ha_labels = on;
\set cluster_only2 `:gen --series 2 --series-offset 70 --cluster solo --hex`
SELECT count(*) AS series_before FROM promscale_ha.series \gset
SELECT * FROM promscale_ha.write(:'cluster_only2');
\set VERBOSITY sqlstate
SELECT * FROM promscale_ha.write(:'cluster_only2');
\set VERBOSITY default
RESET promscale_ha.require_ha_labels;
SELECT count(*) - :series_before AS series_added FROM promscale_ha.series;

SELECT * FROM orphans;
DROP VIEW stored;
DROP VIEW orphans;
