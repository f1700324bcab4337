#!/usr/bin/python3
"""Writes tiny_resnet_layout.h5: a small weight file laid out exactly like Keras's ResNet50 weight files.

Keras (model.save_weights / the keras.applications .h5 downloads) stores:
  root attribute  layer_names   = [b'input_1', b'conv1_pad', b'conv1_conv', ...]  (every layer, in order)
  per layer group attribute weight_names = [b'conv1_conv/kernel:0', b'conv1_conv/bias:0']
                  (an empty float64 array for layers without weights)
  datasets at     <layer>/<weight_name>, i.e. conv1_conv/conv1_conv/kernel:0
Conv kernels are HWIO, Dense kernels are [in, out].

Values are deterministic so the Java test can check them: element i of weight w of layer l is
  l + w / 10 + i / 1000  (float32), with l and w counted from 0 over layers/weights that have weights.

Run with Debian's python3 and python3-h5py:  /usr/bin/python3 make_fixture.py
"""
import os

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


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_resnet_layout.h5")
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


if __name__ == "__main__":
    main()
