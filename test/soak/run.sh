#!/bin/bash
#
# run.sh - soak test of promscale_ha: several HA clusters under steady load for a
# bounded time, with a forced failover every minute and a PostgreSQL restart.
#
#   sudo bash test/soak/run.sh [SECONDS]       (as root, after `make install`; default 600)
#
# Starts, all on 127.0.0.1 and in one temporary directory:
#   - a throw-away PostgreSQL 15 (initdb as the postgres user; fsync and synchronous
#     commit left on) with shared_preload_libraries = 'promscale_ha',
#     promscale_ha.failover_timeout = 5s, promscale_ha.database = postgres, and the
#     extension created; the front ends log in as a role with only promscale_ha_writer;
#   - two promscale-ha-http front ends (pool of 4, 8 threads each);
#   - sender.py: 3 clusters x 2 replicas of simulated Prometheus, each scraping 500
#     counters every second (r1 at whole seconds, r2 300 ms later, real clock) and
#     remote-writing each scrape as one request to the front ends in turn, in order,
#     retrying 5xx and connection errors with backoff and never dropping a request
#     that was not acknowledged.  Every 60 s the leader of one cluster (c1, c2, c3,
#     c1, ...) dies for failover_timeout + 3 s (no scrape, no send), then comes back.
# Once, half-way between the two failovers around the middle of the run (at 330 s of
# 600), PostgreSQL is stopped (pg_ctl stop -m fast), held down 3 s, and started.
# Every 30 s it samples memory: RSS (and its private, anonymous part) of each front end,
# of the client backends (pg_stat_activity; sum and max), of the promscale_ha worker
# (and its peak, VmHWM), and the server's total (RSS and PSS of the postmaster and all
# its children); and it has the backends and the worker log their memory contexts.
#
# At the end it checks, one `ok: ...` or `FAILED: ...` line each:
#   1. no sender ever got a 4xx; 5xx and connection errors only around the restart;
#      every queue drained;
#   2. every acknowledged sample of a replica that led its sample time is stored (but
#      a new leader's first one less than half a second after the old leader's newest,
#      README HA rule 6); no two consecutive samples of a series less than 0.5 s or more
#      than 1.5 s apart (no gap and no doubled scrape, also across the restart and the
#      failovers); no (series, time) twice; no series with __replica__; every
#      stored sample comes from the replica leading its time (or fills in for it after
#      its last sample, README rule 5);
#   3. memory stable, the first third of the run against the last (limit: +20% or
#      +2 MB): the largest RSS of each front end; the backends' largest private
#      (anonymous) RSS (their full RSS also counts the shared buffers they touched,
#      which grows with the data: printed, not judged); the median of the memory-
#      context totals (pg_log_backend_memory_contexts, logged at every sample) of the
#      backends and of the worker (a takeover's replay is a transient of several MB:
#      the largest figures are printed, not judged, and so is the worker's RSS, which
#      keeps its high-water mark once glibc has it);
#   4. ha_leases_logs: the periods of each cluster tile sample time (-infinity ...
#      infinity, no overlap, no hole); one failover per forced death, to the other
#      replica, while it was dead; no other leader change during the run (the
#      restart causes none; a failover after the senders stopped is allowed: if a
#      follower's last request came after its leader's, README rule 4 applies).
# Every wait is bounded; every process started is stopped by its PID (EXIT trap).
# Environment: PHA_SOAK_PGPORT (default 18491), PHA_SOAK_PORT_BASE (default 19740:
# front ends on +1 and +2), PHA_SOAK_FAILOVER_EVERY (default 60 s),
# PHA_SOAK_MEM_EVERY (default 30 s), PHA_SOAK_RESTART=0 (no restart),
# PHA_SOAK_KEEP=1 keeps the temporary directory (always kept when a check failed).
# Exit status 0 when every check passed.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
test_name=soak
duration=${1:-600}
case $duration in
'' | *[!0-9]*) echo "usage: $0 [SECONDS] (whole seconds, at least 60)" >&2; exit 2 ;;
esac
[ "$duration" -ge 60 ] || { echo "$0: SECONDS must be at least 60" >&2; exit 2; }
pgport=${PHA_SOAK_PGPORT:-18491}
base=${PHA_SOAK_PORT_BASE:-19740}
fe_port=([1]=$((base + 1)) [2]=$((base + 2)))
failover_timeout=5
nclusters=3
nseries=500
death=$((failover_timeout + 3))
failover_every=${PHA_SOAK_FAILOVER_EVERY:-60}
mem_every=${PHA_SOAK_MEM_EVERY:-30}
drain=60
max_gap_ms=1500
# shellcheck source=test/soak/lib.sh
. "$here/lib.sh"
# the restart: half-way between the two failovers around the middle of the run
restart_at=$((duration / 2 / failover_every * failover_every + failover_every / 2))
[ $((restart_at + 30)) -le "$duration" ] && [ "${PHA_SOAK_RESTART:-1}" = 1 ] || restart_at=

trap cleanup EXIT
trap 'exit 130' INT TERM

preflight "$pgport" "${fe_port[1]}" "${fe_port[2]}"
make_tmp

# ---------------------------------------------------------------------------
# setup

pg_setup
start_fe 1 "${fe_port[1]}" --pool-size 4 --threads 8
start_fe 2 "${fe_port[2]}" --pool-size 4 --threads 8
both_healthz() {
	healthz_is "${fe_port[1]}" 200 && healthz_is "${fe_port[2]}" 200
}
check "both front ends (:${fe_port[1]}, :${fe_port[2]}) answer GET /healthz with 200" wait_until 15 both_healthz

# ---------------------------------------------------------------------------
# memory

# proc_mem PID...: "VmRSS RssAnon" in kB, one line per live pid
proc_mem() {
	local p
	for p in "$@"; do
		awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } END { if (r != "") print r, a }' \
			"/proc/$p/status" 2>/dev/null
	done
}
# mem_sample T: one line of mem.tsv (kB); skipped while the database does not answer
mem_sample() {
	local t=$1 fe1 fe2 be wk srv pm be_pids wk_pid p
	fe1=$(proc_mem "${pids[fe1]}")
	fe2=$(proc_mem "${pids[fe2]}")
	be_pids=$(sql "SELECT pid FROM pg_stat_activity
	               WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()") || return 1
	wk_pid=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'promscale_ha worker'") || return 1
	# each process also logs its memory contexts (the "Grand total" is read at the end)
	sql "SELECT pg_log_backend_memory_contexts(pid) FROM pg_stat_activity
	     WHERE backend_type IN ('client backend', 'promscale_ha worker') AND pid <> pg_backend_pid()" >/dev/null
	for p in $be_pids; do echo "backend $p"; done >>"$tmp/pids.tsv"
	[ -n "$wk_pid" ] && echo "worker $wk_pid" >>"$tmp/pids.tsv"
	# shellcheck disable=SC2086 # word splitting of the pid lists is meant
	be=$(proc_mem $be_pids | awk '{ n++; rs += $1; if ($1 > rm) rm = $1; as += $2; if ($2 > am) am = $2 }
	                              END { print n + 0, rs + 0, rm + 0, as + 0, am + 0 }')
	# shellcheck disable=SC2086
	wk=$(proc_mem $wk_pid | awk '{ a = $2 } END { print a + 0 }')
	# shellcheck disable=SC2086
	wk="$wk $(for p in $wk_pid; do awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null; done | tail -n 1)"
	pm=$(head -n 1 "$tmp/pg/data/postmaster.pid" 2>/dev/null) || return 1
	srv=$(for p in "$pm" $(ps -o pid= --ppid "$pm"); do
		awk '/^VmRSS:/ { print "rss", $2 }' "/proc/$p/status" 2>/dev/null
		awk '/^Pss:/ { print "pss", $2 }' "/proc/$p/smaps_rollup" 2>/dev/null
	done | awk '$1 == "rss" { r += $2 } $1 == "pss" { s += $2 } END { print r + 0, s + 0 }')
	echo "$t ${fe1:-0 0} ${fe2:-0 0} $be $wk $srv" >>"$tmp/mem.tsv"
	# shellcheck disable=SC2086
	set -- $fe1 $fe2 $be $wk $srv
	note "memory at ${t}s: front ends RSS ${1}/${3} kB (anon ${2}/${4}), $5 backends RSS sum ${6} max ${7} kB (anon sum ${8} max ${9}), worker anon ${10} kB (peak RSS ${11}), server RSS ${12} PSS ${13} kB"
}
echo "t fe1_rss fe1_anon fe2_rss fe2_anon n_backends be_rss_sum be_rss_max be_anon_sum be_anon_max worker_anon worker_hwm srv_rss srv_pss" >"$tmp/mem.tsv"

# ---------------------------------------------------------------------------
# the run

t0=$(awk -v a="$EPOCHREALTIME" 'BEGIN { printf "%.3f", a + 2 }')
start sender "$tmp/sender.log" "$python" "$here/sender.py" --out "$tmp" \
	--fe "127.0.0.1:${fe_port[1]},127.0.0.1:${fe_port[2]}" --t0 "$t0" --duration "$duration" \
	--clusters "$nclusters" --replicas 2 --series "$nseries" --failover-every "$failover_every" \
	--death "$death" --drain "$drain"
note "senders started: $nclusters clusters x 2 replicas x $nseries series, 1 request/s each, for $duration s;" \
	"a forced failover every $failover_every s; PostgreSQL restart at ${restart_at:-never} s"

# run_elapsed: seconds since t0
run_elapsed() {
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a }'
}
restart_pg() {
	local b s e
	note "PostgreSQL: pg_ctl stop -m fast"
	b=$EPOCHREALTIME
	pg_stop || failed "pg_ctl stop -m fast during the run (see $tmp/pg/postgresql.log)"
	s=$EPOCHREALTIME
	sleep 3
	pg_start || fatal "PostgreSQL starts again after the stop (see $tmp/pg/postgresql.log)"
	e=$EPOCHREALTIME
	echo "$b $s $e" >"$tmp/restart.tsv"
	note "PostgreSQL: stopped in $(awk -v a="$b" -v b="$s" 'BEGIN { printf "%.1f", b - a }') s, down 3 s, up again $(awk -v a="$b" -v b="$e" 'BEGIN { printf "%.1f", b - a }') s after the stop began"
}
next_mem=0
restarted=false
while :; do
	t=$(run_elapsed)
	[ "$t" -ge "$duration" ] && break
	if [ "$t" -lt $((duration - 5)) ] && ! kill -0 "${pids[sender]}" 2>/dev/null; then
		fatal "the sender ended early (see $tmp/sender.log)"
	fi
	if [ -n "$restart_at" ] && ! $restarted && [ "$t" -ge "$restart_at" ]; then
		restart_pg
		restarted=true
		continue
	fi
	if [ "$t" -ge "$next_mem" ]; then
		mem_sample "$next_mem" || note "memory at ${next_mem}s: not sampled (database not answering)"
		next_mem=$((next_mem + mem_every))
	fi
	sleep 0.5
done
[ "$next_mem" -le "$duration" ] && mem_sample "$duration"

note "run over; waiting for the senders to drain their queues (at most $((drain + 20)) s)"
wait_exit sender $((drain + 20))
rc=$?
if [ -n "$restart_at" ]; then
	read -r r_begin _ r_started <"$tmp/restart.tsv"
fi
grep -h 'death' "$tmp/sender.log" | sed 's/^/   sender: /'

# ---------------------------------------------------------------------------
# checks

echo "--- 1. the senders"
column -t "$tmp/summary.tsv" 2>/dev/null | sed 's/^/   /'
read -r n_scrapes n204 n202 n_att n4xx nunsent maxq maxdelay <<<"$(awk 'NR > 1 {
	s += $3; a += $4; b += $5; t += $6; f += $9; u += $11;
	if ($12 > q) q = $12; if ($13 > d) d = $13 }
	END { print s + 0, a + 0, b + 0, t + 0, f + 0, u + 0, q + 0, d + 0 }' "$tmp/summary.tsv" 2>/dev/null)"
if [ "$rc" = 0 ] && [ "${nunsent:-1}" = 0 ]; then
	ok "every sender drained its queue: $n_scrapes scrapes, all acknowledged ($n204 answered 204, $n202 answered 202) in $n_att attempts; longest queue $maxq, longest scrape-to-ack ${maxdelay} s"
else
	failed "the senders did not drain their queues (exit $rc, ${nunsent:-?} requests unsent; see $tmp/sender.log)"
fi
check "no sender ever got a 4xx (${n4xx:-?} did)" [ "${n4xx:-1}" = 0 ]
if [ -n "$restart_at" ]; then
	# the window: from the stop to 15 s after the start (backoff up to 2 s, pool reconnects)
	read -r in_w out_w <<<"$(awk -v b="$r_begin" -v e="$r_started" '
		$5 != "4xx" { if ($1 >= b - 1 && $1 <= e + 15) i++; else o++ }
		END { print i + 0, o + 0 }' "$tmp/errors.tsv")"
	kinds=$(awk -v b="$r_begin" -v e="$r_started" '$1 >= b - 1 && $1 <= e + 15 { k[$5 " " $6]++ }
		END { for (x in k) printf "%s%s: %d", (n++ ? ", " : ""), x, k[x] }' "$tmp/errors.tsv")
	last_err=$(awk -v b="$r_begin" '$1 >= b - 1 { if ($1 > m) m = $1 } END { printf "%.1f", m - b }' "$tmp/errors.tsv")
	check "5xx and connection errors only around the PostgreSQL restart: $in_w retried there (${kinds:-none}; the last ${last_err} s after the stop began), $out_w elsewhere" \
		[ "$out_w" = 0 ]
	check "the front ends answered 503 or refused while PostgreSQL was down (the senders saw $in_w errors)" [ "$in_w" -gt 0 ]
else
	nerr=$(awk '$5 != "4xx"' "$tmp/errors.tsv" | wc -l)
	check "no 5xx and no connection error ($nerr)" [ "$nerr" = 0 ]
fi
awk '{ print "   error: " $0 }' "$tmp/errors.tsv" | head -n 5

for f in 1 2; do
	curl -s -m 5 "http://127.0.0.1:${fe_port[$f]}/metrics" |
		awk -v f="$f" '/^promscale_ha_http_requests_total\{handler="write"/ { split($1, a, "code=\""); split(a[2], c, "\""); n[c[1]] += $2 }
			/^promscale_ha_http_db_errors_total/ { e = e " " $1 "=" $2 }
			END { printf "   front end %d /metrics: write requests by code:", f; for (k in n) printf " %s=%d", k, n[k]; print ";" (e ? " db errors:" e : " no db errors") }'
done

echo "--- 2. the data"
sql_script <<EOF >/dev/null || fatal "load the senders' logs into the database (see $tmp/psql.err)"
CREATE SCHEMA soak;
CREATE TABLE soak.acks (cluster text, replica text, t_ms bigint, status int, outcome text,
                        attempts int, first_try float8, acked float8, fe text);
\copy soak.acks FROM '$tmp/acks.tsv'
CREATE TABLE soak.deaths (kind text, cluster text, replica text, t_start float8, t_end float8);
\copy soak.deaths FROM '$tmp/events.tsv'
CREATE TABLE soak.ser AS
    SELECT id, labels->>'cluster' AS cluster, labels->>'instance' AS instance
    FROM promscale_ha.series WHERE metric_name LIKE 'soak\_counter\_%';
CREATE TABLE soak.x AS
    SELECT s.cluster, x.series_id, x.time, (extract(epoch FROM x.time) * 1000)::bigint AS t_ms
    FROM promscale_ha.samples x JOIN soak.ser s ON s.id = x.series_id;
CREATE INDEX ON soak.x (series_id, t_ms);
ANALYZE soak.acks, soak.deaths, soak.ser, soak.x;
EOF

v=$(sql "SELECT string_agg(cluster || '=' || n, ' ' ORDER BY cluster)
         FROM (SELECT cluster, count(*) AS n FROM soak.ser GROUP BY cluster) s")
want=$(for ((c = 1; c <= nclusters; c++)); do printf 'c%d=%d ' "$c" "$nseries"; done)
check "every cluster's $nseries series are stored, with their cluster label ($v)" [ "$v" = "${want% }" ]
v=$(sql "SELECT count(*) FROM promscale_ha.series WHERE labels ? '__replica__'")
check "no series carries __replica__ ($v do)" [ "$v" = 0 ]
v=$(sql "SELECT count(*) FROM (SELECT 1 FROM promscale_ha.samples
         GROUP BY series_id, time HAVING count(*) > 1) d")
check "no (series, time) is stored twice ($v are)" [ "$v" = 0 ]

read -r n_acks n_led n_bad n_missing n_samples <<<"$(sql "
	WITH a AS (SELECT cluster, replica, t_ms, 'epoch'::timestamptz + t_ms * interval '1 ms' AS t
	           FROM soak.acks),
	     led AS (SELECT a.* FROM a JOIN promscale_ha.ha_leases_logs l
	             ON l.cluster_name = a.cluster AND l.leader_name = a.replica
	            AND a.t >= l.lease_start AND a.t < l.lease_until
	            -- HA rule 6: at a takeover the new leader's first sample less than half
	            -- an interval (1 s here) after the old leader's newest is not stored
	            AND NOT (l.reason <> 'first writer' AND a.t < l.lease_start + interval '499 ms')),
	     have AS (SELECT cluster, t_ms, count(*) AS n FROM soak.x GROUP BY cluster, t_ms)
	SELECT (SELECT count(*) FROM a), count(*),
	       count(*) FILTER (WHERE coalesce(h.n, 0) <> $nseries),
	       coalesce(sum($nseries - coalesce(h.n, 0)), 0),
	       (SELECT count(*) FROM soak.x)
	FROM led LEFT JOIN have h ON h.cluster = led.cluster AND h.t_ms = led.t_ms")"
check "every acknowledged sample of a replica that led its sample time is stored: $n_led of $n_acks acknowledged requests were led ($((n_led * nseries)) samples), ${n_bad:-?} incomplete (${n_missing:-?} samples missing); $n_samples samples stored" \
	[ "${n_bad:-1}" = 0 ] && [ "${n_led:-0}" -gt 0 ]

read -r n_want n_holes <<<"$(sql "
	WITH r AS (SELECT cluster, min(t_ms) / 1000 + 1 AS lo, max(t_ms) / 1000 - 1 AS hi
	           FROM soak.acks GROUP BY cluster),
	     have AS (SELECT DISTINCT series_id, t_ms / 1000 AS b FROM soak.x),
	     want AS (SELECT s.id, b FROM soak.ser s JOIN r USING (cluster), generate_series(r.lo, r.hi) b)
	SELECT count(*), count(*) FILTER (WHERE h.series_id IS NULL)
	FROM want w LEFT JOIN have h ON h.series_id = w.id AND h.b = w.b")"
read -r n_gaps max_gap n_close <<<"$(sql "
	SELECT count(*) FILTER (WHERE g > $max_gap_ms), round(coalesce(max(g), -1) / 1000.0, 3),
	       count(*) FILTER (WHERE g < 500)
	FROM (SELECT t_ms - lag(t_ms) OVER (PARTITION BY series_id ORDER BY t_ms) AS g FROM soak.x) y")"
# a second may be empty across a takeover (spacing up to 1.5 s, HA rule 6): a hole is a
# missing scrape only when it comes with a gap over max_gap_ms, so the gaps decide
if [ "${n_gaps:-1}" = 0 ] && [ "${n_want:-0}" -gt 0 ] && [ "${n_close:-1}" = 0 ]; then
	ok "no missing or doubled scrape: $n_holes of $n_want series-seconds empty (a takeover may move a scrape by up to half a second), no two consecutive samples less than 0.5 s or more than $((max_gap_ms / 1000)).$((max_gap_ms % 1000 / 100)) s apart (largest gap $max_gap s), across the failovers and the restart"
else
	failed "missing or doubled scrapes: ${n_gaps:-?} gaps over $max_gap_ms ms (largest $max_gap s), ${n_close:-?} samples less than 0.5 s after the one before; ${n_holes:-?} of ${n_want:-?} series-seconds empty"
	sql "SELECT s.cluster, s.instance, to_char(to_timestamp(y.t_ms / 1000.0) AT TIME ZONE 'UTC', 'HH24:MI:SS.MS'), g
	     FROM (SELECT series_id, t_ms, t_ms - lag(t_ms) OVER (PARTITION BY series_id ORDER BY t_ms) AS g FROM soak.x) y
	     JOIN soak.ser s ON s.id = y.series_id WHERE g > $max_gap_ms ORDER BY y.t_ms LIMIT 10" |
		sed 's/^/   gap (cluster instance end ms): /'
fi

read -r n_x n_outside n_wrong n_fill <<<"$(sql "
	WITH p AS (SELECT cluster_name, leader_name, lease_start, lease_until,
	                  lead(leader_name) OVER (PARTITION BY cluster_name ORDER BY lease_start) AS nxt
	           FROM promscale_ha.ha_leases_logs),
	     y AS (SELECT x.series_id, x.time,
	                  CASE x.t_ms % 1000 WHEN 0 THEN 'r1' WHEN 300 THEN 'r2' ELSE '?' END AS r,
	                  p.leader_name AS l, p.nxt, p.lease_start
	           FROM soak.x x LEFT JOIN p ON p.cluster_name = x.cluster
	                                    AND x.time >= p.lease_start AND x.time < p.lease_until),
	     z AS (SELECT y.*, max(time) FILTER (WHERE r = l) OVER (PARTITION BY series_id, lease_start) AS last_l
	           FROM y)
	SELECT count(*), count(*) FILTER (WHERE l IS NULL),
	       count(*) FILTER (WHERE l IS NOT NULL AND r <> l
	                          AND NOT (r = nxt AND last_l IS NOT NULL AND time > last_l)),
	       count(*) FILTER (WHERE l IS NOT NULL AND r <> l AND r = nxt AND last_l IS NOT NULL AND time > last_l)
	FROM z")"
check "every stored sample comes from the replica that led its time: $n_x samples, $n_outside outside every period, $n_wrong from a non-leader ($n_fill fill-ins after the old leader's last sample of their series)" \
	[ "${n_outside:-1}" = 0 ] && [ "${n_wrong:-1}" = 0 ] && [ "${n_x:-0}" -gt 0 ]

echo "--- 3. memory"
# thirds NAME judged|info max|median: reads "T KB" lines; the largest (or the median)
# value of the first third of the run against that of the last third (limit: +20% or
# +2 MB).  Runs in this shell (input by redirection), so that failed counts.
thirds() {
	local name=$1 judged=$2 stat=$3 first last limit nfirst nlast desc
	read -r first last limit nfirst nlast <<<"$(awk -v d="$duration" -v stat="$stat" '
		function pick(a, n,   i, j, t) {
			if (n == 0) return 0
			if (stat == "max") { t = a[1]; for (i = 2; i <= n; i++) if (a[i] > t) t = a[i]; return t }
			for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
			return a[int((n + 1) / 2)]
		}
		$1 > 0 { if ($1 <= d / 3) F[++nf] = $2; else if ($1 > 2 * d / 3) L[++nl] = $2 }
		END { f = pick(F, nf); l = pick(L, nl); lim = f * 1.2; if (f + 2048 > lim) lim = f + 2048
		      printf "%d %d %d %d %d", f, l, lim, nf, nl }')"
	mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
	desc="$name: first third $stat $(mb "$first") MB, last third $stat $(mb "$last") MB ($nfirst and $nlast samples; limit $(mb "$limit") MB)"
	if [ "$judged" = judged ]; then
		if [ "$nfirst" -gt 0 ] && [ "$nlast" -gt 0 ] && [ "$last" -le "$limit" ]; then
			ok "memory stable, $desc"
		else
			failed "memory grew, $desc"
		fi
	else
		echo "   (not judged) $desc"
	fi
}
col() { # col N: "T value" of column N of mem.tsv
	awk -v c="$1" 'NR > 1 { print $1, $c }' "$tmp/mem.tsv"
}
# the memory contexts' "Grand total" logged by each process: "T kind pid bytes"
awk -v t0="$t0" 'NR == FNR { kind[$2] = $1; next }
	/Grand total: / { pid = $5; gsub(/[][]/, "", pid); if (!(pid in kind)) next
	                  for (i = 6; i < NF; i++) if ($i == "total:") { printf "%.1f %s %s %s\n", $4 - t0, kind[pid], pid, $(i + 1); break } }' \
	"$tmp/pids.tsv" "$tmp/pg/postgresql.log" >"$tmp/ctx.tsv"
ctx() { # ctx KIND: "T KB" of the processes of that kind
	awk -v k="$1" '$2 == k { print $1, $4 / 1024 }' "$tmp/ctx.tsv"
}
thirds "front end 1 RSS" judged max < <(col 2)
thirds "front end 2 RSS" judged max < <(col 4)
thirds "client backends' largest private (anonymous) RSS" judged max < <(col 10)
thirds "client backends' memory contexts (pg_log_backend_memory_contexts)" judged median < <(ctx backend)
thirds "promscale_ha worker's memory contexts" judged median < <(ctx worker)
thirds "client backends' memory contexts" info max < <(ctx backend)
thirds "promscale_ha worker's memory contexts" info max < <(ctx worker)
thirds "client backends' largest RSS (with the shared buffers it touched)" info max < <(col 8)
thirds "promscale_ha worker's private (anonymous) RSS" info max < <(col 11)
thirds "promscale_ha worker's peak RSS (VmHWM)" info max < <(col 12)
thirds "client backends' RSS sum" info max < <(col 7)
thirds "server total RSS" info max < <(col 13)
thirds "server total PSS" info max < <(col 14)
echo "   worker's private RSS / peak RSS, MB by second of the run: $(awk 'NR > 1 { printf "%s%d:%.1f/%.1f", (n++ ? " " : ""), $1, $11 / 1024, $12 / 1024 }' "$tmp/mem.tsv")"
echo "   worker's memory contexts, MB by second of the run: $(awk '$2 == "worker" { printf "%s%d:%.1f", (n++ ? " " : ""), $1, $4 / 1048576 }' "$tmp/ctx.tsv")"

echo "--- 4. the leases"
read -r n_periods n_bad_tile <<<"$(sql "
	WITH p AS (SELECT cluster_name, lease_start, lease_until,
	                  lag(lease_until) OVER w AS prev, row_number() OVER w AS i,
	                  count(*) OVER (PARTITION BY cluster_name) AS n
	           FROM promscale_ha.ha_leases_logs WINDOW w AS (PARTITION BY cluster_name ORDER BY lease_start))
	SELECT count(*), count(*) FILTER (WHERE (i = 1 AND lease_start <> '-infinity')
	                                     OR (i > 1 AND lease_start <> prev)
	                                     OR (i = n AND lease_until <> 'infinity')
	                                     OR lease_until <= lease_start)
	FROM p")"
check "the lease periods of each cluster tile sample time from -infinity to infinity, no overlap, no hole ($n_periods periods, $n_bad_tile wrong)" \
	[ "${n_bad_tile:-1}" = 0 ] && [ "${n_periods:-0}" -gt 0 ]
sql "SELECT format('   period: %s led by %s (%s) from sample time %s, changed at %s%s',
                   l.cluster_name, l.leader_name, l.reason,
                   CASE WHEN l.lease_start = '-infinity' THEN '-infinity'
                        ELSE to_char(l.lease_start AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') END,
                   to_char(l.changed_at AT TIME ZONE 'UTC', 'HH24:MI:SS.MS'),
                   CASE WHEN d.t_start IS NULL THEN ''
                        ELSE format(', %s s after %s died', round((extract(epoch FROM l.changed_at) - d.t_start)::numeric, 1), d.replica) END)
     FROM promscale_ha.ha_leases_logs l
     LEFT JOIN soak.deaths d ON d.cluster = l.cluster_name AND d.replica <> l.leader_name
      AND extract(epoch FROM l.changed_at) BETWEEN d.t_start AND d.t_end + 2
     ORDER BY l.changed_at"
run_end=$(awk -v a="$t0" -v d="$duration" 'BEGIN { printf "%.3f", a + d + 1 }')
read -r n_deaths n_matched n_failover n_forced n_first n_after <<<"$(sql "
	SELECT (SELECT count(*) FROM soak.deaths),
	       (SELECT count(*) FROM soak.deaths d WHERE (
	            SELECT count(*) FROM promscale_ha.ha_leases_logs l
	            WHERE l.cluster_name = d.cluster AND l.reason = 'failover' AND l.leader_name <> d.replica
	              AND extract(epoch FROM l.changed_at) BETWEEN d.t_start AND d.t_end + 2) = 1),
	       count(*) FILTER (WHERE reason = 'failover' AND extract(epoch FROM changed_at) < $run_end),
	       count(*) FILTER (WHERE reason = 'forced'),
	       count(*) FILTER (WHERE reason = 'first writer'),
	       count(*) FILTER (WHERE extract(epoch FROM changed_at) >= $run_end)
	FROM promscale_ha.ha_leases_logs")"
check "every forced death caused exactly one failover to the other replica while it was dead ($n_matched of $n_deaths deaths)" \
	[ "${n_deaths:-0}" -gt 0 ] && [ "$n_matched" = "$n_deaths" ]
check "no other leader change during the run: $n_failover failovers for $n_deaths deaths, $n_forced forced, $n_first first writers for $nclusters clusters${restart_at:+ (the restart caused none)}" \
	[ "$n_failover" = "$n_deaths" ] && [ "$n_forced" = 0 ] && [ "$n_first" = "$nclusters" ]
[ "${n_after:-0}" = 0 ] ||
	echo "   (after the run: $n_after failover(s) of a cluster whose follower's last request came after its leader's last one, as README rule 4 says)"

echo "--- logs"
grep -E ' (ERROR|PANIC|FATAL|WARNING): ' "$tmp/pg/postgresql.log" | sed -E 's/^[0-9-]+ [0-9:.]+ [A-Z]+ [0-9.]+ \[[0-9]+\] //' |
	sed -E 's/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -n 10 | sed 's/^/   postgresql.log: /'
v=$(grep -cE ' (ERROR|PANIC): ' "$tmp/pg/postgresql.log")
check "no ERROR or PANIC in the PostgreSQL log ($v)" [ "$v" = 0 ]
for f in 1 2; do
	n=$(wc -l <"$tmp/fe$f.log")
	echo "   front end $f log: $n lines"
	sed -E 's/^[^ ]+ //; s/[0-9]+/N/g' "$tmp/fe$f.log" | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/   | /'
done
