#!/usr/bin/python3
"""read_decoder.py - remote-read requests and responses without the project's code.

Usage (with /usr/bin/python3, which has python3-snappy):
  read_decoder.py request [--accept T,T...] -q START END [MATCHER...] [-q ...]
      print, as hex, a snappy-compressed prometheus.ReadRequest; a MATCHER is
      NAME=VALUE, NAME!=VALUE, NAME=~RE or NAME!~RE (one argument each)
  read_decoder.py write START STEP COUNT LABELS...
      print, as hex, a snappy-compressed remote-write request of one series per
      LABELS (name=value,name=value; printf-style escapes are the shell's) with COUNT
      samples START, START+STEP, ... of values 1, 2, ...
  read_decoder.py snappy HEX
      print snappy.compress(bytes.fromhex(HEX)) as hex (for malformed requests)
  read_decoder.py decode FILE [--summary] [--bound BYTES]
      FILE has one line per row of promscale_ha.read(): KIND HEX-BODY.  Prints the
      response as canonical text: per query, per series, its labels and then one
      line per sample (time in ms, value's IEEE-754 bits as 16 hex digits), or with
      --summary a count, the first and last time and a SHA-1 of those lines, or with
      --labels only the series.  The
      series part is the same for both response types, so the two can be compared.
      With --chunks (chunks only), after the checks, one line per XOR chunk instead:
      "chunk MIN_MS MAX_MS SAMPLES HEX-DATA", in the order sent.

Nothing here uses proto/*.proto, protoc output or the extension's C code: the
protobuf wire format is read and written by hand with upstream prompb field numbers
(as test/independent_encoder.py does for writing), XOR chunks are decoded from
Prometheus' chunkenc layout, and CRC32-Castagnoli is computed here.  For 'chunks' it
checks every frame: uvarint length equal to the message's, the big-endian CRC32C,
XOR chunks (encoding 1) of at most 65,535 samples (the 16-bit count; Prometheus cuts
its own at 120, a stored chunk sent as it is holds up to 8,192) whose min/max times
are their first and last samples, chunks of a series in time order, series never
interleaved (a series split over frames continues in the next frames only), and with
--bound, every frame within BYTES unless it holds a single chunk.  A failed check
prints "ERROR: ..." and exits 1.

    ReadRequest.queries = 1, accepted_response_types = 2 (packed or not)
    Query.start_timestamp_ms = 1, end_timestamp_ms = 2, matchers = 3
    LabelMatcher.type = 1, name = 2, value = 3
    ReadResponse.results = 1; QueryResult.timeseries = 1
    TimeSeries.labels = 1, samples = 2; Sample.value = 1 (fixed64), timestamp = 2
    ChunkedReadResponse.chunked_series = 1, query_index = 2
    ChunkedSeries.labels = 1, chunks = 2
    Chunk.min_time_ms = 1, max_time_ms = 2, type = 3, data = 4
"""
import hashlib
import re
import struct
import sys

import snappy


class Bad(Exception):
    pass


# ---- protobuf, by hand ----------------------------------------------------------------

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


def field(num, wt, payload):
    return varint(num << 3 | wt) + payload


def ld(num, payload):
    return field(num, 2, varint(len(payload)) + payload)


def read_varint(buf, i):
    n = 0
    shift = 0
    while True:
        if i >= len(buf):
            raise Bad("truncated varint")
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, i
        shift += 7
        if shift >= 70:
            raise Bad("varint too long")


def parse(buf):
    """[(field, wire type, value)]: int for varint, bytes for fixed64 and length-delimited."""
    out = []
    i = 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(buf, i)
        elif wt == 1:
            if i + 8 > len(buf):
                raise Bad("truncated fixed64")
            v = buf[i:i + 8]
            i += 8
        elif wt == 2:
            n, i = read_varint(buf, i)
            if i + n > len(buf):
                raise Bad("truncated length-delimited field")
            v = buf[i:i + n]
            i += n
        elif wt == 5:
            v = buf[i:i + 4]
            i += 4
        else:
            raise Bad("wire type %d" % wt)
        out.append((num, wt, v))
    return out


def int64(u):
    return u - (1 << 64) if u >= 1 << 63 else u


def labels_of(fields):
    labels = []
    for num, wt, v in fields:
        if num == 1 and wt == 2:
            name = value = b""
            for n2, _, v2 in parse(v):
                if n2 == 1:
                    name = v2
                elif n2 == 2:
                    value = v2
            labels.append((name.decode(), value.decode()))
    return labels


# ---- CRC32-Castagnoli -----------------------------------------------------------------

CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    CRC_TABLE.append(_c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


# ---- XOR chunks (Prometheus tsdb/chunkenc/xor.go) -----------------------------------------

class Bits:
    def __init__(self, data):
        self.data = data
        self.pos = 0          # in bits

    def bit(self):
        if self.pos >= 8 * len(self.data):
            raise Bad("XOR chunk truncated")
        b = (self.data[self.pos >> 3] >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return b

    def bits(self, n):
        v = 0
        for _ in range(n):
            v = v << 1 | self.bit()
        return v

    def uvarint(self):
        n = 0
        shift = 0
        while True:
            b = self.bits(8)
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                return n
            shift += 7

    def varint(self):
        u = self.uvarint()
        return (u >> 1) ^ -(u & 1)


def xor_decode(data):
    if len(data) < 2:
        raise Bad("XOR chunk shorter than its header")
    count = struct.unpack(">H", data[:2])[0]
    r = Bits(data[2:])
    out = []
    t = delta = 0
    vbits = 0
    leading = trailing = 0
    for k in range(count):
        if k == 0:
            t = r.varint()
            vbits = r.bits(64)
        else:
            if k == 1:
                delta = r.uvarint()
            else:
                d = 0
                for _ in range(4):
                    d <<= 1
                    if r.bit() == 0:
                        break
                    d |= 1
                sz = {0b0: 0, 0b10: 14, 0b110: 17, 0b1110: 20, 0b1111: 64}[d]
                dod = 0
                if sz == 64:
                    dod = int64(r.bits(64))
                elif sz:
                    b = r.bits(sz)
                    if b > 1 << (sz - 1):
                        b -= 1 << sz
                    dod = b
                delta += dod
            t += delta
            if r.bit():
                if r.bit():
                    leading = r.bits(5)
                    sig = r.bits(6) or 64
                    trailing = 64 - leading - sig
                sig = 64 - leading - trailing
                vbits ^= r.bits(sig) << trailing
        out.append((t, vbits))
    rest = 8 * len(r.data) - r.pos
    if rest >= 8 or (rest and r.bits(rest) != 0):
        raise Bad("XOR chunk has trailing data")
    return out


# ---- requests -------------------------------------------------------------------------

MATCHER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)(.*)$", re.S)
TYPES = {"=": 0, "!=": 1, "=~": 2, "!~": 3}


def encode_request(args):
    accept = []
    queries = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--accept":
            accept = [int(x) for x in args[i + 1].split(",") if x != ""]
            i += 2
        elif a == "-q":
            q = [int(args[i + 1]), int(args[i + 2]), []]
            queries.append(q)
            i += 3
        else:
            m = MATCHER.match(a)
            if not m or not queries:
                raise SystemExit("bad matcher %r" % a)
            queries[-1][2].append((TYPES[m.group(2)], m.group(1), m.group(3)))
            i += 1
    body = b""
    for start, end, matchers in queries:
        q = field(1, 0, varint(start)) + field(2, 0, varint(end))
        for typ, name, value in matchers:
            lm = field(1, 0, varint(typ)) + ld(2, name.encode()) + ld(3, value.encode())
            q += ld(3, lm)
        body += ld(1, q)
    if accept:                # proto3 packs repeated enums, as Go's encoder does
        body += ld(2, b"".join(varint(t) for t in accept))
    return snappy.compress(body).hex()


# ---- responses ------------------------------------------------------------------------

def fmt_labels(labels):
    return "{" + ", ".join('%s="%s"' % (n, v.encode("unicode_escape").decode()) for n, v in labels) + "}"


def encode_write(args):
    start, step, count = int(args[0]), int(args[1]), int(args[2])
    body = b""
    for spec in args[3:]:
        ts = b""
        for pair in spec.split(","):
            name, value = pair.split("=", 1)
            ts += ld(1, ld(1, name.encode()) + ld(2, value.encode()))
        for k in range(count):
            ts += ld(2, field(1, 1, struct.pack("<d", float(k + 1))) +
                     field(2, 0, varint(start + k * step)))
        body += ld(1, ts)
    return snappy.compress(body).hex()


def print_series(labels, samples, summary):
    names = [n for n, _ in labels]
    if names != sorted(names, key=lambda s: s.encode()):
        raise Bad("labels not sorted by name: %s" % names)
    print("  series %s" % fmt_labels(labels))
    if summary == "labels":
        return
    lines = ["    %d %016x" % (t, b) for t, b in samples]
    for (a, _), (b, _) in zip(samples, samples[1:]):
        if b <= a:
            raise Bad("samples not in strictly increasing time order")
    if summary:
        h = hashlib.sha1("\n".join(lines).encode()).hexdigest()[:16]
        print("    %d samples, %d .. %d, sha1 %s" % (len(samples), samples[0][0], samples[-1][0], h))
    else:
        for line in lines:
            print(line)


def label_key(labels):
    """Prometheus' labels.Compare order as a sort key (bytewise)."""
    return b"".join(n.encode() + b"\0" + v.encode() + b"\0" for n, v in labels)


def print_query(q, series, summary):
    print("query %d: %d series" % (q, len(series)))
    keys = [label_key(labels) for labels, _ in series]
    if keys != sorted(keys):
        raise Bad("series of query %d not in Prometheus' label order" % q)
    for labels, samples in series:
        print_series(labels, samples, summary)


def decode_samples(body, summary):
    raw = snappy.uncompress(body)
    results = [v for num, wt, v in parse(raw) if num == 1 and wt == 2]
    print("response: samples, %d results" % len(results))
    for q, res in enumerate(results):
        series = []
        for num, wt, ts in parse(res):
            if num != 1:
                raise Bad("QueryResult field %d" % num)
            f = parse(ts)
            samples = []
            for n2, _, s in f:
                if n2 == 2:
                    v = 0
                    t = 0
                    for n3, _, x in parse(s):
                        if n3 == 1:
                            v = struct.unpack("<Q", x)[0]
                        elif n3 == 2:
                            t = int64(x)
                    samples.append((t, v))
            series.append((labels_of(f), samples))
        print_query(q, series, summary)


def decode_chunks(bodies, summary, bound, dump=None):
    queries = {}
    order = []
    last = None           # (query, labels) of the last series part seen
    finished = set()
    for fno, body in enumerate(bodies):
        n, i = read_varint(body, 0)
        if i + 4 + n != len(body):
            raise Bad("frame %d: length %d, but %d bytes follow" % (fno, n, len(body) - i - 4))
        crc = struct.unpack(">I", body[i:i + 4])[0]
        msg = body[i + 4:]
        if crc32c(msg) != crc:
            raise Bad("frame %d: CRC32C mismatch" % fno)
        f = parse(msg)
        qi = int64(sum(v for num, _, v in f if num == 2))
        parts = [v for num, _, v in f if num == 1]
        if not parts:
            raise Bad("frame %d has no series" % fno)
        if bound and len(msg) > bound:
            one_chunk = len(parts) == 1 and sum(1 for num, _, _ in parse(parts[0]) if num == 2) == 1
            if not one_chunk:
                raise Bad("frame %d: %d bytes, over the bound %d" % (fno, len(msg), bound))
        for cs in parts:
            cf = parse(cs)
            labels = labels_of(cf)
            key = (qi, tuple(labels))
            if key != last:
                if key in finished:
                    raise Bad("frame %d: series %s interleaved" % (fno, fmt_labels(labels)))
                if last is not None:
                    finished.add(last)
                last = key
                if qi not in queries:
                    queries[qi] = []
                    order.append(qi)
                queries[qi].append((labels, []))
            samples = queries[qi][-1][1]
            for num, _, c in cf:
                if num != 2:
                    continue
                mn = mx = typ = 0
                data = b""
                for n3, _, x in parse(c):
                    if n3 == 1:
                        mn = int64(x)
                    elif n3 == 2:
                        mx = int64(x)
                    elif n3 == 3:
                        typ = x
                    elif n3 == 4:
                        data = x
                if typ != 1:
                    raise Bad("chunk encoding %d, not XOR" % typ)
                s = xor_decode(data)
                if not s or len(s) > 65535:
                    raise Bad("chunk of %d samples" % len(s))
                if dump is not None:
                    dump.append("chunk %d %d %d %s" % (mn, mx, len(s), data.hex()))
                if s[0][0] != mn or s[-1][0] != mx:
                    raise Bad("chunk min/max time %d/%d, samples %d..%d" % (mn, mx, s[0][0], s[-1][0]))
                if samples and samples[-1][0] >= mn:
                    raise Bad("chunks out of time order")
                samples.extend(s)
    if order != sorted(order):
        raise Bad("queries out of order")
    if dump is not None:
        print("\n".join(dump))
        return
    print("response: chunks, %d frames" % len(bodies))
    for q in order:
        print_query(q, queries[q], summary)


def decode_file(path, summary, bound, dump=None):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                kind, hexbody = line.split(" ", 1) if " " in line else (line, "")
                rows.append((kind, bytes.fromhex(hexbody)))
    kinds = {k for k, _ in rows}
    if not rows:
        print("response: no rows")
    elif kinds == {"samples"}:
        if len(rows) != 1:
            raise Bad("%d samples rows" % len(rows))
        decode_samples(rows[0][1], summary)
    elif kinds == {"chunks"}:
        decode_chunks([b for _, b in rows], summary, bound, dump)
    else:
        raise Bad("row kinds %s" % sorted(kinds))


def main():
    a = sys.argv[1:]
    if not a:
        raise SystemExit(__doc__)
    if a[0] == "request":
        print(encode_request(a[1:]))
    elif a[0] == "write":
        print(encode_write(a[1:]))
    elif a[0] == "snappy":
        print(snappy.compress(bytes.fromhex(a[1])).hex())
    elif a[0] == "decode":
        summary = "labels" if "--labels" in a else "--summary" in a
        bound = 0
        if "--bound" in a:
            bound = int(a[a.index("--bound") + 1])
        try:
            decode_file(a[1], summary, bound, [] if "--chunks" in a else None)
        except Bad as e:
            print("ERROR: %s" % e)
            sys.exit(1)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
