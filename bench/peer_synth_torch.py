#!/usr/bin/python3
"""Seconds per optimization step of the synthesis verbs in PyTorch (CPU), as the peer of
bench/bench_synth.sh: SqueezeNet 1.1's architecture (random weights: the timing does not depend
on them), cut after the deepest layer each verb reads, one step = forward, objective, backward to
the image and the update, the same work cnnvis records per step.

usage: peer_synth_torch.py VERB H W STEPS   (VERB: invert | dream | style)
prints: "VERB H W seconds_per_step threads"
"""
import sys
import time

import torch
import torch.nn as nn


class Fire(nn.Module):
    def __init__(self, cin, squeeze, expand):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.expand1 = nn.Conv2d(squeeze, expand, 1)
        self.expand3 = nn.Conv2d(squeeze, expand, 3, padding=1)

    def forward(self, x):
        s = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.expand1(s)), torch.relu(self.expand3(s))], 1)


def squeezenet_layers():
    """SqueezeNet 1.1 up to fire7 as (name, module) in order; names as in the ONNX model."""
    pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)
    return [
        ("conv1", nn.Conv2d(3, 64, 3, stride=2)), ("relu_conv1", nn.ReLU()), ("pool1", pool()),
        ("fire2/concat", Fire(64, 16, 64)), ("fire3/concat", Fire(128, 16, 64)), ("pool3", pool()),
        ("fire4/concat", Fire(128, 32, 128)), ("fire5/concat", Fire(256, 32, 128)), ("pool5", pool()),
        ("fire6/concat", Fire(256, 48, 192)), ("fire7/concat", Fire(384, 48, 192)),
    ]


def features(layers, x, wanted):
    out = {}
    for name, module in layers:
        x = module(x)
        if name in wanted:
            out[name] = x
        if len(out) == len(wanted):
            break
    return out


def gram(f):
    n, c, h, w = f.shape
    f = f.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (h * w)


def tv(x):
    return ((x[:, :, 1:, :] - x[:, :, :-1, :]) ** 2).sum() + ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum()


def main():
    verb, h, w, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.manual_seed(0)
    layers = squeezenet_layers()
    for _, m in layers:
        for p in m.parameters():
            p.requires_grad_(False)
    target_img = torch.rand(1, 3, h, w)
    x = torch.rand(1, 3, h, w, requires_grad=True)
    style_layers = ["conv1", "fire2/concat", "fire3/concat", "fire5/concat", "fire7/concat"]
    with torch.no_grad():
        if verb == "invert":
            target = features(layers, target_img, ["fire5/concat"])["fire5/concat"]
        elif verb == "style":
            f = features(layers, target_img, style_layers)
            grams = {k: gram(v) for k, v in f.items()}
            content = f["fire5/concat"]
    opt = torch.optim.Adam([x], lr=0.02)

    def step():
        if verb == "dream":
            dx, dy = [int(v) for v in torch.randint(-32, 33, (2,))]
            xs = torch.roll(x, (dy, dx), (2, 3))
            f = features(layers, xs, ["fire5/concat"])["fire5/concat"]
            loss = 0.5 * (f ** 2).sum()
            g, = torch.autograd.grad(loss, x)
            with torch.no_grad():
                x.add_(0.006 * g / (g.abs().mean() + 1e-8))
            return
        opt.zero_grad()
        if verb == "invert":
            f = features(layers, x, ["fire5/concat"])["fire5/concat"]
            loss = ((f - target) ** 2).sum() / (target ** 2).sum() + 1e-5 * tv(x) + 1e-6 * ((x - 0.5) ** 2).sum()
        else:
            f = features(layers, x, style_layers)
            loss = sum(((gram(f[k]) - grams[k]) ** 2).sum() / (grams[k] ** 2).sum() for k in style_layers) * 2
            loss = loss + ((f["fire5/concat"] - content) ** 2).sum() / (content ** 2).sum() + 1e-5 * tv(x)
        loss.backward()
        opt.step()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    print(verb, h, w, f"{(time.perf_counter() - t0) / steps:.4f}", torch.get_num_threads())


if __name__ == "__main__":
    main()
