"""protowire.py - the protobuf wire format, by hand, for the test and benchmark tools.

Shared by the remote-write senders (test/lib/rw_sender.py, test/soak/sender.py) and
the benchmark (test/bench/storage.py, remote_read.py).  It uses nothing of the
project's C code.  (test/independent_encoder.py and test/read_decoder.py keep
their own, deliberately: they are the independent references the tests compare
the extension against.)

  varint(n)                 base-128 varint; a negative int64 takes ten bytes
  field_bytes(num, payload) a length-delimited field (wire type 2)
  label(name, value)        TimeSeries.labels (field 1): Label{name = 1, value = 2}
  read_varint(b, i)         (value, next index); ValueError when truncated or too long
  fields(b)                 yields (field number, wire type, value) of a message:
                            the value is an int (varint), or a slice of b (fixed64,
                            fixed32, length-delimited; a memoryview stays a view);
                            ValueError on a malformed message
"""


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


def field_bytes(num, payload):
    return varint((num << 3) | 2) + varint(len(payload)) + payload


def label(name, value):
    return field_bytes(1, field_bytes(1, name.encode()) + field_bytes(2, value.encode()))


def read_varint(b, i):
    c = b[i] if i < len(b) else None
    if c is not None and c < 0x80:     # the common case: one byte
        return c, i + 1
    r = s = 0
    while True:
        if i >= len(b) or s > 63:
            raise ValueError("protobuf: truncated or overlong varint")
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def fields(b):
    i, n = 0, len(b)
    while i < n:
        key, i = read_varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(b, i)
        elif wt == 2:
            ln, i = read_varint(b, i)
            if i + ln > n:
                raise ValueError("protobuf: field longer than its message")
            v, i = b[i:i + ln], i + ln
        elif wt in (1, 5):
            w = 8 if wt == 1 else 4
            if i + w > n:
                raise ValueError("protobuf: truncated fixed field")
            v, i = b[i:i + w], i + w
        else:
            raise ValueError(f"protobuf: wire type {wt}")
        yield num, wt, v
