#!/usr/bin/python3
"""Independent check of a class visualization with OpenCV DNN (Debian python3-opencv).

usage: check_class_image.py MODEL.onnx IMAGE.png --size S --bgr --mean B,G,R [--scale F]

Runs the ONNX model on the saved PNG three ways and prints one JSON line per way:
  as saved; downscaled 2x (INTER_AREA) and upscaled back (INTER_LINEAR); rotated 10 degrees
  about the centre (edges reflected). Each line: {"view", "top1", "prob"} where prob is the
  softmax probability of the top-1 class (the model's own softmax when it ends in one).
Exit status 3 when cv2 is missing, so callers can skip with a reason.
"""
import argparse
import json
import sys

try:
    import cv2
    import numpy as np
except ImportError as e:  # pragma: no cover - environment dependent
    print(f"missing dependency: {e}", file=sys.stderr)
    sys.exit(3)


def preprocess(img_bgr, size, bgr, mean, scale):
    img = cv2.resize(img_bgr, (size, size), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    if not bgr:
        img = img[:, :, ::-1]
    img = img * scale - np.array(mean, dtype=np.float32)
    return img.transpose(2, 0, 1)[None].copy()


def softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("image")
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--bgr", action="store_true")
    ap.add_argument("--mean", default="0,0,0")
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    mean = [float(x) for x in a.mean.split(",")]
    net = cv2.dnn.readNetFromONNX(a.model)
    img = cv2.imread(a.image, cv2.IMREAD_COLOR)
    if img is None:
        print(f"{a.image}: cannot read", file=sys.stderr)
        sys.exit(2)
    h, w = img.shape[:2]
    small = cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    views = {
        "saved": img,
        "down_up_2x": cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR),
        "rotate_10": cv2.warpAffine(img, cv2.getRotationMatrix2D((w / 2, h / 2), 10, 1.0), (w, h),
                                    borderMode=cv2.BORDER_REFLECT_101),
    }
    for name, view in views.items():
        net.setInput(preprocess(view, a.size, a.bgr, mean, a.scale))
        out = net.forward().reshape(-1)
        p = out if abs(out.sum() - 1) < 1e-3 and out.min() >= 0 else softmax(out)
        k = int(p.argmax())
        print(json.dumps({"view": name, "top1": k, "prob": float(p[k])}))


if __name__ == "__main__":
    main()
