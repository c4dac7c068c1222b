#!/usr/bin/python3
"""Measures a Fashion-MNIST classifier's test accuracy in OpenCV DNN (cv2.dnn.readNetFromONNX), as an
independent check of the number `cnnvis train --evaluate` reports. Reads the IDX test set (plain or
.gz), feeds pixels / 255 as float32 NCHW (the scaling `cnnvis train` uses), and prints
"opencv accuracy A (N images)". Exit status 3 (with the reason on stderr) when cv2, numpy or the
data set is missing, so a caller can skip instead of fail; 1 when the accuracy is below --min.

usage: check_opencv_fashion.py [--data DIR] [--min FRACTION] MODEL.onnx
"""
import argparse
import gzip
import os
import sys

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path, ndim):
    """The unsigned-byte IDX file at path (or path + '.gz') as a numpy array."""
    import numpy as np

    if not os.path.exists(path):
        path += ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08 or data[3] != ndim:
        raise ValueError(f"{path}: not an unsigned-byte IDX file of {ndim} dimensions")
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--min", type=float, default=0.0, help="fail (exit 1) below this accuracy")
    args = ap.parse_args()
    try:
        import cv2
        import numpy as np
    except ImportError as e:
        print(f"skip: {e}", file=sys.stderr)
        return 3
    try:
        images = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte"), 3)
        labels = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte"), 1)
    except FileNotFoundError as e:
        print(f"skip: {e} (install Debian's dataset-fashion-mnist)", file=sys.stderr)
        return 3
    net = cv2.dnn.readNetFromONNX(args.model)
    x = images.astype(np.float32)[:, None, :, :] / 255.0
    correct = 0
    for start in range(0, len(x), 500):
        net.setInput(x[start : start + 500])
        logits = net.forward()
        correct += int((logits.argmax(axis=1) == labels[start : start + 500]).sum())
    accuracy = correct / len(x)
    print(f"opencv accuracy {accuracy:.4f} ({len(x)} images)")
    return 0 if accuracy >= args.min else 1


if __name__ == "__main__":
    sys.exit(main())
