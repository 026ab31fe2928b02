#!/bin/bash
#
# buffer_full.sh - the followers' replay buffer is bounded, and a full disk under it
# costs a follower a retry, never a leader's data.
#
#   sudo bash test/soak/buffer_full.sh       (as root, after `make install`)
#
# Starts a throw-away PostgreSQL 15 (promscale_ha preloaded, replay_buffer_size = 1MB,
# failover_timeout = 10min so that nothing fails over during the test) and one
# promscale-ha-http front end on 127.0.0.1, then, with requests made by
# promscale-ha-gen (2000 series each, about 50 kB) for cluster b1:
#   1. r1 writes first and leads (204); r2 follows (202);
#   2. r2 sends a stream of requests back to back (about 8 times the bound in total);
#      after each, the buffer's size (sum of its payloads) is read: it must stay
#      within the bound plus one request (and, looser, within the bound plus one
#      second of the stream: the prune runs at most once a second per cluster), every
#      request must be answered 202, and the leader's writes in between must be
#      answered 204;
#   3. after a pause of more than a second (the buffer is pruned at most once a
#      second per cluster), one more request brings it back within the bound;
#   4. "disk full": a BEFORE INSERT trigger on promscale_ha.replay_buffer raises
#      SQLSTATE 53100 (disk_full).  A follower's request must then be answered 503
#      with Retry-After (retryable: nothing is lost, the leader has the data), the
#      buffer must be unchanged, and the leader's requests must still be answered 204
#      and stored; /healthz stays 200;
#   5. the trigger is dropped: the follower's retry of the same request is answered
#      202 and buffered.
# Prints `ok: ...` or `FAILED: ...` per check.  Every wait is bounded; every process
# started is stopped by its PID (EXIT trap).  Environment: PHA_SOAK_BF_PGPORT (default
# 18492), PHA_SOAK_BF_PORT (default 19745), PHA_SOAK_KEEP=1 keeps the temporary
# directory (always kept when a check failed).  Exit status 0 when every check passed.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
test_name=buffer_full
pgport=${PHA_SOAK_BF_PGPORT:-18492}
fe=${PHA_SOAK_BF_PORT:-19745}
failover_timeout=600
bound_kb=1024
nseries=2000
stream=160              # follower requests of the stream
# shellcheck source=test/soak/lib.sh
. "$here/lib.sh"
pg_conf_extra="promscale_ha.replay_buffer_size = '${bound_kb}kB'"

trap cleanup EXIT
trap 'exit 130' INT TERM

preflight "$pgport" "$fe"
make_tmp
pg_setup
start_fe 1 "$fe" --pool-size 2 --threads 4
check "the front end (:$fe) answers GET /healthz with 200" wait_until 15 healthz_is "$fe" 200

# payloads: sample times from 5 minutes ago, one second apart
base_ms=$(( $(date +%s) * 1000 - 300000 ))
mkdir "$tmp/req"
gen() { # gen FILE REPLICA START_MS
	"$pha_gen" --series "$nseries" --cluster b1 --replica "$2" --start-ms "$3" -o "$tmp/req/$1"
}
for ((k = 0; k < stream + 4; k++)); do
	gen "f$k.bin" r2 $((base_ms + k * 1000)) || fatal "promscale-ha-gen"
done
for ((k = 0; k < 20; k++)); do
	gen "l$k.bin" r1 $((base_ms + k * 1000 + 500)) || fatal "promscale-ha-gen"
done
max_req=$(stat -c %s "$tmp"/req/*.bin | sort -n | tail -n 1)
limit=$((bound_kb * 1024 + max_req))
note "requests of $nseries series made: largest $max_req bytes; bound $((bound_kb * 1024)) bytes, plus one request: $limit"

buffer_bytes() {
	sql "SELECT coalesce(sum(octet_length(payload)), 0) FROM promscale_ha.replay_buffer WHERE cluster_name = 'b1'"
}
buffer_rows() {
	sql "SELECT count(*) FROM promscale_ha.replay_buffer WHERE cluster_name = 'b1'"
}
stored() {
	sql "SELECT count(*) FROM promscale_ha.samples"
}

# --- 1. a leader and a follower
read -r code outcome _ <<<"$(post "$fe" "$tmp/req/l0.bin")"
check "r1 writes first and leads: $code $outcome" [ "$code" = 204 ] && [ "$outcome" = stored ]
read -r code outcome _ <<<"$(post "$fe" "$tmp/req/f0.bin")"
check "r2 follows: $code $outcome" [ "$code" = 202 ] && [ "$outcome" = deduplicated ]

# --- 2. a stream of follower requests, back to back
max_seen=0
over=0
first_over=
codes=
lcodes=
sent=0
t_begin=$EPOCHREALTIME
for ((k = 1; k <= stream; k++)); do
	echo "$EPOCHREALTIME" >>"$tmp/stream_times"
	read -r code _ <<<"$(post "$fe" "$tmp/req/f$k.bin")"
	codes="$codes $code"
	sent=$((sent + $(stat -c %s "$tmp/req/f$k.bin")))
	b=$(buffer_bytes)
	[ "${b:-0}" -gt "$max_seen" ] && max_seen=$b
	if [ "${b:-0}" -gt "$limit" ]; then
		over=$((over + 1))
		[ -n "$first_over" ] || first_over="request $k: $b bytes"
	fi
	if [ $((k % 20)) = 0 ]; then
		read -r code _ <<<"$(post "$fe" "$tmp/req/l$((k / 20)).bin")"
		lcodes="$lcodes $code"
	fi
done
secs=$(awk -v a="$t_begin" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
codes=$(tr ' ' '\n' <<<"$codes" | sed '/^$/d' | sort | uniq -c | awk '{ printf "%s%s x%d", (n++ ? ", " : ""), $2, $1 }')
lcodes=$(tr ' ' '\n' <<<"$lcodes" | sed '/^$/d' | sort | uniq -c | awk '{ printf "%s%s x%d", (n++ ? ", " : ""), $2, $1 }')
note "stream: $stream follower requests, $sent bytes, in $secs s ($(awk -v n="$stream" -v s="$secs" 'BEGIN { printf "%.1f", n / s }') requests/s)"
check "every request of the follower's stream was answered 202 ($codes)" [ "$codes" = "202 x$stream" ]
check "the leader's writes during the stream were answered 204 ($lcodes)" [ "$lcodes" = "204 x$((stream / 20))" ]
check "the buffer stayed within the bound plus one request ($limit bytes) after every request: largest $max_seen bytes, $over of $stream requests over${first_over:+, first at $first_over}" \
	[ "$over" = 0 ]
# what the throttled prune allows: the bound plus the requests of one second
per_sec=$(awk '{ t[NR] = $1 } END { for (i = 1; i <= NR; i++) { n = 0; for (j = i; j <= NR && t[j] < t[i] + 1.05; j++) n++; if (n > m) m = n } print m }' "$tmp/stream_times")
limit_1s=$((bound_kb * 1024 + (per_sec + 1) * max_req))
check "the buffer stayed within the bound plus one second of the stream ($per_sec requests at most) plus one request ($limit_1s bytes; the prune runs at most once a second per cluster): largest $max_seen bytes" \
	[ "$max_seen" -le "$limit_1s" ]
read -r on_disk nrows <<<"$(sql "SELECT pg_total_relation_size('promscale_ha.replay_buffer'), count(*) FROM promscale_ha.replay_buffer")"
note "replay_buffer now: $(buffer_bytes) bytes of payloads in $nrows rows; $on_disk bytes on disk (table, TOAST, index: dead rows wait for autovacuum)"

# --- 3. after a pause, the next request is pruned back within the bound
sleep 1.5
read -r code _ <<<"$(post "$fe" "$tmp/req/f$((stream + 1)).bin")"
b=$(buffer_bytes)
check "after a pause of 1.5 s, one more follower request ($code) leaves the buffer within the bound plus one request: $b bytes (limit $limit)" \
	[ "$code" = 202 ] && [ "${b:-$((limit + 1))}" -le "$limit" ]

# --- 4. disk full under the buffer
sql "CREATE FUNCTION public.buffer_full_test() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN
         RAISE EXCEPTION 'could not extend file of promscale_ha.replay_buffer: No space left on device'
             USING ERRCODE = 'disk_full', HINT = 'simulated by test/soak/buffer_full.sh';
     END \$\$;
     CREATE TRIGGER buffer_full_test BEFORE INSERT ON promscale_ha.replay_buffer
         FOR EACH ROW EXECUTE FUNCTION public.buffer_full_test();" ||
	fatal "create the disk-full trigger (see $tmp/psql.err)"
rows_before=$(buffer_rows)
bytes_before=$(buffer_bytes)
f=$((stream + 2))
read -r code outcome retry_after <<<"$(post "$fe" "$tmp/req/f$f.bin")"
check "disk full: the follower's request is answered 503 with Retry-After (got $code, Retry-After: $retry_after)" \
	[ "$code" = 503 ] && [ "$retry_after" != - ]
s0=$(stored)
read -r code outcome _ <<<"$(post "$fe" "$tmp/req/l18.bin")"
s1=$(stored)
check "disk full: the leader's request is answered 204 and its $nseries samples are stored ($code $outcome, $((s1 - s0)) samples)" \
	[ "$code" = 204 ] && [ $((s1 - s0)) = "$nseries" ]
codes=
for ((k = 0; k < 5; k++)); do
	read -r code _ <<<"$(post "$fe" "$tmp/req/f$f.bin")"
	codes="$codes $code"
done
check "disk full: the follower's retries are answered 503 each time ($codes )" [ "$codes" = " 503 503 503 503 503" ]
check "disk full: the buffer is unchanged ($(buffer_rows) rows, $(buffer_bytes) bytes; before: $rows_before, $bytes_before)" \
	[ "$(buffer_rows)" = "$rows_before" ] && [ "$(buffer_bytes)" = "$bytes_before" ]
check "disk full: GET /healthz still answers 200" healthz_is "$fe" 200
s0=$(stored)
read -r code outcome _ <<<"$(post "$fe" "$tmp/req/l19.bin")"
s1=$(stored)
check "disk full: the leader's next request is still answered 204 and stored ($code $outcome, $((s1 - s0)) samples)" \
	[ "$code" = 204 ] && [ $((s1 - s0)) = "$nseries" ]
v=$(grep -c 'SQLSTATE 53100' "$tmp/fe1.log")
note "front end log: $v lines name SQLSTATE 53100, e.g.: $(grep -m 1 'SQLSTATE 53100' "$tmp/fe1.log" | cut -c 1-200)"

# --- 5. space again: the retry succeeds
sql "DROP TRIGGER buffer_full_test ON promscale_ha.replay_buffer; DROP FUNCTION public.buffer_full_test();" ||
	fatal "drop the disk-full trigger"
read -r code outcome _ <<<"$(post "$fe" "$tmp/req/f$f.bin")"
v=$(sql "SELECT count(*) FROM promscale_ha.replay_buffer
         WHERE cluster_name = 'b1' AND replica_name = 'r2' AND min_time = 'epoch'::timestamptz + $((base_ms + f * 1000)) * interval '1 ms'")
check "space again: the follower's retry is answered 202 and buffered ($code $outcome, $v row)" \
	[ "$code" = 202 ] && [ "$v" = 1 ]
v=$(sql "SELECT string_agg(leader_name || ':' || reason, ' ') FROM promscale_ha.ha_leases_logs WHERE cluster_name = 'b1'")
check "r1 led all along ($v)" [ "$v" = "r1:first writer" ]
