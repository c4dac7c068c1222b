"""The folders of runtime/ include each other without cycles: prints the folder graph (what
docs/DESIGN.md draws) and fails on any cycle other than the ones listed in KNOWN, each with the
reason it is still there. A pair in KNOWN that no longer forms a cycle fails too, so the list
shrinks as the layering is fixed. usage: check_layering.py SOURCE_DIR"""
import collections
import os
import re
import sys

# io/ reads presets (models/preset.h) to preprocess inputs; models/onnx_export.c writes through
# io/atomic_file.h. Moving either (the preset type to core, atomic files to core) is pending.
KNOWN = {frozenset({"io", "models"})}

root = os.path.join(sys.argv[1], "runtime")
folders = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and d != "include")
edges = collections.defaultdict(set)
sources = collections.defaultdict(list)
for folder in folders:
    for name in sorted(os.listdir(os.path.join(root, folder))):
        if not name.endswith((".c", ".h")):
            continue
        with open(os.path.join(root, folder, name), encoding="utf-8") as f:
            for line in f:
                m = re.match(r'\s*#\s*include\s+"([a-z_]+)/', line)
                if m and m.group(1) != folder and m.group(1) in folders:
                    edges[folder].add(m.group(1))
                    sources[(folder, m.group(1))].append(name)

for folder in folders:
    print(f"{folder:8} -> {', '.join(sorted(edges[folder])) or '(nothing)'}")


def reaches(a, b, seen=None):
    seen = seen if seen is not None else set()
    for n in edges[a]:
        if n == b or (n not in seen and (seen.add(n) or reaches(n, b, seen))):
            return True
    return False


cycles = {frozenset({a, b}) for a in folders for b in edges[a] if reaches(b, a)}
bad = False
for pair in sorted(cycles - KNOWN, key=sorted):
    a, b = sorted(pair)
    print(f"FAIL: {a} and {b} include each other ({a}/: {sources[(a, b)]}; {b}/: {sources[(b, a)]})")
    bad = True
for pair in sorted(KNOWN - cycles, key=sorted):
    print(f"FAIL: {' and '.join(sorted(pair))} no longer form a cycle: drop them from KNOWN")
    bad = True
for pair in sorted(cycles & KNOWN, key=sorted):
    a, b = sorted(pair)
    print(f"known cycle: {a} <-> {b} ({a}/: {sources[(a, b)]}; {b}/: {sources[(b, a)]})")
sys.exit(1 if bad else 0)
