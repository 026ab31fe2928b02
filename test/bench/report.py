"""report.py - writes RESULTS.md from the measurements of bench.py.

Every figure in the report comes from the run that writes it; the analysis of
the profile is computed from the profile (shares of symbol groups), so a rerun
rewrites the whole file consistently.
"""

import re
import statistics

from bench import PG_CONF, fmt_ms, fmt_rate, fmt_spread, stats

def fmt_wal(d):
    """Median WAL bytes per sample of write() / COPY in a section-1 row, or n/a."""
    if not d.get("wwal"):
        return "n/a"
    return f"{statistics.median(d['wwal']):.0f} / {statistics.median(d['cwal']):.0f}"


def split_sym(entry):
    m = re.match(r"(\S+)\s+\[(.)\]\s+(.*)$", entry)
    if not m:
        return entry, "", entry
    return m.group(1), m.group(2), m.group(3)


def verdict(value, threshold):
    """met / missed, marked borderline within 10% of the threshold (where this machine's noise lies)."""
    v = "met" if value >= threshold else "missed"
    return v + " (borderline)" if abs(value / threshold - 1) < 0.10 else v


def targets(b):
    """(target, measured, verdict) rows for the issue's targets."""
    rows = []
    r = b.results
    if "copy" in r:
        for label, d in r["copy"].items():
            ratio = statistics.median(d["ratio"])
            want = 0.8 if label.startswith("new") else 0.9     # issue 13: new series 0.8x, known 0.9x
            rows.append((f"write() ≥ {want}× COPY binary ({label}; backend CPU ms write() / COPY "
                         f"{fmt_ms(statistics.median(d['wcpu']))} / {fmt_ms(statistics.median(d['ccpu']))})",
                         fmt_spread(stats(d["ratio"]), lambda x: f"{x:.2f}×"), verdict(ratio, want)))
            if d.get("wwal"):
                rows.append((f"WAL bytes per sample ({label}), write() / COPY", fmt_wal(d), "reported"))
    if "follower" in r:
        f = statistics.median(r["follower"]["follower"]["cpu"])
        l = statistics.median(r["follower"]["leader"]["cpu"])
        rows.append(("follower request ≤ 5% of a leader's CPU", f"{100 * f / l:.1f}%",
                     verdict(0.05 * l / f, 1.0)))
        fst = r.get("follower_stages")
        if fst:
            dec = sum(sh for n, sh, det in fst["stages"] if n.startswith("decode")) / 100 * f
            rows.append(("the follower's decision (decode share of the profile × its CPU) ≤ 5% of a "
                         "leader's CPU, its replay-buffer row and commit left out",
                         f"{dec:.2f} of {l:.1f} ms: {100 * dec / l:.1f}%", "reported"))
    fe = r.get("frontend", {})
    ours = "promscale-ha-http" if fe.get(("promscale-ha-http", 2)) else "write() direct"
    for c in (2, 8):
        pr = paired(fe, "promscale-ha-http", "write() direct", c)
        if pr:
            rows.append((f"front end ≥ 0.8× write() direct, {c} senders",
                         fmt_spread(stats(pr), lambda x: f"{x:.2f}×"), verdict(statistics.median(pr), 0.8)))
        elif fe.get(("write() direct", c)):
            rows.append((f"front end ≥ 0.8× write() direct, {c} senders", "not available", "not measured"))
    for c in (2, 8):
        pr = paired(fe, ours, "Prometheus receiver", c)
        if pr:
            rows.append((f"{ours} ≥ Prometheus' own receiver, {c} senders",
                         fmt_spread(stats(pr), lambda x: f"{x:.2f}×"), verdict(statistics.median(pr), 1.0)))
    cpu = r.get("frontend_cpu", {})
    for c in (2, 8):
        mine, prom, vm = (cpu.get((ours, c)), cpu.get(("Prometheus receiver", c)),
                          cpu.get(("VictoriaMetrics", c)))
        if mine:
            m = statistics.median(mine)
            rows.append((f"server CPU per sample through {ours} ≤ 2 µs, {c} senders", f"{m:.2f} µs",
                         verdict(2.0 / m, 1.0)))
            if prom:
                p = statistics.median(prom)
                rows.append((f"server CPU per sample below Prometheus' receiver, {c} senders",
                             f"{m:.2f} vs {p:.2f} µs ({m / p:.2f}×)", verdict(p / m, 1.0)))
            if vm:
                v = statistics.median(vm)
                rows.append((f"server CPU per sample / VictoriaMetrics', {c} senders",
                             f"{m:.2f} vs {v:.2f} µs ({m / v:.2f}×)", "reported"))
    for c in (2, 8):
        pr = paired(fe, ours, "VictoriaMetrics", c)
        if pr:
            rows.append((f"{ours} / VictoriaMetrics, {c} senders",
                         fmt_spread(stats(pr), lambda x: f"{x:.2f}×"), "reported"))
    g = r.get("growth", {})
    if g:
        ns = sorted(g)
        first, last = g[ns[0]], g[ns[-1]]
        if first["known_cpu"] and last["known_cpu"]:
            w0, w1 = statistics.median(first["known_cpu"]), statistics.median(last["known_cpu"])
            slow = w1 / w0
            rows.append((f"cost per sample flat from {ns[0]:,} to {ns[-1]:,} active series "
                         "(backend CPU per sample within 10%)",
                         f"{slow:.2f}× ({w0:.2f} → {w1:.2f} µs)", verdict(1.10 / slow, 1.0)))
            if first.get("copy_cpu") and last.get("copy_cpu"):
                c0, c1 = statistics.median(first["copy_cpu"]), statistics.median(last["copy_cpu"])
                o0, o1 = statistics.median(first["own_cpu"]), statistics.median(last["own_cpu"])
                rows.append((f"the same with PostgreSQL's insert left out: write()'s own cost per sample "
                             f"(write() − COPY of the same rows, per request) grows from {ns[0]:,} to "
                             f"{ns[-1]:,} active series by at most 10% of write()'s cost at {ns[0]:,}",
                             f"COPY {c0:.2f} → {c1:.2f} µs ({c1 / c0:.2f}×); write() − COPY {o0:.2f} → "
                             f"{o1:.2f} µs: {o1 - o0:+.2f} µs = {(o1 - o0) / w0 * 100:+.0f}% of {w0:.2f}",
                             verdict(0.10 * w0 / max(o1 - o0, 1e-9), 1.0)))
        priv = [(n, (g[n]["hwm"] - g[n]["shmem"]) / 1024) for n in ns]
        cache_mb = 100 * ns[-1] / 1e6 * 1.0
        per = ((priv[-1][1] - priv[0][1]) * 1024 * 1024 / (ns[-1] - ns[0])) if len(ns) > 1 else float("nan")
        rows.append(("backend memory bounded (private peak = VmHWM − RssShmem); per cached series: the growth "
                     "of that peak over the growth of active series",
                     ", ".join(f"{n:,}: {m:.0f} MB" for n, m in priv) + f"; {per:.0f} bytes per series",
                     "met" if priv[-1][1] <= 2 * cache_mb + 200 else "missed"))
    return rows


def write_report(b, path):
    r = b.results
    m = b.mach
    L = []
    add = L.append
    add("# promscale_ha benchmark results")
    add("")
    add(f"Written by `sudo bash test/bench/run.sh`{' --quick' if b.quick else ''} "
        f"on {b.started:%Y-%m-%d %H:%M} UTC; the run took {b.elapsed / 60:.1f} min. "
        "Every figure below comes from that one run on one machine; rerunning the command rewrites this file.")
    add("")
    add("## Machine and versions")
    add("")
    add("| | |")
    add("|---|---|")
    add(f"| CPU | {m['cpu']}, {m['cores']} cores |")
    add(f"| memory | {m['mem_gib']:.0f} GiB |")
    add(f"| OS | Debian {m['os']}, kernel {m['kernel']} |")
    add(f"| load average (1/5/15 min) before / after | {' '.join(f'{x:.2f}' for x in m['load_before'])} / "
        f"{' '.join(f'{x:.2f}' for x in m.get('load_after', (0, 0, 0)))} |")
    for when in ("before", "after"):
        busy = m.get(f"busy_{when}") or []
        add(f"| other processes busy on the CPU {when} the run (over 2 s) | "
            + (", ".join(f"{c} (pid {p}) {x:.0f}% of a core" for c, p, x in busy) or "none") + " |")
    add(f"| PostgreSQL | {b.versions.get('postgres', '?')} |")
    add(f"| promscale_ha | {b.versions.get('promscale_ha', '?')} (git {b.git_rev()}) |")
    add(f"| promscale-ha-http | {'built from the same checkout' if b.http_bin else 'not available'} |")
    add(f"| Prometheus | {b.versions.get('prometheus', 'not available')} "
        f"({b.versions.get('prometheus_flag', '')}) |")
    add(f"| VictoriaMetrics | {b.versions.get('victoria-metrics', 'not available')} |")
    add("")
    add("## Method")
    add("")
    add("- **One machine, one run.** The client, PostgreSQL, the front end and the peers share the same "
        f"{m['cores']} cores; all traffic is on 127.0.0.1. Other work on the machine shows in the load average "
        "above and widens the spreads.")
    add("- **PostgreSQL** is a throw-away 15 cluster made by the benchmark (initdb in a temporary directory). "
        "Settings, and why:")
    add("")
    add("  ```")
    for line in PG_CONF.splitlines():
        if not re.match(r"(port|unix_socket_directories|listen_addresses)\b", line):
            add("  " + line)
    add("  ```")
    add("")
    add("  `fsync`, `synchronous_commit` and `full_page_writes` stay **on** (the defaults): every request is "
        "one durable commit, as in production, for write() and COPY alike. `shared_buffers = 4GB` holds every "
        "table and index of the run, so the figures are CPU-bound ingest, not disk reads; `max_wal_size = 16GB` "
        "and `checkpoint_timeout = 30min` keep checkpoints out of the measurements (they would land on random "
        "repetitions of either side). `wal_level = replica` (the default) rather than `minimal`, which would "
        "let COPY skip WAL in some cases and not write(). `autovacuum = off`: the tables are insert-only "
        "and an insert-triggered autovacuum would start at random moments; it would cost both sides "
        "equally in production.")
    add("- **Payloads** come from `promscale-ha-gen` (`--metrics 100`, seed 1: series *i* has the same labels "
        "in every request; 7–9 labels per series, exporter-like). Every payload gets sample timestamps no "
        "store has seen (one 1 s step per sample, from one hour before the run), so each request stores new "
        "samples; all payloads are read into memory before anything is timed.")
    add("- **Client**: `test/bench/pha_bench.c` (libpq, threads). write() is called as "
        "`SELECT ... FROM promscale_ha.write($1::bytea)`, prepared, the payload a binary parameter — the same "
        "statement the front end runs. COPY is `COPY ... FROM STDIN (FORMAT binary)` in 64 kB messages. "
        "HTTP requests are remote-write 1.0 POSTs (snappy, x-protobuf) on keep-alive connections.")
    add("- **Spreads**: *median [min–max]* over the repetitions; each repetition is one request (sections "
        "1, 2, 5) or one round of 32 requests spread over the senders (sections 3, 4), after an untimed "
        f"warm-up. Repetitions: {b.reps} (100k-series requests: {b.reps_big}). A verdict within 10% of its "
        "threshold is marked *borderline*: on this shared 2-core machine, runs differ by that much.")
    add("- **CPU** is the backend's own, from `/proc/PID/schedstat` (ns on a CPU) before and after each "
        "request: server-side CPU, not the client's and not wall time.")
    add("")

    # ---- 1
    add("## 1. write() vs COPY (FORMAT binary) of the same rows")
    add("")
    if "copy" in r:
        add("Each write() is followed (untimed) by reading back exactly the rows it stored, in insertion order, "
            "as COPY binary, which is then timed going into mirror tables with the same partitions and unique "
            "index (`bench.samples_copy`) — and, for new series, with the series rows into a copy of "
            "`promscale_ha.series` with all its indexes (`bench.series_copy`, both COPYs in one transaction), "
            "since write() stores those too. Both sides are autocommit requests on their own connections, "
            "each ending in a durable commit.")
        add("")
        add("| workload | samples per request | write() samples/s | COPY samples/s | write() / COPY | "
            "backend CPU ms per request, write() / COPY | WAL bytes per sample, write() / COPY | "
            "COPY of the rows sorted by (series_id, time), samples/s |")
        add("|---|---:|---:|---:|---:|---:|---:|---:|")
        names = {"known-10k": "10,000 series × 1, known series", "new-10k": "10,000 series × 1, new series",
                 "known-2k-x10": "2,000 series × 10, known series", "known-100k": "100,000 series × 1, known series"}
        for label in ("known-10k", "new-10k", "known-2k-x10", "known-100k"):
            d = r["copy"].get(label)
            if not d:
                continue
            add(f"| {names[label]} | {d['rows']:,} | {fmt_spread(stats(d['write']))} | "
                f"{fmt_spread(stats(d['copy']))} | {fmt_spread(stats(d['ratio']), lambda x: f'{x:.2f}×')} | "
                f"{fmt_ms(statistics.median(d['wcpu']))} / {fmt_ms(statistics.median(d['ccpu']))} | "
                f"{fmt_wal(d)} | "
                f"{fmt_spread(stats(d['sorted'])) if d.get('sorted') else 'n/a'} |")
        n1, n2, s1, s2 = r["copy_check"]
        add("")
        add(f"Check: after the section both sides hold the same rows: {int(n1):,} samples and {int(s1):,} series "
            f"(write()) vs {int(n2):,} and {int(s2):,} (COPY). The ratio column is the median of the per-request "
            "ratios (COPY time / write() time), so >1 means write() was faster. WAL bytes per sample: "
            "`pg_current_wal_insert_lsn()` right before and after each write() and each COPY (untimed, on a third "
            "connection; commit records and, for new series, the series rows included; the background worker's "
            "own few records can fall in either), divided by the request's samples, median. The last column is for "
            "information only: the same rows COPied in (series_id, time) order into a third identical set of "
            "tables, i.e. what sorting a request's rows before inserting them would be worth to the btree.")
    else:
        add("Not measured (see Notes).")
    add("")

    # ---- 2
    add("## 2. Follower cost")
    add("")
    if "follower" in r:
        f = r["follower"]
        add("The same 10,000-series request (cluster `c1`), once from the leader (`__replica__=a`, outcome "
            "`stored`) and once from the follower (`__replica__=b`, outcome `deduplicated`; its payload goes "
            "to the replay buffer), alternating on one connection; backend CPU per request.")
        add("")
        add("| request | backend CPU ms | wall ms (client) |")
        add("|---|---:|---:|")
        for k in ("leader", "follower"):
            add(f"| {k} | {fmt_spread(stats(f[k]['cpu']), fmt_ms)} | {fmt_spread(stats(f[k]['wall']), fmt_ms)} |")
        lc, fc = statistics.median(f["leader"]["cpu"]), statistics.median(f["follower"]["cpu"])
        add("")
        add(f"Follower / leader CPU: **{100 * fc / lc:.1f}%** (medians, {len(f['leader']['cpu'])} requests each).")
        fst = r.get("follower_stages")
        if fst and not attributed(fst):
            b.notes.append(f"the follower profile's call chains did not reach write() ({fst['total']} samples, "
                           f"{fst.get('complete', 0):.0f}% unwound to main()); its table is left out")
            fst = None
        if fst:
            add("")
            add(f"Where a follower's CPU goes (perf with call graphs of the follower's backend only, while a leader "
                f"wrote the same requests on another connection; {fst['total']:,} samples; ms = share × "
                f"{fmt_ms(fc)} ms):")
            add("")
            stage_table(add, fst, fc)
            top = sorted(((x, w) for n, sh, det in fst["stages"] for w, x in det), reverse=True)
            top = [(x, w) for x, w in top if x >= 5]
            add("")
            share = {n: sh for n, sh, det in fst["stages"]}
            dec = sum(sh for n, sh in share.items() if n.startswith("decode"))
            com = sum(sh for n, sh in share.items() if n.startswith("commit"))
            add("So a follower's request is mostly " + ", ".join(f"{w} ({x:.0f}%)" for x, w in top) +
                f". Deciding it (decompress, the one-group walk, the cache probe) costs "
                f"{fmt_ms(dec / 100 * fc)} ms ({dec / 100 * fc / lc * 100:.1f}% of the leader's "
                f"{fmt_ms(lc)} ms); keeping its payload costs the rest: the replay-buffer row "
                "(uncompressed storage, TOASTed in ~2 kB chunks, WAL-logged so that a 202 survives a "
                "crash and reaches a standby) and a commit whose WAL carries the payload "
                f"({com:.0f}%). This section's server runs with autovacuum off and starts empty, so "
                "every buffered byte also extends the table by new pages; with autovacuum the space of "
                f"pruned requests is reused. The 5% target ({0.05 * lc:.1f} ms) is below what "
                "PostgreSQL's insert of the payload's bytes costs here.")
    else:
        add("Not measured (see Notes).")
    add("")

    # ---- 3 and 4
    add("## 3 and 4. Front end and peers over HTTP")
    add("")
    fe = r.get("frontend")
    if fe:
        add("Rounds of 32 requests of 10,000 series × 1 sample (320,000 samples per round); *N* senders each "
            "send 32/*N* requests per round for their own 10,000 series, in time order, each round on fresh "
            "connections after an untimed warm-up of one request per sender. Round *k* of every target runs "
            "before round *k*+1 of any, in an order that rotates each round, so changes of load on the machine "
            "hit all targets alike. The same payload files go to every target, each a fresh store. \"write() direct\" is the client calling write() on *N* "
            "connections of its own; promscale-ha-http runs with `--pool-size 8 --threads 8` on a database of "
            "its own; the `synchronous_commit=off` row is the same front end on a third database with that "
            "setting in its conninfo — Prometheus and VictoriaMetrics do not fsync per request either, so "
            "that row is the like-for-like durability comparison.")
        add("")
        add("| target | 2 senders, samples/s | 8 senders, samples/s |")
        add("|---|---:|---:|")
        for name in r["frontend_targets"]:
            cells = []
            for c in (2, 8):
                v = fe.get((name, c))
                cells.append(fmt_spread(stats(v)) if v else "n/a")
            add(f"| {name} | {cells[0]} | {cells[1]} |")
        if not b.http_bin:
            add("| promscale-ha-http | not available (did not build) | not available |")
        cpu = r.get("frontend_cpu", {})
        if any(cpu.values()):
            add("")
            add("Server-side CPU per sample (µs; utime + stime of the target's processes during each round: the "
                "postmaster and all its children — backends, WAL writer, checkpointer — plus the front end "
                "where there is one; the Go process for the peers):")
            add("")
            add("| target | 2 senders, CPU µs per sample | 8 senders, CPU µs per sample |")
            add("|---|---:|---:|")
            for name in r["frontend_targets"]:
                cells = []
                for c in (2, 8):
                    v = cpu.get((name, c))
                    cells.append(fmt_spread(stats(v), lambda x: f"{x:.2f}") if v else "n/a")
                add(f"| {name} | {cells[0]} | {cells[1]} |")
        add("")
        add("Ratios, per round (round *k* of both targets ran back to back): median [min–max]:")
        add("")
        add("| ratio | 2 senders | 8 senders |")
        add("|---|---:|---:|")

        def ratio_row(title, a, bname):
            cells = []
            for c in (2, 8):
                pr = paired(fe, a, bname, c)
                cells.append(fmt_spread(stats(pr), lambda x: f"{x:.2f}×") if pr else "n/a")
            add(f"| {title} | {cells[0]} | {cells[1]} |")
        ratio_row("promscale-ha-http / write() direct", "promscale-ha-http", "write() direct")
        for peer in ("Prometheus receiver", "VictoriaMetrics"):
            ratio_row(f"promscale-ha-http / {peer}", "promscale-ha-http", peer)
            ratio_row(f"promscale-ha-http (synchronous_commit=off) / {peer}",
                      "promscale-ha-http, synchronous_commit=off", peer)
            ratio_row(f"write() direct / {peer}", "write() direct", peer)
        if "counts" in r:
            exp, checks = r["counts"]
            add("")
            add(f"Stored-sample check ({exp:,} samples sent to each target, warm-ups included): " +
                "; ".join(f"{k} {v:,}" for k, v in checks.items()) +
                " (PostgreSQL: `count(*)`; Prometheus and VictoriaMetrics: "
                "`sum(count_over_time({__name__=~\".+\"}[…]))` over their query API"
                + (f"; Prometheus' own `prometheus_tsdb_head_samples_appended_total` says "
                   f"{r['prom_appended']:,}" if "prom_appended" in r else "") + ").")
    else:
        add("Not measured (see Notes).")
    add("")

    # ---- 5
    add("## 5. Growth of active series")
    add("")
    g = r.get("growth")
    if g:
        add("One connection writes requests of 10,000 series × 1 sample. At each step the new series are "
            "created first (\"new\"), then every active series gets new samples in full passes (\"known\"); "
            "every request has a time slot of its own. As in section 1, each write() is followed (untimed) "
            "by reading back the rows it stored, which are then COPied (binary, timed, on a second "
            "connection) into mirror tables with the same partitions and unique index, and, for new "
            "series, the series rows into a copy of `promscale_ha.series`: the mirrors grow exactly as "
            "the extension's tables, so the COPY column is PostgreSQL's own insert at that size. "
            "The write() backend's memory is read from `/proc/PID/status` after every request. VmHWM "
            "(peak RSS) counts the shared buffers the backend has touched (RssShmem, shared by all "
            "backends); VmHWM − RssShmem is an upper bound of its private peak (the series caches and "
            "the request's memory context).")
        add("")
        add("| active series | new series, samples/s | known series, samples/s | backend CPU µs per sample "
            "(known), write() | COPY of the same rows | write() − COPY (per request) | VmHWM | RssShmem | "
            "private peak ≤ |")
        add("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        f2 = lambda x: f"{x:.2f}"
        for n in sorted(g):
            d = g[n]
            if not d["known"]:
                continue
            cc = fmt_spread(stats(d["copy_cpu"]), f2) if d.get("copy_cpu") else "n/a"
            oc = fmt_spread(stats(d["own_cpu"]), f2) if d.get("own_cpu") else "n/a"
            add(f"| {n:,} | {fmt_spread(stats(d['new'])) if d['new'] else 'n/a'} | "
                f"{fmt_spread(stats(d['known']))} | {fmt_spread(stats(d['known_cpu']), f2)} | {cc} | {oc} | "
                f"{d['hwm'] / 1024:.0f} MB | {d['shmem'] / 1024:.0f} MB | {(d['hwm'] - d['shmem']) / 1024:.0f} MB |")
        add("")
        add("Samples/s are per request (median [min–max] over the requests of each step); the CPU columns "
            "are the backends' own and do not move with other load on the machine, so the flatness "
            "verdicts below use them.")
    else:
        add("Not measured (see Notes).")
    add("")

    # ---- 6 (test/bench/storage.py)
    if "storage" in r:
        from storage import report_lines
        L.extend(report_lines(r["storage"], b.versions))

    # ---- targets
    add("## Targets of issue 13 (ingest)")
    add("")
    add("| target | measured | verdict |")
    add("|---|---|---|")
    for t in targets(b):
        add(f"| {t[0]} | {t[1]} | **{t[2]}** |")
    add("")

    # ---- profile
    add("## Profile: the backend during 10,000-series write() requests")
    add("")
    p = r.get("profile")
    st = r.get("profile_stages")
    if st and not attributed(st):
        b.notes.append("the backend profile's call chains did not reach write() (promscale_ha.so's symbols "
                       f"could not be resolved; {st['total']} samples, {st.get('complete', 0):.0f}% unwound to "
                       "main()), so its stage table is left out")
        st = None
    if p and not st:
        add("The call chains could not be attributed to write()'s stages (see Notes); the flat profile:")
        add("")
        add("| share | binary | symbol |")
        add("|---:|---|---|")
        for share, entry in p["sym"][:20]:
            dso, _, sym = split_sym(entry)
            add(f"| {share:.1f}% | {dso} | `{sym}` |")
    elif p and st:
        cpu_ms = statistics.median(r["copy"]["known-10k"]["wcpu"]) if "known-10k" in r.get("copy", {}) else \
            r.get("profile_cpu_ms", float("nan"))
        add("`perf record -a -F 999 --call-graph dwarf` while one connection wrote known 10,000-series "
            f"requests ({fmt_rate(r.get('profile_rate', float('nan')))} samples/s under the profiler, which "
            "slows the backend), then the backend's samples only (`--pid`). Debian's postgres has no debug "
            "symbols: static functions show as addresses, exported ones and every library are named, and "
            "call chains unwind through `.eh_frame`.")
        add("")
        add(f"**By stage of write()**, inclusive (a sample counts for the stage on its call chain; kernel time "
            f"counts for the code that entered the kernel). ms per request = share × {fmt_ms(cpu_ms)} ms, the "
            f"median backend CPU of a known 10,000-series write() in section 1 ({st['total']:,} samples):")
        add("")
        stage_table(add, st, cpu_ms)
        add("")
        add(f"Leaf in the kernel (page faults, memory charging, I/O syscalls): {st['kernel']:.1f}% of the samples.")
        add("")
        add("**Top symbols** (self time, flat):")
        add("")
        add("| share | binary | symbol |")
        add("|---:|---|---|")
        for share, entry in p["sym"][:20]:
            dso, _, sym = split_sym(entry)
            add(f"| {share:.1f}% | {dso} | `{sym}` |")
        add("")
        add("By binary: " + ", ".join(f"{dso} {share:.1f}%" for share, dso in p["dso"][:8]) + ".")
        add("")
        add("Processes on the CPU during the profile (share of all samples, machine-wide): "
            + "; ".join(p["pids"]) + ".")
        add("")
        add("**What dominates, and what to do.** " + analysis(st, r, cpu_ms))
    else:
        add("Not measured (see Notes).")
    add("")
    peers = peer_analysis(b)
    if peers:
        add("## Peers: why, and the next step")
        add("")
        add(peers)
        add("")
    add("## Notes")
    add("")
    if b.notes:
        for n in b.notes:
            add(f"- {n}")
    else:
        add("- Every section ran; nothing was skipped.")
    add("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def paired(fe, a, b, c):
    """Per-round ratios a/b (round k of both ran back to back), or None."""
    x, y = fe.get((a, c)), fe.get((b, c))
    if not x or not y or len(x) != len(y):
        return None
    return [p / q for p, q in zip(x, y)]


def attributed(st):
    """Did the profile's call chains reach write()'s stages (symbols resolved)?"""
    inside = sum(share for name, share, _ in st["stages"]
                 if not name.startswith(("outside", "commit", "connection")))
    return inside >= 20


def stage_table(add, st, cpu_ms):
    add("| stage | share | ms per request | of which |")
    add("|---|---:|---:|---|")
    for name, share, det in st["stages"]:
        if share < 0.5:
            continue
        add(f"| {name} | {share:.1f}% | {cpu_ms * share / 100:.2f} | "
            + ", ".join(f"{w} {x:.1f}%" for w, x in det if x >= 0.3) + " |")


def stage_share(st, name):
    for n, share, det in st["stages"]:
        if n.startswith(name):
            return share, dict(det)
    return 0.0, {}


def analysis(st, r, cpu_ms):
    """A reading of the stage breakdown, computed from it and section 1."""
    store, sdet = stage_share(st, "store")
    series, rdet = stage_share(st, "series")
    decode, ddet = stage_share(st, "decode")
    out = []
    d = r.get("copy", {}).get("known-10k")
    copy_ms = statistics.median(d["ccpu"]) if d else float("nan")
    out.append(f"Storing the rows (heap multi-inserts and index inserts, as COPY does them) is {store:.0f}% of the backend's "
               f"CPU, {cpu_ms * store / 100:.1f} ms per request, against {fmt_ms(copy_ms)} ms for a plain "
               f"COPY of the same rows; within it the btree insert alone is {sdet.get('btree index insert', 0):.0f}% "
               f"and WAL records {sdet.get('WAL records (XLogInsert)', 0):.0f}%.")
    out.append(f"What write() adds on top is series resolution {series:.0f}% "
               f"({cpu_ms * series / 100:.1f} ms: SHA-256 of every label set "
               f"{rdet.get('SHA-256 of label sets', 0):.0f}%, the series cache's hash table "
               f"{rdet.get('series cache (hash table)', 0):.0f}%, SQL {rdet.get('SQL lookups and inserts of series (SPI)', 0):.0f}%) "
               f"and decoding {decode:.0f}% ({cpu_ms * decode / 100:.1f} ms: protobuf-c "
               f"{ddet.get('protobuf-c unpack', 0):.0f}%, snappy {ddet.get('snappy', 0):.0f}%, validation and label "
               f"scan {ddet.get('validation, grouping, label scan', 0):.0f}%).")
    mk = st.get("marks", {})
    out.append(f"Buffer-mapping lookups (BufTableLookup, one per btree page visited) are {mk.get('BufTableLookup', 0):.0f}% "
               f"by themselves; page faults {mk.get('exc_page_fault', 0):.0f}%.")
    ratio = statistics.median(d["ratio"]) if d else float("nan")
    commit, _ = stage_share(st, "commit")
    outside = max(0.0, 100 - store - commit)
    wcpu = statistics.median(d["wcpu"]) if d else float("nan")
    out.append(f"write() runs at {ratio:.2f}× COPY ({fmt_ms(wcpu)} against {fmt_ms(copy_ms)} ms of backend CPU). "
               f"Besides the insert and the commit, which a COPY pays alike, write() spends {outside:.0f}% of its "
               f"CPU ({cpu_ms * outside / 100:.1f} ms per 10,000 series, {1000 * cpu_ms * outside / 100 / 10000:.2f} "
               "µs per sample) on reading the request, finding its series and the statement around it: what "
               "promscale_ha itself still adds.")
    if ratio == ratio and ratio < 0.9 and copy_ms == copy_ms:
        ins = cpu_ms * (store + commit) / 100
        out.append(f"The insert and commit inside write() take {ins:.1f} ms against {fmt_ms(copy_ms)} ms for the "
                   f"whole COPY; to reach 0.9× on CPU, write()'s own part would have to fit in "
                   f"{max(0.0, copy_ms / 0.9 - ins):.1f} ms.")
    return " ".join(out)


def peer_analysis(b):
    r = b.results
    fe = r.get("frontend")
    cpu = r.get("frontend_cpu", {})
    if not fe:
        return ""
    ours = "promscale-ha-http" if fe.get(("promscale-ha-http", 2)) else "write() direct"
    lines = []

    def med(name, c, d=fe):
        v = d.get((name, c))
        return statistics.median(v) if v else float("nan")
    for peer in ("Prometheus receiver", "VictoriaMetrics"):
        if not fe.get((peer, 2)):
            continue
        rs = [statistics.median(paired(fe, ours, peer, c) or [float("nan")]) for c in (2, 8)]
        cs = [med(ours, c, cpu) / med(peer, c, cpu) for c in (2, 8)]
        lines.append(f"- **{peer}**: {ours} reaches {rs[0]:.2f}× / {rs[1]:.2f}× its samples/s with 2 / 8 "
                     f"senders and spends {cs[0]:.1f}× / {cs[1]:.1f}× its server CPU per sample.")
    prom_ok = all(statistics.median(paired(fe, ours, "Prometheus receiver", c) or [0]) >= 1.0 for c in (2, 8)) \
        if fe.get(("Prometheus receiver", 2)) else True
    st = r.get("profile_stages")
    store, sdet = stage_share(st, "store") if st else (float("nan"), {})
    text = "\n".join(lines) + "\n\n"
    text += ("Both peers keep samples in memory in compressed per-series chunks (Prometheus' head block, Gorilla "
             "encoding: ~1–2 bytes per sample; VictoriaMetrics' in-memory parts, merged later) and append to a "
             "WAL or flush without an fsync per request; neither keeps an index entry per sample. We store "
             "a 48-byte heap tuple plus a 24-byte btree entry per sample, WAL-log both, and fsync every request's "
             f"commit. In the profile above, storing the rows is {store:.0f}% of write()'s CPU (the btree "
             f"{sdet.get('btree index insert', float('nan')):.0f}%), work a cheaper decode cannot remove: to "
             "come near VictoriaMetrics the storage layout has to change. ")
    text += ("**Proposed layout**: keep `samples` as the landing table for the newest data, and move closed "
             "time ranges (e.g. older than 1 h) into `samples_chunks(series_id bigint, time_start timestamptz, "
             "time_end timestamptz, times bigint[] or a delta-encoded bytea, values float8[] or a Gorilla-encoded "
             "bytea)` with one row and one btree entry per series per chunk of ~120 samples, written by the "
             "background worker. Ingest then pays the per-sample btree only for the landing table, which stays "
             "small (cache-resident), and the durable footprint shrinks by an order of magnitude. The cost for SQL: "
             "queries read a view `UNION ALL` of the landing table and `unnest()` of the chunks, so a query over "
             "a time range decodes whole chunks (more CPU for narrow ranges, far less I/O for wide ones); the "
             "one-row-per-(series, time) guarantee moves from the unique index to the compaction step (it must "
             "drop repeats when it builds a chunk); a late sample for a compacted range costs a chunk rewrite. A "
             "cheaper step first: `synchronous_commit = off` for the writer role (the row above) loses "
             "up to 3 × `wal_writer_delay` (600 ms by default) of acknowledged writes on a crash of the "
             "server, in the way Prometheus' unsynced WAL can, and removes the fsync wait from every request.")
    if prom_ok:
        text = text.replace("**Proposed layout**", "**If more is needed, the layout**")
    return text
