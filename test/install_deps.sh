#!/bin/bash
#
# install_deps.sh - the Debian 12 packages promscale_ha needs to build, test and run.
#
# Sourced by test/run_tests.sh and src/tools/run_local.sh; defines functions only.
#
#   pha_install_deps    install every missing package (apt-get, as root); when all of
#                       them are present already, apt is not touched at all
#   pha_require_root    stop with a message unless running as root
#
# Installing postgresql-15 on Debian creates and starts a cluster "15/main" on port
# 5432, which is the port run_local.sh wants for its own cluster, and which nothing of
# ours uses.  So when this script is the one installing the server, it first tells
# postgresql-common not to create that cluster (createcluster.d/, see
# createcluster.conf(5)).  A server that was installed before is left as it is.

PHA_DEB_PACKAGES=(
	postgresql-15 postgresql-server-dev-15 libpq-dev
	libprotobuf-c-dev protobuf-c-compiler libsnappy-dev libmicrohttpd-dev
	libzstd-dev python3 python3-snappy make gcc curl
	chromium
)

# How long apt may take, in seconds, before we give up (a fresh machine needs ~2 min).
PHA_APT_TIMEOUT=${PHA_APT_TIMEOUT:-1200}

pha_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "$0: must run as root (sudo bash $0): it installs packages and the extension" >&2
		exit 1
	fi
}

# pha_missing_packages: print the packages of PHA_DEB_PACKAGES that are not installed.
pha_missing_packages() {
	local p status
	for p in "${PHA_DEB_PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		case "$status" in
		*" installed") ;;
		*) echo "$p" ;;
		esac
	done
}

pha_install_deps() {
	local missing
	missing=$(pha_missing_packages)
	if [ -z "$missing" ]; then
		echo "== packages: all present"
		return 0
	fi
	echo "== packages: installing ${missing//$'\n'/ }"
	if ! dpkg-query -W -f='${Status}' postgresql-15 2>/dev/null | grep -q ' installed$'; then
		mkdir -p /etc/postgresql-common/createcluster.d
		cat >/etc/postgresql-common/createcluster.d/50-promscale-ha.conf <<'EOF'
# Written by promscale_ha's test/install_deps.sh when it installed postgresql-15:
# no default cluster 15/main on port 5432 (run_local.sh makes its own cluster).
create_main_cluster = false
EOF
	fi
	export DEBIAN_FRONTEND=noninteractive
	timeout "$PHA_APT_TIMEOUT" apt-get update -q || {
		echo "$0: apt-get update failed" >&2
		return 1
	}
	# shellcheck disable=SC2086 # one word per package
	timeout "$PHA_APT_TIMEOUT" apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing || {
		echo "$0: apt-get install failed" >&2
		return 1
	}
	missing=$(pha_missing_packages)
	if [ -n "$missing" ]; then
		echo "$0: still missing after apt-get install: ${missing//$'\n'/ }" >&2
		return 1
	fi
}

# The PostgreSQL 15 programs (initdb, pg_ctl, psql, pg_config) are not on root's PATH
# on Debian; put them there for the caller.
pha_pg_bindir=/usr/lib/postgresql/15/bin
pha_use_pg15() {
	export PATH="$pha_pg_bindir:$PATH"
	export PG_CONFIG="$pha_pg_bindir/pg_config"
}
