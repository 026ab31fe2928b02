#!/bin/bash
#
# ha_watch.sh - HA you can watch (issue 12, point 3), through the front end:
#   1. GET /metrics carries the HA state as promscale_ha_* families, from a database with
#      two HA clusters (c1 with a failover from a to b, c2) and a cluster whose series
#      come without the replica label (a name with a quote and a backslash: escaped);
#      the whole exposition passes `promtool check metrics`;
#   2. it is read from the database once per --ha-metrics-ttl (two scrapes, one query;
#      with a TTL of 0, one query per scrape); a --db role without promscale_ha_reader
#      gets ha_state_up 0 and still a 200;
#   3. the example alert rules (test/alerts/) pass `promtool check rules` and their unit
#      tests (`promtool test rules`);
#   4. GET / is the status page: HTML with both leaders, the replicas and the periods;
#      loaded in headless chromium (--dump-dom), whose DOM shows the leaders and the
#      periods with their reasons, and a screenshot saved (path printed); behind
#      --bearer-token-file the page needs the token like /metrics;
#   5. the counters' table is bounded by promscale_ha.max_tracked_replicas (16 here): the
#      updates past it are counted (stats.tracked_replicas_overflow) and exported.
#
# Starts its own PostgreSQL 15 (Unix socket only) and front ends on 127.0.0.1; stops
# them by PID at the end.  Ports: PHA_WATCH_PGPORT (56310), PHA_WATCH_HTTP (19610..19612).
# Screenshot: $PHA_ARTIFACTS (default /tmp/pha_artifacts)/status_page.png.
# Prints ok:/FAILED: lines; exit 1 on a failure.
# Needs: root, postgresql-15, curl, prometheus (promtool), chromium, promscale_ha and its
# programs installed.

set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=test/lib/checks.sh
. "$here/../lib/checks.sh"
# shellcheck source=test/lib/pgserver.sh
. "$here/../lib/pgserver.sh"

pg_port=${PHA_WATCH_PGPORT:-56310}
http_base=${PHA_WATCH_HTTP:-19610}
artifacts=${PHA_ARTIFACTS:-/tmp/pha_artifacts}
alerts=$(cd "$here/../alerts" && pwd)

# promtool comes with Debian's prometheus, which the end-to-end tests install later in the
# test command: install it here when missing, kept from starting its service (policy-rc.d)
if ! command -v promtool >/dev/null; then
	policy=/usr/sbin/policy-rc.d
	made_policy=false
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# written by promscale_ha test/system/ha_watch.sh during apt-get install\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=true
	fi
	DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold prometheus >/dev/null
	$made_policy && rm -f "$policy"
fi
pg_server_start "$pg_port" "promscale_ha.failover_timeout = '1s'" \
	"promscale_ha.max_tracked_replicas = 16" || fatal "server start"
for t in curl promtool; do command -v $t >/dev/null || fatal "$t is missing"; done
chromium=$(command -v chromium || command -v chromium-browser) || fatal "chromium is missing (test/install_deps.sh)"

q "CREATE ROLE pha_http LOGIN IN ROLE promscale_ha_writer, promscale_ha_reader"
q "CREATE ROLE pha_writer_only LOGIN IN ROLE promscale_ha_writer"

# fe N ROLE [FLAG...]: start front end N (port http_base+N), wait for /healthz
fe() {
	local n=$1 role=$2
	shift 2
	"$pgbin/promscale-ha-http" --listen "127.0.0.1:$((http_base + n))" \
		--db "host=$dir port=$pg_port dbname=postgres user=$role" "$@" >"$dir/fe$n.log" 2>&1 &
	bg_pids+=($!)
	for _ in $(seq 1 50); do
		curl -s -o /dev/null "http://127.0.0.1:$((http_base + n))/healthz" && return 0
		sleep 0.1
	done
	fatal "front end $n did not start: $(cat "$dir/fe$n.log")"
}
fe 0 pha_http --ha-metrics-ttl 60s
url=http://127.0.0.1:$http_base

# post CLUSTER [REPLICA] [OFFSET]: a request with samples at the current time, its status
post() {
	local args=(--series 3 --samples 2 --step-ms 100 --start-ms "$(($(date +%s%3N) - 1000))"
		--series-offset "${3:-0}" --cluster "$1" -o "$dir/req.bin")
	[ -n "${2:-}" ] && args+=(--replica "$2")
	"$gen" "${args[@]}" || return 1
	curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/x-protobuf' \
		-H 'Content-Encoding: snappy' --data-binary "@$dir/req.bin" "$url/write"
}

# c1: a leads, b follows; a goes silent, b takes over after failover_timeout (1 s)
check_eq "c1: a's first write stored" 204 "$(post c1 a)"
check_eq "c1: b's write deduplicated" 202 "$(post c1 b)"
failover=
for _ in $(seq 1 50); do
	sleep 0.2
	post c1 b >/dev/null
	failover=$(q "SELECT count(*) FROM promscale_ha.ha_leases_logs WHERE cluster_name = 'c1' AND reason = 'failover'")
	[ "$failover" = 1 ] && break
done
check_eq "c1: b took over after a's silence" 1 "$failover"
# from now on b stays the leader while the test reads (a short timeout would hand it back)
q "ALTER SYSTEM SET promscale_ha.failover_timeout = '1h'"
q "SELECT pg_reload_conf()" >/dev/null
wait_until 30 "SELECT current_setting('promscale_ha.failover_timeout') = '1h'" ||
	failed "failover_timeout reloaded"
check_eq "c1: a is now a follower" 202 "$(post c1 a)"
# c2: one leader; v"1\x: the cluster label only (as vmagent sends without its __replica__)
check_eq "c2: x stored" 204 "$(post c2 x 10)"
weird='v"1\x'
check_eq "series without the replica label stored as sent" 204 "$(post "$weird" "" 20)"
wait_until 30 "SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'promscale_ha worker'" ||
	failed "the worker runs"

# 1. the HA families
curl -s "$url/metrics" >"$dir/m1" || fatal "GET /metrics"
m() { grep -F -x -- "$1" "$dir/m1" >/dev/null; }
check "leader info of c1 is b" m 'promscale_ha_leader{cluster="c1",replica="b"} 1'
check "leader info of c2 is x" m 'promscale_ha_leader{cluster="c2",replica="x"} 1'
check "no leader line for a" bash -c "! grep -q 'promscale_ha_leader{cluster=\"c1\",replica=\"a\"}' '$dir/m1'"
check "leader changes by reason: c1 first writer" m 'promscale_ha_leader_changes_total{cluster="c1",reason="first writer"} 1'
check "leader changes by reason: c1 failover" m 'promscale_ha_leader_changes_total{cluster="c1",reason="failover"} 1'
check "leader changes by reason: c2 no failover" m 'promscale_ha_leader_changes_total{cluster="c2",reason="failover"} 0'
acc_a=$(q "SELECT samples_accepted FROM promscale_ha.cluster_stats WHERE cluster = 'c1' AND replica = 'a'")
ded_b=$(q "SELECT samples_deduplicated FROM promscale_ha.cluster_stats WHERE cluster = 'c1' AND replica = 'b'")
check "samples accepted of c1/a ($acc_a) as cluster_stats says" m "promscale_ha_samples_total{cluster=\"c1\",replica=\"a\",result=\"accepted\"} $acc_a"
check "samples deduplicated of c1/b ($ded_b) as cluster_stats says" m "promscale_ha_samples_total{cluster=\"c1\",replica=\"b\",result=\"deduplicated\"} $ded_b"
check "c1/a: 6 samples accepted before the failover" test "$acc_a" = 6
check "future-dropped series per replica" m 'promscale_ha_samples_total{cluster="c2",replica="x",result="future_dropped"} 0'
check "seconds since each replica's last write" grep -q '^promscale_ha_replica_last_write_age_seconds{cluster="c1",replica="a"} [0-9]' "$dir/m1"
buf=$(sed -n 's/^promscale_ha_replay_buffer_bytes{cluster="c1"} \([0-9]*\)$/\1/p' "$dir/m1")
check "replay buffer bytes of c1 (a's follower request): ${buf:-none}" test "${buf:-0}" -gt 0
check "samples without the replica label, label value escaped" m 'promscale_ha_samples_without_replica_label_total{cluster="v\"1\\x"} 6'
check "worker up" m 'promscale_ha_worker_up 1'
check "the server log warns about the cluster without the replica label" \
	grep -q 'WARNING:  6 samples of cluster "v"1\\x" arrived without the replica label "__replica__"' "$dir/log"
check "... and so does the front end's" grep -q 'database warning: 6 samples of cluster' "$dir/fe0.log"
check "tracked replicas overflow" m 'promscale_ha_tracked_replicas_overflow_total 0'
check "the front end's own metrics are still there" grep -q '^promscale_ha_http_requests_total{' "$dir/m1"
check_eq "one TYPE line per family" 1 "$(grep -c '^# TYPE promscale_ha_samples_total ' "$dir/m1")"
if promtool check metrics <"$dir/m1" >"$dir/lint" 2>&1; then ok "promtool check metrics"; else
	failed "promtool check metrics: $(head -5 "$dir/lint")"; fi

# 2. read once per TTL
curl -s "$url/metrics" >"$dir/m2"
check_eq "TTL 60s: two scrapes, one query" "promscale_ha_http_ha_state_queries_total 1" \
	"$(grep '^promscale_ha_http_ha_state_queries_total ' "$dir/m2")"
fe 1 pha_http --ha-metrics-ttl 0
curl -s "http://127.0.0.1:$((http_base + 1))/metrics" >/dev/null
curl -s "http://127.0.0.1:$((http_base + 1))/metrics" >"$dir/m3"
check_eq "TTL 0: two scrapes, two queries" "promscale_ha_http_ha_state_queries_total 2" \
	"$(grep '^promscale_ha_http_ha_state_queries_total ' "$dir/m3")"
printf 'secret-token-of-ha-watch\n' >"$dir/token"
chmod 600 "$dir/token"
fe 2 pha_writer_only --bearer-token-file "$dir/token"
u2=http://127.0.0.1:$((http_base + 2))
code=$(curl -s -o "$dir/m4" -w '%{http_code}' -H 'Authorization: Bearer secret-token-of-ha-watch' "$u2/metrics")
check_eq "writer-only role: /metrics still 200" 200 "$code"
check "writer-only role: ha_state_up 0" grep -q -x 'promscale_ha_http_ha_state_up 0' "$dir/m4"
check "writer-only role: no HA family" bash -c "! grep -q '^promscale_ha_leader' '$dir/m4'"
check "the log says which grant is missing" grep -q 'grant promscale_ha_reader' "$dir/fe2.log"
# scrapes past the TTL: the role's missing grant is found out without an error each time
for _ in 1 2 3; do
	sleep 1.1
	curl -s -o /dev/null -H 'Authorization: Bearer secret-token-of-ha-watch' "$u2/metrics"
done
check_eq "writer-only role: 4 scrapes, no ERROR in the server log" 0 \
	"$(grep -c 'permission denied for function ha_metrics' "$dir/log")"
check_eq "writer-only role: the missing grant logged once" 1 \
	"$(grep -c 'may not execute promscale_ha.ha_metrics' "$dir/fe2.log")"

# 3. the example alert rules
check "promtool check rules" promtool check rules "$alerts/promscale_ha.rules.yml"
check "promtool test rules" bash -c "cd '$alerts' && promtool test rules promscale_ha.rules.test.yml"

# 4. the status page
check_eq "GET / without the token: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$u2/")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer secret-token-of-ha-watch' "$u2/")
check_eq "GET / with the token (writer-only role): 503 naming the database error" 503 "$code"
code=$(curl -s -o "$dir/page.html" -w '%{http_code} %{content_type}' "$url/")
check_eq "GET /: 200 HTML" "200 text/html; charset=utf-8" "$code"
check "no external asset (no src= or href=)" bash -c "! grep -Eq '(src|href)=' '$dir/page.html'"
check_eq "POST /: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/")"

mkdir -p "$artifacts"
chmod 755 "$dir"
# chromium refuses to run as root without --no-sandbox; a private profile per run
browse() {
	timeout 60 "$chromium" --headless=new --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$dir/chrome" "$@" 2>>"$dir/chrome.log"
}
browse --dump-dom "$url/" >"$dir/dom.html"
# dom_count PATTERN: how many lines of the DOM match the extended regex
dom_count() { grep -Ec -- "$1" "$dir/dom.html"; }
check "DOM: section of c1 with leader b" grep -Pzoq '(?s)data-cluster="c1".*?class="leader">b</b>' "$dir/dom.html"
check "DOM: section of c2 with leader x" grep -Pzoq '(?s)data-cluster="c2".*?class="leader">x</b>' "$dir/dom.html"
check "DOM: period of a (first writer)" test "$(dom_count 'class="period"[^>]*data-leader="a" data-reason="first writer"')" -ge 1
check "DOM: period of b (failover)" test "$(dom_count 'class="period"[^>]*data-leader="b" data-reason="failover"')" -ge 1
check "DOM: period of x (first writer)" test "$(dom_count 'class="period"[^>]*data-leader="x" data-reason="first writer"')" -ge 1
check_eq "DOM: replicas a, b, x listed" 3 "$(dom_count '<tr class="replica" data-replica="(a|b|x)"')"
check "DOM: the cluster without the replica label, escaped" grep -q 'data-cluster="v&quot;1\\x"' "$dir/dom.html"
browse --screenshot="$artifacts/status_page.png" --window-size=1100,900 "$url/" >/dev/null
if [ -s "$artifacts/status_page.png" ]; then
	ok "screenshot saved: $artifacts/status_page.png"
else
	failed "screenshot: $(tail -5 "$dir/chrome.log")"
fi

# 5. the counters' table is bounded: 4 entries so far (c1/a, c1/b, c2/x, v"1\x), 16 at
# most (max_tracked_replicas); 14 more clusters: 12 are counted, 2 updates overflow
for i in $(seq 1 14); do post "o$i" a $((100 + 3 * i)) >/dev/null; done
check_eq "cluster_stats holds max_tracked_replicas rows" 16 "$(q "SELECT count(*) FROM promscale_ha.cluster_stats")"
check_eq "the updates that found it full are counted" 2 "$(q "SELECT tracked_replicas_overflow FROM promscale_ha.stats")"
curl -s "http://127.0.0.1:$((http_base + 1))/metrics" >"$dir/m5"
check "... and exported" grep -q -x 'promscale_ha_tracked_replicas_overflow_total 2' "$dir/m5"

if [ "$failures" -gt 0 ]; then
	echo "----- server log (end) -----"
	tail -n 40 "$dir/log"
fi
echo "ha_watch: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
