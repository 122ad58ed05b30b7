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
from typing import Any, Mapping

import numpy as np
import torch
from typing_extensions import deprecated

from .errors import ConfigError
from .experiment import MAX_RESOLUTION, Experiment
from .models import output_is_probability
from .plane import Plane
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
    plane: Any = None          # the Plane the surface lies on (None: the experiment's (w, b) grid)
    metric: str = "loss"       # or "accuracy"

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
    def alpha(self) -> np.ndarray:
        """The first plane coordinate (columns); on an axes plane, the x-axis parameter's values."""
        return self.w

    @property
    def beta(self) -> np.ndarray:
        """The second plane coordinate (rows)."""
        return self.b

    # The first release's names of alpha and beta (CHANGELOG.md): they work as before, and warn.
    x = property(deprecated("Surface.x is deprecated; use surface.alpha")(lambda self: self.alpha),
                 doc="The first plane coordinate (deprecated: ``surface.alpha``).")
    y = property(deprecated("Surface.y is deprecated; use surface.beta")(lambda self: self.beta),
                 doc="The second plane coordinate (deprecated: ``surface.beta``).")

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
    origin: np.ndarray         # the plane: parameters at (X, Y) are origin + X d1 + Y d2
    d1: np.ndarray
    d2: np.ndarray
    criterion: str
    delta: float
    prob: bool                 # the criterion sees sigmoid(z) rather than z

    @property
    def n(self) -> int:
        return self.x.shape[0]

    def params(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """Full parameter rows for grid points with x-axis values ``X`` and y-axis values ``Y`` (same length).

        On an axes plane this is exact: the axis entries are 0 + X*1 + Y*0 = X, the held ones h + 0 + 0 = h.
        """
        o, d1, d2 = (torch.tensor(a) for a in (self.origin, self.d1, self.d2))   # planes are read-only
        return o + X.reshape(-1, 1) * d1 + Y.reshape(-1, 1) * d2

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


def _axes_plane(exp: Experiment, held) -> tuple[Plane, dict[str, float]]:
    """The experiment's (w, b) grid as a plane, and the held parameters' values."""
    names = exp.param_names
    ax, ay = exp.grid.axes
    free = [p for p in names if p not in (ax, ay)]
    if not free:
        if held:
            raise ConfigError("held", f"the {exp.model!r} model has no held parameter (both are on the axes)")
        return Plane.axes(exp, ax, ay), {}
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
    return Plane.axes(exp, ax, ay, {name: float(value)}), {name: float(value)}


def _problem(exp: Experiment, plane: Plane, batch: np.ndarray | None) -> _Problem:
    """The linear family on any plane: the output is affine in (alpha, beta), u X + v Y + c per sample."""
    x, y = _float64_data(exp.data)
    if batch is not None:
        sel = torch.from_numpy(batch)
        x, y = x[sel], y[sel]
    xn = x.numpy()
    # Each parameter's coefficient in the output: the features, then 1 for the bias.
    coef = np.concatenate([xn, np.ones((xn.shape[0], 1))], axis=1)
    return _Problem(x, y, coef @ plane.d1, coef @ plane.d2, coef @ plane.origin, plane.origin, plane.d1,
                    plane.d2, exp.criterion, float(exp.criterion_options.get("delta", 1.0)),
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

def compute_surface(exp: Experiment, w=None, b=None, *, plane: Plane | None = None, alpha=None, beta=None,
                    resolution=None, span=None, held=None, batch=None, metric: str = "loss", bn: str = "eval",
                    device=None, chunk_bytes: int | None = None, progress=None, stop=None) -> Surface:
    """The loss surface of ``exp`` over a plane of its parameters, in one call in this process: the keywords are
    ``la.compute_surface``'s (``surface_api``), which also computes in blocks of rows and on Ray workers."""
    X, Y, plane, held_values, idx = surface_frame(exp, w, b, plane, alpha, beta, resolution, span, held, batch,
                                                  metric)
    check_surface_memory(exp, len(X), len(Y), len(exp.data) if idx is None else len(idx), device, chunk_bytes)
    if not exp.is_module:
        prob = _problem(exp, plane, idx)
        with serial_torch():
            loss = _surface_sums(prob, X, Y, chunk_bytes).numpy()
        np.divide(loss, prob.n, out=loss)
    else:
        from .surface_network import network_surface
        loss = network_surface(exp, plane, X, Y, batch=idx, metric=metric, bn=bn, device=device,
                               chunk_bytes=chunk_bytes, progress=progress, stop=stop)
    return Surface(X, Y, loss, tuple(plane.labels), held_values, exp.criterion, idx, plane, metric)


def check_surface_memory(exp: Experiment, columns: int, rows: int, samples: int, device=None,
                         chunk_bytes: int | None = None) -> None:
    """Refuse a surface whose evaluation cannot fit in memory (``memory.surface_bytes``: the grid's arrays, a
    network's plane copies and each worker's chunk), before any of it is computed: ``ConfigError("resolution")``
    with the estimate and the limit."""
    from . import memory
    memory.check_surface(columns, rows, exp._fitted.size if exp.is_module else None, samples,
                         lambda message: ConfigError("resolution", message), device, chunk_bytes)


def surface_frame(exp: Experiment, w=None, b=None, plane: Plane | None = None, alpha=None, beta=None,
                  resolution=None, span=None, held=None, batch=None, metric: str = "loss"):
    """What a surface is computed over, checked: ``(X, Y, plane, held_values, batch_indices)``; for the (w, b)
    grid (``plane`` None) the plane is the grid's axes plane."""
    if plane is None and exp.is_module:
        raise ConfigError("plane", "a network's surface lies on a plane through its parameters: pass "
                                   "plane=la.Plane.random(exp), Plane.pca(...), Plane.hessian(...) or Plane.axes(...)")
    if plane is not None and (w is not None or b is not None):
        raise ConfigError("w", "w= and b= give the (w, b) grid's axes; with a plane give alpha= and beta=")
    idx = _batch_indices(batch, len(exp.data))
    if plane is None:
        gx, gy = exp.grid_axes_values()
        X, Y = _axis("w", w, gx), _axis("b", b, gy)
        plane, held_values = _axes_plane(exp, held)
    else:
        if not isinstance(plane, Plane):
            raise ConfigError("plane", f"must be a la.Plane, not {type(plane).__name__}")
        if plane.dim != exp.param_count:
            raise ConfigError("plane", f"lies among {plane.dim} parameters but the model has {exp.param_count}")
        if held is not None:
            raise ConfigError("held", "a plane holds its origin's values; held= is for the (w, b) grid")
        # A PCA plane knows where its paths lie: its span is the default view, not the experiment's grid.
        X, Y = _plane_axes(exp, alpha, beta, plane.info.get("span") if span is None else span, resolution)
        held_values = {}
    if metric not in ("loss", "accuracy"):
        raise ConfigError("metric", f"must be 'loss' or 'accuracy', not {metric!r}")
    if not exp.is_module and metric != "loss":
        raise ConfigError("metric", "the accuracy surface is for classifier networks (mlp, softmax, cnn, "
                                    "your own module)")
    return X, Y, plane, held_values, idx


def _plane_axes(exp: Experiment, alpha, beta, span, resolution) -> tuple[np.ndarray, np.ndarray]:
    """alpha and beta from explicit values, or a span and resolution, or the experiment's grid."""
    g = exp.grid
    ranges = [g.x_range, g.y_range]
    if span is not None:
        pair = lambda v: (-float(v), float(v)) if np.ndim(v) == 0 else tuple(map(float, v))  # noqa: E731
        try:
            if np.ndim(span) == 2:
                ranges = [pair(span[0]), pair(span[1])]
            else:
                ranges = [pair(span), pair(span)]
        except (TypeError, ValueError):
            raise ConfigError("span", f"must be a half-width, (low, high), or one pair per axis, not {span!r}") from None
        for r in ranges:
            if len(r) != 2 or not all(math.isfinite(v) for v in r) or not r[0] < r[1]:
                raise ConfigError("span", f"must give finite ranges with low < high, not {span!r}")
    res = g.resolution if resolution is None else resolution
    if isinstance(res, int) and not isinstance(res, bool):
        res = (res, res)
    if (isinstance(res, (str, bytes)) or not hasattr(res, "__len__") or len(res) != 2
            or any(isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not 2 <= r <= MAX_RESOLUTION
                   for r in res)):
        raise ConfigError("resolution", f"must be one or two whole numbers from 2 to {MAX_RESOLUTION}, not {res!r}")
    X = _axis("alpha", alpha, np.linspace(*ranges[0], int(res[0])))
    Y = _axis("beta", beta, np.linspace(*ranges[1], int(res[1])))
    return X, Y


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
    if exp.is_module:
        from .module_points import module_losses
        out = module_losses(exp, p, batch)
        return float(out[0]) if p.ndim == 1 else out
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
