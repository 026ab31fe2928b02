-- read: promscale_ha.read(request), the database side of Prometheus remote read.
-- Requests are made, and responses decoded, by test/read_decoder.py, which shares no
-- code with the extension (hand-written protobuf, XOR chunk decoding, CRC32C): each
-- response row goes to results/read_resp.txt as "kind hex" and is printed as text.
\getenv abs_srcdir PG_ABS_SRCDIR
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
\set dec '/usr/bin/python3 ' :abs_srcdir '/read_decoder.py'
SET timezone = 'UTC';
SET promscale_ha.partition_interval = '2h';
SET promscale_ha.test_now = '2026-01-01 06:00:00+00';
TRUNCATE promscale_ha.series, promscale_ha.samples_head, promscale_ha.chunks,
         promscale_ha.compressed_ranges;
-- T0 = 2026-01-01 00:00 UTC
\set t0 1767225600000
\set t_end 1767247200000

-- small series for the matchers, 3 samples a minute apart from T0
\set w `:dec write :t0 60000 3 '__name__=up,job=api,env=prod' '__name__=up,job=api,env=dev' '__name__=up,job=db' '__name__=http_requests,job=api,path=/a.b' '__name__=http_requests,job=web,path=/axb,code=500' "__name__=text,v=Kk" "__name__=text,v=$(printf '\342\204\252')" "__name__=text,v=$(printf 'a\vb')" "__name__=text,v=$(printf 'a\nb')" '__name__=text,v=x{2}' "__name__=text,v=$(printf '\303\251')" '__name__=text,v=a1b' '__name__=ha_metric,cluster=c1,__replica__=r1'`
SELECT samples_written, series_created FROM promscale_ha.write(decode(:'w', 'hex'));
SELECT metric_name, labels FROM promscale_ha.series ORDER BY id;

-- bulk data: 4 counters every 15 s over 00:00-04:00 (compressed below), 5 series of
-- special values (NaN, +-Inf, stale marker, -0.0, 1e308, 5e-324)
\set bulk `:gen --series 4 --series-offset 100 --samples 960 --start-ms :t0 --hex`
\set special `:gen --series 1 --series-offset 300 --samples 14 --step-ms 60000 --values special --start-ms :t0 --hex`
SELECT samples_written FROM promscale_ha.write(:'bulk');
SELECT samples_written FROM promscale_ha.write(:'special');
RESET promscale_ha.test_now;
SELECT sum(samples) AS compressed FROM promscale_ha.compress_now('1 day');
-- then 04:00-05:00 for the same counters, which stays in the head
SET promscale_ha.test_now = '2026-01-01 06:00:00+00';
\set bulk2 `:gen --series 4 --series-offset 100 --samples 240 --start-ms 1767240000000 --hex`
SELECT samples_written FROM promscale_ha.write(:'bulk2');
SELECT (SELECT count(*) FROM promscale_ha.samples_head) AS head_rows,
       (SELECT sum(samples) FROM promscale_ha.chunks) AS compressed_samples;

------------------------------------------------------------------------------------------
-- matchers: one query each, in one SAMPLES request; the decoder prints matching series
------------------------------------------------------------------------------------------
\set req `:dec request -q :t0 :t_end '__name__=up' -q :t0 :t_end '__name__=up' 'env=prod' -q :t0 :t_end '__name__=up' 'env!=prod' -q :t0 :t_end '__name__=up' 'env=' -q :t0 :t_end '__name__=up' 'env!=' -q :t0 :t_end '__name__=up' 'env=~pr.*' -q :t0 :t_end '__name__=up' 'env!~pr.*' -q :t0 :t_end '__name__=up' 'env=~' -q :t0 :t_end '__name__=up' 'env=~.*' -q :t0 :t_end '__name__=up' 'env=~.+' -q :t0 :t_end '__name__=up' 'env=~ro' -q :t0 :t_end '__name__!=up' 'job=api' -q :t0 :t_end '__name__=~up|http_.*' 'job!~api' -q :t0 :t_end '__name__!~.*p.*' 'job=~a.+|w.b' -q :t0 :t_end 'path=~/a.b' -q :t0 :t_end 'path=/a.b' -q :t0 :t_end '__name__=nope' -q :t0 :t_end '__name__='`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --labels`
\echo :out

-- HA: a matcher on the replica label is ignored (the label is never stored), whatever
-- its value; the cluster label is an ordinary label
\set req `:dec request -q :t0 :t_end '__name__=ha_metric' '__replica__=r1' -q :t0 :t_end '__name__=ha_metric' '__replica__=other' -q :t0 :t_end '__name__=ha_metric' '__replica__!=r1' -q :t0 :t_end 'cluster=c1' -q :t0 :t_end 'cluster=c2'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --labels`
\echo :out

------------------------------------------------------------------------------------------
-- regexes: RE2 as Go reads it, translated to PostgreSQL's ARE where the meaning is the
-- same.  Values of text: "Kk", U+212A (Kelvin sign), "a\vb", "a\nb", "x{2}", U+00E9,
-- "a1b"
------------------------------------------------------------------------------------------
\set req `:dec request -q :t0 :t_end '__name__=text' 'v=~(?i)kk' -q :t0 :t_end '__name__=text' 'v=~(?i)k' -q :t0 :t_end '__name__=text' 'v=~(?i:K)k' -q :t0 :t_end '__name__=text' 'v=~a\sb' -q :t0 :t_end '__name__=text' 'v=~a[[:space:]]b' -q :t0 :t_end '__name__=text' 'v=~a.b' -q :t0 :t_end '__name__=text' 'v=~(?s)a.b' -q :t0 :t_end '__name__=text' 'v=~(?m)a$\nb' -q :t0 :t_end '__name__=text' 'v=~x{2}' -q :t0 :t_end '__name__=text' 'v=~x\{2\}' -q :t0 :t_end '__name__=text' 'v=~xx' -q :t0 :t_end '__name__=text' 'v=~\x{E9}|\xe9' -q :t0 :t_end '__name__=text' 'v=~(?P<first>a)\d(b)' -q :t0 :t_end '__name__=text' 'v=~a\wb' -q :t0 :t_end '__name__=text' 'v=~\Qx{2}\E' -q :t0 :t_end '__name__=text' 'v=~a\141?\d+?b' -q :t0 :t_end '__name__=text' 'v=~(?U)a.*b' -q :t0 :t_end '__name__=text' 'v=~[^\W\d]\d\b.'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --labels`
\echo :out

-- rejected, SQLSTATE 2201B naming the matcher: what PostgreSQL would read differently or
-- cannot run, and what Go's parser rejects
\set VERBOSITY default
\set req `:dec request -q :t0 :t_end 'v=~a\C'`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request -q :t0 :t_end 'v=~(a)\1'`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request -q :t0 :t_end 'v=~\pL'`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request -q :t0 :t_end 'v=~a(?=b)'`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request -q :t0 :t_end 'v=~a{256}'`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request -q :t0 :t_end "v=~(?i)$(printf '\303\251')"`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request -q :t0 :t_end 'v=~(?x)a'`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request -q :t0 :t_end 'v=~a**'`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request -q :t0 :t_end 'v=~*a'`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request -q :t0 :t_end 'v=~(a'`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request -q :t0 :t_end 'v=~a)'`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request -q :t0 :t_end 'v=~[z-a]'`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request -q :t0 :t_end 'v=~^*'`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request -q :t0 :t_end 'v=~a\Z'`
SELECT * FROM promscale_ha.read(decode(:'req', 'hex'));
\set VERBOSITY terse

------------------------------------------------------------------------------------------
-- time: both ends inclusive to the ms; head, compressed, and a range over both
------------------------------------------------------------------------------------------
SELECT min(id) AS c1 FROM promscale_ha.series WHERE metric_name <> 'up' AND labels ? 'region' \gset
SELECT metric_name AS c1_name FROM promscale_ha.series WHERE id = :c1 \gset
-- 03:59:45 (the last compressed sample) .. 04:00:00 (the first in the head): 2 each
\set req `:dec request -q 1767239985000 1767240000000 '__name__=:c1_name' -q 1767239985001 1767239999999 '__name__=:c1_name' -q 1767240000000 1767240000000 '__name__=:c1_name' -q 1767240000001 1767239985000 '__name__=:c1_name'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt`
\echo :out
SELECT count(*) AS head_or_compressed FROM promscale_ha.samples x JOIN promscale_ha.series s ON s.id = x.series_id
  WHERE s.metric_name = :'c1_name' AND x.time BETWEEN '2026-01-01 03:59:45' AND '2026-01-01 04:00:00';

-- the same queries (all time, compressed only, head only, both) as SAMPLES and as
-- STREAMED_XOR_CHUNKS: the series and samples decoded are the same
\set queries `echo -q 1767225600000 1767247200000 __name__=~.+ job!=db __name__!=up __name__!=text __name__!=http_requests -q 1767225600000 1767232800000 __name__=:c1_name -q 1767240000000 1767243600000 __name__=:c1_name -q 1767236400000 1767241800000 __name__=:c1_name`
\set req `:dec request --accept 0,1 :queries`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --summary`
\echo :out
\set req `:dec request --accept 1,0 :queries`
SELECT kind, count(*) AS rows FROM promscale_ha.read(decode(:'req', 'hex')) GROUP BY kind;
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --summary --bound 1048576`
\echo :out
-- special values bit for bit (stale marker, NaN payloads, -0.0) in both, and in SQL
\set req `:dec request --accept 1 -q :t0 :t_end 'instance=10.0.1.105:9100'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt`
\echo :out
SELECT (extract(epoch FROM x.time) * 1000)::bigint AS ms, encode(float8send(x.value), 'hex') AS bits
  FROM promscale_ha.samples x JOIN promscale_ha.series s ON s.id = x.series_id
  WHERE s.labels @> '{"instance": "10.0.1.105:9100"}' ORDER BY x.time;

-- small frames: a series larger than a frame is split over consecutive frames
SET promscale_ha.read_frame_bytes = 600;
\set req `:dec request --accept 1 -q 1767225600000 1767247200000 '__name__=:c1_name' -q :t0 :t_end '__name__=up'`
SELECT kind, count(*) AS frames, max(length(body)) <= 620 AS small FROM promscale_ha.read(decode(:'req', 'hex')) GROUP BY kind;
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --summary --bound 600`
\echo :out
RESET promscale_ha.read_frame_bytes;
-- rows come one by one in a select list (ProjectSet), and LIMIT stops early
SELECT (r).kind, length((r).body) > 0 AS has_body
  FROM (SELECT promscale_ha.read(decode(:'req', 'hex')) AS r) x LIMIT 2;

------------------------------------------------------------------------------------------
-- limits and bad requests
------------------------------------------------------------------------------------------
\set req `:dec request -q :t0 :t_end '__name__=~.+'`
SET promscale_ha.read_max_series = 5;
SELECT kind FROM promscale_ha.read(decode(:'req', 'hex'));
RESET promscale_ha.read_max_series;
SET promscale_ha.read_max_samples = 1000;
SELECT kind FROM promscale_ha.read(decode(:'req', 'hex'));
\set req `:dec request --accept 1 -q :t0 :t_end '__name__=~.+'`
SELECT kind FROM promscale_ha.read(decode(:'req', 'hex'));
RESET promscale_ha.read_max_samples;
-- no matcher that narrows: every series is scanned
\set req `:dec request -q :t0 :t0 'nothere='`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --labels`
\echo :out
-- no query at all: an empty ReadResponse
\set empty `:dec snappy ''`
SELECT kind, encode(body, 'hex') FROM promscale_ha.read(decode(:'empty', 'hex'));
-- errors as SQLSTATE: message (detail)
CREATE FUNCTION pg_temp.try_read(r bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    PERFORM count(*) FROM promscale_ha.read(r);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (' || nullif(d, '') || ')', '');
END $$;
SELECT pg_temp.try_read('');
SELECT pg_temp.try_read('\x00112233');
SELECT pg_temp.try_read('\xff01');
\set bad `:dec snappy 0affff`
SELECT pg_temp.try_read(decode(:'bad', 'hex'));
-- an unknown matcher type (7), a matcher value with a NUL, one not UTF-8
\set bad `:dec snappy 0a0a1a08080712017812017a`
SELECT pg_temp.try_read(decode(:'bad', 'hex'));
\set bad `:dec snappy 0a0a1a080800120178120100`
SELECT pg_temp.try_read(decode(:'bad', 'hex'));
\set bad `:dec snappy 0a0a1a08080012017812019f`
SELECT pg_temp.try_read(decode(:'bad', 'hex'));
-- only response types this server does not know
\set bad `:dec snappy 120107`
SELECT pg_temp.try_read(decode(:'bad', 'hex'));
-- over max_payload_bytes (the snappy header is checked first)
SET promscale_ha.max_payload_bytes = 1024;
\set big `:dec snappy $(head -c 3000 /dev/zero | od -An -vtx1 | tr -d ' \n')`
SELECT pg_temp.try_read(decode(:'big', 'hex'));
RESET promscale_ha.max_payload_bytes;
-- the limits' and the regexes' SQLSTATEs
SET promscale_ha.read_max_series = 1;
SELECT pg_temp.try_read(decode(:'req', 'hex'));
RESET promscale_ha.read_max_series;
\set bad `:dec request -q :t0 :t_end 'v=~a\1'`
SELECT pg_temp.try_read(decode(:'bad', 'hex'));

------------------------------------------------------------------------------------------
-- privileges: readers and admins may read, writers and others may not
------------------------------------------------------------------------------------------
SELECT p.proname, p.prosecdef, p.proconfig,
       has_function_privilege('promscale_ha_reader', p.oid, 'EXECUTE') AS reader,
       has_function_privilege('promscale_ha_admin', p.oid, 'EXECUTE') AS admin,
       has_function_privilege('promscale_ha_writer', p.oid, 'EXECUTE') AS writer,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public
  FROM pg_proc p WHERE p.oid = 'promscale_ha.read(bytea)'::regprocedure;
CREATE ROLE read_test_reader LOGIN IN ROLE promscale_ha_reader;
CREATE ROLE read_test_writer LOGIN IN ROLE promscale_ha_writer;
\set req `:dec request -q :t0 :t_end '__name__=up'`
SET ROLE read_test_reader;
SELECT kind, length(body) > 0 AS has_body FROM promscale_ha.read(decode(:'req', 'hex'));
SET promscale_ha.read_max_samples = 0;
RESET ROLE;
SET ROLE read_test_writer;
SELECT kind FROM promscale_ha.read(decode(:'req', 'hex'));
RESET ROLE;
DROP ROLE read_test_reader;
DROP ROLE read_test_writer;

------------------------------------------------------------------------------------------
-- batches: the samples of promscale_ha.read_batch_series series come from one query and
-- are grouped by series in C.  The response is the same, byte for byte, with one series
-- per query (as unbatched) and with batch boundaries inside the results (2, 3) or none.
------------------------------------------------------------------------------------------
RESET promscale_ha.read_max_samples;
-- a time stored twice for the 4 counters (a head row made by hand at a compressed
-- sample's time, 03:59:45, negated): the head's comes first in the view and is read
\set late `:gen --series 4 --series-offset 100 --samples 1 --start-ms 1767239987500 --hex`
SELECT samples_written FROM promscale_ha.write(:'late');
INSERT INTO promscale_ha.samples_head
  SELECT series_id, time - interval '2.5 s', -value FROM promscale_ha.samples_head
   WHERE time = '2026-01-01 03:59:47.5+00';
SELECT count(*) AS rows, count(DISTINCT (series_id, time)) AS times FROM promscale_ha.samples
  WHERE time = '2026-01-01 03:59:45+00';
\set queries `echo -q 1767225600000 1767247200000 __name__=~.+ -q 1767239985000 1767240000000 __name__=:c1_name -q 1767236400000 1767241800000 job!=db __name__!=up`
CREATE TEMP TABLE batch_resp (accept text, batch int, md5 text, n int);
\set req0 `:dec request --accept 0 :queries`
\set req1 `:dec request --accept 1 :queries`
SET promscale_ha.read_frame_bytes = 2000;
SET promscale_ha.read_batch_series = 1;
INSERT INTO batch_resp SELECT '0', 1, md5(string_agg(kind || encode(body, 'hex'), ',' ORDER BY o)), count(*) FROM promscale_ha.read(decode(:'req0', 'hex')) WITH ORDINALITY r(kind, body, o);
INSERT INTO batch_resp SELECT '1', 1, md5(string_agg(kind || encode(body, 'hex'), ',' ORDER BY o)), count(*) FROM promscale_ha.read(decode(:'req1', 'hex')) WITH ORDINALITY r(kind, body, o);
SET promscale_ha.read_batch_series = 2;
INSERT INTO batch_resp SELECT '0', 2, md5(string_agg(kind || encode(body, 'hex'), ',' ORDER BY o)), count(*) FROM promscale_ha.read(decode(:'req0', 'hex')) WITH ORDINALITY r(kind, body, o);
INSERT INTO batch_resp SELECT '1', 2, md5(string_agg(kind || encode(body, 'hex'), ',' ORDER BY o)), count(*) FROM promscale_ha.read(decode(:'req1', 'hex')) WITH ORDINALITY r(kind, body, o);
SET promscale_ha.read_batch_series = 3;
INSERT INTO batch_resp SELECT '0', 3, md5(string_agg(kind || encode(body, 'hex'), ',' ORDER BY o)), count(*) FROM promscale_ha.read(decode(:'req0', 'hex')) WITH ORDINALITY r(kind, body, o);
INSERT INTO batch_resp SELECT '1', 3, md5(string_agg(kind || encode(body, 'hex'), ',' ORDER BY o)), count(*) FROM promscale_ha.read(decode(:'req1', 'hex')) WITH ORDINALITY r(kind, body, o);
SET promscale_ha.read_batch_series = 100000;
INSERT INTO batch_resp SELECT '0', 100000, md5(string_agg(kind || encode(body, 'hex'), ',' ORDER BY o)), count(*) FROM promscale_ha.read(decode(:'req0', 'hex')) WITH ORDINALITY r(kind, body, o);
INSERT INTO batch_resp SELECT '1', 100000, md5(string_agg(kind || encode(body, 'hex'), ',' ORDER BY o)), count(*) FROM promscale_ha.read(decode(:'req1', 'hex')) WITH ORDINALITY r(kind, body, o);
SELECT b.accept, b.batch, b.n AS rows, b.md5 = u.md5 AS same_as_unbatched
  FROM batch_resp b JOIN batch_resp u ON u.accept = b.accept AND u.batch = 1 ORDER BY 1, 2;
-- what they hold (batches of 2): series and samples per query, and the time read once
SET promscale_ha.read_batch_series = 2;
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req1', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --summary --bound 2000`
\echo :out
\set req `:dec request --accept 1 -q 1767239985000 1767239985000 '__name__=:c1_name'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt`
\echo :out
SELECT s.labels->>'env' AS env, encode(float8send(h.value), 'hex') AS head_bits,
       encode(float8send(c.value), 'hex') AS compressed_bits
  FROM promscale_ha.samples_head h JOIN promscale_ha.samples_compressed c USING (series_id, time)
  JOIN promscale_ha.series s ON s.id = h.series_id
 WHERE h.time = '2026-01-01 03:59:45+00' ORDER BY 1;
RESET promscale_ha.read_frame_bytes;
-- read_max_samples with the duplicates: a batch whose query passes it is read again
-- series by series, so the limit counts samples as read, with the same error
\set req `:dec request -q :t0 :t_end '__name__=~.+'`
SELECT count(DISTINCT (series_id, time)) AS total, count(DISTINCT (series_id, time)) - 1 AS total_1
  FROM promscale_ha.samples WHERE time BETWEEN '2026-01-01 00:00+00' AND '2026-01-01 06:00+00' \gset
SELECT count(*) - :total AS duplicates FROM promscale_ha.samples
  WHERE time BETWEEN '2026-01-01 00:00+00' AND '2026-01-01 06:00+00';
SET promscale_ha.read_batch_series = 100000;
SET promscale_ha.read_max_samples = :total;
SELECT pg_temp.try_read(decode(:'req', 'hex'));
SET promscale_ha.read_max_samples = :total_1;
SELECT pg_temp.try_read(decode(:'req', 'hex'));
SET promscale_ha.read_batch_series = 1;
SELECT pg_temp.try_read(decode(:'req', 'hex'));
RESET promscale_ha.read_max_samples;
RESET promscale_ha.read_batch_series;
-- one query per batch: series_id = ANY pushed into the chunk scan, index scans on the head
SET plan_cache_mode = force_generic_plan;
PREPARE batch_q(bigint[], timestamptz, timestamptz) AS
  SELECT series_id, time, value FROM promscale_ha.samples
   WHERE series_id = ANY($1) AND time >= $2 AND time <= $3;
-- (the plan's lines with partition names made generic, and without the count of
-- partitions pruned at start-up: which partitions exist depends on the suites before)
CREATE FUNCTION pg_temp.batch_plan() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXPLAIN (COSTS OFF) EXECUTE batch_q('{1,2}', '2026-01-01 00:00+00', '2026-01-01 06:00+00') LOOP
    IF l NOT LIKE '%Subplans Removed%' THEN
      RETURN NEXT regexp_replace(regexp_replace(l, 'samples_\d{8}(_\d{6})?', 'samples_P', 'g'),
                                 'samples_head_\d+', 'samples_head', 'g');
    END IF;
  END LOOP;
END $$;
SELECT DISTINCT trim(p) AS plan_line FROM pg_temp.batch_plan() p ORDER BY 1;
DEALLOCATE batch_q;
RESET plan_cache_mode;

-- leave no chunks behind for the suites that follow
TRUNCATE promscale_ha.series, promscale_ha.samples_head, promscale_ha.chunks,
         promscale_ha.compressed_ranges;
RESET promscale_ha.test_now;
RESET promscale_ha.partition_interval;
