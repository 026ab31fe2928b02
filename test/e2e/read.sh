#!/bin/bash
#
# read.sh - end-to-end test of remote read with real Prometheus (Debian's 2.42).
#
#   sudo bash test/e2e/read.sh        (as root; after `make install`)
#
# Starts, all on 127.0.0.1 and in one temporary directory: a throw-away PostgreSQL 15
# (promscale_ha preloaded, failover_timeout = 5s; the front end logs in as a role with
# promscale_ha_writer and promscale_ha_reader), one promscale-ha-http, the scrape target
# (target.py: 10 counters and 2 histograms), and a Prometheus HA pair (external labels
# cluster=c1, __replica__=r1|r2; scrape every 1 s; remote write to the front end).
# After ~40 s it SIGKILLs the leader, waits for the other replica to take over, lets it
# lead ~40 s, then starts a third Prometheus with no scrape job and
#     remote_read: [{url: http://127.0.0.1:FE/api/v1/read, read_recent: true}]
# and compares PromQL answers (/api/v1/query, /api/v1/query_range) of that reader (all
# from the database) with those of each leader's own TSDB over its period:
#   - the new leader's period, against the surviving replica: raw range
#     selectors, max_over_time, count_over_time, rate(...[30s]), sum by, a regex
#     matcher and histogram_quantile must be equal (the reader's series carry the
#     cluster label, which the replica's local series do not: it is dropped before
#     comparing);
#   - the old leader's period, compared with the old leader's own TSDB: the killed
#     replica is started again on its data directory (its WAL holds every sample it
#     sent) with no scrape job and no remote write, and the same queries must be
#     equal over its period, up to 3 s before it lost the lead (a sample still in its
#     queue at the kill was never stored; the new leader's fills that time);
#   - no gap across the failover: count_over_time(...[5s]) every 5 s from the first
#     sample to the end, failover included, is at least 4 for every series.
# The first difference of a failed comparison is printed.  Every wait is bounded; every
# process is stopped by its PID.  Ports: PHA_READ_E2E_PGPORT (default 18476),
# PHA_READ_E2E_PORT_BASE (default 19400: front end; +10 target; +91, +92 the pair;
# +95 the reader).  PHA_E2E_KEEP=1 keeps the temporary directory (kept on failure).
# Last line: "read_e2e: N checks, M failed"; exit status 0 when all passed.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pgbin=/usr/lib/postgresql/15/bin
pgport=${PHA_READ_E2E_PGPORT:-18476}
base=${PHA_READ_E2E_PORT_BASE:-19400}
fe_port=$base
target_port=$((base + 10))
declare -A prom_port=([r1]=$((base + 91)) [r2]=$((base + 92)) [reader]=$((base + 95)))
nseries=10
nhist=2
lead_s=${PHA_READ_E2E_LEAD:-50}     # seconds of the first leader (its windows: 30 s + 3 s after its start)
after_s=${PHA_READ_E2E_AFTER:-45}   # seconds of the new leader before the queries
py=/usr/bin/python3

start_time=$EPOCHREALTIME
tmp=

# shellcheck source=../lib/checks.sh
. "$here/../lib/checks.sh"
# pids, start, stop, wait_until, note, elapsed, fle, port_free, as_pg
# shellcheck source=../lib/procs.sh
. "$here/../lib/procs.sh"

pg_running=false
cleanup() {
	local rc=$? name
	trap - EXIT INT TERM
	for name in prom-reader prom-r1 prom-r2; do stop "$name"; done
	for name in "${!pids[@]}"; do stop "$name"; done
	$pg_running && as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -m immediate -w -t 30 stop >/dev/null 2>&1
	if [ -n "$tmp" ] && [ -d "$tmp" ]; then
		if [ "$failures" -gt 0 ] || [ "$rc" -ne 0 ] || [ "${PHA_E2E_KEEP:-0}" = 1 ]; then
			echo "   logs and data kept in $tmp"
		else
			rm -rf "$tmp"
		fi
	fi
	echo "read_e2e: $checks checks, $failures failed"
	[ "$failures" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
	exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || { echo "$0: run as root" >&2; exit 1; }
for cmd in prometheus curl; do
	command -v "$cmd" >/dev/null || fatal "$cmd is installed (apt-get install prometheus curl)"
done
pha_http=$(command -v promscale-ha-http || echo "$pgbin/promscale-ha-http")
[ -x "$pha_http" ] || fatal "promscale-ha-http is installed (make install)"
for p in "$pgport" "$fe_port" "$target_port" "${prom_port[@]}"; do
	port_free "$p" || fatal "port $p is free (set PHA_READ_E2E_PORT_BASE / PHA_READ_E2E_PGPORT)"
done

tmp=$(mktemp -d /tmp/pha-read-e2e.XXXXXX)
chmod 755 "$tmp"
mkdir "$tmp/pg"
chown postgres: "$tmp/pg"
note "temporary directory $tmp"
sql() {
	PGCONNECT_TIMEOUT=10 "$pgbin/psql" -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -X -A -t -q \
		-v ON_ERROR_STOP=1 -F ' ' -c "$1" 2>>"$tmp/psql.err"
}

# --- PostgreSQL, front end, target
as_pg "$pgbin/initdb" -D "$tmp/pg/data" -A trust -U postgres --no-sync >"$tmp/initdb.log" 2>&1 || fatal "initdb"
cat >>"$tmp/pg/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pgport
unix_socket_directories = '$tmp/pg'
shared_preload_libraries = 'promscale_ha'
promscale_ha.database = 'postgres'
promscale_ha.failover_timeout = '5s'
fsync = off
synchronous_commit = off
EOF
as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/postgresql.log" -w -t 60 start >/dev/null 2>&1 ||
	fatal "PostgreSQL starts (see $tmp/pg/postgresql.log)"
pg_running=true
sql "CREATE EXTENSION promscale_ha; CREATE ROLE pha_http LOGIN;
     GRANT promscale_ha_writer, promscale_ha_reader TO pha_http" || fatal "extension and role"
start fe "$tmp/fe.log" "$pha_http" --listen "127.0.0.1:$fe_port" \
	--db "host=127.0.0.1 port=$pgport dbname=postgres user=pha_http"
start target "$tmp/target.log" "$py" "$here/target.py" "$target_port" "$nseries" "$nhist"
http_ok() { [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$1")" = 200 ]; }
check "the front end and the target answer" wait_until 15 eval \
	'http_ok "http://127.0.0.1:$fe_port/healthz" && http_ok "http://127.0.0.1:$target_port/metrics"'

# --- the HA pair
start_prom() { # start_prom r1|r2|reader
	local dir=$tmp/prom-$1
	mkdir -p "$dir"
	if [ "$1" = reader ]; then
		cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
remote_read:
  - url: http://127.0.0.1:$fe_port/api/v1/read
    read_recent: true
EOF
	else
		cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  external_labels:
    cluster: c1
    __replica__: $1
scrape_configs:
  - job_name: target
    params:
      replica: [$1]
    static_configs:
      - targets: ['127.0.0.1:$target_port']
remote_write:
  - url: http://127.0.0.1:$fe_port/api/v1/write
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
EOF
	fi
	start "prom-$1" "$dir/prometheus.log" prometheus --config.file="$dir/prometheus.yml" \
		--storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:${prom_port[$1]}" \
		--log.level=warn
}
prom_ready() { http_ok "http://127.0.0.1:${prom_port[$1]}/-/ready"; }
start_prom r1
start_prom r2
check "the HA pair is ready" wait_until 60 eval 'prom_ready r1 && prom_ready r2'
leader() { sql "SELECT leader_name FROM promscale_ha.ha_leases WHERE cluster_name = 'c1'"; }
check "a leader is elected" wait_until 30 eval '[ -n "$(leader)" ]'
first_ms=$(sql "SELECT (extract(epoch FROM min(time)) * 1000)::bigint FROM promscale_ha.samples")
note "leader $(leader); letting it lead ${lead_s} s"
sleep "$lead_s"

old=$(leader)
other=r1
[ "$old" = r1 ] && other=r2
kill_ms=$(date +%s%3N)
kill_s=$((kill_ms / 1000))
kill -KILL "${pids[prom-$old]}"
wait "${pids[prom-$old]}" 2>/dev/null
unset "pids[prom-$old]"
note "SIGKILL the leader $old"
check "$other takes over" wait_until 20 eval '[ "$(leader)" = "$other" ]'
lease_ms=$(sql "SELECT (extract(epoch FROM lease_start) * 1000)::bigint FROM promscale_ha.ha_leases WHERE cluster_name = 'c1'")
note "the new lease starts at sample time $((lease_ms - kill_ms)) ms after the kill (the old leader's last sample); letting $other lead ${after_s} s"
sleep "$after_s"

start_prom reader
check "the reader Prometheus (remote_read only) is ready" wait_until 60 prom_ready reader
end_s=$(($(date +%s) - 5))   # leave the remote-write delay out

# --- the comparisons (compare.py prints "ok: ..." or "FAILED: ..." lines)
cat >"$tmp/compare.py" <<'EOF'
import json, sys, urllib.parse, urllib.request

reader, local = sys.argv[1], sys.argv[2]

def api(base, path, **params):
    url = "%s/api/v1/%s?%s" % (base, path, urllib.parse.urlencode(params))
    with urllib.request.urlopen(url, timeout=60) as r:
        doc = json.load(r)
    if doc.get("status") != "success":
        raise RuntimeError("%s: %s" % (url, doc))
    out = {}
    for s in doc["data"]["result"]:
        m = dict(s["metric"])
        m.pop("cluster", None)          # the database keeps it, the local TSDB never had it
        key = ",".join("%s=%s" % kv for kv in sorted(m.items()))
        vals = s["values"] if "values" in s else [s["value"]]
        out[key] = [(float(t), v) for t, v in vals]
    return out

def compare(desc, path, tol, params):
    """tol None: equal; a number: relative (or absolute when it is >= 1)."""
    try:
        a = api(reader, path, **params)
        b = api(local, path, **params)
    except Exception as e:
        print("FAILED: %s: %s" % (desc, e)); return
    if not a:
        print("FAILED: %s: the reader returned no series" % desc); return
    if sorted(a) != sorted(b):
        print("FAILED: %s: series differ: reader %s, local %s" % (desc, sorted(a)[:3], sorted(b)[:3])); return
    n = 0
    for key in sorted(a):
        if len(a[key]) != len(b[key]) and tol is None:
            print("FAILED: %s: %s: %d points in the reader, %d local" % (desc, key, len(a[key]), len(b[key]))); return
        db = dict(b[key])
        for t, v in a[key]:
            if t not in db:
                if tol is None:
                    print("FAILED: %s: %s: reader has t=%s, local has not" % (desc, key, t)); return
                continue
            x, y = float(v), float(db[t])
            if tol is None:
                ok = v == db[t]
            elif tol >= 1:
                ok = abs(x - y) <= tol
            else:
                ok = abs(x - y) <= tol * max(abs(x), abs(y))
            if not ok:
                print("FAILED: %s: first difference %s at t=%.3f: reader %s, local %s" % (desc, key, t, v, db[t])); return
            n += 1
    print("ok: %s (%d series, %d values compared)" % (desc, len(a), n))

def at_least(desc, path, floor, params):
    a = api(reader, path, **params)
    if not a:
        print("FAILED: %s: no series" % desc); return
    for key in sorted(a):
        for t, v in a[key]:
            if float(v) < floor:
                print("FAILED: %s: %s at t=%.0f: %s < %s" % (desc, key, t, v, floor)); return
    print("ok: %s (%d series, %d windows)" % (desc, len(a), sum(len(v) for v in a.values())))

cmd = sys.argv[3]
if cmd == "compare":
    desc, path, tol = sys.argv[4], sys.argv[5], (None if sys.argv[6] == "eq" else float(sys.argv[6]))
    compare(desc, path, tol, dict(p.split("=", 1) for p in sys.argv[7:]))
else:
    at_least(sys.argv[4], sys.argv[5], float(sys.argv[6]), dict(p.split("=", 1) for p in sys.argv[7:]))
EOF
reader_url=http://127.0.0.1:${prom_port[reader]}
local_url=http://127.0.0.1:${prom_port[$other]}
# compare DESC API TOL PARAM=VALUE...: one line of compare.py, counted
compare() {
	local line
	line=$("$py" "$tmp/compare.py" "$reader_url" "$local_url" compare "$@" 2>&1 | tail -n 1)
	case $line in
		ok:*) ok "${line#ok: }" ;;
		*) failed "${line#FAILED: }" ;;
	esac
}
at_least() {
	local line
	line=$("$py" "$tmp/compare.py" "$reader_url" "$local_url" at_least "$@" 2>&1 | tail -n 1)
	case $line in
		ok:*) ok "${line#ok: }" ;;
		*) failed "${line#FAILED: }" ;;
	esac
}

c='pha_e2e_counter_total'
h='pha_e2e_latency_seconds_bucket'
hq="histogram_quantile(0.5, sum by (le, hist) (rate(${h}[30s])))"
# the new leader's period: from 2 s after its lease started (windows of 30 s after that)
new_from=$((lease_ms / 1000 + 2))
new_at=$((new_from + 31))
# compare_period WHO FROM TO: the reader against $local_url over windows ending FROM..TO,
# every query equal (raw selectors at TO, the rest every 1 s)
compare_period() {
	local who=$1 from=$2 to=$3 q
	note "$who's period: windows ending $from..$to"
	compare "$who: raw samples ${c}{idx=\"3\"}[20s] equal" query eq "query=${c}{idx=\"3\"}[20s]" "time=$to"
	compare "$who: raw samples of a histogram bucket [20s] equal" query eq "query=${h}{hist=\"1\",le=\"0.5\"}[20s]" "time=$to"
	for q in "max_over_time(${c}[10s])" "count_over_time(${c}[10s])" "rate(${c}[30s])" \
		"sum by (idx) (rate(${c}[30s]))" "${c}{idx=~\"1|2|3\"}" "$hq"; do
		compare "$who: $q equal every 1 s" query_range eq "query=$q" "start=$from" "end=$to" step=1
	done
}
if [ "$new_at" -ge "$end_s" ]; then
	failed "the new leader led long enough for 30 s windows ($new_at >= $end_s)"
else
	compare_period "new leader" "$new_at" "$end_s"
fi

# the old leader's period, against the old leader's own TSDB: the killed replica again,
# on its data directory, serving queries only (no scrape job, no remote write: nothing
# it replays reaches the database)
dir=$tmp/prom-$old
printf 'global:\n  scrape_interval: 1s\n' >"$dir/tsdb-only.yml"
start "prom-$old" "$dir/prometheus-tsdb.log" prometheus --config.file="$dir/tsdb-only.yml" \
	--storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:${prom_port[$old]}" --log.level=warn
check "the old leader $old starts again on its own TSDB (queries only)" wait_until 60 prom_ready "$old"
local_url=http://127.0.0.1:${prom_port[$old]}
old_from=$((first_ms / 1000 + 31))
old_to=$(( (kill_s < lease_ms / 1000 ? kill_s : lease_ms / 1000) - 3 ))
if [ "$old_from" -ge "$old_to" ]; then
	failed "the old leader led long enough for 30 s windows"
else
	compare_period "old leader" "$old_from" "$old_to"
fi
at_least "no gap: count_over_time(${c}[5s]) >= 4 in every 5 s window, failover included" query_range 4 \
	"query=count_over_time(${c}[5s])" "start=$((first_ms / 1000 + 6))" "end=$end_s" step=5
at_least "no gap in the histograms either" query_range 4 \
	"query=count_over_time(${h}{le=\"+Inf\"}[5s])" "start=$((first_ms / 1000 + 6))" "end=$end_s" step=5

curl -s "http://127.0.0.1:$fe_port/metrics" >"$tmp/fe.metrics"
check "the front end answered the reader's remote reads (read_requests_total{code=\"200\"})" \
	grep -q '^promscale_ha_http_read_requests_total{code="200"} [1-9]' "$tmp/fe.metrics"
v=$(grep -c '^promscale_ha_http_read_requests_total{code="[45]' "$tmp/fe.metrics")
check "... and no read failed ($v codes of failure)" [ "$v" = 0 ]
