#!/bin/bash
#
# http_status.sh - every status code of promscale-ha-http's POST /write, as the
# remote-write spec asks: 204 stored, 202 de-duplicated, 400 can never be stored,
# 413 over a limit, 415 wrong content type, 405 wrong method, 503 + Retry-After when the
# database is down (and /healthz 200 / 503).
#
# Starts its own PostgreSQL 15 (temp directory, Unix socket only) and one front end on
# 127.0.0.1; stops both by PID at the end.  Prints ok:/FAILED: lines; exit 1 on a failure.
# Needs: root, postgresql-15, curl, promscale_ha and its programs installed (make install).

set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"

pgbin=/usr/lib/postgresql/15/bin
gen=$pgbin/promscale-ha-gen
port=55494
http_port=${PHA_STATUS_PORT:-19811}
dir=$(mktemp -d /tmp/pha_status.XXXXXX)
chown postgres: "$dir"
fe_pid=

as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
	[ -n "$fe_pid" ] && kill "$fe_pid" 2>/dev/null && wait "$fe_pid" 2>/dev/null
	[ -f "$dir/data/postmaster.pid" ] &&
		as_pg "$pgbin/pg_ctl" -D "$dir/data" stop -m immediate -w -t 30 >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT

command -v curl >/dev/null || DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq curl >/dev/null
as_pg "$pgbin/initdb" -D "$dir/data" -A trust -U postgres --no-locale -E UTF8 >/dev/null || fatal "initdb"
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
shared_preload_libraries = 'promscale_ha'
CONF
as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null || fatal "server start"
as_pg "$pgbin/psql" -X -q -h "$dir" -p "$port" -d postgres -c "CREATE EXTENSION promscale_ha" || fatal "CREATE EXTENSION"

# started directly (not through runuser) so that fe_pid is the front end itself
"$pgbin/promscale-ha-http" --listen "127.0.0.1:$http_port" --max-body 100000 \
	--db "host=$dir port=$port dbname=postgres user=postgres" >"$dir/fe.log" 2>&1 &
fe_pid=$!
url=http://127.0.0.1:$http_port
for _ in $(seq 1 50); do
	curl -s -o /dev/null "$url/healthz" && break
	sleep 0.1
done

"$gen" --series 5 --cluster s1 --replica a -o "$dir/a.bin"
"$gen" --series 5 --cluster s1 --replica b --start-ms 1767225600500 -o "$dir/b.bin"
"$gen" --series 5000 -o "$dir/big.bin"                 # over --max-body 100000
"$gen" --case bad-label-name -o "$dir/bad.bin"
"$gen" --case huge-header -o "$dir/huge.bin"             # over max_payload_bytes
printf 'this is not snappy' >"$dir/garbage.bin"

# post FILE [CONTENT-TYPE]: the status code, and the X-Promscale-HA / Retry-After headers
post() {
	curl -s -o /dev/null -D "$dir/headers" -w '%{http_code}' -X POST \
		-H "Content-Type: ${2:-application/x-protobuf}" -H 'Content-Encoding: snappy' \
		-H 'X-Prometheus-Remote-Write-Version: 0.1.0' --data-binary "@$1" "$url/write"
}
header() { grep -i "^$1:" "$dir/headers" | tr -d '\r' | cut -d' ' -f2; }

check_eq "GET /healthz with the database up" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")"
check_eq "the first replica's request is stored" 204 "$(post "$dir/a.bin")"
check_eq "... with X-Promscale-HA: stored" stored "$(header X-Promscale-HA)"
check_eq "the other replica's request is de-duplicated" 202 "$(post "$dir/b.bin")"
check_eq "... with X-Promscale-HA: deduplicated" deduplicated "$(header X-Promscale-HA)"
check_eq "a payload that is not snappy: 400" 400 "$(post "$dir/garbage.bin")"
check_eq "an invalid label name (SQLSTATE class 22): 400" 400 "$(post "$dir/bad.bin")"
check_eq "a body over --max-body: 413" 413 "$(post "$dir/big.bin")"
check_eq "a payload over promscale_ha.max_payload_bytes (54000): 413" 413 "$(post "$dir/huge.bin")"
check_eq "a wrong Content-Type: 415" 415 "$(post "$dir/a.bin" text/plain)"
check_eq "GET /write: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' "$url/write")"
check_eq "/api/v1/write works too" 204 "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	-H 'Content-Type: application/x-protobuf' -H 'Content-Encoding: snappy' \
	--data-binary "@$dir/a.bin" "$url/api/v1/write")"

as_pg "$pgbin/pg_ctl" -D "$dir/data" stop -m fast -w -t 60 >/dev/null
check_eq "database down: POST /write is 503" 503 "$(post "$dir/a.bin")"
check "... with a Retry-After header" test -n "$(header Retry-After)"
check_eq "database down: GET /healthz is 503" 503 "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")"
as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null
code=
for _ in $(seq 1 50); do
	code=$(post "$dir/a.bin")
	[ "$code" = 204 ] && break
	sleep 0.2
done
check_eq "database back: the retried request is stored again (already stored, 204)" 204 "$code"
check "the front end is still running" kill -0 "$fe_pid"

echo "http_status: $checks checks, $failures failed"
[ "$failures" -eq 0 ] || { echo "--- front end log ---"; tail -n 20 "$dir/fe.log"; }
exit $((failures > 0))
