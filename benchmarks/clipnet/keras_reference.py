"""Build the published CLIPNET network in Keras, save it as h5, and record its outputs.

Run with a Python that has TensorFlow (kept out of varinterp's own environment), e.g.

    python -m venv tfenv && tfenv/bin/pip install tensorflow-cpu tf_keras
    tfenv/bin/python benchmarks/clipnet/keras_reference.py --out /tmp/clipnet_ref

The network is written from the layer list of the CLIPNET paper's ``rnn_v10`` model.
All weights, including the BatchNorm moving statistics, are set to seeded random values
so that a wrong layout or a swapped layer changes the outputs. With ``--small``, a reduced
model (200 bp in, 2 x 50 out) is written instead: the test fixture of
``tests/models/clipnet/test_keras.py``. Writes ``fold_1.h5``
(``model.save``) and ``reference.npz`` with ``x`` (N, 1000, 4) two-hot input and the
Keras inference-mode outputs ``profile`` (N, 1000) and ``quantity`` (N, 1).
Compare with ``benchmarks/clipnet/compare_keras_import.py``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

PUBLISHED = {"input_length": 1000, "profile": 1000, "f1": 64, "f2": 128, "nf": 64, "blocks": 9}
SMALL = {"input_length": 200, "profile": 100, "f1": 8, "f2": 8, "nf": 8, "blocks": 4}


def build(keras, input_length, profile, f1, f2, nf, blocks):
    layers = keras.layers
    x_in = layers.Input(shape=(input_length, 4))
    y = layers.BatchNormalization()(x_in)
    y = layers.Conv1D(f1, 8)(y)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("elu")(y)
    y = layers.MaxPooling1D(2)(y)
    y = layers.Conv1D(f2, 4)(y)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(y)
    y = layers.MaxPooling1D(2)(y)
    y = layers.Conv1D(nf, 1)(y)
    for i in range(blocks):
        r = layers.Conv1D(nf, 3, padding="same", dilation_rate=2**i)(y)
        r = layers.BatchNormalization()(r)
        r = layers.Activation("relu")(r)
        y = layers.Add()([y, r])
        y = layers.BatchNormalization()(y)
        y = layers.Activation("relu")(y)
    y = layers.MaxPooling1D(2)(y)
    p = layers.Flatten()(y)
    p = layers.Dense(profile)(p)
    p = layers.BatchNormalization()(p)
    p = layers.Activation("relu")(p)
    p = layers.Dropout(0.3, name="shape")(p)
    s = layers.GlobalAvgPool1D()(y)
    s = layers.Dense(1)(s)
    s = layers.BatchNormalization()(s)
    s = layers.Activation("relu")(s)
    s = layers.Dropout(0.3, name="sum")(s)
    return keras.models.Model(x_in, [p, s])


def randomize(model, rng):
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, var = weights
            if gamma.shape == (1,):  # quantity head: keep the final ReLU mostly active
                new = [np.ones(1), np.ones(1), rng.normal(0.0, 0.2, 1), np.ones(1)]
                layer.set_weights([w.astype(np.float32) for w in new])
                continue
            new = [
                rng.uniform(0.5, 1.5, gamma.shape),
                rng.normal(0.0, 0.2, beta.shape),
                rng.normal(0.0, 0.5, mean.shape),
                rng.uniform(0.5, 2.0, var.shape),
            ]
        else:
            fan_in = int(np.prod(weights[0].shape[:-1]))
            new = [
                rng.normal(0.0, 1.0 / np.sqrt(fan_in), weights[0].shape),
                rng.normal(0.0, 0.1, weights[1].shape),
            ]
        layer.set_weights([w.astype(np.float32) for w in new])


def center_quantity_bn(keras, model, x):
    """Set the quantity head's BN statistics so that about half the outputs are > 0."""
    dense = next(la for la in model.layers if type(la).__name__ == "Dense" and la.units == 1)
    bn = next(
        la
        for la in model.layers
        if type(la).__name__ == "BatchNormalization" and la.get_weights()[0].shape == (1,)
    )
    pre = keras.models.Model(model.inputs, dense.output).predict(x, verbose=0)
    gamma, beta, _, _ = bn.get_weights()
    stats = [np.median(pre, keepdims=True)[0], np.var(pre, keepdims=True)[0] + 1e-6]
    bn.set_weights([gamma, beta * 0, *(s.astype(np.float32) for s in stats)])


def two_hot(rng, n, length):
    a1 = rng.integers(0, 4, (n, length))
    a2 = np.where(rng.random((n, length)) < 0.1, rng.integers(0, 4, (n, length)), a1)
    x = np.zeros((n, length, 4), dtype=np.float32)
    idx = np.arange(length)
    for i in range(n):
        x[i, idx, a1[i]] += 1
        x[i, idx, a2[i]] += 1
    x[:, :5] = 0  # a few N positions
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=47)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--small", action="store_true", help="a small model (test fixture)")
    parser.add_argument("--keras3", action="store_true", help="use Keras 3 instead of tf_keras")
    args = parser.parse_args()
    if args.keras3:
        import keras
    else:
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        import tf_keras as keras
    rng = np.random.default_rng(args.seed)
    keras.utils.set_random_seed(args.seed)
    geometry = SMALL if args.small else PUBLISHED
    model = build(keras, **geometry)
    randomize(model, rng)
    x = two_hot(rng, args.n, geometry["input_length"])
    center_quantity_bn(keras, model, x)
    profile, quantity = model.predict(x, verbose=0)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / "fold_1.h5")
    np.savez(
        args.out / "reference.npz",
        x=x,
        profile=profile,
        quantity=quantity,
        keras_version=np.array(keras.__version__),
        params=np.array(model.count_params()),
    )
    print(f"keras {keras.__version__}: {model.count_params()} params; wrote {args.out}")


if __name__ == "__main__":
    main()
