"""perfstages.py - reads a `perf record --call-graph dwarf` profile of one backend.

Every sample's call chain (leaf first, from `perf script`) is assigned to the
stage of write() it belongs to -- the function called by pha_request_run (or
by pha_write) on that chain -- and within the stage to what it was doing,
judged by the functions on the chain (kernel frames count for the user-space
code that entered the kernel, e.g. a page fault under palloc).  So the table
says where the backend's CPU went per pipeline stage, inclusive, which a flat
profile cannot.
"""

import collections
import re
import subprocess

# Within a stage: (what, functions or binaries on the chain), first match wins.
DETAIL = {
    "store": [
        ("WAL records (XLogInsert)", {"XLogInsert", "XLogInsertRecord"}),
        ("btree index insert", {"btinsert", "_bt_doinsert"}),
        ("heap insert", {"heap_multi_insert", "heap_insert", "RelationGetBufferForTuple"}),
        ("partition routing", {"ExecFindPartition", "ExecInitPartitionInfo"}),
        ("subtransaction", {"BeginInternalSubTransaction", "ReleaseCurrentSubTransaction"}),
        ("COPY parsing (its fallback only)", {"NextCopyFrom", "CopyReadBinaryData", "copy_read_cb"}),
        ("slots, sort, rest", set()),
    ],
    "series": [
        ("SHA-256 of label sets", {"series_hash", "pg_cryptohash_create", "pg_cryptohash_init",
                                   "pg_cryptohash_update", "pg_cryptohash_final", "EVP_MD_fetch"}),
        ("SQL lookups and inserts of series (SPI)", {"SPI_execute_plan", "SPI_execute_with_args",
                                                     "SPI_execute", "SPI_cursor_fetch"}),
        ("series cache (hash table)", {"hash_search", "hash_search_with_hash_value", "hash_bytes"}),
        ("rest", set()),
    ],
    "outside": [
        ("receive the message and bind the bytea parameter", {"exec_bind_message", "pq_getmessage", "ReadCommand",
                                                              "SocketBackend", "pq_getbytes", "secure_read",
                                                              "bytearecv", "byteain"}),
        ("heap/TOAST insert whose caller did not unwind (for a follower: its replay-buffer row)",
         {"toast_save_datum", "heap_toast_insert_or_update", "heap_insert"}),
        ("other (executor, snapshot, unknown frames)", set()),
    ],
    "decode": [
        ("snappy", {"libsnappy"}),
        ("protobuf-c unpack", {"libprotobuf-c", "protobuf_c_message_unpack", "pha_unpack"}),
        ("validation, grouping, label scan", set()),
    ],
}


# Functions whose inclusive share (samples with it anywhere on the chain) the report quotes.
MARKERS = ["EVP_MD_fetch", "exc_page_fault", "BufTableLookup", "SPI_execute_plan"]


def stage_of(fn):
    if fn in ("pha_store_rows", "build_rows", "try_insert", "insert_rows", "copy_rows",
              "pha_head_insert", "insert_on_conflict"):
        return "store" if fn != "build_rows" else "build rows"
    if fn.startswith("pha_series") or fn.startswith("series_"):
        return "series"
    if fn in ("pha_request_add_payload", "pha_decode", "pha_unpack", "pha_scan_request") or \
            fn.startswith("pha_decode") or fn.startswith("pha_snappy"):
        return "decode"
    return fn


STAGE_NAMES = {
    "store": "store: heap and index inserts into samples_head",
    "series": "series resolution",
    "decode": "decode and validate the request",
    "build rows": "build the rows",
    "outside": "outside write(): protocol, bind, executor",
}


def read_chains(perf_data, pid, perf=("perf",)):
    r = subprocess.run(list(perf) + ["script", "-i", perf_data, "--pid", str(pid), "-F", "pid,ip,sym,dso"],
                       capture_output=True, text=True, timeout=600)
    chains, cur = [], None
    for line in r.stdout.splitlines():
        if not line.strip():
            if cur:
                chains.append(cur)
            cur = None
            continue
        if not line.startswith("\t"):
            cur = []  # a sample's header line (pid, right-aligned); its frames follow, tab-indented
            continue
        m = re.match(r"\s*([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$", line)
        if m and cur is not None:
            cur.append((re.sub(r"\+0x[0-9a-f]+$", "", m.group(2)), m.group(3)))
    if cur:
        chains.append(cur)
    return chains


def breakdown(perf_data, pid, perf=("perf",)):
    """{'total': n, 'stages': [(stage, share, [(detail, share)])], 'kernel': share}."""
    chains = read_chains(perf_data, pid, perf)
    total = len(chains)
    stages = collections.Counter()
    details = collections.defaultdict(collections.Counter)
    kernel = 0
    for ch in chains:
        names = [n for n, _ in ch]
        dsos = " ".join(d for _, d in ch)
        if ch and "kernel" in ch[0][1]:
            kernel += 1
        if "pha_request_run" in names:
            i = names.index("pha_request_run")
            st = stage_of(names[i - 1]) if i > 0 else "pha_request_run (own code)"
        elif "pha_write" in names:
            i = names.index("pha_write")
            st = stage_of(names[i - 1]) if i > 0 else "pha_write (own code)"
        elif {"CommitTransaction", "CommitTransactionCommand", "RecordTransactionCommit"} & set(names):
            st = "commit"
        elif "InitPostgres" in names:
            st = "connection start"
        else:
            st = "outside"
        stages[st] += 1
        for what, marks in DETAIL.get(st, []):
            if not marks or (marks & set(names)) or any(m in dsos for m in marks if m.startswith("lib")):
                details[st][what] += 1
                break
    complete = sum(1 for ch in chains if any(n in ("PostmasterMain", "main", "_start") for n, _ in ch))
    marks = {}
    for m in MARKERS:
        marks[m] = 100.0 * sum(1 for ch in chains if any(n == m for n, _ in ch)) / max(total, 1)
    out = []
    for st, n in stages.most_common():
        out.append((STAGE_NAMES.get(st, st), 100.0 * n / total,
                    [(w, 100.0 * k / total) for w, k in details[st].most_common()]))
    return {"total": total, "stages": out, "kernel": 100.0 * kernel / max(total, 1), "marks": marks,
            "complete": 100.0 * complete / max(total, 1)}
