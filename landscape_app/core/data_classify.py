"""Classification datasets: TensorFlow Playground's four 2-D sets and scikit-learn's bundled 8x8 digits.

Each function takes the checked knobs (with ``seed``) and returns float64 ``(x, y)`` arrays; ``data.make_dataset``
turns them into a dataset. The 2-D sets have labels 0 and 1 (Playground's -1 is 0 here), so BCE-with-logits on a
one-output network fits them; digits have the class 0..9.

``moons`` and ``circles`` are scikit-learn's ``make_moons`` and ``make_circles``. ``xor`` and ``spirals`` follow
Playground's ``classifyXORData`` and ``classifySpiralData`` (tensorflow/playground ``src/dataset.ts``), drawn
with numpy's seeded generator instead of ``Math.random`` and shuffled afterwards, as Playground shuffles its data,
so a mini-batch mixes both classes.

scikit-learn is imported on first use: it costs about a second, which the app's start should not pay.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np

DIGITS_COUNT = 1797            # images in scikit-learn's bundled copy of the UCI digits (no download)
DIGITS_IMAGE_SHAPE = (1, 8, 8)  # (channels, height, width): a CNN's input, and how to draw one sample
_DIGITS_MAX_PIXEL = 16.0       # the digits' pixels are counts 0..16 of a 4x4 block


def moons(k: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_moons
    return make_moons(k["n_samples"], noise=k["noise"], random_state=k["seed"])


def circles(k: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_circles
    # The outer circle (radius 1) is class 0, the inner (radius ``factor``) class 1, as in Playground.
    return make_circles(k["n_samples"], noise=k["noise"], factor=k["factor"], random_state=k["seed"])


def xor(k: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-5, 5]^2 pushed 0.3 away from the axes; class 1 where x1*x2 >= 0. Noise moves the point
    the label is read at (by up to 5*noise in each coordinate), not the point drawn, as Playground does."""
    rng = np.random.default_rng(k["seed"])
    n = k["n_samples"]
    padding = 0.3
    xy = rng.uniform(-5.0, 5.0, (n, 2))
    xy = np.where(xy > 0, xy + padding, xy - padding)
    shifted = xy + rng.uniform(-5.0, 5.0, (n, 2)) * k["noise"]
    y = (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.float64)
    return _shuffled(rng, xy, y)


def spirals(k: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Two arms of 1.75 turns out to radius 5, the second turned by pi; noise adds uniform(-noise, noise) to each
    coordinate. Class 1 is Playground's positive arm (the one through angle 0)."""
    rng = np.random.default_rng(k["seed"])
    n = k["n_samples"]
    xs, ys = [], []
    for label, count, turn in ((1.0, n - n // 2, 0.0), (0.0, n // 2, math.pi)):
        i = np.arange(count) / count
        r = 5.0 * i
        t = 1.75 * 2.0 * math.pi * i + turn
        xy = np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.uniform(-1.0, 1.0, (count, 2)) * k["noise"]
        xs.append(xy)
        ys.append(np.full(count, label))
    return _shuffled(rng, np.concatenate(xs), np.concatenate(ys))


def digits(k: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images in scikit-learn's order, or a seeded random subset of ``n_samples`` of them (kept in that
    order); pixels scaled to [0, 1]. The seed chooses the subset, so with all images it changes nothing."""
    from sklearn.datasets import load_digits
    bunch = load_digits()
    x, y = bunch.data / _DIGITS_MAX_PIXEL, bunch.target.astype(np.float64)
    n = k["n_samples"]
    if n < len(y):
        keep = np.sort(np.random.default_rng(k["seed"]).choice(len(y), size=n, replace=False))
        x, y = x[keep], y[keep]
    return x, y


def _shuffled(rng: np.random.Generator, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return x[order], y[order]


MAKERS: dict[str, Callable[[Mapping[str, Any]], tuple[np.ndarray, np.ndarray]]] = {
    "moons": moons, "circles": circles, "xor": xor, "spirals": spirals, "digits": digits,
}
