#!/bin/bash
#
# run_local.sh - the run command of promscale_ha:  sudo bash src/tools/run_local.sh
#
# On a Debian 12 machine, from a checkout, as root:
#   1. installs the Debian packages it needs (test/install_deps.sh; apt is skipped when
#      they are all present),
#   2. builds (as the owner of the checkout) and installs the extension and programs,
#   3. makes a PostgreSQL 15 cluster in .run/pgdata of the checkout, owned by the
#      `postgres` user, listening on 127.0.0.1 port $PGPORT (default 5432), with
#      shared_preload_libraries = 'promscale_ha' and promscale_ha.database = 'postgres';
#      starts it, or reuses it when it is running already (restarting it when its
#      settings changed),
#   4. runs CREATE EXTENSION IF NOT EXISTS promscale_ha (and ALTER EXTENSION ... UPDATE)
#      in database postgres, and prints how to connect and how to stop,
#   5. when the HTTP front end promscale-ha-http is installed, runs it in the foreground
#      on 127.0.0.1:9201 against that database (Ctrl-C stops it; the database keeps
#      running); otherwise says so and exits 0, leaving the database running.
#
#   sudo bash src/tools/run_local.sh stop     stops the cluster
#
# The cluster is for local development: it trusts every connection to 127.0.0.1 and its
# socket, so it listens nowhere else.  When the postgres user cannot reach the checkout
# (a home directory of mode 0700), the data directory lives in
# /var/lib/postgresql/promscale_ha/ instead, and .run/pgdata is a symlink to it.

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/install_deps.sh
. "$root/test/install_deps.sh"
cd /	# every path below is absolute; the postgres user may not be able to enter $root

port=${PGPORT:-5432}
http_listen=127.0.0.1:9201
pg_user=postgres
rundir=$root/.run
logfile=$rundir/postgresql.log

pha_require_root
case "${1:-start}" in
start | stop) ;;
*)
	echo "usage: $0 [start|stop]" >&2
	exit 2
	;;
esac
if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
	echo "$0: PGPORT=$port is not a port number" >&2
	exit 2
fi

# as_pg CMD...: run CMD as the postgres user.
as_pg() {
	runuser -u "$pg_user" -- "$@"
}

# The data directory: .run/pgdata, or a directory of postgres's own that it links to.
mkdir -p "$rundir"
if runuser -u "$pg_user" -- test -x "$rundir"; then
	pgdata=$rundir/pgdata
	if [ -L "$pgdata" ]; then
		pgdata=$(readlink -f "$pgdata")
	fi
else
	pgdata=/var/lib/postgresql/promscale_ha/$(basename "$root")-$(echo -n "$root" | md5sum | cut -c1-8)/pgdata
	if [ ! -L "$rundir/pgdata" ]; then
		ln -sfn "$pgdata" "$rundir/pgdata"
	fi
	logfile=$(dirname "$pgdata")/postgresql.log
	echo "note: user $pg_user cannot enter $root, so the data directory is $pgdata"
	echo "      (.run/pgdata links to it)"
fi
pg_ctl=$pha_pg_bindir/pg_ctl

# running: is the cluster in $pgdata up?
running() {
	[ -f "$pgdata/postmaster.pid" ] && as_pg "$pg_ctl" -D "$pgdata" status >/dev/null 2>&1
}

if [ "${1:-start}" = stop ]; then
	if running; then
		as_pg "$pg_ctl" -D "$pgdata" stop -m fast -w -t 60
	else
		echo "no cluster running in $pgdata"
	fi
	exit 0
fi

# 1, 2: packages, build, install.
pha_install_deps
pha_use_pg15
owner=$(stat -c %U "$root")
echo "== build (as $owner)"
if [ "$owner" = root ]; then
	(cd "$root" && timeout 600 make -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG")
else
	(cd "$root" && timeout 600 runuser -u "$owner" -- env PATH="$PATH" make -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG")
fi
echo "== install"
(cd "$root" && timeout 300 make install PG_CONFIG="$PG_CONFIG" >/dev/null)

# 3. The cluster.
if [ ! -f "$pgdata/PG_VERSION" ]; then
	echo "== initdb $pgdata"
	mkdir -p "$pgdata"
	chown "$pg_user:" "$pgdata"
	[ "$pgdata" = "$rundir/pgdata" ] || chown "$pg_user:" "$(dirname "$pgdata")"
	chmod 700 "$pgdata"
	as_pg "$pha_pg_bindir/initdb" -D "$pgdata" -U postgres -E UTF8 --locale=C.UTF-8 \
		--auth=trust >/dev/null
	echo "include_if_exists = 'promscale_ha.conf'	# written by src/tools/run_local.sh" \
		>>"$pgdata/postgresql.conf"
fi
chown "$owner:" "$rundir"
[ -e "$logfile" ] || { touch "$logfile" && chown "$pg_user:" "$logfile"; }

# Our settings, in a file of their own that each run rewrites.
conf=$(
	cat <<EOF
# Written by src/tools/run_local.sh on every run; edit postgresql.conf for other settings.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '/var/run/postgresql'
shared_preload_libraries = 'promscale_ha'
promscale_ha.database = 'postgres'
EOF
)
mkdir -p /var/run/postgresql
chown "$pg_user:" /var/run/postgresql
restart=0
if [ "$(cat "$pgdata/promscale_ha.conf" 2>/dev/null || true)" != "$conf" ]; then
	printf '%s\n' "$conf" >"$pgdata/promscale_ha.conf"
	chown "$pg_user:" "$pgdata/promscale_ha.conf"
	restart=1
fi
# A library changed since the server started is loaded only by a new postmaster: the
# checksum of the one it started with is kept beside the log.
lib=$("$PG_CONFIG" --pkglibdir)/promscale_ha.so
libsum_file=$(dirname "$logfile")/.promscale_ha.so.sha256
libsum=$(sha256sum "$lib" | cut -d' ' -f1)
if running && [ "$(cat "$libsum_file" 2>/dev/null || true)" != "$libsum" ]; then
	restart=1
fi

if running; then
	if [ "$restart" = 1 ]; then
		echo "== restarting the cluster (settings or library changed)"
		as_pg "$pg_ctl" -D "$pgdata" stop -m fast -w -t 60 >/dev/null
	else
		echo "== reusing the running cluster in $pgdata"
	fi
fi
if ! running; then
	# Someone else on the port (Debian's own cluster, another run_local.sh)?
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "$0: port $port on 127.0.0.1 is taken by another server; choose another one:" >&2
		echo "    sudo PGPORT=$((port + 1)) bash $0" >&2
		exit 1
	fi
	echo "== starting the cluster on 127.0.0.1:$port (log: $logfile)"
	if ! as_pg "$pg_ctl" -D "$pgdata" -l "$logfile" -w -t 60 start >/dev/null; then
		echo "$0: the server did not start; the end of $logfile:" >&2
		tail -n 20 "$logfile" >&2
		exit 1
	fi
	echo "$libsum" >"$libsum_file"
fi

# 4. The extension.
export PGCONNECT_TIMEOUT=10
psql_cmd=("$pha_pg_bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres)
as_pg "${psql_cmd[@]}" -c 'SET client_min_messages = warning' \
	-c 'CREATE EXTENSION IF NOT EXISTS promscale_ha' -c 'ALTER EXTENSION promscale_ha UPDATE'
version=$(as_pg "${psql_cmd[@]}" -At -c "SELECT extversion FROM pg_extension WHERE extname = 'promscale_ha'")

conninfo="postgresql://postgres@127.0.0.1:$port/postgres"
cat <<EOF

promscale_ha $version is ready in database postgres on 127.0.0.1:$port (data: $pgdata).
  connect:  psql "$conninfo"
  try:      psql "$conninfo" -c "SELECT * FROM promscale_ha.write('\$($pha_pg_bindir/promscale-ha-gen --hex)')"
  stop:     sudo bash $root/src/tools/run_local.sh stop
            (or: sudo runuser -u postgres -- $pg_ctl -D $pgdata stop)
EOF

# 5. The HTTP front end, when there is one.
if ! command -v promscale-ha-http >/dev/null 2>&1; then
	echo
	echo "The HTTP front end (promscale-ha-http) is not built yet: until it is, remote-write"
	echo "bodies reach the database through promscale_ha.write(). The database keeps running."
	exit 0
fi
cat <<EOF

Starting promscale-ha-http on $http_listen (Ctrl-C stops it; the database keeps running).
Point Prometheus at it (prometheus.yml):

remote_write:
  - url: http://$http_listen/write
global:
  external_labels:
    cluster: my-cluster      # the same on every replica of one HA pair
    __replica__: replica-1   # different on each replica

and, for PromQL over the stored data, a Prometheus with no scrape jobs and no
external labels (Grafana uses it as an ordinary Prometheus data source):

remote_read:
  - url: http://$http_listen/api/v1/read
    read_recent: true

EOF
exec runuser -u "$pg_user" -- "$(command -v promscale-ha-http)" --listen "$http_listen" --db "$conninfo"
