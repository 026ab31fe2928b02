#!/bin/bash
#
# make_fixtures.sh - regenerate the binary remote-write fixtures in test/data.
#
# Usage: test/make_fixtures.sh GEN OUTDIR      (normally via `make fixtures`)
#
#   GEN     the promscale-ha-gen binary
#   OUTDIR  where the fixtures go (test/data)
#
# Every file is a pure function of the command lines below (fixed --seed, fixed
# --start-ms), so running this twice gives byte-identical files; a change in
# any fixture after a rerun means the generator's output changed.  What each
# file holds is listed in test/data/README.md; keep the two in step.

set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 GEN OUTDIR" >&2
	exit 2
fi
gen=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "$gen" ]; then
	echo "$0: generator \"$gen\" is not executable (run: make promscale-ha-gen)" >&2
	exit 2
fi
mkdir -p "$out"

# emit NAME ARGS...: run the generator with a fixed seed into OUTDIR/NAME.
emit() {
	local name=$1
	shift
	"$gen" --seed 1 "$@" -o "$out/$name"
}

# Crafted requests for the decoder's error paths, one per --case.
for c in no-labels bad-label-name dup-label bad-utf8 nul-in-value no-metric-name \
	empty-name not-protobuf truncated-snappy huge-header not-snappy empty-request; do
	emit "case_$c.bin" --case "$c"
done

# Well-formed requests.
emit basic_10x3.bin     --series 10 --samples 3 --metrics 3
emit unsorted.bin       --series 10 --samples 3 --metrics 3 --unsorted
emit special_values.bin --series 1 --samples 8 --values special
emit extras.bin         --series 5 --samples 2 --metrics 5 --exemplars --histograms --metadata
emit big_10k.bin        --series 10000 --samples 1
emit ha_a.bin           --series 10 --samples 5 --metrics 3 --cluster c1 --replica a
emit ha_b.bin           --series 10 --samples 5 --metrics 3 --cluster c1 --replica b

# A request made without the project's protobuf code, and its expected rows.
/usr/bin/python3 "$here/independent_encoder.py" "$out"
