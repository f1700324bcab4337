#!/usr/bin/python3
"""Writes the Keras-layout test fixtures.

tiny_resnet_layout.h5: a small weight file laid out exactly like Keras's ResNet50 weight files.

Keras (model.save_weights / the keras.applications .h5 downloads) stores:
  root attribute  layer_names   = [b'input_1', b'conv1_pad', b'conv1_conv', ...]  (every layer, in order)
  per layer group attribute weight_names = [b'conv1_conv/kernel:0', b'conv1_conv/bias:0']
                  (an empty float64 array for layers without weights)
  datasets at     <layer>/<weight_name>, i.e. conv1_conv/conv1_conv/kernel:0
Conv kernels are HWIO, Dense kernels are [in, out].

Values are deterministic so the Java test can check them: element i of weight w of layer l is
  l + w / 10 + i / 1000  (float32), with l and w counted from 0 over layers/weights that have weights.

keras_v1_conv_block.h5: the weights of the oracle case keras_v1_conv_block (a Keras ResNet50 v1 conv block with
filters 16/16/64, stride 2) under the names Keras gives the first block of ResNet50's conv2 stage
(conv2_block1_1_conv ... conv2_block1_0_bn), kernels converted OIHW -> HWIO as Keras stores them. The Java test
loads it through the Keras name map and must reproduce the case's y_eval. It needs the shared oracle folder:
KILN_SHARED_DIR (default: ../shared beside the repository).

Run with Debian's python3 and python3-h5py:  /usr/bin/python3 make_fixture.py
"""
import json
import os
import struct

import h5py
import numpy as np

LAYERS = [
    ("input_1", []),
    ("conv1_pad", []),
    ("conv1_conv", [("kernel:0", (3, 3, 3, 4)), ("bias:0", (4,))]),
    ("conv1_bn", [("gamma:0", (4,)), ("beta:0", (4,)), ("moving_mean:0", (4,)), ("moving_variance:0", (4,))]),
    ("conv1_relu", []),
    ("conv2_conv", [("kernel:0", (1, 1, 4, 2)), ("bias:0", (2,))]),
    ("avg_pool", []),
    ("predictions", [("kernel:0", (2, 5)), ("bias:0", (5,))]),
]


def values(layer_index, weight_index, shape):
    n = int(np.prod(shape))
    v = layer_index + weight_index / 10.0 + np.arange(n) / 1000.0
    return v.astype(np.float32).reshape(shape)


HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    write_tiny_layout()
    write_conv_block()


def write_tiny_layout():
    out = os.path.join(HERE, "tiny_resnet_layout.h5")
    with h5py.File(out, "w", track_order=False) as f:
        f.attrs["layer_names"] = np.array([name.encode() for name, _ in LAYERS])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        layer_index = 0
        for name, weights in LAYERS:
            g = f.create_group(name)
            if not weights:
                g.attrs["weight_names"] = np.array([])  # what Keras writes for weightless layers
                continue
            g.attrs["weight_names"] = np.array([f"{name}/{w}".encode() for w, _ in weights])
            for weight_index, (w, shape) in enumerate(weights):
                g.create_dataset(f"{name}/{w}", data=values(layer_index, weight_index, shape))
            layer_index += 1
    print("wrote", out, os.path.getsize(out), "bytes")


def read_safetensors(path):
    """name -> float32 array, without the safetensors package (header length, JSON header, raw data)."""
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", (name, entry["dtype"])
        begin, end = entry["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + begin:8 + n + end], dtype="<f4").reshape(entry["shape"])
    return out


# The oracle's conv{0..3}/bn{0..3} in the order Keras's save_weights lists ResNet50's first block (the shortcut
# conv0/bn0 is created first but listed after the main path's second unit).
BLOCK = "conv2_block1"
BLOCK_LAYERS = ["1_conv", "1_bn", "1_relu", "2_conv", "2_bn", "2_relu", "0_conv", "3_conv", "0_bn", "3_bn", "add", "out"]
BN_NAMES = [("gamma:0", "weight"), ("beta:0", "bias"), ("moving_mean:0", "running_mean"),
            ("moving_variance:0", "running_var")]


def write_conv_block():
    repo = os.path.normpath(os.path.join(HERE, "../../../../.."))
    shared = os.environ.get("KILN_SHARED_DIR", os.path.join(repo, "..", "shared"))
    case = read_safetensors(os.path.join(shared, "oracle", "cases", "keras_v1_conv_block.safetensors"))
    out = os.path.join(HERE, "keras_v1_conv_block.h5")
    layer_names = ["input_1"] + [f"{BLOCK}_{suffix}" for suffix in BLOCK_LAYERS]
    with h5py.File(out, "w") as f:
        f.attrs["layer_names"] = np.array([name.encode() for name in layer_names])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.11.0"
        for name in layer_names:
            g = f.create_group(name)
            kind = name.rsplit("_", 1)[-1]
            unit = name[len(BLOCK) + 1:].split("_")[0]
            if kind == "conv":
                weights = [("kernel:0", case[f"param.conv{unit}.weight"].transpose(2, 3, 1, 0)),  # OIHW -> HWIO
                           ("bias:0", case[f"param.conv{unit}.bias"])]
            elif kind == "bn":
                weights = [(w, case[f"param.bn{unit}.{torch_name}"]) for w, torch_name in BN_NAMES]
            else:
                weights = []
            g.attrs["weight_names"] = np.array([f"{name}/{w}".encode() for w, _ in weights]) if weights else np.array([])
            for w, value in weights:
                g.create_dataset(f"{name}/{w}", data=np.ascontiguousarray(value, dtype=np.float32))
    print("wrote", out, os.path.getsize(out), "bytes")


if __name__ == "__main__":
    main()
