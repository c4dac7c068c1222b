"""The folders of runtime/ include each other without cycles, and cli/ is a client of the public
API: prints the folder graph and fails on any cycle other than the ones listed in KNOWN, each with
the reason it is still there, and on any cli/ file including a header other than cnnvis/ ones and
cli's own, except the includes listed in CLI_PENDING. A KNOWN pair that no longer forms a cycle, or
a CLI_PENDING include that is gone, fails too, so both lists shrink as the layering is fixed.
docs/layout.dot (the folder graph, cli/ on top) and docs/layout.svg (its picture) are generated
here: the test fails when they differ from the includes (rewrite them with --write).
usage: check_layering.py SOURCE_DIR [--write]"""
import collections
import os
import re
import sys

# No cycle is left (io/ reads the preset type from core/input_spec.h since session 5).
KNOWN = set()

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

# cli/: every include that is not a public header (cnnvis/...) or one of cli's own, by file, with
# why it is still there. Each file here waits for the public calls named in its reason.
CLI_PENDING_WHY = {
    "common.h": "cli_ctx holds the graph, preset, labels and executor with their internal types",
    "common.c": "model, preset and input loading on internal calls (cnv_preprocess_file, arch loads, class vectors, a .npy item back to a picture)",
    "vis_cli.c": "the frames folder joins the output transaction and the record is written through it (io/atomic_file.h); the input picture under --preset (io/normalize.h's cnv_input_picture): pub-model's public calls",
    "main.c": "the temporary-file cleanup on signals (io/atomic_file.h)",
    "cmd_atlas.c": "the atlas pipeline (vis/atlas.h) has no public call; its render options come from the public settings through api/vis_settings.h",
    "cmd_bench.c": "bench (vis/bench.h) has no public call",
    "cmd_check.c": "check (core/check.h) has no public call",
    "cmd_classify.c": "class-vector helpers (vis/class_vector.h)",
    "cmd_convert.c": "ONNX export and architectures (models/) have no public call",
    "cmd_deconv.c": "the projections and the signal picture (vis/deconv.h) have no public call",
    "cmd_demo.c": "writes the demo's files through io/ (atomic files, IDX) and reads presets",
    "cmd_gradcam.c": "the Grad-CAM/CAM heads and the class choice (vis/gradcam.h) have no public call",
    "cmd_saliency.c": "saliency maps and signal pictures (vis/saliency.h, vis/deconv.h) and the input picture (io/normalize.h) have no public call",
    "cmd_topk.c": "top-k over a folder (vis/topk.h) has no public call",
    "cmd_train.c": "training (vis/train.h) and ONNX export have no public call",
}
CLI_PENDING = {
    "common.h": {"core/exec.h", "models/labels.h", "models/preset.h"},
    "common.c": {"core/status.h", "io/normalize.h", "io/npy.h", "io/preprocess.h", "models/arch.h", "vis/class_vector.h"},
    "vis_cli.c": {"io/atomic_file.h", "io/normalize.h"},
    "main.c": {"io/atomic_file.h"},
    "cmd_atlas.c": {"api/vis_settings.h", "core/status.h", "vis/atlas.h"},
    "cmd_bench.c": {"vis/bench.h"},
    "cmd_check.c": {"core/check.h", "core/rng.h", "io/preprocess.h"},
    "cmd_classify.c": {"vis/class_vector.h"},
    "cmd_convert.c": {"core/graph.h", "models/arch.h", "models/onnx_export.h"},
    "cmd_deconv.c": {"core/status.h", "io/normalize.h", "vis/deconv.h"},
    "cmd_demo.c": {"io/atomic_file.h", "io/idx.h", "models/preset.h"},
    "cmd_gradcam.c": {"vis/gradcam.h"},
    "cmd_saliency.c": {"core/status.h", "io/normalize.h", "io/preprocess.h",
                       "vis/deconv.h", "vis/saliency.h"},
    "cmd_topk.c": {"core/status.h", "io/normalize.h", "io/preprocess.h", "vis/topk.h"},
    "cmd_train.c": {"core/graph.h", "core/status.h", "io/atomic_file.h", "io/dataset.h", "models/arch.h",
                    "models/onnx_export.h", "vis/train.h"},
}
assert set(CLI_PENDING) == set(CLI_PENDING_WHY)

cli_dir = os.path.join(sys.argv[1], "cli")
own = {n for n in os.listdir(cli_dir) if n.endswith(".h")}
cli_edges = set()
for name in sorted(os.listdir(cli_dir)):
    if not name.endswith((".c", ".h")):
        continue
    with open(os.path.join(cli_dir, name), encoding="utf-8") as f:
        found = {m.group(1) for m in (re.match(r'\s*#\s*include\s+"([^"]+)"', line) for line in f) if m}
    internal = {h for h in found if not h.startswith("cnnvis/") and h not in own}
    cli_edges |= {h.split("/")[0] for h in internal if "/" in h}
    pending = CLI_PENDING.get(name, set())
    for h in sorted(internal - pending):
        print(f"FAIL: cli/{name} includes {h}: cli/ may include only cnnvis/ headers and its own")
        bad = True
    for h in sorted(pending - internal):
        print(f"FAIL: cli/{name} no longer includes {h}: drop it from CLI_PENDING")
        bad = True
n_pending = sum(len(v) for v in CLI_PENDING.values())
print(f"cli      -> cnnvis/ (public), and {n_pending} internal includes pending in {len(CLI_PENDING)} files: "
      f"{', '.join(sorted(cli_edges))}")


def layout_dot():
    lines = ["// The folders of cnnvis and what they include (an arrow points from the includer).",
             "// Generated by tests/api/check_layering.py --write; test_layering checks it is current.",
             "digraph cnnvis {", "  rankdir=TB;", "  node [shape=box, fontname=\"monospace\"];",
             "  cli -> public [label=\"the API\"];", "  public [label=\"include/cnnvis/\"];",
             "  api -> public;"]
    lines += [f"  cli -> {d} [style=dashed];" for d in sorted(cli_edges)]
    lines += [f"  {a} -> {b};" for a in folders for b in sorted(edges[a])]
    return "\n".join(lines + ["}", ""])


def layout_svg():
    """Folders in rows by their longest include chain down to core/; cli/ on top."""
    graph = {a: set(edges[a]) for a in folders}
    graph["cli"] = set(cli_edges) | {"public"}
    graph["public"] = set()
    graph["api"] = graph["api"] | {"public"}  # api/ implements the public headers
    level = {}

    def depth(n):
        if n not in level:
            level[n] = 1 + max((depth(m) for m in graph[n] if m != "public"), default=-1)
        return level[n]

    for n in folders:
        depth(n)
    level["public"] = max(level.values()) + 1  # the API sits above the library, the CLI above it
    level["cli"] = level["public"] + 1
    rows = collections.defaultdict(list)
    for n in sorted(graph):
        rows[level[n]].append(n)
    top = max(rows)
    bw, bh, gx, gy = 120, 34, 40, 70
    width = max(len(r) for r in rows.values()) * (bw + gx) + gx
    pos = {}
    for lv, names in rows.items():
        x0 = (width - len(names) * (bw + gx) + gx) / 2
        for i, n in enumerate(names):
            pos[n] = (x0 + i * (bw + gx), 20 + (top - lv) * (bh + gy))
    height = 20 + (top + 1) * (bh + gy)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           'font-family="monospace" font-size="14">',
           '<defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
           'orient="auto"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>']
    k = 0
    for a in sorted(graph):
        for b in sorted(graph[a]):
            (xa, ya), (xb, yb) = pos[a], pos[b]
            up = yb < ya  # api/ implements the headers above it
            x1, y1, x2, y2 = xa + bw / 2, ya if up else ya + bh, xb + bw / 2, yb + bh if up else yb
            dash = ' stroke-dasharray="5,4"' if (a == "cli" and b != "public") or up else ""
            # An arrow past a row bows to a side, so that it does not cross the boxes in between.
            span = abs(level[a] - level[b])
            k += span > 1
            off = 0 if span <= 1 else (bw / 2 + 12 * span) * (1 if k % 2 else -1)
            out.append(f'<path d="M{x1:.0f},{y1:.0f} C{x1 + off:.0f},{y1:.0f} {x2 + off:.0f},{y2:.0f} {x2:.0f},'
                       f'{y2:.0f}" fill="none" stroke="black"{dash} marker-end="url(#a)"/>')
    for n, (x, y) in sorted(pos.items()):
        label = "include/cnnvis" if n == "public" else n + "/"
        out.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{bw}" height="{bh}" fill="white" stroke="black"/>')
        out.append(f'<text x="{x + bw / 2:.0f}" y="{y + 22:.0f}" text-anchor="middle">{label}</text>')
    return "\n".join(out + ["</svg>", ""])


docs = os.path.join(sys.argv[1], "docs")
for name, text in (("layout.dot", layout_dot()), ("layout.svg", layout_svg())):
    path = os.path.join(docs, name)
    if "--write" in sys.argv[2:]:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {path}")
        continue
    try:
        with open(path, encoding="utf-8") as f:
            current = f.read() == text
    except FileNotFoundError:
        current = False
    if not current:
        print(f"FAIL: docs/{name} does not match the includes: run check_layering.py SOURCE_DIR --write")
        bad = True
sys.exit(1 if bad else 0)
