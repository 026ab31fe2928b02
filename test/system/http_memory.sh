#!/bin/bash
#
# http_memory.sh - the front end, a long-lived process, keeps flat memory: after a
# warm-up of 200 requests, 1,000 more (stored, de-duplicated, rejected as invalid, and
# over the body limit) must not grow its resident memory by more than 2 MB.
#
# Starts its own PostgreSQL 15 (test/lib/pgserver.sh) and promscale-ha-http on
# 127.0.0.1; prints ok/FAILED lines and "http_memory: N checks, M failed"; exits 1 on
# a failure.  Needs root, curl, promscale_ha and its programs installed (make install).

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/lib/checks.sh
. "$here/../lib/checks.sh"
# shellcheck source=test/lib/pgserver.sh
. "$here/../lib/pgserver.sh"

http_port=19613
fe_pid=
command -v curl >/dev/null || DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq curl >/dev/null
pg_server_start 55613 || fatal "server start"
trap '[ -n "$fe_pid" ] && kill "$fe_pid" 2>/dev/null; pg_server_cleanup' EXIT

"$pgbin/promscale-ha-http" --listen "127.0.0.1:$http_port" --max-body 100000 \
	--db "host=$dir port=$port dbname=postgres user=postgres" >"$dir/fe.log" 2>&1 &
fe_pid=$!
url=http://127.0.0.1:$http_port
for _ in $(seq 1 50); do
	curl -s -o /dev/null "$url/healthz" && break
	sleep 0.1
done

for i in 0 1 2 3 4 5 6 7 8 9; do
	"$gen" --series 20 --cluster m1 --replica a --start-ms $((1767225600000 + i * 15000)) -o "$dir/a$i.bin"
	"$gen" --series 20 --cluster m1 --replica b --start-ms $((1767225600500 + i * 15000)) -o "$dir/b$i.bin"
done
"$gen" --case bad-label-name -o "$dir/bad.bin"
"$gen" --series 5000 -o "$dir/big.bin"

# round N: N requests cycling through the kinds; counts the status codes seen
round() {
	local k
	for k in $(seq 1 "$1"); do
		case $((k % 4)) in
		0) f="$dir/a$((k % 10)).bin" ;;
		1) f="$dir/b$((k % 10)).bin" ;;
		2) f="$dir/bad.bin" ;;
		3) f="$dir/big.bin" ;;
		esac
		curl -s -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/x-protobuf' \
			-H 'Content-Encoding: snappy' --data-binary "@$f" "$url/write"
	done
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$fe_pid/status"; }

# (a body over the limit may see the connection closed before its 413 is read: not counted)
codes=$(round 200 | grep -E '^(204|202|400)$' | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')
check_eq "warm-up: 204, 202 and 400 answered" "202:50 204:50 400:50 " "$codes"
before=$(rss_kb)
round 1000 >/dev/null
after=$(rss_kb)
echo "front end RSS: $before kB after the warm-up, $after kB after 1,000 more requests"
check "resident memory flat (grew $((after - before)) kB, at most 2048)" [ $((after - before)) -le 2048 ]
check "the front end is still running" kill -0 "$fe_pid"

echo "http_memory: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
