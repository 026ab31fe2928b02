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
field numbers, and python3-snappy compresses.

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


def varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wire, payload):
    key = varint((num << 3) | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload


def matcher(text):
    for op, typ in (("!~", 3), ("=~", 2), ("!=", 1), ("=", 0)):
        i = text.find(op)
        if i > 0:
            name, value = text[:i], text[i + len(op):]
            return (field(1, 0, typ) + field(2, 2, name.encode()) +
                    field(3, 2, value.encode()))
    raise SystemExit("bad matcher %r" % text)


def build(out, start, end, kind, matchers):
    query = field(1, 0, int(start)) + field(2, 0, int(end))
    for m in matchers:
        query += field(3, 2, matcher(m))
    req = field(1, 2, query)
    if kind == "chunks":
        req += field(2, 2, varint(1) + varint(0))
    with open(out, "wb") as f:
        f.write(snappy.compress(req))


def fields(buf):
    """(number, wire type, value) of each field of a message."""
    i = 0
    while i < len(buf):
        key, i = uvarint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = uvarint(buf, i)
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = uvarint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wire)
        if i > len(buf):
            raise ValueError("truncated field %d" % num)
        yield num, wire, v


def uvarint(buf, i):
    n = shift = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def labels_of(buf):
    out = {}
    for num, _, v in fields(buf):
        if num == 1:
            name = value = ""
            for n2, _, v2 in fields(v):
                if n2 == 1:
                    name = v2.decode()
                elif n2 == 2:
                    value = v2.decode()
            out[name] = value
    return ",".join("%s=%s" % kv for kv in sorted(out.items()))


def signed(n):
    return n - (1 << 64) if n >= 1 << 63 else n


class Bits:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def read(self, n):
        v = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3]
            v = (v << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def uvarint(self):
        n = shift = 0
        while True:
            b = self.read(8)
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n

    def varint(self):
        u = self.uvarint()
        return (u >> 1) ^ -(u & 1)


def xor_samples(data):
    """The (ms, value) pairs of a Prometheus XOR chunk."""
    count = struct.unpack(">H", data[:2])[0]
    bits = Bits(data[2:])
    out = []
    t = delta = 0
    vbits = leading = trailing = 0
    for i in range(count):
        if i == 0:
            t = bits.varint()
            vbits = bits.read(64)
        elif i == 1:
            delta = bits.uvarint()
            t += delta
        else:
            if bits.read(1) == 0:
                size = 0
            elif bits.read(1) == 0:
                size = 14
            elif bits.read(1) == 0:
                size = 17
            elif bits.read(1) == 0:
                size = 20
            else:
                size = 64
            dod = 0
            if size == 64:
                dod = signed(bits.read(64))
            elif size:
                dod = bits.read(size)
                if dod > 1 << (size - 1):
                    dod -= 1 << size
            delta += dod
            t += delta
        if i > 0:
            if bits.read(1):
                if bits.read(1):
                    leading = bits.read(5)
                    sig = bits.read(6) or 64
                    trailing = 64 - leading - sig
                vbits ^= bits.read(64 - leading - trailing) << trailing
        out.append((t, struct.unpack("<d", struct.pack("<Q", vbits))[0]))
    return out


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def decode(path, kind):
    raw = open(path, "rb").read()
    series = {}
    frames = 0
    if kind == "samples":
        msg = snappy.uncompress(raw)
        for num, _, qr in fields(msg):
            if num != 1:
                continue
            for n2, _, ts in fields(qr):
                if n2 != 1:
                    continue
                pts = series.setdefault(labels_of(ts), [])
                for n3, _, s in fields(ts):
                    if n3 == 2:
                        v, t = 0.0, 0
                        for n4, _, x in fields(s):
                            if n4 == 1:
                                v = struct.unpack("<d", x)[0]
                            elif n4 == 2:
                                t = signed(x)
                        pts.append((t, v))
    else:
        i = 0
        while i < len(raw):
            n, i = uvarint(raw, i)
            crc = struct.unpack(">I", raw[i:i + 4])[0]
            msg = raw[i + 4:i + 4 + n]
            i += 4 + n
            if len(msg) != n:
                raise ValueError("truncated frame %d" % frames)
            if crc32c(msg) != crc:
                raise ValueError("CRC32C mismatch in frame %d" % frames)
            frames += 1
            for num, _, cs in fields(msg):
                if num != 1:
                    continue
                pts = series.setdefault(labels_of(cs), [])
                for n2, _, ch in fields(cs):
                    if n2 != 2:
                        continue
                    typ, data = 0, b""
                    for n3, _, x in fields(ch):
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
        except (ValueError, IndexError, struct.error, snappy.UncompressError) as e:
            print("malformed response: %s" % e)
            sys.exit(1)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
