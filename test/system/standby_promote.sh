#!/bin/bash
#
# standby_promote.sh - the primary dies under load, a synchronous standby is promoted:
# nothing acknowledged is lost, nothing is stored twice, no HA leader changes.
#
#   sudo bash test/system/standby_promote.sh        (as root; after `make install`)
#
# Starts, all on 127.0.0.1 and in one temporary directory:
#   - node A, a PostgreSQL 15 primary with promscale_ha preloaded and created, and node
#     B, its streaming standby (pg_basebackup -R, a replication slot, hot standby, the
#     same preload); A then names B in synchronous_standby_names;
#   - one promscale-ha-http whose --db lists both nodes:
#     host=127.0.0.1,127.0.0.1 port=A,B ... target_session_attrs=read-write;
#   - five writers (test/lib/rw_sender.py), one request in flight each, back to back:
#     two HA pairs (clusters k1 and k2, replicas r1 and r2) and one sender without HA
#     labels, each request 200 series at one timestamp; a 2xx is logged as
#     acknowledged, a 5xx or a connection error is retried (as Prometheus does).
# Then, printing one line `ok: ...` or `FAILED: ...` per check:
#   1. before: B is a synchronous standby in recovery; one leader per cluster; the
#      worker runs on A (pg_stat_activity, promscale_ha.stats.worker_pid) and not on B;
#   2. once every writer has some acknowledged requests, A's postmaster gets SIGKILL,
#      then `pg_ctl promote` on B; the writers keep going; the front end must find B by
#      itself (the same process, no restart), and every writer gets acknowledgements
#      from B;
#   3. after: every request answered 204 has each of its samples stored exactly once,
#      with its value; nothing is stored that was not answered 204; no (series, time)
#      twice; every request a follower had answered 202 is in B's replay buffer; the
#      leader of each cluster is the one A had, with one period in ha_leases_logs and
#      no 204 for a follower; the worker runs on B, and A's worker and postmaster are gone.
# Prints the figures: requests and samples acknowledged, the errors the writers saw, the
# time from the kill and from the promote to the first acknowledgement from B.
# What it catches: with B asynchronous (synchronous_standby_names left empty) step 3
# failed in each of 4 runs tried: A's backends go on committing and answering for a
# moment after their postmaster died, and that WAL never reaches B (1 to 29 requests
# answered 204 or 202 were missing per run).
# Every wait is bounded; every process started is stopped by its PID at exit (the
# killed primary's children too, recorded before the kill).  Ports: PostgreSQL
# PHA_STANDBY_PGPORT (default 18101) and +1, the front end PHA_STANDBY_HTTP_PORT
# (default 19501).  PHA_STANDBY_KEEP=1 keeps the temporary directory (it is always
# kept when a check fails).  Needs: root, postgresql-15, promscale_ha,
# promscale-ha-http installed, /usr/bin/python3 with snappy (python3-snappy).
# Exit status: 0 when every check passed.

# shellcheck disable=SC2317 # the small predicates below are called through wait_until and check
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pgbin=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
[ -x "$pgbin/initdb" ] || pgbin=/usr/lib/postgresql/15/bin
pha_http=$pgbin/promscale-ha-http
python=/usr/bin/python3
port_a=${PHA_STANDBY_PGPORT:-18101}
port_b=$((port_a + 1))
fe_port=${PHA_STANDBY_HTTP_PORT:-19501}
nseries=200         # series per request
warmup=40           # acknowledged requests per writer before the kill
after=40            # acknowledged requests per writer from B before the stop
writers="k1r1=k1/r1 k1r2=k1/r2 k2r1=k2/r1 k2r2=k2/r2 plain1=plain"

start_time=$EPOCHREALTIME
tmp=
a_running=false
b_running=false
a_pm=                   # A's postmaster, then its children (for the cleanup)
a_children=()
a_shmid=

# ok, failed, check, check_eq, fatal; counters checks and failures
# shellcheck source=test/lib/checks.sh
. "$here/../lib/checks.sh"
# pids, start, stop, wait_until, note, elapsed, fle, port_free, as_pg
# shellcheck source=../lib/procs.sh
. "$here/../lib/procs.sh"

# sql NODE QUERY: one statement on node a or b, through its Unix socket
sql() {
	local p=$port_a
	[ "$1" = b ] && p=$port_b
	PGCONNECT_TIMEOUT=5 "$pgbin/psql" -h "$tmp/$1" -p "$p" -U postgres -d postgres \
		-X -A -t -q -v ON_ERROR_STOP=1 -F ' ' -c "$2" 2>>"$tmp/psql.err"
}
sql_is_t() { [ "$(sql "$1" "$2")" = t ]; }

# pid_gone PID: the process has ended (a zombie counts: a killed server's processes
# are reaped by whatever adopted them, maybe only later)
pid_gone() {
	local state
	kill -0 "$1" 2>/dev/null || return 0
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)
	[ -z "$state" ] || [ "$state" = Z ]
}
# all_gone PID...: none of them exists
all_gone() {
	local p
	for p in "$@"; do pid_gone "$p" || return 1; done
	return 0
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local rc=$? name p f
	trap - EXIT INT TERM
	stop senders 40
	for name in "${!pids[@]}"; do stop "$name"; done
	if $b_running; then
		as_pg "$pgbin/pg_ctl" -D "$tmp/b/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			as_pg "$pgbin/pg_ctl" -D "$tmp/b/data" -m immediate -w -t 30 stop >/dev/null 2>&1
	fi
	if $a_running; then
		as_pg "$pgbin/pg_ctl" -D "$tmp/a/data" -m immediate -w -t 30 stop >/dev/null 2>&1
	fi
	# the killed primary's children end by themselves once they notice; make sure
	if [ ${#a_children[@]} -gt 0 ] && ! wait_until 10 all_gone "${a_children[@]}"; then
		for p in "${a_children[@]}"; do kill -KILL "$p" 2>/dev/null; done
		wait_until 5 all_gone "${a_children[@]}"
	fi
	# its System V segment (PostgreSQL removes it at a normal stop, not after SIGKILL)
	if [ -n "$a_shmid" ] && ipcs -m -i "$a_shmid" 2>/dev/null | grep -q 'nattch=0'; then
		ipcrm -m "$a_shmid" 2>/dev/null
	fi
	if [ -n "$tmp" ] && [ -d "$tmp" ]; then
		if [ "$failures" -gt 0 ] || [ "$rc" -ne 0 ] || [ "${PHA_STANDBY_KEEP:-0}" = 1 ]; then
			echo "   logs and data kept in $tmp"
			if [ "$failures" -gt 0 ]; then
				for f in "$tmp"/fe.log "$tmp"/a/server.log "$tmp"/b/server.log "$tmp"/senders.log \
					"$tmp"/load/errors.tsv "$tmp"/psql.err; do
					[ -s "$f" ] || continue
					echo "   --- last lines of $f"
					tail -n 12 "$f" | sed 's/^/   | /'
				done
			fi
		else
			rm -rf "$tmp"
		fi
	fi
	echo "standby_promote: $checks checks, $failures failed, $(elapsed) s"
	[ "$failures" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
	exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# prerequisites

if [ "$(id -u)" -ne 0 ]; then
	echo "$0: run as root (PostgreSQL runs as the postgres user)" >&2
	exit 1
fi
for p in "$pgbin/initdb" "$pgbin/pg_basebackup" "$pha_http"; do
	[ -x "$p" ] || { echo "$0: $p is missing (make install first)" >&2; exit 1; }
done
if ! "$python" -c 'import snappy' 2>/dev/null; then
	echo "$0: needs $python with the snappy module (apt-get install python3-snappy)" >&2
	exit 1
fi
for p in "$port_a" "$port_b" "$fe_port"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		echo "$0: port $p on 127.0.0.1 is in use (see PHA_STANDBY_PGPORT, PHA_STANDBY_HTTP_PORT)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d /tmp/pha-standby.XXXXXX)
chmod 755 "$tmp"
mkdir "$tmp/a" "$tmp/b" "$tmp/load"
chown postgres: "$tmp/a" "$tmp/b"
note "temporary directory $tmp"

# ---------------------------------------------------------------------------
# A: the primary

as_pg "$pgbin/initdb" -D "$tmp/a/data" -A trust -U postgres -E UTF8 --no-locale --no-sync >"$tmp/initdb.log" 2>&1 ||
	fatal "initdb (see $tmp/initdb.log)"
cat >>"$tmp/a/data/postgresql.conf" <<EOF
# promscale_ha standby_promote test: node A (the standby B starts from a copy of this)
listen_addresses = '127.0.0.1'
port = $port_a
unix_socket_directories = '$tmp/a'
cluster_name = 'node_a'
shared_preload_libraries = 'promscale_ha'
promscale_ha.database = 'postgres'
max_connections = 40
log_line_prefix = '%m %b [%p] '
EOF
as_pg "$pgbin/pg_ctl" -D "$tmp/a/data" -l "$tmp/a/server.log" -w -t 60 start >/dev/null 2>&1 ||
	fatal "node A starts (see $tmp/a/server.log)"
a_running=true
sql a "CREATE EXTENSION promscale_ha;
       CREATE ROLE pha_http LOGIN IN ROLE promscale_ha_writer;" ||
	fatal "CREATE EXTENSION promscale_ha and the front end's role on A"
note "A is up"

# ---------------------------------------------------------------------------
# B: a streaming standby of A, then synchronous

as_pg "$pgbin/pg_basebackup" -h "$tmp/a" -p "$port_a" -U postgres -D "$tmp/b/data" \
	-R -X stream -C -S node_b --checkpoint=fast --no-sync >"$tmp/basebackup.log" 2>&1 ||
	fatal "pg_basebackup of A (see $tmp/basebackup.log)"
# B's own settings, after A's copied ones; once promoted it has no standby to wait for
cat >>"$tmp/b/data/postgresql.conf" <<EOF
# node B
port = $port_b
unix_socket_directories = '$tmp/b'
cluster_name = 'node_b'
synchronous_standby_names = ''
EOF
as_pg "$pgbin/pg_ctl" -D "$tmp/b/data" -l "$tmp/b/server.log" -w -t 60 start >/dev/null 2>&1 ||
	fatal "node B starts (see $tmp/b/server.log)"
b_running=true
# the walreceiver's application_name is B's cluster_name
{ sql a "ALTER SYSTEM SET synchronous_standby_names = 'node_b'" && sql a "SELECT pg_reload_conf()"; } >/dev/null ||
	fatal "synchronous_standby_names on A"
if wait_until 30 sql_is_t a "SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'node_b' AND state = 'streaming' AND sync_state = 'sync'"; then
	ok "B streams from A as its synchronous standby (pg_stat_replication: sync)"
else
	fatal "B is not A's synchronous standby within 30 s: $(sql a "SELECT application_name, state, sync_state FROM pg_stat_replication")"
fi
check_eq "B is in recovery (hot standby)" t "$(sql b "SELECT pg_is_in_recovery()")"
note "B is up"

# ---------------------------------------------------------------------------
# the front end, with both nodes in its conninfo, and the writers

conninfo="host=127.0.0.1,127.0.0.1 port=$port_a,$port_b dbname=postgres user=pha_http target_session_attrs=read-write"
start fe "$tmp/fe.log" "$pha_http" --listen "127.0.0.1:$fe_port" --db "$conninfo" \
	--pool-size 6 --threads 8 --connect-timeout 2s
fe_pid=${pids[fe]}
fe_healthy() { [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$fe_port/healthz")" = 200 ]; }
wait_until 20 fe_healthy || fatal "the front end answers /healthz with 200"
ok "front end up, --db '$conninfo'"

# shellcheck disable=SC2086 # one word per writer
start senders "$tmp/senders.log" "$python" "$here/../lib/rw_sender.py" --fe "127.0.0.1:$fe_port" \
	--out "$tmp/load" --series "$nseries" --drain 30 $writers
# acks_of NAME [AFTER]: the writer's acknowledged requests (acknowledged after AFTER)
acks_of() {
	[ -f "$tmp/load/acks.tsv" ] || { echo 0; return; }
	awk -F'\t' -v n="$1" -v t="${2:-0}" '$1 == n && $9 > t { c++ } END { print c + 0 }' "$tmp/load/acks.tsv" 2>/dev/null
}
# all_acked N [AFTER]: every writer has N acknowledged requests (after AFTER)
all_acked() {
	local w
	for w in $writers; do
		[ "$(acks_of "${w%%=*}" "${2:-0}")" -ge "$1" ] || return 1
	done
}
if wait_until 60 all_acked "$warmup"; then
	ok "every writer has $warmup acknowledged requests through the front end"
else
	fatal "the writers did not get $warmup acknowledgements each within 60 s"
fi

# ---------------------------------------------------------------------------
# 1. before the kill

declare -A leader=()
for c in k1 k2; do
	leader[$c]=$(sql a "SELECT leader_name FROM promscale_ha.ha_leases WHERE cluster_name = '$c'")
	case "${leader[$c]}" in
	r1 | r2) ok "cluster $c has a leader on A: ${leader[$c]}" ;;
	*) failed "cluster $c has no leader on A ('${leader[$c]}')" ;;
	esac
done
worker_a=$(sql a "SELECT pid FROM pg_stat_activity WHERE backend_type = 'promscale_ha worker'")
if [[ "$worker_a" =~ ^[0-9]+$ ]]; then
	ok "the worker runs on A (pid $worker_a)"
else
	failed "one worker on A ('$worker_a')"
fi
check_eq "A's promscale_ha.stats names it" "$worker_a" "$(sql a "SELECT worker_pid FROM promscale_ha.stats")"
check_eq "no worker on the standby B (pg_stat_activity)" 0 \
	"$(sql b "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'promscale_ha worker'")"
check_eq "B's promscale_ha.stats has no worker_pid" t "$(sql b "SELECT worker_pid IS NULL FROM promscale_ha.stats")"
check_eq "B holds the leases (replicated)" "${leader[k1]} ${leader[k2]}" \
	"$(sql b "SELECT string_agg(leader_name, ' ' ORDER BY cluster_name) FROM promscale_ha.ha_leases WHERE cluster_name IN ('k1', 'k2')")"
check_eq "the front end's connections are on A" 0 \
	"$(sql b "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'promscale-ha-http'")"

# ---------------------------------------------------------------------------
# 2. SIGKILL of A's postmaster under load, promote B

a_pm=$(head -n 1 "$tmp/a/data/postmaster.pid")
a_shmid=$(sed -n 7p "$tmp/a/data/postmaster.pid" | awk '{ print $2 }')
mapfile -t a_children < <(ps -o pid= --ppid "$a_pm" | tr -d ' ')
# kill while writes are running (the closed-loop writers keep some going nearly always)
writing() {
	inflight=$(sql a "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'promscale-ha-http' AND state = 'active'")
	[ "${inflight:-0}" -gt 0 ]
}
wait_until 10 writing || note "no write seen running on A; killing anyway"
t_kill=$EPOCHREALTIME
kill -KILL "$a_pm"
a_running=false
note "SIGKILL of A's postmaster (pid $a_pm, ${#a_children[@]} children, $inflight write(s) in flight)"
wait_until 10 pid_gone "$a_pm" || failed "A's postmaster is gone after SIGKILL"
t_promote=$EPOCHREALTIME
note "A's postmaster gone; pg_ctl promote"
if as_pg "$pgbin/pg_ctl" -D "$tmp/b/data" -w -t 60 promote >"$tmp/promote.log" 2>&1; then
	t_promoted=$EPOCHREALTIME
	ok "pg_ctl promote of B"
else
	fatal "pg_ctl promote of B: $(cat "$tmp/promote.log")"
fi
check_eq "B is out of recovery" f "$(sql b "SELECT pg_is_in_recovery()")"

if wait_until 60 all_acked "$after" "$t_promote"; then
	ok "every writer has $after acknowledged requests from B"
else
	failed "the writers did not get $after acknowledgements each from B within 60 s"
fi
stop senders 45
if pid_gone "$fe_pid"; then
	failed "the front end process is still the one started (pid $fe_pid)"
else
	ok "the front end reconnected by itself (same process, pid $fe_pid)"
fi
check "B serves the front end's connections" \
	sql_is_t b "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = 'promscale-ha-http'"
fe_lost=$(grep -c '503 db_unavailable: the database connection was lost' "$tmp/fe.log")
fe_refused=$(grep -c '503 db_unavailable: cannot connect to the database' "$tmp/fe.log")
fe_readonly=$(grep -c 'failed: session is read-only' "$tmp/fe.log")

# ---------------------------------------------------------------------------
# 3. after: the acknowledged data, the leaders, the worker

if [ -s "$tmp/load/summary.tsv" ]; then
	ok "the writers stopped and wrote their summary"
else
	fatal "the writers wrote no summary (see $tmp/senders.log)"
fi
check_eq "no writer left a request unacknowledged" 0 \
	"$(awk -F'\t' 'NR > 1 { s += $10 } END { print s + 0 }' "$tmp/load/summary.tsv")"
check_eq "no request was answered 4xx" 0 \
	"$(awk -F'\t' 'NR > 1 { s += $9 } END { print s + 0 }' "$tmp/load/summary.tsv")"

# the acknowledgements, as a table on B
sql b "CREATE TABLE public.acks (name text, cluster text, replica text, ts bigint, status int,
         outcome text, attempts int, first_try float8, acked float8)" || fatal "CREATE TABLE acks on B"
chmod 644 "$tmp/load/acks.tsv"
PGCONNECT_TIMEOUT=5 "$pgbin/psql" -h "$tmp/b" -p "$port_b" -U postgres -d postgres -X -q \
	-v ON_ERROR_STOP=1 -c "\\copy public.acks FROM '$tmp/load/acks.tsv'" 2>>"$tmp/psql.err" ||
	fatal "load acks.tsv into B"
# the writer of each stored sample of the test: its group (cluster or plain sender),
# ts in ms, the series' index, and whether the value is the one sent
sql b "CREATE TABLE public.got AS
       SELECT CASE WHEN s.labels->>'job' = 'plain' THEN s.labels->>'sender'
                   ELSE s.labels->>'cluster' END AS grp,
              (extract(epoch FROM x.time) * 1000)::bigint AS ts,
              x.series_id,
              x.value = (extract(epoch FROM x.time) * 1000)::bigint * 1000
                        + substr(s.labels->>'instance', 3)::int AS value_ok
       FROM promscale_ha.samples x JOIN promscale_ha.series s ON s.id = x.series_id
       WHERE s.labels->>'job' IN ('standby', 'plain');
       CREATE TABLE public.want AS
       SELECT CASE WHEN cluster = '-' THEN name ELSE cluster END AS grp, ts, name, replica
       FROM public.acks WHERE status = 204;" || fatal "the comparison tables on B"

read -r req204 req202 < <(sql b "SELECT count(*) FILTER (WHERE status = 204), count(*) FILTER (WHERE status = 202) FROM public.acks")
stored=$(sql b "SELECT count(*) FROM public.got")
check_eq "no (series, time) stored twice" 0 \
	"$(sql b "SELECT count(*) - count(DISTINCT (series_id, ts)) FROM public.got")"
check_eq "every sample of the $req204 requests answered 204 is stored ($((req204 * nseries)) samples)" 0 \
	"$(sql b "SELECT coalesce(sum($nseries - coalesce(g.n, 0)), 0)
	          FROM public.want w
	          LEFT JOIN (SELECT grp, ts, count(DISTINCT series_id) AS n FROM public.got GROUP BY 1, 2) g
	            USING (grp, ts)")"
check_eq "nothing is stored that was not answered 204" 0 \
	"$(sql b "SELECT count(*) FROM public.got g WHERE NOT EXISTS
	            (SELECT FROM public.want w WHERE w.grp = g.grp AND w.ts = g.ts)")"
check_eq "every stored value is the one sent" 0 "$(sql b "SELECT count(*) FROM public.got WHERE NOT value_ok")"
check_eq "stored samples = acknowledged (204) samples" "$((req204 * nseries))" "$stored"
check_eq "every request answered 202 (a follower's) is in B's replay buffer" 0 \
	"$(sql b "SELECT count(*) FROM public.acks a WHERE status = 202 AND NOT EXISTS
	            (SELECT FROM promscale_ha.replay_buffer r
	             WHERE r.cluster_name = a.cluster AND r.replica_name = a.replica
	               AND r.min_time = 'epoch'::timestamptz + a.ts * interval '1 ms')")"

for c in k1 k2; do
	check_eq "cluster $c: the leader on B is A's (${leader[$c]})" "${leader[$c]}" \
		"$(sql b "SELECT leader_name FROM promscale_ha.ha_leases WHERE cluster_name = '$c'")"
	check_eq "cluster $c: one leadership period, 'first writer' (no flap)" "${leader[$c]} first writer" \
		"$(sql b "SELECT string_agg(leader_name || ' ' || reason, ', ' ORDER BY lease_start) FROM promscale_ha.ha_leases_logs WHERE cluster_name = '$c'")"
	check_eq "cluster $c: only its leader got 204, only the follower 202" "${leader[$c]} 204" \
		"$(sql b "SELECT string_agg(DISTINCT replica || ' ' || status, ', ') FROM public.acks WHERE cluster = '$c' AND (status = 204 OR replica = '${leader[$c]}')")"
done

worker_on_b() { sql_is_t b "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'promscale_ha worker'"; }
if wait_until 30 worker_on_b; then
	worker_b=$(sql b "SELECT pid FROM pg_stat_activity WHERE backend_type = 'promscale_ha worker'")
	ok "the worker runs on B after the promotion (pid $worker_b)"
	stats_pid() { [ "$(sql b "SELECT worker_pid FROM promscale_ha.stats")" = "$worker_b" ]; }
	check "B's promscale_ha.stats names it" wait_until 30 stats_pid
else
	failed "no worker on B within 30 s of the promotion"
fi
check "A's worker (pid $worker_a) and postmaster are gone" wait_until 10 all_gone "$worker_a" "$a_pm"

# ---------------------------------------------------------------------------
# the figures

first_b=$(sql b "SELECT min(acked) FROM public.acks WHERE acked > $t_promote")
errors=$(awk -F'\t' '{ n[$4]++ } END { printf "%d 5xx, %d connection errors", n["5xx"], n["conn"] }' "$tmp/load/errors.tsv")
echo "   figures: $req204 requests answered 204 ($stored samples stored), $req202 answered 202" \
	"($((req202 * nseries)) samples, for the replay buffer), by 5 writers of $nseries series"
echo "   figures: writes running on A at the kill: $inflight; answers the writers retried: $errors"
echo "   figures: front end 503s: $fe_lost lost their connection, $fe_refused found no read-write" \
	"server ($fe_readonly of them with B refused as read-only)"
awk -v k="$t_kill" -v p="$t_promote" -v d="$t_promoted" -v f="$first_b" 'BEGIN {
	printf "   figures: pg_ctl promote took %.2f s; first acknowledgement from B %.2f s after the kill, %.2f s after the promote was called\n", d - p, f - k, f - p }'
sort -t "$(printf '\t')" -k1,1 -k9,9n "$tmp/load/acks.tsv" | awk -F'\t' '
	$1 == w { g = $9 - t; if (g > m) { m = g; who = w } }
	{ w = $1; t = $9 }
	END { printf "   figures: longest time a writer waited between two acknowledgements: %.2f s (%s)\n", m, who }'
exit 0
