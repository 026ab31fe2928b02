#!/bin/bash
#
# crash_restart.sh - the lease state and the data survive crashes of the server.
#
# Starts its own PostgreSQL 15 (a temp directory, a Unix socket there, no TCP) with the
# extension preloaded, then:
#   1. a leads cluster k1, b follows;
#   2. a backend is killed with SIGKILL: the postmaster restarts every process; the
#      leader is still a (loaded back by the worker), b's next write is still
#      deduplicated (no flap after the restart), a's is stored;
#   3. a write killed with SIGKILL before it commits leaves nothing; its retry stores all;
#   4. the worker is killed with SIGKILL: it comes back, the state is intact;
#   5. a follower's request answered while it followed lives only in the replay buffer:
#      a crash restart keeps it (the buffer is logged), and b's takeover afterwards
#      stores every one of its samples (no gap);
#   6. promscale_ha.replay_buffer_logged = off: the worker makes the buffer unlogged, and
#      a crash empties it (the documented price); back on, it is logged again.
# Prints "ok: ..." or "FAILED: ..." per check; exits 1 if any failed.  Every wait is
# bounded; every process it starts is stopped by PID at the end.
# Needs: root, postgresql-15, promscale_ha and promscale-ha-gen installed (make install).

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/lib/pgserver.sh
. "$here/../lib/pgserver.sh"
failures=0

ok() { echo "ok: $*"; }
bad() { echo "FAILED: $*"; failures=$((failures + 1)); }
check() { # check DESCRIPTION EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (expected '$2', got '$3')"; fi
}

payload() { # payload CLUSTER REPLICA START_MS NSERIES
	"$gen" --series "$4" --cluster "$1" --replica "$2" --start-ms "$3" --hex
}

pg_server_start 55433 "promscale_ha.failover_timeout = '5s'" || {
	echo "FAILED: server start"
	exit 1
}

# 1. a leads, b follows
now=$(date +%s%3N)
q "SELECT outcome FROM promscale_ha.write('$(payload k1 a "$now" 5)')" >/dev/null
check "b follows before the crash" deduplicated \
	"$(q "SELECT outcome FROM promscale_ha.write('$(payload k1 b $((now + 500)) 5)')")"

# 2. SIGKILL of a backend: crash restart of the whole server
as_pg "$pgbin/psql" -X -h "$dir" -p "$port" -d postgres -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
bg_pids+=($!)
wait_until 10 "SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%'" ||
	bad "the sleeping backend did not show up"
victim=$(q "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%' LIMIT 1")
kill -9 "$victim"
if crash_restarted 0; then ok "crash restart after SIGKILL of a backend"; else bad "no crash restart"; fi
check "ha_leases still names a" a "$(q "SELECT leader_name FROM promscale_ha.ha_leases WHERE cluster_name = 'k1'")"
if wait_until 30 "SELECT count(*) = 1 FROM promscale_ha.cluster_state() WHERE cluster_name = 'k1' AND leader_name = 'a'"; then
	ok "the worker loaded the lease back into shared memory"
else
	bad "lease not loaded after the restart"
fi
check "b is still deduplicated right after the restart (no flap)" deduplicated \
	"$(q "SELECT outcome FROM promscale_ha.write('$(payload k1 b $((now + 1500)) 5)')")"
check "a is still stored" stored \
	"$(q "SELECT outcome FROM promscale_ha.write('$(payload k1 a $((now + 1000)) 5)')")"

# 3. a write killed before it commits leaves nothing; the retry stores it all
big=$(payload k1 a $((now + 2000)) 2000)
echo "BEGIN; SELECT samples_written FROM promscale_ha.write('$big'); SELECT pg_sleep(120);" >"$dir/killed.sql"
chown postgres: "$dir/killed.sql"
as_pg "$pgbin/psql" -X -h "$dir" -p "$port" -d postgres -f "$dir/killed.sql" >/dev/null 2>&1 &
bg_pids+=($!)
wait_until 20 "SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%'" ||
	bad "the open write did not show up"
victim=$(q "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%' LIMIT 1")
before=$(crash_count)
kill -9 "$victim"
crash_restarted "$before" || bad "no crash restart after killing the write"
check "nothing of the killed write is stored" 0 \
	"$(q "SELECT count(*) FROM promscale_ha.samples WHERE time = 'epoch'::timestamptz + $((now + 2000)) * interval '1 ms'")"
check "its retry stores every sample" 2000 \
	"$(q "SELECT samples_written FROM promscale_ha.write('$big')")"

# 4. SIGKILL of the worker: it comes back, the state is intact
wpid=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'promscale_ha worker'")
if [ -n "$wpid" ]; then
	before=$(crash_count)
	kill -9 "$wpid"
	crash_restarted "$before" || bad "no crash restart after killing the worker"
	if wait_until 60 "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'promscale_ha worker' AND pid <> $wpid"; then
		ok "the worker is back after SIGKILL"
	else
		bad "the worker did not come back"
	fi
else
	bad "no worker found"
fi
check "a still leads after the worker's crash" a \
	"$(q "SELECT leader FROM promscale_ha.leaders WHERE cluster = 'k1'")"
check "periods never overlap" 0 \
	"$(q "SELECT count(*) FROM promscale_ha.ha_leases_logs x JOIN promscale_ha.ha_leases_logs y ON x.cluster_name = y.cluster_name AND x.lease_start < y.lease_start AND x.lease_until > y.lease_start")"

# kill_a_backend: SIGKILL of an idle backend, then wait for the crash restart
kill_a_backend() {
	local before victim
	as_pg "$pgbin/psql" -X -h "$dir" -p "$port" -d postgres -c "SELECT pg_sleep(121)" >/dev/null 2>&1 &
	bg_pids+=($!)
	wait_until 10 "SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(121)%'" ||
		bad "the sleeping backend did not show up"
	victim=$(q "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(121)%' LIMIT 1")
	before=$(crash_count)
	kill -9 "$victim"
	crash_restarted "$before"
}
# stored_at CLUSTER FROM_MS TO_MS: stored samples of the cluster's series in [FROM, TO)
stored_at() {
	q "SELECT count(*) FROM promscale_ha.samples x JOIN promscale_ha.series s ON s.id = x.series_id
	   WHERE s.labels->>'cluster' = '$1'
	     AND x.time >= 'epoch'::timestamptz + $2 * interval '1 ms'
	     AND x.time < 'epoch'::timestamptz + $3 * interval '1 ms'"
}

# 5. a follower's buffered request survives a crash restart and is replayed at takeover
now=$(date +%s%3N)
check "the replay buffer is logged" p \
	"$(q "SELECT relpersistence FROM pg_class WHERE oid = 'promscale_ha.replay_buffer'::regclass")"
check "a leads k5" stored "$(q "SELECT outcome FROM promscale_ha.write('$(payload k5 a "$now" 20)')")"
# b's request (20 series x 4 samples after a's last one) is answered, not stored: 202
bpay=$("$gen" --series 20 --samples 4 --step-ms 1000 --cluster k5 --replica b --start-ms $((now + 1000)) --hex)
check "b's request is deduplicated (kept only in the buffer)" deduplicated \
	"$(q "SELECT outcome FROM promscale_ha.write('$bpay')")"
check "b's payload is buffered" 1 "$(q "SELECT count(*) FROM promscale_ha.replay_buffer WHERE cluster_name = 'k5'")"
if kill_a_backend; then ok "crash restart with a buffered request"; else bad "no crash restart"; fi
check "b's payload is still buffered after the crash" 1 \
	"$(q "SELECT count(*) FROM promscale_ha.replay_buffer WHERE cluster_name = 'k5'")"
wait_until 30 "SELECT count(*) = 1 FROM promscale_ha.cluster_state() WHERE cluster_name = 'k5' AND leader_name = 'a'" ||
	bad "k5's lease not loaded after the restart"
q "SELECT promscale_ha.set_leader('k5', 'b')" >/dev/null
check "b took over after the restart" b "$(q "SELECT leader FROM promscale_ha.leaders WHERE cluster = 'k5'")"
check "every sample of b's buffered request is stored (no gap)" 80 "$(stored_at k5 $((now + 1000)) $((now + 5000)))"
check "nothing stored twice" 100 "$(stored_at k5 "$now" $((now + 5000)))"

# 6. the opt-out: unlogged, and a crash empties it
q "ALTER SYSTEM SET promscale_ha.replay_buffer_logged = off" >/dev/null
q "ALTER SYSTEM SET promscale_ha.housekeeping_interval = '1s'" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
if wait_until 30 "SELECT relpersistence = 'u' FROM pg_class WHERE oid = 'promscale_ha.replay_buffer'::regclass"; then
	ok "the worker made the buffer unlogged (replay_buffer_logged = off)"
else
	bad "the buffer did not become unlogged"
fi
now=$(date +%s%3N)
check "a leads k6" stored "$(q "SELECT outcome FROM promscale_ha.write('$(payload k6 a "$now" 5)')")"
check "b follows k6" deduplicated "$(q "SELECT outcome FROM promscale_ha.write('$(payload k6 b $((now + 1000)) 5)')")"
if kill_a_backend; then ok "crash restart with an unlogged buffer"; else bad "no crash restart"; fi
check "an unlogged buffer is empty after a crash" 0 "$(q "SELECT count(*) FROM promscale_ha.replay_buffer")"
q "ALTER SYSTEM RESET promscale_ha.replay_buffer_logged" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
if wait_until 30 "SELECT relpersistence = 'p' FROM pg_class WHERE oid = 'promscale_ha.replay_buffer'::regclass"; then
	ok "the worker made the buffer logged again"
else
	bad "the buffer did not become logged again"
fi

[ "$failures" -eq 0 ] || { echo "--- server log (end) ---"; tail -n 30 "$dir/log"; }
exit $((failures > 0))
