#!/bin/bash
#
# dump_restore.sh - pg_dump / pg_restore carries a promscale_ha database over exactly.
#
# Starts its own PostgreSQL 15 (a temp directory, a Unix socket there, no TCP) with the
# extension preloaded, writes into database postgres:
#   - plain data three days back (two 2-hour head partitions, one of special float values),
#     compressed by compress_now(), and more plain data a day back, left in the head;
#   - HA data of now: cluster k1 led by a, set_leader() to b, a silent b failed over back
#     to a (three periods: first writer, forced, failover); cluster k2 led by a with b's
#     requests in the replay buffer;
# then dumps it twice (pg_dump -Fc, with and without --load-via-partition-root) and
# restores each into a second, fresh server: "restored" (the database its worker serves,
# pg_restore --single-transaction) and "restored2" (pg_restore without options).  Both
# restores must end with exit status 0 and no error; every table -- series, samples
# (values compared as float8send bits), ha_leases, ha_leases_logs, chunks,
# compressed_ranges, replay_buffer -- the series id sequence and the head partitions
# with their indexes must match the source.  Then it writes more into each restored
# database: the same label sets get the same series ids, a new one the next id, retried
# old samples count as already stored, and the leaders lead on without a new period.
# Prints "ok: ..." or "FAILED: ..." per check; exits 1 if any failed.  Every wait is
# bounded; every process it starts is stopped at the end.
# Needs: root, postgresql-15, promscale_ha and promscale-ha-gen installed (make install).

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/lib/checks.sh
. "$here/../lib/checks.sh"
# shellcheck source=test/lib/pgserver.sh
. "$here/../lib/pgserver.sh"

pg_server_start 55447 "promscale_ha.partition_interval = '2h'" "promscale_ha.compress_after = -1" \
	"promscale_ha.failover_timeout = '2s'" || fatal "server start"

# The second server: in $dir too, so that the EXIT trap removes it after stopping it.
port2=$((port + 1))
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup_both() {
	if [ -f "$dir/data2/postmaster.pid" ]; then
		as_pg "$pgbin/pg_ctl" -D "$dir/data2" stop -m immediate -w -t 30 >/dev/null 2>&1
	fi
	pg_server_cleanup
}
trap cleanup_both EXIT
as_pg "$pgbin/initdb" -D "$dir/data2" -A trust -U postgres --no-locale -E UTF8 >/dev/null ||
	fatal "initdb of the second server"
{
	echo "listen_addresses = ''"
	echo "unix_socket_directories = '$dir'"
	echo "port = $port2"
	echo "shared_preload_libraries = 'promscale_ha'"
	echo "promscale_ha.database = 'restored'"
	echo "promscale_ha.partition_interval = '2h'"
	echo "promscale_ha.compress_after = -1"
	echo "promscale_ha.failover_timeout = '60s'"
} >>"$dir/data2/postgresql.conf"
as_pg "$pgbin/pg_ctl" -D "$dir/data2" -l "$dir/log2" -w -t 60 start >/dev/null ||
	{ cat "$dir/log2"; fatal "start of the second server"; }

# q2 DB SQL: like q, on the second server's database DB
q2() { as_pg "$pgbin/psql" -X -At -q -h "$dir" -p "$port2" -d "$1" -v ON_ERROR_STOP=1 -c "$2"; }
# on TARGET SQL: q on the source ("src") or q2 on a restored database
on() { if [ "$1" = src ]; then q "$2"; else q2 "$1" "$2"; fi; }

# send TARGET COLUMNS GEN-ARGS...: one request made by promscale-ha-gen; prints COLUMNS
# of write()'s result
send() {
	local target=$1 cols=$2
	shift 2
	"$gen" "$@" -o "$dir/payload.bin" && chown postgres: "$dir/payload.bin" &&
		on "$target" "SELECT $cols FROM promscale_ha.write(pg_read_binary_file('$dir/payload.bin'))"
}

# What is compared, one query per line: name|query
read -r -d '' compared <<'EOF'
series|SELECT count(*) || ' ' || md5(string_agg(s::text, '|' ORDER BY s.id)) FROM promscale_ha.series s
series id sequence|SELECT last_value || ' ' || is_called FROM promscale_ha.series_id_seq
samples|SELECT count(*) || ' ' || md5(string_agg(series_id || ',' || (extract(epoch FROM time) * 1000)::bigint || ',' || encode(float8send(value), 'hex'), ';' ORDER BY series_id, time)) FROM promscale_ha.samples
head samples|SELECT count(*) || ' ' || md5(string_agg(series_id || ',' || (extract(epoch FROM time) * 1000)::bigint || ',' || encode(float8send(value), 'hex'), ';' ORDER BY series_id, time)) FROM promscale_ha.samples_head
chunks|SELECT count(*) || ' ' || md5(string_agg(c::text, '|' ORDER BY series_id, max_time)) FROM promscale_ha.chunks c
compressed_ranges|SELECT count(*) || ' ' || md5(string_agg(r::text, '|' ORDER BY range_start)) FROM promscale_ha.compressed_ranges r
ha_leases|SELECT count(*) || ' ' || md5(string_agg((cluster_name, leader_name, lease_start, lease_until, leader_since, last_sample_time)::text, '|' ORDER BY cluster_name)) FROM promscale_ha.ha_leases l
ha_leases.last_write|SELECT string_agg(cluster_name || ' ' || last_write, ',' ORDER BY cluster_name) FROM promscale_ha.ha_leases
ha_leases_logs|SELECT count(*) || ' ' || md5(string_agg(l::text, '|' ORDER BY cluster_name, lease_start)) FROM promscale_ha.ha_leases_logs l
replay_buffer|SELECT count(*) || ' ' || md5(string_agg(b::text, '|' ORDER BY cluster_name, replica_name, received_at)) FROM promscale_ha.replay_buffer b
head partitions and their indexes|SELECT string_agg(c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid) || ' ' || (SELECT string_agg(pg_get_indexdef(x.indexrelid), ',') FROM pg_index x WHERE x.indrelid = c.oid), ';' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'promscale_ha.samples_head'::regclass
EOF

# snapshot TARGET: every compared value, one line each
snapshot() {
	local line
	while IFS= read -r line; do
		printf '%s: %s\n' "${line%%|*}" "$(on "$1" "${line#*|}")"
	done <<<"$compared"
}

# 1. plain data, compressed in part
day=86400000
t0=$(($(date +%s%3N) / day * day - 3 * day)) # midnight UTC, three days back
check_eq "plain data written" 48000 "$(send src samples_written --series 50 --samples 960 --start-ms $t0)"
check_eq "special values written" 500 \
	"$(send src samples_written --series 5 --series-offset 100 --samples 100 --values special --start-ms $t0)"
check_eq "more plain data written (stays in the head)" 2000 \
	"$(send src samples_written --series 50 --samples 40 --start-ms $((t0 + 2 * day)))"
check_eq "compress_now compresses the two oldest partitions" 2 \
	"$(q "SELECT count(*) FROM promscale_ha.compress_now('2 days')")"

# 2. HA data through failovers
now=$(date +%s%3N)
check_eq "k1: a is the first writer" stored "$(send src outcome --series 10 --cluster k1 --replica a --start-ms "$now")"
check_eq "k1: b follows" deduplicated \
	"$(send src outcome --series 10 --cluster k1 --replica b --start-ms $((now + 200)))"
check_eq "k1: set_leader makes b the leader" t "$(q "SELECT promscale_ha.set_leader('k1', 'b')")"
check_eq "k1: b leads" stored "$(send src outcome --series 10 --cluster k1 --replica b --start-ms $((now + 1000)))"
sleep 2.5 # b falls silent for longer than the failover timeout
out=$(send src outcome --series 10 --cluster k1 --replica a --start-ms $((now + 3500)))
check "k1: silent b fails over to a (got $out)" test "$out" = stored -o "$out" = partial
check_eq "k1 has three periods: first writer, forced, failover" "first writer,forced,failover" \
	"$(q "SELECT string_agg(reason, ',' ORDER BY lease_start) FROM promscale_ha.ha_leases_logs WHERE cluster_name = 'k1'")"
q "ALTER SYSTEM SET promscale_ha.failover_timeout = '60s'" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
now=$(date +%s%3N)
check_eq "k2: a leads" stored "$(send src outcome --series 10 --cluster k2 --replica a --start-ms "$now")"
check_eq "k2: b follows (buffered)" deduplicated \
	"$(send src outcome --series 10 --samples 3 --cluster k2 --replica b --start-ms $((now + 500)))"
check_eq "k2: b's request is in the replay buffer" 1 \
	"$(q "SELECT count(*) FROM promscale_ha.replay_buffer WHERE cluster_name = 'k2'")"

# the heartbeats reach ha_leases, so the table stops changing
wait_until 30 "SELECT bool_and(l.last_write >= s.last_write) FROM promscale_ha.ha_leases l
               JOIN promscale_ha.cluster_state() s USING (cluster_name)" ||
	failed "the heartbeats did not reach ha_leases"

# 3. dump, twice
before=$(snapshot src)
as_pg "$pgbin/pg_dump" -h "$dir" -p "$port" -d postgres -Fc -f "$dir/plain.dump" 2>"$dir/dump.err"
check_eq "pg_dump -Fc exits 0 and says nothing" "0:" "$?:$(cat "$dir/dump.err")"
as_pg "$pgbin/pg_dump" -h "$dir" -p "$port" -d postgres -Fc --load-via-partition-root \
	-f "$dir/root.dump" 2>"$dir/dump.err"
check_eq "pg_dump -Fc --load-via-partition-root exits 0 and says nothing" "0:" "$?:$(cat "$dir/dump.err")"
after=$(snapshot src)
check_eq "the source did not change while it was dumped" "$before" "$after"

# 4. restore into the fresh server
q2 postgres "CREATE DATABASE restored" >/dev/null
q2 postgres "CREATE DATABASE restored2" >/dev/null
as_pg "$pgbin/pg_restore" -h "$dir" -p "$port2" -d restored --single-transaction "$dir/plain.dump" \
	2>"$dir/restore.err"
check_eq "pg_restore --single-transaction (the worker's database) exits 0, no error" "0:" \
	"$?:$(cat "$dir/restore.err")"
as_pg "$pgbin/pg_restore" -h "$dir" -p "$port2" -d restored2 "$dir/root.dump" 2>"$dir/restore.err"
check_eq "pg_restore of the --load-via-partition-root dump exits 0, no error" "0:" \
	"$?:$(cat "$dir/restore.err")"

src_lw=$(q "SELECT string_agg(format('(%L,%L)', cluster_name, last_write), ',') FROM promscale_ha.ha_leases")
# compare: each line of the source's snapshot against the same query on a restored db
for db in restored restored2; do
	while IFS= read -r line; do
		name=${line%%: *}
		got=$(on "$db" "$(grep -F "$name|" <<<"$compared" | head -n 1 | cut -d'|' -f2-)")
		if [ "$name" = ha_leases.last_write ] && [ "$db" = restored ]; then
			# the worker that loads a lease starts its failover clock anew and writes
			# that heartbeat back: the same or later, never earlier
			check_eq "$db: $name as in the source or later" t \
				"$(on "$db" "SELECT count(*) = 2 AND bool_and(l.last_write >= x.lw::timestamptz)
				             FROM promscale_ha.ha_leases l JOIN (VALUES $src_lw) x(c, lw) ON x.c = l.cluster_name")"
			continue
		fi
		check_eq "$db: $name as in the source" "${line#*: }" "$got"
	done <<<"$after"
done

# 5. write more into the restored databases
max_id=$(q "SELECT max(id) FROM promscale_ha.series")
for db in restored restored2; do
	check_eq "$db: the same label sets get the same ids (no series created)" "2000 0" \
		"$(send "$db" "samples_written || ' ' || series_created" --series 50 --samples 40 \
			--start-ms $((t0 + 2 * day + 40 * 15000)))"
	check_eq "$db: retried old samples (compressed) are already stored" "0 500" \
		"$(send "$db" "samples_written || ' ' || samples_already_stored" --series 5 --series-offset 100 \
			--samples 100 --values special --start-ms $t0)"
	check_eq "$db: retried old samples (head) are already stored" "0 2000" \
		"$(send "$db" "samples_written || ' ' || samples_already_stored" --series 50 --samples 40 \
			--start-ms $((t0 + 2 * day)))"
	check_eq "$db: a new label set gets the next id" "$((max_id + 1))" \
		"$(send "$db" series_created --series 1 --series-offset 500 --start-ms "$now" >/dev/null &&
			on "$db" "SELECT max(id) FROM promscale_ha.series")"
	now=$(date +%s%3N)
	check_eq "$db: k1's leader a leads on" stored \
		"$(send "$db" outcome --series 10 --cluster k1 --replica a --start-ms "$now")"
	check_eq "$db: k1's follower b still follows" deduplicated \
		"$(send "$db" outcome --series 10 --cluster k1 --replica b --start-ms "$now")"
	check_eq "$db: k2's leader a leads on" stored \
		"$(send "$db" outcome --series 10 --cluster k2 --replica a --start-ms "$now")"
	check_eq "$db: no new leadership period" "$(q "SELECT count(*) FROM promscale_ha.ha_leases_logs")" \
		"$(on "$db" "SELECT count(*) FROM promscale_ha.ha_leases_logs")"
	check_eq "$db: the same leaders" "$(q "SELECT string_agg(cluster || '=' || leader, ',' ORDER BY cluster) FROM promscale_ha.leaders")" \
		"$(on "$db" "SELECT string_agg(cluster || '=' || leader, ',' ORDER BY cluster) FROM promscale_ha.leaders")"
done
check_eq "the second server's worker serves the restored database" 1 \
	"$(q2 restored "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'promscale_ha worker' AND datname = 'restored'")"

echo "dump_restore: $checks checks, $failures failed"
if [ "$failures" -ne 0 ]; then
	echo "--- source server log (end) ---"
	tail -n 20 "$dir/log"
	echo "--- second server log (end) ---"
	tail -n 20 "$dir/log2"
fi
[ "$failures" -eq 0 ]
