"""The Python binding against the CLI: forward equals `forward --save-tensor` bit for bit, the
input gradient equals `grad --save-tensor`, a seeded render equals `filter`/`class` with the
same seed (their --save-tensor), classify agrees with `classify --json`, saliency equals
`saliency --save-tensor`, Grad-CAM has the layer's map shape, the deconvnet equals
`deconv --save-tensor` (and its --top channels), topk equals `topk --json`, a batched render with knobs by name equals
`filter`/`class`/`neuron` (images and record), a seeded style transfer equals `style`, a seeded DeepDream and inversion equal `dream`/`invert --save-tensor`, CAM equals `gradcam --method
cam --save-tensor`, the device report equals `devices --json`, the layer table and the preset equal `info --json`,
labels name the classes as `classify --json` does, a built architecture saved as ONNX
equals `convert --arch` with the same seed byte for byte, and a library error raises CnnvisError with the library's
message.
usage: test_python.py CLI SOURCE_DIR (with CNNVIS_LIBRARY and PYTHONPATH set)"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

import cnnvis

CLI, SRC = sys.argv[1], sys.argv[2]
FASHION = os.path.join(SRC, "models", "fashion_mnist.onnx")
SQUEEZENET = os.path.join(SRC, "..", "shared", "models", "squeezenet1.1_openvino_fp16", "derived",
                          "squeezenet1.1_fp32_from_ir.onnx")
CAT = os.path.join(SRC, "..", "shared", "images", "chelsea.png")


def cli(*args):
    r = subprocess.run([CLI, *map(str, args), "--device", "cpu"], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"cnnvis {' '.join(map(str, args))}: {r.stderr}")
    return r.stdout


class Binding(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = cnnvis.load(FASHION, device="cpu")
        rng = np.random.default_rng(7)
        cls.x = rng.standard_normal(cls.model.input_shape).astype(np.float32)
        cls.x_path = os.path.join(cls.tmp.name, "x.npy")
        np.save(cls.x_path, cls.x)

    @classmethod
    def tearDownClass(cls):
        cls.model.close()
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_layers_and_input(self):
        layers = self.model.layers
        self.assertGreater(len(layers), 3)
        self.assertEqual(self.model.input_shape, (1, 1, 28, 28))
        self.assertIn("Conv", [op for _, op, _ in layers])
        self.assertEqual(self.model.layer_index(layers[2][0]), 2)
        self.assertEqual(self.model.preset, "fashion-mnist")

    def test_forward_equals_cli_bit_for_bit(self):
        for layer in (None, 1):
            args = ["forward", FASHION, self.x_path, "--save-tensor", self.path("y.npy")]
            if layer is not None:
                args += ["--layer", layer]
            cli(*args)
            want = np.load(self.path("y.npy"))
            got = self.model.forward(self.x, layer=layer)
            self.assertEqual(got.shape, want.shape)
            self.assertEqual(got.tobytes(), want.tobytes(), f"layer {layer}")
        # A batch of two runs each item as a batch of one would, to rounding.
        two = self.model.forward(np.concatenate([self.x, 0.5 * self.x]))
        np.testing.assert_allclose(two[1:], self.model.forward(0.5 * self.x), rtol=1e-5, atol=1e-6)

    def test_grad_equals_cli(self):
        cli("grad", FASHION, self.x_path, "--class", 3, "--save-tensor", self.path("g.npy"))
        want = np.load(self.path("g.npy"))
        got = self.model.grad(self.x, 3)
        self.assertEqual(got.shape, self.x.shape)
        self.assertGreater(np.abs(got).max(), 0)
        self.assertEqual(got.tobytes(), want.tobytes())

    def test_saliency_equals_cli(self):
        for method, seed in (("guided", 0), ("smoothgrad", 4)):
            cli("saliency", FASHION, self.x_path, "--class", 2, "--method", method, "--seed", seed,
                "-o", self.path("s.png"), "--save-tensor", self.path("s.npy"))
            got = self.model.saliency(self.x, 2, method=method, seed=seed)
            self.assertGreater(np.abs(got).max(), 0, method)
            self.assertEqual(got.tobytes(), np.load(self.path("s.npy")).tobytes(), method)
        with self.assertRaises(cnnvis.CnnvisError) as e:
            self.model.saliency(self.x, 2, method="occlusion")
        self.assertIn("occlusion", str(e.exception))

    def test_classify_equals_cli(self):
        top = json.loads(cli("classify", FASHION, self.x_path, "--top", 3, "--json"))[0]["top"]
        got = self.model.classify(self.x, k=3)
        self.assertEqual([c for c, _ in got], [t["class"] for t in top])
        np.testing.assert_allclose([p for _, p in got], [t["probability"] for t in top], rtol=1e-6)

    def test_render_filter_equals_cli_with_seed(self):
        # A ReLU layer: the objective acts on its leaky twin, as in the CLI.
        layer = [name for name, op, _ in self.model.layers if op == "Relu"][0]
        cli("filter", FASHION, "--layer", layer, "--channel", 2, "--seed", 5, "--steps", 12,
            "-o", self.path("f.png"), "--save-tensor", self.path("f.npy"))
        want = np.load(self.path("f.npy"))[0]
        steps = []
        got = self.model.render_filter(layer, 2, seed=5, steps=12, progress=lambda s, n, v: steps.append(s))
        self.assertEqual(got.shape, (1, 28, 28))
        self.assertEqual(got.tobytes(), want.tobytes())
        self.assertEqual(steps, list(range(1, 13)))
        other = self.model.render_filter(layer, 2, seed=6, steps=12)
        self.assertNotEqual(other.tobytes(), got.tobytes(), "another seed gave the same image")

    def test_render_class_equals_cli_with_seed(self):
        cli("class", FASHION, "--class", 7, "--seed", 2, "--steps", 10, "-o", self.path("c.png"),
            "--save-tensor", self.path("c.npy"))
        want = np.load(self.path("c.npy"))[0]
        self.assertEqual(self.model.render_class(7, seed=2, steps=10).tobytes(), want.tobytes())

    def test_visualize_equals_cli_batches_and_record(self):
        # Three channels in batches of two, a knob of the recipe and the ReLU slope set by name.
        cli("filter", FASHION, "--layer", "relu2", "--channels", "0-2", "--batch", 2, "--steps", 6, "--seed", 4,
            "--relu-slope", 0.05, "--jitter", 2, "-o", self.path("v.png"), "--save-tensor", self.path("v.npy"))
        with open(self.path("v.json")) as f:
            want = json.load(f)
        seen = []
        got, record = self.model.visualize("relu2", [0, 1, 2], batch=2, steps=6, seed=4, relu_slope=0.05, jitter=2,
                                           progress=lambda first, step, steps, values: seen.append((first, step)))
        self.assertEqual(got.shape, (3, 1, 28, 28))
        self.assertEqual(got.tobytes(), np.load(self.path("v.npy")).tobytes())
        for key in ("runs", "objectives", "recipe", "objective_layer", "layer", "seed", "batch", "relu_slope",
                    "model_sha256", "preset"):
            self.assertEqual(record[key], want[key], key)
        self.assertEqual([r["first_item"] for r in record["runs"]], [0, 2])
        self.assertEqual(seen[0], (0, 1))
        self.assertEqual(seen[-1], (2, 6))
        # Classes at the logits, one a batch, and a neuron; the recipe named first or last alike.
        cli("class", FASHION, "--class", "1,7", "--batch", 1, "--steps", 4, "--seed", 3, "--recipe", "plain", "-o",
            self.path("vc.png"), "--save-tensor", self.path("vc.npy"))
        got, _ = self.model.visualize("logits", [("unit", 1), ("unit", 7)], steps=4, batch=1, seed=3, recipe="plain")
        self.assertEqual(got.tobytes(), np.load(self.path("vc.npy")).tobytes())
        cli("neuron", FASHION, "--layer", "relu2", "--channel", 5, "--position", "3,4", "--steps", 5, "-o",
            self.path("vn.png"), "--save-tensor", self.path("vn.npy"))
        got, record = self.model.visualize("relu2", [("neuron", 5, 3, 4)], steps=5)
        self.assertEqual(got.tobytes(), np.load(self.path("vn.npy")).tobytes())
        self.assertEqual(record["objectives"][0]["position"], [3, 4])
        self.assertIn("steps", [k[0] for k in cnnvis.vis_knobs()])
        self.assertEqual(cnnvis.recipes(), ["lucid", "sainburg", "plain", "invert", "dream", "style"])
        with self.assertRaises(cnnvis.CnnvisError) as e:
            self.model.visualize("relu2", [0], steps="many")
        self.assertEqual(str(e.exception), "--steps: 'many' is not a whole number >= 1")
        with self.assertRaises(cnnvis.CnnvisError) as e:
            self.model.visualize("relu2", [999], steps=2)
        self.assertIn("999", str(e.exception))

    def test_gradcam_shape(self):
        cam = self.model.gradcam(self.x, 3)
        layer = cnnvis.Model.layer_shape(self.model, cnnvis._lib.cnv_gradcam_default_layer(self.model._g))
        self.assertEqual(cam.shape, layer[2:])
        self.assertTrue(np.all(cam >= 0))

    def test_deconv_equals_cli(self):
        top = json.loads(cli("deconv", FASHION, self.x_path, "--layer", "relu2", "--top", 3, "-o",
                             self.path("dt.png"), "--json"))["channels"]
        got = self.model.strongest_channels(self.x, "relu2", 3)
        self.assertEqual([c for c, _ in got], [t["channel"] for t in top])
        np.testing.assert_allclose([p for _, p in got], [t["peak"] for t in top], rtol=1e-6)
        channel = got[0][0]
        for extra, kw in (([], {}), (["--all-positions", "--unpool", "fill"], {"all_positions": True,
                                                                                 "unpool": "fill"})):
            cli("deconv", FASHION, self.x_path, "--layer", "relu2", "--channel", channel, *extra, "-o",
                self.path("d.png"), "--save-tensor", self.path("d.npy"))
            proj, peak = self.model.deconv(self.x, "relu2", channel, **kw)
            self.assertGreater(np.abs(proj).max(), 0, extra)
            self.assertEqual(proj.tobytes(), np.load(self.path("d.npy")).tobytes(), extra)
            self.assertAlmostEqual(peak, got[0][1], places=4)
        with self.assertRaises(cnnvis.CnnvisError) as e:
            self.model.deconv(self.x, "relu2", 999)
        self.assertIn("999", str(e.exception))

    def test_topk_equals_cli(self):
        folder = self.path("topk")
        os.makedirs(folder)
        rng = np.random.default_rng(3)
        for i in range(11):
            x = rng.standard_normal(self.model.input_shape).astype(np.float32)
            np.save(os.path.join(folder, f"x{i:02d}.npy"), x)
        with open(os.path.join(folder, "notes.png"), "w") as f:
            f.write("not a picture\n")
        want = json.loads(cli("topk", FASHION, "--images", folder, "--layer", "relu2", "--channels", "3,0-1", "--k", 4,
                              "--batch", 5, "-o", self.path("topk.png"), "--json"))
        paths = sorted(os.path.join(folder, n) for n in os.listdir(folder))
        got, skipped = self.model.topk(paths, "relu2", channels=[3, 0, 1], k=4, batch=5)
        self.assertEqual([p for p, _ in skipped], [os.path.join(folder, "notes.png")])
        self.assertEqual(want["skipped"], 1)
        self.assertEqual(list(got), [c["channel"] for c in want["channels"]])
        for c in want["channels"]:
            entries = got[c["channel"]]
            self.assertEqual([e[0] for e in entries], [t["file"] for t in c["top"]])
            np.testing.assert_allclose([e[1] for e in entries], [t["score"] for t in c["top"]], rtol=1e-6)
            self.assertEqual([list(e[2]) for e in entries], [t["position"] for t in c["top"]])
            self.assertEqual([list(e[3]) for e in entries], [t["box"] for t in c["top"]])
        with self.assertRaises(cnnvis.CnnvisError) as e:
            self.model.topk(paths, "relu2", channels=[999])
        self.assertIn("999", str(e.exception))

    def test_dream_and_invert_equal_cli_with_seed(self):
        picture = self.model.load_picture(self.x_path)
        self.assertEqual(picture.shape, (1, 28, 28))
        cli("dream", FASHION, self.x_path, "--layer", "relu1,relu2", "--steps", 3, "--seed", 3, "-o",
            self.path("dr.png"), "--save-tensor", self.path("dr.npy"))
        steps = []
        got = self.model.dream(picture, ["relu1", "relu2"], seed=3, steps=3, progress=lambda s, n, v: steps.append(s))
        self.assertEqual(got.tobytes(), np.load(self.path("dr.npy"))[0].tobytes())
        self.assertGreater(np.abs(got - picture).max(), 0, "the dream left the picture as it was")
        self.assertEqual(len(steps), 12)  # 3 steps at each of the dream recipe's 4 octaves
        cli("dream", FASHION, self.x_path, "--layer", "relu2", "--channel", 5, "--steps", 2, "--seed", 4,
            "--size", 40, "-o", self.path("dc.png"), "--save-tensor", self.path("dc.npy"))
        got = self.model.dream(self.model.load_picture(self.x_path, size=40), "relu2", channel=5, seed=4, steps=2)
        self.assertEqual(got.tobytes(), np.load(self.path("dc.npy"))[0].tobytes())
        cli("invert", FASHION, self.x_path, "--layer", "relu1", "--steps", 4, "--seed", 2, "-o",
            self.path("iv.png"), "--save-tensor", self.path("iv.npy"))
        got, err = self.model.invert(picture, "relu1", seed=2, steps=4)
        self.assertEqual(got.tobytes(), np.load(self.path("iv.npy"))[0].tobytes())
        self.assertTrue(0 < err < 1, err)
        with self.assertRaises(cnnvis.CnnvisError) as e:
            self.model.dream(picture, "relu2", recipe="nonsense")
        self.assertIn("nonsense", str(e.exception))

    def test_style_equals_cli_with_seed(self):
        out = cli("style", FASHION, "--content", self.x_path, "--style", CAT, "--style-layers", "relu1,relu2",
                  "--content-layer", "relu2", "--steps", 4, "--seed", 2, "--tv", 1e-4, "-o", self.path("st.png"),
                  "--save-tensor", self.path("st.npy"))

        def sized(path):  # as the CLI sizes them: short side the input's, aspect kept
            pic = self.model.load_picture(path)
            h, w = pic.shape[1:]
            side = self.model.input_shape[2]
            return cnnvis.resample(pic, side if h <= w else side * h // w, side if w <= h else side * w // h)

        got, losses = self.model.style(sized(self.x_path), sized(CAT), ["relu1", "relu2"], "relu2", steps=4, seed=2,
                                       tv=1e-4)
        self.assertEqual(got.tobytes(), np.load(self.path("st.npy"))[0].tobytes())
        self.assertIn(f"style loss {losses['style_start']:.4g} -> {losses['style']:.4g}", out)
        self.assertLess(losses["style"], losses["style_start"])
        with self.assertRaises(cnnvis.CnnvisError) as e:
            self.model.style(sized(self.x_path), sized(CAT), "relu1", "relu2", lr=-1)
        self.assertEqual(str(e.exception), "--lr must be positive")

    def test_cam_needs_a_pooled_head(self):
        with self.assertRaises(cnnvis.CnnvisError) as e:
            self.model.cam(self.x, 3)
        self.assertEqual(e.exception.status, "CNV_ERR_UNSUPPORTED")
        self.assertTrue(str(e.exception), "no message")

    def test_devices_equal_cli(self):
        want = json.loads(subprocess.run([CLI, "devices", "--json"], capture_output=True, text=True, check=True).stdout)
        del want["cpu_backend"]
        got = cnnvis.devices()
        self.assertEqual(got, want)
        self.assertIn("default", got)

    def test_info_and_preset_equal_cli(self):
        want = json.loads(cli("info", FASHION, "--json"))
        self.assertEqual(self.model.info(), want["layers"])
        self.assertGreater(sum(layer["params"] for layer in self.model.info()), 0)
        p = self.model.preset_info
        self.assertEqual((p["name"], p["description"], p["detected"]),
                         (want["preset"]["name"], want["preset"]["description"], want["preset"]["origin"]))
        self.assertEqual(len(p["builtin_labels"]), 10)
        self.assertEqual(self.model.labels, p["builtin_labels"])
        self.assertEqual(cnnvis.preset("fashion-mnist"), {k: v for k, v in p.items() if k != "detected"})
        self.assertEqual(cnnvis.presets()[-1], "generic")
        self.assertIn("squeezenet", cnnvis.presets())
        with self.assertRaises(cnnvis.CnnvisError) as e:
            cnnvis.preset("nonsense")
        self.assertIn("nonsense", str(e.exception))

    def test_library_error_raises_with_its_message(self):
        missing = self.path("missing.onnx")
        with self.assertRaises(cnnvis.CnnvisError) as e:
            cnnvis.load(missing)
        self.assertIn("missing.onnx", str(e.exception))
        self.assertEqual(e.exception.status, "CNV_ERR_IO")
        with self.assertRaises(cnnvis.CnnvisError) as e:
            self.model.forward(self.x, layer="no_such_layer")
        self.assertIn("no_such_layer", str(e.exception))
        with self.assertRaises(cnnvis.CnnvisError) as e:
            self.model.render_filter(1, 0, recipe="nonsense", steps=1)
        self.assertIn("nonsense", str(e.exception))

    def test_load_at_a_size(self):
        """A model with symbolic height and width (written here with onnx.helper: a 3x3 conv, 2 to 3
        channels, then a global average pool) runs at the size and batch given, against numpy; a
        fixed model refuses another size with the library's line."""
        import onnx
        from onnx import TensorProto, helper, numpy_helper
        rng = np.random.default_rng(3)
        w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
        graph = helper.make_graph(
            [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("GlobalAveragePool", ["c"], ["y"])], "dyn",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, "H", "W"])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 1, 1])],
            [numpy_helper.from_array(w, "w")])
        path = self.path("dynamic.onnx")
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
        for size in [(20, 33), 9]:
            with cnnvis.load(path, device="cpu", size=size) as m:
                h, wd = (size, size) if isinstance(size, int) else size
                self.assertEqual(m.input_shape, (1, 2, h, wd))
                x = rng.standard_normal((2, 2, h, wd)).astype(np.float32)
                xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
                conv = sum(np.einsum("oc,nchw->nohw", w[:, :, i, j], xp[:, :, i:i + h, j:j + wd])
                           for i in range(3) for j in range(3))
                got = m.forward(x).reshape(2, 3)
                np.testing.assert_allclose(got, conv.mean(axis=(2, 3)), rtol=1e-4, atol=1e-5)
        with self.assertRaises(cnnvis.CnnvisError) as e:
            cnnvis.load(FASHION, device="cpu", size=32)
        self.assertIn("fixed at 1x1x28x28", str(e.exception))

    def test_build_and_save_equal_convert(self):
        self.assertIn("smallnet", cnnvis.architectures())
        out = self.path("smallnet_py.onnx")
        with cnnvis.build("smallnet", seed=7, device="cpu") as m:
            m.save_onnx(out)
            r = subprocess.run([CLI, "convert", "--arch", "smallnet", "--seed", "7", "-o", self.path("smallnet.onnx")],
                               capture_output=True, text=True, check=True)
            self.assertIn(f"{m.param_count} parameters", r.stdout)
            with open(out, "rb") as a, open(self.path("smallnet.onnx"), "rb") as b:
                self.assertEqual(a.read(), b.read())
            with cnnvis.load(out, device="cpu") as back:
                self.assertEqual(back.forward(self.x).tobytes(), m.forward(self.x).tobytes())
        with self.assertRaises(cnnvis.CnnvisError) as e:
            cnnvis.build("resnet-9000")
        self.assertEqual(e.exception.status, "CNV_ERR_NOT_FOUND")
        self.assertIn("resnet-9000", str(e.exception))

    @unittest.skipUnless(os.path.exists(SQUEEZENET), "../shared SqueezeNet is missing")
    def test_squeezenet_forward_and_classify(self):
        with cnnvis.load(SQUEEZENET, device="cpu") as m:
            x = m.load_input(CAT)
            np.save(self.path("cat.npy"), x)
            cli("forward", SQUEEZENET, CAT, "--save-tensor", self.path("sq.npy"))
            self.assertEqual(m.forward(x).tobytes(), np.load(self.path("sq.npy")).tobytes())
            top = json.loads(cli("classify", SQUEEZENET, CAT, "--top", 1, "--json"))[0]["top"][0]["class"]
            self.assertEqual(m.classify(x, k=1)[0][0], top)
            cli("gradcam", SQUEEZENET, CAT, "--method", "cam", "--class", top, "-o", self.path("cam.png"),
                "--save-tensor", self.path("cam.npy"))
            cam = m.cam(x, top)
            self.assertEqual(cam.tobytes(), np.load(self.path("cam.npy"))[0, 0].tobytes())
            self.assertGreater(cam.max(), cam.min())
            want = json.loads(cli("info", SQUEEZENET, "--json"))
            self.assertEqual(m.info(), want["layers"])
            self.assertEqual(m.preset_info["detected"], want["preset"]["origin"])
            synset = os.path.join(os.path.dirname(SQUEEZENET), "..", "..", "synset_words.txt")
            names = cnnvis.labels(synset)
            self.assertEqual(len(names), 1000)
            label = json.loads(cli("classify", SQUEEZENET, CAT, "--top", 1, "--json", "--labels", synset))[0]["top"][0]
            self.assertEqual(names[label["class"]], label["label"])
            self.assertEqual(m.labels, names)
            with self.assertRaises(cnnvis.CnnvisError) as e:
                cnnvis.labels(self.path("missing.txt"))
            self.assertIn("missing.txt", str(e.exception))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
