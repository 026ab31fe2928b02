# shellcheck shell=bash
# lib.sh - shared pieces of the soak tests (test/soak/run.sh, test/soak/buffer_full.sh).
#
# Sourced, not run.  The including script sets, before calling anything here:
#   pgport      the PostgreSQL port (127.0.0.1)
#   tmp         its temporary directory (made by make_tmp)
#   test_name   a short name for messages
# and may extend pg_conf_extra (lines appended to postgresql.conf).
# Provides: ok/failed/check/fatal/note, elapsed, wait_until, start/stop by pid,
# pg_init/pg_start/pg_stop, sql, start_fe, the EXIT trap (cleanup) that stops
# every process started here by its pid and removes (or keeps) the directory.

# the PostgreSQL 15 whose pg_config is first on PATH (a private build), else Debian's
pgbin=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
[ -x "$pgbin/initdb" ] || pgbin=/usr/lib/postgresql/15/bin
pha_http=$pgbin/promscale-ha-http
pha_gen=$pgbin/promscale-ha-gen
python=/usr/bin/python3
start_time=$EPOCHREALTIME
tmp=
pg_running=false
pg_conf_extra=
# set by the including script
: "${test_name:?}" "${pgport:?}" "${failover_timeout:?}"

# ok, failed, check, fatal and the counters checks and failures
# shellcheck source=../lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"
# pids, start, stop, wait_until, note, elapsed, fle, port_free, as_pg
# shellcheck source=../lib/procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/procs.sh"

# wait_exit NAME SECONDS: wait for a background process to end by itself (bounded);
# its exit status, or 124 when it was still running (it is then stopped)
wait_exit() {
	local name=$1 limit=$2 pid=${pids[$1]:-} i rc
	[ -n "$pid" ] || return 0
	for ((i = 0; i < limit * 4; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.25
	done
	if kill -0 "$pid" 2>/dev/null; then
		stop "$name"
		return 124
	fi
	wait "$pid"
	rc=$?
	unset "pids[$name]"
	return $rc
}

cleanup() {
	local rc=$? name f
	trap - EXIT INT TERM
	# the simulated Prometheus first (it writes to the front ends), then the rest
	[ -n "${pids[sender]:-}" ] && stop sender
	for name in "${!pids[@]}"; do stop "$name"; done
	if $pg_running; then
		as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -m immediate -w -t 30 stop >/dev/null 2>&1
	fi
	if [ -n "$tmp" ] && [ -d "$tmp" ]; then
		if [ "$failures" -gt 0 ] || [ "$rc" -ne 0 ] || [ "${PHA_SOAK_KEEP:-0}" = 1 ]; then
			echo "   logs and data kept in $tmp"
			if [ "$failures" -gt 0 ]; then
				for f in "$tmp"/fe1.log "$tmp"/fe2.log "$tmp"/pg/postgresql.log; do
					[ -s "$f" ] || continue
					echo "   --- last lines of $f"
					tail -n 10 "$f" | sed 's/^/   | /'
				done
			fi
		else
			rm -rf "$tmp"
		fi
	fi
	echo "$test_name: $checks checks, $failures failed, $(elapsed) s"
	if [ "$failures" -gt 0 ] || [ "$rc" -ne 0 ]; then exit 1; fi
	exit 0
}

# preflight: root, the installed programs, Python with snappy, curl, free ports
preflight() {
	local p
	if [ "$(id -u)" -ne 0 ]; then
		echo "$0: run as root (PostgreSQL runs as the postgres user)" >&2
		exit 1
	fi
	for p in "$pha_http" "$pha_gen" "$pgbin/initdb"; do
		[ -x "$p" ] || { echo "$0: $p is missing (make install first)" >&2; exit 1; }
	done
	if ! command -v curl >/dev/null || ! "$python" -c 'import snappy' 2>/dev/null; then
		echo "   installing curl python3-snappy (apt-get)"
		DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends \
			curl python3-snappy >/dev/null 2>&1
		if ! command -v curl >/dev/null || ! "$python" -c 'import snappy' 2>/dev/null; then
			echo "$0: needs curl and $python with the snappy module" >&2
			exit 1
		fi
	fi
	for p in "$@"; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$0: port $p on 127.0.0.1 is in use (see the PHA_SOAK_* variables)" >&2
			exit 1
		fi
	done
}

make_tmp() {
	tmp=$(mktemp -d "/tmp/pha-$test_name.XXXXXX")
	chmod 755 "$tmp"
	mkdir "$tmp/pg"
	chown postgres: "$tmp/pg"
	note "temporary directory $tmp"
}

# sql QUERY: one psql call as the superuser; fields separated by one space
sql() {
	PGCONNECT_TIMEOUT=10 PGOPTIONS='-c statement_timeout=300s' "$pgbin/psql" -h 127.0.0.1 -p "$pgport" \
		-U postgres -d postgres -X -A -t -q -v ON_ERROR_STOP=1 -F ' ' -c "$1" 2>>"$tmp/psql.err"
}
# sql_script: a psql script on stdin (backslash commands allowed)
sql_script() {
	PGCONNECT_TIMEOUT=10 PGOPTIONS='-c statement_timeout=300s' "$pgbin/psql" -h 127.0.0.1 -p "$pgport" \
		-U postgres -d postgres -X -A -t -q -v ON_ERROR_STOP=1 -F ' ' -f - 2>>"$tmp/psql.err"
}

# pg_init: initdb and the configuration (failover_timeout from $failover_timeout)
pg_init() {
	as_pg "$pgbin/initdb" -D "$tmp/pg/data" -A trust -U postgres -E UTF8 --no-locale >"$tmp/initdb.log" 2>&1 ||
		fatal "initdb (see $tmp/initdb.log)"
	cat >>"$tmp/pg/data/postgresql.conf" <<EOF
# promscale_ha $test_name test
listen_addresses = '127.0.0.1'
port = $pgport
unix_socket_directories = '$tmp/pg'
shared_preload_libraries = 'promscale_ha'
promscale_ha.database = 'postgres'
promscale_ha.failover_timeout = '${failover_timeout}s'
max_connections = 50
log_line_prefix = '%m %n [%p] %b '
$pg_conf_extra
EOF
}
pg_start() {
	as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/postgresql.log" -w -t 60 start >/dev/null 2>&1
}
pg_stop() {
	as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -m fast -w -t 60 stop >/dev/null 2>&1
}
# pg_setup: start, CREATE EXTENSION, a login role that has only promscale_ha_writer
pg_setup() {
	pg_init
	pg_start || fatal "PostgreSQL starts (see $tmp/pg/postgresql.log)"
	pg_running=true
	sql "CREATE EXTENSION promscale_ha;
	     CREATE ROLE pha_http LOGIN;
	     GRANT promscale_ha_writer TO pha_http;" ||
		fatal "CREATE EXTENSION promscale_ha and a writer role (see $tmp/psql.err)"
	ok "PostgreSQL 15 on 127.0.0.1:$pgport with promscale_ha preloaded and created"
}

# start_fe N PORT [FLAGS...]: front end N on 127.0.0.1:PORT, logging in as pha_http
start_fe() {
	local n=$1 port=$2
	shift 2
	start "fe$n" "$tmp/fe$n.log" "$pha_http" --listen "127.0.0.1:$port" \
		--db "host=127.0.0.1 port=$pgport dbname=postgres user=pha_http" "$@"
}
http_code() {
	curl -s -o /dev/null -m 5 -w '%{http_code}' "$@"
}
healthz_is() { # healthz_is PORT CODE
	[ "$(http_code "http://127.0.0.1:$1/healthz")" = "$2" ]
}

# post PORT FILE: POST a remote-write body; prints "CODE OUTCOME RETRY_AFTER"
post() {
	curl -s -m 30 -o /dev/null -D - -X POST --data-binary "@$2" \
		-H 'Content-Type: application/x-protobuf' -H 'Content-Encoding: snappy' \
		-H 'X-Prometheus-Remote-Write-Version: 0.1.0' "http://127.0.0.1:$1/write" |
		tr -d '\r' | awk '
			/^HTTP\//                    { code = $2 }
			tolower($1) == "x-promscale-ha:" { outcome = $2 }
			tolower($1) == "retry-after:"    { ra = $2 }
			END { printf "%s %s %s\n", code ? code : "000", outcome ? outcome : "-", ra ? ra : "-" }'
}
