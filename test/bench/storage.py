#!/usr/bin/env python3
"""storage.py - the storage section of the promscale_ha benchmark: bytes per sample on
disk, query times and compression throughput against Prometheus and VictoriaMetrics.

Run by bench.py as the last section of `make bench` (test/bench/run.sh), in bench.py's
PostgreSQL, or alone (after run.sh's build step, as root):

    python3 test/bench/storage.py [--quick] [--work DIR] [--out FILE]
    sudo bash test/bench/run.sh --storage-only [--quick]     (the same, built first)

Alone it starts its own throw-away PostgreSQL 15 (bench.py's settings) and writes its
section to --out (default: the work directory) and the terminal; RESULTS.md is only
written by the whole benchmark.

What it does (the figures' method is also written into the report):

  1. Data: --profile node of promscale-ha-gen, N instances (547 series each), 15 s
     scrapes with 5 ms jitter, over H hours ending at the last 2-hour boundary before
     now (so that every head partition has ended and compress_now('0') takes all of
     it).  The samples come from `promscale-ha-gen --dump-samples` (values and jittered
     timestamps of every series, scrape by scrape) and the label sets from one request
     of the same generator; this script packs them in time order into remote-write
     requests of 2,000 samples (Prometheus' max_samples_per_send), snappy via
     libsnappy.  The same files go to every store.  A second, smaller data set with
     --values random is the worst case.
  2. Ingest with test/bench/pha_bench.c on one connection, in time order: write() for
     promscale_ha, remote-write POSTs for Prometheus 2.42 and VictoriaMetrics 1.79
     (fresh instances of their own, on 127.0.0.1).
  3. promscale_ha: sizes of the head, query times on the head, a copy of the
     database (CREATE DATABASE ... TEMPLATE) for the other chunk format, then
     compress_now('0') in each (backend CPU from /proc/self/stat and schedstat), VACUUM
     ANALYZE of the chunks, sizes by part, query times on the chunks.
  4. Prometheus: persisted blocks after its own compaction (bounded wait); VM: size of
     its data directory after a force merge (bounded wait).  The same queries as raw
     samples (`sel[range]` instant queries), counts compared.
  5. Remote read (test/bench/remote_read.py): 1, ~100 and ~10,000 series over 1 h and
     the whole data set, SAMPLES and STREAMED_XOR_CHUNKS, through the front end's
     /read on the head and on each compressed copy, and through Prometheus' own
     /api/v1/read; counts compared.

PostgreSQL's programs are bench.py's PG_BIN: the pg_config first on PATH when it is a
PostgreSQL 15 (a private build), else Debian's.  PHA_BENCH_PORTS=LO-HI makes every
server started here listen on a port of that range (a machine shared with others).

Every wait is bounded; every process started here is stopped by its PID.
"""

import argparse
import ctypes
import datetime
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import (PG_BIN, PG_CONF, Failure, Procs, deb_version, free_port as kernel_free_port,  # noqa: E402
                   http_get, log, wait_until)
import remote_read  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from protowire import fields, varint  # noqa: E402

STEP_MS = 15000
JITTER_MS = 5
PER_REQUEST = 2000           # samples per remote-write request (Prometheus' batches)
HOUR_MS = 3600 * 1000
PART_MS = 2 * HOUR_MS        # promscale_ha.partition_interval's default: data ends on one
SLOT_OFF_MS = STEP_MS // 2   # scrapes at 7.5 s past each 15 s slot: windows and partition edges on
                             # the slots never meet a sample, jitter or not

FULL = {"instances": 30, "hours": 12, "r_instances": 30, "r_hours": 2, "reps": 7}
QUICK = {"instances": 3, "hours": 6, "r_instances": 3, "r_hours": 1, "reps": 3}

# --------------------------------------------------------------------------- requests

_snappy = None


def snappy_compress(raw):
    global _snappy
    if _snappy is None:
        lib = ctypes.CDLL("libsnappy.so.1")
        lib.snappy_max_compressed_length.restype = ctypes.c_size_t
        lib.snappy_max_compressed_length.argtypes = [ctypes.c_size_t]
        lib.snappy_compress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                        ctypes.POINTER(ctypes.c_size_t)]
        _snappy = lib
    n = _snappy.snappy_max_compressed_length(len(raw))
    out = ctypes.create_string_buffer(n)
    ln = ctypes.c_size_t(n)
    if _snappy.snappy_compress(raw, len(raw), out, ctypes.byref(ln)) != 0:
        raise Failure("snappy_compress failed")
    return out.raw[:ln.value]


def series_of(gen, instances, start_ms, values):
    """Label sets of the series, in the generator's order: the encoded Label fields of each
    TimeSeries, a dict of each, and its first sample (to check the dump against)."""
    argv = [gen, "--profile", "node", "--instances", str(instances), "--samples", "1",
            "--start-ms", str(start_ms), "--interval-ms", str(STEP_MS), "--jitter-ms", str(JITTER_MS),
            "--no-compress"] + (["--values", "random"] if values == "random" else [])
    pb = subprocess.run(argv, capture_output=True, check=True, timeout=120).stdout
    enc, dicts, first = [], [], []
    for f, _, body in fields(pb):
        if f != 1:
            continue
        lb = bytearray()
        d = {}
        smp = (0.0, None)
        for g, _, v in fields(body):
            if g == 1:
                lb += b"\x0a" + varint(len(v)) + v
                kv = {h: x.decode() for h, _, x in fields(v)}
                d[kv.get(1, "")] = kv.get(2, "")
            elif g == 2:
                sm = {h: x for h, _, x in fields(v)}
                smp = (sm.get(1, bytes(8)), sm.get(2))
        enc.append(bytes(lb))
        dicts.append(d)
        first.append(smp)
    return enc, dicts, first


_G = {}   # the worker processes' view of the data set (fork)


def _pool_init():
    # the parent's SIGTERM handler (bench.py, main()) must not run in the workers: the pool
    # stops them with SIGTERM when it is done
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _encode_hour(job):
    """Requests of one hour: gen --dump-samples, then PER_REQUEST samples per request."""
    h, start_ms, steps = job
    g = _G
    argv = [g["gen"], "--profile", "node", "--instances", str(g["instances"]), "--samples", str(steps),
            "--start-ms", str(start_ms), "--interval-ms", str(STEP_MS), "--jitter-ms", str(JITTER_MS),
            "--dump-samples", "/dev/stdout"] + (["--values", "random"] if g["values"] == "random" else [])
    dump = subprocess.run(argv, capture_output=True, check=True, timeout=600).stdout
    lbls = g["enc"]
    nser = len(lbls)
    if len(dump) != 20 * nser * steps:
        raise Failure(f"dump of hour {h}: {len(dump)} bytes, expected {20 * nser * steps}")
    zero = bytes(8)
    hdr = {}
    out, cur = [], []
    n = 0
    lastts = None
    tsv = b""
    raw_bytes = z_bytes = 0
    label = f"{g['tag']}-h{h:02d}"

    def flush():
        nonlocal cur, n, raw_bytes, z_bytes
        raw = b"".join(cur)
        z = snappy_compress(raw)
        path = os.path.join(g["dir"], f"{label}-{len(out):04d}.bin")
        with open(path, "wb") as f:
            f.write(z)
        out.append((label, n, path))
        raw_bytes += len(raw)
        z_bytes += len(z)
        cur = []
        n = 0

    for k, (i, ts, vb) in enumerate(struct.iter_unpack("<Iq8s", dump)):
        if k < nser and h == 0:
            fv, fts = g["first"][i]
            if i != k or fts != ts or fv != vb:
                raise Failure(f"dump and request differ at series {k}: {(i, ts, vb)} vs {(fts, fv)}")
        if ts != lastts:
            lastts = ts
            tsv = b"\x10" + varint(ts)
        s = tsv if vb == zero else b"\x09" + vb + tsv
        key = (i, len(s))
        hd = hdr.get(key)
        if hd is None:
            L = lbls[i]
            hd = hdr[key] = b"\x0a" + varint(len(L) + 2 + len(s)) + L + b"\x12" + bytes((len(s),))
        cur.append(hd)
        cur.append(s)
        n += 1
        if n == PER_REQUEST:
            flush()
    if n:
        flush()
    return out, raw_bytes, z_bytes


def make_dataset(gen, work, tag, instances, hours, start_ms, values):
    """Request files for instances x hours of node data in [start_ms, +hours), scraped at
    SLOT_OFF_MS past each slot; returns a dict."""
    t0 = time.monotonic()
    d = os.path.join(work, f"storage-{tag}")
    os.makedirs(d, exist_ok=True)
    enc, dicts, first = series_of(gen, instances, start_ms + SLOT_OFF_MS, values)
    _G.clear()
    _G.update({"gen": gen, "instances": instances, "values": values, "enc": enc, "first": first,
               "dir": d, "tag": tag})
    steps = HOUR_MS // STEP_MS
    jobs = [(h, start_ms + SLOT_OFF_MS + h * HOUR_MS, steps) for h in range(hours)]
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(min(len(jobs), max(1, os.cpu_count() or 1)), initializer=_pool_init)
    try:
        parts = pool.map_async(_encode_hour, jobs).get(timeout=3600)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
    plan = [x for p in parts for x in p[0]]
    ds = {"tag": tag, "instances": instances, "hours": hours, "values": values, "start_ms": start_ms,
          "end_ms": start_ms + hours * HOUR_MS, "series": len(enc), "labels": dicts, "plan": plan,
          "samples": sum(x[1] for x in plan), "requests": len(plan),
          "raw_bytes": sum(p[1] for p in parts), "z_bytes": sum(p[2] for p in parts),
          "gen_seconds": time.monotonic() - t0}
    log(f"  data set {tag}: {ds['series']:,} series, {ds['samples']:,} samples in {ds['requests']:,} requests "
        f"({ds['z_bytes'] / 2**20:.0f} MiB snappy) in {ds['gen_seconds']:.0f} s")
    return ds


# --------------------------------------------------------------------------- helpers


_ports_given = set()


def free_port():
    """A free TCP port on 127.0.0.1: from PHA_BENCH_PORTS (LO-HI) when set, never the same
    twice, else the kernel's choice."""
    rng = os.environ.get("PHA_BENCH_PORTS")
    if not rng:
        return kernel_free_port()
    lo, hi = (int(x) for x in rng.split("-"))
    for port in range(lo, hi + 1):
        if port in _ports_given:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _ports_given.add(port)
        return port
    raise Failure(f"no free port left in PHA_BENCH_PORTS={rng}")


def dir_bytes(path):
    """Apparent size of the files below path (du -sb)."""
    total = 0
    for dp, dn, fn in os.walk(path):
        for f in fn:
            try:
                total += os.lstat(os.path.join(dp, f)).st_size
            except OSError:
                pass
    return total


def proc_cpu_s(pid):
    """CPU time of a whole process, seconds: the sum of its threads' schedstat (ns on a CPU;
    the peers' threads live as long as the process), else utime + stime (10 ms ticks)."""
    try:
        total = 0
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        fields = st[st.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric_values(base, name):
    """{labels text: value} of one metric in a /metrics page."""
    st, body = http_get(base + "/metrics", 30)
    out = {}
    for line in body.decode().splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            m = re.match(r"^(\S+?)(\{.*\})?\s+(\S+)$", line)
            if m and m.group(1) == name:
                out[m.group(2) or ""] = float(m.group(3))
    return out


def med(v):
    return statistics.median(v) if v else float("nan")


class Pg:
    """A throw-away PostgreSQL 15 for running this section alone (bench.py's settings)."""

    def __init__(self, work, procs):
        self.work = work
        self.procs = procs
        self.pg_port = free_port()

    def start(self):
        data = os.path.join(self.work, "pgdata")
        os.makedirs(data)
        shutil.chown(data, "postgres", "postgres")
        os.chmod(data, 0o700)
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/initdb", "-D", data, "-U", "postgres",
                        "-E", "UTF8", "--locale=C.UTF-8", "--auth=trust"],
                       check=True, timeout=300, stdout=subprocess.DEVNULL)
        sockdir = os.path.join(self.work, "pgsock")
        os.makedirs(sockdir)
        shutil.chown(sockdir, "postgres", "postgres")
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write("\n# ---- promscale_ha benchmark (test/bench/storage.py)\n"
                    + PG_CONF.format(port=self.pg_port, sockdir=sockdir))
        logpath = os.path.join(self.work, "postgresql.log")
        open(logpath, "a").close()
        shutil.chown(logpath, "postgres", "postgres")
        self.pg = self.procs.start("postgres", [f"{PG_BIN}/postgres", "-D", data], logpath,
                                   user="postgres", sig=signal.SIGINT)
        wait_until("PostgreSQL", lambda: subprocess.run(
            [f"{PG_BIN}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.pg_port), "-t", "2"],
            timeout=10).returncode == 0, 60)
        # the worker's database (PG_CONF: promscale_ha.database = 'bench')
        self.sql("postgres", "CREATE DATABASE bench")
        self.sql("bench", "SET client_min_messages = warning; CREATE EXTENSION promscale_ha")

    def conninfo(self, db, extra=""):
        return f"host=127.0.0.1 port={self.pg_port} user=postgres dbname={db} connect_timeout=10 {extra}".strip()

    def sql(self, db, q, timeout=600):
        r = subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.conninfo(db),
                            "-c", q], capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise Failure(f"psql {db}: {q[:200]}: {r.stderr.strip()}")
        return r.stdout.strip()


# --------------------------------------------------------------------------- the section


class Storage:
    def __init__(self, pg, procs, work, gen, client, quick, notes=None, versions=None, http_bin=None):
        self.pg = pg                # .sql(db, q), .conninfo(db), .pg_port, .pg (the postmaster's Popen)
        # promscale-ha-http for the remote reads: bench.py's (Bench.http_bin) or the caller's
        self.http_bin = http_bin or getattr(pg, "http_bin", None)
        self.rr = None              # remote_read.RemoteRead of the node data set
        self.procs = procs
        self.work = work
        self.gen = gen
        self.client = client
        # the SQL-read timer, compiled next to pha-bench (run.sh, compile_client)
        self.query_client = os.path.join(os.path.dirname(client), "pha-query")
        self.quick = quick
        self.cfg = dict(QUICK if quick else FULL)
        self.reps = self.cfg["reps"]
        self.notes = notes if notes is not None else []
        self.versions = versions if versions is not None else {}
        self.res = {"cfg": self.cfg, "quick": quick, "errors": []}
        self.started = []           # peers started here, stopped at the end

    # ---- utilities

    @staticmethod
    def port():
        return free_port()

    @staticmethod
    def cpu_of(pid):
        return proc_cpu_s(pid)

    def note(self, msg):
        log("  note: " + msg)
        self.res["errors"].append(msg)

    def psql_script(self, db, script, timeout=3600, name="script"):
        """Runs a psql script (one session); returns its stdout lines."""
        path = os.path.join(self.work, f"storage-{name}.sql")
        with open(path, "w") as f:
            f.write(script)
        r = subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.pg.conninfo(db),
                            "-f", path], capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise Failure(f"psql {db} ({name}): {r.stderr.strip()[-1500:]}")
        return r.stdout.splitlines()

    def run_client(self, mode, plan, name, db=None, url=None, cpu_pid=None, timeout=3600):
        planpath = os.path.join(self.work, f"plan-storage-{name}.txt")
        with open(planpath, "w") as f:
            for label, n, path in plan:
                f.write(f"{label} {n} {path}\n")
        argv = [self.client, mode, "--plan", planpath, "-c", "1"]
        if db:
            argv += ["--db", self.pg.conninfo(db)]
        if url:
            argv += ["--url", url]
        if cpu_pid:
            argv += ["--cpu-tree", str(cpu_pid)]
        out = os.path.join(self.work, f"out-storage-{name}.tsv")
        t0 = time.monotonic()
        with open(out, "w") as f, open(out + ".err", "w") as ferr:
            p = subprocess.Popen(argv, stdout=f, stderr=ferr, stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                rc = p.wait(timeout=timeout)
            except BaseException:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)
                raise
        wall = time.monotonic() - t0
        if rc != 0:
            with open(out + ".err") as ferr:
                raise Failure(f"client {name} failed ({rc}): {ferr.read()[-2000:]}")
        recs = [line.rstrip("\n").split("\t") for line in open(out)]
        return recs, wall

    # ---- peers

    def start_prometheus(self, tag):
        port = free_port()
        d = os.path.join(self.work, f"storage-prometheus-{tag}")
        os.makedirs(d)
        cfg = os.path.join(d, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("# no scrape jobs: this Prometheus only receives remote write\nglobal:\n  scrape_interval: 1m\n")
        helptext = subprocess.run(["prometheus", "--help"], capture_output=True, text=True, timeout=30)
        flag = ("--web.enable-remote-write-receiver" if "web.enable-remote-write-receiver" in
                helptext.stdout + helptext.stderr else "--enable-feature=remote-write-receiver")
        self.versions.setdefault("prometheus", deb_version("prometheus"))
        # retention: Prometheus' default (15d), which also sets its block ranges (2h, 6h, 18h, ...)
        p = self.procs.start(f"prometheus ({tag})", [
            "prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={d}/data",
            f"--web.listen-address=127.0.0.1:{port}", flag, "--web.enable-admin-api",
            "--storage.tsdb.retention.time=15d", "--log.level=warn"], os.path.join(self.work, f"prometheus-{tag}.log"))
        self.started.append(p)
        base = f"http://127.0.0.1:{port}"
        wait_until("Prometheus", lambda: http_get(base + "/-/ready", 5)[0] == 200, 60)
        return {"p": p, "base": base, "data": f"{d}/data", "name": "Prometheus"}

    def start_vm(self, tag):
        port = free_port()
        d = os.path.join(self.work, f"storage-vm-{tag}")
        os.makedirs(d)
        self.versions.setdefault("victoria-metrics", deb_version("victoria-metrics"))
        p = self.procs.start(f"victoria-metrics ({tag})", [
            "victoria-metrics", f"-storageDataPath={d}/data", f"-httpListenAddr=127.0.0.1:{port}",
            "-retentionPeriod=1y", "-loggerLevel=WARN"], os.path.join(self.work, f"victoria-metrics-{tag}.log"))
        self.started.append(p)
        base = f"http://127.0.0.1:{port}"
        wait_until("VictoriaMetrics", lambda: http_get(base + "/health", 5)[0] == 200, 60)
        return {"p": p, "base": base, "data": f"{d}/data", "name": "VictoriaMetrics"}

    def stop_peer(self, peer):
        if peer and peer.get("p"):
            self.procs.stop(peer["p"])
            if peer["p"] in self.started:
                self.started.remove(peer["p"])
            peer["p"] = None

    def try_peer(self, kind, tag):
        if not shutil.which(kind):
            self.note(f"{kind}: not available (not installed)")
            return None
        try:
            return self.start_prometheus(tag) if kind == "prometheus" else self.start_vm(tag)
        except Exception as e:
            self.note(f"{kind}: not available ({e})")
            return None

    # ---- ingest

    def create_db(self, db):
        """An empty database with the extension (bench.py makes them when it starts the server)."""
        if self.pg.sql("postgres", f"SELECT count(*) FROM pg_database WHERE datname = '{db}'") == "1" and \
                self.pg.sql(db, "SELECT count(*) FROM pg_extension WHERE extname = 'promscale_ha'") == "1" and \
                self.pg.sql(db, "SELECT count(*) FROM (SELECT 1 FROM promscale_ha.samples LIMIT 1) x") == "0":
            return
        self.pg.sql("postgres", f"DROP DATABASE IF EXISTS {db}")
        self.pg.sql("postgres", f"CREATE DATABASE {db}")
        self.pg.sql(db, "SET client_min_messages = warning; CREATE EXTENSION promscale_ha")

    def ingest_pg(self, db, ds):
        log(f"  ingest {ds['samples']:,} samples into promscale_ha ({db}) with write(), 1 connection")
        recs, wall = self.run_client("write", ds["plan"], f"pg-{db}", db=db)
        reqs = [r for r in recs if r[0] == "req"]
        written = sum(int(r[6]) for r in reqs)
        bad = [r for r in reqs if r[8] != "stored"]
        if bad:
            # the client prints each failed write()'s error (PostgreSQL's message) to stderr
            with open(os.path.join(self.work, f"out-storage-pg-{db}.tsv.err")) as ferr:
                errs = [line.strip() for line in ferr if line.strip()][:3]
            raise Failure(f"{db}: {len(bad)} requests were not stored (first: {bad[0]}; "
                          f"errors: {' | '.join(errs) or 'none printed'})")
        cpu_s = sum(int(r[4]) for r in reqs) / 1e9
        busy = sum(int(r[3]) for r in reqs) / 1e9
        return {"samples": written, "wall": wall, "busy": busy, "cpu": cpu_s, "requests": len(reqs)}

    def ingest_http(self, peer, ds, name):
        log(f"  ingest {ds['samples']:,} samples into {peer['name']} ({name}) with remote-write POSTs, 1 connection")
        url = peer["base"][len("http://"):] + "/api/v1/write"
        recs, wall = self.run_client("http", ds["plan"], name, url=url, cpu_pid=peer["p"].pid)
        rounds = [r for r in recs if r[0] == "round"]
        errors = sum(int(r[5]) for r in rounds)
        if errors:
            bad = [r for r in recs if r[0] == "http" and r[4] not in ("200", "204")][:3]
            raise Failure(f"{peer['name']}: {errors} failed requests (e.g. {bad})")
        cpu = sum(int(r[6]) for r in rounds) / 1e9 if all(int(r[6]) >= 0 for r in rounds) else float("nan")
        busy = sum(int(r[2]) for r in rounds) / 1e9
        return {"samples": sum(int(r[4]) for r in rounds), "wall": wall, "busy": busy, "cpu": cpu,
                "requests": sum(int(r[3]) for r in rounds)}

    def ingest_all(self, db, ds, tag):
        """The same requests to the three stores.  promscale_ha's write() runs on its own
        connection while the peers get theirs one after the other (--serial-ingest: one
        store at a time): the two sides mostly use one core each, and each server's CPU
        per sample is its own either way.  Returns ({store: ingest figures}, prom, vm)."""
        out = {}
        box = {}

        def pg():
            try:
                box["res"] = self.ingest_pg(db, ds)
            except BaseException as e:   # re-raised in the caller's thread
                box["err"] = e
        th = threading.Thread(target=pg, name="pg-ingest", daemon=True)
        th.start()
        if self.cfg.get("serial"):
            th.join()
        peers = []
        for kind, key, name in (("prometheus", "Prometheus", f"prom-{tag}"), ("victoria-metrics", "VictoriaMetrics",
                                                                                f"vm-{tag}")):
            peer = self.try_peer(kind, tag)
            if peer:
                try:
                    out[key] = self.ingest_http(peer, ds, name)
                except Exception as e:
                    self.note(f"{key}: ingest failed: {e}")
                    self.stop_peer(peer)
                    peer = None
            peers.append(peer)
        th.join()
        if "err" in box:
            raise box["err"]
        out = dict({"promscale_ha": box["res"]}, **out)
        return out, peers[0], peers[1]

    # ---- promscale_ha sizes

    def pg_sizes(self, db):
        q = """
WITH leaf AS (SELECT relid FROM pg_partition_tree('promscale_ha.samples_head') WHERE isleaf),
ch AS (SELECT c.oid, c.reltoastrelid FROM pg_class c WHERE c.oid = 'promscale_ha.chunks'::regclass)
SELECT json_build_object(
  'chunks_heap', (SELECT pg_table_size(oid) - coalesce(pg_total_relation_size(nullif(reltoastrelid, 0)), 0) FROM ch),
  'chunks_heap_main', (SELECT pg_relation_size(oid) FROM ch),
  'chunks_toast', (SELECT coalesce(pg_total_relation_size(nullif(reltoastrelid, 0)), 0) FROM ch),
  'chunks_toast_main', (SELECT coalesce(pg_relation_size(nullif(reltoastrelid, 0)), 0) FROM ch),
  'chunks_idx', (SELECT pg_indexes_size(oid) FROM ch),
  'chunks_idx_detail', (SELECT json_object_agg(indexrelid::regclass::text, pg_relation_size(indexrelid))
                        FROM pg_index WHERE indrelid = 'promscale_ha.chunks'::regclass),
  'ranges', pg_total_relation_size('promscale_ha.compressed_ranges'),
  'head_heap', (SELECT coalesce(sum(pg_table_size(relid)), 0) FROM leaf),
  'head_idx', (SELECT coalesce(sum(pg_indexes_size(relid)), 0) FROM leaf),
  'head_parts', (SELECT count(*) FROM leaf),
  'series_heap', pg_table_size('promscale_ha.series'),
  'series_idx', pg_indexes_size('promscale_ha.series'),
  'series', (SELECT count(*) FROM promscale_ha.series),
  'head_samples', (SELECT count(*) FROM promscale_ha.samples_head),
  'chunk_samples', (SELECT coalesce(sum(samples), 0) FROM promscale_ha.chunks),
  'chunks', (SELECT count(*) FROM promscale_ha.chunks),
  'formats', (SELECT json_object_agg(f, n) FROM (SELECT get_byte(data, 0) AS f, count(*) AS n
              FROM promscale_ha.chunks GROUP BY 1) x),
  'avg_chunk_samples', (SELECT avg(samples) FROM promscale_ha.chunks),
  'avg_chunk_bytes', (SELECT avg(octet_length(data)) FROM promscale_ha.chunks),
  'chunks_toasted', (SELECT count(*) FROM promscale_ha.chunks WHERE pg_column_size(data) < octet_length(data)
                     OR octet_length(data) > 2000))
"""
        s = json.loads(self.pg.sql(db, q))
        s["stored"] = s["head_samples"] + s["chunk_samples"]
        s["chunks_total"] = s["chunks_heap"] + s["chunks_toast"] + s["chunks_idx"]
        s["head_total"] = s["head_heap"] + s["head_idx"]
        s["target_total"] = s["chunks_total"] + s["head_total"] + s["ranges"]
        return s

    def compress(self, db, fmt):
        """compress_now('0') in one session with chunk_format = fmt; backend CPU around it."""
        stat = ("SELECT 'cpu ' || pg_backend_pid() || ' ' || split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)"
                " || ' ' || replace(pg_read_file('/proc/self/stat'), E'\\n', '');\n")
        script = (f"SET promscale_ha.chunk_format = '{fmt}';\n" + stat + "\\timing on\n"
                  "SELECT 'range', range_start, range_end, samples, chunks, bytes_before, bytes_after "
                  "FROM promscale_ha.compress_now('0');\n\\timing off\n" + stat)
        log(f"  compress_now('0') in {db} (chunk_format {fmt})")
        lines = self.psql_script(db, script, timeout=7200, name=f"compress-{db}")
        cpus = []
        ranges = []
        wall_ms = float("nan")
        tck = os.sysconf("SC_CLK_TCK")
        for line in lines:
            if line.startswith("cpu "):
                parts = line.split(" ", 3)
                st = parts[3]
                fields = st[st.rindex(")") + 2:].split()
                cpus.append((int(parts[1]), int(parts[2]) / 1e9, (int(fields[11]) + int(fields[12])) / tck,
                             int(fields[11]) / tck, int(fields[12]) / tck))
            elif line.startswith("range|"):
                f = line.split("|")
                ranges.append({"start": f[1], "end": f[2], "samples": int(f[3]), "chunks": int(f[4]),
                               "before": int(f[5]), "after": int(f[6])})
            else:
                m = re.match(r"Time: ([\d.]+) ms", line)
                if m:
                    wall_ms = float(m.group(1))
        if len(cpus) != 2:
            raise Failure(f"compress {db}: could not read the backend's CPU: {lines[:5]}")
        samples = sum(r["samples"] for r in ranges)
        c = {"pid": cpus[0][0], "cpu": cpus[1][1] - cpus[0][1], "cpu_stat": cpus[1][2] - cpus[0][2],
             "user": cpus[1][3] - cpus[0][3], "sys": cpus[1][4] - cpus[0][4], "wall": wall_ms / 1e3,
             "ranges": ranges, "samples": samples, "chunks": sum(r["chunks"] for r in ranges),
             "before": sum(r["before"] for r in ranges), "after": sum(r["after"] for r in ranges)}
        log(f"    {samples:,} samples, {c['chunks']:,} chunks in {c['wall']:.1f} s wall, {c['cpu']:.1f} s CPU "
            f"({samples / c['cpu'] / 1e6 if c['cpu'] else 0:.2f} M samples per CPU-second)")
        t0 = time.monotonic()
        self.pg.sql(db, "VACUUM ANALYZE promscale_ha.chunks", timeout=3600)
        c["vacuum_s"] = time.monotonic() - t0
        return c

    # ---- queries

    def queries(self, ds):
        """The four queries of the brief, on this data set: (key, title, selector, PG labels, start, end)."""
        lab = ds["labels"]
        inst = lab[0]["instance"]
        one = next((d for d in lab if d["__name__"] == "node_memory_MemAvailable_bytes" and d["instance"] == inst),
                   None)
        if one is None:   # any metric with one series per instance
            names = {}
            for d in lab:
                if d["instance"] == inst:
                    names[d["__name__"]] = names.get(d["__name__"], 0) + 1
            one = next(d for d in lab if d["instance"] == inst and names[d["__name__"]] == 1)
        cpu = "node_cpu_seconds_total"
        S, E = ds["start_ms"], ds["end_ms"]
        span = E - S
        mid = S + (span // 2) // STEP_MS * STEP_MS    # on a slot: samples are 7.5 s off it
        long_h = min(12, ds["hours"])
        six_h = min(6, ds["hours"])
        sel_one = {"__name__": one["__name__"], "instance": inst}
        out = [
            ("one-1h", f"one series ({one['__name__']} of one instance), 1 h", sel_one, mid - HOUR_MS, mid),
            (f"one-{long_h}h", f"one series, {long_h} h", sel_one, E - long_h * HOUR_MS, E),
            (f"cpu-inst-{six_h}h", f"{cpu} of one instance ({sum(1 for d in lab if d['__name__'] == cpu and d['instance'] == inst)} series), {six_h} h",
             {"__name__": cpu, "instance": inst}, S, S + six_h * HOUR_MS),
            ("cpu-all-1h", f"{cpu} of all {ds['instances']} instances ({sum(1 for d in lab if d['__name__'] == cpu)} series), 1 h",
             {"__name__": cpu}, mid - HOUR_MS, mid),
        ]
        return out

    @staticmethod
    def ts_sql(ms):
        return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).isoformat()

    def pg_query_sql(self, sel, lo, hi):
        # the form remote read's matchers take (src/store/matchers.c): __name__ through the
        # btree on metric_name, the other labels through the GIN index on labels
        rest = {k: v for k, v in sel.items() if k != "__name__"}
        cond = f"s.metric_name = '{sel['__name__']}'"
        if rest:
            cond += f" AND s.labels @> '{json.dumps(rest)}'"
        return ("SELECT x.time, x.value FROM promscale_ha.series s JOIN promscale_ha.samples x ON x.series_id = s.id "
                f"WHERE {cond} AND x.time >= '{self.ts_sql(lo)}' "
                f"AND x.time < '{self.ts_sql(hi)}'")

    def pg_queries(self, db, qs, state):
        """Per query: a warm-up, then reps runs on one connection, timed by pha-query
        (test/bench/pha_query.c), each run three ways: as COPY (query) TO STDOUT (the bytes
        received, as the peers' bodies are read: the compared figure), as a query whose
        rows libpq parses (wall_rows) and as binary COPY (wall_bin), both for information;
        backend CPU from schedstat."""
        res = {}
        for key, title, sel, lo, hi in qs:
            path = os.path.join(self.work, f"q-{db}-{key}.sql")
            with open(path, "w") as f:
                f.write(self.pg_query_sql(sel, lo, hi))
            r = subprocess.run([self.query_client, "--db", self.pg.conninfo(db), "--sql", path,
                                "--reps", str(self.reps)], capture_output=True, text=True, timeout=3600)
            if r.returncode != 0:
                raise Failure(f"pha-query {db} {key}: {r.stderr.strip()[-1500:]}")
            d = {"rows": None, "wall": [], "cpu": [], "wall_rows": [], "cpu_rows": [], "wall_bin": [],
                 "cpu_bin": []}
            for line in r.stdout.splitlines():
                f = line.split("\t")
                if f[0] in ("copy", "rows", "binary"):
                    sfx = {"copy": "", "rows": "_rows", "binary": "_bin"}[f[0]]
                    d["wall" + sfx].append(int(f[2]) / 1e6)
                    d["cpu" + sfx].append(int(f[3]) / 1e6)
                    if d["rows"] is not None and d["rows"] != int(f[4]):
                        raise Failure(f"pha-query {db} {key}: {d['rows']} rows, then {f[4]}")
                    d["rows"] = int(f[4])
            res[key] = d
            log(f"    {state} {key}: {d['rows']:,} samples, {med(d['wall']):.1f} ms wall, {med(d['cpu']):.1f} ms CPU "
                f"(rows parsed by libpq: {med(d['wall_rows']):.1f} ms wall; binary COPY {med(d['wall_bin']):.1f} ms)")
        return res

    def pg_explain(self, db, qs, which):
        out = {}
        for key, title, sel, lo, hi in qs:
            if key not in which:
                continue
            out[key] = self.pg.sql(db, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + self.pg_query_sql(sel, lo, hi))
        return out

    def peer_queries(self, peer, qs, vm):
        res = {}
        for key, title, sel, lo, hi in qs:
            name = sel["__name__"]
            rest = ",".join(f'{k}="{v}"' for k, v in sel.items() if k != "__name__")
            rng = (hi - lo) // 1000
            q = {"query": f"{name}{{{rest}}}[{rng}s]", "time": f"{hi / 1000:.3f}"}
            if vm:
                q["nocache"] = "1"
            url = peer["base"] + "/api/v1/query?" + urllib.parse.urlencode(q)
            walls = []
            n = None
            c0 = proc_cpu_s(peer["p"].pid)
            for i in range(self.reps + 1):
                if i == 1:
                    c0 = proc_cpu_s(peer["p"].pid)
                t0 = time.perf_counter()
                with urllib.request.urlopen(url, timeout=300) as r:
                    body = r.read()
                walls.append((time.perf_counter() - t0) * 1e3)
                if i == 0:
                    doc = json.loads(body)
                    if doc.get("status") != "success":
                        raise Failure(f"{peer['name']} query {q['query']}: {body[:300]}")
                    n = sum(len(s.get("values", [])) for s in doc["data"]["result"])
            cpu_ms = (proc_cpu_s(peer["p"].pid) - c0) * 1e3 / self.reps
            res[key] = {"rows": n, "wall": walls[1:], "cpu_avg": cpu_ms}
            log(f"    {peer['name']} {key}: {n:,} samples, {med(walls[1:]):.1f} ms wall, {cpu_ms:.1f} ms CPU (mean)")
        return res

    # ---- peers' sizes

    def prometheus_blocks(self, prom, ds, wait_s=600):
        """Waits (bounded) until the head holds no more than the last ~3 h and the block
        directories stop changing; then sums the blocks."""
        data = prom["data"]
        want = ds["end_ms"] - 3 * HOUR_MS - STEP_MS
        deadline = time.monotonic() + wait_s
        last, stable_since = None, time.monotonic()
        head_min = None
        while time.monotonic() < deadline:
            try:
                hm = metric_values(prom["base"], "prometheus_tsdb_head_min_time")
                head_min = int(next(iter(hm.values())))
            except Exception:
                head_min = None
            blocks = self._blocks(data)
            snap = sorted((b["ulid"], b["bytes"]) for b in blocks)
            tmp = [x for x in os.listdir(data) if x.endswith(".tmp") or ".tmp-" in x]
            if snap != last or tmp:
                last, stable_since = snap, time.monotonic()
            if head_min is not None and head_min >= want and time.monotonic() - stable_since >= 15:
                break
            time.sleep(2)
        else:
            self.note(f"Prometheus: compaction had not settled after {wait_s} s (head min time {head_min}, "
                      f"wanted >= {want}); the blocks present then are measured")
        blocks = self._blocks(data)
        extra = {"wal": dir_bytes(os.path.join(data, "wal")), "chunks_head": dir_bytes(os.path.join(data, "chunks_head")),
                 "head_min": head_min}
        return self._sum_blocks(blocks, extra)

    @staticmethod
    def _blocks(data):
        out = []
        for name in os.listdir(data):
            meta = os.path.join(data, name, "meta.json")
            if re.fullmatch(r"[0-9A-Z]{26}", name) and os.path.exists(meta):
                try:
                    m = json.load(open(meta))
                except ValueError:
                    continue
                d = os.path.join(data, name)
                out.append({"ulid": name, "bytes": dir_bytes(d), "samples": m["stats"]["numSamples"],
                            "series": m["stats"].get("numSeries"), "mint": m["minTime"], "maxt": m["maxTime"],
                            "level": m.get("compaction", {}).get("level"),
                            "index": os.path.getsize(os.path.join(d, "index")),
                            "chunks": dir_bytes(os.path.join(d, "chunks"))})
        return sorted(out, key=lambda b: b["mint"])

    @staticmethod
    def _sum_blocks(blocks, extra):
        return dict(extra, blocks=blocks, bytes=sum(b["bytes"] for b in blocks),
                    samples=sum(b["samples"] for b in blocks), index=sum(b["index"] for b in blocks),
                    chunks=sum(b["chunks"] for b in blocks))

    def prometheus_snapshot(self, prom):
        """Blocks of everything, the head included, through the admin API's snapshot (which
        writes the head as a block with the same compactor)."""
        req = urllib.request.Request(prom["base"] + "/api/v1/admin/tsdb/snapshot?skip_head=false", method="POST")
        with urllib.request.urlopen(req, timeout=600) as r:
            name = json.loads(r.read())["data"]["name"]
        d = os.path.join(prom["data"], "snapshots", name)
        return self._sum_blocks(self._blocks(d), {"snapshot": True})

    def vm_size(self, vm, wait_s=600):
        base = vm["base"]
        http_get(base + "/internal/force_flush", 60)
        time.sleep(2)
        http_get(base + "/internal/force_merge", 600)
        deadline = time.monotonic() + wait_s
        last, stable_since = None, time.monotonic()
        merges = None
        while time.monotonic() < deadline:
            am = metric_values(base, "vm_active_merges")
            merges = sum(v for k, v in am.items() if "storage" in k)
            rows = metric_values(base, "vm_rows")
            parts = metric_values(base, "vm_parts")
            snap = (dir_bytes(vm["data"]), tuple(sorted(rows.items())), tuple(sorted(parts.items())))
            if snap != last:
                last, stable_since = snap, time.monotonic()
            if merges == 0 and time.monotonic() - stable_since >= 10:
                break
            time.sleep(2)
        else:
            self.note(f"VictoriaMetrics: merges had not settled after {wait_s} s (active storage merges {merges}); "
                      "the size then is measured")
        rows = metric_values(base, "vm_rows")
        parts = metric_values(base, "vm_parts")
        samples = int(sum(v for k, v in rows.items() if re.search(r'type="storage/(big|small|inmemory)"', k)))
        data = vm["data"]
        return {"bytes": dir_bytes(data), "samples": samples,
                "big": dir_bytes(os.path.join(data, "data", "big")), "small": dir_bytes(os.path.join(data, "data", "small")),
                "indexdb": dir_bytes(os.path.join(data, "indexdb")),
                "rows": {k: v for k, v in rows.items()}, "parts": {k: v for k, v in parts.items()}}

    def vm_count(self, vm, ds):
        """Samples through the query API (count_over_time per metric name)."""
        st, body = http_get(vm["base"] + "/api/v1/label/__name__/values", 60)
        names = json.loads(body)["data"]
        span = (ds["end_ms"] - ds["start_ms"]) // 1000 + 60
        at = (ds["end_ms"] + 30000) / 1000
        total = 0
        for n in names:
            q = {"query": f"sum(count_over_time({n}[{span}s]))", "time": f"{at:.3f}", "nocache": "1"}
            st, body = http_get(vm["base"] + "/api/v1/query?" + urllib.parse.urlencode(q), 120)
            r = json.loads(body)["data"]["result"]
            total += int(float(r[0]["value"][1])) if r else 0
        return total

    # ---- the run

    def window(self, hours):
        """[start, end) of the data: ends at the last partition boundary before now."""
        now = int(time.time() * 1000)
        end = now // PART_MS * PART_MS
        if now - end < 60 * 1000:      # keep a minute of margin to the boundary
            end -= PART_MS
        return end - hours * HOUR_MS, end

    def run(self):
        t0 = time.monotonic()
        try:
            self._run()
        finally:
            for p in list(self.started):
                self.procs.stop(p)
            self.started = []
            self.res["elapsed"] = time.monotonic() - t0
        return self.res

    def _run(self):
        cfg = self.cfg
        r = self.res
        log(f"storage: {cfg['instances']} node instances x {cfg['hours']} h, 15 s scrapes "
            f"(random values: {cfg['r_instances']} x {cfg['r_hours']} h)")
        # both databases now: the extension's SQL script must match the library the server
        # loaded at its start (another build may install a newer one while this runs)
        self.create_db("st_node")
        self.create_db("st_random")
        S, E = self.window(cfg["hours"])
        ds = make_dataset(self.gen, self.work, "node", cfg["instances"], cfg["hours"], S, "node")
        # the run at dcc6d89 took 23 GB at its peak for 47.3M samples (two databases of
        # rows, their WAL, the peers' data): ~490 bytes a sample; a full disk shows up as
        # write() errors in the middle of the ingest, so say it first
        need = ds["samples"] * 600
        free = shutil.disk_usage(self.work).free
        if free < need:
            raise Failure(f"storage needs about {need / 1e9:.0f} GB free in {self.work} for "
                          f"{ds['samples']:,} samples; {free / 1e9:.0f} GB are free")
        r["data"] = {k: v for k, v in ds.items() if k not in ("labels", "plan")}
        qs = self.queries(ds)
        r["queries"] = [(k, t, sel, lo, hi) for k, t, sel, lo, hi in qs]
        r["query_sql"] = self.pg_query_sql(qs[2][2], qs[2][3], qs[2][4])

        # -- ingest: promscale_ha, then Prometheus, then VictoriaMetrics (one at a time)
        r["ingest"], prom, vm = self.ingest_all("st_node", ds, "node")

        # -- promscale_ha: the head, then a copy for xor, then compress both.  ANALYZE first:
        # bench.py's server runs without autovacuum, which would have analyzed series by now
        # (without statistics the planner reads series sequentially instead of by its GIN index)
        self.pg.sql("st_node", "ANALYZE", timeout=1800)
        r["head"] = self.pg_sizes("st_node")
        log(f"  head: {r['head']['head_total'] / r['head']['head_samples']:.1f} bytes per sample "
            f"({r['head']['head_samples']:,} samples)")
        r["q"] = {}
        r["q"]["promscale_ha, head (rows)"] = self.pg_queries("st_node", qs, "head")
        r["explain_head"] = self.pg_explain("st_node", qs, {qs[2][0]})
        try:
            self.rr = remote_read.RemoteRead(self, ds, HOUR_MS, STEP_MS)
            r["rr"] = self.rr.res
            if not self.http_bin:
                self.note("remote read: promscale-ha-http not available; only Prometheus' is measured")
            self.rr.measure_pg("st_node", "promscale_ha, head (rows)")
        except Failure as e:
            self.note(f"remote read: {e}")
        t = time.monotonic()
        self.pg.sql("postgres", "CHECKPOINT")
        self.pg.sql("postgres", "CREATE DATABASE st_node_xor TEMPLATE st_node STRATEGY file_copy", timeout=3600)
        log(f"  copied st_node to st_node_xor in {time.monotonic() - t:.0f} s")
        r["compress"] = {}
        r["sizes"] = {}
        for db, fmt in (("st_node", "dense"), ("st_node_xor", "xor")):
            try:
                r["compress"][fmt] = self.compress(db, fmt)
                r["sizes"][fmt] = self.pg_sizes(db)
                s = r["sizes"][fmt]
                log(f"    {fmt}: {s['target_total'] / s['stored']:.3f} bytes per sample (chunks + head), "
                    f"{s['stored']:,} samples stored")
                r["q"][f"promscale_ha, compressed ({fmt})"] = self.pg_queries(db, qs, fmt)
                if fmt == "dense":
                    r["explain_compressed"] = self.pg_explain(db, qs, {qs[2][0]})
                if self.rr:
                    self.rr.measure_pg(db, f"promscale_ha, compressed ({fmt})")
            except Failure as e:
                self.note(f"promscale_ha, chunk_format {fmt}: {e}")
        self.pg.sql("postgres", "DROP DATABASE IF EXISTS st_node_xor", timeout=600)

        # -- the peers
        if prom:
            try:
                r["prometheus"] = self.prometheus_blocks(prom, ds)
                r["q"]["Prometheus 2.42"] = self.peer_queries(prom, qs, vm=False)
            except Exception as e:
                self.note(f"Prometheus: measurement failed: {e}")
            if self.rr:
                self.rr.measure_prom(prom)
            self.stop_peer(prom)
        if vm:
            try:
                r["vm"] = self.vm_size(vm)
                r["vm"]["api_count"] = self.vm_count(vm, ds)
                r["q"]["VictoriaMetrics 1.79"] = self.peer_queries(vm, qs, vm=True)
            except Exception as e:
                self.note(f"VictoriaMetrics: measurement failed: {e}")
            self.stop_peer(vm)

        # -- the worst case: random values
        self.random_variant()
        self.pg.sql("postgres", "DROP DATABASE IF EXISTS st_node", timeout=600)

    def random_variant(self):
        cfg = self.cfg
        r = self.res
        S, E = self.window(cfg["r_hours"])
        # a different seed of series labels is not needed: separate stores
        ds = make_dataset(self.gen, self.work, "random", cfg["r_instances"], cfg["r_hours"], S, "random")
        rr = r["random"] = {"data": {k: v for k, v in ds.items() if k not in ("labels", "plan")}, "sizes": {},
                            "compress": {}}
        rr["ingest"], prom, vm = self.ingest_all("st_random", ds, "random")
        try:
            rr["head"] = self.pg_sizes("st_random")
            self.pg.sql("postgres", "CHECKPOINT")
            self.pg.sql("postgres", "CREATE DATABASE st_random_xor TEMPLATE st_random STRATEGY file_copy",
                        timeout=3600)
            for db, fmt in (("st_random", "dense"), ("st_random_xor", "xor")):
                try:
                    rr["compress"][fmt] = self.compress(db, fmt)
                    rr["sizes"][fmt] = self.pg_sizes(db)
                except Failure as e:
                    self.note(f"promscale_ha, random values, chunk_format {fmt}: {e}")
        except Failure as e:
            self.note(f"promscale_ha, random values: {e}")
        for db in ("st_random", "st_random_xor"):
            self.pg.sql("postgres", f"DROP DATABASE IF EXISTS {db}", timeout=600)
        if prom:
            try:
                rr["prometheus"] = self.prometheus_snapshot(prom)
            except Exception as e:
                self.note(f"Prometheus, random values: {e}")
            self.stop_peer(prom)
        if vm:
            try:
                rr["vm"] = self.vm_size(vm)
            except Exception as e:
                self.note(f"VictoriaMetrics, random values: {e}")
            self.stop_peer(vm)


# --------------------------------------------------------------------------- the report


def _bps(x, n):
    return x / n if n else float("nan")


def _fmt_b(x):
    if x >= 2**30:
        return f"{x / 2**30:.2f} GiB"
    if x >= 2**20:
        return f"{x / 2**20:.1f} MiB"
    if x >= 2**10:
        return f"{x / 2**10:.0f} kiB"
    return f"{x} B"


def _ms(x):
    if x != x:
        return "n/a"
    return f"{x:.0f}" if x >= 100 else (f"{x:.1f}" if x >= 10 else f"{x:.2f}")


def verdict(ok, borderline=False):
    return ("met" if ok else "missed") + (" (borderline)" if borderline else "")


def targets(res):
    """(target, measured, verdict) rows of the storage targets."""
    rows = []
    sz = res.get("sizes", {})
    pr = res.get("prometheus")
    prom_bps = _bps(pr["bytes"], pr["samples"]) if pr and pr.get("samples") else None
    for fmt in ("dense", "xor"):
        s = sz.get(fmt)
        if not s:
            continue
        ours = _bps(s["target_total"], s["stored"])
        if prom_bps:
            rows.append((f"bytes per sample ≤ Prometheus' blocks (chunk_format {fmt})",
                         f"{ours:.3f} vs {prom_bps:.3f} ({ours / prom_bps:.2f}×)",
                         verdict(ours <= prom_bps, abs(ours / prom_bps - 1) < 0.1)))
            rows.append((f"stretch: ≤ half of Prometheus' (chunk_format {fmt})", f"{ours / prom_bps:.2f}×",
                          verdict(ours <= 0.5 * prom_bps, abs(ours / (0.5 * prom_bps) - 1) < 0.1)))
        else:
            rows.append((f"bytes per sample ≤ Prometheus' blocks (chunk_format {fmt})", f"{ours:.3f}",
                         "not measured (Prometheus not available)"))
    q = res.get("q", {})
    pq = q.get("Prometheus 2.42")
    cq = q.get("promscale_ha, compressed (dense)")
    if pq and cq:
        for key, title, *_ in res["queries"]:
            a, b = med(cq[key]["wall"]), med(pq[key]["wall"])
            ca, cb = med(cq[key]["cpu"]), pq[key].get("cpu_avg", float("nan"))
            rows.append((f"compressed read ≤ Prometheus' time: {title}",
                         f"wall {_ms(a)} ms vs {_ms(b)} ms ({a / b:.2f}×); server CPU {_ms(ca)} vs {_ms(cb)} ms"
                         + (f" ({ca / cb:.2f}×)" if cb == cb and cb > 0 else "")
                         + (f"; the same rows as binary COPY: wall {_ms(med(cq[key]['wall_bin']))} ms "
                            f"({med(cq[key]['wall_bin']) / b:.2f}×)" if cq[key].get("wall_bin") else ""),
                         verdict(a <= b, abs(a / b - 1) < 0.1)))
    c = res.get("compress", {}).get("dense")
    ing = res.get("ingest", {}).get("promscale_ha")
    if c and ing and c["cpu"] > 0:
        crate = c["samples"] / c["cpu"]
        irate = ing["samples"] / ing["cpu"]
        rows.append(("compression ≥ 5× the ingest rate per core (samples per backend CPU-second, "
                     "compress_now / write())", f"{crate / 1e6:.2f} M / {irate / 1e6:.3f} M = {crate / irate:.1f}×",
                     verdict(crate >= 5 * irate, abs(crate / (5 * irate) - 1) < 0.1)))
    rows.extend(remote_read.targets(res.get("rr")))
    return rows


def report_lines(res, versions=None, standalone=False):
    """The Markdown of the storage section."""
    L = []
    add = L.append
    versions = versions or {}
    cfg = res.get("cfg", {})
    d = res.get("data")
    add("## 6. Storage: bytes per sample, queries, compression (0.2.0)")
    add("")
    if not d:
        add("Not measured (see Notes).")
        for e in res.get("errors", []):
            add(f"- {e}")
        add("")
        return L
    S = datetime.datetime.fromtimestamp(d["start_ms"] / 1000, datetime.timezone.utc)
    E = datetime.datetime.fromtimestamp(d["end_ms"] / 1000, datetime.timezone.utc)
    add(f"Run by `test/bench/storage.py`{' --quick' if res.get('quick') else ''} (part of `make bench`; alone: "
        f"`run.sh --storage-only`); this section took {res.get('elapsed', 0) / 60:.1f} min.")
    add("")
    add("**Method.**")
    add("")
    add(f"- **Data**: `promscale-ha-gen --profile node --instances {d['instances']}` — {d['series']:,} series "
        f"(node_exporter-like: CPU, memory, network, disk, filesystem, hwmon, Go runtime, histograms; counters, "
        f"gauges, constants), a scrape every 15 s (7.5 s past each slot) with ±{JITTER_MS} ms jitter per instance and scrape, "
        f"{d['hours']} h from {S:%Y-%m-%d %H:%M} to {E:%H:%M} UTC (the last 2-hour boundary before the run, so "
        f"that every head partition has ended): **{d['samples']:,} samples**. The generator's "
        "`--dump-samples` gives every sample (jittered timestamps, values); this script packs them, in time order, "
        f"into remote-write requests of {PER_REQUEST:,} samples as Prometheus batches them "
        f"({d['requests']:,} requests, {d['z_bytes'] / 2**20:.0f} MiB snappy-compressed, "
        f"{d['raw_bytes'] / d['samples']:.0f} bytes of protobuf per sample); the same files go to every store, "
        "one connection each (promscale_ha's ingest runs beside the peers', see the throughput table).")
    add("- **promscale_ha**: `write()` on one connection into a database of its own (0.2.0, "
        "`partition_interval` 2 h); sizes and queries of the head (rows) first; then `CREATE DATABASE ... TEMPLATE` "
        "copies it for the second chunk format; in each, `SELECT * FROM promscale_ha.compress_now('0')` (with "
        "`SET promscale_ha.chunk_format` = `dense` / `xor`) in one session whose backend CPU is read from "
        "`/proc/self/stat` and `/proc/self/schedstat` before and after, then `VACUUM ANALYZE promscale_ha.chunks` "
        "(the whole database is `ANALYZE`d after ingest, as autovacuum is off in this server). "
        "Bytes are `pg_relation_size` of each fork (heap incl. free-space and visibility maps, TOAST table with "
        "its index, indexes); samples stored = `sum(samples)` of `promscale_ha.chunks` + `count(*)` of "
        "`samples_head`. The series catalogue (`promscale_ha.series`, with its GIN index) is reported apart and "
        "not counted: the target compares sample storage.")
    add("- **Prometheus 2.42** (Debian package, `--web.enable-remote-write-receiver`, default retention 15 d so "
        "default block ranges): its own head compaction while ingesting; then a bounded wait until the head's "
        "min time is within the last ~3 h and the block directories stop changing. Only persisted blocks count "
        "(chunks + index + tombstones + meta.json of each block directory), divided by the sum of their "
        "`meta.json` `stats.numSamples`. The WAL and the head (the last 2–3 h) are listed for information only.")
    add("- **VictoriaMetrics 1.79** (Debian package): `/internal/force_flush`, `/internal/force_merge`, then a "
        "bounded wait until `vm_active_merges` of storage is 0 and the directory, `vm_rows` and `vm_parts` are "
        "unchanged for 10 s; bytes = `du -sb` of its whole `-storageDataPath` (data parts and indexdb), samples = "
        "`vm_rows{type=\"storage/big\"}` + `{type=\"storage/small\"}` (checked with `count_over_time` via the "
        "query API).")
    add(f"- **Queries**: median of {cfg.get('reps', '?')} runs after one warm-up, same selector and window on "
        "every store; windows start and end on 15 s slots, 7.5 s from any sample, so no sample lies on a boundary (`[start, end)` in SQL, `(end - range, end]` in PromQL). promscale_ha: SQL "
        "over `promscale_ha.samples` joined from `promscale_ha.series` (below) on one libpq connection "
        "(`test/bench/pha_query.c`) as `COPY (query) TO STDOUT`: the same plan and text output functions as a "
        "text-format query, and the client only receives the bytes, as the peers' JSON bodies are read and not "
        "parsed; wall = from sending the query to the last byte, CPU = the backend's schedstat before/after "
        "each run. For information the same query is also timed with libpq parsing every row into its result "
        "(\"rows parsed\" below: an application's view, client CPU included; psql, used before, also lays "
        "every row out for printing), and as `COPY (query) TO STDOUT (FORMAT binary)` (\"binary\": the same rows "
        "through the types' send functions instead of `timestamptz_out` and `float8out`, as a driver asking for "
        "binary results gets them). Prometheus "
        "and VictoriaMetrics: `/api/v1/query?query=sel[range]&time=end` (an instant query returning the raw "
        "samples; VictoriaMetrics with `nocache=1`), wall timed by the client to the last byte, CPU = the "
        "process's CPU over all runs / runs (sum of its threads' `/proc/PID/task/*/schedstat`). The sample counts of all stores are compared.")
    add("")
    add("Query (the one-instance CPU example):")
    add("")
    add("```sql")
    add(res.get("query_sql", ""))
    add("```")
    add("")

    # ---- bytes per sample
    sz = res.get("sizes", {})
    head = res.get("head")
    pr = res.get("prometheus")
    vm = res.get("vm")
    add("### Bytes per sample on disk")
    add("")
    cols = [f for f in ("dense", "xor") if f in sz]
    if cols:
        add("promscale_ha after `compress_now('0')` and `VACUUM ANALYZE`, by part (bytes, and bytes per stored sample):")
        add("")
        add("| part | " + " | ".join(f"chunk_format {f}" for f in cols) + " |")
        add("|---|" + "---:|" * len(cols))

        def row(title, key, note=""):
            cells = []
            for f in cols:
                s = sz[f]
                v = s[key] if isinstance(key, str) else key(s)
                cells.append(f"{_fmt_b(v)} — {_bps(v, s['stored']):.3f}")
            add(f"| {title}{note} | " + " | ".join(cells) + " |")
        row("chunks heap", "chunks_heap")
        row("chunks TOAST (table + its index)", "chunks_toast")
        row("chunks indexes (pkey (series_id, max_time) + BRIN)", "chunks_idx")
        row("left in samples_head (heap + indexes)", "head_total")
        row("compressed_ranges", "ranges")
        cells = []
        for f in cols:
            s = sz[f]
            cells.append(f"**{_bps(s['target_total'], s['stored']):.3f}**")
        add("| **total (the target's bytes per sample)** | " + " | ".join(cells) + " |")
        row("series catalogue, heap (not counted)", "series_heap")
        row("series catalogue, indexes (not counted)", "series_idx")
        add("| samples stored (chunks + head) | " + " | ".join(f"{sz[f]['stored']:,}" for f in cols) + " |")
        add("| chunks (mean samples, mean bytes of `data`) | " + " | ".join(
            f"{sz[f]['chunks']:,} ({sz[f]['avg_chunk_samples'] or 0:.0f}, {sz[f]['avg_chunk_bytes'] or 0:.0f} B)"
            for f in cols) + " |")
        add("")
    sent = d["samples"]
    add("Side by side (the same requests sent to each):")
    add("")
    add("| store | bytes on disk | samples held there | bytes per sample | vs Prometheus |")
    add("|---|---:|---:|---:|---:|")
    prom_bps = _bps(pr["bytes"], pr["samples"]) if pr and pr.get("samples") else None

    def vs(x):
        return f"{x / prom_bps:.2f}×" if prom_bps else "n/a"
    if head:
        hb = _bps(head["head_total"], head["head_samples"])
        add(f"| promscale_ha, head before compression (row store: heap + unique index) | {_fmt_b(head['head_total'])} | "
            f"{head['head_samples']:,} | {hb:.1f} | {vs(hb)} |")
    for f in cols:
        s = sz[f]
        b = _bps(s["target_total"], s["stored"])
        add(f"| promscale_ha, compressed, chunk_format {f} | {_fmt_b(s['target_total'])} | {s['stored']:,} | "
            f"**{b:.3f}** | {vs(b)} |")
    if pr and prom_bps:
        add(f"| Prometheus 2.42, persisted blocks ({len(pr['blocks'])}) | {_fmt_b(pr['bytes'])} | {pr['samples']:,} "
            f"({100 * pr['samples'] / sent:.0f}% of those sent) | **{prom_bps:.3f}** | 1.00× |")
    elif pr:
        add("| Prometheus 2.42 | no persisted block yet (too few hours of data for a compaction) | | | |")
    else:
        add("| Prometheus 2.42 | not available | | | |")
    if vm:
        vb = _bps(vm["bytes"], vm["samples"])
        add(f"| VictoriaMetrics 1.79, after force merge | {_fmt_b(vm['bytes'])} | {vm['samples']:,} | "
            f"**{vb:.3f}** | {vs(vb)} |")
    else:
        add("| VictoriaMetrics 1.79 | not available | | | |")
    add("")
    det = []
    if pr:
        det.append("Prometheus' blocks: " + ", ".join(
            f"{(b['maxt'] - b['mint']) / HOUR_MS:.0f} h (level {b['level']}, {b['samples']:,} samples, "
            f"{_fmt_b(b['bytes'])})" for b in pr["blocks"])
            + f"; of the block bytes, chunks {_fmt_b(pr['chunks'])} and index {_fmt_b(pr['index'])} "
            f"({_bps(pr['chunks'], pr['samples']):.3f} + {_bps(pr['index'], pr['samples']):.3f} bytes per sample). "
            f"Not counted: the head's memory-mapped chunks {_fmt_b(pr['chunks_head'])} and the WAL "
            f"{_fmt_b(pr['wal'])} holding the last hours.")
    if vm:
        det.append(f"VictoriaMetrics: data parts {_fmt_b(vm['big'] + vm['small'])} (big {_fmt_b(vm['big'])}, small "
                   f"{_fmt_b(vm['small'])}), indexdb {_fmt_b(vm['indexdb'])}; `vm_rows` says {vm['samples']:,} "
                   f"samples, `count_over_time` through the API {vm.get('api_count', 0):,}.")
    if head:
        det.append(f"promscale_ha's series catalogue: {head['series']:,} series, "
                   f"{_fmt_b(head['series_heap'] + head['series_idx'])} "
                   f"({_bps(head['series_heap'] + head['series_idx'], sent):.3f} bytes per sample of this data set).")
    for x in det:
        add("- " + x)
    add("")

    # ---- random
    rr = res.get("random")
    if rr and rr.get("data"):
        rd = rr["data"]
        add(f"**Worst case, random values** (`--values random`: uniform doubles with 53 random bits; "
            f"{rd['instances']} instances × {rd['hours']} h, {rd['samples']:,} samples, same timestamps and "
            "jitter; separate databases and peer instances):")
        add("")
        add("| store | bytes | samples | bytes per sample |")
        add("|---|---:|---:|---:|")
        if rr.get("head"):
            h = rr["head"]
            add(f"| promscale_ha, head (rows) | {_fmt_b(h['head_total'])} | {h['head_samples']:,} | "
                f"{_bps(h['head_total'], h['head_samples']):.1f} |")
        for f in ("dense", "xor"):
            s = rr["sizes"].get(f)
            if s:
                add(f"| promscale_ha, compressed, {f} | {_fmt_b(s['target_total'])} | {s['stored']:,} | "
                    f"**{_bps(s['target_total'], s['stored']):.3f}** |")
        p = rr.get("prometheus")
        if p:
            add(f"| Prometheus 2.42, blocks of a snapshot with the head (`/api/v1/admin/tsdb/snapshot`; "
                f"{rd['hours']} h never reach a compaction) | {_fmt_b(p['bytes'])} | {p['samples']:,} | "
                f"**{_bps(p['bytes'], p['samples']):.3f}** |")
        v = rr.get("vm")
        if v:
            add(f"| VictoriaMetrics 1.79, after force merge | {_fmt_b(v['bytes'])} | {v['samples']:,} | "
                f"**{_bps(v['bytes'], v['samples']):.3f}** |")
        add("")

    # ---- queries
    q = res.get("q", {})
    if q:
        add("### Query time")
        add("")
        add("Median wall ms [min–max] (CPU ms: the PostgreSQL backend's, median; the peer process's, mean); "
            "samples returned:")
        add("")
        qs = res["queries"]
        add("| store | " + " | ".join(t for _, t, *_ in qs) + " |")
        add("|---|" + "---:|" * len(qs))
        for store, rs in q.items():
            cells = []
            for key, *_ in qs:
                x = rs.get(key)
                if not x:
                    cells.append("n/a")
                    continue
                cpu = med(x["cpu"]) if "cpu" in x else x.get("cpu_avg", float("nan"))
                extra = (f"; rows parsed {_ms(med(x['wall_rows']))}, CPU {_ms(med(x['cpu_rows']))}"
                         if x.get("wall_rows") else "")
                extra += (f"; binary {_ms(med(x['wall_bin']))}, CPU {_ms(med(x['cpu_bin']))}"
                          if x.get("wall_bin") else "")
                cells.append(f"{_ms(med(x['wall']))} [{_ms(min(x['wall']))}–{_ms(max(x['wall']))}] "
                             f"(CPU {_ms(cpu)}{extra})")
            add(f"| {store} | " + " | ".join(cells) + " |")
        add("| samples returned | " + " | ".join(
            " / ".join(f"{rs[key]['rows']:,}" if rs.get(key) and rs[key]['rows'] is not None else "?"
                       for rs in q.values()) for key, *_ in qs) + " |")
        counts_ok = all(len({rs[key]["rows"] for rs in q.values() if rs.get(key)}) == 1 for key, *_ in qs)
        add("")
        add("Sample counts: " + ("**the same on every store** for every query." if counts_ok else
                                 "**they differ** (order of the row above: " + ", ".join(q.keys()) + ")."))
        add("")
        for state, key in (("head (rows)", "explain_head"), ("compressed (dense)", "explain_compressed")):
            for qk, plan in res.get(key, {}).items():
                add(f"<details><summary>EXPLAIN (ANALYZE, BUFFERS) of {qk}, {state}</summary>")
                add("")
                add("```")
                add(plan)
                add("```")
                add("")
                add("</details>")
                add("")

    # ---- remote read
    L.extend(remote_read.report_lines(res.get("rr")))

    # ---- compression throughput
    comp = res.get("compress", {})
    ing = res.get("ingest", {})
    if comp or ing:
        add("### Ingest and compression throughput")
        add("")
        if ing:
            add("Ingest: one connection per store, in time order; " + (
                "one store at a time." if cfg.get("serial") else
                "promscale_ha's write() ran while Prometheus and then VictoriaMetrics received theirs (two cores "
                "shared, so wall rates are lower than alone; the CPU columns are each server's own: the "
                "PostgreSQL backend's schedstat, the peer process's utime + stime).") +
                " Compression: one `compress_now('0')` per database.")
            add("")
        add("| step | samples | wall s | server CPU s | samples per wall-second | samples per CPU-second |")
        add("|---|---:|---:|---:|---:|---:|")
        for name, x in ing.items():
            cpu_kind = "backend" if name == "promscale_ha" else "process"
            add(f"| ingest, {name} (1 connection, {cpu_kind} CPU) | {x['samples']:,} | {x['wall']:.1f} | "
                f"{x['cpu']:.1f} | {x['samples'] / x['wall'] / 1e3:.0f} k | "
                f"{x['samples'] / x['cpu'] / 1e3 if x['cpu'] == x['cpu'] and x['cpu'] else float('nan'):.0f} k |")
        for f, c in comp.items():
            add(f"| compress_now('0'), {f} ({len(c['ranges'])} ranges, backend CPU: user {c['user']:.1f} s + "
                f"sys {c['sys']:.1f} s) | {c['samples']:,} | {c['wall']:.1f} | {c['cpu']:.1f} | "
                f"{c['samples'] / c['wall'] / 1e6:.2f} M | {c['samples'] / c['cpu'] / 1e6:.2f} M |")
        rc = res.get("random", {}).get("compress", {})
        for f, c in rc.items():
            add(f"| compress_now('0'), {f}, random values | {c['samples']:,} | {c['wall']:.1f} | {c['cpu']:.1f} | "
                f"{c['samples'] / c['wall'] / 1e6:.2f} M | {c['samples'] / c['cpu'] / 1e6:.2f} M |")
        add("")
        c = comp.get("dense")
        pi = ing.get("promscale_ha")
        if c and pi and c["cpu"] > 0:
            crate = c["samples"] / c["cpu"]
            irate = pi["samples"] / pi["cpu"]
            wrate = pi["samples"] / pi["wall"]
            steady = d["series"] / (STEP_MS / 1000)
            add(f"Compression's share of one core: ingest at full speed, one core of write() ({irate / 1e3:.0f} k "
                f"samples per backend CPU-second), needs **{100 * irate / crate:.1f}%** of a core more to compress "
                f"what it stores (at this run's wall rate, {wrate / 1e3:.0f} k samples/s, {100 * wrate / crate:.1f}%); "
                f"at this workload's real rate ({d['series']:,} series every 15 s = {steady:,.0f} samples/s) "
                f"{100 * steady / crate:.3f}%. Per CPU-second, compression handles "
                f"{crate / irate:.1f}× the samples write() does. compress_now's own "
                f"accounting: {_fmt_b(c['before'])} of head partitions became {_fmt_b(c['after'])} of chunk rows "
                f"({c['before'] / max(c['after'], 1):.0f}×).")
            add("")

    # ---- targets
    add("### Targets")
    add("")
    add("| target | measured | verdict |")
    add("|---|---|---|")
    for t in targets(res):
        add(f"| {t[0]} | {t[1]} | **{t[2]}** |")
    add("")
    if res.get("errors"):
        add("Problems met by this section:")
        add("")
        for e in res["errors"]:
            add(f"- {e}")
        add("")
    return L


# --------------------------------------------------------------------------- alone


def compile_client(root, work):
    out = os.path.join(work, "pha-bench")
    pgc = f"{PG_BIN}/pg_config"
    inc = subprocess.run([pgc, "--includedir"], capture_output=True, text=True, check=True).stdout.strip()
    lib = subprocess.run([pgc, "--libdir"], capture_output=True, text=True, check=True).stdout.strip()
    for prog, src in ((out, "pha_bench.c"), (os.path.join(work, "pha-query"), "pha_query.c")):
        subprocess.run(["gcc", "-O2", "-Wall", "-I" + inc, "-o", prog, os.path.join(root, "test/bench", src),
                        "-L" + lib, "-lpq", "-lpthread"], check=True, timeout=300)
    return out


def main():
    root = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap = argparse.ArgumentParser(description="storage section of the promscale_ha benchmark, alone")
    ap.add_argument("--quick", action="store_true", help="3 instances x 6 h (random: 3 x 1 h), 3 query runs")
    ap.add_argument("--work", default=None, help="temporary directory (default: a new one under /tmp, removed "
                                                 "unless --keep)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--gen", default=None, help="promscale-ha-gen (default: the checkout's, else PATH)")
    ap.add_argument("--client", default=None, help="pha-bench binary (default: compiled into the work directory)")
    ap.add_argument("--http-bin", default=None, help="promscale-ha-http for the remote reads (default: the "
                                                     "checkout's, else PATH)")
    ap.add_argument("--instances", type=int, default=None)
    ap.add_argument("--hours", type=int, default=None)
    ap.add_argument("--out", default=None, help="Markdown output (default: WORK/STORAGE.md)")
    ap.add_argument("--serial-ingest", action="store_true", help="one store at a time (slower)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("storage.py: run as root (it starts PostgreSQL as the postgres user)", file=sys.stderr)
        return 2
    own_work = a.work is None
    work = a.work or tempfile.mkdtemp(prefix="pha-storage.")
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    gen = a.gen or (os.path.join(root, "promscale-ha-gen") if os.access(os.path.join(root, "promscale-ha-gen"), os.X_OK)
                    else shutil.which("promscale-ha-gen"))
    if not gen:
        print("storage.py: promscale-ha-gen not found (make promscale-ha-gen)", file=sys.stderr)
        return 2
    client = a.client or compile_client(root, work)
    http_bin = a.http_bin or (os.path.join(root, "promscale-ha-http")
                              if os.access(os.path.join(root, "promscale-ha-http"), os.X_OK)
                              else shutil.which("promscale-ha-http"))
    out = a.out or os.path.join(work, "STORAGE.md")

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_term)
    procs = Procs()
    rc = 0
    st = None
    try:
        pg = Pg(work, procs)
        pg.start()
        st = Storage(pg, procs, work, gen, client, a.quick, http_bin=http_bin)
        if a.instances:
            st.cfg["instances"] = a.instances
        if a.hours:
            st.cfg["hours"] = a.hours
        st.cfg["serial"] = a.serial_ingest
        st.run()
    except KeyboardInterrupt:
        log("interrupted")
        rc = 130
    except Exception as e:
        log(f"FAILED: {e}")
        if st:
            st.res["errors"].append(f"failed: {e}")
        rc = 1
    finally:
        procs.stop_all()
    if st:
        text = "\n".join(report_lines(st.res, st.versions, standalone=True)) + "\n"
        with open(out, "w") as f:
            f.write(text)
        print(text)
        with open(os.path.join(work, "storage-results.json"), "w") as f:
            json.dump(st.res, f, indent=1, default=str)
        log(f"wrote {out}")
    if own_work and not a.keep and not a.out:
        log(f"work directory {work} kept (it holds the report); remove it when done")
    elif own_work and not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
