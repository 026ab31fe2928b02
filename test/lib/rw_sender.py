#!/usr/bin/python3
"""rw_sender.py - remote-write senders under load that log every acknowledged request.

Usage:
  /usr/bin/python3 rw_sender.py --fe HOST:PORT --out DIR [--series 200]
                                [--drain 30] [--max-backoff 0.5]
                                SENDER [SENDER...]

  SENDER is  NAME=CLUSTER/REPLICA  (a replica of an HA pair) or  NAME=plain
  (no HA labels at all).

Each sender is one thread with one request in flight, sent back to back through
one keep-alive connection to the front end: a closed loop, as fast as the
database answers (the load).  Request k of a sender holds --series counters, all
at one timestamp: the first millisecond at or after the wall clock, later than
the sender's previous one, and congruent to the sender's slot modulo the number
of replicas of its cluster (r1 even, r2 odd, ...), so that no two replicas of a
cluster ever send the same (series, time) and a stored sample says which replica
sent it.  Labels, sorted by name as Prometheus sends them:
  HA:     __name__=standby_load_total __replica__=REPLICA cluster=CLUSTER
          instance=i-NNNN job=standby
  plain:  __name__=standby_load_total instance=i-NNNN job=plain sender=NAME
Series i's value at time t (ms) is t * 1000 + i, exact in a float64.

Answers, as Prometheus' queue manager treats them:
  2xx   acknowledged: one line in DIR/acks.tsv, then the next request;
  5xx, connection error, timeout: the same request again after a backoff
        (50 ms doubling to --max-backoff, reset by a 2xx): nothing unacknowledged
        is ever dropped;
  4xx   dropped (Prometheus does not retry it) and logged in DIR/errors.tsv.

SIGTERM or SIGINT: no new request is made; each sender retries the one it holds
until it is acknowledged or --drain seconds have passed; then DIR/summary.tsv is
written and the program exits: 0 when nothing was dropped or left unsent, 1
otherwise, 2 on a usage error.

Files (tab-separated, times in epoch seconds, ts in epoch ms):
  acks.tsv     name cluster replica ts status outcome attempts first_try acked
               (cluster and replica are "-" for a plain sender)
  errors.tsv   time name ts kind status detail      (kind: conn, 5xx, 4xx)
  summary.tsv  name cluster replica requests acked_204 acked_202 errors_5xx
               errors_conn errors_4xx unsent
"""
import argparse
import http.client
import os
import signal
import struct
import sys
import threading
import time

import snappy

from protowire import field_bytes, label, varint  # noqa: E402 (beside this file)

MIN_BACKOFF = 0.05
HTTP_TIMEOUT = 10.0
HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "promscale-ha-test-sender/1.0",
}
stopping = threading.Event()


class Log:
    """A line-buffered tab-separated file shared by the threads."""

    def __init__(self, path):
        self.f = open(path, "w", buffering=1)
        self.lock = threading.Lock()

    def write(self, *fields):
        line = "\t".join(str(f).replace("\t", " ").replace("\n", " ") for f in fields)
        with self.lock:
            self.f.write(line + "\n")

    def close(self):
        self.f.close()


class Sender(threading.Thread):
    """One simulated writer: make a request, send it until acknowledged, repeat."""

    def __init__(self, name, cluster, replica, slot, slots, args, acks, errors):
        super().__init__(name=name, daemon=True)
        self.sname = name
        self.cluster = cluster
        self.replica = replica
        self.slot = slot
        self.slots = slots
        self.host, port = args.fe.rsplit(":", 1)
        self.port = int(port)
        self.max_backoff = args.max_backoff
        self.drain = args.drain
        self.acks = acks
        self.errors = errors
        self.conn = None
        self.last_ts = 0
        self.prefixes = []
        for i in range(args.series):
            if cluster is None:
                labels = [("__name__", "standby_load_total"), ("instance", "i-%04d" % i),
                          ("job", "plain"), ("sender", name)]
            else:
                labels = [("__name__", "standby_load_total"), ("__replica__", replica),
                          ("cluster", cluster), ("instance", "i-%04d" % i), ("job", "standby")]
            assert [n for n, _ in labels] == sorted(n for n, _ in labels)
            self.prefixes.append(b"".join(label(n, v) for n, v in labels))
        self.stats = dict(requests=0, acked_204=0, acked_202=0, errors_5xx=0, errors_conn=0,
                          errors_4xx=0, unsent=0)

    def next_ts(self):
        """The next timestamp: >= now, > the last one, == slot (mod slots)."""
        ts = max(int(time.time() * 1000), self.last_ts + 1)
        ts += (self.slot - ts) % self.slots
        self.last_ts = ts
        return ts

    def body(self, ts):
        """A snappy-compressed WriteRequest of every series at ts."""
        stamp = b"\x10" + varint(ts)
        parts = []
        for i, prefix in enumerate(self.prefixes):
            sample = field_bytes(2, b"\x09" + struct.pack("<d", float(ts * 1000 + i)) + stamp)
            parts.append(field_bytes(1, prefix + sample))
        return snappy.compress(b"".join(parts))

    def drop_conn(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def attempt(self, body):
        """One POST: (status or None, outcome header, detail)."""
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=HTTP_TIMEOUT)
            self.conn.request("POST", "/write", body=body, headers=HEADERS)
            r = self.conn.getresponse()
            data = r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.drop_conn()
            return r.status, r.getheader("X-Promscale-HA", ""), data[:200].decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as e:
            self.drop_conn()
            return None, "", "%s: %s" % (type(e).__name__, e)

    def send(self, ts, body):
        """Send one request until it is acknowledged (or dropped on a 4xx, or the drain ends)."""
        attempts = 0
        first_try = time.time()
        backoff = 0.0
        deadline = None
        while True:
            attempts += 1
            status, outcome, detail = self.attempt(body)
            done = time.time()
            if status is not None and 200 <= status < 300:
                self.stats["acked_204" if status == 204 else "acked_202"] += 1
                self.acks.write(self.sname, self.cluster or "-", self.replica or "-", ts, status,
                                outcome or "-", attempts, "%.3f" % first_try, "%.3f" % done)
                return True
            if status is not None and 400 <= status < 500:
                self.stats["errors_4xx"] += 1
                self.errors.write("%.3f" % done, self.sname, ts, "4xx", status, detail)
                return True
            kind = "conn" if status is None else "5xx"
            self.stats["errors_" + kind] += 1
            self.errors.write("%.3f" % done, self.sname, ts, kind, status or "-", detail)
            if stopping.is_set():
                if deadline is None:
                    deadline = done + self.drain
                if done >= deadline:
                    return False
            backoff = min(self.max_backoff, max(MIN_BACKOFF, backoff * 2))
            time.sleep(backoff)

    def run(self):
        while not stopping.is_set():
            ts = self.next_ts()
            self.stats["requests"] += 1
            if not self.send(ts, self.body(ts)):
                self.stats["unsent"] += 1
                break
        self.drop_conn()


def parse_sender(spec):
    """NAME=CLUSTER/REPLICA or NAME=plain -> (name, cluster, replica)."""
    name, sep, what = spec.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected NAME=CLUSTER/REPLICA or NAME=plain: %r" % spec)
    if what == "plain":
        return name, None, None
    cluster, sep, replica = what.partition("/")
    if not sep or not cluster or not replica:
        raise argparse.ArgumentTypeError("expected NAME=CLUSTER/REPLICA or NAME=plain: %r" % spec)
    return name, cluster, replica


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--fe", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--series", type=int, default=200)
    p.add_argument("--drain", type=float, default=30.0)
    p.add_argument("--max-backoff", type=float, default=0.5)
    p.add_argument("senders", nargs="+", type=parse_sender)
    args = p.parse_args()
    if not 1 <= args.series <= 1000:
        p.error("--series must be 1..1000 (the value t * 1000 + i must stay exact)")
    names = [s[0] for s in args.senders]
    if len(set(names)) != len(names):
        p.error("sender names must be unique")

    # replicas of one cluster get the slots 0, 1, ... in the order given
    slots = {}
    for _, cluster, _ in args.senders:
        if cluster is not None:
            slots[cluster] = slots.get(cluster, 0) + 1
    acks = Log(os.path.join(args.out, "acks.tsv"))
    errors = Log(os.path.join(args.out, "errors.tsv"))
    seen = {}
    senders = []
    for name, cluster, replica in args.senders:
        if cluster is None:
            slot, n = 0, 1
        else:
            slot, n = seen.get(cluster, 0), slots[cluster]
            seen[cluster] = slot + 1
        senders.append(Sender(name, cluster, replica, slot, n, args, acks, errors))

    def stop(_signum, _frame):
        stopping.set()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for s in senders:
        s.start()
    while not stopping.is_set() and any(s.is_alive() for s in senders):
        stopping.wait(0.2)
    for s in senders:
        # a request in flight may take HTTP_TIMEOUT per attempt, then the drain
        s.join(args.drain + 2 * HTTP_TIMEOUT)
    with open(os.path.join(args.out, "summary.tsv"), "w") as f:
        keys = ["requests", "acked_204", "acked_202", "errors_5xx", "errors_conn",
                "errors_4xx", "unsent"]
        f.write("name\tcluster\treplica\t" + "\t".join(keys) + "\n")
        for s in senders:
            if s.is_alive():
                s.stats["unsent"] = max(1, s.stats["unsent"])
            f.write("%s\t%s\t%s\t%s\n" % (s.sname, s.cluster or "-", s.replica or "-",
                                          "\t".join(str(s.stats[k]) for k in keys)))
    acks.close()
    errors.close()
    bad = sum(s.stats["unsent"] + s.stats["errors_4xx"] for s in senders)
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
