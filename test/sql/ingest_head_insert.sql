-- ingest_head_insert: write() stores a request's rows straight into the head partitions
-- (src/store/head_insert.c: heap multi-inserts, then index entries, as COPY does) and
-- falls back to COPY where that path does not apply; users see no difference.  The
-- path taken shows in a DEBUG1 line, printed here only around the writes that matter.
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
SET promscale_ha.partition_interval = '1h';
CREATE TEMP TABLE snap (name text, series_id bigint, time timestamptz, bits bytea);
CREATE VIEW stored AS
  SELECT s.labels->>'__name__' || (s.labels - '__name__')::text AS name, x.series_id,
         x.time, float8send(x.value) AS bits
  FROM promscale_ha.samples x JOIN promscale_ha.series s ON s.id = x.series_id;

-- 300 series x 8 samples from 2025-06-01 00:59:00 at 15 s (a day no other suite uses):
-- two partitions, created by the first write; the same rows again are repeats (the ON
-- CONFLICT path stores none of them)
\set a `:gen --series 300 --samples 8 --start-ms 1748739540000 --values special --hex`
SELECT samples_written, samples_already_stored FROM promscale_ha.write(:'a');
TRUNCATE promscale_ha.samples_head;
SET client_min_messages = debug1;
SELECT samples_written, samples_already_stored FROM promscale_ha.write(:'a');
SELECT samples_written, samples_already_stored FROM promscale_ha.write(:'a');
RESET client_min_messages;
SELECT count(*) AS rows, count(DISTINCT series_id) AS series,
       count(DISTINCT date_trunc('hour', time)) AS hours FROM promscale_ha.samples;
INSERT INTO snap SELECT * FROM stored;

-- the same request through COPY stores the same rows, bit for bit
TRUNCATE promscale_ha.samples_head;
SET promscale_ha.direct_insert = off;
SET client_min_messages = debug1;
SELECT samples_written FROM promscale_ha.write(:'a');
RESET client_min_messages;
RESET promscale_ha.direct_insert;
SELECT (SELECT count(*) FROM (SELECT * FROM stored EXCEPT SELECT * FROM snap) d) AS only_copy,
       (SELECT count(*) FROM (SELECT * FROM snap EXCEPT SELECT * FROM stored) d) AS only_direct,
       (SELECT count(*) FROM snap) AS rows;

-- a row trigger on a partition: COPY stores the next request's rows and fires it
CREATE TABLE fired (n int);
CREATE FUNCTION count_row() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO public.fired VALUES (1); RETURN NEW; END $$;
CREATE TRIGGER count_row AFTER INSERT ON promscale_ha.samples_20250601_010000
  FOR EACH ROW EXECUTE FUNCTION count_row();
\set b `:gen --series 300 --samples 2 --start-ms 1748739720000 --values gauge --hex`
SET client_min_messages = debug1;
SELECT samples_written FROM promscale_ha.write(:'b');
RESET client_min_messages;
SELECT count(*) AS trigger_fired FROM fired;
DROP TRIGGER count_row ON promscale_ha.samples_20250601_010000;

-- a CHECK constraint on a partition: COPY checks it, and the failed request stores nothing
ALTER TABLE promscale_ha.samples_20250601_010000
  ADD CONSTRAINT early CHECK (time < '2025-06-01 01:10:00+00');
\set c `:gen --series 300 --samples 2 --start-ms 1748740200000 --values gauge --hex`
SELECT count(*) AS before FROM promscale_ha.samples \gset
\set VERBOSITY terse
SELECT samples_written FROM promscale_ha.write(:'c');
\set VERBOSITY default
SELECT count(*) - :before AS stored_by_failed_request FROM promscale_ha.samples;
ALTER TABLE promscale_ha.samples_20250601_010000 DROP CONSTRAINT early;
SET client_min_messages = debug1;
SELECT samples_written FROM promscale_ha.write(:'c');
RESET client_min_messages;

-- a request over more partitions than the path takes (a backfill of 12 hours, one
-- sample an hour; the partitions made by a first write): COPY stores it
\set d `:gen --series 5 --samples 12 --start-ms 1748750400000 --step-ms 3600000 --hex`
SELECT samples_written FROM promscale_ha.write(:'d');
DELETE FROM promscale_ha.samples_head WHERE time >= '2025-06-01 04:00+00' AND time < '2025-06-02';
SET client_min_messages = debug1;
SELECT samples_written FROM promscale_ha.write(:'d');
RESET client_min_messages;
SELECT count(DISTINCT date_trunc('hour', time)) AS hours FROM promscale_ha.samples
  WHERE time >= '2025-06-01 04:00+00' AND time < '2025-06-02';

-- (a repeat inside one request, first value wins: ingest_new_series.sql)

DROP VIEW stored;
DROP FUNCTION count_row() CASCADE;
DROP TABLE fired;
RESET promscale_ha.partition_interval;
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
