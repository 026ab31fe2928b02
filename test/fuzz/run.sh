#!/bin/bash
#
# run.sh - build the libFuzzer harnesses of the remote-write payload decoder with
# AddressSanitizer and UBSan, fuzz them for a fixed time, then replay every saved crash
# as a regression test.
#
# Usage: test/fuzz/run.sh [SECONDS]      (default 60; 0 only builds and replays)
#
# The harnesses are test/fuzz/fuzz_*.c (but fuzz_common.c): fuzz_decode.c (snappy +
# protobuf-c + validation, src/wire/decode.c), fuzz_scan.c (the follower fast path's
# label-only scan, src/wire/scan.c, against the decoder), fuzz_fastpath.c (the write
# path's in-place reading and cache keys, src/wire/fastpath.c, against the decoder),
# fuzz_one_group.c (the follower's one-group walk against pha_fast_parse),
# the others named after what they fuzz, and fuzz_codec.c (the chunk
# codecs, src/codec/: decoding untrusted chunks, bit-exact round trips).  SECONDS is
# shared among them.  Seeds: test/fuzz/corpus_NAME when it exists, else test/fuzz/corpus.
#
#   1. Installs what it needs when missing (clang-14, libclang-rt-14-dev, which holds
#      libFuzzer and the sanitizer runtimes, protobuf-c and snappy), with apt-get as
#      test/install_deps.sh does; that needs root, nothing else here does.
#   2. Generates the protobuf-c code and builds every harness in a directory under /tmp
#      (-fsanitize=fuzzer,address,undefined; the system's libprotobuf-c and libsnappy
#      are linked as they are, uninstrumented).
#   3. Fuzzes each harness for its share of SECONDS from the seeds in test/fuzz/corpus
#      (left untouched: new inputs go to the temporary directory), with the dictionary
#      test/fuzz/decode.dict.
#   4. Replays test/fuzz/crashes/HARNESS/* and test/fuzz/corpus/* through each harness,
#      one input at a time.
#
# A finding of step 3 (crash, sanitizer report, broken invariant, leak, timeout, out of
# memory) is copied to test/fuzz/crashes/HARNESS/, where step 4 replays it on every later
# run until the bug is fixed; commit it with the fix.  Exit status: 0 nothing found,
# 1 a finding or a failing replay, 2 usage or build error.
#
# Writes only under /tmp and, on a finding, to test/fuzz/crashes/.  Environment:
#   PHA_FUZZ_TARGETS  the harnesses to run, e.g. "decode" (default: all)
#   PHA_FUZZ_WORKDIR  build and scratch directory to use and keep (default: a fresh
#                     /tmp/pha-fuzz.XXXXXX, removed at exit)
#   PHA_FUZZ_CC       the compiler (default clang-14)
#   PHA_FUZZ_ARGS     extra libFuzzer options, e.g. "-jobs=4 -workers=4"
# and the harnesses' own (test/fuzz/fuzz_decode.c): PHA_FUZZ_VERBOSE,
# PHA_FUZZ_MAX_AMPLIFICATION.

set -euo pipefail

usage() {
	echo "usage: $0 [SECONDS]   (fuzz for SECONDS in all, default 60; 0: build and replay only)" >&2
	exit 2
}
[ $# -le 1 ] || usage
secs=${1:-60}
[[ "$secs" =~ ^[0-9]+$ ]] || usage

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cc=${PHA_FUZZ_CC:-clang-14}
max_len=65536		# bytes per input; make_corpus.sh keeps seeds under this

targets=()
if [ -n "${PHA_FUZZ_TARGETS:-}" ]; then
	read -r -a targets <<<"$PHA_FUZZ_TARGETS"
else
	for f in "$here"/fuzz_*.c; do
		t=$(basename "$f" .c)
		t=${t#fuzz_}
		[ "$t" = common ] || targets+=("$t")
	done
fi
for t in "${targets[@]}"; do
	if [ ! -f "$here/fuzz_$t.c" ] || [ "$t" = common ]; then
		echo "$0: no harness test/fuzz/fuzz_$t.c" >&2
		exit 2
	fi
done

# --- 1. packages ------------------------------------------------------------------------
# shellcheck source-path=SCRIPTDIR source=../install_deps.sh
. "$root/test/install_deps.sh"
# shellcheck disable=SC2034 # read by pha_missing_packages
PHA_DEB_PACKAGES=(clang-14 libclang-rt-14-dev libprotobuf-c-dev protobuf-c-compiler libsnappy-dev
	libzstd-dev)
missing=$(pha_missing_packages)
if [ -n "$missing" ]; then
	pha_require_root
	echo "== fuzz: installing ${missing//$'\n'/ }"
	export DEBIAN_FRONTEND=noninteractive
	timeout "$PHA_APT_TIMEOUT" apt-get update -q
	# shellcheck disable=SC2086 # one word per package
	timeout "$PHA_APT_TIMEOUT" apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing
	missing=$(pha_missing_packages)
	if [ -n "$missing" ]; then
		echo "$0: still missing after apt-get install: ${missing//$'\n'/ }" >&2
		exit 2
	fi
fi

# --- 2. build ---------------------------------------------------------------------------
if [ -n "${PHA_FUZZ_WORKDIR:-}" ]; then
	work=$PHA_FUZZ_WORKDIR
	mkdir -p "$work"
else
	work=$(mktemp -d /tmp/pha-fuzz.XXXXXX)
	trap 'rm -rf "$work"' EXIT
fi
rm -rf "$work/gen" "$work/obj"
mkdir -p "$work/gen" "$work/obj"

echo "== fuzz: building ${targets[*]} in $work"
protoc-c --proto_path="$root/proto" --c_out="$work/gen" \
	"$root/proto/types.proto" "$root/proto/remote.proto"
# shellcheck disable=SC2054 # the commas belong to one option
san=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
cflags=(-g -O1 -fno-omit-frame-pointer "${san[@]}" -I"$root/src" -I"$work/gen")
# Warnings are errors in the harnesses only: src/*.c and protoc-c's output are built by
# the Makefile with gcc's warnings, and clang's differ.
werror=(-Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare)
"$cc" "${cflags[@]}" "${werror[@]}" -c "$here/fuzz_common.c" -o "$work/obj/fuzz_common.o"
for src in wire/decode wire/scan wire/fastpath wire/read wire/regex codec/xor codec/dense codec/chunk; do
	"$cc" "${cflags[@]}" -c "$root/src/$src.c" -o "$work/obj/$(basename "$src").o"
done
for p in types remote; do
	"$cc" "${cflags[@]}" -c "$work/gen/$p.pb-c.c" -o "$work/obj/$p.pb-c.o"
done
for t in "${targets[@]}"; do
	"$cc" "${cflags[@]}" "${werror[@]}" -c "$here/fuzz_$t.c" -o "$work/fuzz_$t.o"
	"$cc" "${san[@]}" -o "$work/fuzz_$t" "$work/fuzz_$t.o" "$work"/obj/*.o -lprotobuf-c -lsnappy \
		-lzstd -lm
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
common=(-max_len="$max_len" -timeout=10 -rss_limit_mb=2048)
status=0

# --- 3. fuzz ----------------------------------------------------------------------------
# corpus_of HARNESS: its seeds (test/fuzz/corpus_NAME, else the remote-write corpus)
corpus_of() {
	if [ -d "$here/corpus_$1" ]; then echo "$here/corpus_$1"; else echo "$here/corpus"; fi
}
# dict_of HARNESS: the libFuzzer dictionary option for it, if it has one
dict_of() {
	case "$1" in
	decode | scan | fastpath | one_group) echo "-dict=$here/decode.dict" ;;
	esac
}
share=0
if [ "$secs" -gt 0 ]; then
	share=$((secs / ${#targets[@]}))
	[ "$share" -gt 0 ] || share=1
fi
for t in "${targets[@]}"; do
	[ "$share" -gt 0 ] || break
	bin=$work/fuzz_$t
	tw=$work/$t
	rm -rf "$tw"
	mkdir -p "$tw/corpus" "$tw/artifacts"
	echo "== fuzz: $t: fuzzing for $share s (log: $tw/fuzz.log)"
	fuzz_rc=0
	# shellcheck disable=SC2086 # PHA_FUZZ_ARGS is a list of options
	"$bin" "${common[@]}" -max_total_time="$share" -print_final_stats=1 \
		$(dict_of "$t") -artifact_prefix="$tw/artifacts/" \
		${PHA_FUZZ_ARGS:-} "$tw/corpus" "$(corpus_of "$t")" >"$tw/fuzz.log" 2>&1 || fuzz_rc=$?

	last=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$tw/fuzz.log" | tail -n 1 || true)
	[ -n "$last" ] || last=$(grep -E '^#[0-9]+' "$tw/fuzz.log" | tail -n 1 || true)
	echo "   last status: ${last:-none}"
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
		"$tw/fuzz.log" | sed 's/^/   /' || true
	echo "   corpus: $(find "$(corpus_of "$t")" -type f | wc -l) seeds + $(find "$tw/corpus" -type f | wc -l) new inputs"

	found=0
	for a in "$tw"/artifacts/crash-* "$tw"/artifacts/leak-* "$tw"/artifacts/timeout-* \
		"$tw"/artifacts/oom-*; do
		[ -e "$a" ] || continue
		mkdir -p "$here/crashes/$t"
		cp "$a" "$here/crashes/$t/"
		echo "   FINDING: saved test/fuzz/crashes/$t/$(basename "$a")"
		found=1
	done
	if [ "$fuzz_rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		echo "== fuzz: $t: FAILED (libFuzzer exit $fuzz_rc); the report:" >&2
		sed -n '/^==[0-9]*==\|invariant violated\|runtime error\|^INFO: a leak\|ERROR: libFuzzer/,$p' \
			"$tw/fuzz.log" | head -n 80 >&2
		status=1
	fi
done

# --- 4. replay --------------------------------------------------------------------------
for t in "${targets[@]}"; do
	replayed=0
	failed=0
	for f in "$here/crashes/$t"/* "$(corpus_of "$t")"/*; do
		[ -f "$f" ] || continue
		replayed=$((replayed + 1))
		if ! "$work/fuzz_$t" "${common[@]}" "$f" >"$work/replay.log" 2>&1; then
			echo "== fuzz: $t: replay FAILED: ${f#"$root"/}" >&2
			# a broken invariant says it all in one line; a sanitizer needs its stack
			if grep -q 'invariant violated' "$work/replay.log"; then
				grep 'invariant violated' "$work/replay.log" | sed 's/^/   /' >&2
			else
				sed -n '/^==[0-9]*==\|runtime error\|ERROR: libFuzzer/,$p' "$work/replay.log" |
					head -n 30 | sed 's/^/   /' >&2
			fi
			failed=$((failed + 1))
		fi
	done
	echo "== fuzz: $t: replayed $replayed saved inputs (crashes + seeds), $failed failing"
	[ "$failed" -eq 0 ] || status=1
done

if [ "$status" -eq 0 ]; then
	echo "== fuzz: OK"
fi
exit "$status"
