"""What a classifier network predicts at given parameters, as plain values the data views draw.

Two pictures, as TensorFlow Playground and the usual digit demos show them:

- ``DecisionMap``: for two input features, the predicted probability (and class) on a grid over the data's
  bounding box, with the points, their labels and the accuracy;
- ``DigitPredictions``: for image data, a fixed sample of images with their predicted class and confidence, and
  the confusion matrix and accuracy over all the data.

Both are recomputed for every drawn frame while a network trains (~10-30 a second, off the GUI thread), so the
module runs in float32, in one batched call per chunk: a picture needs no float64 (an MLP 2-32-32-1 on a 100 x 100
grid takes about a millisecond; benchmarks/bench_predictions.py measures it).

The closed-form models (linear, logistic, plane) keep their own data views; ``prediction_kind`` says which
experiments these pictures are for.
"""
from __future__ import annotations

import copy
import threading
import weakref
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from .errors import ConfigError
from .module_points import split_params
from .surface_parallel import serial_torch

DECISION_RESOLUTION = 100     # grid points along the longer side of the data's box
DECISION_PAD = 0.08           # the box's margin, a fraction of its larger span on every side
SAMPLE_IMAGES = 24            # images in a DigitPredictions sample (a 4 x 6 grid)
CHUNK_ROWS = 16384            # rows per forward call: bounds a large user module's temporaries

_CACHE_LOCK = threading.Lock()
_MODULE_LOCKS: "weakref.WeakKeyDictionary[nn.Module, threading.Lock]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True, eq=False)
class DecisionMap:
    """A 2-D classifier's predictions over the plane of its two inputs, and on its data.

    ``prob`` is the probability of class 1 for two classes (Playground's picture: the 0.5 contour is the decision
    boundary); for more classes it is the winning class's probability. For a network regressing 0/1 labels
    (MSE, L1, Huber) it is the output clipped to [0, 1], thresholded at 0.5 like a probability.
    """

    x1: np.ndarray            # float64 (nx,): grid along the first input (image columns)
    x2: np.ndarray            # float64 (ny,): grid along the second input (image rows)
    prob: np.ndarray          # float32 (ny, nx)
    classes: np.ndarray       # int16 (ny, nx): the predicted class at each grid point
    margin: np.ndarray        # float32 (ny, nx): how sure: the winner's probability less the runner-up's (0: a tie)
    n_classes: int
    points: np.ndarray        # float64 (n, 2): the data
    labels: np.ndarray        # int64 (n,)
    predicted: np.ndarray     # int64 (n,): the predicted class of each sample
    accuracy: float           # the fraction of samples predicted right
    run_id: int | None = None
    iteration: int | None = None

    @property
    def binary(self) -> bool:
        return self.n_classes == 2


@dataclass(frozen=True, eq=False)
class DigitPredictions:
    """An image classifier's predictions: a fixed sample of images, and the confusion matrix over all the data."""

    images: np.ndarray        # float32 (m, H, W): the sampled images (channels averaged), in the data's units
    indices: np.ndarray       # int64 (m,): which samples they are
    labels: np.ndarray        # int64 (m,)
    predicted: np.ndarray     # int64 (m,)
    confidence: np.ndarray    # float32 (m,): the predicted class's probability
    confusion: np.ndarray     # int64 (C, C): row = true class, column = predicted class, over all samples
    accuracy: float           # over all samples
    run_id: int | None = None
    iteration: int | None = None

    @property
    def n_classes(self) -> int:
        return int(self.confusion.shape[0])

    @property
    def correct(self) -> np.ndarray:
        """bool (m,): which sampled images are predicted right."""
        return self.predicted == self.labels


# -- which picture -----------------------------------------------------------------------------------------------
def prediction_kind(exp) -> str | None:
    """"decision" (a network on two features with class labels), "images" (a network on image data with class
    labels), or None: the closed-form models and regression data keep today's data view."""
    if not exp.is_module:
        return None
    cache = _cache(exp)
    if "kind" not in cache:
        data = exp.data
        kind = None
        if _n_classes(exp) is not None:
            if data.image_shape is not None:
                kind = "images"
            elif data.n_features == 2:
                kind = "decision"
        cache["kind"] = kind
    return cache["kind"]


def predictions(exp, params, buffers=None, run_id: int | None = None, iteration: int | None = None):
    """The picture ``prediction_kind`` names, at flat parameters ``params`` (k,): a DecisionMap, a
    DigitPredictions, or None."""
    kind = prediction_kind(exp)
    if kind == "decision":
        return decision_map(exp, params, buffers, run_id=run_id, iteration=iteration)
    if kind == "images":
        return digit_predictions(exp, params, buffers, run_id=run_id, iteration=iteration)
    return None


# -- the two pictures --------------------------------------------------------------------------------------------
def decision_map(exp, params, buffers=None, resolution: int = DECISION_RESOLUTION, run_id: int | None = None,
                 iteration: int | None = None) -> DecisionMap:
    """The network's predictions on a grid over the data's box (``resolution`` points along its longer side,
    square cells) and on every sample, at flat parameters ``params`` and BatchNorm ``buffers``."""
    if prediction_kind(exp) != "decision":
        raise ConfigError("model", "a decision map needs a network classifying data of two input features")
    x1, x2, grid = _grid(exp, resolution)
    points, labels = _points(exp)
    n_classes = _n_classes(exp)
    with serial_torch():     # small batches: torch's thread barrier costs more than it gives (surface_parallel)
        out = _outputs(exp, params, buffers, torch.cat([grid, _cache(exp)["points32"]]))
        prob, classes, margin = _probabilities(out, exp.criterion)
    on_grid, on_data = slice(0, len(grid)), slice(len(grid), None)
    predicted = classes[on_data].astype(np.int64)
    shape = (len(x2), len(x1))
    return DecisionMap(x1=x1, x2=x2, prob=prob[on_grid].reshape(shape), classes=classes[on_grid].reshape(shape),
                       margin=margin[on_grid].reshape(shape), n_classes=n_classes, points=points, labels=labels,
                       predicted=predicted, accuracy=float(np.mean(predicted == labels)), run_id=run_id,
                       iteration=iteration)


def digit_predictions(exp, params, buffers=None, count: int = SAMPLE_IMAGES, run_id: int | None = None,
                      iteration: int | None = None) -> DigitPredictions:
    """The network's predictions on all the image data at flat parameters ``params``: ``count`` sampled images
    (``sample_indices``) and the confusion matrix."""
    if prediction_kind(exp) != "images":
        raise ConfigError("model", "digit predictions need a network classifying image data")
    _, labels = _points(exp)
    x = _cache(exp)["points32"]
    n_classes = _n_classes(exp)
    with serial_torch():
        out = _outputs(exp, params, buffers, x)
        confidence, predicted, _ = _probabilities(out, exp.criterion)
    if out.shape[1] == 1:      # one output: its probability is class 1's; the prediction's is the larger one
        confidence = np.where(predicted == 1, confidence, 1.0 - confidence).astype(np.float32)
    predicted = predicted.astype(np.int64)
    size = max(n_classes, out.shape[1])     # a module may offer more outputs than the data has classes
    confusion = np.bincount(labels * size + predicted, minlength=size * size).reshape(size, size)
    idx, images = _sample(exp, count)
    return DigitPredictions(images=images, indices=idx, labels=labels[idx], predicted=predicted[idx],
                            confidence=confidence[idx], confusion=confusion.astype(np.int64),
                            accuracy=float(np.mean(predicted == labels)), run_id=run_id, iteration=iteration)


def sample_indices(labels: np.ndarray, count: int, n_classes: int) -> np.ndarray:
    """``count`` sample indices taking the classes in turn (0, 1, ..., C-1, 0, 1, ...), each class's samples in the
    data's order: every digit shows, and the sample stays the same from frame to frame."""
    labels = np.asarray(labels)
    per_class = [list(np.flatnonzero(labels == c)) for c in range(n_classes)]
    out: list[int] = []
    rank = 0
    while len(out) < count and any(rank < len(p) for p in per_class):
        out.extend(p[rank] for p in per_class if rank < len(p))
        rank += 1
    return np.array(out[:count], dtype=np.int64)


# -- evaluation --------------------------------------------------------------------------------------------------
def _probabilities(out: torch.Tensor, criterion: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(prob, class, margin) per row of a classifier's output: P(class 1) for one or two outputs, else the
    winner's; the margin is the winner's probability less the runner-up's."""
    if out.shape[1] == 1:
        value = out[:, 0]
        if criterion == "bce-logits":
            prob = torch.sigmoid(value)
        else:            # a probability already (bce), or a regression onto the labels 0 and 1
            prob = value.clamp(0.0, 1.0)
        # Strictly above one half, as module_points.correct counts a logit of exactly 0 as class 0.
        margin = (2.0 * prob - 1.0).abs()
        return (prob.numpy().astype(np.float32), (prob > 0.5).numpy().astype(np.int16),
                margin.numpy().astype(np.float32))
    soft = torch.softmax(out, dim=1)
    top = soft.topk(2, dim=1)
    prob = soft[:, 1] if out.shape[1] == 2 else top.values[:, 0]
    margin = top.values[:, 0] - top.values[:, 1]
    return (prob.numpy().astype(np.float32), top.indices[:, 0].numpy().astype(np.int16),
            margin.numpy().astype(np.float32))


def _outputs(exp, params, buffers, x: torch.Tensor) -> torch.Tensor:
    """The module's float32 output (rows, outputs) on ``x`` at flat ``params``, BatchNorm in eval mode."""
    module, lock = _module32(exp)
    flat = torch.as_tensor(np.asarray(params, dtype=np.float32).reshape(-1))
    if flat.numel() != exp.param_count:
        raise ConfigError("params", f"must have {exp.param_count} values, not {flat.numel()}")
    state = {**_buffers32(module, buffers), **split_params(module, flat)}
    parts = []
    # functional_call swaps the tensors into the shared module for the call: one caller at a time.
    with lock, torch.no_grad():
        for start in range(0, len(x), CHUNK_ROWS):
            parts.append(functional_call(module, state, (x[start:start + CHUNK_ROWS],)))
    out = torch.cat(parts) if parts else torch.empty(0, 1)
    return out.reshape(len(x), -1)


def _buffers32(module: nn.Module, buffers) -> dict[str, torch.Tensor]:
    own = dict(module.named_buffers())
    out = {}
    for name, value in dict(buffers or {}).items():
        if name not in own:
            raise ConfigError("buffers", f"the model has no buffer {name!r}")
        out[name] = torch.as_tensor(np.asarray(value)).to(own[name].dtype).reshape(own[name].shape)
    return {**own, **out}


def _module32(exp) -> tuple[nn.Module, threading.Lock]:
    """The experiment's module in float32 and eval mode (dropout off, BatchNorm's running statistics), cached,
    with the lock its callers take (kept beside it, not in the Experiment, which stays copyable)."""
    cache = _cache(exp)
    with _CACHE_LOCK:
        if "module" not in cache:
            cache["module"] = copy.deepcopy(exp._fitted.template).float().eval()
        module = cache["module"]
        lock = _MODULE_LOCKS.setdefault(module, threading.Lock())
    return module, lock


def _grid(exp, resolution: int) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """The axes of the data's padded box, square cells with ``resolution`` along the longer side, and the grid's
    points as one float32 (ny * nx, 2) tensor, row by row."""
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 2 <= resolution <= 2000:
        raise ConfigError("resolution", f"must be a whole number from 2 to 2000, not {resolution!r}")
    key = ("grid", resolution)
    cache = _cache(exp)
    if key not in cache:
        points, _ = _points(exp)
        lo, hi = points.min(axis=0), points.max(axis=0)
        span = max(float(np.max(hi - lo)), 1e-9)
        lo, hi = lo - DECISION_PAD * span, hi + DECISION_PAD * span
        step = float(np.max(hi - lo)) / (resolution - 1)
        counts = [max(2, int(round((h - l) / step)) + 1) for l, h in zip(lo, hi)]
        # Centre the shorter side's grid on the box, with the same step as the longer one.
        axes = [c + (np.arange(n) - (n - 1) / 2) * step for c, n in zip((lo + hi) / 2, counts)]
        g1, g2 = np.meshgrid(axes[0], axes[1])
        grid = torch.as_tensor(np.column_stack([g1.ravel(), g2.ravel()]), dtype=torch.float32)
        cache[key] = (_frozen(axes[0]), _frozen(axes[1]), grid)
    return cache[key]


def _sample(exp, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The sampled images' indices and pixels, the same arrays every frame (a view converts them once)."""
    cache = _cache(exp)
    key = ("sample", count)
    if key not in cache:
        idx = sample_indices(_points(exp)[1], count, _n_classes(exp))
        channels, height, width = exp.data.image_shape
        images = exp.data.x[idx].reshape(len(idx), channels, height, width).mean(dim=1).numpy()
        cache[key] = (_frozen(idx), _frozen(images.astype(np.float32)))
    return cache[key]


def _points(exp) -> tuple[np.ndarray, np.ndarray]:
    cache = _cache(exp)
    if "points" not in cache:
        x, y = exp.data.numpy()
        cache["points"] = (_frozen(x), _frozen(np.rint(y).astype(np.int64)))
        cache["points32"] = exp.data.x.to(torch.float32)
    return cache["points"]


def _n_classes(exp) -> int | None:
    cache = _cache(exp)
    if "n_classes" not in cache:
        cache["n_classes"] = exp.data.n_classes
    return cache["n_classes"]


def _frozen(a: np.ndarray) -> np.ndarray:
    """Read-only: these arrays go into every frame's value, shared, so no one may change them in place."""
    a.flags.writeable = False
    return a


def _cache(exp) -> dict:
    """Per-experiment state that never changes with the parameters (an Experiment is frozen: its fields cannot
    change, so what is derived from them stays valid)."""
    with _CACHE_LOCK:
        cache = exp.__dict__.get("_predictions")
        if cache is None:
            cache = {}
            object.__setattr__(exp, "_predictions", cache)
    return cache
