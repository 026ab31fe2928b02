#!/bin/bash
#
# run.sh - build and run the chunk codec unit tests (test/codec/codec_test.c).
#
#   test/codec/run.sh
#
# Builds with gcc, AddressSanitizer and UBSan into a scratch directory made by
# mktemp (removed on exit), runs the program, and exits with its status.  The
# test's last line is "codec: N passed, M failed".  The checkout is not written.
# CC overrides the compiler.

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

srcs=("$root/test/codec/codec_test.c" "$root"/src/codec/*.c)
libs=(-lm)
# The dense format uses libm, and zstd to compress.
if grep -q '<zstd.h>' "$root"/src/codec/*.c "$root"/src/codec/*.h; then
	libs+=(-lzstd)
fi

"${CC:-gcc}" -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-I"$root/src" -o "$work/codec_test" "${srcs[@]}" "${libs[@]}"

set +e
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 timeout 600 "$work/codec_test"
status=$?
set -e
exit "$status"
