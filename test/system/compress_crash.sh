#!/bin/bash
#
# compress_crash.sh - a crash in the middle of a compression loses nothing and
# doubles nothing.
#
# Starts its own PostgreSQL 15 (a temp directory, a Unix socket there, no TCP) with the
# extension preloaded, writes 2026-01-01 data (two 2-hour head partitions), then:
#   1. compress_now() is stopped at its last step -- chunks written, the partition's
#      DROP waiting for a reader that holds samples_head -- and killed with SIGKILL:
#      after the crash restart every sample reads back the same (checksum), and no
#      chunk of the killed transaction is visible;
#   2. compress_now() again, with nothing in the way: the same checksum, from chunks;
#   3. more data, and the worker's own compression is stopped the same way and the
#      worker killed with SIGKILL: it comes back, finishes the job, same checksum.
# Prints "ok: ..." or "FAILED: ..." per check; exits 1 if any failed.  Every wait is
# bounded; every process it starts is stopped at the end.
# Needs: root, postgresql-15, promscale_ha and promscale-ha-gen installed (make install).

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/lib/checks.sh
. "$here/../lib/checks.sh"

# shellcheck source=test/lib/pgserver.sh
. "$here/../lib/pgserver.sh"

# send GEN-ARGS...: one request made by promscale-ha-gen, read by the server from a file
send() {
	"$gen" "$@" -o "$dir/payload.bin" && chown postgres: "$dir/payload.bin" &&
		q "SELECT samples_written FROM promscale_ha.write(pg_read_binary_file('$dir/payload.bin'))" >/dev/null
}

# checksum: every sample, as (series, ms, value bits), hashed in order
checksum() {
	q "SELECT count(*) || ' ' || md5(string_agg(series_id || ',' ||
	     (extract(epoch FROM time) * 1000)::bigint || ',' || encode(float8send(value), 'hex'),
	     ';' ORDER BY series_id, time)) FROM promscale_ha.samples"
}

# hold_head SECONDS: a background session holding AccessShareLock on samples_head
hold_head() {
	echo "BEGIN; SELECT count(*) FROM promscale_ha.samples_head; SELECT pg_sleep($1);" >"$dir/hold.sql"
	chown postgres: "$dir/hold.sql"
	as_pg "$pgbin/psql" -X -h "$dir" -p "$port" -d postgres -f "$dir/hold.sql" >/dev/null 2>&1 &
	bg_pids+=($!)
	wait_until 20 "SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep($1)%'"
}

pg_server_start 55437 "promscale_ha.partition_interval = '2h'" "promscale_ha.compress_after = -1" \
	"promscale_ha.compress_lock_timeout = '120s'" "promscale_ha.housekeeping_interval = '1s'" ||
	fatal "server start"

t0=1767225600000 # 2026-01-01 00:00 UTC
send --series 50 --samples 960 --start-ms $t0
send --series 5 --series-offset 100 --samples 100 --values special --start-ms $t0
sum0=$(checksum)
check_eq "data written (samples)" 48500 "${sum0%% *}"

# 1. compress_now killed while its DROP waits for a reader
hold_head 120 || failed "the reader did not show up"
echo "SELECT * FROM promscale_ha.compress_now('1 day');" >"$dir/compress.sql"
chown postgres: "$dir/compress.sql"
as_pg "$pgbin/psql" -X -h "$dir" -p "$port" -d postgres -f "$dir/compress.sql" >/dev/null 2>&1 &
bg_pids+=($!)
if wait_until 60 "SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE '%compress_now%'
                   AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"; then
	ok "compress_now waits at its DROP, chunks written"
else
	failed "compress_now did not reach its DROP"
fi
victim=$(q "SELECT pid FROM pg_stat_activity WHERE query LIKE '%compress_now%' AND pid <> pg_backend_pid() LIMIT 1")
before=$(crash_count)
kill -9 "$victim"
if crash_restarted "$before"; then ok "crash restart after SIGKILL of compress_now"; else fatal "no crash restart"; fi
check_eq "every sample reads back the same after the crash" "$sum0" "$(checksum)"
check_eq "no chunk of the killed compression is visible" 0 "$(q "SELECT count(*) FROM promscale_ha.chunks")"
check_eq "the head partitions are still there" 2 \
	"$(q "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	      WHERE i.inhparent = 'promscale_ha.samples_head'::regclass AND c.relname LIKE 'samples\_20260101%'")"

# 2. again, with nothing in the way
check_eq "compress_now compresses both partitions" 2 "$(q "SELECT count(*) FROM promscale_ha.compress_now('1 day')")"
check_eq "every sample reads back the same from the chunks" "$sum0" "$(checksum)"
check_eq "no head rows left of 2026-01-01" 0 \
	"$(q "SELECT count(*) FROM promscale_ha.samples_head WHERE time < '2026-01-02'")"

# 3. the worker's compression, killed at the same point
t1=$((t0 + 4 * 3600 * 1000))
send --series 50 --samples 480 --start-ms $t1
sum1=$(checksum)
hold_head 120 || failed "the reader did not show up"
q "ALTER SYSTEM SET promscale_ha.compress_after = '1h'" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
if wait_until 60 "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'promscale_ha worker'
                   AND wait_event_type = 'Lock'"; then
	ok "the worker's compression waits at its DROP"
else
	failed "the worker did not start compressing"
fi
wpid=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'promscale_ha worker'")
before=$(crash_count)
kill -9 "$wpid"
if crash_restarted "$before"; then ok "crash restart after SIGKILL of the worker"; else fatal "no crash restart"; fi
check_eq "every sample reads back the same after the worker's crash" "$sum1" "$(checksum)"
if wait_until 90 "SELECT count(*) = 0 FROM promscale_ha.samples_head WHERE time < '2026-01-02'"; then
	ok "the restarted worker compressed the partition"
else
	failed "the worker did not compress after its restart"
fi
check_eq "every sample reads back the same after the worker's compression" "$sum1" "$(checksum)"
check_eq "stats count what the worker compressed" t \
	"$(q "SELECT samples_compressed >= 24000 AND compress_last_run IS NOT NULL FROM promscale_ha.stats")"

echo "compress_crash: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
