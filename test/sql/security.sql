-- security: the three roles and what each may do; names that look like SQL stay data.
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
SET client_min_messages = warning;
DROP ROLE IF EXISTS pha_w, pha_r, pha_a, pha_nobody;
RESET client_min_messages;
CREATE ROLE pha_w LOGIN IN ROLE promscale_ha_writer;
CREATE ROLE pha_r LOGIN IN ROLE promscale_ha_reader;
CREATE ROLE pha_a LOGIN IN ROLE promscale_ha_admin;
CREATE ROLE pha_nobody LOGIN;
TRUNCATE promscale_ha.samples_head, promscale_ha.series;

-- label values with quotes, semicolons and SQL, and unicode, are stored as data
\set evil `:gen --series 2 --series-offset 70 --label "note=x'); DROP TABLE promscale_ha.samples; --" --label "city=Zürich ☃" --hex`
\set ha `:gen --series 2 --series-offset 80 --cluster sec --replica a --hex`

-- the writer may write, and nothing else
SET ROLE pha_w;
SELECT samples_written, series_created FROM promscale_ha.write(:'evil');
SELECT samples_written FROM promscale_ha.write(:'ha');
\set VERBOSITY sqlstate
SELECT count(*) FROM promscale_ha.samples;
SELECT count(*) FROM promscale_ha.series;
SELECT promscale_ha.set_leader('sec', 'b');
SET promscale_ha.max_payload_bytes = '1GB';
SET promscale_ha.test_now = '2030-01-01';
INSERT INTO promscale_ha.samples_head VALUES (1, now(), 1);
\set VERBOSITY default
RESET ROLE;

-- the reader may read, and not write
SET ROLE pha_r;
SELECT labels->>'note' AS note, labels->>'city' AS city
  FROM promscale_ha.series WHERE labels ? 'note' ORDER BY 1, 2;
SELECT count(*) AS samples FROM promscale_ha.samples;
SELECT cluster, leader FROM promscale_ha.leaders WHERE cluster = 'sec';
SELECT count(*) >= 0 AS stats_readable FROM promscale_ha.stats;
\set VERBOSITY sqlstate
SELECT * FROM promscale_ha.write(:'ha');
SELECT promscale_ha.set_leader('sec', 'b');
DELETE FROM promscale_ha.samples_head;
SELECT count(*) FROM promscale_ha.replay_buffer;
\set VERBOSITY default
RESET ROLE;

-- a role with no grant sees nothing
SET ROLE pha_nobody;
\set VERBOSITY sqlstate
SELECT count(*) FROM promscale_ha.series;
SELECT * FROM promscale_ha.write(:'ha');
\set VERBOSITY default
RESET ROLE;

-- the admin may force a leader and change the limits
SET ROLE pha_a;
SET promscale_ha.failover_timeout = '1min';
SELECT promscale_ha.set_leader('sec', 'b');
SELECT cluster, leader FROM promscale_ha.leaders WHERE cluster = 'sec';
RESET promscale_ha.failover_timeout;
RESET ROLE;

-- SECURITY DEFINER functions pin search_path; PUBLIC has no right anywhere
SELECT p.proname, p.prosecdef, p.proconfig
  FROM pg_proc p WHERE p.pronamespace = 'promscale_ha'::regnamespace AND p.prosecdef ORDER BY 1;
SELECT count(*) AS public_function_grants FROM pg_proc p, aclexplode(p.proacl) a
  WHERE p.pronamespace = 'promscale_ha'::regnamespace AND a.grantee = 0;
SELECT count(*) AS public_table_grants FROM pg_class c, aclexplode(c.relacl) a
  WHERE c.relnamespace = 'promscale_ha'::regnamespace AND a.grantee = 0;
-- samples is intact
SELECT count(*) AS samples FROM promscale_ha.samples;

DROP ROLE pha_w, pha_r, pha_a, pha_nobody;
