#!/usr/bin/python3
"""target.py - the scrape target of the end-to-end test (test/e2e/run.sh).

Serves GET /metrics in the Prometheus text format with N counters
pha_e2e_counter_total{idx="0".."N-1"}.  Each Prometheus replica scrapes it with
its own ?replica=NAME parameter (a scrape parameter, not a label: every replica
of a cluster produces the same label sets, as real HA pairs do), and the value
tells who scraped: value = 10 * (scrapes of this replica so far) + the last
digit of the replica name.  So a stored sample says which replica it came
from, and the test can check it against the leader periods in
promscale_ha.ha_leases_logs.

Usage: target.py PORT N
"""
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT = int(sys.argv[1])
NSERIES = int(sys.argv[2])
NHIST = int(sys.argv[3]) if len(sys.argv) > 3 else 0
BUCKETS = (("0.1", 1), ("0.5", 3), ("1", 6), ("+Inf", 10))
lock = threading.Lock()
scrapes = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urlparse(self.path)
        if url.path != "/metrics":
            self.send_error(404)
            return
        replica = parse_qs(url.query).get("replica", ["r0"])[0]
        digit = int(replica[-1]) if replica[-1:].isdigit() else 0
        with lock:
            n = scrapes.get(replica, 0) + 1
            scrapes[replica] = n
        value = 10 * n + digit
        lines = ["# HELP pha_e2e_counter_total A counter per idx; value = 10 * scrapes + replica digit.",
                 "# TYPE pha_e2e_counter_total counter"]
        lines += ['pha_e2e_counter_total{idx="%d"} %d' % (i, value) for i in range(NSERIES)]
        if NHIST:
            lines += ["# TYPE pha_e2e_latency_seconds histogram"]
        for h in range(NHIST):
            lines += ['pha_e2e_latency_seconds_bucket{hist="%d",le="%s"} %d' % (h, le, c * n)
                      for le, c in BUCKETS]
            lines += ['pha_e2e_latency_seconds_sum{hist="%d"} %.1f' % (h, 4.5 * n),
                      'pha_e2e_latency_seconds_count{hist="%d"} %d' % (h, 10 * n)]
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
