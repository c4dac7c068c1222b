#!/usr/bin/env python3
"""Prints the Markdown table of docs/gallery/README.md from the filter grids' JSON sidecars: for
each fire module, how many channels end at >= 20x their value on the starting noise, the ones below
it, and the ones off (0) on the start image. The value is the layer's own channel mean (after its
ReLU): `layer_start`/`layer_final` where the objective saw a twin of the layer, else the objective's
own `start`/`final`. usage: docs/gallery/filter_table.py [docs/gallery]"""
import json
import os
import sys

RATIO = 20


def channel_values(sidecar):
    """(channel, start, final) of every rendered channel, in grid order."""
    channels = [o["channel"] for o in sidecar["objectives"]]
    start, final = [], []
    for run in sidecar["runs"]:
        twin = "layer_start" in run
        start += run["layer_start" if twin else "start"]
        final += run["layer_final" if twin else "final"]
    return list(zip(channels, start, final))


def objective_text(sidecar):
    """How the grid was made: steps, and where the objective acted."""
    steps = sidecar["recipe"]["steps"]
    if "relu_slope" in sidecar:
        where = "leaky ReLU %g" % sidecar["relu_slope"]
    elif sidecar.get("pre_relu"):
        where = "before the ReLU"
    else:
        where = "after the ReLU"
    return "%d steps, %s" % (steps, where)


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    print("| module | rendered | channels at >= %dx their start | below %dx (channel: start -> final) "
          "| off on the start image (0 -> final) |" % (RATIO, RATIO))
    print("|---|---|---|---|---|")
    for module in range(2, 10):
        with open(os.path.join(folder, "filter_fire%d.json" % module)) as f:
            sidecar = json.load(f)
        values = channel_values(sidecar)
        passed = [c for c, a, b in values if b > 0 and b >= RATIO * a]
        below = ["%d: %.3g -> %.3g (%.1fx)" % (c, a, b, b / a) if a > 0 else "%d: 0 -> %.3g" % (c, b)
                 for c, a, b in values if not (b > 0 and b >= RATIO * a)]
        off = ["%d (-> %.3g)" % (c, b) for c, a, b in values if a == 0]
        print("| fire%d | %s | %d / %d | %s | %s |" % (module, objective_text(sidecar), len(passed), len(values),
                                                      ", ".join(below) or "-", ", ".join(off) or "-"))


if __name__ == "__main__":
    main()
