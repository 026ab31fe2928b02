#!/usr/bin/env python3
"""bench.py - the measurements of the promscale_ha benchmark (issue 6).

Started by test/bench/run.sh, which installs, builds and compiles the client
(pha_bench.c) first; see run.sh for the command.  This script:

  * starts a throw-away PostgreSQL 15 in the temporary directory (as the
    postgres user), two promscale-ha-http front ends, Prometheus and
    VictoriaMetrics, all on 127.0.0.1 and free ports;
  * generates every payload with promscale-ha-gen, with sample timestamps
    allocated from one clock (one 1 s slot per sample step, starting an hour
    before now), so that every store sees every series' samples in time order
    and HA samples are never in the future;
  * runs the sections of issue 6 through the client and writes the Markdown
    report (RESULTS.md) with medians, min-max spreads and ratios;
  * stops every process it started by its PID (SIGINT/SIGTERM, a bounded
    wait, then SIGKILL), also when a section fails or it is interrupted.

All numbers are wall-clock samples per second measured by the client unless
a column says CPU; backend CPU is from /proc/PID/schedstat (ns on a CPU).
"""

import argparse
import datetime
import json
import os
import platform
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def _pg_bin():
    """The bin directory of the PostgreSQL 15 whose pg_config is first on PATH (a private
    build, e.g. /opt/pgtestN/...), else Debian's."""
    pgc = shutil.which("pg_config")
    if pgc:
        try:
            r = subprocess.run([pgc, "--version", "--bindir"], capture_output=True, text=True, timeout=30)
            ver, bindir = (r.stdout.splitlines() + ["", ""])[:2]
            if r.returncode == 0 and ver.startswith("PostgreSQL 15") and os.access(f"{bindir}/postgres", os.X_OK):
                return bindir
        except (OSError, subprocess.SubprocessError):
            pass
    return "/usr/lib/postgresql/15/bin"


PG_BIN = _pg_bin()
SLOT_MS = 1000          # one sample step
METRICS = 100           # --metrics of every payload: fixes the label set of series i
SERIES_PER_REQ = 10000  # the Prometheus-like request of sections 2, 3, 4 and 5

# --------------------------------------------------------------------------- utilities


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values, q):
    """Quantile q (0..1) by linear interpolation."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def stats(values):
    return {"n": len(values), "median": statistics.median(values), "min": min(values),
            "max": max(values), "q1": pct(values, 0.25), "q3": pct(values, 0.75)}


def fmt_rate(x):
    if x != x:
        return "n/a"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.0f} k"
    return f"{x:.0f}"


def fmt_spread(st, f=fmt_rate):
    return f"{f(st['median'])} [{f(st['min'])}–{f(st['max'])}]"


def fmt_ms(x):
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def http_get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def perf_rows(text):
    """(share, entry) from perf report --stdio -q lines like '  12.3%  postgres  [.] sym'."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(.*)$", line)
        if m:
            entry = re.sub(r"(\s+-)+\s*$", "", re.sub(r"\s+", " ", m.group(2))).strip()
            rows.append((float(m.group(1)), entry))
    return rows


def busy_processes(seconds=2.0):
    """Processes that used more than 10% of a core over the next few seconds: (comm, pid, %)."""
    def snap():
        d = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    st = f.read()
            except OSError:
                continue
            comm = st[st.index("(") + 1:st.rindex(")")]
            fields = st[st.rindex(")") + 2:].split()
            d[int(pid)] = (comm, int(fields[11]) + int(fields[12]))
        return d
    a = snap()
    time.sleep(seconds)
    b = snap()
    tck = os.sysconf("SC_CLK_TCK")
    out = []
    for pid, (comm, t) in b.items():
        if pid in a:
            share = 100.0 * (t - a[pid][1]) / tck / seconds
            if share > 10:
                out.append((comm, pid, share))
    return sorted(out, key=lambda x: -x[2])


def sha256_file(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def deb_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True, timeout=30)
    return r.stdout.strip() or "?"


class Failure(Exception):
    pass


# --------------------------------------------------------------------------- processes


class Procs:
    """Every process the benchmark starts, to be stopped by its PID."""

    def __init__(self):
        self.list = []   # (name, Popen, stop signal)

    def start(self, name, argv, logpath, user=None, sig=signal.SIGTERM, env=None):
        logf = open(logpath, "ab")
        kw = {}
        if user:
            pw = pwd.getpwnam(user)
            kw = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, env=env, **kw)
        logf.close()
        self.list.append((name, p, sig))
        log(f"started {name} (pid {p.pid})")
        return p

    def stop(self, p, timeout=60):
        for name, q, sig in list(self.list):
            if q is p:
                self._stop_one(name, q, sig, timeout)
                self.list.remove((name, q, sig))

    @staticmethod
    def _stop_one(name, p, sig, timeout):
        if p.poll() is not None:
            log(f"{name} (pid {p.pid}) had exited with {p.returncode}")
            return
        p.send_signal(sig)
        try:
            p.wait(timeout=timeout)
            log(f"stopped {name} (pid {p.pid})")
        except subprocess.TimeoutExpired:
            log(f"{name} (pid {p.pid}) did not stop in {timeout}s: SIGKILL")
            p.kill()
            p.wait(timeout=30)

    def stop_all(self):
        for name, p, sig in reversed(self.list):
            try:
                self._stop_one(name, p, sig, 60)
            except Exception as e:  # keep stopping the others
                log(f"stopping {name}: {e}")
        self.list = []


def wait_until(what, fn, timeout):
    """Polls fn() until it returns true, at most timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if fn():
                return
        except Exception as e:
            last = e
        time.sleep(0.2)
    raise Failure(f"{what} not ready after {timeout}s ({last})")


# --------------------------------------------------------------------------- the bench


class Bench:
    def __init__(self, a):
        self.a = a
        self.work = a.work
        self.procs = Procs()
        self.payload_dir = os.path.join(self.work, "payloads")
        os.makedirs(self.payload_dir, exist_ok=True)
        self.quick = a.quick
        self.reps = 3 if a.quick else 9
        self.reps_big = 2 if a.quick else 5
        now_ms = int(time.time() * 1000)
        self.next_ms = (now_ms - 60 * 60 * 1000) // 1000 * 1000
        self.files = 0
        self.results = {}
        self.notes = []
        self.pg_port = free_port()
        self.http_bin = a.http_bin if a.http_bin and os.access(a.http_bin, os.X_OK) else None
        self.versions = {}
        # perf keeps the binaries it resolves symbols from here, by build-id (see snapshot_library)
        self.perf = ["perf", "--buildid-dir", os.path.join(self.work, "perf-buildids")]

    # ---- timestamps and payloads

    def slots(self, n):
        """Start ms of n consecutive sample steps never used before."""
        t = self.next_ms
        self.next_ms += n * SLOT_MS
        return t

    def gen(self, series, samples, start_ms, offset=0, cluster=None, replica=None, tag="p"):
        self.files += 1
        path = os.path.join(self.payload_dir, f"{tag}-{self.files:05d}.bin")
        argv = [self.a.gen, "--series", str(series), "--samples", str(samples),
                "--start-ms", str(start_ms), "--step-ms", str(SLOT_MS), "--metrics", str(METRICS),
                "--series-offset", str(offset), "-o", path]
        if cluster:
            argv += ["--cluster", cluster, "--replica", replica]
        subprocess.run(argv, check=True, timeout=120)
        return path

    # ---- PostgreSQL

    def snapshot_library(self):
        """The server runs the promscale_ha.so installed when it starts.  Others may install
        over that file while we run (the install directory is the machine's), so a copy goes
        into perf's build-id cache now (profiles are recorded with --buildid-mmap and resolve
        against it), and its checksum is compared at the end."""
        libdir = subprocess.run([f"{PG_BIN}/pg_config", "--pkglibdir"], capture_output=True, text=True,
                                timeout=30, check=True).stdout.strip()
        self.lib = os.path.join(libdir, "promscale_ha.so")
        copy = os.path.join(self.work, "promscale_ha.so.at-start")
        shutil.copy2(self.lib, copy)
        self.lib_sum = sha256_file(copy)
        subprocess.run(self.perf + ["buildid-cache", "-a", copy], timeout=60, capture_output=True)

    def check_library(self):
        if getattr(self, "lib_sum", None) and sha256_file(self.lib) != self.lib_sum:
            self.notes.append("the installed promscale_ha.so was replaced while the benchmark ran (another build "
                              "installed over it); the server kept running the library it loaded at start, which "
                              "is the one measured, and the profiles resolve its symbols from a copy taken then")

    def start_pg(self):
        self.snapshot_library()
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
        self.pg_conf = PG_CONF.format(port=self.pg_port, sockdir=sockdir)
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write("\n# ---- promscale_ha benchmark (test/bench/bench.py)\n" + self.pg_conf)
        logpath = os.path.join(self.work, "postgresql.log")
        open(logpath, "a").close()
        shutil.chown(logpath, "postgres", "postgres")
        self.pg = self.procs.start("postgres", [f"{PG_BIN}/postgres", "-D", data], logpath,
                                   user="postgres", sig=signal.SIGINT)
        wait_until("PostgreSQL", lambda: subprocess.run(
            [f"{PG_BIN}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.pg_port), "-t", "2"],
            timeout=10).returncode == 0, 60)
        # st_*: section 6's (storage.py), made now so the extension matches the loaded library
        for db in ["bench", "s1", "fe_direct", "fe_http", "fe_async", "growth"] + \
                ([] if self.a.no_storage else ["st_node", "st_random"]):
            if db != "postgres":
                self.sql("postgres", f"CREATE DATABASE {db}")
            self.sql(db, "SET client_min_messages = warning; CREATE EXTENSION promscale_ha")
        self.versions["postgres"] = self.sql("postgres", "SHOW server_version")
        self.versions["promscale_ha"] = self.sql(
            "bench", "SELECT extversion FROM pg_extension WHERE extname = 'promscale_ha'")

    def conninfo(self, db, extra=""):
        return f"host=127.0.0.1 port={self.pg_port} user=postgres dbname={db} connect_timeout=10 {extra}".strip()

    def sql(self, db, q, timeout=600):
        r = subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.conninfo(db),
                            "-c", q], capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise Failure(f"psql {db}: {q[:200]}: {r.stderr.strip()}")
        return r.stdout.strip()

    # ---- the client

    def client(self, mode, plan, name, db=None, url=None, conns=1, mem=False, timeout=1200, wrap=None,
               extra=()):
        planpath = os.path.join(self.work, f"plan-{name}.txt")
        with open(planpath, "w") as f:
            for line in plan:
                f.write(" ".join(str(x) for x in line) + "\n")
        argv = [self.a.client, mode, "--plan", planpath, "-c", str(conns)]
        if db:
            argv += ["--db", self.conninfo(db) if "=" not in db else db]
        if url:
            argv += ["--url", url]
        if mem:
            argv.append("--mem")
        argv += list(extra)
        if wrap:
            argv = wrap + argv
        out = os.path.join(self.work, f"out-{name}.tsv")
        with open(out, "w") as f, open(out + ".err", "w") as ferr:
            # its own process group (perf and the client under it), ended as a whole on a time-out
            p = subprocess.Popen(argv, stdout=f, stderr=ferr, stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                rc = p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)
                raise Failure(f"client {name} did not finish in {timeout}s; stopped")
            except BaseException:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)
                raise
        if rc != 0:
            with open(out + ".err") as ferr:
                raise Failure(f"client {name} failed ({rc}): {ferr.read()[-2000:]}")
        recs = []
        with open(out) as f:
            for line in f:
                recs.append(line.rstrip("\n").split("\t"))
        return recs

    # ---- section 1: write() vs COPY

    def section_copy(self):
        log("section 1: write() vs COPY (FORMAT binary) of the same rows")
        db = "s1"
        self.sql(db, SQL_MIRROR)
        plan = []

        def item(label, series, samples, offset, new):
            lo = self.slots(samples)
            path = self.gen(series, samples, lo, offset=offset, tag="s1")
            plan.append((label, path, lo, lo + samples * SLOT_MS, 1 if new else 0))

        R, RB = self.reps, self.reps_big
        # known 10k: the warm-up creates series 0..10k (mirrored with their series rows)
        item("warm", 10000, 1, 0, True)
        for _ in range(R):
            item("known-10k", 10000, 1, 0, False)
        item("warm", 10000, 1, 200000, True)
        for r in range(R):
            item("new-10k", 10000, 1, 210000 + r * 10000, True)
        item("warm", 2000, 10, 0, False)
        for _ in range(R):
            item("known-2k-x10", 2000, 10, 0, False)
        item("warm", 100000, 1, 0, True)       # creates series 10k..100k
        for _ in range(RB):
            item("known-100k", 100000, 1, 0, False)
        recs = self.client("pair", plan, "s1", db=db, timeout=1800)
        res = {}
        for r in recs:
            if r[0] != "pair" or r[1] == "warm":
                continue
            label = r[1]
            w_ns, w_cpu, c_ns, c_cpu, rows, srows, written = map(int, r[2:9])
            d = res.setdefault(label, {"write": [], "copy": [], "ratio": [], "wcpu": [], "ccpu": [], "sorted": [],
                                       "rows": rows, "series_rows": srows, "copy_bytes": int(r[9]),
                                       "payload_bytes": int(r[10])})
            d["write"].append(rows / (w_ns / 1e9))
            d["copy"].append(rows / (c_ns / 1e9))
            d["ratio"].append(c_ns / w_ns)
            d["sorted"].append(rows / (int(r[11]) / 1e9))
            d["wcpu"].append(w_cpu / 1e6)
            d["ccpu"].append(c_cpu / 1e6)
            if len(r) > 13:     # WAL bytes around the write() and the COPY
                d.setdefault("wwal", []).append(int(r[12]) / rows)
                d.setdefault("cwal", []).append(int(r[13]) / rows)
        self.results["copy"] = res
        n1 = self.sql(db, "SELECT count(*) FROM promscale_ha.samples")
        n2 = self.sql(db, "SELECT count(*) FROM bench.samples_copy")
        n3 = self.sql(db, "SELECT count(*) FROM bench.samples_sorted")
        s1 = self.sql(db, "SELECT count(*) FROM promscale_ha.series")
        s2 = self.sql(db, "SELECT count(*) FROM bench.series_copy")
        self.results["copy_check"] = (n1, n2, s1, s2)
        if n1 != n2 or s1 != s2 or n1 != n3:
            raise Failure(f"section 1: tables differ: samples {n1} vs {n2}, series {s1} vs {s2}")

    # ---- profile of the backend during the 10k-series write() workload

    def section_profile(self):
        log("profile: perf record (call graphs) of the backend, 10k known series per write()")
        plan = [("warm", 10000, self.gen(10000, 1, self.slots(1), tag="prof"))]
        for _ in range(10 if self.quick else 40):
            plan.append(("prof", 10000, self.gen(10000, 1, self.slots(1), tag="prof")))
        recs, data, pid = self.perf_client("profile", plan, "s1", 1, 0)
        self.results["profile"] = self.perf_report(data, pid)
        import perfstages
        self.results["profile_stages"] = perfstages.breakdown(data, pid, self.perf)
        reqs = [r for r in recs if r[0] == "req" and r[1] == "prof"]
        self.results["profile_rate"] = sum(int(r[6]) for r in reqs) / (sum(int(r[3]) for r in reqs) / 1e9)
        self.results["profile_cpu_ms"] = statistics.median(int(r[4]) / 1e6 for r in reqs)

    def perf_client(self, name, plan, db, conns, thread):
        """Runs the client under perf record -a with call graphs, the warm-up round left out;
        returns its records, the perf.data path and the backend pid of the given thread."""
        data = os.path.join(self.work, f"perf-{name}.data")
        fifo = os.path.join(self.work, f"perf-{name}.ctl")
        os.mkfifo(fifo)
        recs = self.client("write", plan, name, db=db, conns=conns, timeout=900, extra=["--perf-ctl", fifo],
                           wrap=self.perf + ["record", "-q", "-a", "-F", "999", "--call-graph", "dwarf,32768", "--buildid-mmap",
                                 "-D", "-1", "--control", f"fifo:{fifo}", "-o", data, "--"])
        pid = next(r[2] for r in recs if r[0] == "pid" and r[1] == str(thread))
        return recs, data, pid

    def section_follower_profile(self):
        log("profile: perf record of a follower's backend (leader and follower on two connections)")
        plan = []
        t = self.slots(1)
        plan.append(("warm", 10000, self.gen(10000, 1, t, cluster="c1", replica="a", tag="hap")))
        plan.append(("warm", 10000, self.gen(10000, 1, t, cluster="c1", replica="b", tag="hap")))
        for _ in range(20 if self.quick else 100):
            t = self.slots(1)
            plan.append(("prof", 10000, self.gen(10000, 1, t, cluster="c1", replica="a", tag="hap")))
            plan.append(("prof", 10000, self.gen(10000, 1, t, cluster="c1", replica="b", tag="hap")))
        recs, data, pid = self.perf_client("follower-profile", plan, "bench", 2, 1)
        import perfstages
        self.results["follower_stages"] = perfstages.breakdown(data, pid, self.perf)

    def perf_report(self, data, pid):
        """The backend's share per symbol (all of them), per binary, and who else was on the CPU."""
        out = {}
        r = subprocess.run(self.perf + ["report", "-i", data, "--stdio", "--pid", str(pid), "--sort", "dso,symbol",
                            "--percentage", "relative", "--no-children", "-q", "-g", "none"],
                           capture_output=True, text=True, timeout=300)
        out["sym"] = perf_rows(r.stdout)
        dsos = {}
        for share, entry in out["sym"]:
            dso = entry.split(" ", 1)[0]
            dsos[dso] = dsos.get(dso, 0.0) + share
        out["dso"] = sorted(((v, k) for k, v in dsos.items()), reverse=True)
        r = subprocess.run(self.perf + ["report", "-i", data, "--stdio", "--sort", "pid", "-q", "--no-children", "-g", "none",
                            "--percent-limit", "2"], capture_output=True, text=True, timeout=300)
        out["pids"] = [re.sub(r"\s+", " ", l).strip() for l in r.stdout.splitlines() if l.strip()][:8]
        return out

    # ---- section 2: follower cost

    def section_follower(self):
        log("section 2: follower vs leader, same 10k-series request")
        plan = []
        t = self.slots(1)
        plan.append(("warm-leader", 10000, self.gen(10000, 1, t, cluster="c1", replica="a", tag="ha")))
        plan.append(("warm-follower", 10000, self.gen(10000, 1, t, cluster="c1", replica="b", tag="ha")))
        for _ in range(self.reps * 2):
            t = self.slots(1)
            plan.append(("leader", 10000, self.gen(10000, 1, t, cluster="c1", replica="a", tag="ha")))
            plan.append(("follower", 10000, self.gen(10000, 1, t, cluster="c1", replica="b", tag="ha")))
        recs = self.client("write", plan, "follower", db="bench")
        res = {"leader": {"cpu": [], "wall": []}, "follower": {"cpu": [], "wall": []}}
        for r in recs:
            if r[0] == "req" and r[1] in res:
                res[r[1]]["cpu"].append(int(r[4]) / 1e6)
                res[r[1]]["wall"].append(int(r[3]) / 1e6)
                expect = "stored" if r[1] == "leader" else "deduplicated"
                if r[8] != expect:
                    raise Failure(f"section 2: a {r[1]} request had outcome {r[8]}")
        self.results["follower"] = res

    # ---- sections 3 and 4: the front end and the peers

    def start_http(self, db, extra=""):
        port = free_port()
        p = self.procs.start(f"promscale-ha-http ({db})", [
            self.http_bin, "--listen", f"127.0.0.1:{port}", "--db", self.conninfo(db, extra),
            "--pool-size", "8", "--threads", "8"], os.path.join(self.work, f"http-{db}.log"))
        wait_until("promscale-ha-http", lambda: http_get(f"http://127.0.0.1:{port}/healthz", 5)[0] == 200, 30)
        return p, f"127.0.0.1:{port}/write"

    def start_prometheus(self):
        port = free_port()
        d = os.path.join(self.work, "prometheus")
        os.makedirs(d)
        cfg = os.path.join(d, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("# no scrape jobs: this Prometheus only receives remote write\nglobal:\n  scrape_interval: 1m\n")
        helptext = subprocess.run(["prometheus", "--help"], capture_output=True, text=True, timeout=30)
        flag = ("--web.enable-remote-write-receiver" if "web.enable-remote-write-receiver" in
                helptext.stdout + helptext.stderr else "--enable-feature=remote-write-receiver")
        self.versions["prometheus"] = deb_version("prometheus")
        self.versions["prometheus_flag"] = flag
        p = self.procs.start("prometheus", [
            "prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={d}/data",
            f"--web.listen-address=127.0.0.1:{port}", flag, "--storage.tsdb.retention.time=2d",
            "--log.level=warn"], os.path.join(self.work, "prometheus.log"))
        base = f"http://127.0.0.1:{port}"
        wait_until("Prometheus", lambda: http_get(base + "/-/ready", 5)[0] == 200, 60)
        return p, base

    def start_vm(self):
        port = free_port()
        d = os.path.join(self.work, "victoria-metrics")
        os.makedirs(d)
        self.versions["victoria-metrics"] = deb_version("victoria-metrics")
        p = self.procs.start("victoria-metrics", [
            "victoria-metrics", f"-storageDataPath={d}/data", f"-httpListenAddr=127.0.0.1:{port}",
            "-retentionPeriod=1y", "-loggerLevel=WARN"], os.path.join(self.work, "victoria-metrics.log"))
        base = f"http://127.0.0.1:{port}"
        wait_until("VictoriaMetrics", lambda: http_get(base + "/health", 5)[0] == 200, 60)
        return p, base

    def frontend_plans(self):
        """Per concurrency, per round: a warm-up of one request per sender, then the timed round
        of R requests per sender; every sender has its own 10k series, sent in time order."""
        plans = {}
        per_round = 32   # requests of 10k series per round, for every concurrency
        for c in (2, 8):
            R = per_round // c
            rounds = []
            for k in range(self.reps):
                warm, timed = [], []
                for part, n in ((warm, 1), (timed, R)):
                    label = f"c{c}-{'w' if part is warm else 'r'}{k}"
                    for _ in range(n):
                        t = self.slots(1)
                        for s_ in range(c):
                            part.append((label, SERIES_PER_REQ, self.gen(
                                SERIES_PER_REQ, 1, t, offset=s_ * SERIES_PER_REQ, tag=f"fe{c}")))
                rounds.append(warm + timed)
            plans[c] = rounds
        return plans

    def section_frontend(self):
        log("sections 3 and 4: front end and peers over HTTP")
        plans = self.frontend_plans()
        targets = []   # (name, mode, db or url, pids whose process trees do the work)
        targets.append(("write() direct", "write", "fe_direct", [self.pg.pid]))
        if self.http_bin:
            p1, url = self.start_http("fe_http")
            targets.append(("promscale-ha-http", "http", url, [p1.pid, self.pg.pid]))
            p2, url2 = self.start_http("fe_async", "options=-csynchronous_commit=off")
            targets.append(("promscale-ha-http, synchronous_commit=off", "http", url2, [p2.pid, self.pg.pid]))
        else:
            self.notes.append("promscale-ha-http: not available (it did not build); the front-end rows are "
                              "missing and the peers are compared with write() direct only")
        self.prom = self.vm = None
        try:
            self.prom = self.start_prometheus()
            targets.append(("Prometheus receiver", "http", self.prom[1][7:] + "/api/v1/write", [self.prom[0].pid]))
        except Exception as e:
            self.notes.append(f"Prometheus: not available ({e})")
        try:
            self.vm = self.start_vm()
            targets.append(("VictoriaMetrics", "http", self.vm[1][7:] + "/api/v1/write", [self.vm[0].pid]))
        except Exception as e:
            self.notes.append(f"VictoriaMetrics: not available ({e})")
        # Round k of every target runs before round k+1 of any (the order rotating each round),
        # so a change of load on the machine during the section hits every target alike.
        res = {(t[0], c): [] for t in targets for c in (2, 8)}
        cpu = {(t[0], c): [] for t in targets for c in (2, 8)}
        for c in (2, 8):
            log(f"  {c} senders: {len(plans[c])} rounds x {len(targets)} targets")
            for k, plan in enumerate(plans[c]):
                for i in range(len(targets)):
                    name, mode, where, roots = targets[(i + k) % len(targets)]
                    tag = re.sub(r"[^a-z0-9]+", "_", name.lower()) + f"-c{c}-r{k}"
                    trees = [x for pid in roots for x in ("--cpu-tree", str(pid))]
                    if mode == "write":
                        recs = self.client("write", plan, tag, db=where, conns=c, extra=trees)
                    else:
                        recs = self.client("http", plan, tag, url=where, conns=c, extra=trees)
                    for r in recs:
                        if r[0] != "round":
                            continue
                        if int(r[5]) != 0:
                            raise Failure(f"{name}, {c} senders: {r[5]} failed requests in round {r[1]}")
                        if r[1] == f"c{c}-r{k}":
                            res[(name, c)].append(int(r[4]) / (int(r[2]) / 1e9))
                            cpu[(name, c)].append(int(r[6]) / 1e3 / int(r[4]) if int(r[6]) >= 0 else float("nan"))
        self.results["frontend"] = res
        self.results["frontend_cpu"] = {k: [x for x in v if x == x] for k, v in cpu.items()}
        self.results["frontend_targets"] = [t[0] for t in targets]
        expected = sum(item[1] for c in (2, 8) for plan in plans[c] for item in plan)
        self.verify_counts(targets, expected, plans)

    def verify_counts(self, targets, expected, plans):
        """Each store must hold every sample sent: a count from its own API."""
        checks = {}
        for name, mode, where, _ in targets:
            if mode == "write":
                checks[name] = int(self.sql(where, "SELECT count(*) FROM promscale_ha.samples"))
            elif name.startswith("promscale-ha-http"):
                db = "fe_async" if "synchronous_commit" in name else "fe_http"
                checks[name] = int(self.sql(db, "SELECT count(*) FROM promscale_ha.samples"))
        span_s = (self.next_ms - self.fe_first_ms) // 1000 + 120
        at = self.next_ms / 1000 + 1
        if self.prom:
            checks["Prometheus receiver"] = self.count_samples(self.prom[1], span_s, at)
            st, body = http_get(self.prom[1] + "/metrics")
            m = re.search(r'^prometheus_tsdb_head_samples_appended_total(?:\{type="float"\})? (\S+)$',
                          body.decode(), re.M)
            if m:
                self.results["prom_appended"] = int(float(m.group(1)))
        if self.vm:
            # recent rows become searchable a moment after a flush: poll, bounded
            deadline = time.monotonic() + 60
            while True:
                http_get(self.vm[1] + "/internal/force_flush", 60)
                checks["VictoriaMetrics"] = self.count_samples(self.vm[1], span_s, at, vm=True)
                if checks["VictoriaMetrics"] >= expected or time.monotonic() > deadline:
                    break
                time.sleep(2)
        self.results["counts"] = (expected, checks)
        for k, v in checks.items():
            if v != expected:
                raise Failure(f"{k} holds {v} samples, {expected} were sent")

    def count_samples(self, base, span_s, at, vm=False):
        """Samples stored, summed per metric name (count_over_time drops the name, so one
        query over every name would collide), through the store's query API."""
        st, body = http_get(base + "/api/v1/label/__name__/values", 60)
        names = json.loads(body)["data"]
        if not names:
            return 0
        return sum(self.promql(base, f"sum(count_over_time({n}[{span_s}s]))", at, vm) for n in names)

    def promql(self, base, query, at, vm=False):
        q = {"query": query, "time": f"{at:.3f}"}
        if vm:
            q["nocache"] = "1"
        deadline = time.monotonic() + 60
        while True:
            st, body = http_get(base + "/api/v1/query?" + urllib.parse.urlencode(q), 120)
            res = json.loads(body)["data"]["result"]
            n = int(float(res[0]["value"][1])) if res else 0
            if n > 0 or time.monotonic() > deadline:
                return n
            time.sleep(1)

    # ---- section 5: growth

    def section_growth(self):
        """Each write() is paired, as in section 1, with a COPY of the rows it stored into
        mirror tables that grow alike: the cost of PostgreSQL's own insert at each size
        stands next to write()'s.  Every request has its own time slot, so that the rows
        a call stored can be read back by time."""
        log("section 5: growth of active series (write() and COPY of the same rows)")
        db = "growth"
        self.sql(db, SQL_MIRROR)
        steps = [10000, 100000] + ([] if self.quick else [1000000])
        passes = {10000: 10, 100000: 5 if not self.quick else 2, 1000000: 2}
        plan = []
        have = 0

        def item(label, off, new):
            t = self.slots(1)
            plan.append((label, self.gen(SERIES_PER_REQ, 1, t, offset=off, tag="gr"), t, t + SLOT_MS,
                         1 if new else 0))

        for n in steps:
            for off in range(have, n, SERIES_PER_REQ):
                item(f"new@{n}", off, True)
            have = n
            for _ in range(passes[n]):
                for off in range(0, n, SERIES_PER_REQ):
                    item(f"known@{n}", off, False)
        recs = self.client("pair", plan, "growth", db=db, mem=True, timeout=3600, extra=("--no-sorted",))
        res = {}
        for r in recs:
            if r[0] != "pair":
                continue
            kind, n = r[1].split("@")
            d = res.setdefault(int(n), {"new": [], "known": [], "known_cpu": [], "copy_cpu": [], "own_cpu": [],
                                        "hwm": 0, "anon": 0, "shmem": 0})
            w_ns, w_cpu, c_ns, c_cpu, rows = map(int, r[2:7])
            d[kind].append(rows / (w_ns / 1e9))
            if kind == "known":
                d["known_cpu"].append(w_cpu / 1e3 / rows)
                d["copy_cpu"].append(c_cpu / 1e3 / rows)
                d["own_cpu"].append((w_cpu - c_cpu) / 1e3 / rows)
            d["hwm"] = max(d["hwm"], int(r[14]))
            d["anon"] = max(d["anon"], int(r[15]))
            d["shmem"] = max(d["shmem"], int(r[16]))
        self.results["growth"] = res
        n1 = self.sql(db, "SELECT count(*) FROM promscale_ha.samples")
        n2 = self.sql(db, "SELECT count(*) FROM bench.samples_copy")
        if n1 != n2:
            raise Failure(f"section 5: tables differ: samples {n1} vs {n2}")

    # ---- section 6: storage (test/bench/storage.py)

    def section_storage(self):
        import storage
        st = storage.Storage(self, self.procs, self.work, self.a.gen, self.a.client, self.quick,
                             versions=self.versions)
        self.results["storage"] = st.res
        try:
            st.run()
        except Failure:
            raise
        except Exception as e:   # keep what was measured; the report says what failed
            st.res["errors"].append(f"failed: {e!r}")
            raise Failure(f"storage: {e!r}")

    # ---- run everything

    def machine(self):
        cpu = "?"
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        return {"cpu": cpu, "cores": os.cpu_count(), "mem_gib": mem, "kernel": platform.release(),
                "os": (open("/etc/debian_version").read().strip() if os.path.exists("/etc/debian_version") else "?"),
                "load_before": os.getloadavg()}

    def git_rev(self):
        try:
            rev = subprocess.run(["git", "-C", self.a.root, "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True, timeout=30).stdout.strip()
            dirty = subprocess.run(["git", "-C", self.a.root, "status", "--porcelain", "--", "src", "sql"],
                                   capture_output=True, text=True, timeout=30).stdout.strip()
            return rev + (" + uncommitted changes in src/ or sql/" if dirty else "")
        except Exception:
            return "?"

    def run(self):
        t0 = time.monotonic()
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.mach = self.machine()
        self.mach["busy_before"] = busy_processes()
        self.start_pg()
        sections = [("copy", self.section_copy), ("profile", self.section_profile),
                    ("follower", self.section_follower), ("follower_profile", self.section_follower_profile)]
        for key, fn in sections:
            self.guard(key, fn)
        self.fe_first_ms = self.next_ms
        self.guard("frontend", self.section_frontend)
        self.guard("growth", self.section_growth)
        if not self.a.no_storage:
            self.guard("storage", self.section_storage)
        self.elapsed = time.monotonic() - t0
        self.mach["load_after"] = os.getloadavg()
        self.check_library()
        self.mach["busy_after"] = busy_processes()

    def guard(self, key, fn):
        if self.a.sections and key not in self.a.sections.split(","):
            self.notes.append(f"section {key} not run (--sections {self.a.sections})")
            return
        try:
            fn()
        except (Failure, subprocess.SubprocessError, OSError) as e:
            log(f"section {key} FAILED: {e}")
            self.notes.append(f"section {key} failed: {e}")

    # ---- the report

    def report(self):
        from report import write_report
        write_report(self, self.a.out)
        log(f"wrote {self.a.out}")


# The server settings, written down in RESULTS.md too.
PG_CONF = """\
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockdir}'
max_connections = 50
shared_preload_libraries = 'promscale_ha'
promscale_ha.database = 'bench'
shared_buffers = 4GB
huge_pages = off
wal_buffers = 64MB
max_wal_size = 16GB
checkpoint_timeout = 30min
fsync = on
synchronous_commit = on
full_page_writes = on
wal_level = replica
autovacuum = off
logging_collector = off
log_min_messages = warning
"""

# Section 1's mirror tables: the same columns, partitioning and indexes as the
# extension's, filled by COPY with exactly the rows write() stored.
SQL_MIRROR = """
CREATE SCHEMA bench;
CREATE TABLE bench.samples_copy (
    series_id bigint NOT NULL,
    time      timestamptz NOT NULL,
    value     double precision NOT NULL
) PARTITION BY RANGE (time);
CREATE UNIQUE INDEX samples_copy_series_id_time_key ON bench.samples_copy (series_id, time);
CREATE TABLE bench.series_copy (LIKE promscale_ha.series INCLUDING ALL);
CREATE TABLE bench.samples_sorted (LIKE bench.samples_copy) PARTITION BY RANGE (time);
CREATE UNIQUE INDEX samples_sorted_series_id_time_key ON bench.samples_sorted (series_id, time);
CREATE TABLE bench.series_sorted (LIKE promscale_ha.series INCLUDING ALL);
CREATE FUNCTION bench.sync_partitions() RETURNS void LANGUAGE plpgsql AS $$
DECLARE r record; t text;
BEGIN
    FOR r IN SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'promscale_ha.samples_head'::regclass
    LOOP
        FOREACH t IN ARRAY ARRAY['copy', 'sorted'] LOOP
            IF to_regclass(format('bench.%I', r.relname || '_' || t)) IS NULL THEN
                EXECUTE format('CREATE TABLE bench.%I PARTITION OF bench.samples_%s %s',
                               r.relname || '_' || t, t, r.bound);
            END IF;
        END LOOP;
    END LOOP;
END $$;
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--client", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--http-bin", default="")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--no-storage", action="store_true", help="leave out section 6 (storage.py)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--sections", default="",
                    help="for development: only these sections (comma-separated keys, e.g. growth); "
                         "the report then says the others were not measured")
    a = ap.parse_args()
    if not a.out:
        a.out = (os.path.join(a.work, "RESULTS-quick.md") if a.quick
                 else os.path.join(a.root, "test", "bench", "RESULTS.md"))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_term)

    b = Bench(a)
    rc = 0
    try:
        b.run()
    except KeyboardInterrupt:
        log("interrupted")
        rc = 130
    except Exception as e:
        log(f"FAILED: {e}")
        rc = 1
    finally:
        b.procs.stop_all()
    if rc == 0:
        b.report()
        if a.quick:
            print(open(a.out).read())
        if b.notes:
            log("notes: " + "; ".join(b.notes))
    return rc


if __name__ == "__main__":
    sys.exit(main())
