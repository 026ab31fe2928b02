#!/usr/bin/python3
"""ha_slot_sim.py - the remote-write requests of two simulated HA replicas, for
test/sql/ha_scrape_slot.sql (one sample per scrape slot across a failover).

Usage: /usr/bin/python3 test/ha_slot_sim.py

Prints one CSV line per request, in the order they reach the database:
    sequence number,send time (ms since the epoch),the snappy-compressed
    WriteRequest as a bytea hex literal

Every cluster has two replicas: a scrapes at phase 0, b at a fraction of the
scrape interval later.  Each replica sends, 100 ms after each of its 1 s
scrapes, everything it scraped since its previous send, so one request holds
series of both intervals (1 s and 3 s) whenever a 3 s scrape falls in it.
a's last request is the one after tick KILL; in the slot_p* clusters a dies in the
middle of that send, which carries only the even-numbered series.  b goes on
and takes over after the failover timeout (the SQL sets it to 5 s): its
request of tick KILL + 5 is the first one 5 s after a's last.

  slot_p00, slot_p30, slot_p50, slot_p70
                       b at 0, 0.3, 0.5, 0.7 of the interval; 6 series of
                       each interval (labels interval="1s" | "3s", series=0..5);
                       in slot_p30, b's request of tick KILL is sent twice (a
                       retry) and that of tick KILL + 1 arrives after the one
                       of KILL + 2 (late): buffered, they are replayed out of
                       order and with a sample twice
  slot_stale           b at 0.3: series "ends" is last scraped by a at KILL,
                       b's next scrape finds it gone (a stale marker at
                       KILL + 300); series "ended" got a's stale marker at
                       KILL and b's at KILL + 300; series "steady" is
                       scraped all along
  slot_single          b at 0.3 scrapes series "once" only once, at
                       KILL + 300, and holds that sample back until its
                       request of tick KILL + 5, the takeover: one sample
                       of the new leader, judged by the old leader's stored
                       interval (it shares a's last slot: dropped); series
                       "once_next" the same at KILL + 1300 (the next slot:
                       kept); series "lone" has one sample of a (at KILL)
                       and one of b (KILL + 300): no interval on either
                       side, nothing to judge by, kept; series "steady" is
                       scraped all along
  slot_restart         b, just restarted, first scrapes 54 ms after a's
                       last scrape (tick KILL): every sample b buffers is
                       newer than a's last one, so the takeover looks
                       before them for a's; b's first sample shares a's
                       last slot (dropped), its next one is kept

Sample values are scrape number * 10 + replica digit (a = 1, b = 2), so the
stored rows say which replica each sample came from.  Stale markers are the
NaN 0x7ff0000000000002.

The protobuf is written by hand (field numbers of upstream prompb: WriteRequest
timeseries = 1; TimeSeries labels = 1, samples = 2; Label name = 1, value = 2;
Sample value = 1 (double), timestamp = 2) with the helpers of read_decoder.py
beside this file, and compressed with python3-snappy's block format.
"""
import os
import struct
import sys

import snappy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_decoder import field, ld, varint  # noqa: E402

BASE = 1767225600000          # 2026-01-01T00:00:00Z
KILL = 20                     # a's last (partial) send is after tick KILL
TICKS = 40                    # b sends up to tick TICKS
STALE = 0x7FF0000000000002
PHASES = {"slot_p00": 0.0, "slot_p30": 0.3, "slot_p50": 0.5, "slot_p70": 0.7}
INTERVALS = {"1s": 1000, "3s": 3000}


def bits(v):
    return struct.unpack("<Q", struct.pack("<d", v))[0]


def series_bytes(labels, samples):
    out = b""
    for name, value in sorted(labels.items()):
        out += ld(1, ld(1, name.encode()) + ld(2, value.encode()))
    for t, vbits in samples:
        out += ld(2, field(1, 1, struct.pack("<Q", vbits)) + field(2, 0, varint(t)))
    return ld(1, out)


class Series:
    """One series as one replica scrapes it: labels and a rule for its samples."""

    def __init__(self, labels, interval, phase, first=None, last=None, stale_at=None):
        self.labels = labels
        self.interval = interval
        self.offset = round(phase * interval)
        self.first = first          # no scrape before this time
        self.last = last            # no scrape after this time (series gone)
        self.stale_at = stale_at    # a stale marker at this time

    def samples(self, lo, hi, digit):
        """The samples scraped in (lo, hi]."""
        out = []
        k = (lo - BASE - self.offset) // self.interval + 1
        while True:
            t = BASE + self.offset + k * self.interval
            if t > hi:
                break
            if (self.first is None or t >= self.first) and (self.last is None or t <= self.last):
                out.append((t, bits(float(k * 10 + digit))))
            elif self.stale_at == t:
                out.append((t, STALE))
            k += 1
        return out


def replica_series(cluster, replica, phase):
    common = {"cluster": cluster, "__replica__": replica}
    out = []
    if cluster in PHASES:
        for iname, iv in INTERVALS.items():
            for i in range(6):
                out.append(Series(dict(common, __name__="slot_test", interval=iname, series=str(i)),
                                  iv, phase))
        return out
    kill = BASE + KILL * 1000
    if cluster == "slot_restart":
        for i in range(3):
            out.append(Series(dict(common, __name__=cluster, series=str(i)), 1000, phase,
                              first=None if replica == "a" else kill + round(phase * 1000)))
        return out
    out.append(Series(dict(common, __name__=cluster, series="steady"), 1000, phase))
    if cluster == "slot_stale":
        ends_last = kill if replica == "a" else kill - 700
        out.append(Series(dict(common, __name__="slot_stale", series="ends"), 1000, phase,
                          last=ends_last, stale_at=None if replica == "a" else kill + 300))
        ended_last = kill - 1000 if replica == "a" else kill - 700
        out.append(Series(dict(common, __name__="slot_stale", series="ended"), 1000, phase,
                          last=ended_last, stale_at=kill if replica == "a" else kill + 300))
    else:
        if replica == "a":
            out.append(Series(dict(common, __name__="slot_single", series="once"), 1000, phase,
                              last=kill))
        else:
            out.append(Series(dict(common, __name__="slot_single", series="once"), 1000, phase,
                              first=kill + 300, last=kill + 300))
        b_once_next = kill + 1300
        out.append(Series(dict(common, __name__="slot_single", series="once_next"), 1000, phase,
                          last=kill) if replica == "a" else
                   Series(dict(common, __name__="slot_single", series="once_next"), 1000, phase,
                          first=b_once_next, last=b_once_next))
        b_lone = kill + 300
        out.append(Series(dict(common, __name__="slot_single", series="lone"), 1000, phase,
                          first=kill, last=kill) if replica == "a" else
                   Series(dict(common, __name__="slot_single", series="lone"), 1000, phase,
                          first=b_lone, last=b_lone))
    return out


def main():
    requests = []               # (send time, order, payload)
    clusters = list(PHASES) + ["slot_stale", "slot_single", "slot_restart"]
    for cluster in clusters:
        phase = PHASES.get(cluster, 0.054 if cluster == "slot_restart" else 0.3)
        for replica, ph, digit in (("a", 0.0, 1), ("b", phase, 2)):
            series = replica_series(cluster, replica, ph)
            last_tick = KILL if replica == "a" else TICKS
            held = []           # slot_single: b holds its samples of series with a first time until the takeover
            for tick in range(1, last_tick + 1):
                scrape = BASE + tick * 1000 + round(ph * 1000)
                body = b""
                for n, s in enumerate(series):
                    if replica == "a" and tick == KILL and n % 2 == 1 and cluster in PHASES:
                        continue            # a dies in the middle of this send
                    got = s.samples(scrape - 1000, scrape, digit)
                    if s.first is not None and got and replica == "b" and cluster == "slot_single":
                        held.append((s, got))
                        continue
                    if got:
                        body += series_bytes(s.labels, got)
                if held and tick == KILL + 5:
                    for s, got in held:
                        body += series_bytes(s.labels, got)
                    held = []
                if not body:
                    continue
                send = scrape + 100
                if cluster == "slot_p30" and replica == "b" and tick == KILL + 1:
                    send += 1050        # late: reaches the database after the next one
                requests.append((send, len(requests), snappy.compress(body)))
                if cluster == "slot_p30" and replica == "b" and tick == KILL:
                    requests.append((send + 50, len(requests), snappy.compress(body)))  # a retry
    requests.sort()
    for seq, (t, _, payload) in enumerate(requests):
        print("%d,%d,%s" % (seq, t, "\\x" + payload.hex()))


if __name__ == "__main__":
    main()
