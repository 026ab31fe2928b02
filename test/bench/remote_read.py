#!/usr/bin/env python3
"""remote_read.py - the remote-read part of the storage section (issue 11's benchmark).

storage.py calls it on its node_exporter-like data set, in the same run:

  * promscale_ha through the front end's POST /read (promscale-ha-http started against
    the benchmark's PostgreSQL with one pooled connection), on the head before
    compression and after compress_now('0') (chunk_format dense, then xor);
  * Prometheus 2.42's own POST /api/v1/read on the same samples from its TSDB (blocks
    after its compaction, the last hours in its head).

Cases: 1, ~100 and ~10,000 series (as many as the data has, in --quick), over 1 h and
over the whole data set, each as SAMPLES and as STREAMED_XOR_CHUNKS (the request's
accepted_response_types names one type).  Per case one warm-up, whose response is
decoded here to count series and samples inside [start, end], then timed runs on one
kept-alive HTTP connection: wall from the request's first byte to the response's last
(the body read into one reused buffer and dropped, not kept: see Endpoint.SINK),
server CPU (the PostgreSQL backends of the front end's connection and the front end
process; Prometheus' process) from /proc/PID/schedstat before and after each run.
Sample counts must agree between the stores, between the two response types and with
what the generator wrote; a difference is a note of the section (and its cell says so).

Requests are built and responses walked with test/read_decoder.py's hand-written
protobuf and XOR helpers (nothing of the project's C code); only chunks that reach
over the window's edges are decoded (Prometheus streams whole stored chunks), the
others are counted from their 16-bit sample count.
"""

import http.client
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
from bench import Failure, http_get, log, wait_until  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from protowire import fields, read_varint  # noqa: E402
try:
    import read_decoder as rd                          # needs python3-snappy (/usr/bin/python3)
except ImportError as _e:
    rd = None
    RD_ERROR = f"test/read_decoder.py cannot be imported ({_e}): run with /usr/bin/python3 and python3-snappy"

KINDS = (("samples", 0), ("chunks", 1))   # (name, ReadRequest.ResponseType)
KIND_TITLE = {"samples": "SAMPLES", "chunks": "STREAMED_XOR_CHUNKS"}
WANT_SERIES = (1, 100, 10000)
SLOW_S = 3.0          # a case whose warm-up takes longer is timed at most 3 times,
VERY_SLOW_S = 15.0    # and over this, the warm-up is one of 2 timed runs (12 h x 10k series)
FAST_S = 0.05         # a case whose warm-up takes less is timed for FAST_BUDGET_S of runs
FAST_BUDGET_S = 1.0   # (at least reps, at most FAST_MAX_RUNS): a median of 5 sub-millisecond
FAST_MAX_RUNS = 200   # runs moved by up to 2x from one run of the section to the next
PER_HOUR = 240        # samples per series and hour (15 s scrapes, never on a window edge)
PROM = "Prometheus 2.42"
ABSENT = "promscale_ha_bench_absent_metric"   # s0: a name no series has


def _re_quote(s):
    """s as an RE2 literal (what RE2 and Python's re treat as special, backslashed)."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", s)


def _mid(ds, step_ms):
    span = ds["end_ms"] - ds["start_ms"]
    return ds["start_ms"] + (span // 2) // step_ms * step_ms


def cases(ds, hour_ms, step_ms):
    """[{key, title, matchers, series, lo, hi, expect}] of the data set: matchers as
    read_decoder.py's NAME=VALUE arguments; lo and hi inclusive milliseconds on 15 s
    slots (samples sit 7.5 s off them); expect = samples the generator wrote there."""
    lab = ds["labels"]
    insts = list(dict.fromkeys(d["instance"] for d in lab))
    inst = insts[0]
    names = {}
    for d in lab:
        if d["instance"] == inst:
            names[d["__name__"]] = names.get(d["__name__"], 0) + 1
    one = "node_memory_MemAvailable_bytes"
    if names.get(one) != 1:
        one = min(n for n, c in names.items() if c == 1)
    # ~100: metrics of one instance, largest first, as long as they fit
    picked, total = [], 0
    for n, c in sorted(names.items(), key=lambda x: (-x[1], x[0])):
        if total + c <= WANT_SERIES[1]:
            picked.append(n)
            total += c
    per_inst = len(lab) // len(insts)
    k = max(1, min(len(insts), round(WANT_SERIES[2] / per_inst)))
    sets = [
        ("s1", f"1 series ({one} of one instance)", [f"__name__={one}", f"instance={inst}"],
         lambda d: d["__name__"] == one and d["instance"] == inst),
        ("s100", f"{total} series ({len(picked)} metrics of one instance, `__name__=~`)",
         [f"__name__=~{'|'.join(sorted(picked))}", f"instance={inst}"],
         lambda d: d["instance"] == inst and d["__name__"] in picked),
        ("s10k", f"{k * per_inst:,} series (every metric of {k} instance{'s' if k > 1 else ''}"
                 f"{', all the data has' if k == len(insts) else ''}, `instance=~`)",
         [f"instance=~{'|'.join(_re_quote(i) for i in insts[:k])}"],
         lambda d: d["instance"] in insts[:k]),
    ]
    mid = _mid(ds, step_ms)
    spans = [(1, mid - hour_ms, mid), (ds["hours"], ds["start_ms"], ds["end_ms"])]
    out = []
    for key, title, matchers, pred in sets:
        n = sum(1 for d in lab if pred(d))
        for h, lo, hi in spans:
            out.append({"key": f"{key}-{h}h", "title": f"{title}, {h} h", "matchers": matchers, "series": n,
                        "lo": lo, "hi": hi, "hours": h, "expect": n * PER_HOUR * h})
    # the cost of a request itself: a name no series has, so nothing is read or sent
    out.insert(0, {"key": "s0-1h", "title": "no series (a metric name nothing has: the cost of a request), 1 h",
                   "matchers": [f"__name__={ABSENT}"], "series": 0, "lo": mid - hour_ms, "hi": mid,
                   "hours": 1, "expect": 0})
    return out


def request(case, kind_type):
    """The snappy body of a ReadRequest with one query and one accepted response type."""
    return bytes.fromhex(rd.encode_request(["--accept", str(kind_type), "-q", str(case["lo"]), str(case["hi"])]
                                           + case["matchers"]))


# --------------------------------------------------------------------------- responses


def _sample_ts(b):
    """The timestamp of the Sample field (key, length, message) at the start of b."""
    ln, i = read_varint(b, 1)
    t = 0
    for f, _, v in fields(b[i:i + ln]):
        if f == 2:
            t = rd.int64(v)
    return t


def count_samples(body, lo, hi):
    """A SAMPLES body: {series, samples, outside}; outside = samples not in [lo, hi],
    judged from the first and last sample of each series (they are in time order)."""
    raw = memoryview(rd.snappy.uncompress(bytes(body)))
    series = samples = outside = 0
    for f, _, qr in fields(raw):
        if f != 1:
            continue
        for g, _, ts in fields(qr):
            if g != 1:
                continue
            series += 1
            ts = bytes(ts)
            first = last = -1
            n = 0
            i, m = 0, len(ts)
            while i < m:           # the hot loop: one TimeSeries' fields (a Sample is < 128 bytes)
                ln = ts[i + 1]
                if ln < 0x80:
                    j = i + 2
                else:
                    ln, j = rd.read_varint(ts, i + 1)
                if ts[i] == 0x12:
                    n += 1
                    last = i
                    if first < 0:
                        first = i
                i = j + ln
            samples += n
            if n:
                a, b = (_sample_ts(memoryview(ts)[k:]) for k in (first, last))
                if a < lo or b > hi:
                    outside += sum(1 for t in (a, b) if t < lo or t > hi)
    return {"series": series, "samples": samples, "outside": outside, "frames": 0}


def count_chunks(body, lo, hi):
    """A STREAMED_XOR_CHUNKS body: {series, samples (in [lo, hi]), sent (all samples of
    the chunks), frames}; a chunk reaching over an edge is decoded, the others counted
    from their header."""
    b = memoryview(body)
    i, n = 0, len(b)
    frames = series = samples = sent = 0
    last_labels = None
    while i < n:
        ln, i = read_varint(b, i)
        msg = b[i + 4:i + 4 + ln]
        if len(msg) != ln:
            raise Failure(f"response: frame {frames} truncated")
        i += 4 + ln
        frames += 1
        for f, _, cs in fields(msg):
            if f != 1:
                continue
            labels = bytearray()
            for g, _, x in fields(cs):
                if g == 1:
                    labels += x
                elif g == 2:
                    mn = mx = typ = 0
                    data = None
                    for h, _, y in fields(x):
                        if h == 1:
                            mn = rd.int64(y)
                        elif h == 2:
                            mx = rd.int64(y)
                        elif h == 3:
                            typ = y
                        elif h == 4:
                            data = y
                    if typ != 1 or data is None or len(data) < 2:
                        raise Failure(f"response: frame {frames}: chunk of encoding {typ}")
                    c = data[0] << 8 | data[1]
                    sent += c
                    if mn >= lo and mx <= hi:
                        samples += c
                    else:
                        samples += sum(1 for t, _ in rd.xor_decode(bytes(data)) if lo <= t <= hi)
            if labels != last_labels:      # a series split over frames continues in the next
                series += 1
                last_labels = labels
    return {"series": series, "samples": samples, "sent": sent, "frames": frames}


# --------------------------------------------------------------------------- endpoints


class Endpoint:
    """One remote-read URL on a kept-alive connection; cpu() = {part: CPU seconds}."""

    def __init__(self, name, port, path, cpu):
        self.name, self.port, self.path, self.cpu = name, port, path, cpu
        self.conn = None

    # Timed runs read the body into this one buffer, touched once, again and again: a fresh
    # bytes object of tens of MB cost the client about 10 ms per MB in page faults on the
    # benchmark's VM, time both servers would spend waiting for the client.
    SINK = bytearray(8 << 20)

    @classmethod
    def _drain(cls, r):
        view, n = memoryview(cls.SINK), 0
        while True:
            k = r.readinto(view)
            if not k:
                return n
            n += k

    def post(self, body, timeout=900, keep=True):
        """(status, Content-Type, body, wall s); with keep=False the body is read and
        dropped, and its length comes in its place."""
        hdr = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
               "X-Prometheus-Remote-Read-Version": "0.1.0", "User-Agent": "promscale_ha-bench"}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                t0 = time.perf_counter()
                self.conn.request("POST", self.path, body=body, headers=hdr)
                r = self.conn.getresponse()
                data = r.read() if keep or r.status != 200 else self._drain(r)
                wall = time.perf_counter() - t0
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, r.getheader("Content-Type", ""), data, wall
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def schedstat_s(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def backends(postmaster, db):
    """{pid: CPU seconds} of the client backends of database db (the front end's only:
    nothing else is connected to it while reads are timed)."""
    out = {}
    pat = re.compile(rb"^postgres: \S+ " + re.escape(db.encode()) + rb" ")
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
            if int(st[st.rindex(")") + 2:].split()[1]) != postmaster:
                continue
            with open(f"/proc/{p}/cmdline", "rb") as f:
                if not pat.match(f.read()):
                    continue
            out[int(p)] = schedstat_s(p)
        except (OSError, ValueError, IndexError):
            continue
    return out


# --------------------------------------------------------------------------- the runs


class RemoteRead:
    """Measurements on the storage section's data set; st is the Storage object (pg, procs,
    work, note, port, started, stop_peer, http_bin, reps, cpu_of)."""

    def __init__(self, st, ds, hour_ms, step_ms):
        if rd is None:
            raise Failure(RD_ERROR)
        self.st = st
        self.cases = cases(ds, hour_ms, step_ms)
        self.reps = max(3, min(st.reps, 5))
        self.res = {"cases": [{k: c[k] for k in ("key", "title", "series", "lo", "hi", "hours", "expect",
                                                  "matchers")} for c in self.cases],
                    "hours": ds["hours"], "reps": self.reps, "stores": {}, "problems": [],
                    "frontend": bool(st.http_bin)}

    def problem(self, msg):
        self.res["problems"].append(msg)
        self.st.note("remote read: " + msg)

    def start_frontend(self, db):
        port = self.st.port()
        p = self.st.procs.start(f"promscale-ha-http ({db}, remote read)", [
            self.st.http_bin, "--listen", f"127.0.0.1:{port}", "--db", self.st.pg.conninfo(db),
            "--pool-size", "1", "--max-reads", "1", "--threads", "2", "--pool-wait", "60s",
            "--client-timeout", "900s"],
            os.path.join(self.st.work, f"http-read-{db}.log"))
        self.st.started.append(p)
        peer = {"p": p, "name": "promscale-ha-http"}
        try:
            wait_until("promscale-ha-http", lambda: http_get(f"http://127.0.0.1:{port}/healthz", 5)[0] == 200, 30)
        except BaseException:
            self.st.stop_peer(peer)
            raise
        return peer, port

    def measure_pg(self, db, store):
        """Reads of database db through a front end of its own, stopped afterwards (CREATE
        DATABASE ... TEMPLATE and DROP DATABASE need the database without connections)."""
        if not self.st.http_bin:
            return
        peer = None
        try:
            peer, port = self.start_frontend(db)
            postmaster = self.st.pg.pg.pid
            fe = peer["p"].pid
            ep = Endpoint(store, port, "/read",
                          lambda: {"db": backends(postmaster, db), "fe": self.st.cpu_of(fe)})
            self.res["stores"][store] = self.run_cases(ep)
            ep.close()
        except Exception as e:
            self.problem(f"{store}: {e}")
        finally:
            if peer:
                self.st.stop_peer(peer)

    def measure_prom(self, prom):
        try:
            port = int(prom["base"].rsplit(":", 1)[1])
            pid = prom["p"].pid
            ep = Endpoint(PROM, port, "/api/v1/read", lambda: {"db": {pid: self.st.cpu_of(pid)}, "fe": None})
            self.res["stores"][PROM] = self.run_cases(ep)
            ep.close()
        except Exception as e:
            self.problem(f"{PROM}: {e}")

    def run_cases(self, ep):
        t0 = time.monotonic()
        out = {}
        for c in self.cases:
            row = out[c["key"]] = {}
            for kind, typ in KINDS:
                try:
                    row[kind] = self.run_case(ep, c, kind, typ)
                except Exception as e:    # a bad answer, a timeout: the other cases go on
                    row[kind] = {"error": str(e) or repr(e)}
                    self.problem(f"{ep.name}, {c['key']} {KIND_TITLE[kind]}: {e}")
        self.res.setdefault("seconds", {})[ep.name] = time.monotonic() - t0
        self.res.setdefault("load", {})[ep.name] = os.getloadavg()[0]
        return out

    @staticmethod
    def _cpu_run(ep, body, size, what):
        c0 = ep.cpu()
        st, _, got, wall = ep.post(body, keep=False)
        c1 = ep.cpu()
        got = got if isinstance(got, int) else len(got)
        if st != 200 or got != size:
            raise Failure(f"{what}: a timed run answered {st} with {got} bytes, the warm-up {size}")
        return (wall * 1e3, sum(v - c0["db"].get(p, 0.0) for p, v in c1["db"].items()) * 1e3,
                (c1["fe"] - c0["fe"]) * 1e3 if c1["fe"] is not None else None)

    def run_case(self, ep, c, kind, typ):
        """One case and type: a warm-up (decoded), then the timed runs."""
        what = f"{c['key']} {KIND_TITLE[kind]}"
        body = request(c, typ)
        c0 = ep.cpu()
        st, ctype, data, wall0 = ep.post(body)
        c1 = ep.cpu()
        if st != 200:
            raise Failure(f"HTTP {st}: {data[:300]!r}")
        want = "application/x-protobuf" if kind == "samples" else "application/x-streamed-protobuf"
        if not ctype.startswith(want):
            raise Failure(f"Content-Type {ctype!r}, expected {want}")
        cnt = (count_samples if kind == "samples" else count_chunks)(data, c["lo"], c["hi"])
        size = len(data)
        del data
        runs = []
        if wall0 >= VERY_SLOW_S:          # the warm-up counts: it read what the timed run reads
            runs.append((wall0 * 1e3, sum(v - c0["db"].get(p, 0.0) for p, v in c1["db"].items()) * 1e3,
                         (c1["fe"] - c0["fe"]) * 1e3 if c1["fe"] is not None else None))
            n = 1
        else:
            n = self.reps if wall0 < SLOW_S else min(3, self.reps)
        t_end = time.monotonic() + FAST_BUDGET_S
        while len(runs) < n or (wall0 < FAST_S and len(runs) < FAST_MAX_RUNS and time.monotonic() < t_end):
            runs.append(self._cpu_run(ep, body, size, what))
        walls = [r[0] for r in runs]
        cpu = [r[1] for r in runs]
        fe_cpu = [r[2] for r in runs if r[2] is not None]
        m = statistics.median(walls)
        log(f"    remote read {ep.name} {what}: {cnt['series']:,} series, {cnt['samples']:,} samples, "
            f"{size / 2**20:.1f} MiB, {m:.1f} ms wall ({len(walls)} runs), {statistics.median(cpu):.1f} ms "
            f"server CPU, {cnt['samples'] / m / 1e3:.2f} M samples/s")
        self.check(ep.name, c, kind, cnt)
        return dict(cnt, bytes=size, wall=walls, cpu=cpu, fe_cpu=fe_cpu, warm=wall0 * 1e3)

    def check(self, store, c, kind, cnt):
        """The counts against the data the generator wrote."""
        if cnt["series"] != c["series"] or cnt["samples"] != c["expect"]:
            self.problem(f"{store}, {c['key']} {KIND_TITLE[kind]}: {cnt['series']:,} series and {cnt['samples']:,} "
                         f"samples in the window, the data has {c['series']:,} and {c['expect']:,}")
        if cnt.get("outside"):
            self.problem(f"{store}, {c['key']} SAMPLES: {cnt['outside']} samples outside the window")


# --------------------------------------------------------------------------- report


def _med(v):
    return statistics.median(v) if v else float("nan")


def _ms(x):
    if x != x:
        return "n/a"
    return f"{x:.0f}" if x >= 100 else (f"{x:.1f}" if x >= 10 else f"{x:.2f}")


def _size(b):
    return f"{b / 2**20:.1f} MiB" if b >= 2**20 else f"{b / 2**10:.0f} kiB"


def _cpu(x):
    """Median server CPU of a cell, ms: the backend's plus the front end's."""
    return _med([a + b for a, b in zip(x["cpu"], x["fe_cpu"])] if x.get("fe_cpu") else x["cpu"])


def _rate(n, ms):
    if not ms or ms != ms:
        return "n/a"
    r = n / (ms / 1e3)
    return f"{r / 1e6:.2f} M/s" if r >= 1e6 else f"{r / 1e3:.0f} k/s"


def counts_agree(rr):
    """[(case, kind, {store: samples})] where the stores or the two types differ."""
    bad = []
    for c in rr["cases"]:
        seen = {}
        for store, rs in rr["stores"].items():
            for kind, _ in KINDS:
                x = rs.get(c["key"], {}).get(kind)
                if x and "error" not in x:
                    seen[f"{store} {KIND_TITLE[kind]}"] = (x["series"], x["samples"])
        if len(set(seen.values())) > 1:
            bad.append((c["key"], seen))
    return bad


def report_lines(rr):
    L = []
    add = L.append
    if not rr:
        return L
    add("### Remote read")
    add("")
    stores = list(rr["stores"])
    if not stores:
        add("Not measured: " + "; ".join(rr.get("problems") or ["no store answered"]) + ".")
        add("")
        return L
    add(f"Prometheus remote read of the same data (`test/bench/remote_read.py`): promscale_ha through the front end's "
        "`POST /read` (promscale-ha-http with one pooled connection to the benchmark's PostgreSQL, i.e. "
        "`promscale_ha.read()`), on the head before compression and after `compress_now('0')`; Prometheus 2.42 "
        "through its own `POST /api/v1/read` (blocks after its compaction, the last hours in its head). One request "
        "per run, one query, the request's `accepted_response_types` naming one type; windows as in the query table, "
        f"inclusive milliseconds with no sample on an edge; the whole data set is {rr['hours']} h (the issue asks "
        "for 24 h; the full run's data is 12 h to keep `make bench` near half an hour). Median wall of "
        f"{rr['reps']} runs after a warm-up (as many as fit in {FAST_BUDGET_S:.0f} s, at most {FAST_MAX_RUNS}, when the "
        f"warm-up took under {FAST_S * 1e3:.0f} ms: medians of a few sub-millisecond runs moved by up to 2x between runs "
        "of the section; " + (f"3 when the warm-up took over {SLOW_S:.0f} s; " if rr["reps"] > 3
                              else "") +
        f"over {VERY_SLOW_S:.0f} s, the warm-up and one more run), timed by a Python client "
        "on a kept-alive connection from the request's first byte to the response's last (timed runs read the "
        "body into one reused 8 MB buffer and drop it: a fresh bytes object of tens of MB cost the client about "
        "10 ms per MB of page faults on this VM, which either server waited for); samples/s = samples in "
        "the window / wall. CPU (ms, median): promscale_ha's PostgreSQL backend + the front end process; "
        "Prometheus' process (all threads); from `/proc/PID/schedstat` around each run. The warm-up's response is "
        "decoded: series and samples inside the window are counted and compared between the stores, the two types "
        "and the data written (Prometheus streams whole stored chunks, which can reach past the window: those "
        "samples are sent but not counted). The first row asks for a metric name no series has: nothing is read or "
        "sent, so it is what a request costs by itself (for promscale_ha: the front end, the round trip to "
        "PostgreSQL, the statement and the series lookup).")
    add("")
    add("| case | type | " + " | ".join(stores) + " | compressed ÷ Prometheus (wall) |")
    add("|---|---|" + "---:|" * len(stores) + "---:|")
    comp = [s for s in stores if s.startswith("promscale_ha, compressed")]
    for c in rr["cases"]:
        for kind, _ in KINDS:
            cells = []
            for s in stores:
                x = rr["stores"][s].get(c["key"], {}).get(kind)
                if not x or "error" in x:
                    cells.append("error (below)" if x else "n/a")
                    continue
                w = _med(x["wall"])
                cpu = _ms(_med(x["cpu"])) + (f" + {_ms(_med(x['fe_cpu']))}" if x.get("fe_cpu") else "")
                extra = f", {x['sent']:,} sent" if x.get("sent") and x["sent"] != x["samples"] else ""
                fr = (f" in {x['frames']:,} frame{'s' if x['frames'] > 1 else ''}" if x.get("frames") else "")
                cells.append(f"**{_ms(w)}** ms, {_rate(x['samples'], w)} (CPU {cpu}; {_size(x['bytes'])}{fr}{extra})")
            ratios = []
            p = rr["stores"].get(PROM, {}).get(c["key"], {}).get(kind)
            for s in comp:
                x = rr["stores"][s].get(c["key"], {}).get(kind)
                if x and p and "wall" in x and "wall" in p:
                    ratios.append(f"{s.split('(')[-1].rstrip(')')} {_med(x['wall']) / _med(p['wall']):.2f}×")
            add(f"| {c['title']} ({c['expect']:,} samples) | {KIND_TITLE[kind]} | " + " | ".join(cells) + " | "
                + (", ".join(ratios) or "n/a") + " |")
    add("")
    bad = counts_agree(rr)
    add("Series and samples in the window: " + (
        "**the same from every store and both types, and equal to what was written**, for every case."
        if not bad and not rr.get("problems") else "**see the problems below**."))
    for key, seen in bad:
        add(f"- {key}: " + "; ".join(f"{k} {v[0]:,} series / {v[1]:,} samples" for k, v in seen.items()))
    for p in rr.get("problems", []):
        add(f"- {p}")
    add("")
    secs = rr.get("seconds", {})
    if secs:
        load = rr.get("load", {})
        add(f"The remote reads took {sum(secs.values()):.0f} s of this section: " +
            "; ".join(f"{k} {v:.0f} s" + (f" (1-minute load average after: {load[k]:.1f})" if k in load else "")
                      for k, v in secs.items()) + f"; {os.cpu_count()} CPUs.")
        add("")
    return L


def targets(rr):
    """(target, measured, verdict) of the issue's target: compressed data streamed as
    chunks at least as fast as Prometheus', per chunk format, over every case."""
    rows = []
    if not rr:
        return rows
    p = rr["stores"].get(PROM)
    for s in rr["stores"]:
        if not s.startswith("promscale_ha, compressed") or not p:
            continue
        fmt = s.split("(")[-1].rstrip(")")
        parts, ok, near = [], True, True
        floor = ""
        for c in rr["cases"]:
            x = rr["stores"][s].get(c["key"], {}).get("chunks")
            y = p.get(c["key"], {}).get("chunks")
            if c["series"] == 0:      # not a read of data: the cost of a request, reported beside
                if x and y and "wall" in x and "wall" in y:
                    floor = (f" (an empty read, the cost of a request alone: {_ms(_med(x['wall']))} vs "
                             f"{_ms(_med(y['wall']))} ms, CPU {_ms(_cpu(x))} vs {_ms(_cpu(y))} ms)")
                continue
            if not x or not y or "wall" not in x or "wall" not in y:
                ok = False
                parts.append(f"{c['key']} n/a")
                continue
            r = _med(x["wall"]) / _med(y["wall"])
            ok = ok and r <= 1
            near = near and r <= 1.1
            parts.append(f"{c['key']} {_ms(_med(x['wall']))} vs {_ms(_med(y['wall']))} ms ({r:.2f}×; CPU "
                         f"{_ms(_cpu(x))} vs {_ms(_cpu(y))} ms)")
        same = not any(k for k, _ in counts_agree(rr))
        v = ("met" if ok else "missed") + (" (borderline)" if not ok and near else "")
        if not same:
            v += "; sample counts differ"
        rows.append((f"remote read of compressed data ({fmt}) as STREAMED_XOR_CHUNKS at least as fast as "
                     "Prometheus' own (wall, every case)", "; ".join(parts) + floor, v))
    return rows
