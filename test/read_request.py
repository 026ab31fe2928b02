#!/usr/bin/python3
"""read_request.py - Prometheus remote-read requests and responses, by hand.

Usage:
  read_request.py build OUT START_MS END_MS [samples|chunks] MATCHER...
      Write OUT, the HTTP body of a remote-read request (snappy block format
      of prometheus.ReadRequest) with one query over [START_MS, END_MS] and
      the matchers, each NAME=VALUE, NAME!=VALUE, NAME=~RE or NAME!~RE.
      "chunks" asks for STREAMED_XOR_CHUNKS (then SAMPLES), "samples" (the
      default) for SAMPLES only, as Prometheus 2.42 does.
  read_request.py decode FILE samples|chunks
      Decode a response body: a snappy ReadResponse, or the frames of a
      streamed ChunkedReadResponse (each frame's CRC32C checked, XOR chunks
      decoded).  Prints one line per series, sorted:
          labels as k=v,k=v <TAB> samples <TAB> first ms <TAB> last ms
          <TAB> sum of the values (%.17g)
      then "total series N samples M" (and "frames F" for chunks).
      Exit 1 with a message when the body is malformed.

Like test/independent_encoder.py it uses nothing of the project: the
protobuf wire format is written and read by hand with the upstream prompb
field numbers (the varint, field, parsing, CRC32C and XOR-chunk helpers of
test/read_decoder.py, beside this file, which is equally independent), and
python3-snappy compresses.

    ReadRequest: queries = 1, accepted_response_types = 2 (packed enum)
    Query: start_timestamp_ms = 1, end_timestamp_ms = 2, matchers = 3
    LabelMatcher: type = 1 (EQ 0, NEQ 1, RE 2, NRE 3), name = 2, value = 3
    ReadResponse: results = 1; QueryResult: timeseries = 1
    TimeSeries: labels = 1, samples = 2; Label: name = 1, value = 2
    Sample: value = 1 (double), timestamp = 2
    ChunkedReadResponse: chunked_series = 1, query_index = 2
    ChunkedSeries: labels = 1, chunks = 2
    Chunk: min_time_ms = 1, max_time_ms = 2, type = 3 (XOR 1), data = 4
    frame: uvarint length of the message, CRC32C (Castagnoli, big-endian)
           of the message, the message
"""
import struct
import sys

import snappy

from read_decoder import Bad, crc32c, field, int64, ld, parse, read_varint, varint, xor_decode


def matcher(text):
    for op, typ in (("!~", 3), ("=~", 2), ("!=", 1), ("=", 0)):
        i = text.find(op)
        if i > 0:
            name, value = text[:i], text[i + len(op):]
            return (field(1, 0, varint(typ)) + ld(2, name.encode()) +
                    ld(3, value.encode()))
    raise SystemExit("bad matcher %r" % text)


def build(out, start, end, kind, matchers):
    query = field(1, 0, varint(int(start))) + field(2, 0, varint(int(end)))
    for m in matchers:
        query += ld(3, matcher(m))
    req = ld(1, query)
    if kind == "chunks":
        req += ld(2, varint(1) + varint(0))
    with open(out, "wb") as f:
        f.write(snappy.compress(req))


def labels_of(buf):
    """The labels of a TimeSeries or ChunkedSeries as k=v,k=v, sorted."""
    out = {}
    for num, _, v in parse(buf):
        if num == 1:
            name = value = ""
            for n2, _, v2 in parse(v):
                if n2 == 1:
                    name = v2.decode()
                elif n2 == 2:
                    value = v2.decode()
            out[name] = value
    return ",".join("%s=%s" % kv for kv in sorted(out.items()))


def xor_samples(data):
    """The (ms, value) pairs of a Prometheus XOR chunk."""
    return [(t, struct.unpack("<d", struct.pack("<Q", vbits))[0])
            for t, vbits in xor_decode(data)]


def decode(path, kind):
    raw = open(path, "rb").read()
    series = {}
    frames = 0
    if kind == "samples":
        msg = snappy.uncompress(raw)
        for num, _, qr in parse(msg):
            if num != 1:
                continue
            for n2, _, ts in parse(qr):
                if n2 != 1:
                    continue
                pts = series.setdefault(labels_of(ts), [])
                for n3, _, s in parse(ts):
                    if n3 == 2:
                        v, t = 0.0, 0
                        for n4, _, x in parse(s):
                            if n4 == 1:
                                v = struct.unpack("<d", x)[0]
                            elif n4 == 2:
                                t = int64(x)
                        pts.append((t, v))
    else:
        i = 0
        while i < len(raw):
            n, i = read_varint(raw, i)
            crc = struct.unpack(">I", raw[i:i + 4])[0]
            msg = raw[i + 4:i + 4 + n]
            i += 4 + n
            if len(msg) != n:
                raise ValueError("truncated frame %d" % frames)
            if crc32c(msg) != crc:
                raise ValueError("CRC32C mismatch in frame %d" % frames)
            frames += 1
            for num, _, cs in parse(msg):
                if num != 1:
                    continue
                pts = series.setdefault(labels_of(cs), [])
                for n2, _, ch in parse(cs):
                    if n2 != 2:
                        continue
                    typ, data = 0, b""
                    for n3, _, x in parse(ch):
                        if n3 == 3:
                            typ = x
                        elif n3 == 4:
                            data = x
                    if typ != 1:
                        raise ValueError("chunk type %d is not XOR" % typ)
                    pts.extend(xor_samples(data))
    total = 0
    for key in sorted(series):
        pts = series[key]
        total += len(pts)
        print("%s\t%d\t%s\t%s\t%.17g" % (key, len(pts), pts[0][0] if pts else "-",
                                         pts[-1][0] if pts else "-", sum(v for _, v in pts)))
    print("total series %d samples %d%s" % (len(series), total,
                                            " frames %d" % frames if kind == "chunks" else ""))


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "build":
        kind = "samples"
        rest = sys.argv[5:]
        if rest and rest[0] in ("samples", "chunks"):
            kind, rest = rest[0], rest[1:]
        build(sys.argv[2], sys.argv[3], sys.argv[4], kind, rest)
    elif len(sys.argv) == 4 and sys.argv[1] == "decode":
        try:
            decode(sys.argv[2], sys.argv[3])
        except (Bad, ValueError, IndexError, struct.error, snappy.UncompressError) as e:
            print("malformed response: %s" % e)
            sys.exit(1)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
