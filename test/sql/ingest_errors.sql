-- ingest_errors: every way a payload can be refused, one bad input each, with its
-- SQLSTATE (class 22 for a corrupt or invalid payload, 54000 over a limit) and a message
-- that says what is wrong; and after an error nothing of that payload is stored, not
-- even in a backend's caches.
-- Payloads: the crafted test/data/case_*.bin fixtures (test/data/README.md), the
-- well-formed basic_10x3.bin, and promscale-ha-gen.
\getenv abs_srcdir PG_ABS_SRCDIR
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
\set data :abs_srcdir '/data'
\set basic :abs_srcdir '/data/basic_10x3.bin'
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
-- try_write(payload): 'ok', or the error's SQLSTATE, message and detail.  (It catches the
-- error in a subtransaction; the plain statements further down show the same errors at
-- the top level.)
CREATE FUNCTION try_write(payload bytea, OUT state text, OUT message text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM promscale_ha.write(payload);
  state := 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                          detail = PG_EXCEPTION_DETAIL;
END $$;
CREATE VIEW counts AS
  SELECT (SELECT count(*) FROM promscale_ha.series) AS series,
         (SELECT count(*) FROM promscale_ha.samples) AS samples;
-- something stored before the errors, to see that none of them changes it
SELECT samples_written, series_created FROM promscale_ha.write(pg_read_binary_file(:'basic'));
SELECT * FROM counts;

-- the crafted fixtures: one defect each (empty-request is valid: a request with no series)
SELECT c AS fixture, e.*
FROM unnest(ARRAY['empty-request', 'not-snappy', 'truncated-snappy', 'huge-header',
                  'not-protobuf', 'no-labels', 'no-metric-name', 'empty-name',
                  'bad-label-name', 'dup-label', 'bad-utf8', 'nul-in-value']) WITH ORDINALITY AS u(c, i),
     try_write(pg_read_binary_file(:'data' || '/case_' || c || '.bin')) AS e
ORDER BY i;
-- an empty body
SELECT * FROM try_write('\x');
-- timestamps that timestamptz cannot hold (the first is 1 ms before 4714-11-24 BC)
\set ts_low `:gen --series 1 --start-ms -210866803200001 --hex`
\set ts_lower `:gen --series 1 --start-ms -1000000000000000 --hex`
SELECT * FROM try_write(:'ts_low');
SELECT * FROM try_write(:'ts_lower');
SELECT * FROM counts;

-- the same errors outside any subtransaction: the statement fails, the SQLSTATE is all
-- that is printed, and nothing is stored
\set VERBOSITY sqlstate
SELECT * FROM promscale_ha.write('\x');
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'data' || '/case_not-snappy.bin'));
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'data' || '/case_truncated-snappy.bin'));
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'data' || '/case_huge-header.bin'));
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'data' || '/case_not-protobuf.bin'));
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'data' || '/case_no-labels.bin'));
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'data' || '/case_no-metric-name.bin'));
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'data' || '/case_empty-name.bin'));
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'data' || '/case_bad-label-name.bin'));
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'data' || '/case_dup-label.bin'));
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'data' || '/case_bad-utf8.bin'));
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'data' || '/case_nul-in-value.bin'));
SELECT * FROM promscale_ha.write(:'ts_lower');
\set VERBOSITY default
SELECT * FROM counts;

-- limits (54000), each set just below what basic_10x3.bin needs
SET promscale_ha.max_payload_bytes = 1024;
SELECT * FROM try_write(pg_read_binary_file(:'basic'));
RESET promscale_ha.max_payload_bytes;
SET promscale_ha.max_series_per_request = 9;
SELECT * FROM try_write(pg_read_binary_file(:'basic'));
RESET promscale_ha.max_series_per_request;
SET promscale_ha.max_labels_per_series = 5;
SELECT * FROM try_write(pg_read_binary_file(:'basic'));
RESET promscale_ha.max_labels_per_series;
SET promscale_ha.max_label_name_length = 7;
SELECT * FROM try_write(pg_read_binary_file(:'basic'));
RESET promscale_ha.max_label_name_length;
SET promscale_ha.max_label_value_length = 26;
SELECT * FROM try_write(pg_read_binary_file(:'basic'));
RESET promscale_ha.max_label_value_length;
-- a limit of 0 means none
SET promscale_ha.max_series_per_request = 0;
SET promscale_ha.max_labels_per_series = 0;
SELECT * FROM try_write(pg_read_binary_file(:'basic'));
RESET promscale_ha.max_series_per_request;
RESET promscale_ha.max_labels_per_series;
-- the payload limit at the top level
SET promscale_ha.max_payload_bytes = 1024;
\set VERBOSITY sqlstate
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'basic'));
\set VERBOSITY default
RESET promscale_ha.max_payload_bytes;
SELECT * FROM counts;

-- the HA label settings must be label names
SET promscale_ha.cluster_label = 'not a label';
SET promscale_ha.replica_label = '';

-- a failed write after a good one in the same transaction: the transaction is lost,
-- and the good one's new series are not remembered by this backend's caches
\set fresh `:gen --series 3 --series-offset 300 --samples 2 --hex`
BEGIN;
SELECT samples_written, series_created FROM promscale_ha.write(:'fresh');
SELECT * FROM promscale_ha.write(pg_read_binary_file(:'data' || '/case_dup-label.bin'));
ROLLBACK;
SELECT * FROM counts;
SELECT samples_written, series_created FROM promscale_ha.write(:'fresh');
SELECT * FROM counts;
-- the same with a savepoint: the series made inside it go with it
\set fresh2 `:gen --series 3 --series-offset 400 --samples 2 --hex`
BEGIN;
SAVEPOINT s;
SELECT samples_written, series_created FROM promscale_ha.write(:'fresh2');
ROLLBACK TO SAVEPOINT s;
SELECT samples_written, series_created FROM promscale_ha.write(:'fresh2');
COMMIT;
SELECT * FROM counts;
-- ... and a new partition made in a rolled-back transaction is made again
\set old_day `:gen --series 2 --start-ms 1552003200000 --hex`
BEGIN;
SELECT samples_written FROM promscale_ha.write(:'old_day');
SELECT count(*) AS partitions FROM pg_class WHERE relname = 'samples_20190308';
ROLLBACK;
SELECT count(*) AS partitions FROM pg_class WHERE relname = 'samples_20190308';
SELECT samples_written FROM promscale_ha.write(:'old_day');
SELECT count(*) AS partitions FROM pg_class WHERE relname = 'samples_20190308';
-- every sample belongs to a series that exists
SELECT count(*) AS orphan_samples FROM promscale_ha.samples x
  WHERE NOT EXISTS (SELECT 1 FROM promscale_ha.series s WHERE s.id = x.series_id);

DROP VIEW counts;
DROP FUNCTION try_write(bytea);
