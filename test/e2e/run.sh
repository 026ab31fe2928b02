#!/bin/bash
#
# run.sh - end-to-end test of promscale_ha with real Prometheus HA pairs.
#
#   sudo bash test/e2e/run.sh        (as root; after `make install`)
#
# Starts, all on 127.0.0.1 and all in one temporary directory:
#   - a throw-away PostgreSQL 15 cluster (initdb as the postgres user) with
#     shared_preload_libraries = 'promscale_ha', failover_timeout = 5s, and the
#     extension created in database postgres; the front ends log in as a role
#     that has only promscale_ha_writer;
#   - two promscale-ha-http front ends (:19201 by flags, :19202 by PHA_HTTP_*
#     environment variables) behind haproxy on :19200 (round robin, health
#     check GET /healthz, stats on :19209);
#   - a scrape target (target.py, :19210) serving 200 counters whose values say
#     which replica scraped them;
#   - two Prometheus clusters of two replicas each (Debian's prometheus; external
#     labels cluster=c1|c2, __replica__=r1|r2; scrape every 1s; remote write to
#     haproxy with short queue settings), which also scrape the front ends.
# Then it checks, printing one line `ok: ...` or `FAILED: ...` per check:
#   1. steady state: one leader per cluster, followers de-duplicated, no series
#      carries __replica__, no (series, time) twice, every stored sample of the
#      target came from the replica that led its time (or, at a takeover, from
#      the successor filling in after the old leader's last sample of that
#      series), the front ends answered 204 and 202;
#   2. SIGKILL the leader Prometheus of c1, twice (one way, then back): the
#      other replica leads within failover_timeout + 5 s; for each of the 200
#      target series of c1, from 10 s before the kill to 10 s after the new
#      lease's start (sample time), consecutive samples are at most 1.5 scrape
#      intervals apart, and across the cut (the old leader's last sample, the
#      new leader's first) each series keeps one sample per scrape slot: every
#      spacing within 0.5 to 1.5 intervals (the measured minimum and maximum
#      are printed); the killed replica is then restarted and follows;
#   3. SIGKILL front end 1: haproxy marks it down, writes go on through front
#      end 2 with no gap in either cluster; front end 1 is restarted;
#   4. PostgreSQL stops mid-stream (pg_ctl stop -m fast): the front ends answer
#      /healthz and /write with 503 (+ Retry-After), Prometheus retries; 3 s
#      after the stop it starts again (stop + start: a restart with a known
#      downtime): no gap around it in either cluster;
#   5. at the end: no remote-write sample was dropped by any Prometheus (no
#      4xx), the lease periods tile time, the global checks of 1 hold again.
#
# Every wait is bounded; every process started is stopped by its PID at exit
# (trap).  Needs: prometheus, haproxy, curl, python3 (installed with apt-get
# when missing).  PostgreSQL's programs are those of the pg_config first on
# PATH (PHA_E2E_PGBIN overrides; Debian's is /usr/lib/postgresql/15/bin), so a
# private installation is tested by putting its bin/ first on PATH.
# Ports can be moved with PHA_E2E_PGPORT (default 18471) and
# PHA_E2E_PORT_BASE (default 19200: haproxy; +1, +2 front ends; +9 haproxy
# stats; +10 target; +91..+94 Prometheus).  PHA_E2E_KEEP=1 keeps the
# temporary directory (it is always kept when a check fails).
# Exit status: 0 when every check passed, 1 otherwise.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pgbin=${PHA_E2E_PGBIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
pgport=${PHA_E2E_PGPORT:-18471}
base=${PHA_E2E_PORT_BASE:-19200}
lb_port=$base
fe_port=([1]=$((base + 1)) [2]=$((base + 2)))
stats_port=$((base + 9))
target_port=$((base + 10))
declare -A prom_port=([c1r1]=$((base + 91)) [c1r2]=$((base + 92)) [c2r1]=$((base + 93)) [c2r2]=$((base + 94)))
nseries=200              # counters served by the target, per cluster
failover_timeout=5       # seconds, promscale_ha.failover_timeout
max_gap=1.5              # seconds: 1.5 scrape intervals
scrape_interval=1        # seconds, Prometheus' scrape_interval below

start_time=$EPOCHREALTIME
tmp=

# ---------------------------------------------------------------------------
# output and bookkeeping

# ok, failed, check, fatal and the counters checks and failures
# shellcheck source=../lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"
# pids, start, stop, wait_until, note, elapsed, fle, port_free, as_pg
# shellcheck source=../lib/procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/procs.sh"
now() {
	echo "$EPOCHREALTIME"
}
fsub() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'
}

# kill9 NAME: SIGKILL by pid (a crash), and reap it
kill9() {
	local pid=${pids[$1]:-}
	[ -n "$pid" ] || return 1
	unset "pids[$1]"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

pg_running=false
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local name
	# Prometheus first (they write to the front ends), then the rest
	for name in prom-c1r1 prom-c1r2 prom-c2r1 prom-c2r2; do stop "$name"; done
	for name in "${!pids[@]}"; do stop "$name"; done
	if $pg_running; then
		as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -m immediate -w -t 30 stop >/dev/null 2>&1
	fi
	if [ -n "$tmp" ] && [ -d "$tmp" ]; then
		if [ "$failures" -gt 0 ] || [ "$rc" -ne 0 ] || [ "${PHA_E2E_KEEP:-0}" = 1 ]; then
			echo "   logs and data kept in $tmp"
			if [ "$failures" -gt 0 ]; then
				for f in "$tmp"/fe1.log "$tmp"/fe2.log "$tmp"/haproxy.log "$tmp"/pg/postgresql.log; do
					[ -f "$f" ] || continue
					echo "   --- last lines of $f"
					tail -n 15 "$f" | sed 's/^/   | /'
				done
			fi
		else
			rm -rf "$tmp"
		fi
	fi
	echo "e2e: $checks checks, $failures failed, $(elapsed) s"
	if [ "$failures" -gt 0 ] || [ "$rc" -ne 0 ]; then exit 1; fi
	exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# the pieces

if [ "$(id -u)" -ne 0 ]; then
	echo "$0: run as root (it installs packages and runs PostgreSQL as the postgres user)" >&2
	exit 1
fi

# install_missing: prometheus, haproxy, curl, python3 from Debian.  Installing
# prometheus or haproxy would start their system services; a temporary
# policy-rc.d (when there is none) keeps them from starting.
install_missing() {
	local need=() p policy=/usr/sbin/policy-rc.d made_policy=false
	command -v prometheus >/dev/null || need+=(prometheus)
	command -v haproxy >/dev/null || need+=(haproxy)
	command -v curl >/dev/null || need+=(curl)
	[ -x /usr/bin/python3 ] || need+=(python3)
	[ ${#need[@]} -eq 0 ] && return 0
	echo "   installing ${need[*]} (apt-get)"
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# written by promscale_ha test/e2e/run.sh during apt-get install\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=true
	fi
	export DEBIAN_FRONTEND=noninteractive
	timeout 600 apt-get update -q >/dev/null &&
		timeout 900 apt-get install -y -q --no-install-recommends \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${need[@]}" >/dev/null
	p=$?
	$made_policy && rm -f "$policy"
	return $p
}

for cmd in promscale-ha-http promscale-ha-gen; do
	if ! command -v "$cmd" >/dev/null && [ ! -x "$pgbin/$cmd" ]; then
		echo "$0: $cmd is not installed (run make install first)" >&2
		exit 1
	fi
done
pha_http=$(command -v promscale-ha-http || echo "$pgbin/promscale-ha-http")
pha_gen=$(command -v promscale-ha-gen || echo "$pgbin/promscale-ha-gen")

check "prometheus, haproxy, curl and python3 are installed" install_missing
command -v prometheus >/dev/null && command -v haproxy >/dev/null && command -v curl >/dev/null ||
	fatal "cannot run without prometheus, haproxy and curl"

all_ports_free() {
	local p busy=()
	for p in "$pgport" "$lb_port" "${fe_port[@]}" "$stats_port" "$target_port" "${prom_port[@]}"; do
		port_free "$p" || busy+=("$p")
	done
	[ ${#busy[@]} -eq 0 ] && return 0
	echo "   ports in use on 127.0.0.1: ${busy[*]} (set PHA_E2E_PORT_BASE / PHA_E2E_PGPORT)"
	return 1
}
all_ports_free || fatal "the test's ports are free"

tmp=$(mktemp -d /tmp/pha-e2e.XXXXXX)
chmod 755 "$tmp"
mkdir "$tmp/pg"
chown postgres: "$tmp/pg"
note "temporary directory $tmp"

# sql QUERY: one psql call as the superuser; fields separated by one space
sql() {
	PGCONNECT_TIMEOUT=10 PGOPTIONS='-c statement_timeout=60s' "$pgbin/psql" -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -X -A -t -q \
		-v ON_ERROR_STOP=1 -F ' ' -c "$1" 2>>"$tmp/psql.err"
}

# --- PostgreSQL
as_pg "$pgbin/initdb" -D "$tmp/pg/data" -A trust -U postgres --no-sync >"$tmp/initdb.log" 2>&1 ||
	fatal "initdb (see $tmp/initdb.log)"
cat >>"$tmp/pg/data/postgresql.conf" <<EOF
# promscale_ha end-to-end test
listen_addresses = '127.0.0.1'
port = $pgport
unix_socket_directories = '$tmp/pg'
shared_preload_libraries = 'promscale_ha'
promscale_ha.database = 'postgres'
promscale_ha.failover_timeout = '${failover_timeout}s'
max_connections = 50
fsync = off
synchronous_commit = off
full_page_writes = off
log_line_prefix = '%m [%p] '
EOF
pg_start() {
	as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/postgresql.log" -w -t 60 start >/dev/null 2>&1
}
pg_start || fatal "PostgreSQL starts (see $tmp/pg/postgresql.log)"
pg_running=true
sql "CREATE EXTENSION promscale_ha;
     CREATE ROLE pha_http LOGIN;
     GRANT promscale_ha_writer TO pha_http;" ||
	fatal "CREATE EXTENSION promscale_ha and a writer role (see $tmp/psql.err)"
ok "PostgreSQL 15 on 127.0.0.1:$pgport with promscale_ha preloaded and created"

# --- front ends: fe1 by flags, fe2 by environment variables
conninfo="host=127.0.0.1 port=$pgport dbname=postgres user=pha_http"
start_fe() {
	if [ "$1" = 1 ]; then
		start fe1 "$tmp/fe1.log.$2" "$pha_http" --listen "127.0.0.1:${fe_port[1]}" --db "$conninfo" \
			--pool-size 4 --threads 8 --pool-wait 5s
	else
		start fe2 "$tmp/fe2.log.$2" env PHA_HTTP_LISTEN="127.0.0.1:${fe_port[2]}" PHA_HTTP_DB="$conninfo" \
			PHA_HTTP_POOL_SIZE=4 PHA_HTTP_THREADS=8 PHA_HTTP_POOL_WAIT=5s "$pha_http"
	fi
	ln -sf "fe$1.log.$2" "$tmp/fe$1.log"
}
http_code() {
	curl -s -o /dev/null -m 5 -w '%{http_code}' "$@"
}
healthz_is() { # healthz_is PORT CODE
	[ "$(http_code "http://127.0.0.1:$1/healthz")" = "$2" ]
}
start_fe 1 a
start_fe 2 a
both_healthz() { # both_healthz CODE
	healthz_is "${fe_port[1]}" "$1" && healthz_is "${fe_port[2]}" "$1"
}
check "both front ends answer GET /healthz with 200" wait_until 15 both_healthz 200

# --- haproxy
cat >"$tmp/haproxy.cfg" <<EOF
global
    maxconn 1000
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    option http-buffer-request
frontend remote_write
    bind 127.0.0.1:$lb_port
    default_backend front_ends
backend front_ends
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
    server fe1 127.0.0.1:${fe_port[1]} check
    server fe2 127.0.0.1:${fe_port[2]} check
frontend stats
    bind 127.0.0.1:$stats_port
    stats enable
    stats uri /stats
EOF
haproxy -c -q -f "$tmp/haproxy.cfg" >"$tmp/haproxy-check.log" 2>&1 || fatal "haproxy config is valid (see $tmp/haproxy-check.log)"
start haproxy "$tmp/haproxy.log" haproxy -db -f "$tmp/haproxy.cfg"
# server_status NAME: haproxy's status of a front end (UP, DOWN, ...)
server_status() {
	curl -s -m 5 "http://127.0.0.1:$stats_port/stats;csv" |
		awk -F, -v s="$1" '$1 == "front_ends" && $2 == s { print $18 }'
}
server_is() { # server_is NAME STATUS
	[ "$(server_status "$1")" = "$2" ]
}
check "haproxy on :$lb_port sees both front ends UP" \
	wait_until 15 eval 'server_is fe1 UP && server_is fe2 UP'

# --- scrape target
start target "$tmp/target.log" /usr/bin/python3 "$here/target.py" "$target_port" "$nseries"
target_ok() {
	[ "$(curl -s -m 5 "http://127.0.0.1:$target_port/metrics?replica=r0" | grep -c '^pha_e2e_counter_total')" = "$nseries" ]
}
check "the scrape target serves $nseries counters" wait_until 15 target_ok

# --- Prometheus: two clusters of two replicas
start_prom() { # start_prom c1r1
	local c=${1:0:2} r=${1:2:2} dir=$tmp/prom-$1
	mkdir -p "$dir"
	cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1m
  external_labels:
    cluster: $c
    __replica__: $r
scrape_configs:
  - job_name: target
    params:
      replica: [$r]
    static_configs:
      - targets: ['127.0.0.1:$target_port']
  - job_name: front_ends
    static_configs:
      - targets: ['127.0.0.1:${fe_port[1]}', '127.0.0.1:${fe_port[2]}']
remote_write:
  - url: http://127.0.0.1:$lb_port/write
    remote_timeout: 5s
    queue_config:
      capacity: 10000
      max_shards: 4
      max_samples_per_send: 1000
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
EOF
	start "prom-$1" "$dir/prometheus.log" prometheus --config.file="$dir/prometheus.yml" \
		--storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:${prom_port[$1]}" \
		--storage.remote.flush-deadline=2s --log.level=warn
}
prom_ready() {
	[ "$(http_code "http://127.0.0.1:${prom_port[$1]}/-/ready")" = 200 ]
}
for p in c1r1 c1r2 c2r1 c2r2; do start_prom "$p"; done
all_prom_ready() {
	prom_ready c1r1 && prom_ready c1r2 && prom_ready c2r1 && prom_ready c2r2
}
check "4 Prometheus (c1 r1/r2, c2 r1/r2) are ready" wait_until 60 all_prom_ready

# prom_sum REPLICA METRIC: sum of a metric's samples on one Prometheus' /metrics
prom_sum() {
	curl -s -m 5 "http://127.0.0.1:${prom_port[$1]}/metrics" |
		awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%d", s }'
}
# fe_sum N PATTERN: sum of the front end's metric lines matching PATTERN
fe_sum() {
	curl -s -m 5 "http://127.0.0.1:${fe_port[$1]}/metrics" |
		awk -v p="$2" 'index($0, p) == 1 { s += $2 } END { printf "%d", s }'
}

# ---------------------------------------------------------------------------
# SQL checks

series_filter() { # the target's series of one cluster
	echo "r.metric_name = 'pha_e2e_counter_total' AND r.labels @> '{\"cluster\": \"$1\"}'"
}

# covered_until CLUSTER EPOCH: every target series of the cluster has a sample at
# or after EPOCH (the data of a window has arrived)
covered_until() {
	local n
	n=$(sql "SELECT count(*) FROM promscale_ha.series r
	         WHERE $(series_filter "$1")
	           AND EXISTS (SELECT 1 FROM promscale_ha.samples s
	                       WHERE s.series_id = r.id AND s.time >= to_timestamp($2))")
	[ "$n" = "$nseries" ]
}

# gap_check CLUSTER FROM TO: prints "series bad largest_gap" for the target series
# of CLUSTER over sample time [FROM, TO] (epoch seconds).  A series is bad when it
# has no sample in the 5 s before FROM, none in the last 1.5 s before TO, or two
# consecutive samples more than max_gap apart after FROM.
gap_check() {
	sql "WITH t AS (
	       SELECT s.series_id, s.time,
	              lag(s.time) OVER (PARTITION BY s.series_id ORDER BY s.time) AS prev
	       FROM promscale_ha.samples s JOIN promscale_ha.series r ON r.id = s.series_id
	       WHERE $(series_filter "$1")
	         AND s.time BETWEEN to_timestamp($2) - interval '5 s' AND to_timestamp($3)),
	     per AS (
	       SELECT series_id, min(time) AS first, max(time) AS last,
	              max(time - prev) FILTER (WHERE time > to_timestamp($2)) AS maxgap
	       FROM t GROUP BY series_id)
	     SELECT count(*),
	            count(*) FILTER (WHERE first > to_timestamp($2)
	                               OR last < to_timestamp($3) - interval '$max_gap s'
	                               OR maxgap > interval '$max_gap s'
	                               OR maxgap IS NULL),
	            coalesce(round(extract(epoch FROM max(maxgap))::numeric, 3), -1)
	     FROM per"
}

# spacing_check CLUSTER FROM TO: the spacing of consecutive stored samples of the
# cluster's target series over sample time [FROM, TO], in scrape intervals.  The
# cut of a series is the pair where the replica digit changes (one replica's last
# sample, the next one's first).  Prints "series_with_a_cut cuts cut_min cut_max
# all_min all_max out_of_bounds" (out of [0.5, 1.5]: a doubled or a missing slot).
spacing_check() {
	sql "WITH t AS (
	       SELECT s.series_id, s.time, s.value::bigint % 10 AS d,
	              lag(s.time) OVER w AS prev, lag(s.value::bigint % 10) OVER w AS prev_d
	       FROM promscale_ha.samples s JOIN promscale_ha.series r ON r.id = s.series_id
	       WHERE $(series_filter "$1") AND s.value <> 'NaN'
	         AND s.time BETWEEN to_timestamp($2) AND to_timestamp($3)
	       WINDOW w AS (PARTITION BY s.series_id ORDER BY s.time)),
	     q AS (
	       SELECT series_id, d <> prev_d AS cut,
	              extract(epoch FROM time - prev) / $scrape_interval AS ratio
	       FROM t WHERE prev IS NOT NULL)
	     SELECT count(DISTINCT series_id) FILTER (WHERE cut), count(*) FILTER (WHERE cut),
	            coalesce(round(min(ratio) FILTER (WHERE cut), 3), -1),
	            coalesce(round(max(ratio) FILTER (WHERE cut), 3), -1),
	            coalesce(round(min(ratio), 3), -1), coalesce(round(max(ratio), 3), -1),
	            count(*) FILTER (WHERE ratio < 0.5 OR ratio > 1.5)
	     FROM q"
}

# expect_one_per_slot DESCRIPTION CLUSTER FROM TO: every target series changed
# replica once in the window, and no spacing is outside [0.5, 1.5] intervals
expect_one_per_slot() {
	local desc=$1 c=$2 from=$3 to=$4 ns cuts cmin cmax amin amax bad
	read -r ns cuts cmin cmax amin amax bad <<<"$(spacing_check "$c" "$from" "$to")"
	if [ "${ns:-0}" = "$nseries" ] && [ "${cuts:-0}" = "$nseries" ] && [ "${bad:-1}" = 0 ]; then
		ok "$desc: $c, one sample per scrape slot: spacing across the cut $cmin..$cmax intervals ($cuts series), every spacing $amin..$amax"
	else
		failed "$desc: $c, ${ns:-?} series changed replica (${cuts:-?} cuts, want $nseries each), spacing across the cut ${cmin:-?}..${cmax:-?}, every spacing ${amin:-?}..${amax:-?}, ${bad:-?} outside [0.5, 1.5] intervals"
	fi
	note "spacing ratio across the kill ($c): min $cmin max $cmax (all pairs: min $amin max $amax)"
}

# expect_no_gap DESCRIPTION CLUSTER FROM TO
expect_no_gap() {
	local desc=$1 c=$2 from=$3 to=$4 n bad largest
	read -r n bad largest <<<"$(gap_check "$c" "$from" "$to")"
	if [ "${n:-0}" = "$nseries" ] && [ "${bad:-1}" = 0 ]; then
		ok "$desc: $c, $n series, no gap over ${max_gap}s in $(fsub "$to" "$from") s (largest $largest s)"
	else
		failed "$desc: $c, ${n:-?} series (want $nseries), ${bad:-?} with a gap over ${max_gap}s or missing data, largest gap ${largest:-?} s, window $(fsub "$to" "$from") s"
	fi
}

# leader_check CLUSTER: prints "samples outside not_leader switches leader_changes series"
# over every stored (non-NaN) target sample of the cluster.  A sample's replica digit
# must be the leader of the lease period containing its time, except for the fill of
# a takeover: the next period's leader may fill a series of the previous period after
# that series' last sample from the period's own leader (the old leader died before
# sending it).  And a series switches replica at most once per leader change.
leader_check() {
	sql "WITH p AS (
	       SELECT leader_name, lease_start, lease_until,
	              lead(leader_name) OVER (ORDER BY lease_start) AS next_leader
	       FROM promscale_ha.ha_leases_logs WHERE cluster_name = '$1'),
	     x AS (
	       SELECT s.series_id, s.time, (s.value::bigint % 10)::text AS d,
	              p.lease_start, right(p.leader_name, 1) AS l, right(p.next_leader, 1) AS n
	       FROM promscale_ha.samples s
	       JOIN promscale_ha.series r ON r.id = s.series_id
	       LEFT JOIN p ON s.time >= p.lease_start AND s.time < p.lease_until
	       WHERE $(series_filter "$1") AND s.value <> 'NaN'),
	     y AS (
	       SELECT x.*,
	              max(time) FILTER (WHERE d = l) OVER (PARTITION BY series_id, lease_start) AS last_l,
	              lag(d) OVER (PARTITION BY series_id ORDER BY time) AS prev_d
	       FROM x)
	     SELECT count(*),
	            count(*) FILTER (WHERE l IS NULL),
	            count(*) FILTER (WHERE l IS NOT NULL AND d <> l
	                               AND NOT (d = n AND last_l IS NOT NULL AND time > last_l)),
	            count(*) FILTER (WHERE prev_d IS NOT NULL AND d <> prev_d),
	            (SELECT count(*) - 1 FROM p),
	            count(DISTINCT series_id)
	     FROM y"
}

expect_leader_samples() { # expect_leader_samples CLUSTER
	local n outside wrong switches changes ns
	read -r n outside wrong switches changes ns <<<"$(leader_check "$1")"
	if [ "${n:-0}" -gt 0 ] && [ "${outside:-1}" = 0 ] && [ "${wrong:-1}" = 0 ] &&
		[ "${switches:-1}" -le $((${changes:-0} * ${ns:-0})) ]; then
		ok "$1: all $n stored target samples come from the replica leading their time, or fill in for it after its last sample ($changes leader changes, $switches series switches)"
	else
		failed "$1: of ${n:-?} target samples, ${outside:-?} outside every lease period, ${wrong:-?} from a replica not leading their time; ${switches:-?} series switches for ${changes:-?} leader changes of $ns series"
	fi
}

global_checks() { # global_checks LABEL
	local v
	v=$(sql "SELECT string_agg(cluster || '=' || n, ' ' ORDER BY cluster)
	         FROM (SELECT cluster, count(*) FILTER (WHERE is_leader) AS n
	               FROM promscale_ha.replicas GROUP BY cluster) x")
	check "$1: exactly one leader per cluster ($v)" [ "$v" = "c1=1 c2=1" ]
	v=$(sql "SELECT count(*) FROM promscale_ha.series WHERE labels ? '__replica__'")
	check "$1: no stored series carries __replica__ ($v do)" [ "$v" = 0 ]
	v=$(sql "SELECT count(*) FROM (SELECT 1 FROM promscale_ha.samples
	         GROUP BY series_id, time HAVING count(*) > 1) d")
	check "$1: no (series, time) is stored twice ($v are)" [ "$v" = 0 ]
	v=$(sql "SELECT count(*) FROM promscale_ha.series r
	         WHERE r.metric_name = 'pha_e2e_counter_total' AND r.labels ? 'cluster'")
	check "$1: the target's series of both clusters are stored, with their cluster label ($v of $((2 * nseries)))" \
		[ "$v" = $((2 * nseries)) ]
	expect_leader_samples c1
	expect_leader_samples c2
}

leader_of() {
	sql "SELECT leader_name FROM promscale_ha.ha_leases WHERE cluster_name = '$1'"  # committed state
}

# ---------------------------------------------------------------------------
# 1. steady state

elected() {
	[ "$(sql "SELECT count(*) FROM promscale_ha.replicas WHERE cluster IN ('c1', 'c2')")" = 4 ] &&
		[ -n "$(leader_of c1)" ] && [ -n "$(leader_of c2)" ]
}
# covered_both EPOCH: both clusters have every target series' data up to EPOCH
covered_both() {
	covered_until c1 "$1" && covered_until c2 "$1"
}
plus() { # plus EPOCH SECONDS
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'
}
check "both clusters elect a leader and both replicas of each write" wait_until 60 elected
check "5 s of data arrive for every target series of both clusters" wait_until 45 covered_both "$(plus "$(now)" 5)"
note "leaders: c1=$(leader_of c1) c2=$(leader_of c2)"
global_checks "steady state"
v=$(sql "SELECT count(*) FROM promscale_ha.replicas WHERE NOT is_leader AND samples_deduplicated > 0")
check "both followers' samples were de-duplicated ($v of 2 followers)" [ "$v" = 2 ]
c204=$(($(fe_sum 1 'promscale_ha_http_requests_total{handler="write",code="204"') + $(fe_sum 2 'promscale_ha_http_requests_total{handler="write",code="204"')))
c202=$(($(fe_sum 1 'promscale_ha_http_requests_total{handler="write",code="202"') + $(fe_sum 2 'promscale_ha_http_requests_total{handler="write",code="202"')))
c4xx=0
for code in 400 413 415; do
	c4xx=$((c4xx + $(fe_sum 1 "promscale_ha_http_requests_total{handler=\"write\",code=\"$code\"") + $(fe_sum 2 "promscale_ha_http_requests_total{handler=\"write\",code=\"$code\"")))
done
check "the front ends answered Prometheus 204 (stored: $c204) and 202 (deduplicated: $c202), no 4xx ($c4xx)" \
	eval '[ "$c204" -gt 0 ] && [ "$c202" -gt 0 ] && [ "$c4xx" = 0 ]'
v=$(sql "SELECT count(DISTINCT r.labels->>'instance') FROM promscale_ha.series r
         WHERE r.metric_name = 'promscale_ha_http_request_duration_seconds_bucket'")
check "Prometheus scrapes both front ends' /metrics (histogram series of $v front ends stored)" [ "$v" = 2 ]

# ---------------------------------------------------------------------------
# 2. the leader of c1 dies

# history_since CLUSTER EPOCH: every target series of the cluster has a sample at or
# before EPOCH (a window starting there has data to compare with)
history_since() {
	local n
	n=$(sql "SELECT count(*) FROM promscale_ha.series r
	         WHERE $(series_filter "$1")
	           AND EXISTS (SELECT 1 FROM promscale_ha.samples s
	                       WHERE s.series_id = r.id AND s.time <= to_timestamp($2))")
	[ "$n" = "$nseries" ]
}
leads() { # leads CLUSTER REPLICA
	[ "$(leader_of "$1")" = "$2" ]
}
follows_again() { # follows_again REPLICA EPOCH: it wrote as a follower of c1 since EPOCH
	[ "$(sql "SELECT count(*) FROM promscale_ha.replicas WHERE cluster = 'c1' AND replica = '$1'
	          AND NOT is_leader AND last_write > to_timestamp($2)")" = 1 ]
}
# leader_dies N: SIGKILL c1's leader, check the takeover and the data across it,
# restart the killed replica.  Run twice (N = 1, 2), once each way: the replicas'
# scrape phases differ by p of an interval one way and 1 - p the other, so
# whatever Prometheus chose, one of the two takeovers has its new leader less
# than half an interval after the old one, where the scrape-slot rule must drop
# the new leader's first sample.
new_start=
leader_dies() {
	local n=$1 old other kill_at took reason win_to restart_at prev_start=$new_start
	if [ -n "$prev_start" ]; then # the 10 s before this kill come after the last takeover
		check "failover $n: 12 s of sample time since the last takeover" \
			wait_until 30 eval 'fle "$(plus "$prev_start" 12)" "$(now)"'
	fi
	check "failover $n: c1 has 10 s of history before the kill" \
		wait_until 30 eval 'history_since c1 "$(plus "$(now)" -10.5)"'
	old=$(leader_of c1)
	other=r1
	[ "$old" = r1 ] && other=r2
	kill_at=$(now)
	kill9 "prom-c1$old" || fatal "c1's leader ($old) is one of our Prometheus"
	note "failover $n: SIGKILL prom-c1$old (c1's leader)"
	check "failover $n: c1: $other takes over within ${failover_timeout}s + 5 s of the kill" \
		wait_until $((failover_timeout + 5)) leads c1 "$other"
	took=$(fsub "$(now)" "$kill_at")
	new_start=$(sql "SELECT extract(epoch FROM lease_start) FROM promscale_ha.ha_leases_logs
	                 WHERE cluster_name = 'c1' AND leader_name = '$other' ORDER BY lease_start DESC LIMIT 1")
	reason=$(sql "SELECT reason FROM promscale_ha.ha_leases_logs
	              WHERE cluster_name = 'c1' ORDER BY lease_start DESC LIMIT 1")
	note "takeover seen after $took s; the new lease starts at sample time $(fsub "${new_start:-0}" "$kill_at") s after the kill; reason: $reason"
	check "failover $n: c1: the takeover is logged in ha_leases_logs as a failover" [ "$reason" = failover ]
	if [ -n "$new_start" ]; then
		win_to=$(plus "$new_start" 10)
		check "failover $n: c1: data arrives up to 10 s after the new lease's start" \
			wait_until 40 covered_until c1 "$win_to"
		expect_no_gap "failover $n ($old -> $other, 10 s before the kill to 10 s after the takeover)" c1 \
			"$(plus "$kill_at" -10)" "$win_to"
		expect_one_per_slot "failover $n ($old -> $other, 10 s before the kill to 10 s after the takeover)" c1 \
			"$(plus "$kill_at" -10)" "$win_to"
	fi
	expect_leader_samples c1
	restart_at=$(now)
	start_prom "c1$old"
	check "failover $n: the killed replica c1 $old restarts" wait_until 60 prom_ready "c1$old"
	check "failover $n: c1: the restarted $old writes again and follows" \
		wait_until 30 follows_again "$old" "$restart_at"
}
leader_dies 1
leader_dies 2

# ---------------------------------------------------------------------------
# 3. a front end dies

fe2_before=$(fe_sum 2 'promscale_ha_http_requests_total{handler="write",code="20')
fe_kill_at=$(now)
kill9 fe1
note "SIGKILL front end 1"
check "haproxy marks front end 1 DOWN" wait_until 10 server_is fe1 DOWN
fe_to=$(plus "$fe_kill_at" 10)
check "data keeps arriving through front end 2 (10 s after the kill)" wait_until 40 covered_both "$fe_to"
fe2_after=$(fe_sum 2 'promscale_ha_http_requests_total{handler="write",code="20')
check "front end 2 took the writes ($((fe2_after - fe2_before)) more 2xx answers)" [ $((fe2_after - fe2_before)) -gt 10 ]
from=$(plus "$fe_kill_at" -5)
expect_no_gap "front end killed (5 s before to 10 s after)" c1 "$from" "$fe_to"
expect_no_gap "front end killed (5 s before to 10 s after)" c2 "$from" "$fe_to"
start_fe 1 b
check "front end 1 restarts and haproxy marks it UP" wait_until 15 server_is fe1 UP

# ---------------------------------------------------------------------------
# 4. PostgreSQL restarts mid-stream

declare -A retried_before=()
for p in c1r1 c1r2 c2r1 c2r2; do
	retried_before[$p]=$(prom_sum "$p" prometheus_remote_storage_samples_retried_total)
done
"$pha_gen" --series 5 --cluster c9 --replica r1 -o "$tmp/probe.bin" ||
	fatal "promscale-ha-gen writes a probe payload"
pg_stop_at=$(now)
as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -m fast -w -t 60 stop >/dev/null 2>&1 || fatal "pg_ctl stop -m fast"
pg_running=false
note "PostgreSQL stopped (-m fast)"
check "database down: both front ends answer GET /healthz with 503" wait_until 10 both_healthz 503
hdrs=$(curl -s -m 10 -D - -o /dev/null -X POST -H 'Content-Encoding: snappy' \
	-H 'Content-Type: application/x-protobuf' --data-binary @"$tmp/probe.bin" \
	"http://127.0.0.1:${fe_port[2]}/write" | tr -d '\r')
check "database down: POST /write is answered 503 with Retry-After" \
	eval '[[ "$hdrs" == "HTTP/1.1 503"* ]] && grep -qi "^Retry-After: [0-9]" <<<"$hdrs"'
retried() {
	local p
	for p in c1r1 c1r2 c2r1 c2r2; do
		[ "$(prom_sum "$p" prometheus_remote_storage_samples_retried_total)" -gt "${retried_before[$p]}" ] && return 0
	done
	return 1
}
check "database down: Prometheus retries its remote writes" wait_until 15 retried
# stay down 3 s in all (under failover_timeout): several scrapes must wait in the queues
down_for=$(fsub "$(now)" "$pg_stop_at")
fle "$down_for" 3 && sleep "$(fsub 3 "$down_for")"
pg_start || fatal "PostgreSQL starts again (see $tmp/pg/postgresql.log)"
pg_running=true
pg_start_at=$(now)
note "PostgreSQL started again after $(fsub "$pg_start_at" "$pg_stop_at") s"
check "database up: both front ends answer GET /healthz with 200 again" wait_until 15 both_healthz 200
pg_to=$(plus "$pg_start_at" 10)
check "data arrives again (10 s after the restart)" wait_until 45 covered_both "$pg_to"
note "leader periods after the restart: $(sql "SELECT string_agg(cluster_name || ' ' || leader_name || ' (' || reason || ')', ', ' ORDER BY cluster_name, lease_start) FROM promscale_ha.ha_leases_logs")"
from=$(plus "$pg_stop_at" -10)
expect_no_gap "database restart (10 s before the stop to 10 s after the start)" c1 "$from" "$pg_to"
expect_no_gap "database restart (10 s before the stop to 10 s after the start)" c2 "$from" "$pg_to"

# ---------------------------------------------------------------------------
# 5. the whole run

global_checks "at the end"
v=$(sql "SELECT count(*) FROM (SELECT lease_start,
                lag(lease_until) OVER (PARTITION BY cluster_name ORDER BY lease_start) AS prev_until
         FROM promscale_ha.ha_leases_logs WHERE cluster_name IN ('c1', 'c2')) x
         WHERE prev_until IS DISTINCT FROM lease_start AND prev_until IS NOT NULL")
check "the lease periods of each cluster follow each other with no hole or overlap ($v do not)" [ "$v" = 0 ]
failed_samples=0
for p in c1r1 c1r2 c2r1 c2r2; do
	failed_samples=$((failed_samples + $(prom_sum "$p" prometheus_remote_storage_samples_failed_total)))
done
check "no Prometheus dropped a sample as unretryable ($failed_samples did)" [ "$failed_samples" = 0 ]
check "both front ends are still running" eval 'kill -0 ${pids[fe1]} && kill -0 ${pids[fe2]}'
# the status follows "METHOD PATH from PEER: " (exchange.c); a bare " 4xx " elsewhere in a
# line -- "COPY samples_head, line 481" in a 503's PostgreSQL message -- is not one
v=$(cat "$tmp"/fe1.log.* "$tmp"/fe2.log.* | grep -cE ' error: [A-Z]+ [^ ]+ from [^ ]+: 4[0-9][0-9] ' || true)
check "the front ends logged no 4xx for Prometheus' requests ($v lines)" [ "$v" = 0 ]
