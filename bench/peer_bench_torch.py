#!/usr/bin/python3
"""The PyTorch peers of `cnnvis bench`'s workloads: the same architectures, built from torchvision
with the structure cnnvis's built-ins have (runtime/models/arch_imagenet.c), and the same step.

- vgg16-class-224/128, vgg16-conv5_3-224, resnet50-class-224: the pixels [1,3,S,S] (0.5 plus
  N(0, 0.01)) are normalized with ImageNet's mean/std, run through the model, the objective (logit 0,
  or the mean of conv5_3's channel 0) is read back as a number, its gradient taken to the pixels
  only (the weights need none), and Adam (lr 0.01) steps up: cnnvis's `plain` recipe without its L2
  penalty. VGG16 has no adaptive pool (its first Linear takes the 512 x S/32 x S/32 map, as in
  cnnvis); ResNet-50 has every BatchNorm replaced by a bias on the conv before it (cnnvis folds BN).
- vgg16-forward-224: the features up to conv5_3 (features[:29]), no gradient.
- squeezenet-lucid-b1/b8: Lucid's class step as cnnvis's `lucid` recipe computes it: a spectrum
  [B,3,S,S/2+1] scaled by 1/max(f, 1/S) and 1/S, inverse real FFT, colour decorrelation (Lucid's
  matrix, / 4), sigmoid, 12 pixels of 0.5 around, a random affine per image (scale 0.9-1.1,
  rotation +-10 degrees, jitter 8 + 4) resampled bilinearly back to S x S, Caffe preprocessing,
  SqueezeNet 1.1 to its pooled class scores, logit i for image i, backward, Adam (lr 0.05).
- fashion-train-b32: fashion-cnn (conv3x3-32, ReLU, pool, conv3x3-64, ReLU, pool, dense 128, ReLU,
  dense 10) on seeded random 28x28 images, cross-entropy, backward, Adam 1e-3, loss read back.
- gemm: one 1024 x 1024 x 1024 float32 product (torch.mm).

Each workload runs in a fresh child process (its peak resident memory is wait4's ru_maxrss); a
warm-up step, then --repeat timed steps (on CUDA each followed by torch.cuda.synchronize). On CUDA
the arithmetic is float32 with TF32 off, for matrix products and cuDNN alike.

usage: peer_bench_torch.py [WORKLOAD...] [--device cpu|cuda] [--repeat N] [--size S] [--threads T] [--json]
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

WORKLOADS = [
    "vgg16-class-224", "vgg16-class-128", "vgg16-conv5_3-224", "vgg16-forward-224", "resnet50-class-224",
    "squeezenet-lucid-b1", "squeezenet-lucid-b8", "fashion-train-b32", "gemm",
]
# Image size and batch of each workload, as in runtime/vis/bench.c.
SHAPES = {
    "vgg16-class-224": (224, 1), "vgg16-class-128": (128, 1), "vgg16-conv5_3-224": (224, 1),
    "vgg16-forward-224": (224, 1), "resnet50-class-224": (224, 1), "squeezenet-lucid-b1": (227, 1),
    "squeezenet-lucid-b8": (227, 8), "fashion-train-b32": (0, 32), "gemm": (0, 1),
}
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CAFFE_BGR_MEAN = (104.0, 117.0, 123.0)
# Lucid's colour decorrelation (the square root of ImageNet's colour covariance).
LUCID_COLOR = ((0.26, 0.09, 0.02), (0.27, 0.00, -0.05), (0.27, -0.09, 0.03))


def vgg16(nn, models, size):
    net = models.vgg16()
    net.avgpool = nn.Identity()
    side = size // 32
    net.classifier[0] = nn.Linear(512 * side * side, 4096)
    return net


def resnet50_folded(nn, models):
    """torchvision's ResNet-50 with each BatchNorm2d replaced by a bias on the conv before it."""
    net = models.resnet50()

    def fold(module):
        for name, child in module.named_children():
            if isinstance(child, nn.BatchNorm2d):
                setattr(module, name, nn.Identity())
            elif isinstance(child, nn.Conv2d) and child.bias is None:
                child.bias = nn.Parameter(child.weight.new_zeros(child.out_channels))
            else:
                fold(child)

    fold(net)
    return net


def fashion_cnn(nn):
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def frozen(net, device):
    net = net.to(device).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def pixel_step(torch, net, objective, size, batch, device):
    """The plain recipe's step: a closure doing one step, and the parameter count of net."""
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    x = (0.5 + 0.01 * torch.randn(batch, 3, size, size, device=device)).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        value = objective(net((x - mean) / std))
        (-value).backward()
        opt.step()
        return value.item()

    return step


def lucid_step(torch, F, net, size, batch, device):
    h = w = size
    fy = torch.fft.fftfreq(h, device=device).view(-1, 1)
    fx = torch.fft.rfftfreq(w, device=device).view(1, -1)
    scale = 1.0 / torch.maximum(torch.sqrt(fx * fx + fy * fy), torch.tensor(1.0 / max(h, w), device=device))
    scale = scale / math.sqrt(h * w)
    spectrum = (0.01 * torch.randn(batch, 3, h, w // 2 + 1, 2, device=device)).requires_grad_(True)
    color = torch.tensor(LUCID_COLOR, device=device) / 4
    bgr_mean = torch.tensor(CAFFE_BGR_MEAN, device=device).view(1, 3, 1, 1)
    opt = torch.optim.Adam([spectrum], lr=0.05)
    pad = 12
    classes = torch.arange(batch, device=device)

    def affines():
        theta = torch.empty(batch, 2, 3)
        for i in range(batch):
            s = 0.9 + 0.2 * torch.rand(()).item()
            a = math.radians(10 * (2 * torch.rand(()).item() - 1))
            tx = sum(torch.randint(-j, j + 1, ()).item() for j in (8, 4))
            ty = sum(torch.randint(-j, j + 1, ()).item() for j in (8, 4))
            c, sn = math.cos(a) / s, math.sin(a) / s
            theta[i] = torch.tensor([[c, -sn, 2 * tx / (w + 2 * pad)], [sn, c, 2 * ty / (h + 2 * pad)]])
        return theta.to(device)

    def step():
        opt.zero_grad(set_to_none=True)
        image = torch.fft.irfft2(torch.view_as_complex(spectrum) * scale, s=(h, w), norm="forward")
        image = torch.sigmoid(torch.einsum("ij,bjhw->bihw", color, image))
        padded = F.pad(image, (pad, pad, pad, pad), value=0.5)
        grid = F.affine_grid(affines(), (batch, 3, h, w), align_corners=False)
        moved = F.grid_sample(padded, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        model_input = moved.flip(1) * 255.0 - bgr_mean  # RGB 0..1 -> Caffe's BGR 0..255 minus mean
        logits = net(model_input).flatten(1)
        value = logits[classes, classes].sum()
        (-value).backward()
        opt.step()
        return value.item()

    return step


def train_step(torch, nn, device, batch):
    net = fashion_cnn(nn).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (batch,), device=device)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step, net


def build(name, size, device):
    """(step closure, network or None, images size, batch, flops of one step or 0)."""
    import torch
    import torch.nn.functional as F
    from torch import nn
    from torchvision import models

    default, batch = SHAPES[name]
    size = size or default
    if name.startswith("vgg16-forward"):
        net = frozen(vgg16(nn, models, size), device)
        conv5_3 = net.features[:29]
        x = torch.randn(batch, 3, size, size, device=device)

        def step():
            with torch.no_grad():
                conv5_3(x)

        return step, net, size, batch, 0
    if name.startswith("vgg16-conv5_3"):
        net = frozen(vgg16(nn, models, size), device)
        conv5_3 = net.features[:29]
        return pixel_step(torch, conv5_3, lambda y: y[0, 0].mean(), size, batch, device), net, size, batch, 0
    if name.startswith("vgg16-class"):
        net = frozen(vgg16(nn, models, size), device)
        return pixel_step(torch, net, lambda y: y[0, 0], size, batch, device), net, size, batch, 0
    if name.startswith("resnet50"):
        net = frozen(resnet50_folded(nn, models), device)
        return pixel_step(torch, net, lambda y: y[0, 0], size, batch, device), net, size, batch, 0
    if name.startswith("squeezenet-lucid"):
        net = frozen(models.squeezenet1_1(), device)
        return lucid_step(torch, F, net, size, batch, device), net, size, batch, 0
    if name == "fashion-train-b32":
        step, net = train_step(torch, nn, device, batch)
        return step, net, 0, batch, 0
    n = 1024
    a, b = torch.rand(n, n, device=device), torch.rand(n, n, device=device)

    def product():
        torch.mm(a, b)

    return product, None, 0, 1, 2.0 * n * n * n


def run_one(name, args):
    """Runs one workload in this process; prints its result as one JSON line."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(1)
    step, net, size, batch, flops = build(name, args.size, args.device)
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    step()  # warm-up
    sync()
    seconds = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        step()
        sync()
        seconds.append(time.perf_counter() - t0)
    out = {
        "workload": name, "backend": "torch-" + args.device, "size": size, "batch": batch, "repeat": args.repeat,
        "seconds": seconds, "median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds),
        "gflops": flops / statistics.median(seconds) * 1e-9 if flops else None,
        "params": sum(p.numel() for p in net.parameters()) if net is not None else None,
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "CPU",
    }
    if args.device == "cuda":
        out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    print(json.dumps(out))


def run_isolated(name, args):
    """The workload in a child process; adds the child's peak resident memory."""
    cmd = [sys.executable, os.path.abspath(__file__), "--one", name, "--device", args.device,
           "--repeat", str(args.repeat), "--size", str(args.size), "--threads", str(args.threads)]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
    if child.returncode != 0:
        raise RuntimeError(f"{name}: the peer's process failed (status {child.returncode})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024.0  # kilobytes on Linux
    return result


def main():
    ap = argparse.ArgumentParser(description="PyTorch peers of cnnvis bench's workloads")
    ap.add_argument("workloads", nargs="*", help="default: all")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--size", type=int, default=0, help="image size of the ImageNet workloads (0: their own)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.repeat < 1 or (args.size and args.size < 32):
        ap.error("--repeat must be >= 1 and --size 0 or >= 32")
    if args.one:
        run_one(args.one, args)
        return 0
    names = args.workloads or WORKLOADS
    for n in names:
        if n not in SHAPES:
            print(f"peer_bench_torch.py: unknown workload '{n}' (known: {', '.join(WORKLOADS)})", file=sys.stderr)
            return 2
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as e:
        print(f"peer_bench_torch.py: no PyTorch here ({e})", file=sys.stderr)
        return 3
    if args.device == "cuda" and not torch.cuda.is_available():
        print("peer_bench_torch.py: torch sees no CUDA device", file=sys.stderr)
        return 3
    results = [run_isolated(n, args) for n in names]
    if args.json:
        print(json.dumps({"repeat": args.repeat, "load_average": list(os.getloadavg()), "results": results}, indent=2))
    else:
        print(f"{'workload':22} {'backend':10} {'median s':>10} {'min s':>10} {'max s':>10} {'GFLOP/s':>9} {'peak MB':>9}")
        for r in results:
            g = f"{r['gflops']:.1f}" if r["gflops"] else "-"
            print(f"{r['workload']:22} {r['backend']:10} {r['median_s']:10.4f} {r['min_s']:10.4f} {r['max_s']:10.4f} "
                  f"{g:>9} {r['peak_rss_mb']:9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
