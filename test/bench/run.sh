#!/bin/bash
#
# run.sh - the benchmark of promscale_ha (issue 6), in one command:
#
#     sudo bash test/bench/run.sh [--quick] [--keep] [--no-build] [--out FILE]
#                                 [--no-storage | --storage-only]
#
# On a Debian 12 machine, from a checkout, as root:
#   1. installs the Debian packages it needs: the build dependencies
#      (test/install_deps.sh), and for the benchmark itself prometheus,
#      victoria-metrics and linux-perf; a package installed here is not allowed
#      to start its system service (a temporary policy-rc.d says no);
#   2. builds and installs the extension and promscale-ha-gen, tries to build
#      promscale-ha-http (the front-end and part of the peer sections are
#      reported "not available" when it does not build), and compiles the
#      benchmark clients test/bench/pha_bench.c and pha_query.c (SQL reads) into a
#      temporary directory;
#   3. runs test/bench/bench.py, which starts its own throw-away PostgreSQL 15,
#      front end, Prometheus and VictoriaMetrics on 127.0.0.1 and free ports in
#      that temporary directory, measures, stops every process it started by its
#      PID, and writes test/bench/RESULTS.md (or --out FILE).
#
#   --quick     fewer repetitions, no 1M-series step, a small storage data set: a
#               smoke test of ~6 min whose report goes to the temporary directory and
#               the terminal, not RESULTS.md
#   --keep      keep the temporary directory (logs, payloads, raw output)
#   --no-build  use the extension and programs already installed / built
#   --no-storage    leave out section 6, storage (test/bench/storage.py)
#   --storage-only  run only section 6 (storage.py with its own PostgreSQL, after the
#               build step): its section goes to the terminal and to --out FILE (default:
#               STORAGE.md in the temporary directory), never to RESULTS.md.  Also
#               runnable alone, once built: python3 test/bench/storage.py [--quick]
#
# Section 6 (storage.py) sends 12 h of node_exporter-like data from 30 instances
# (47M samples) to promscale_ha, Prometheus and VictoriaMetrics, and measures bytes
# per sample after compression, query times and compress_now()'s throughput.
#
# Every wait is bounded (timeouts on apt, make, and in bench.py on every start,
# query and request); traffic goes to 127.0.0.1 only.  A full run takes about
# 5 minutes on 2 cores without section 6, and 25-30 minutes with it (section 6 about
# 20 minutes, half of it write() ingesting the 47M samples), so 12 h rather than 24 h.
# Disk: section 6 needs ~25 GB free under /tmp at its peak (it checks before ingesting).

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/install_deps.sh
. "$root/test/install_deps.sh"

build=1
keep=0
storage_only=0
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) args+=(--quick) ;;
	--keep)
		keep=1
		args+=(--keep)
		;;
	--no-build) build=0 ;;
	--no-storage) args+=(--no-storage) ;;
	--storage-only) storage_only=1 ;;
	--out)
		shift
		args+=(--out "$(realpath -m "$1")")
		;;
	-h | --help)
		sed -n '3,43p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "usage: $0 [--quick] [--keep] [--no-build] [--out FILE] [--no-storage | --storage-only]" >&2
		exit 2
		;;
	esac
	shift
done

pha_require_root

# 1. Packages.
PHA_DEB_PACKAGES+=(prometheus victoria-metrics linux-perf)
missing=$(pha_missing_packages)
if [ -n "$missing" ]; then
	# Debian starts a package's service on install; ours must not run on the default
	# ports (prometheus would listen on 0.0.0.0:9090).  policy-rc.d exit 101 = "not now".
	policy=/usr/sbin/policy-rc.d
	made_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# written by promscale_ha test/bench/run.sh for one apt run\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=1
	fi
	rc=0
	pha_install_deps || rc=$?
	[ "$made_policy" = 1 ] && rm -f "$policy"
	[ "$rc" = 0 ] || exit "$rc"
fi
pha_use_pg15

# 2. Build.
work=$(mktemp -d /tmp/pha-bench.XXXXXX)
chmod 755 "$work"
cleanup() {
	if [ "$keep" = 1 ]; then
		echo "== kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

http_bin=""
if [ "$build" = 1 ]; then
	owner=$(stat -c %U "$root")
	as_owner=()
	[ "$owner" = root ] || as_owner=(runuser -u "$owner" -- env PATH="$PATH")
	echo "== build (as $owner) and install the extension and promscale-ha-gen"
	(cd "$root" && timeout 600 "${as_owner[@]}" make -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" \
		TOOLS=promscale-ha-gen HTTP_SRCS= all)
	(cd "$root" && timeout 300 make -s install PG_CONFIG="$PG_CONFIG" TOOLS=promscale-ha-gen HTTP_SRCS= >/dev/null)
	if ls "$root"/src/http/*.c >/dev/null 2>&1; then
		echo "== build promscale-ha-http"
		if (cd "$root" && timeout 600 "${as_owner[@]}" make -s PG_CONFIG="$PG_CONFIG" promscale-ha-http) \
			>"$work/http-build.log" 2>&1; then
			http_bin=$root/promscale-ha-http
		else
			echo "   promscale-ha-http did not build (see below): the front-end sections will say so"
			tail -n 5 "$work/http-build.log" | sed 's/^/   /'
		fi
	fi
else
	if [ -x "$root/promscale-ha-http" ]; then
		http_bin=$root/promscale-ha-http
	elif command -v promscale-ha-http >/dev/null 2>&1; then
		http_bin=$(command -v promscale-ha-http)
	fi
fi

echo "== compile the benchmark client"
gcc -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
	-I"$("$PG_CONFIG" --includedir)" -o "$work/pha-bench" "$root/test/bench/pha_bench.c" \
	-L"$("$PG_CONFIG" --libdir)" -lpq -lpthread
gcc -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-I"$("$PG_CONFIG" --includedir)" -o "$work/pha-query" "$root/test/bench/pha_query.c" \
	-L"$("$PG_CONFIG" --libdir)" -lpq

# 3. Measure.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
if [ "$storage_only" = 1 ]; then
	sargs=()
	for a in "${args[@]}"; do
		[ "$a" = --no-storage ] || sargs+=("$a")
	done
	PYTHONDONTWRITEBYTECODE=1 "$python" "$root/test/bench/storage.py" --work "$work" \
		--client "$work/pha-bench" --gen "$pha_pg_bindir/promscale-ha-gen" "${sargs[@]}"
	exit $?
fi
PYTHONDONTWRITEBYTECODE=1 "$python" "$root/test/bench/bench.py" --root "$root" --work "$work" \
	--client "$work/pha-bench" --gen "$pha_pg_bindir/promscale-ha-gen" \
	--http-bin "$http_bin" "${args[@]}"
