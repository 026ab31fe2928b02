#!/usr/bin/python3
"""independent_encoder.py - a remote-write request built without the project's code.

Usage: /usr/bin/python3 test/independent_encoder.py OUTDIR

Writes OUTDIR/independent.bin, a Prometheus remote-write 1.0 request, and
OUTDIR/independent.expected, the samples it holds, so a SQL test can show that
promscale_ha reads bytes it did not produce itself.

Nothing here uses proto/*.proto or protoc output: the protobuf wire format is
written by hand (varints, length-delimited fields, little-endian fixed64
doubles) with upstream prompb field numbers, and the result is compressed with
python-snappy's block format (snappy.compress), as Prometheus does.

    WriteRequest.timeseries = 1 (message)
    TimeSeries.labels = 1 (message), TimeSeries.samples = 2 (message)
    Label.name = 1, Label.value = 2 (length-delimited UTF-8)
    Sample.value = 1 (double, fixed64), Sample.timestamp = 2 (int64, varint)

Every field is written, zero values included, and labels are deliberately not
sorted by name.  Values are kept as 64-bit patterns, never as Python floats, so
NaN payloads (the stale marker) survive exactly.

independent.expected has one line per sample, in request order:
    metric_name <TAB> labels without __name__ as compact JSON, keys sorted
    <TAB> timestamp in ms <TAB> the value's IEEE-754 bits as 16 hex digits,
    big-endian
"""
import json
import os
import struct
import sys

import snappy

T0 = 1767225600000  # 2026-01-01T00:00:00Z

NAN = 0x7FF8000000000001  # Go's math.NaN(), as Prometheus writes NaN
STALE = 0x7FF0000000000002  # Prometheus staleness marker
NEG_INF = 0xFFF0000000000000


def bits(value):
    """IEEE-754 bit pattern of an ordinary (non-NaN) float."""
    return struct.unpack("<Q", struct.pack("<d", value))[0]


# (labels in wire order, [(timestamp ms, value bits), ...])
SERIES = [
    ([("__name__", "up"), ("job", "prometheus"), ("instance", "localhost:9090")],
     [(T0, bits(1.0)), (T0 + 15000, bits(0.0)), (T0 + 30000, bits(1.0))]),
    ([("job", "prometheus"), ("__name__", "go_goroutines"), ("instance", "localhost:9090")],
     [(T0, bits(41.5)), (T0 + 15000, bits(42.0)), (T0 + 30000, bits(43.25))]),
    ([("unicode", "h\u00e9llo \u2603"), ("path", "/a b/'quoted'"), ("__name__", "weird_metric"),
      ("le", "+Inf")],
     [(T0, NAN), (T0 + 15000, STALE), (T0 + 30000, NEG_INF)]),
]


def varint(n):
    """Base-128 varint; negative int64 values take ten bytes, as in protobuf."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(field, wire_type):
    """Field key: field number and wire type (0 varint, 1 fixed64, 2 length-delimited)."""
    return varint((field << 3) | wire_type)


def length_delimited(field, payload):
    """A length-delimited field: key, byte length, bytes."""
    return tag(field, 2) + varint(len(payload)) + payload


def encode_label(name, value):
    return (length_delimited(1, name.encode("utf-8"))
            + length_delimited(2, value.encode("utf-8")))


def encode_sample(timestamp, value_bits):
    return (tag(1, 1) + struct.pack("<Q", value_bits)
            + tag(2, 0) + varint(timestamp))


def encode_request(series):
    """prometheus.WriteRequest with one TimeSeries per entry of series."""
    out = b""
    for labels, samples in series:
        ts = b"".join(length_delimited(1, encode_label(n, v)) for n, v in labels)
        ts += b"".join(length_delimited(2, encode_sample(t, b)) for t, b in samples)
        out += length_delimited(1, ts)
    return out


def expected_lines(series):
    """One TAB-separated line per sample, as documented at the top."""
    lines = []
    for labels, samples in series:
        d = dict(labels)
        name = d.pop("__name__")
        js = json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        for t, b in samples:
            lines.append("%s\t%s\t%d\t%016x\n" % (name, js, t, b))
    return lines


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: %s OUTDIR\n" % sys.argv[0])
        return 2
    outdir = sys.argv[1]
    raw = encode_request(SERIES)
    compressed = snappy.compress(raw)
    if snappy.decompress(compressed) != raw:
        sys.stderr.write("snappy round trip failed\n")
        return 1
    with open(os.path.join(outdir, "independent.bin"), "wb") as f:
        f.write(compressed)
    with open(os.path.join(outdir, "independent.expected"), "w", encoding="utf-8",
              newline="\n") as f:
        f.writelines(expected_lines(SERIES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
