#!/bin/bash
#
# make_corpus.sh - regenerate the seed corpus of the decoder fuzzer (test/fuzz/corpus).
#
# Usage: test/fuzz/make_corpus.sh GEN      (GEN: the promscale-ha-gen binary)
#
# Every seed is one mode byte and a body, as the harnesses test/fuzz/fuzz_*.c read them:
#   0x00  body is a snappy block, as POSTed          0x01  body is bare protobuf
#   0x02  snappy, tight limits                       0x03  bare protobuf, tight limits
#   0x04 | 0x01 | v<<3  bare protobuf; fuzz_decode: arena budget v * 64 KiB,
#                       fuzz_scan: HA labels "c" and "r"
# The seeds are: every fixture of test/data under 64 KiB as it is (0x00), the
# same requests as bare protobuf (0x01), and a few made here for the paths the
# fixtures miss (tight limits, allocation budgets, exemplars and histograms as
# protobuf, odd label values, the scan's HA labels and time limits, memory
# amplification).  Like test/make_fixtures.sh, the output is a pure
# function of the command lines below.

set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 GEN   (GEN: an executable promscale-ha-gen; run: make promscale-ha-gen)" >&2
	exit 2
fi
gen=$1
here=$(cd "$(dirname "$0")" && pwd)
data="$here/../data"
out="$here/corpus"
max_seed=65536		# run.sh's -max_len; bigger seeds would only be cut short

mkdir -p "$out"
rm -f "$out"/*

# seed NAME MODE FILE: write MODE (two hex digits) then FILE's bytes to corpus/NAME.
seed() {
	# shellcheck disable=SC2059 # the format is a byte escape on purpose
	{ printf "\\x$2"; cat "$3"; } >"$out/$1"
}

# gen_seed NAME MODE ARGS...: run the generator with a fixed seed, then seed it.
gen_seed() {
	local name=$1 mode=$2
	shift 2
	"$gen" --seed 1 "$@" -o "$out/.tmp"
	seed "$name" "$mode" "$out/.tmp"
	rm -f "$out/.tmp"
}

# The fixtures, as POSTed.
for f in "$data"/*.bin; do
	[ "$(stat -c %s "$f")" -le "$max_seed" ] || continue
	seed "snappy_$(basename "$f" .bin)" 00 "$f"
done

# The same requests as bare protobuf, so that mutations reach protobuf-c.
for c in no-labels bad-label-name dup-label bad-utf8 nul-in-value no-metric-name \
	empty-name empty-request; do
	gen_seed "proto_case_$c" 01 --case "$c" --no-compress
done
gen_seed proto_basic_10x3 01 --series 10 --samples 3 --metrics 3 --no-compress
gen_seed proto_unsorted 01 --series 10 --samples 3 --metrics 3 --unsorted --no-compress
gen_seed proto_special_values 01 --series 1 --samples 8 --values special --no-compress
gen_seed proto_extras 01 --series 5 --samples 2 --metrics 5 --exemplars --histograms \
	--metadata --no-compress
gen_seed proto_ha 01 --series 4 --samples 2 --cluster c1 --replica a --no-compress
gen_seed proto_odd_values 01 --series 3 --samples 1 --label 'url=/a b/'"'q'" \
	--label 'unicode=héllo ☃ 𝄞' --label 'sql=x"); drop table t; --' --no-compress

# Tight limits (8 series, 6 labels, names of 16 and values of 32 bytes, 4 KiB).
gen_seed tight_ok 03 --series 2 --samples 1 --metrics 1 --no-compress
gen_seed tight_series 03 --series 9 --samples 1 --metrics 1 --no-compress
gen_seed tight_labels 03 --series 1 --samples 1 --label a=1 --label b=2 --label c=3 \
	--no-compress
gen_seed tight_value 03 --series 1 --samples 1 \
	--label 'v=0123456789abcdef0123456789abcdef!' --no-compress
gen_seed tight_name 03 --series 1 --samples 1 --label 'a_very_long_label_name=x' \
	--no-compress
gen_seed tight_payload 02 --series 40 --samples 2

# Allocation budgets: none at all, then one block (256 KiB) for a request that
# needs more, so that protobuf-c's unpacking fails half-way.
gen_seed budget_0 05 --series 2 --samples 1 --no-compress
gen_seed budget_256k 25 --series 200 --samples 4 --exemplars --histograms --no-compress

# For the scan (fuzz_scan.c): HA series with labels "c" and "r" (mode bit 2), with
# tight limits, with samples on both sides of its future limit (start + 30 s), and
# with a timestamp before timestamptz's range.
gen_seed scan_short_names 05 --series 3 --samples 4 --cluster c1 --replica a \
	--cluster-label c --replica-label r --no-compress
gen_seed scan_tight_ha 03 --series 3 --samples 2 --metrics 3 --cluster c1 --replica b \
	--no-compress
gen_seed scan_future 01 --series 2 --samples 6 --cluster c2 --replica a --no-compress
gen_seed scan_bad_time 01 --series 1 --samples 2 --cluster c1 --replica a \
	--start-ms -210866803200001 --no-compress

# Memory amplification, below the harness's bound; mutations that repeat the
# pattern push it over.  An empty histogram (22 00) is 2 bytes that protobuf-c
# turns into a ~230-byte struct: one series of 2,000 of them, then 1,000 series
# of one each (0a 02 22 00), which stay well-formed when a mutation copies a
# part of the input into itself.
{
	printf '\x01\x0a\xa0\x1f'
	for _ in $(seq 2000); do printf '\x22\x00'; done
} >"$out/amplify_histograms"
{
	printf '\x01'
	for _ in $(seq 1000); do printf '\x0a\x02\x22\x00'; done
} >"$out/amplify_series"

echo "$(find "$out" -type f | wc -l) seeds in $out"
