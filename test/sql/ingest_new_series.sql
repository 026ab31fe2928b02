-- ingest_new_series: many new series in one request are inserted in one batch (heap
-- multi-inserts, src/store/series_insert.c), and that changes nothing users see: one
-- row per label set, labels exactly as the generic jsonb builder makes them, a label set
-- sent twice in one request stored once, a request of new and existing series creating
-- only the new ones, every sample pointing at its series.  The tuples a request inserts
-- into series (the growth of pg_stat_xact_user_tables.n_tup_ins in its transaction,
-- attempts undone by a subtransaction included) show that a batch wastes no insert: no
-- row inserted and thrown away when a label set is repeated in the request.
-- Payloads: promscale-ha-gen; a request with repeated series is the concatenation of two
-- bare WriteRequests (protobuf concatenates repeated fields), wrapped in snappy literals.
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
TRUNCATE promscale_ha.series, promscale_ha.samples_head;

-- A snappy block of raw as literals (at most 65536 bytes each): the format write() takes.
CREATE FUNCTION snappy_literal(raw bytea) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
  n int := length(raw);
  out bytea := '\x';
  v int := n;
  part bytea;
BEGIN
  LOOP  -- the uncompressed length, a varint
    IF v < 128 THEN out := out || set_byte('\x00', 0, v); EXIT; END IF;
    out := out || set_byte('\x00', 0, (v % 128) + 128);
    v := v / 128;
  END LOOP;
  FOR off IN 0 .. n - 1 BY 65536 LOOP
    part := substring(raw FROM off + 1 FOR 65536);
    out := out || '\xf4'::bytea || set_byte(set_byte('\x0000', 0, (length(part) - 1) % 256), 1,
                                             (length(part) - 1) / 256) || part;
  END LOOP;
  RETURN out;
END $$;
CREATE VIEW state AS
  SELECT (SELECT count(*) FROM promscale_ha.series) AS series,
         (SELECT count(DISTINCT labels_hash) FROM promscale_ha.series) AS label_sets,
         (SELECT count(*) FROM promscale_ha.samples) AS samples,
         (SELECT count(*) FROM promscale_ha.samples x
          WHERE NOT EXISTS (SELECT 1 FROM promscale_ha.series s WHERE s.id = x.series_id))
           AS orphan_samples;
CREATE VIEW inserted AS
  SELECT coalesce(sum(n_tup_ins), 0) AS n_tup_ins FROM pg_stat_xact_user_tables
  WHERE schemaname = 'promscale_ha' AND relname = 'series';

-- the snappy wrapper makes requests write() reads
\set w1 `:gen --series 3 --start-ms 1767225600000 --no-compress --hex`
SELECT samples_written, series_created FROM promscale_ha.write(snappy_literal(:'w1'));
TRUNCATE promscale_ha.series, promscale_ha.samples_head;

-- 500 new series (10 labels each) in one request: one batch; the labels are what
-- the generic jsonb path makes of them (re-parsing the text gives the same value),
-- containment through the GIN index finds them, metric_name is __name__
\set n1 `:gen --series 500 --label a_label=x --label b_label=y --label c_label=z --metrics 10 --start-ms 1767225600000 --hex`
BEGIN;
SELECT n_tup_ins AS ins_before FROM inserted \gset
SELECT samples_written, series_created, outcome FROM promscale_ha.write(:'n1');
SELECT n_tup_ins - :ins_before AS rows_inserted FROM inserted;
-- the columns the batch is not given come from their defaults: ids from the identity
-- sequence, created_at the transaction's time
SELECT count(DISTINCT id) AS ids, count(*) FILTER (WHERE created_at = now()) AS created_now
  FROM promscale_ha.series;
COMMIT;
SELECT * FROM state;
SELECT count(*) AS labels_as_generic_jsonb FROM promscale_ha.series
  WHERE labels = labels::text::jsonb AND labels->>'__name__' = metric_name
    AND labels->>'a_label' = 'x' AND labels ? 'instance';
SET enable_seqscan = off;
SELECT count(*) AS found_by_gin FROM promscale_ha.series
  WHERE labels @> '{"a_label": "x", "c_label": "z"}';
RESET enable_seqscan;

-- the same 500 label sets from a new backend (its caches are empty), later samples:
-- nothing created, the samples go to the existing rows
\c
\set n2 `:gen --series 500 --label a_label=x --label b_label=y --label c_label=z --metrics 10 --start-ms 1767225660000 --hex`
SELECT samples_written, series_created FROM promscale_ha.write(:'n2');
SELECT * FROM state;

-- 600 series, 500 of them stored already (by another backend) and 100 new: only the
-- new are created
\c
\set n3 `:gen --series 600 --label a_label=x --label b_label=y --label c_label=z --metrics 10 --start-ms 1767225720000 --hex`
SELECT samples_written, series_created FROM promscale_ha.write(:'n3');
SELECT * FROM state;

-- 1000 series of which 1 is stored already: whatever the insert tries first, the one
-- stored row is reused and 999 are created
\c
\set one `:gen --series 1 --series-offset 5000 --metrics 10 --start-ms 1767225600000 --hex`
SELECT series_created FROM promscale_ha.write(:'one');
\c
\set n4 `:gen --series 1000 --series-offset 4500 --metrics 10 --start-ms 1767225780000 --hex`
SELECT samples_written, series_created FROM promscale_ha.write(:'n4');
SELECT * FROM state;

-- 300 new label sets, each sent twice in one request (two samples each): 300 rows,
-- inserted once each (no insert thrown away), 600 samples
\set d1 `:gen --series 300 --series-offset 9000 --metrics 10 --start-ms 1767225600000 --no-compress --hex`
\set d2 `:gen --series 300 --series-offset 9000 --metrics 10 --start-ms 1767225660000 --no-compress --hex`
BEGIN;
SELECT n_tup_ins AS ins_before FROM inserted \gset
SELECT samples_written, series_created
  FROM promscale_ha.write(snappy_literal(:'d1'::bytea || :'d2'::bytea));
SELECT n_tup_ins - :ins_before AS rows_inserted FROM inserted;
COMMIT;
SELECT * FROM state;
SELECT count(*) AS series_with_both_samples FROM (
  SELECT series_id FROM promscale_ha.samples GROUP BY series_id
  HAVING count(*) = 2 AND min(time) = to_timestamp(1767225600)
     AND max(time) = to_timestamp(1767225660)) t;

-- a batch of new series rolled back: nothing stays, in the table or the cache (written
-- again they are created again, and their samples reference them)
\set r1 `:gen --series 200 --series-offset 20000 --metrics 10 --start-ms 1767225600000 --hex`
\set r2 `:gen --series 200 --series-offset 20000 --metrics 10 --start-ms 1767225660000 --hex`
BEGIN;
SELECT series_created FROM promscale_ha.write(:'r1');
ROLLBACK;
SELECT samples_written, series_created FROM promscale_ha.write(:'r2');
SELECT * FROM state;

-- rows in no order: 40 series (their ids ascend in no relation to the request's order),
-- each sent three times in one request -- at t+60 s (gauge values), at t (counter
-- values), at t+60 s again (special values: NaN, Inf, ...) -- are stored sorted by
-- (series, time), and the first value sent for a (series, time) wins: every sample at
-- t+60 s is the gauge's (finite), none the special one
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
\set o1 `:gen --series 40 --series-offset 30000 --metrics 10 --start-ms 1767225660000 --values gauge --no-compress --hex`
\set o2 `:gen --series 40 --series-offset 30000 --metrics 10 --start-ms 1767225600000 --no-compress --hex`
\set o3 `:gen --series 40 --series-offset 30000 --metrics 10 --start-ms 1767225660000 --values special --no-compress --hex`
SELECT samples_received, samples_written, series_created
  FROM promscale_ha.write(snappy_literal(:'o1'::bytea || :'o2'::bytea || :'o3'::bytea));
\set g1 `:gen --series 40 --series-offset 30000 --metrics 10 --start-ms 1767225660000 --values gauge --hex`
CREATE TEMP TABLE first_sent AS
  SELECT s.labels, x.value FROM promscale_ha.samples x JOIN promscale_ha.series s ON s.id = x.series_id
  WHERE x.time = to_timestamp(1767225660);
SELECT count(*) AS samples, count(DISTINCT series_id) AS series,
       count(*) FILTER (WHERE time = to_timestamp(1767225660)
                        AND value NOT IN ('NaN', 'Infinity', '-Infinity')) AS finite_at_t60
  FROM promscale_ha.samples;
-- the gauge request alone, on empty tables, stores the values the mixed request kept
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
SELECT samples_written FROM promscale_ha.write(:'g1');
SELECT count(*) AS same_as_the_gauge_alone FROM first_sent f
  JOIN promscale_ha.series s ON s.labels = f.labels
  JOIN promscale_ha.samples x ON x.series_id = s.id
  WHERE float8send(x.value) = float8send(f.value);
DROP TABLE first_sent;

DROP VIEW inserted;
DROP VIEW state;
DROP FUNCTION snappy_literal(bytea);
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
