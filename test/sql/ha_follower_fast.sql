-- ha_follower_fast: a follower's request whose series all carry the same cluster and
-- replica is decided from a light walk of the wire format and a cache probe (ingest.c's
-- follower_one_group, wire/fastpath.c's pha_fast_one_group); everything else goes the
-- in-place decode as before.  What users see must not change: the counts of write(),
-- the replay buffer's rows, the samples stored of a mixed request (series of another
-- replica or without HA labels), and the refusals of bad input next to known labels.
-- Mixed requests are two generated WriteRequests concatenated (repeated fields merge)
-- and framed as snappy literals by snappy_literals() below.  Payloads: promscale-ha-gen.
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
SET timezone = 'UTC';
SET promscale_ha.test_now = '2026-01-01 00:00:30+00';
TRUNCATE promscale_ha.series, promscale_ha.samples_head;
-- snappy framing of raw bytes as literals only: the length varint, then literals of at
-- most 65536 bytes (tag 61: two length bytes, little-endian)
CREATE FUNCTION snappy_literals(raw bytea) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
  n int := length(raw);
  v bigint := n;
  out bytea := '';
  pos int := 1;
  k int;
BEGIN
  LOOP
    IF v < 128 THEN
      out := out || set_byte('\x00'::bytea, 0, v::int);
      EXIT;
    END IF;
    out := out || set_byte('\x00'::bytea, 0, (v % 128 + 128)::int);
    v := v / 128;
  END LOOP;
  WHILE pos <= n LOOP
    k := least(65536, n - pos + 1);
    out := out || '\xf4'::bytea || set_byte(set_byte('\x0000'::bytea, 0, (k - 1) % 256), 1, (k - 1) / 256)
               || substr(raw, pos, k);
    pos := pos + k;
  END LOOP;
  RETURN out;
END $$;
CREATE FUNCTION try_write(payload bytea, OUT state text, OUT message text)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM promscale_ha.write(payload);
  state := 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
END $$;
CREATE VIEW buffered AS
  SELECT replica_name, count(*) AS requests, min(min_time) AS min_time, max(max_time) AS max_time
  FROM promscale_ha.replay_buffer WHERE cluster_name = 'ff' GROUP BY 1 ORDER BY 1;
CREATE VIEW stored AS
  SELECT count(DISTINCT x.series_id) AS series, count(*) AS samples
  FROM promscale_ha.samples x;

-- replica a leads (first writer); b sends the same 20 series twice: the first time its
-- backend's cache knows the series from a's request (the replica label is not part of
-- a series' key), the second time from b's own
\set a1 `:gen --series 20 --cluster ff --replica a --start-ms 1767225600000 --hex`
\set b1 `:gen --series 20 --cluster ff --replica b --start-ms 1767225600000 --hex`
\set b2 `:gen --series 20 --cluster ff --replica b --start-ms 1767225615000 --hex`
SELECT samples_received, samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'a1');
SELECT samples_received, samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'b1');
SELECT samples_received, samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'b2');
SELECT * FROM buffered;
SELECT * FROM stored;

-- series the backend never saw (another offset): decoded in full, decided the same
\set b3 `:gen --series 7 --series-offset 500 --cluster ff --replica b --start-ms 1767225615000 --hex`
SELECT samples_received, samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'b3');
-- and known now: the same answer
\set b4 `:gen --series 7 --series-offset 500 --cluster ff --replica b --start-ms 1767225620000 --hex`
SELECT samples_received, samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'b4');

-- samples past promscale_ha.max_future in a follower's request: counted as dropped, the
-- others deduplicated, the buffer row spanning the kept ones only
\set b5 `:gen --series 20 --samples 2 --step-ms 31536000000 --cluster ff --replica b --start-ms 1767225625000 --hex`
SELECT samples_received, samples_deduplicated, samples_future_dropped, outcome FROM promscale_ha.write(:'b5');
SELECT * FROM buffered;

-- mixed: b's 20 known series and 5 of the leader a's in one request; a's are stored,
-- b's deduplicated, and b's buffered payload is the whole request
\set bm `:gen --series 20 --cluster ff --replica b --start-ms 1767225630000 --no-compress --hex`
\set am `:gen --series 5 --cluster ff --replica a --start-ms 1767225630000 --no-compress --hex`
SELECT samples_received, samples_written, samples_deduplicated, outcome
  FROM promscale_ha.write(snappy_literals(:'bm'::bytea || :'am'::bytea));
-- mixed: b's known series and 3 series without HA labels, which are stored
\set pm `:gen --series 3 --series-offset 900 --start-ms 1767225630000 --no-compress --hex`
SELECT samples_received, samples_written, samples_deduplicated, outcome
  FROM promscale_ha.write(snappy_literals(:'bm'::bytea || :'pm'::bytea));
-- the same cluster, two followers' replicas in one request: both deduplicated, a
-- buffer row for each
\set cm `:gen --series 4 --cluster ff --replica c --start-ms 1767225630000 --no-compress --hex`
SELECT samples_received, samples_written, samples_deduplicated, outcome
  FROM promscale_ha.write(snappy_literals(:'bm'::bytea || :'cm'::bytea));
SELECT * FROM buffered;
SELECT * FROM stored;

-- bad input next to known label bytes is refused in a follower's request too: a
-- replica value that is not UTF-8, and known labels over limits set since
\set bad_utf8 `:gen --series 20 --cluster ff --replica "$(printf 'b\377')" --start-ms 1767225635000 --hex`
SELECT * FROM try_write(:'bad_utf8');
\set b6 `:gen --series 20 --cluster ff --replica b --start-ms 1767225635000 --hex`
SET promscale_ha.max_labels_per_series = 4;
SELECT * FROM try_write(:'b6');
RESET promscale_ha.max_labels_per_series;
SET promscale_ha.max_label_value_length = 3;
SELECT * FROM try_write(:'b6');
RESET promscale_ha.max_label_value_length;
SET promscale_ha.max_series_per_request = 10;
SELECT * FROM try_write(:'b6');
RESET promscale_ha.max_series_per_request;
-- and accepted once the limits are back
SELECT samples_received, samples_deduplicated, outcome FROM promscale_ha.write(:'b6');
SELECT * FROM buffered;

DROP VIEW buffered, stored;
DROP FUNCTION snappy_literals(bytea), try_write(bytea);
RESET promscale_ha.test_now;
