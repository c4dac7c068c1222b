#!/usr/bin/python3
"""PyTorch peer for bench/bench_vis.sh: seconds per visualization step of SqueezeNet 1.1 at 227x227.

One step = forward of a 1x3x227x227 input through SqueezeNet 1.1 to the pooled class scores and
backward of one score to the input: the part of a cnnvis step that runs the model (cnnvis's step
also runs the image head: Fourier synthesis, decorrelation, transforms, and Adam). The network is
written here from the published architecture (Iandola et al. 2016, v1.1) with random weights:
speed does not depend on the values.

usage: peer_squeezenet_torch.py [--steps N] [--threads T]   prints: seconds_per_step=<float>
"""
import argparse
import time

import torch
from torch import nn


class Fire(nn.Module):
    def __init__(self, cin, squeeze, expand):
        super().__init__()
        self.squeeze = nn.Sequential(nn.Conv2d(cin, squeeze, 1), nn.ReLU())
        self.e1 = nn.Sequential(nn.Conv2d(squeeze, expand, 1), nn.ReLU())
        self.e3 = nn.Sequential(nn.Conv2d(squeeze, expand, 3, padding=1), nn.ReLU())

    def forward(self, x):
        s = self.squeeze(x)
        return torch.cat([self.e1(s), self.e3(s)], 1)


def squeezenet11():
    pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, stride=2), nn.ReLU(), pool(),
        Fire(64, 16, 64), Fire(128, 16, 64), pool(),
        Fire(128, 32, 128), Fire(256, 32, 128), pool(),
        Fire(256, 48, 192), Fire(384, 48, 192), Fire(384, 64, 256), Fire(512, 64, 256),
        nn.Conv2d(512, 1000, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = squeezenet11().eval()
    for p in net.parameters():
        p.requires_grad_(False)
    x = torch.rand(1, 3, 227, 227, requires_grad=True)

    def step():
        x.grad = None
        net(x)[0, 967, 0, 0].backward()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    print(f"seconds_per_step={(time.perf_counter() - t0) / a.steps:.4f}")


if __name__ == "__main__":
    main()
