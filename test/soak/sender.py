#!/usr/bin/python3
"""sender.py - simulated Prometheus HA replicas for the soak test (test/soak/run.sh).

Usage:
  /usr/bin/python3 sender.py --out DIR --fe 127.0.0.1:PORT[,HOST:PORT...]
                             [--t0 EPOCH] [--duration S] [--clusters 3] [--replicas 2]
                             [--series 500] [--failover-every 60] [--death 8]
                             [--drain 60]

Each replica (clusters c1..cN, replicas r1..rM) is one thread that behaves like a
Prometheus remote-writing one scrape per second:

  - it scrapes at every whole second of the real clock plus an offset
    ((replica - 1) * 300 ms: r1 at .000, r2 at .300), each scrape one
    remote-write 1.0 request of --series counters (labels __name__, __replica__,
    cluster, instance, job, sorted by name as Prometheus sends them), timestamped
    with the scrape time;
  - requests are queued in scrape order and sent one at a time, head of the queue
    first, to the front ends in turn (round robin, a new one for every attempt, as
    a load balancer would);
  - a 2xx acknowledges the head request (logged in acks.tsv); a 5xx or a
    connection error or timeout keeps it at the head and retries it after an
    exponential backoff (100 ms doubling to 2 s, reset by a success), as
    Prometheus' queue manager does: no unacknowledged request is ever dropped;
  - a 4xx, which Prometheus would not retry, drops the request and is logged as
    an error (the soak test fails on any).

Forced failovers: every --failover-every seconds after t0, the clusters in
rotation (c1, c2, c3, c1, ...), the replica of that cluster that most recently got
a 204 (its leader) "dies" for --death seconds: it neither scrapes nor sends
(requests already queued stay queued, an in-flight one is finished first), then
it comes back, scraping again, normally as a follower.  A failover is only
scheduled when it and 10 s after it fit in the run.

After --duration seconds from t0 no replica scrapes any more; each sends what it
still has queued (at most --drain seconds), then the program writes its summary
and exits.

Files written into DIR (tab-separated, times as epoch seconds):
  acks.tsv     cluster replica scrape_ms status outcome attempts first_try acked fe
  errors.tsv   time cluster replica scrape_ms kind status detail
               (kind: conn = connection error or timeout, 5xx, 4xx)
  events.tsv   death cluster replica start end
  summary.tsv  cluster replica scrapes acked_204 acked_202 attempts errors_5xx
               errors_conn errors_4xx dropped_4xx unsent max_queue max_ack_delay
Exit status 0 when every queue was drained, 1 otherwise, 2 on usage errors.
"""
import argparse
import http.client
import os
import struct
import sys
import threading
import time
from collections import deque

import snappy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from protowire import field_bytes, label, varint  # noqa: E402

MIN_BACKOFF = 0.1
MAX_BACKOFF = 2.0
HTTP_TIMEOUT = 10.0
HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "promscale-ha-soak/1.0",
}


def series_labels(cluster, replica, i):
    """The encoded, name-sorted labels of series i of a replica."""
    labels = [
        ("__name__", "soak_counter_%02d_total" % (i % 20)),
        ("__replica__", replica),
        ("cluster", cluster),
        ("instance", "host-%04d:9100" % i),
        ("job", "soak"),
    ]
    assert [n for n, _ in labels] == sorted(n for n, _ in labels)
    return b"".join(label(n, v) for n, v in labels)


class Log:
    """Line-buffered, thread-safe tab-separated log file."""

    def __init__(self, path):
        self.f = open(path, "w", buffering=1)
        self.lock = threading.Lock()

    def write(self, *fields):
        line = "\t".join(str(f).replace("\t", " ").replace("\n", " ") for f in fields) + "\n"
        with self.lock:
            self.f.write(line)

    def close(self):
        self.f.close()


class Replica(threading.Thread):
    """One simulated Prometheus: scrape loop and in-order remote-write queue."""

    def __init__(self, cluster, replica, offset_ms, args, logs):
        super().__init__(name="%s/%s" % (cluster, replica), daemon=True)
        self.cluster = cluster
        self.replica = replica
        self.offset_ms = offset_ms
        self.fes = args.fe
        self.end_ms = int((args.t0 + args.duration) * 1000)
        self.drain_until = args.t0 + args.duration + args.drain
        self.t0 = args.t0
        self.acks, self.errors = logs
        self.prefixes = [series_labels(cluster, replica, i) for i in range(args.series)]
        self.queue = deque()            # [scrape_ms, body, attempts, first_try]
        self.conns = {}
        self.rr = 0
        self.backoff = 0.0
        self.retry_at = 0.0
        self.dead_from = 0.0            # set by the main thread (a float assignment)
        self.dead_until = 0.0
        self.last_204 = 0.0
        self.stats = dict(scrapes=0, acked_204=0, acked_202=0, attempts=0, errors_5xx=0,
                          errors_conn=0, errors_4xx=0, dropped_4xx=0, unsent=0, max_queue=0,
                          max_ack_delay=0.0)

    def die(self, start, end):
        """Stop scraping and sending from start to end (wall clock)."""
        self.dead_until = end
        self.dead_from = start

    def is_dead(self, t):
        return self.dead_from <= t < self.dead_until

    def scrape(self, t_ms):
        """One scrape: a snappy-compressed WriteRequest of every series at t_ms."""
        ts = b"\x10" + varint(t_ms)
        base = t_ms // 1000
        parts = []
        for i, prefix in enumerate(self.prefixes):
            sample = field_bytes(2, b"\x09" + struct.pack("<d", float(base + i)) + ts)
            parts.append(field_bytes(1, prefix + sample))
        return snappy.compress(b"".join(parts))

    def conn(self, fe):
        c = self.conns.get(fe)
        if c is None:
            host, port = fe.rsplit(":", 1)
            c = http.client.HTTPConnection(host, int(port), timeout=HTTP_TIMEOUT)
            self.conns[fe] = c
        return c

    def drop_conn(self, fe):
        c = self.conns.pop(fe, None)
        if c is not None:
            c.close()

    def send_head(self):
        """One attempt at the head of the queue."""
        item = self.queue[0]
        t_ms, body = item[0], item[1]
        fe = self.fes[self.rr % len(self.fes)]
        self.rr += 1
        now = time.time()
        if item[3] is None:
            item[3] = now
        item[2] += 1
        self.stats["attempts"] += 1
        status, outcome, detail = None, "", ""
        try:
            c = self.conn(fe)
            c.request("POST", "/write", body=body, headers=HEADERS)
            r = c.getresponse()
            data = r.read()
            status = r.status
            outcome = r.getheader("X-Promscale-HA", "")
            detail = data[:300].decode("utf-8", "replace")
            if r.getheader("Connection", "").lower() == "close":
                self.drop_conn(fe)
        except (OSError, http.client.HTTPException) as e:
            self.drop_conn(fe)
            detail = "%s: %s" % (type(e).__name__, e)
        done = time.time()
        if status is not None and 200 <= status < 300:
            self.queue.popleft()
            self.backoff = 0.0
            self.retry_at = 0.0
            if status == 204:
                self.stats["acked_204"] += 1
                self.last_204 = done
            else:
                self.stats["acked_202"] += 1
            delay = done - t_ms / 1000.0
            self.stats["max_ack_delay"] = max(self.stats["max_ack_delay"], delay)
            self.acks.write(self.cluster, self.replica, t_ms, status, outcome, item[2],
                            "%.3f" % item[3], "%.3f" % done, fe)
            return
        if status is not None and 400 <= status < 500:
            # Prometheus drops a request answered 4xx: so do we, loudly
            self.stats["errors_4xx"] += 1
            self.stats["dropped_4xx"] += 1
            self.errors.write("%.3f" % done, self.cluster, self.replica, t_ms, "4xx", status,
                              "%s %s" % (fe, detail))
            self.queue.popleft()
            return
        kind = "conn" if status is None else "5xx"
        self.stats["errors_" + kind] += 1
        self.errors.write("%.3f" % done, self.cluster, self.replica, t_ms, kind,
                          status if status is not None else "-", "%s %s" % (fe, detail))
        self.backoff = min(MAX_BACKOFF, max(MIN_BACKOFF, self.backoff * 2))
        self.retry_at = done + self.backoff

    def run(self):
        now_ms = int(time.time() * 1000)
        start_ms = max(now_ms, int(self.t0 * 1000))
        next_ms = (start_ms - self.offset_ms + 999) // 1000 * 1000 + self.offset_ms
        while True:
            now = time.time()
            while next_ms <= now * 1000 and next_ms < self.end_ms:
                if not self.is_dead(next_ms / 1000.0):
                    self.queue.append([next_ms, self.scrape(next_ms), 0, None])
                    self.stats["scrapes"] += 1
                    self.stats["max_queue"] = max(self.stats["max_queue"], len(self.queue))
                next_ms += 1000
            dead = self.is_dead(now)
            if self.queue and not dead and now >= self.retry_at:
                self.send_head()
                continue
            if next_ms >= self.end_ms and not self.queue:
                break
            if now >= self.drain_until:
                break
            wake = self.drain_until
            if next_ms < self.end_ms:
                wake = min(wake, next_ms / 1000.0)
            if self.queue:
                wake = min(wake, self.dead_until if dead else self.retry_at)
            time.sleep(min(0.25, max(0.001, wake - time.time())))
        self.stats["unsent"] = len(self.queue)
        for fe in list(self.conns):
            self.drop_conn(fe)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--fe", required=True, type=lambda s: s.split(","))
    p.add_argument("--t0", type=float, default=None)
    p.add_argument("--duration", type=float, default=600)
    p.add_argument("--clusters", type=int, default=3)
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--series", type=int, default=500)
    p.add_argument("--failover-every", type=float, default=60)
    p.add_argument("--death", type=float, default=8)
    p.add_argument("--drain", type=float, default=60)
    args = p.parse_args()
    if args.t0 is None:
        args.t0 = time.time()
    if args.replicas < 2 or args.replicas > 3:
        p.error("--replicas must be 2 or 3 (offsets 0, 300, 600 ms)")

    acks = Log(os.path.join(args.out, "acks.tsv"))
    errors = Log(os.path.join(args.out, "errors.tsv"))
    events = Log(os.path.join(args.out, "events.tsv"))
    clusters = ["c%d" % (c + 1) for c in range(args.clusters)]
    reps = {}
    for c in clusters:
        for r in range(args.replicas):
            reps[(c, "r%d" % (r + 1))] = Replica(c, "r%d" % (r + 1), 300 * r, args, (acks, errors))
    for rep in reps.values():
        rep.start()

    # the forced failovers, from this (main) thread
    end = args.t0 + args.duration
    k = 1
    while args.t0 + k * args.failover_every + args.death + 10 <= end:
        at = args.t0 + k * args.failover_every
        while time.time() < at:
            time.sleep(min(0.5, max(0.01, at - time.time())))
        c = clusters[(k - 1) % len(clusters)]
        mine = [rep for (cc, _), rep in reps.items() if cc == c]
        leader = max(mine, key=lambda rep: rep.last_204)
        now = time.time()
        if now - leader.last_204 > 5:
            print("%.3f no replica of %s got a 204 in the last 5 s: no failover" % (now, c),
                  flush=True)
        else:
            leader.die(now, now + args.death)
            events.write("death", c, leader.replica, "%.3f" % now, "%.3f" % (now + args.death))
            print("%.3f death of %s/%s until %.3f" % (now, c, leader.replica, now + args.death),
                  flush=True)
        k += 1

    for rep in reps.values():
        rep.join(max(1.0, args.t0 + args.duration + args.drain + 15 - time.time()))
    with open(os.path.join(args.out, "summary.tsv"), "w") as f:
        keys = ["scrapes", "acked_204", "acked_202", "attempts", "errors_5xx", "errors_conn",
                "errors_4xx", "dropped_4xx", "unsent", "max_queue", "max_ack_delay"]
        f.write("cluster\treplica\t" + "\t".join(keys) + "\n")
        for (c, r), rep in sorted(reps.items()):
            if rep.is_alive():
                rep.stats["unsent"] = max(1, len(rep.queue))
            vals = [("%.3f" % rep.stats[k]) if k == "max_ack_delay" else str(rep.stats[k])
                    for k in keys]
            f.write("%s\t%s\t%s\n" % (c, r, "\t".join(vals)))
    for log in (acks, errors, events):
        log.close()
    unsent = sum(rep.stats["unsent"] for rep in reps.values())
    return 0 if unsent == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
