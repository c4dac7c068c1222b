"""cnnvis for Python: a ctypes binding over libcnnvis (nothing to compile), numpy in and out.

    import cnnvis
    m = cnnvis.load("models/fashion_mnist.onnx")
    x = m.load_input("shoe.png")          # (1, C, H, W) float32, preprocessed by the preset
    m.classify(x)                         # [(class, probability), ...]
    y = m.forward(x, layer="conv1")       # the layer's output, (N, ...)
    g = m.grad(x, 3)                      # d logit 3 / d input, shaped like x
    img = m.render_filter("conv1", 0, seed=1, steps=64)   # (C, H, W) in 0..1

The library is the one named by CNNVIS_LIBRARY, else libcnnvis.so of the install this package
sits in (PREFIX/share/cnnvis/python/cnnvis), else the system's. Errors raise CnnvisError with
the library's one-line message. docs/PYTHON.md walks through it.
"""
import ctypes
import ctypes.util
import json
import os
import pathlib

import numpy as np

__all__ = ["load", "Model", "CnnvisError", "version", "library_path", "presets", "preset", "labels", "vis_knobs",
           "recipes", "resample"]


def _find_library():
    path = os.environ.get("CNNVIS_LIBRARY")
    if path:
        return path
    # Installed as PREFIX/share/cnnvis/python/cnnvis: the library is in PREFIX/lib*.
    here = pathlib.Path(__file__).resolve()
    if len(here.parents) > 4 and here.parents[3].name == "share":
        prefix = here.parents[4]
        for lib in sorted(prefix.glob("lib*/libcnnvis.so")) + sorted(prefix.glob("lib*/*/libcnnvis.so")):
            return str(lib)
    found = ctypes.util.find_library("cnnvis")
    if not found:
        raise OSError("libcnnvis not found: set CNNVIS_LIBRARY to the path of libcnnvis.so")
    return found


library_path = _find_library()
_lib = ctypes.CDLL(library_path)

_c_float_p = ctypes.POINTER(ctypes.c_float)
_c_int_p = ctypes.POINTER(ctypes.c_int)
_PROGRESS = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_double)


class _RenderParams(ctypes.Structure):
    """cnv_render_params of cnnvis/visualize.h, field for field."""
    _fields_ = [("recipe", ctypes.c_char_p), ("steps", ctypes.c_int), ("size", ctypes.c_int),
                ("seed", ctypes.c_uint64), ("relu_slope", ctypes.c_float), ("progress", _PROGRESS),
                ("user", ctypes.c_void_p)]


def _declare(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = argtypes


_P = ctypes.c_void_p
_declare("cnv_version", ctypes.c_char_p)
_declare("cnv_status_str", ctypes.c_char_p, ctypes.c_int)
_declare("cnv_last_error", ctypes.c_char_p)
_declare("cnv_model_load", ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(_P))
_declare("cnv_model_load_sized", ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.POINTER(_P))
_declare("cnv_model_free", None, _P)
_declare("cnv_model_find_layer", ctypes.c_int, _P, ctypes.c_char_p, _c_int_p)
_declare("cnv_model_layer_count", ctypes.c_int, _P)
_declare("cnv_model_layer_name", ctypes.c_char_p, _P, ctypes.c_int)
_declare("cnv_model_layer_op", ctypes.c_char_p, _P, ctypes.c_int)
_declare("cnv_model_layer_shape", ctypes.c_int, _P, ctypes.c_int, _c_int_p)
_declare("cnv_model_input_shape", ctypes.c_int, _P, _c_int_p)
_declare("cnv_model_output_layer", ctypes.c_int, _P)
_declare("cnv_model_preset", ctypes.c_char_p, _P)
_declare("cnv_model_load_input", ctypes.c_int, _P, ctypes.c_char_p, _c_float_p)
_declare("cnv_model_logits_layer", ctypes.c_int, _P, _c_int_p)
_declare("cnv_backend_open", ctypes.c_int, ctypes.c_char_p, _P, ctypes.POINTER(_P))
_declare("cnv_backend_free", None, _P)
_declare("cnv_backend_device", ctypes.c_char_p, _P)
_declare("cnv_forward", ctypes.c_int, _P, _P, ctypes.c_int, _c_float_p, ctypes.c_int, _c_float_p, ctypes.c_size_t)
_declare("cnv_input_gradient", ctypes.c_int, _P, _P, _c_float_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
         _c_float_p, ctypes.POINTER(ctypes.c_double))
_declare("cnv_classify", ctypes.c_int, _P, _P, _c_float_p, ctypes.c_int, _c_int_p, _c_float_p)
_declare("cnv_gradcam_default_layer", ctypes.c_int, _P)
_declare("cnv_gradcam_map", ctypes.c_int, _P, _P, _c_float_p, ctypes.c_int, ctypes.c_int, _c_float_p)
_declare("cnv_saliency", ctypes.c_int, _P, _P, _c_float_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint64, _c_float_p)
_declare("cnv_render_params_default", None, ctypes.POINTER(_RenderParams))
_declare("cnv_render_shape", ctypes.c_int, _P, ctypes.POINTER(_RenderParams), _c_int_p, _c_int_p, _c_int_p)
_declare("cnv_render_filter", ctypes.c_int, _P, _P, ctypes.c_int, ctypes.c_int, ctypes.POINTER(_RenderParams),
         _c_float_p)
_declare("cnv_render_class", ctypes.c_int, _P, _P, ctypes.c_int, ctypes.POINTER(_RenderParams), _c_float_p)

_declare("cnv_cam_layer", ctypes.c_int, _P, _c_int_p)
_declare("cnv_cam_map", ctypes.c_int, _P, _P, _c_float_p, ctypes.c_int, _c_float_p)


class _DeconvnetParams(ctypes.Structure):
    """cnv_deconvnet_params of cnnvis/attribution.h."""
    _fields_ = [("all_positions", ctypes.c_int), ("unpool_fill", ctypes.c_int)]


_declare("cnv_deconvnet", ctypes.c_int, _P, _P, _c_float_p, ctypes.c_int, ctypes.c_int,
         ctypes.POINTER(_DeconvnetParams), _c_float_p, _c_float_p)
_declare("cnv_strongest_channels", ctypes.c_int, _P, _P, _c_float_p, ctypes.c_int, ctypes.c_int, _c_int_p,
         _c_float_p)


class _Box(ctypes.Structure):
    """cnv_box of cnnvis/attribution.h."""
    _fields_ = [("y0", ctypes.c_int), ("x0", ctypes.c_int), ("y1", ctypes.c_int), ("x1", ctypes.c_int)]


class _TopkEntry(ctypes.Structure):
    """cnv_topk_entry of cnnvis/attribution.h."""
    _fields_ = [("score", ctypes.c_float), ("item", ctypes.c_int), ("y", ctypes.c_int), ("x", ctypes.c_int)]


_SkipFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p)
_declare("cnv_receptive_box", ctypes.c_int, _P, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(_Box))
_declare("cnv_box_clamp", _Box, _Box, ctypes.c_int, ctypes.c_int)
_declare("cnv_topk_files", ctypes.c_int, _P, _P, _P, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int,
         _c_int_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, _SkipFn, ctypes.c_void_p, ctypes.POINTER(_TopkEntry),
         _c_int_p, _c_int_p)
_declare("cnv_model_picture_size", ctypes.c_int, _P, ctypes.c_char_p, _c_int_p, _c_int_p)
_declare("cnv_model_load_picture", ctypes.c_int, _P, ctypes.c_char_p, ctypes.c_int, ctypes.c_int, _c_float_p)
_declare("cnv_deepdream", ctypes.c_int, _P, _P, _c_float_p, ctypes.c_int, ctypes.c_int, _c_int_p, ctypes.c_int,
         ctypes.c_int, ctypes.POINTER(_RenderParams), _c_float_p)
_declare("cnv_invert", ctypes.c_int, _P, _P, _c_float_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
         ctypes.POINTER(_RenderParams), _c_float_p, ctypes.POINTER(ctypes.c_double))



class _Preset(ctypes.Structure):
    """cnv_preset of cnnvis/model.h, field for field (the enum cnv_channel_order is an int)."""
    _fields_ = [("name", ctypes.c_char_p), ("description", ctypes.c_char_p), ("channels", ctypes.c_int),
                ("height", ctypes.c_int), ("width", ctypes.c_int), ("order", ctypes.c_int), ("scale", ctypes.c_float),
                ("mean", ctypes.c_float * 3), ("std", ctypes.c_float * 3), ("logits_layer", ctypes.c_char_p),
                ("labels_file", ctypes.c_char_p), ("builtin_labels", ctypes.POINTER(ctypes.c_char_p)),
                ("n_builtin_labels", ctypes.c_int), ("default_layers", ctypes.c_char_p)]


class _Labels(ctypes.Structure):
    """cnv_labels of cnnvis/model.h."""
    _fields_ = [("n", ctypes.c_int), ("display", ctypes.POINTER(ctypes.c_char_p)),
                ("line", ctypes.POINTER(ctypes.c_char_p))]


_declare("cnv_preset_find", ctypes.POINTER(_Preset), ctypes.c_char_p)
_declare("cnv_preset_detect_why", ctypes.POINTER(_Preset), _P, ctypes.c_char_p, ctypes.c_size_t)
_declare("cnv_preset_list", None, ctypes.c_char_p, ctypes.c_size_t)
_declare("cnv_labels_load", ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(_Labels))
_declare("cnv_labels_free", None, ctypes.POINTER(_Labels))
_declare("cnv_labels_for_preset", ctypes.c_int, ctypes.POINTER(_Preset), ctypes.c_char_p, ctypes.POINTER(_Labels),
         ctypes.c_char_p, ctypes.c_size_t)
_declare("cnv_labels_name", ctypes.c_char_p, ctypes.POINTER(_Labels), ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t)
_declare("cnv_model_layer_output_name", ctypes.c_char_p, _P, ctypes.c_int)
_declare("cnv_model_layer_params", ctypes.c_size_t, _P, ctypes.c_int)
_declare("cnv_model_receptive_fields", ctypes.c_int, _P, _c_int_p, _c_int_p)

_declare("cnv_devices_report", ctypes.c_int, ctypes.POINTER(ctypes.c_void_p))

class _VisKnob(ctypes.Structure):
    """cnv_vis_knob of cnnvis/vis_run.h."""
    _fields_ = [("name", ctypes.c_char_p), ("arg", ctypes.c_char_p), ("help", ctypes.c_char_p), ("default", ctypes.c_char_p)]


class _VisItem(ctypes.Structure):
    """cnv_vis_item of cnnvis/vis_run.h."""
    _fields_ = [("type", ctypes.c_int), ("index", ctypes.c_int), ("y", ctypes.c_int), ("x", ctypes.c_int),
                ("caption", ctypes.c_char * 48)]


class _VisProgress(ctypes.Structure):
    """cnv_vis_progress of cnnvis/vis_run.h."""
    _fields_ = [("stage", ctypes.c_char_p), ("first", ctypes.c_int), ("count", ctypes.c_int),
                ("n_items", ctypes.c_int), ("step", ctypes.c_int), ("steps", ctypes.c_int),
                ("values", ctypes.POINTER(ctypes.c_double))]


_VIS_PROGRESS = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(_VisProgress))
_VIS_FRAME = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, _c_float_p, ctypes.c_int,
                              ctypes.c_int, ctypes.c_int, ctypes.c_int)
_VIS_WARNING = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)


class _VisCallbacks(ctypes.Structure):
    """cnv_vis_callbacks of cnnvis/vis_run.h."""
    _fields_ = [("progress", _VIS_PROGRESS), ("frame", _VIS_FRAME), ("frame_every", ctypes.c_int),
                ("warning", _VIS_WARNING), ("user", ctypes.c_void_p)]


_declare("cnv_vis_recipe_list", None, ctypes.c_char_p, ctypes.c_size_t)
_declare("cnv_vis_knob_count", ctypes.c_int)
_declare("cnv_vis_knob_at", ctypes.POINTER(_VisKnob), ctypes.c_int)
_declare("cnv_vis_settings_create", ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(_P))
_declare("cnv_vis_settings_free", None, _P)
_declare("cnv_vis_settings_set", ctypes.c_int, _P, ctypes.c_char_p, ctypes.c_char_p)
_declare("cnv_vis_settings_prepare", ctypes.c_int, _P, _P)
_declare("cnv_vis_run_create", ctypes.c_int, _P, _P, _P, _P, ctypes.POINTER(_VisItem), ctypes.c_int,
         ctypes.POINTER(_VisCallbacks), ctypes.POINTER(_P))
_declare("cnv_vis_run_free", None, _P)
_declare("cnv_vis_run_image_size", None, _P, _c_int_p, _c_int_p, _c_int_p)
_declare("cnv_vis_run_render", ctypes.c_int, _P, ctypes.c_int, _c_float_p)
_declare("cnv_vis_run_record", ctypes.c_int, _P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
         ctypes.POINTER(ctypes.c_void_p))
_VIS_OBJECTIVES = {"unit": 0, "channel": 1, "neuron": 2}


class _VisStyle(ctypes.Structure):
    """cnv_vis_style of cnnvis/vis_run.h."""
    _fields_ = [("style_layers", _c_int_p), ("n_style_layers", ctypes.c_int), ("content_layer", ctypes.c_int),
                ("style_weight", ctypes.c_float), ("content_weight", ctypes.c_float), ("from_noise", ctypes.c_int)]


_declare("cnv_vis_run_style", ctypes.c_int, _P, ctypes.c_int, ctypes.POINTER(_VisStyle), _c_float_p, ctypes.c_int,
         ctypes.c_int, _c_float_p, ctypes.c_int, ctypes.c_int, _c_float_p, ctypes.POINTER(ctypes.c_double))
_declare("cnv_resample_planes", None, _c_float_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, _c_float_p, ctypes.c_int,
         ctypes.c_int, ctypes.c_float)
_declare("cnv_free", None, _P)

_declare("cnv_arch_build", ctypes.c_int, ctypes.c_char_p, ctypes.c_uint64, ctypes.POINTER(_P))
_declare("cnv_arch_list", None, ctypes.c_char_p, ctypes.c_size_t)
_declare("cnv_arch_describe", ctypes.c_char_p, ctypes.c_char_p)
_declare("cnv_model_param_count", ctypes.c_size_t, _P)
_declare("cnv_onnx_save", ctypes.c_int, _P, ctypes.c_char_p)

_OBJECTIVE_UNIT, _OBJECTIVE_CHANNEL = 0, 1
_MAX_RANK = 6


class CnnvisError(Exception):
    """A failed library call: .status is the status name (e.g. "CNV_ERR_IO"), str() the message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _check(status):
    if status != 0:
        raise CnnvisError(_lib.cnv_status_str(status).decode(), _lib.cnv_last_error().decode())


def _floats(a):
    return a.ctypes.data_as(_c_float_p)


def devices():
    """The compute devices as `cnnvis devices --json` reports them (a dict): "loader", "vulkan",
    "devices" (each Vulkan device's capability table) and "default" (an index or "cpu")."""
    text = ctypes.c_void_p()
    _check(_lib.cnv_devices_report(ctypes.byref(text)))
    try:
        return json.loads(ctypes.string_at(text.value).decode())
    finally:
        _lib.cnv_free(text)


def version():
    """The library's version string."""
    return _lib.cnv_version().decode()


def presets():
    """The names of every preset (how a known model wants its input), "generic" last."""
    buf = ctypes.create_string_buffer(4096)
    _lib.cnv_preset_list(buf, len(buf))
    return buf.value.decode().split(", ")


def _text(p):
    return p.decode() if p is not None else None


def _preset_dict(p):
    c = p.contents
    return {"name": _text(c.name), "description": _text(c.description), "channels": c.channels,
            "height": c.height, "width": c.width, "order": ("rgb", "bgr", "gray")[c.order], "scale": c.scale,
            "mean": list(c.mean), "std": list(c.std), "logits_layer": _text(c.logits_layer),
            "labels_file": _text(c.labels_file),
            "builtin_labels": [c.builtin_labels[i].decode() for i in range(c.n_builtin_labels)],
            "default_layers": _text(c.default_layers)}


def preset(name):
    """A preset as a dict: name, description, channels/height/width (0: the model's own), order
    ("rgb", "bgr" or "gray"), scale, mean, std (a pixel p in 0..255 becomes
    (p * scale - mean) / std), logits_layer, labels_file, builtin_labels, default_layers."""
    p = _lib.cnv_preset_find(name.encode())
    if not p:
        raise CnnvisError("CNV_ERR_NOT_FOUND", f"unknown preset '{name}' (known: {', '.join(presets())})")
    return _preset_dict(p)


def _names(lb):
    """The display names of a filled cnv_labels, which this frees."""
    try:
        buf = ctypes.create_string_buffer(32)
        return [_lib.cnv_labels_name(ctypes.byref(lb), i, buf, len(buf)).decode() for i in range(lb.n)]
    finally:
        _lib.cnv_labels_free(ctypes.byref(lb))


def labels(path):
    """The class names of a labels file (one class a line; "n01440764 tench, Tinca tinca" shows
    as "tench"), as a list in class order."""
    lb = _Labels()
    _check(_lib.cnv_labels_load(os.fsencode(path), ctypes.byref(lb)))
    return _names(lb)


class Model:
    """A loaded model on a backend. device: None or "auto" (the best GPU, else the CPU), "cpu",
    or a Vulkan device's index or name substring, as the CLI's --device. size: None (the
    model's own input size), a side S or (height, width): a model whose input size is free
    (symbolic height and width, a fully convolutional trunk) is built at it, as the CLI's
    --size does; a fixed one raises CnnvisError naming the size it takes."""

    def __init__(self, path, device=None, size=None):
        self._g = _P()
        self._be = _P()
        if size is None:
            _check(_lib.cnv_model_load(os.fsencode(path), ctypes.byref(self._g)))
        else:
            h, w = (size, size) if isinstance(size, int) else size
            _check(_lib.cnv_model_load_sized(os.fsencode(path), int(h), int(w), ctypes.byref(self._g)))
        self._open_backend(device)
        self.path = str(path)

    def _open_backend(self, device):
        """Opens the backend for the model in self._g, which is freed when that fails."""
        try:
            _check(_lib.cnv_backend_open(device.encode() if device else None, None, ctypes.byref(self._be)))
        except CnnvisError:
            _lib.cnv_model_free(self._g)
            self._g = None
            raise

    def close(self):
        """Frees the model and its backend now (otherwise when the object goes)."""
        if self._be:
            _lib.cnv_backend_free(self._be)
            self._be = None
        if self._g:
            _lib.cnv_model_free(self._g)
            self._g = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- layers and input ----
    @property
    def device(self):
        return _lib.cnv_backend_device(self._be).decode()

    @property
    def param_count(self):
        """The number of weights and biases (floats) the model holds."""
        return _lib.cnv_model_param_count(self._g)

    def save_onnx(self, path):
        """Writes the model as ONNX (atomically), as `cnnvis convert` does."""
        _check(_lib.cnv_onnx_save(self._g, os.fsencode(path)))

    @property
    def preset(self):
        return _lib.cnv_model_preset(self._g).decode()

    @property
    def input_shape(self):
        dims = (ctypes.c_int * _MAX_RANK)()
        return tuple(dims[:_lib.cnv_model_input_shape(self._g, dims)])

    def layer_shape(self, layer):
        dims = (ctypes.c_int * _MAX_RANK)()
        rank = _lib.cnv_model_layer_shape(self._g, self.layer_index(layer), dims)
        return tuple(dims[:rank])

    @property
    def layers(self):
        """[(name, op, shape at batch 1)] in the order they run."""
        return [(_lib.cnv_model_layer_name(self._g, i).decode(), _lib.cnv_model_layer_op(self._g, i).decode(),
                 self.layer_shape(i)) for i in range(_lib.cnv_model_layer_count(self._g))]

    @property
    def preset_info(self):
        """The model's preset as preset() describes it, with "detected": what it was recognized
        by (as `cnnvis info` prints it; "" for the generic preset, which nothing detects)."""
        why = ctypes.create_string_buffer(320)
        p = _lib.cnv_preset_detect_why(self._g, why, len(why))
        info = _preset_dict(p if p else _lib.cnv_preset_find(b"generic"))
        info["detected"] = why.value.decode()
        return info

    @property
    def labels(self):
        """The class names the model's preset gives it, as the CLI finds them without --labels:
        the preset's labels file beside the model or up to 3 folders up, else the names built
        into the preset, else [] (a missing file raises CnnvisError)."""
        p = _lib.cnv_preset_find(self.preset.encode())
        lb = _Labels()
        _check(_lib.cnv_labels_for_preset(p, os.fsencode(self.path), ctypes.byref(lb), None, 0))
        return _names(lb)

    def info(self):
        """Every layer as `cnnvis info --json` lists it: a dict of index, name, op, output (the
        output tensor's name), shape, params, receptive_field and stride ([height, width] in
        input pixels)."""
        n = _lib.cnv_model_layer_count(self._g)
        size, stride = (ctypes.c_int * (2 * max(n, 1)))(), (ctypes.c_int * (2 * max(n, 1)))()
        _check(_lib.cnv_model_receptive_fields(self._g, size, stride))
        return [{"index": i, "name": _lib.cnv_model_layer_name(self._g, i).decode(),
                 "op": _lib.cnv_model_layer_op(self._g, i).decode(),
                 "output": _lib.cnv_model_layer_output_name(self._g, i).decode(), "shape": list(self.layer_shape(i)),
                 "params": _lib.cnv_model_layer_params(self._g, i), "receptive_field": size[2 * i:2 * i + 2],
                 "stride": stride[2 * i:2 * i + 2]} for i in range(n)]

    def layer_index(self, layer):
        """A layer given by index, node name or output-tensor name, as its index."""
        if isinstance(layer, (int, np.integer)):
            if not 0 <= layer < _lib.cnv_model_layer_count(self._g):
                raise CnnvisError("CNV_ERR_NOT_FOUND", f"{self.path}: no layer {layer}")
            return int(layer)
        index = ctypes.c_int()
        _check(_lib.cnv_model_find_layer(self._g, str(layer).encode(), ctypes.byref(index)))
        return index.value

    def _logits(self):
        index = ctypes.c_int()
        _check(_lib.cnv_model_logits_layer(self._g, ctypes.byref(index)))
        return index.value

    def load_input(self, path):
        """An image or a preprocessed .npy as the model's input (1, C, H, W), by its preset."""
        x = np.empty(self.input_shape, np.float32)
        _check(_lib.cnv_model_load_input(self._g, os.fsencode(path), _floats(x)))
        return x

    def _batch(self, x):
        x = np.ascontiguousarray(x, np.float32)
        shape = self.input_shape
        if x.shape == shape[1:]:
            x = x[None]
        if x.shape[1:] != shape[1:]:
            raise CnnvisError("CNV_ERR_SHAPE", f"{self.path}: input {x.shape}, the model takes (N,) + {shape[1:]}")
        return x

    # ---- what the model computes ----
    def forward(self, x, layer=None):
        """The output of `layer` (default: the model's output) for a batch x (N, C, H, W)."""
        x = self._batch(x)
        index = _lib.cnv_model_output_layer(self._g) if layer is None else self.layer_index(layer)
        out = np.empty((x.shape[0],) + self.layer_shape(index)[1:], np.float32)
        _check(_lib.cnv_forward(self._g, self._be, x.shape[0], _floats(x), index, _floats(out), out.size))
        return out

    def grad(self, x, cls=None, layer=None, channel=None):
        """The gradient of logit `cls` (at the preset's logits layer), or of the mean of `channel`
        of `layer`, with respect to one input x; shaped like x."""
        x = self._batch(x)
        if x.shape[0] != 1:
            raise CnnvisError("CNV_ERR_ARG", "grad takes one input (batch 1)")
        if (cls is None) == (channel is None):
            raise CnnvisError("CNV_ERR_ARG", "give cls, or layer with channel")
        if cls is not None:
            index, kind, which = self._logits(), _OBJECTIVE_UNIT, cls
        else:
            index, kind, which = self.layer_index(layer), _OBJECTIVE_CHANNEL, channel
        g = np.empty_like(x)
        _check(_lib.cnv_input_gradient(self._g, self._be, _floats(x), index, kind, int(which), _floats(g), None))
        return g

    def classify(self, x, k=5):
        """[(class, probability)] of the k most probable classes of one input."""
        x = self._batch(x)
        cls = (ctypes.c_int * k)()
        prob = (ctypes.c_float * k)()
        _check(_lib.cnv_classify(self._g, self._be, _floats(x), k, cls, prob))
        return list(zip(cls, prob))

    def gradcam(self, x, cls, layer=None):
        """The Grad-CAM map (h, w) of class cls for one input at layer (default: the last map
        layer before the logits), unnormalized."""
        x = self._batch(x)
        index = _lib.cnv_gradcam_default_layer(self._g) if layer is None else self.layer_index(layer)
        if index < 0:
            raise CnnvisError("CNV_ERR_UNSUPPORTED", f"{self.path}: no map layer before the logits")
        shape = self.layer_shape(index)
        cam = np.empty(shape[2:] if len(shape) == 4 else (0,), np.float32)
        _check(_lib.cnv_gradcam_map(self._g, self._be, _floats(x), int(cls), index, _floats(cam)))
        return cam

    def saliency(self, x, cls, method="grad", seed=0):
        """The attribution of class cls for one input, shaped like x: method "grad", "guided"
        (guided backprop), "smoothgrad" (50 noisy copies drawn from seed) or "gradxinput"."""
        x = self._batch(x)
        a = np.empty_like(x[:1])
        _check(_lib.cnv_saliency(self._g, self._be, _floats(x), int(cls), method.encode(), seed, _floats(a)))
        return a

    def cam(self, x, cls):
        """The CAM map (h, w) of class cls for one input (Zhou et al.: models ending in
        GlobalAveragePool [+ linear]), unrectified, as `cnnvis gradcam --method cam`."""
        x = self._batch(x)
        layer = ctypes.c_int()
        _check(_lib.cnv_cam_layer(self._g, ctypes.byref(layer)))
        cam = np.empty(self.layer_shape(layer.value)[2:], np.float32)
        _check(_lib.cnv_cam_map(self._g, self._be, _floats(x), int(cls), _floats(cam)))
        return cam

    def deconv(self, x, layer, channel, all_positions=False, unpool="switches"):
        """The deconvnet projection (Zeiler & Fergus) of `channel` of `layer` for one input,
        shaped like x in the model's input space, and the channel's peak activation: only the
        strongest activation is projected unless all_positions; unpool "switches" or "fill"."""
        if unpool not in ("switches", "fill"):
            raise CnnvisError("CNV_ERR_ARG", f"unpool: '{unpool}' is not switches or fill")
        x = self._batch(x)
        p = _DeconvnetParams(int(bool(all_positions)), int(unpool == "fill"))
        proj = np.empty_like(x[:1])
        peak = ctypes.c_float()
        _check(_lib.cnv_deconvnet(self._g, self._be, _floats(x), self.layer_index(layer), int(channel),
                                  ctypes.byref(p), _floats(proj), ctypes.byref(peak)))
        return proj, peak.value

    def strongest_channels(self, x, layer, k):
        """[(channel, peak activation)] of the k channels of `layer` with the largest maxima."""
        x = self._batch(x)
        channels, peaks = (ctypes.c_int * k)(), (ctypes.c_float * k)()
        _check(_lib.cnv_strongest_channels(self._g, self._be, _floats(x), self.layer_index(layer), k, channels,
                                           peaks))
        return list(zip(channels, peaks))

    def receptive_box(self, layer, y, x):
        """(y0, x0, y1, x1): the input pixels position (y, x) of `layer` sees, cut to the input."""
        box = _Box()
        _check(_lib.cnv_receptive_box(self._g, self.layer_index(layer), int(y), int(x), ctypes.byref(box)))
        h, w = self.input_shape[2:]
        box = _lib.cnv_box_clamp(box, h, w)
        return box.y0, box.x0, box.y1, box.x1

    def topk(self, paths, layer, channels=None, k=9, batch=16):
        """The k files of `paths` (images or preprocessed .npy inputs) that most activate each
        channel of `layer` (default: all), the activation being the channel's maximum over
        positions, as `cnnvis topk` ranks a folder: {channel: [(path, score, (y, x), box)]},
        best first, box the input pixels the maximum's position sees; and the list of files
        that could not be read, as (path, message)."""
        index = self.layer_index(layer)
        if channels is None:
            channels = range(self.layer_shape(index)[1])
        channels = [int(c) for c in channels]
        names = [os.fsencode(p) for p in paths]
        c_paths = (ctypes.c_char_p * max(len(names), 1))(*names)
        c_channels = (ctypes.c_int * max(len(channels), 1))(*channels)
        best = (_TopkEntry * max(len(channels) * k, 1))()
        count = (ctypes.c_int * max(len(channels), 1))()
        ranked = ctypes.c_int()
        skipped = []
        on_skip = _SkipFn(lambda _user, path, message: skipped.append((os.fsdecode(path), message.decode())))
        _check(_lib.cnv_topk_files(self._g, self._be, None, c_paths, len(names), index, c_channels, len(channels),
                                   int(k), int(batch), on_skip, None, best, count, ctypes.byref(ranked)))
        result = {}
        for i, c in enumerate(channels):
            entries = best[i * k:i * k + count[i]]
            result[c] = [(paths[e.item], e.score, (e.y, e.x), self.receptive_box(index, e.y, e.x)) for e in entries]
        return result, skipped

    # ---- feature visualization ----
    def _params(self, recipe, steps, size, seed, relu_slope, progress):
        p = _RenderParams()
        _lib.cnv_render_params_default(ctypes.byref(p))
        if recipe is not None:
            p.recipe = recipe.encode()
        p.steps, p.size, p.seed = steps, size, seed
        if relu_slope is not None:
            p.relu_slope = relu_slope
        if progress is not None:
            p.progress = _PROGRESS(lambda user, step, steps, value: progress(step, steps, value))
        return p

    def _render(self, call, p):
        c, h, w = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        _check(_lib.cnv_render_shape(self._g, ctypes.byref(p), ctypes.byref(c), ctypes.byref(h), ctypes.byref(w)))
        image = np.empty((c.value, h.value, w.value), np.float32)
        _check(call(ctypes.byref(p), _floats(image)))
        return image

    def render_filter(self, layer, channel, seed=1, steps=0, size=0, recipe=None, relu_slope=None, progress=None):
        """An image (C, H, W) in 0..1 that maximizes the mean of `channel` of `layer`, as
        `cnnvis filter` with the same seed, steps, size, recipe and relu slope. steps 0: the
        recipe's. progress(step, steps, objective) is called after every step."""
        p = self._params(recipe, steps, size, seed, relu_slope, progress)
        index = self.layer_index(layer)
        return self._render(lambda pp, img: _lib.cnv_render_filter(self._g, self._be, index, channel, pp, img), p)

    def render_class(self, cls, seed=1, steps=0, size=0, recipe=None, relu_slope=None, progress=None):
        """An image (C, H, W) in 0..1 that maximizes logit `cls`, as `cnnvis class`."""
        p = self._params(recipe, steps, size, seed, relu_slope, progress)
        return self._render(lambda pp, img: _lib.cnv_render_class(self._g, self._be, int(cls), pp, img), p)


    def visualize(self, layer, items, progress=None, **knobs):
        """Images (N, C, H, W) in 0..1 for the items at `layer`, rendered a batch at a time as
        `cnnvis filter`/`class`/`neuron` render them with the same knobs, and the run's record (a
        dict: what the CLI writes as OUT.json). items: ("channel", c), ("unit", k) for a class at
        the logits (or a Softmax) layer, ("neuron", c, y, x), an int for a channel; a caption may
        follow. knobs: any of vis_knobs() by name, - written _ (recipe="plain", steps=12,
        seed=5, batch=4, relu_slope=0.05, image_prior="DIR", ...). progress(first, step, steps,
        values) is called after every step."""
        c_items = (_VisItem * max(len(items), 1))()
        for i, it in enumerate(items):
            it = ("channel", it) if isinstance(it, int) else tuple(it)
            kind = it[0]
            if kind not in _VIS_OBJECTIVES:
                raise CnnvisError("CNV_ERR_ARG", f"item {i}: no objective '{kind}' (unit, channel, neuron)")
            pos = it[2:4] if kind == "neuron" else (0, 0)
            caption = it[4 if kind == "neuron" else 2] if len(it) > (4 if kind == "neuron" else 2) else str(it[1])
            c_items[i] = _VisItem(_VIS_OBJECTIVES[kind], int(it[1]), int(pos[0]), int(pos[1]), caption.encode()[:47])
        settings, run = self._vis_settings(knobs), _P()
        try:
            cb = _VisCallbacks()
            if progress is not None:
                cb.progress = _VIS_PROGRESS(lambda user, p: progress(p.contents.first, p.contents.step,
                                                                     p.contents.steps,
                                                                     p.contents.values[:p.contents.count]))
            _check(_lib.cnv_vis_run_create(self._g, None, self._be, settings, c_items, len(items), ctypes.byref(cb),
                                           ctypes.byref(run)))
            c, h, w = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
            _lib.cnv_vis_run_image_size(run, ctypes.byref(c), ctypes.byref(h), ctypes.byref(w))
            images = np.empty((len(items), c.value, h.value, w.value), np.float32)
            index = self.layer_index(layer)
            _check(_lib.cnv_vis_run_render(run, index, _floats(images)))
            return images, self._vis_record(run, b"visualize", _lib.cnv_model_layer_name(self._g, index))
        finally:
            _lib.cnv_vis_run_free(run)
            _lib.cnv_vis_settings_free(settings)

    def _vis_settings(self, knobs, recipe=None):
        """cnv_vis_settings from keyword knobs, prepared for the model (the caller frees them)."""
        settings = _P()
        _check(_lib.cnv_vis_settings_create(recipe, ctypes.byref(settings)))
        try:
            if "recipe" in knobs:  # the recipe first: it sets the other knobs' defaults
                _check(_lib.cnv_vis_settings_set(settings, b"recipe", str(knobs["recipe"]).encode()))
            for name, value in knobs.items():
                if name != "recipe":
                    _check(_lib.cnv_vis_settings_set(settings, name.replace("_", "-").encode(), str(value).encode()))
            _check(_lib.cnv_vis_settings_prepare(settings, self._g))
        except CnnvisError:
            _lib.cnv_vis_settings_free(settings)
            raise
        return settings

    def _vis_record(self, run, verb, layer):
        text = ctypes.c_void_p()
        _check(_lib.cnv_vis_run_record(run, verb, os.fsencode(self.path), layer, None, ctypes.byref(text)))
        try:
            return json.loads(ctypes.string_at(text.value).decode())
        finally:
            _lib.cnv_free(text)

    def style(self, content, style, style_layers, content_layer, style_weight=10.0, content_weight=1.0,
              from_noise=False, **knobs):
        """Style transfer (Gatys et al.): a picture (C, H, W) like content (C, H, W) in 0..1 whose
        Gram matrices at style_layers match those of style (C, h, w), and the losses {style_start,
        style, content_start, content}; as `cnnvis style` with the same knobs (recipe "style" by
        default) when the pictures are sized as it sizes them (short side --size or the input's,
        with resample)."""
        content, style = self._picture(content), self._picture(style)
        names = style_layers if isinstance(style_layers, (list, tuple)) else [style_layers]
        index = (ctypes.c_int * len(names))(*[self.layer_index(n) for n in names])
        st = _VisStyle(index, len(names), self.layer_index(content_layer), style_weight, content_weight,
                       int(bool(from_noise)))
        item = _VisItem(0, 0, 0, 0, b"style")
        settings, run = self._vis_settings(knobs, b"style"), _P()
        try:
            _check(_lib.cnv_vis_run_create(self._g, None, self._be, settings, ctypes.byref(item), 1, None,
                                           ctypes.byref(run)))
            out = np.empty_like(content)
            losses = (ctypes.c_double * 4)()
            _check(_lib.cnv_vis_run_style(run, 0, ctypes.byref(st), _floats(content), content.shape[1],
                                          content.shape[2], _floats(style), style.shape[1], style.shape[2],
                                          _floats(out), losses))
            return out, dict(zip(("style_start", "style", "content_start", "content"), losses))
        finally:
            _lib.cnv_vis_run_free(run)
            _lib.cnv_vis_settings_free(settings)

    # ---- synthesis from a picture ----
    def load_picture(self, path, size=None):
        """A picture file (or a preprocessed .npy) as (C, H, W) in 0..1 with the model's channel
        count, resized to size x size (None: its own size): what dream and invert start from."""
        h, w = ctypes.c_int(), ctypes.c_int()
        if size is None:
            _check(_lib.cnv_model_picture_size(self._g, os.fsencode(path), ctypes.byref(h), ctypes.byref(w)))
        else:
            h.value = w.value = size
        image = np.empty((self.input_shape[1], h.value, w.value), np.float32)
        _check(_lib.cnv_model_load_picture(self._g, os.fsencode(path), h.value, w.value, _floats(image)))
        return image

    def _synth_params(self, recipe, steps, seed, progress):
        p = _RenderParams()
        p.recipe = recipe.encode() if recipe is not None else None  # None: the verb's recipe
        p.steps, p.seed = steps, seed
        if progress is not None:
            p.progress = _PROGRESS(lambda user, step, steps, value: progress(step, steps, value))
        return p

    def _picture(self, image):
        image = np.ascontiguousarray(image, np.float32)
        if image.ndim != 3 or image.shape[0] != self.input_shape[1]:
            raise CnnvisError("CNV_ERR_SHAPE", f"{self.path}: a picture is (C, H, W) with C = {self.input_shape[1]}, "
                              f"not {image.shape}")
        return image

    def dream(self, image, layers, channel=None, seed=1, steps=0, recipe=None, progress=None):
        """DeepDream of a picture (C, H, W) in 0..1: the energy of `layers` (one or a list), or the
        mean of `channel` of each, amplified over octaves; as `cnnvis dream` with the same seed,
        steps and recipe (None: "dream") at the picture's size."""
        image = self._picture(image)
        names = layers if isinstance(layers, (list, tuple)) else [layers]
        index = (ctypes.c_int * len(names))(*[self.layer_index(n) for n in names])
        out = np.empty_like(image)
        p = self._synth_params(recipe, steps, seed, progress)
        _check(_lib.cnv_deepdream(self._g, self._be, _floats(image), image.shape[1], image.shape[2], index,
                                  len(names), -1 if channel is None else int(channel), ctypes.byref(p),
                                  _floats(out)))
        return out

    def invert(self, image, layer, seed=1, steps=0, recipe=None, progress=None):
        """A picture (C, H, W) whose activations at `layer` match those of image, from noise, and
        its final relative error; as `cnnvis invert --layer` with the same seed, steps and recipe
        (None: "invert") at the picture's size."""
        image = self._picture(image)
        out = np.empty_like(image)
        err = ctypes.c_double()
        p = self._synth_params(recipe, steps, seed, progress)
        _check(_lib.cnv_invert(self._g, self._be, _floats(image), image.shape[1], image.shape[2],
                               self.layer_index(layer), ctypes.byref(p), _floats(out), ctypes.byref(err)))
        return out, err.value


def resample(image, height, width, zoom=1.0):
    """Planes (C, H, W) resampled bilinearly to (C, height, width), showing the picture zoomed by
    `zoom` about its centre (1: a plain resize): how `cnnvis style` sizes its pictures."""
    image = np.ascontiguousarray(image, np.float32)
    out = np.empty((image.shape[0], height, width), np.float32)
    _lib.cnv_resample_planes(_floats(image), image.shape[0], image.shape[1], image.shape[2], _floats(out), height,
                             width, zoom)
    return out


def recipes():
    """The recipes' names (the knob "recipe" of Model.visualize and style)."""
    buf = ctypes.create_string_buffer(256)
    _lib.cnv_vis_recipe_list(buf, len(buf))
    return buf.value.decode().split(", ")


def vis_knobs():
    """The visualization knobs [(name, argument, help, default)], as `cnnvis filter --help` lists
    them: what Model.visualize takes as keyword arguments (with _ for -)."""
    out = []
    for i in range(_lib.cnv_vis_knob_count()):
        k = _lib.cnv_vis_knob_at(i).contents
        out.append((k.name.decode(), k.arg.decode(), k.help.decode(), k.default.decode()))
    return out


def load(path, device=None, size=None):
    """Loads an ONNX or Keras (.h5) model onto a device, at an input size when given (see Model)."""
    return Model(path, device, size)


def architectures():
    """The named architectures `build` makes: {name: one-line description}."""
    names = ctypes.create_string_buffer(1024)
    _lib.cnv_arch_list(names, len(names))
    return {n: _lib.cnv_arch_describe(n.encode()).decode() for n in names.value.decode().split(", ") if n}


def build(arch, seed=1, device=None):
    """A new model of a named architecture (see architectures()) with He-uniform weights drawn
    from seed, on a device (see Model): the same weights as `cnnvis convert --arch` with --seed."""
    m = Model.__new__(Model)
    m._g = _P()
    m._be = _P()
    _check(_lib.cnv_arch_build(str(arch).encode(), seed, ctypes.byref(m._g)))
    m._open_backend(device)
    m.path = str(arch)
    return m
