# pgserver.sh - a throw-away PostgreSQL 15 for the system tests that crash it
# (test/system/crash_restart.sh, compress_crash.sh).  Source it, then call
# pg_server_start PORT [CONF-LINE...]: initdb in a temp directory ($dir), a Unix socket
# there and no TCP, promscale_ha preloaded, the extra configuration lines, start, and
# CREATE EXTENSION.  The EXIT trap stops the server and removes the directory.
# Needs root, postgresql-15, promscale_ha and promscale-ha-gen installed.

pgbin=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
[ -x "$pgbin/initdb" ] || pgbin=/usr/lib/postgresql/15/bin
gen="$pgbin/promscale-ha-gen"
bg_pids=()
dir=
port=

as_pg() { runuser -u postgres -- "$@"; }
# q SQL: one statement on database postgres, unaligned, tuples only
q() { as_pg "$pgbin/psql" -X -At -q -h "$dir" -p "$port" -d postgres -v ON_ERROR_STOP=1 -c "$1"; }

# shellcheck disable=SC2317 # called by the EXIT trap
pg_server_cleanup() {
	local p
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	if [ -n "$dir" ] && [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$pgbin/pg_ctl" -D "$dir/data" stop -m immediate -w -t 30 >/dev/null 2>&1
	fi
	[ -n "$dir" ] && rm -rf "$dir"
}

# pg_server_start PORT [CONF-LINE...]: returns non-zero (log printed) if it cannot start
pg_server_start() {
	local line
	port=$1
	shift
	dir=$(mktemp -d /tmp/pha_server.XXXXXX)
	chown postgres: "$dir"
	trap pg_server_cleanup EXIT
	as_pg "$pgbin/initdb" -D "$dir/data" -A trust -U postgres --no-locale -E UTF8 >/dev/null ||
		return 1
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir'"
		echo "port = $port"
		echo "shared_preload_libraries = 'promscale_ha'"
		echo "promscale_ha.database = 'postgres'"
		echo "restart_after_crash = on"
		for line in "$@"; do echo "$line"; done
	} >>"$dir/data/postgresql.conf"
	if ! as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null; then
		cat "$dir/log"
		return 1
	fi
	q "CREATE EXTENSION promscale_ha"
}

# wait_until SECONDS SQL: poll until SQL returns "t"
wait_until() {
	local deadline=$((SECONDS + $1))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(q "$2" 2>/dev/null)" = "t" ] && return 0
		sleep 0.2
	done
	return 1
}

# crash_count: how many crash restarts the server log shows
crash_count() { grep -c "all server processes terminated; reinitializing" "$dir/log"; }

# crash_restarted N: more than N crash restarts, and the server answers again
crash_restarted() {
	local deadline=$((SECONDS + 60))
	while [ $SECONDS -lt $deadline ]; do
		if [ "$(crash_count)" -gt "$1" ] && [ "$(q 'SELECT true' 2>/dev/null)" = "t" ]; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}
