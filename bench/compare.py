#!/usr/bin/python3
"""cnnvis against its PyTorch peers, side by side, in one run: for every workload, --rounds rounds
of `cnnvis bench W --json` then `peer_bench_torch.py W --json`, interleaved (cnnvis, peer, cnnvis,
peer, ...), each a fresh process timing --repeat steps after its warm-up. A side's figure is the
median of its rounds' medians; the ratio is cnnvis / PyTorch (below 1: cnnvis is faster), for time
and for peak resident memory. Prints the machine, the load average before and after, and the table
(Markdown, for docs/BENCHMARKS.md); --json FILE also keeps every round.

usage: bench/compare.py [WORKLOAD...] [--cnnvis build/cnnvis] [--device cpu] [--peer-device cpu]
                        [--rounds 3] [--repeat 5] [--size S] [--threads T] [--json FILE]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def run_json(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)["results"][0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workloads", nargs="*")
    ap.add_argument("--cnnvis", default=os.path.join(HERE, "..", "build", "cnnvis"))
    ap.add_argument("--device", default="cpu", help="cnnvis's --device")
    ap.add_argument("--peer-device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--size", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: its default)")
    ap.add_argument("--no-peer", action="store_true", help="cnnvis only (no PyTorch on this machine)")
    ap.add_argument("--json", help="write every round's results here")
    args = ap.parse_args()
    if args.rounds < 3:
        ap.error("--rounds must be at least 3 (a median of fewer says little)")
    names = args.workloads
    if not names:
        names = subprocess.run([args.cnnvis, "bench", "--list"], stdout=subprocess.PIPE, text=True,
                               check=True).stdout.split()
    common = ["--repeat", str(args.repeat)] + (["--size", str(args.size)] if args.size else [])
    cnnvis_cmd = lambda w: [args.cnnvis, "bench", w, "--json", "--device", args.device] + common
    peer_cmd = lambda w: ([sys.executable, os.path.join(HERE, "peer_bench_torch.py"), w, "--json",
                           "--device", args.peer_device, "--threads", str(args.threads)] + common)

    load_before = os.getloadavg()
    print(f"machine: {machine()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}")
    print(f"{args.rounds} rounds x {args.repeat} timed repeats each, interleaved; medians of the round medians")
    print("(a row is printed as soon as its rounds are done)\n", flush=True)
    med = lambda runs, key: statistics.median(r[key] for r in runs if r.get(key) is not None) if runs else None
    fmt = lambda v, d: "-" if v is None else f"{v:.{d}f}"
    ratio = lambda a, b: "-" if a is None or not b else f"{a / b:.2f}"
    rounds = {}
    for k, w in enumerate(names):
        rounds[w] = {"cnnvis": [], "peer": []}
        for _ in range(args.rounds):
            rounds[w]["cnnvis"].append(run_json(cnnvis_cmd(w)))
            if not args.no_peer:
                rounds[w]["peer"].append(run_json(peer_cmd(w)))
        c, p = rounds[w]["cnnvis"], rounds[w]["peer"]
        if k == 0:
            print(f"cnnvis: {c[0]['device']} (--device {args.device})")
            if p:
                print(f"PyTorch {p[0]['torch']} on {p[0]['device']} ({p[0]['threads']} threads)"
                      + (", float32, TF32 off" if args.peer_device == "cuda" else ""))
            print("\n| workload | cnnvis s | PyTorch s | ratio | cnnvis peak MB | PyTorch peak MB | ratio |")
            print("|---|---:|---:|---:|---:|---:|---:|")
        ct, pt, cm, pm = med(c, "median_s"), med(p, "median_s"), med(c, "peak_rss_mb"), med(p, "peak_rss_mb")
        print(f"| {w} | {fmt(ct, 4)} | {fmt(pt, 4)} | {ratio(ct, pt)} | {fmt(cm, 0)} | {fmt(pm, 0)} | {ratio(cm, pm)} |")
        if w == "gemm":
            print(f"|   gemm GFLOP/s | {fmt(med(c, 'gflops'), 1)} | {fmt(med(p, 'gflops'), 1)} | | | | |")
        sys.stdout.flush()
    load_after = os.getloadavg()
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in load_after)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "load_before": load_before, "load_after": load_after,
                       "rounds": rounds}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
