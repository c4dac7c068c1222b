#!/usr/bin/python3
"""The PyTorch peer of `cnnvis train`: the same architecture as cnnvis's fashion-cnn (conv3x3-32 pad 1,
ReLU, maxpool 2, conv3x3-64 pad 1, ReLU, maxpool 2, dense 128, ReLU, dense 10), the same loss
(softmax cross-entropy), optimizer (Adam, lr 1e-3, PyTorch's betas/eps, which cnnvis uses too),
batch size and number of training images (the first N of the IDX training set, pixels / 255),
one epoch, on the CPU. Prints "torch SECONDS N threads T": the wall time of the epoch's training
steps only (data already in memory), as cnnvis's log reports train_seconds.

usage: peer_train_torch.py [--data DIR] [--limit N] [--batch B] [--threads T]
"""
import argparse
import os
import sys
import time

# The IDX reader of the OpenCV accuracy check, so that both read the data set the same way.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from check_opencv_fashion import read_idx  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--limit", type=int, default=60000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = ap.parse_args()
    try:
        import numpy as np
        import torch
        from torch import nn
    except ImportError as e:
        print(f"skip: {e}", file=sys.stderr)
        return 3
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    images = read_idx(os.path.join(args.data, "train-images-idx3-ubyte"), 3)[: args.limit]
    labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte"), 1)[: args.limit]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.randperm(len(x))
    n_batches = len(x) // args.batch  # the last incomplete batch is left out, as cnnvis does
    start = time.perf_counter()
    for i in range(n_batches):
        idx = order[i * args.batch : (i + 1) * args.batch]
        opt.zero_grad()
        loss = loss_fn(net(x[idx]), y[idx])
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    print(f"torch {seconds:.3f} {n_batches * args.batch} threads {torch.get_num_threads()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
