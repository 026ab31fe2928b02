#!/bin/bash
#
# run_tests.sh - the test command of promscale_ha:  sudo bash test/run_tests.sh
#
# On a Debian 12 machine, from a checkout, as root:
#   1. installs the Debian packages it needs (test/install_deps.sh; apt is skipped when
#      they are all present),
#   2. copies the checkout to a scratch directory owned by the `postgres` user (initdb
#      refuses root, and the checkout may live where postgres cannot read), builds
#      there as postgres and installs as root (`make install`), and checks the
#      include layers of src/ (test/lint/layers.py),
#   3. runs, as postgres, the pg_regress suite (test/sql) and the isolation suite
#      (test/specs) with `make installcheck`: each starts its own throw-away cluster
#      (--temp-instance in the Makefile), so no server needs to be running,
#   4. runs the system tests (test/system/*.sh, test/e2e/run.sh): scripts that start
#      their own servers to crash them, or to run real Prometheus and haproxy,
#   5. runs the chunk codecs' unit tests (test/codec), fuzzes the decoder, the label
#      scan and the codecs for 60 s and replays every saved finding,
#   6. checks that the fixtures in test/data are byte-identical to what the generator
#      makes now (test/make_fixtures.sh into a scratch directory).
# On a failure it prints the diffs.  Its last line is `N passed, N failed`, counting the
# tests of both suites and the fixture check; the exit status is 0 only when nothing
# failed.  Every step has a time limit.  The checkout itself is not written to.
#
# Environment: PHA_KEEP_WORKDIR=1 keeps the scratch directory (its path is printed).

set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/install_deps.sh
. "$root/test/install_deps.sh"

# Time limits of the steps, in seconds.
T_BUILD=600
T_INSTALL=300
T_REGRESS=1800
T_ISOLATION=900
T_FIXTURES=300
T_SYSTEM=900

passed=0
failed=0
work=
pg_user=postgres

# The temp clusters of the suites, stopped here in case a step was cut off by its
# time limit (pg_regress stops them itself when it ends normally).
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local d
	[ -n "$work" ] || return 0
	for d in "$work/src/tmp_check/data" "$work/src/tmp_check_iso/data"; do
		if [ -f "$d/postmaster.pid" ]; then
			runuser -u "$pg_user" -- "$pha_pg_bindir/pg_ctl" -D "$d" stop -m immediate -w -t 30 \
				>/dev/null 2>&1 || true
		fi
	done
	if [ "${PHA_KEEP_WORKDIR:-0}" = 1 ]; then
		echo "scratch directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# summary_and_exit: the closing line, and the exit status that goes with it.
summary_and_exit() {
	echo
	echo "$passed passed, $failed failed"
	if [ "$failed" -eq 0 ]; then
		exit 0
	fi
	exit 1
}

# show FILE...: print each file that exists, under a header.
show() {
	local f
	for f in "$@"; do
		if [ -s "$f" ]; then
			echo "----- ${f#"$work/src/"} -----"
			cat "$f"
		fi
	done
}

# count_suite LOG RC NAME: add the suite's tests to the totals: "... ok" lines pass,
# every other test line ("... FAILED", "... diff: ..." when an expected file is missing)
# fails; a suite that failed without naming a failed test (initdb, server start) counts
# as one failure.
count_suite() {
	local log=$1 rc=$2 name=$3 all ok bad
	all=$(grep -cE '^(test +)?[[:space:]]*[A-Za-z0-9_]+ +\.\.\. ' "$log" || true)
	ok=$(grep -cE '^(test +)?[[:space:]]*[A-Za-z0-9_]+ +\.\.\. ok( |$)' "$log" || true)
	bad=$((all - ok))
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		echo "$name: failed before or after its tests (exit status $rc)"
		bad=1
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
}

# 1. Packages.
pha_require_root
if ! pha_install_deps; then
	failed=$((failed + 1))
	summary_and_exit
fi
pha_use_pg15
# "${as_pg[@]}" CMD...: run CMD as the postgres user with PostgreSQL 15 first on PATH
# (an array, not a function, so that timeout(1) can run it).
as_pg=(runuser -u "$pg_user" -- env PATH="$PATH" PG_CONFIG="$PG_CONFIG" LC_ALL=C.UTF-8)
id "$pg_user" >/dev/null 2>&1 || {
	echo "$0: no user $pg_user (it comes with the postgresql-15 package)" >&2
	exit 1
}

# 2. A private copy of the checkout, without build products, owned by postgres.
work=$(mktemp -d /tmp/promscale_ha_test.XXXXXX)
mkdir "$work/src" "$work/fixtures"
tar -C "$root" -cf - --exclude-vcs \
	--exclude=./.run --exclude=./results --exclude=./output_iso --exclude=./log \
	--exclude=./tmp_check --exclude=./tmp_check_iso --exclude=./regression.diffs \
	--exclude=./regression.out --exclude=./src/gen --exclude='*.o' --exclude='*.so' \
	--exclude='*.bc' --exclude='*.d' \
	--exclude=./promscale-ha-gen --exclude=./promscale-ha-http --exclude=./bench/out . |
	tar -C "$work/src" -xf - || {
	echo "$0: could not copy $root to $work/src" >&2
	exit 1
}
chown -R "$pg_user:" "$work"
chmod 755 "$work"
cd "$work/src" || exit 1

echo "== build ($work/src)"
if ! timeout "$T_BUILD" "${as_pg[@]}" make -s -j"$(nproc)"; then
	echo "build failed"
	failed=$((failed + 1))
	summary_and_exit
fi
echo "== install"
if ! timeout "$T_INSTALL" make -s install PG_CONFIG="$PG_CONFIG"; then
	echo "make install failed"
	failed=$((failed + 1))
	summary_and_exit
fi

# 2b. The source layout: includes go down the layers, no circle, wire/ and codec/ plain C.
echo "== layers (test/lint/layers.py)"
if python3 test/lint/layers.py src; then
	echo "test layers ... ok"
	passed=$((passed + 1))
else
	echo "test layers ... FAILED"
	failed=$((failed + 1))
fi

# 3. The suites, one make each so both run even when the first fails and each keeps its
# own diffs (both write regression.diffs in the same directory: --outputdir=.).
# --no-locale --encoding=UTF8: the same collation and encoding on every machine.
pg_opts="--no-locale --encoding=UTF8"

echo "== pg_regress suite (test/sql)"
timeout "$T_REGRESS" "${as_pg[@]}" make installcheck ISOLATION= EXTRA_REGRESS_OPTS="$pg_opts" 2>&1 | tee "$work/regress.log"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 124 ] && echo "pg_regress suite: cut off after ${T_REGRESS}s"
count_suite "$work/regress.log" "$rc" "pg_regress suite"
if [ "$rc" -ne 0 ]; then
	show regression.diffs
	[ -f tmp_check/log/postmaster.log ] && { echo "----- tmp_check/log/postmaster.log (end) -----"; tail -n 60 tmp_check/log/postmaster.log; }
fi
[ -f regression.diffs ] && mv regression.diffs regress.diffs

echo "== isolation suite (test/specs)"
timeout "$T_ISOLATION" "${as_pg[@]}" make installcheck REGRESS= EXTRA_REGRESS_OPTS="$pg_opts" 2>&1 | tee "$work/isolation.log"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 124 ] && echo "isolation suite: cut off after ${T_ISOLATION}s"
count_suite "$work/isolation.log" "$rc" "isolation suite"
if [ "$rc" -ne 0 ]; then
	show regression.diffs output_iso/regression.diffs
	[ -f tmp_check_iso/log/postmaster.log ] && { echo "----- tmp_check_iso/log/postmaster.log (end) -----"; tail -n 60 tmp_check_iso/log/postmaster.log; }
fi

# 4. System tests: scripts that start their own servers (crashes, real Prometheus,
# haproxy).  Each prints ok:/FAILED: lines and counts as one test by its exit status.
for t in test/system/*.sh test/soak/buffer_full.sh test/e2e/run.sh test/e2e/read.sh; do
	[ -f "$t" ] || continue
	echo "== system test $t"
	timeout "$T_SYSTEM" bash "$t" 2>&1 | tee "$work/system.log"
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 124 ] && echo "$t: cut off after ${T_SYSTEM}s"
	if [ "$rc" -eq 0 ]; then
		echo "test $(basename "$(dirname "$t")")/$(basename "$t" .sh) ... ok"
		passed=$((passed + 1))
	else
		echo "test $(basename "$(dirname "$t")")/$(basename "$t" .sh) ... FAILED"
		failed=$((failed + 1))
	fi
done

# 4b. The chunk codecs' unit tests (plain C, ASan and UBSan).
echo "== codec unit tests (test/codec)"
if timeout "$T_SYSTEM" bash test/codec/run.sh 2>&1 | tail -n 20; [ "${PIPESTATUS[0]}" -eq 0 ]; then
	echo "test codec ... ok"
	passed=$((passed + 1))
else
	echo "test codec ... FAILED"
	failed=$((failed + 1))
fi

# 5. A short fuzz run of the decoder and the label scan (libFuzzer, ASan, UBSan), and a
# replay of every input that ever broke them (test/fuzz/crashes).
echo "== fuzz (60 s)"
timeout "$T_SYSTEM" bash test/fuzz/run.sh 60 >"$work/fuzz.log" 2>&1
rc=$?
grep -E '^== fuzz|FAILED|invariant|stat::number_of_executed_units' "$work/fuzz.log"
if [ "$rc" -eq 0 ]; then
	echo "test fuzz ... ok"
	passed=$((passed + 1))
else
	echo "test fuzz ... FAILED"
	tail -n 40 "$work/fuzz.log"
	failed=$((failed + 1))
fi

# 6. The fixtures: what the generator makes now must be what test/data holds.
echo "== fixtures (test/data against test/make_fixtures.sh)"
fixtures_ok=1
if ! timeout "$T_FIXTURES" "${as_pg[@]}" bash test/make_fixtures.sh ./promscale-ha-gen "$work/fixtures"; then
	echo "test/make_fixtures.sh failed"
	fixtures_ok=0
else
	for f in "$work"/fixtures/*; do
		b=$(basename "$f")
		if [ ! -f "test/data/$b" ]; then
			echo "test/data/$b: missing (the generator makes it)"
			fixtures_ok=0
		elif ! cmp -s "$f" "test/data/$b"; then
			echo "test/data/$b: differs from what the generator makes now (run: make fixtures)"
			cmp "$f" "test/data/$b" | head -n 1
			fixtures_ok=0
		fi
	done
	for f in test/data/*.bin test/data/*.expected; do
		[ -e "$f" ] || continue
		if [ ! -f "$work/fixtures/$(basename "$f")" ]; then
			echo "$f: not made by test/make_fixtures.sh (stale fixture)"
			fixtures_ok=0
		fi
	done
fi
if [ "$fixtures_ok" = 1 ]; then
	echo "test fixtures ... ok"
	passed=$((passed + 1))
else
	echo "test fixtures ... FAILED"
	failed=$((failed + 1))
fi

summary_and_exit
