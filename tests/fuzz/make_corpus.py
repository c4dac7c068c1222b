"""Writes the fuzz harnesses' seed corpora: small valid files of every format, made here (none
is a copy of ../shared). One folder per harness under OUT; the harnesses whose first byte is a
mode (image, idx, keras_h5) get that byte in front.

usage: /usr/bin/python3 tests/fuzz/make_corpus.py OUT
Needs Debian's python3-numpy, python3-h5py, python3-onnx and python3-opencv."""
import gzip
import io
import json
import os
import struct
import sys

import cv2
import h5py
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(14)


def put(out, harness, name, data, mode=None):
    folder = os.path.join(out, harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        if mode is not None:
            f.write(bytes([mode]))
        f.write(data)


def tensor(name, shape):
    return numpy_helper.from_array(RNG.standard_normal(shape).astype(np.float32) * 0.3, name)


def onnx_models():
    """Two tiny nets: a conv chain to a softmax, and a branch with Concat, Add and pools."""
    conv = helper.make_graph(
        [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
         helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Flatten", ["p1"], ["f"], name="flatten"),
         helper.make_node("Gemm", ["f", "w2", "b2"], ["logits"], name="fc", transB=1),
         helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1)],
        "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 6, 6])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 3])],
        [tensor("w1", (2, 1, 3, 3)), tensor("b1", (2,)), tensor("w2", (3, 18)), tensor("b2", (3,))])
    branch = helper.make_graph(
        [helper.make_node("Conv", ["x", "w1"], ["a"], name="a", group=1),
         helper.make_node("LeakyRelu", ["a"], ["la"], name="la", alpha=0.1),
         helper.make_node("AveragePool", ["x"], ["b"], name="b", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         helper.make_node("Concat", ["la", "b"], ["c"], name="cat", axis=1),
         helper.make_node("Add", ["c", "c"], ["d"], name="add"),
         helper.make_node("GlobalAveragePool", ["d"], ["y"], name="gap")],
        "branch", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 1, 1])],
        [numpy_helper.from_array(RNG.standard_normal((2, 2, 1, 1)).astype(np.float32), "w1")])
    for g in (conv, branch):
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        onnx.checker.check_model(m)
        yield g.name, m.SerializeToString()


def keras_config():
    layers = [
        {"class_name": "InputLayer", "config": {"name": "input_1", "batch_input_shape": [None, 6, 6, 1],
                                                "dtype": "float32"}},
        {"class_name": "Conv2D", "config": {"name": "conv2d", "filters": 2, "kernel_size": [3, 3],
                                            "strides": [1, 1], "padding": "same", "data_format": "channels_last",
                                            "dilation_rate": [1, 1], "activation": "relu", "use_bias": True}},
        {"class_name": "MaxPooling2D", "config": {"name": "pool", "pool_size": [2, 2], "strides": [2, 2],
                                                  "padding": "valid"}},
        {"class_name": "Flatten", "config": {"name": "flatten"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 3, "activation": "softmax",
                                           "use_bias": True}},
    ]
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}


def keras_weights():
    return {"conv2d": [("kernel:0", RNG.standard_normal((3, 3, 1, 2))), ("bias:0", RNG.standard_normal(2))],
            "dense": [("kernel:0", RNG.standard_normal((18, 3))), ("bias:0", RNG.standard_normal(3))]}


def keras_h5(config_as_str, make_dataset=None):
    """The tiny Keras model as .h5 bytes. make_dataset(group, name, array), when given, writes the
    weights instead of the plain create_dataset (tests/fixtures/make_hostile.py breaks them)."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        text = json.dumps(keras_config())
        f.attrs["model_config"] = text if config_as_str else text.encode()
        f.attrs["keras_version"] = b"2.4.0"
        f.attrs["backend"] = b"tensorflow"
        w = f.create_group("model_weights")
        names = ["input_1", "conv2d", "pool", "flatten", "dense"]
        w.attrs["layer_names"] = np.array([n.encode() for n in names])
        weights = keras_weights()
        for n in names:
            g = w.create_group(n)
            if n not in weights:
                g.attrs["weight_names"] = np.array([], dtype=np.float64)
                continue
            g.attrs["weight_names"] = np.array([f"{n}/{k}".encode() for k, _ in weights[n]])
            for k, v in weights[n]:
                if make_dataset:
                    make_dataset(g, f"{n}/{k}", v.astype(np.float32))
                else:
                    g.create_dataset(f"{n}/{k}", data=v.astype(np.float32))
    return buf.getvalue()


def npy(array, version):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, version=version)
    return buf.getvalue()


def idx(array):
    head = struct.pack(">BBBB", 0, 0, 8, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    return head + array.astype(np.uint8).tobytes()


def main(out):
    for name, data in onnx_models():
        put(out, "onnx_model", name + ".onnx", data)
        put(out, "model_run", name + ".onnx", data)
    put(out, "onnx_tensor", "x.pb", numpy_helper.from_array(RNG.standard_normal((1, 2, 3, 3)).astype(np.float32), "x")
        .SerializeToString())
    put(out, "onnx_tensor", "v.pb", numpy_helper.from_array(np.arange(5, dtype=np.float32), "v").SerializeToString())
    put(out, "keras_h5", "bytes_config.h5", keras_h5(False), mode=0)
    put(out, "keras_h5", "str_config.h5", keras_h5(True), mode=0)
    put(out, "keras_config", "sequential.json", json.dumps(keras_config()).encode())
    put(out, "npy", "f4_v1.npy", npy(RNG.standard_normal((1, 3, 4, 4)).astype("<f4"), (1, 0)))
    put(out, "npy", "f8_v2.npy", npy(RNG.standard_normal((2, 5)).astype("<f8"), (2, 0)))
    picture = (RNG.random((5, 7, 3)) * 255).astype(np.uint8)
    for ext in (".png", ".jpg", ".bmp"):
        ok, enc = cv2.imencode(ext, picture)
        assert ok
        put(out, "image", "colour" + ext, enc.tobytes(), mode=1)
        ok, enc = cv2.imencode(ext, picture[:, :, 0])
        put(out, "image", "grey" + ext, enc.tobytes(), mode=0)
    images = (RNG.random((3, 4, 4)) * 255).astype(np.uint8)
    labels = np.array([1, 7, 3], dtype=np.uint8)
    put(out, "idx", "images.idx3", idx(images), mode=1)
    put(out, "idx", "labels.idx1", idx(labels), mode=0 | (2 << 1))
    put(out, "idx", "images.idx3.gz", gzip.compress(idx(images), mtime=0), mode=1)
    put(out, "idx", "labels.idx1.gz", gzip.compress(idx(labels), mtime=0), mode=0)


if __name__ == "__main__":
    main(sys.argv[1])
