"""The exact loss surface of an experiment over its (x, y) parameter grid, and the loss at any parameter point.

``loss[i, j]`` is the criterion's mean loss over the data with the x-axis parameter at ``w[j]`` and the y-axis
parameter at ``b[i]`` (rows are y, columns are x, like ``np.meshgrid(w, b)``): what torch computes in float64,
to a relative 1e-5 or better. MSE of a linear model comes from a closed form, L1 and Huber from sorted
breakpoints, everything else (sigmoids, logits) from a chunked kernel; see the ``surface_*`` modules.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import torch

from .errors import ConfigError
from .experiment import MAX_RESOLUTION, Experiment
from .models import output_is_probability
from .surface_direct import DIRECT_BLOCK, direct_sums, point_sum, settle_cells, terms
from .surface_kernel import kernel_sums
from .surface_parallel import serial_torch
from .surface_piecewise import piecewise_sums
from .surface_quadratic import mse_sums


@dataclass(frozen=True, eq=False)
class Surface:
    """A loss surface: ``loss`` (len(b), len(w)) float64 over x-axis values ``w`` and y-axis values ``b``.

    ``axes`` names the parameters along x and y, ``held`` the other parameters' values (plane model),
    ``criterion`` the loss, ``batch`` the sample indices of a mini-batch surface (None: all the data).
    """

    w: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    axes: tuple[str, str] = ("w", "b")
    held: Mapping[str, float] = field(default_factory=dict)
    criterion: str = "mse"
    batch: np.ndarray | None = None

    def __post_init__(self):
        for name in ("w", "b", "loss"):
            # a read-only view, not a copy: a 4001 x 4001 surface is 128 MB
            arr = np.asarray(getattr(self, name), dtype=np.float64).view()
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if self.loss.shape != (len(self.b), len(self.w)):
            raise ValueError(f"loss has shape {self.loss.shape}, expected (len(b), len(w)) = "
                             f"({len(self.b)}, {len(self.w)})")
        object.__setattr__(self, "axes", tuple(self.axes))
        object.__setattr__(self, "held", dict(self.held))
        if self.batch is not None:
            batch = np.array(self.batch, dtype=np.int64)
            batch.setflags(write=False)
            object.__setattr__(self, "batch", batch)

    @property
    def x(self) -> np.ndarray:
        return self.w

    @property
    def y(self) -> np.ndarray:
        return self.b

    def argmin(self) -> tuple[float, float, float]:
        """``(x, y, loss)`` at the lowest grid point."""
        i, j = np.unravel_index(int(np.nanargmin(self.loss)), self.loss.shape)
        return float(self.w[j]), float(self.b[i]), float(self.loss[i, j])


# -- the problem in axis coordinates ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Problem:
    """The data (a batch of it) and criterion, with the model output written as ``u X + v Y + c`` per sample."""

    x: torch.Tensor            # (n, f) float64
    y: torch.Tensor            # (n,) float64
    u: np.ndarray              # coefficient of the x-axis parameter, per sample
    v: np.ndarray              # coefficient of the y-axis parameter
    c: np.ndarray              # the held parameters' part of the output
    template: np.ndarray       # a full parameter vector with the held values (axis entries overwritten)
    ix: int                    # index of the x-axis parameter in the model's parameter vector
    iy: int
    criterion: str
    delta: float
    prob: bool                 # the criterion sees sigmoid(z) rather than z

    @property
    def n(self) -> int:
        return self.x.shape[0]

    def params(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """Full parameter rows for grid points with x-axis values ``X`` and y-axis values ``Y`` (same length)."""
        p = torch.from_numpy(self.template).repeat(X.shape[0], 1)
        p[:, self.ix] = X
        p[:, self.iy] = Y
        return p

    def exact(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """The summed loss at grid points (X[m], Y[m]), term by term as torch computes it."""
        return direct_sums(self.x, self.y, self.params(X, Y), self.criterion, self.delta, self.prob)


_DATA_CACHE: dict[int, tuple] = {}


def _float64_data(data, rows: bool = False):
    """The dataset as float64 tensors ``x`` (n, f) and ``y`` (n,), converted once per dataset object.

    ``rows``: also each feature as a (1, n) tensor, for ``point_sum``.
    """
    key = id(data)
    hit = _DATA_CACHE.get(key)
    if hit is None or hit[0]() is not data:
        x = data.x.detach().to(torch.float64).contiguous()
        y = data.y.detach().to(torch.float64).reshape(-1).contiguous()
        x_rows = [x[:, f].reshape(1, -1).contiguous() for f in range(x.shape[1])]
        hit = (weakref.ref(data, lambda _ref, key=key: _DATA_CACHE.pop(key, None)), x, y, x_rows)
        _DATA_CACHE[key] = hit
    return (hit[1], hit[2], hit[3]) if rows else (hit[1], hit[2])


def _batch_indices(batch, n: int) -> np.ndarray | None:
    if batch is None:
        return None
    idx = np.asarray(batch)
    if idx.ndim != 1 or idx.size == 0 or not (np.issubdtype(idx.dtype, np.integer) or idx.dtype == bool):
        raise ConfigError("batch", "must be a non-empty 1-D array of sample indices")
    if idx.dtype == bool:
        if idx.size != n:
            raise ConfigError("batch", f"a mask must have one entry per sample ({n}), not {idx.size}")
        idx = np.flatnonzero(idx)
        if idx.size == 0:
            raise ConfigError("batch", "the mask selects no sample")
    if idx.min() < 0 or idx.max() >= n:
        raise ConfigError("batch", f"indices must lie in 0..{n - 1}")
    return idx.astype(np.int64)


def _held_values(exp: Experiment, held) -> dict[str, float]:
    names = exp.param_names
    ax, ay = exp.grid.axes
    free = [p for p in names if p not in (ax, ay)]
    if not free:
        if held:
            raise ConfigError("held", f"the {exp.model!r} model has no held parameter (both are on the axes)")
        return {}
    (name,) = free
    default = exp.grid.held if exp.grid.held is not None else exp.start[names.index(name)]
    if held is None:
        value = default
    elif isinstance(held, Mapping):
        unknown = set(held) - {name}
        if unknown:
            raise ConfigError("held", f"only {name!r} is held on this slice, not {sorted(unknown)[0]!r}")
        value = held.get(name, default)
    else:
        value = held
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value):
        raise ConfigError(f"held.{name}", f"must be a finite number, not {value!r}")
    return {name: float(value)}


def _problem(exp: Experiment, held: dict[str, float], batch: np.ndarray | None) -> _Problem:
    x, y = _float64_data(exp.data)
    if batch is not None:
        sel = torch.from_numpy(batch)
        x, y = x[sel], y[sel]
    names = exp.param_names
    ax, ay = exp.grid.axes
    xn = x.numpy()
    coef = {p: (xn[:, i] if i < xn.shape[1] else np.ones(xn.shape[0])) for i, p in enumerate(names)}
    template = np.array(exp.start, dtype=np.float64)
    c = np.zeros(xn.shape[0])
    for name, value in held.items():
        template[names.index(name)] = value
        c = c + coef[name] * value
    return _Problem(x, y, coef[ax], coef[ay], c, template, names.index(ax), names.index(ay), exp.criterion,
                    float(exp.criterion_options.get("delta", 1.0)),
                    output_is_probability(exp.model, exp.criterion))


def _axis(name: str, values, default: np.ndarray) -> np.ndarray:
    if values is None:
        return default
    arr = np.asarray(values, dtype=np.float64) if not isinstance(values, torch.Tensor) \
        else values.detach().to(torch.float64).numpy()
    if arr.ndim != 1 or arr.size == 0:
        raise ConfigError(name, f"must be a non-empty 1-D array of axis values, not shape {arr.shape}")
    if arr.size > MAX_RESOLUTION:
        raise ConfigError(name, f"has {arr.size} points; at most {MAX_RESOLUTION} are supported")
    if not np.isfinite(arr).all():
        raise ConfigError(name, "must hold finite values only")
    return arr.copy()


# -- public functions -----------------------------------------------------------------------------------------

def compute_surface(exp: Experiment, w=None, b=None, *, held=None, batch=None,
                    chunk_bytes: int | None = None, engine: str = "local", **blocks) -> Surface:
    """The loss surface of ``exp`` over its grid (or explicit x-axis values ``w`` and y-axis values ``b``).

    ``held`` overrides the plane's held parameter (a number, or ``{name: value}``); ``batch`` gives sample
    indices for the surface of one mini-batch. ``chunk_bytes`` bounds the working memory of one chunk.
    ``engine="ray"`` (with ``workers``, ``address``, ``store``, ``block_rows``, ``gpus_per_task``,
    ``max_retries``, ``progress``), or ``store=`` alone: computed in blocks of rows, see
    ``distributed.compute_surface_blocks``.
    """
    if engine != "local" or blocks:
        from .distributed import BLOCK_OPTIONS, compute_surface_blocks
        unknown = sorted(set(blocks) - set(BLOCK_OPTIONS))
        if unknown:
            raise TypeError(f"compute_surface() got an unexpected keyword argument {unknown[0]!r}")
        options = {k: v for k, v in (("held", held), ("batch", batch), ("chunk_bytes", chunk_bytes))
                   if v is not None}
        return compute_surface_blocks(exp, None, w, b, engine=engine, **blocks, **options)
    gx, gy = exp.grid_axes_values()
    X, Y = _axis("w", w, gx), _axis("b", b, gy)
    held_values = _held_values(exp, held)
    idx = _batch_indices(batch, len(exp.data))
    prob = _problem(exp, held_values, idx)
    with serial_torch():
        loss = _surface_sums(prob, X, Y, chunk_bytes).numpy()
    np.divide(loss, prob.n, out=loss)
    return Surface(X, Y, loss, tuple(exp.grid.axes), held_values, exp.criterion, idx)


def _surface_sums(prob: _Problem, X: np.ndarray, Y: np.ndarray, chunk_bytes: int | None) -> torch.Tensor:
    if prob.prob or prob.criterion not in ("mse", "l1", "huber"):
        return kernel_sums(prob, X, Y, chunk_bytes)
    e = prob.c - prob.y.numpy()
    if prob.criterion == "mse":
        sums, col, row = mse_sums(prob.u, prob.v, e, X, Y)
    else:
        block = {} if chunk_bytes is None else {"block_bytes": chunk_bytes}
        sums, col, row = piecewise_sums(prob.u, prob.v, e, X, Y, prob.criterion, prob.delta, **block)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    settle_cells(sums, col, row, lambda i, j: prob.exact(Xt[j], Yt[i]))
    return sums


def loss_at(exp: Experiment, params, batch=None):
    """The exact float64 loss at one parameter point (k,) -> float, or at many (m, k) -> array (m,).

    Parameters are in model order (weights..., bias). ``batch``: sample indices (None: all the data).
    """
    p = np.asarray(params, dtype=np.float64)
    k = len(exp.param_names)
    single = p.ndim == 1
    pts = p.reshape(1, -1) if single else p
    if pts.ndim != 2 or pts.shape[1] != k:
        raise ConfigError("params", f"must have {k} values per point ({', '.join(exp.param_names)}), "
                                    f"not shape {p.shape}")
    x, y, x_rows = _float64_data(exp.data, rows=True)
    idx = _batch_indices(batch, len(exp.data))
    if idx is not None:
        sel = torch.from_numpy(idx)
        x, y = x[sel], y[sel]
        x_rows = [x[:, f].reshape(1, -1).contiguous() for f in range(x.shape[1])]
    delta = float(exp.criterion_options.get("delta", 1.0))
    prob = output_is_probability(exp.model, exp.criterion)
    if single and x.shape[0] < 32768:
        return point_sum(x_rows, y, pts[0], exp.criterion, delta, prob) / x.shape[0]
    if pts.shape[0] * x.shape[0] < 32768:          # torch runs this serially anyway
        sums = direct_sums(x, y, torch.from_numpy(pts), exp.criterion, delta, prob)
    else:
        with serial_torch():
            sums = direct_sums(x, y, torch.from_numpy(pts), exp.criterion, delta, prob)
    sums /= x.shape[0]
    return float(sums[0]) if single else sums.numpy()


def batch_losses_at(exp: Experiment, params, batches) -> np.ndarray:
    """The mean loss of each point over its own mini-batch: ``params`` (m, k), ``batches`` m index arrays.

    What a run's mini-batch loss would have been under ``exp``'s criterion (the loss view shows a run trained
    on another loss in the shown one's unit). An empty batch (a path's start point) gives NaN.
    """
    p = np.asarray(params, dtype=np.float64)
    k = len(exp.param_names)
    if p.ndim != 2 or p.shape[1] != k:
        raise ConfigError("params", f"must be an (m, {k}) array ({', '.join(exp.param_names)}), not shape {p.shape}")
    if len(batches) != p.shape[0]:
        raise ConfigError("batches", f"must hold one index array per point ({p.shape[0]}), not {len(batches)}")
    n = len(exp.data)
    sizes = np.fromiter(map(len, batches), dtype=np.int64, count=len(batches))
    out = np.full(p.shape[0], np.nan)
    x, y = _float64_data(exp.data)
    delta = float(exp.criterion_options.get("delta", 1.0))
    prob = output_is_probability(exp.model, exp.criterion)
    ends = np.cumsum(sizes)
    start = 0
    while start < p.shape[0]:
        # Rows whose (point, sample) pairs fit in one block (at least one row).
        stop = max(start + 1, int(np.searchsorted(ends, ends[start] - sizes[start] + DIRECT_BLOCK, "right")))
        rows = np.arange(start, stop)
        size = sizes[start:stop]
        if size.sum():
            idx = np.concatenate([np.asarray(b) for b in batches[start:stop]]).astype(np.int64, copy=False)
            if idx.min() < 0 or idx.max() >= n:
                raise ConfigError("batches", f"indices must lie in 0..{n - 1}")
            owner = np.repeat(rows - start, size)
            pp = torch.from_numpy(p[start:stop][owner])
            xs, ys = torch.from_numpy(x.numpy()[idx]), torch.from_numpy(y.numpy()[idx])
            # nn.Linear's order for one sample: (x1*w1 + x2*w2) + b
            z = pp[:, 0] * xs[:, 0]
            for f in range(1, xs.shape[1]):
                z.add_(pp[:, f] * xs[:, f])
            z.add_(pp[:, -1])
            sums = np.bincount(owner, weights=terms(z, ys, exp.criterion, delta, prob).numpy(),
                               minlength=stop - start)
            some = size > 0
            out[start:stop][some] = sums[some] / size[some]
        start = stop
    return out


__all__ = ["Surface", "compute_surface", "loss_at", "batch_losses_at"]
