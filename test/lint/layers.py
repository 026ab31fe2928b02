#!/usr/bin/env python3
"""layers.py - the include check of the extension's sources (src/, but http/ and tools/).

Every source file belongs to a layer; a file may include headers of its own layer and
below, never above, and the module graph (a.c and a.h are one module) has no cycle.
Peers of one layer in different folders (ha/ and store/) do not include each other.
wire/ and codec/ are plain C: no PostgreSQL header at all.  The layers, bottom up:

  0  ground floor: guc malloc_tune shmem stats sql timeconv request (src/), wire/, codec/
  1  ha/ (the election) and store/ (series, partitions, samples, chunks)
  2  the drivers: ingest.c, read.c
  3  views.c, worker/, promscale_ha.c

Usage: test/lint/layers.py [SRC_DIR]   (default: src/ beside this file's test/)
Prints one line per violation and, last, "layers: N passed, N failed" (N files).
Exit status 0 when nothing is wrong.
"""
import os
import re
import sys

GROUND = {"guc", "malloc_tune", "shmem", "stats", "sql", "timeconv", "request", "schema"}
DRIVERS = {"ingest", "read"}
TOP = {"views", "promscale_ha", "maintenance"}
PLAIN = {"wire", "codec"}
SKIP = {"http", "tools", "gen"}
SERVER_HEADERS = re.compile(r'#\s*include\s*[<"](postgres|postgres_fe|fmgr|miscadmin|c)\.h[>"]'
                            r'|#\s*include\s*[<"](access|catalog|executor|nodes|utils|storage|'
                            r'commands|parser|port|lib|common|funcapi|pgstat)[/.]')
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def module_of(rel):
    """'ha/lease.c' -> ('ha', 'ha/lease'); 'ingest.h' -> ('', 'ingest')."""
    folder = os.path.dirname(rel)
    return folder, os.path.splitext(rel)[0]


def layer_of(rel):
    folder, mod = module_of(rel)
    name = os.path.basename(mod)
    if folder in PLAIN or (folder == "" and name in GROUND):
        return 0
    if folder in ("ha", "store"):
        return 1
    if folder == "" and name in DRIVERS:
        return 2
    if folder == "worker" or (folder == "" and name in TOP):
        return 3
    return None


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "src")
    files = []
    for root, dirs, names in os.walk(src):
        dirs[:] = [d for d in dirs if os.path.relpath(os.path.join(root, d), src) not in SKIP]
        for n in names:
            if n.endswith((".c", ".h")):
                files.append(os.path.relpath(os.path.join(root, n), src))
    files.sort()
    problems = {}
    edges = {}

    def bad(f, msg):
        problems.setdefault(f, []).append(msg)

    for f in files:
        text = open(os.path.join(src, f), encoding="utf-8", errors="replace").read()
        lf = layer_of(f)
        folder, mod = module_of(f)
        if lf is None:
            bad(f, "is in no layer: add it to test/lint/layers.py")
            continue
        if folder in PLAIN and SERVER_HEADERS.search(text):
            bad(f, "includes a PostgreSQL header, but %s/ is plain C" % folder)
        for inc in INCLUDE.findall(text):
            if not os.path.exists(os.path.join(src, inc)):
                continue        # generated (remote.pb-c.h) or a system header in quotes
            li = layer_of(inc)
            ifolder, imod = module_of(inc)
            if imod != mod:
                edges.setdefault(mod, set()).add(imod)
            if li is None:
                continue
            if li > lf:
                bad(f, 'includes "%s" of layer %d from layer %d (arrows go down)' % (inc, li, lf))
            elif li == lf and lf == 1 and ifolder != folder:
                bad(f, 'includes "%s": ha/ and store/ are peers and do not include each other' % inc)
    # cycles in the module graph
    state = {}
    stack = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(edges.get(m, ())):
            if state.get(n) == 1:
                cyc = stack[stack.index(n):] + [n]
                bad(m + ".c", "include circle: " + " -> ".join(cyc))
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    for f in sorted(problems):
        for msg in problems[f]:
            print("%s: %s" % (f, msg))
    nbad = len(problems)
    print("layers: %d passed, %d failed" % (len(files) - nbad, nbad))
    return 1 if nbad else 0


if __name__ == "__main__":
    sys.exit(main())
