#!/usr/bin/python3
"""Runs an ONNX model in OpenCV DNN (cv2.dnn.readNetFromONNX) on a .npy input (float32 NCHW) and
prints the indices of the 5 largest outputs, best first, space-separated, so test_onnx_export can
compare them with cnnvis's forward. Exit status 3 (with the reason on stderr) when cv2 or numpy
is missing, so the caller can skip instead of fail.

usage: check_opencv_onnx.py MODEL.onnx INPUT.npy
"""
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        import cv2
        import numpy as np
    except ImportError as e:
        print(f"skip: {e}", file=sys.stderr)
        return 3
    model, input_path = sys.argv[1], sys.argv[2]
    net = cv2.dnn.readNetFromONNX(model)
    net.setInput(np.load(input_path).astype(np.float32))
    scores = net.forward().reshape(-1)
    top5 = np.argsort(-scores, kind="stable")[:5]
    print(" ".join(str(int(i)) for i in top5))
    return 0


if __name__ == "__main__":
    sys.exit(main())
