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

-- regexes that are sets of literals (a|b|c, as Grafana's multi-value variables send) are
-- equality tests (btree on the name, GIN on other labels, = ANY when "" is in the set):
-- each must select exactly what the same set written as a real regex selects
\set lit `:dec request -q :t0 :t_end '__name__=~up|text|nope' -q :t0 :t_end '__name__!~up|text|http_requests|ha_metric' -q :t0 :t_end '__name__=up' 'env=~prod|dev' -q :t0 :t_end '__name__=up' 'env=~prod|' -q :t0 :t_end '__name__=up' 'env!~prod|dev' -q :t0 :t_end '__name__=up' 'env!~prod|' -q :t0 :t_end 'path=~/a\.b|/q' -q :t0 :t_end 'v=~x\{2\}|a1b' -q :t0 :t_end 'job=~api' -q :t0 :t_end 'job=~ap'`
\set rex `:dec request -q :t0 :t_end '__name__=~(?:up)|text|nope' -q :t0 :t_end '__name__!~(?:up)|text|http_requests|ha_metric' -q :t0 :t_end '__name__=up' 'env=~(?:prod)|dev' -q :t0 :t_end '__name__=up' 'env=~(?:prod)|' -q :t0 :t_end '__name__=up' 'env!~(?:prod)|dev' -q :t0 :t_end '__name__=up' 'env!~(?:prod)|' -q :t0 :t_end 'path=~(?:/a\.b)|/q' -q :t0 :t_end 'v=~(?:x\{2\})|a1b' -q :t0 :t_end 'job=~(?:api)' -q :t0 :t_end 'job=~(?:ap)'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'lit', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out_lit `:dec decode results/read_resp.txt --labels`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'rex', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out_rex `:dec decode results/read_resp.txt --labels`
\echo :out_lit
SELECT :'out_lit' = :'out_rex' AS literal_sets_select_as_regexes;

-- the series statement's plan is kept per matcher shape (its values are parameters): the
-- same shape with other values selects other series, with custom and with generic plans,
-- and after DDL on promscale_ha.series (the kept plan is made again)
\set prod `:dec request -q :t0 :t_end '__name__=up' 'env=prod'`
\set dev `:dec request -q :t0 :t_end '__name__=up' 'env=dev'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'prod', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out_prod `:dec decode results/read_resp.txt --labels`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'dev', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out_dev `:dec decode results/read_resp.txt --labels`
\echo :out_prod
\echo :out_dev
SET plan_cache_mode = force_generic_plan;
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'dev', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out_dev_g `:dec decode results/read_resp.txt --labels`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'prod', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out_prod_g `:dec decode results/read_resp.txt --labels`
ALTER TABLE promscale_ha.series ADD COLUMN read_test int;
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'dev', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out_dev_ddl `:dec decode results/read_resp.txt --labels`
ALTER TABLE promscale_ha.series DROP COLUMN read_test;
RESET plan_cache_mode;
SELECT :'out_prod' <> :'out_dev' AS values_differ,
       :'out_prod_g' = :'out_prod' AND :'out_dev_g' = :'out_dev' AS generic_plan_same,
       :'out_dev_ddl' = :'out_dev' AS after_ddl_same;

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
-- one head query per batch (the chunks come from their primary key, series by series):
-- index scans on the head's partitions
SET plan_cache_mode = force_generic_plan;
PREPARE batch_q(bigint[], timestamptz, timestamptz) AS
  SELECT series_id, time, value FROM promscale_ha.samples_head
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

------------------------------------------------------------------------------------------
-- stored chunks.  Dense chunks (all of the above) are decoded and sent as XOR chunks of
-- at most 120 samples; a stored XOR chunk (chunk_format xor) inside the window, with no
-- head sample in its span, is sent as it is, byte for byte; edge chunks are cut to the
-- window (inclusive ms) and re-encoded; a late head sample in a chunk's span makes it
-- decoded and merged (the head's value wins a time held twice); a damaged chunk is an
-- error with SQLSTATE XX001.  `decode --chunks` prints each chunk sent:
-- chunk MIN_MS MAX_MS SAMPLES HEX.
------------------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.sent_chunks(decoded text)
  RETURNS TABLE (min_ms bigint, max_ms bigint, n int, data bytea) LANGUAGE sql AS $$
  SELECT a[2]::bigint, a[3]::bigint, a[4]::int, decode(a[5], 'hex')
    FROM regexp_split_to_table(decoded, E'\n') l, regexp_split_to_array(l, ' ') a WHERE a[1] = 'chunk' $$;
\set req `:dec request --accept 1 -q :t0 :t_end '__name__=~.+'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --chunks`
SELECT count(*) > 0 AS dense_chunks_stored, bool_and(get_byte(data, 0) = 2) AS all_dense,
       max(samples) > 120 AS some_stored_over_120 FROM promscale_ha.chunks;
SELECT count(*) > 0 AS chunks_sent, max(n) AS most_samples_sent FROM pg_temp.sent_chunks(:'out');

TRUNCATE promscale_ha.series, promscale_ha.samples_head, promscale_ha.chunks,
         promscale_ha.compressed_ranges;
-- two series, a sample every 15 s over 00:00-04:00 (values 1, 2, ...; series b 5 s
-- later), compressed as XOR in chunks of up to 480 samples: two chunks each (2 h
-- partitions; the default, 120 samples as Prometheus cuts them, is checked at the end)
\set w `:dec write :t0 15000 960 '__name__=pt,s=a'`
SELECT samples_written FROM promscale_ha.write(decode(:'w', 'hex'));
\set w `:dec write 1767225605000 15000 960 '__name__=pt,s=b'`
SELECT samples_written FROM promscale_ha.write(decode(:'w', 'hex'));
SET promscale_ha.chunk_format = 'xor';
SET promscale_ha.xor_chunk_samples = 480;
RESET promscale_ha.test_now;
SELECT sum(samples) AS compressed FROM promscale_ha.compress_now('1 day');
SET promscale_ha.test_now = '2026-01-01 06:00:00+00';
RESET promscale_ha.chunk_format;
RESET promscale_ha.xor_chunk_samples;
-- the Prometheus XOR chunk inside a stored one: after the format byte, and after the
-- 4-byte CRC32C of format 3 (what compression writes since 0.4.0)
CREATE FUNCTION pg_temp.xor_bytes(d bytea) RETURNS bytea LANGUAGE sql AS $$
  SELECT CASE get_byte(d, 0) WHEN 3 THEN substr(d, 6) WHEN 1 THEN substr(d, 2) END $$;
CREATE TEMP VIEW stored AS
  SELECT s.labels->>'s' AS s, (extract(epoch FROM c.min_time) * 1000)::bigint AS min_ms,
         (extract(epoch FROM c.max_time) * 1000)::bigint AS max_ms, c.samples, c.data
    FROM promscale_ha.chunks c JOIN promscale_ha.series s ON s.id = c.series_id;
SELECT s, min_ms, max_ms, samples, get_byte(data, 0) AS format FROM stored ORDER BY 1, 2;
-- each stored chunk, and whether the response holds its bytes as a chunk of its span
CREATE FUNCTION pg_temp.stored_sent(decoded text)
  RETURNS TABLE (s text, min_ms bigint, sent_as_stored bool) LANGUAGE sql AS $$
  SELECT x.s, x.min_ms, EXISTS (SELECT FROM pg_temp.sent_chunks(decoded) c
                                 WHERE c.min_ms = x.min_ms AND c.max_ms = x.max_ms
                                   AND c.data = pg_temp.xor_bytes(x.data) AND c.n = x.samples)
    FROM stored x ORDER BY 1, 2 $$;

-- the whole span: the four stored chunks sent unchanged (their XOR chunks), nothing
-- else; the same samples as SAMPLES
\set req `:dec request --accept 1 -q 1767225600000 1767239990000 '__name__=pt'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --chunks`
SELECT * FROM pg_temp.stored_sent(:'out');
SELECT count(*) AS chunks_sent FROM pg_temp.sent_chunks(:'out');
\set out `:dec decode results/read_resp.txt --summary`
\echo :out
\set req `:dec request --accept 0 -q 1767225600000 1767239990000 '__name__=pt'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --summary`
\echo :out
-- read_max_samples counts a chunk sent as stored by its samples: the limit is exact
SET promscale_ha.read_max_samples = 1920;
\set req `:dec request --accept 1 -q 1767225600000 1767239990000 '__name__=pt'`
SELECT pg_temp.try_read(decode(:'req', 'hex'));
SET promscale_ha.read_max_samples = 1919;
SELECT pg_temp.try_read(decode(:'req', 'hex'));
RESET promscale_ha.read_max_samples;

-- the first chunk's own span, inclusive at both ends, is sent unchanged; one ms less at
-- either end cuts it (479 samples, re-encoded in chunks of at most 120)
\set req `:dec request --accept 1 -q 1767225600000 1767232785000 's=a' -q 1767225600001 1767232785000 's=a' -q 1767225600000 1767232784999 's=a'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --chunks`
SELECT c.min_ms, c.max_ms, c.n, x.s IS NOT NULL AS stored_bytes
  FROM pg_temp.sent_chunks(:'out') WITH ORDINALITY c LEFT JOIN stored x
    ON x.min_ms = c.min_ms AND x.max_ms = c.max_ms AND pg_temp.xor_bytes(x.data) = c.data
 ORDER BY c.ordinality;
-- 00:30:00 .. 03:00:00: both chunks cut, the edges included
\set req `:dec request --accept 1 -q 1767227400000 1767236400000 's=a'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --summary`
\echo :out
\set out `:dec decode results/read_resp.txt --chunks`
SELECT count(*) AS chunks, sum(n) AS samples, max(n) AS most, min(min_ms), max(max_ms)
  FROM pg_temp.sent_chunks(:'out');

-- late head samples of series a in its second chunk's span: 02:30:07.5 (between two
-- stored samples, value 1) written late, and 02:30:00 (a time the chunk holds, value -1)
-- put in the head by hand.  That chunk is decoded and merged, the head's value first;
-- the other three still go out unchanged
\set w `:dec write 1767234607500 1 1 '__name__=pt,s=a'`
SELECT samples_written FROM promscale_ha.write(decode(:'w', 'hex'));
INSERT INTO promscale_ha.samples_head
  SELECT id, '2026-01-01 02:30:00+00', -1 FROM promscale_ha.series WHERE labels->>'s' = 'a';
\set req `:dec request --accept 1 -q 1767225600000 1767239990000 '__name__=pt'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --chunks`
SELECT * FROM pg_temp.stored_sent(:'out');
\set out `:dec decode results/read_resp.txt --summary`
\echo :out
\set req `:dec request --accept 1 -q 1767234585000 1767234615000 's=a'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt`
\echo :out

-- chunks that overlap (compression never writes them; made by hand): two small chunks
-- inside series b's first chunk's span, one after the other.  None of the three goes out
-- as stored (each overlaps another, not only its neighbour in max_time order): their
-- samples are merged, as SAMPLES has them; the second chunk still goes out unchanged
INSERT INTO promscale_ha.chunks
  SELECT s.id, x.t[1], x.t[2], 2, promscale_ha.chunk_encode(x.t, x.v, 'xor')
    FROM promscale_ha.series s,
         (VALUES ('{2026-01-01 00:10:00+00,2026-01-01 00:10:07.5+00}'::timestamptz[], '{-5,-6}'::float8[]),
                 ('{2026-01-01 00:20:00+00,2026-01-01 00:20:07.5+00}', '{-7,-8}')) x(t, v)
   WHERE s.labels->>'s' = 'b';
\set req `:dec request --accept 1 -q 1767225600000 1767239990000 's=b'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --chunks`
SELECT * FROM pg_temp.stored_sent(:'out') WHERE s = 'b';
\set out `:dec decode results/read_resp.txt --summary`
\echo :out
\set req `:dec request --accept 0 -q 1767225600000 1767239990000 's=b'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --summary`
\echo :out
DELETE FROM promscale_ha.chunks WHERE samples = 2;

-- damaged chunks (as a superuser may damage them): SQLSTATE XX001, no crash, on every
-- path: sent as stored (inside the window), decoded at an edge, SAMPLES.  A chunk with
-- a checksum (format 3): one byte changed in its bit stream fails the checksum; its
-- row's count or start changed (the bytes intact) fails the checks of what the client
-- relies on.  Then the same chunks without checksum (format 1, as 0.3.0 wrote them):
-- still sent unchanged, after decoding; the count in their header changed, or their
-- last bytes cut, fail the decoding.  Series a still reads.
CREATE TEMP TABLE saved AS SELECT * FROM promscale_ha.chunks;
CREATE FUNCTION pg_temp.damage_b(how text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE promscale_ha.chunks c SET data = s.data, samples = s.samples, min_time = s.min_time
    FROM saved s WHERE s.series_id = c.series_id AND s.max_time = c.max_time;
  IF how LIKE '%format 1' THEN
    UPDATE promscale_ha.chunks SET data = '\x01'::bytea || pg_temp.xor_bytes(data);
  END IF;
  UPDATE promscale_ha.chunks c SET
      data = CASE WHEN how LIKE 'byte%' THEN overlay(c.data placing '\x5a'::bytea from 300)
                  WHEN how LIKE 'count%' THEN overlay(c.data placing '\x0100'::bytea from 2)
                  WHEN how LIKE 'cut%' THEN substr(c.data, 1, length(c.data) - 8)
                  ELSE c.data END,
      samples = CASE WHEN how LIKE 'row count%' THEN c.samples - 1 ELSE c.samples END,
      min_time = CASE WHEN how LIKE 'row start%' THEN c.min_time - interval '1 ms'
                      ELSE c.min_time END
    FROM promscale_ha.series s WHERE s.id = c.series_id AND s.labels->>'s' = 'b'
     AND c.max_time = '2026-01-01 01:59:50+00';
END $$;
\set r_stored `:dec request --accept 1 -q 1767225600000 1767239990000 's=b'`
\set r_edge `:dec request --accept 1 -q 1767225605001 1767239990000 's=b'`
\set r_samples `:dec request --accept 0 -q 1767225600000 1767239990000 's=b'`
SELECT set_config('pha_test.r_stored', :'r_stored', false) IS NOT NULL AS r1,
       set_config('pha_test.r_edge', :'r_edge', false) IS NOT NULL AS r2,
       set_config('pha_test.r_samples', :'r_samples', false) IS NOT NULL AS r3;
CREATE TEMP TABLE damage_results AS
  SELECT d.ord, d.how, p.o, p.path, NULL::text AS result
    FROM (VALUES (1, 'byte 300 changed'), (2, 'row count - 1'), (3, 'row start - 1 ms'),
                 (4, 'none, format 1'), (5, 'count in the header, format 1'),
                 (6, 'cut 8 bytes, format 1')) d(ord, how),
         (VALUES (1, 'sent as stored'), (2, 'decoded at an edge'), (3, 'SAMPLES')) p(o, path);
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT DISTINCT ord, how FROM damage_results ORDER BY ord LOOP
    PERFORM pg_temp.damage_b(r.how);
    UPDATE damage_results SET result = regexp_replace(pg_temp.try_read(decode(
        current_setting(CASE path WHEN 'sent as stored' THEN 'pha_test.r_stored'
                                  WHEN 'decoded at an edge' THEN 'pha_test.r_edge'
                                  ELSE 'pha_test.r_samples' END), 'hex')), 'series \d+', 'series N')
     WHERE ord = r.ord;
  END LOOP;
END $$;
SELECT how, path, result FROM damage_results ORDER BY ord, o;
-- format 1 chunks (no checksum) still go out as stored
SELECT pg_temp.damage_b('none, format 1');
SELECT count(*) AS format_1_chunks FROM promscale_ha.chunks WHERE get_byte(data, 0) = 1;
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'r_stored', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --chunks`
SELECT * FROM pg_temp.stored_sent(:'out') WHERE s = 'b';
SELECT pg_temp.damage_b('none');
\set req `:dec request --accept 1 -q 1767225600000 1767239990000 's=a'`
SELECT pg_temp.try_read(decode(:'req', 'hex'));

-- xor chunks of the default size, 120 samples (30 min at 15 s): series c over
-- 00:00-02:00 is four chunks, and a window on their edges (00:30-01:29:45, inclusive)
-- is two of them, sent as stored with nothing decoded or re-encoded
\set w `:dec write :t0 15000 480 '__name__=pt,s=c'`
SELECT samples_written FROM promscale_ha.write(decode(:'w', 'hex'));
SET promscale_ha.chunk_format = 'xor';
RESET promscale_ha.test_now;
SELECT sum(samples) AS compressed FROM promscale_ha.compress_now('1 day');
RESET promscale_ha.chunk_format;
SELECT count(*) AS chunks, min(samples), max(samples) FROM stored WHERE s = 'c';
\set req `:dec request --accept 1 -q 1767227400000 1767230985000 's=c'`
SELECT kind || ' ' || encode(body, 'hex') FROM promscale_ha.read(decode(:'req', 'hex')) \g (format=unaligned tuples_only=on) results/read_resp.txt
\set out `:dec decode results/read_resp.txt --chunks`
SELECT * FROM pg_temp.stored_sent(:'out') WHERE s = 'c';
SELECT count(*) AS chunks_sent, sum(n) AS samples_sent FROM pg_temp.sent_chunks(:'out');

-- leave no chunks behind for the suites that follow
TRUNCATE promscale_ha.series, promscale_ha.samples_head, promscale_ha.chunks,
         promscale_ha.compressed_ranges;
RESET promscale_ha.test_now;
RESET promscale_ha.partition_interval;
