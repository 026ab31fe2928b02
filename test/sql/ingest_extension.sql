-- ingest_extension: a backend's caches (series ids, known partitions) follow what happens
-- to the tables under them: series deleted or truncated are made again with new ids, and
-- after DROP EXTENSION / CREATE EXTENSION writing works as on a new installation.
-- After every step each sample must belong to a series that exists.
\getenv abs_srcdir PG_ABS_SRCDIR
\set basic :abs_srcdir '/data/basic_10x3.bin'
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
CREATE FUNCTION orphans() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM promscale_ha.samples x
  WHERE NOT EXISTS (SELECT 1 FROM promscale_ha.series s WHERE s.id = x.series_id) $$;
CREATE FUNCTION write_basic(OUT samples_written bigint, OUT series_created int,
                            OUT samples_already_stored bigint, OUT orphans bigint)
LANGUAGE sql AS $$
  SELECT w.samples_written, w.series_created, w.samples_already_stored, orphans()
  FROM promscale_ha.write(pg_read_binary_file(current_setting('test.basic'))) w $$;
SELECT set_config('test.basic', :'basic', false) IS NOT NULL AS ok;

-- first write: this backend now has all 10 series in its cache
SELECT * FROM write_basic();
SELECT max(id) AS max_id FROM promscale_ha.series \gset

-- delete the samples and series of one metric: they come back with new ids
DELETE FROM promscale_ha.samples_head
  WHERE series_id IN (SELECT id FROM promscale_ha.series WHERE metric_name = 'up');
DELETE FROM promscale_ha.series WHERE metric_name = 'up';
SELECT * FROM write_basic();
SELECT metric_name, count(*) AS series, bool_and(id > :max_id) AS new_ids
  FROM promscale_ha.series GROUP BY metric_name ORDER BY metric_name;

-- delete everything
SELECT max(id) AS max_id FROM promscale_ha.series \gset
DELETE FROM promscale_ha.samples_head;
DELETE FROM promscale_ha.series;
SELECT * FROM write_basic();
SELECT count(*) AS series, bool_and(id > :max_id) AS new_ids FROM promscale_ha.series;

-- truncate everything
SELECT max(id) AS max_id FROM promscale_ha.series \gset
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
SELECT * FROM write_basic();
SELECT count(*) AS series, bool_and(id > :max_id) AS new_ids FROM promscale_ha.series;

-- a delete that is rolled back changes nothing
BEGIN;
DELETE FROM promscale_ha.series;
ROLLBACK;
SELECT * FROM write_basic();

-- drop the extension, and take the drop back: the tables and their rows are still there
BEGIN;
DROP EXTENSION promscale_ha;
ROLLBACK;
SELECT * FROM write_basic();

-- drop and create again in one transaction: new, empty tables, usable at once
SELECT max(id) AS max_id FROM promscale_ha.series \gset
BEGIN;
DROP EXTENSION promscale_ha;
CREATE EXTENSION promscale_ha;
SELECT * FROM write_basic();
COMMIT;
SELECT count(*) AS series, min(id) AS min_id FROM promscale_ha.series;

-- drop and create again in two transactions, then write twice
DROP EXTENSION promscale_ha;
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname = 'promscale_ha';
SELECT count(*) AS partitions FROM pg_class WHERE relname LIKE 'samples\_%' AND relkind = 'r';
CREATE EXTENSION promscale_ha;
SELECT * FROM write_basic();
SELECT * FROM write_basic();
SELECT count(*) AS series, min(id) AS min_id, max(id) AS max_id FROM promscale_ha.series;
SELECT c.relname AS partition
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'promscale_ha.samples_head'::regclass AND c.relkind = 'r'
  ORDER BY 1;

DROP FUNCTION write_basic();
DROP FUNCTION orphans();
