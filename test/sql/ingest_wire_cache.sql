-- ingest_wire_cache: a series whose label bytes a backend has seen before skips
-- validation and SHA-256 (src/store/wire_cache.c), and that changes nothing users see:
-- a bad replica label next to known labels is still refused, label order still makes no
-- new series, and the cache never names a series that a rollback, a savepoint rollback
-- or a delete took away (no sample may reference a missing series).
-- Payloads: promscale-ha-gen.
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
CREATE FUNCTION try_write(payload bytea, OUT state text, OUT message text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM promscale_ha.write(payload);
  state := 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                          detail = PG_EXCEPTION_DETAIL;
END $$;
CREATE VIEW orphans AS
  SELECT count(*) AS orphan_samples FROM promscale_ha.samples x
  WHERE NOT EXISTS (SELECT 1 FROM promscale_ha.series s WHERE s.id = x.series_id);
CREATE VIEW counts AS
  SELECT (SELECT count(*) FROM promscale_ha.series) AS series,
         (SELECT count(*) FROM promscale_ha.samples) AS samples;

-- 20 series with the HA labels of replica a; then the same label bytes again (the cache
-- knows them now), later samples: no new series
\set a1 `:gen --series 20 --cluster wire_cache --replica a --start-ms 1767225600000 --hex`
\set a2 `:gen --series 20 --cluster wire_cache --replica a --start-ms 1767225660000 --hex`
SELECT samples_written, series_created FROM promscale_ha.write(:'a1');
SELECT samples_written, series_created FROM promscale_ha.write(:'a2');
SELECT * FROM counts;

-- the same series, its labels in reverse order: the same series, nothing new
\set a2r `:gen --series 20 --cluster wire_cache --replica a --start-ms 1767225660000 --unsorted --hex`
SELECT samples_written, series_created FROM promscale_ha.write(:'a2r');

-- known label bytes, but a replica label the full decoder refuses: refused all the same
\set bad_utf8 `:gen --series 20 --cluster wire_cache --replica "$(printf 'a\377')" --start-ms 1767225720000 --hex`
SELECT * FROM try_write(:'bad_utf8');
-- and known label bytes over a limit set since
SET promscale_ha.max_labels_per_series = 4;
SELECT state, message FROM try_write(:'a2');
RESET promscale_ha.max_labels_per_series;
SET promscale_ha.max_label_value_length = 3;
SELECT state, message FROM try_write(:'a2');
RESET promscale_ha.max_label_value_length;
SELECT * FROM counts;

-- series created in a rolled-back transaction are not remembered: written again, they
-- are created again, and their samples reference them
\set b1 `:gen --series 5 --series-offset 100 --start-ms 1767225600000 --hex`
\set b2 `:gen --series 5 --series-offset 100 --start-ms 1767225660000 --hex`
BEGIN;
SELECT samples_written, series_created FROM promscale_ha.write(:'b1');
ROLLBACK;
SELECT samples_written, series_created FROM promscale_ha.write(:'b2');
SELECT * FROM orphans;

-- the same for a savepoint: created, rolled back to the savepoint, committed
\set c1 `:gen --series 5 --series-offset 200 --start-ms 1767225600000 --hex`
\set c2 `:gen --series 5 --series-offset 200 --start-ms 1767225660000 --hex`
BEGIN;
SAVEPOINT s;
SELECT samples_written, series_created FROM promscale_ha.write(:'c1');
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT samples_written, series_created FROM promscale_ha.write(:'c2');
SELECT * FROM orphans;

-- a cache exactly as large as the series it serves keeps them all.  31 series exist; a
-- new backend (its caches empty) writes 20 of them, then the other 10 of 30, which fill
-- promscale_ha.series_cache_size = 30, and the next request of all 30 finds every one
-- (the DEBUG2 line counts the series whose label bytes the backend knew).  Filling it
-- used to empty it, so that only the last request's 10 were known.  One series more
-- than it holds empties it; the next requests refill it.
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
\set f0 `:gen --series 31 --series-offset 300 --start-ms 1767225540000 --hex`
SELECT samples_written, series_created FROM promscale_ha.write(:'f0');
\c
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
SET promscale_ha.series_cache_size = 30;
\set f1 `:gen --series 20 --series-offset 300 --start-ms 1767225600000 --hex`
\set f2 `:gen --series 10 --series-offset 320 --start-ms 1767225600000 --hex`
\set f3 `:gen --series 30 --series-offset 300 --start-ms 1767225660000 --hex`
\set f4 `:gen --series 31 --series-offset 300 --start-ms 1767225720000 --hex`
\set f5 `:gen --series 30 --series-offset 300 --start-ms 1767225780000 --hex`
\set f6 `:gen --series 30 --series-offset 300 --start-ms 1767225840000 --hex`
SET client_min_messages = debug2;
SELECT samples_written, series_created FROM promscale_ha.write(:'f1');
SELECT samples_written, series_created FROM promscale_ha.write(:'f2');
SELECT samples_written, series_created FROM promscale_ha.write(:'f3');
SELECT samples_written, series_created FROM promscale_ha.write(:'f4');
SELECT samples_written, series_created FROM promscale_ha.write(:'f5');
SELECT samples_written, series_created FROM promscale_ha.write(:'f6');
RESET client_min_messages;
RESET promscale_ha.series_cache_size;
SELECT * FROM orphans;

-- a delete of series empties the cache: the series are created anew
DELETE FROM promscale_ha.samples_head;
DELETE FROM promscale_ha.series;
\set a3 `:gen --series 20 --cluster wire_cache --replica a --start-ms 1767225780000 --hex`
SELECT samples_written, series_created FROM promscale_ha.write(:'a3');
SELECT * FROM orphans;
SELECT * FROM counts;
DROP VIEW counts;
DROP VIEW orphans;
DROP FUNCTION try_write;
