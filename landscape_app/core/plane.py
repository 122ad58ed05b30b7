"""Planes through parameter space: an origin and two directions in the flat parameter vector.

A surface is the loss over a plane: ``loss(alpha, beta) = L(origin + alpha * d1 + beta * d2)``. Today's (w, b)
grid is ``Plane.axes(exp, "w", "b")`` (the origin holds the other parameters, the directions are the two axes, so
alpha and beta are the parameters' own values). The directions of random and PCA planes come from
``plane_directions``, those of Hessian planes from ``hessian``; neither imports this module (no import circle).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .errors import ConfigError

PLANE_KINDS = ("axes", "random", "pca", "hessian", "through", "custom")
PCA_MARGIN = 0.1          # a PCA plane's span: its paths' extent widened by this fraction on each side


def _vector(name: str, value, k: int | None = None) -> np.ndarray:
    try:
        import torch
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().to(torch.float64).numpy()
    except ImportError:  # pragma: no cover
        pass
    arr = np.array(value, dtype=np.float64).reshape(-1) if np.ndim(value) <= 1 else None
    if arr is None:
        raise ConfigError(name, f"must be a flat vector of parameters, not shape {np.shape(value)}")
    if k is not None and arr.shape[0] != k:
        raise ConfigError(name, f"must have {k} values (as many as the model has parameters), not {arr.shape[0]}")
    if not np.isfinite(arr).all():
        raise ConfigError(name, "must hold finite values only")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Plane:
    """``origin`` + alpha ``d1`` + beta ``d2`` (float64 vectors of the model's parameter count).

    ``labels`` name the two directions on axes ("w", "PCA 1 (71%)"); ``kind`` says how the plane was made; ``info``
    holds what its maker learnt (explained variance ratios, eigenvalues, the seed); ``buffers``: the BatchNorm
    running statistics to evaluate with ({name: array}; None: the experiment's module's own).
    """

    origin: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    labels: tuple[str, str] = ("α", "β")
    kind: str = "custom"
    info: Mapping[str, Any] = field(default_factory=dict)
    buffers: Mapping[str, np.ndarray] | None = None
    axes: tuple[str, str] | None = None     # the two parameters of an axes plane

    def __post_init__(self):
        origin = _vector("plane.origin", self.origin)
        k = origin.shape[0]
        d1, d2 = _vector("plane.d1", self.d1, k), _vector("plane.d2", self.d2, k)
        n1, n2 = float(d1 @ d1), float(d2 @ d2)
        if n1 == 0 or n2 == 0:
            raise ConfigError("plane", "a direction is all zeros; a plane needs two non-zero directions")
        cross = float(d1 @ d2)
        det = n1 * n2 - cross * cross
        if not det > 1e-12 * n1 * n2:
            raise ConfigError("plane", "the two directions are parallel; they span a line, not a plane")
        if self.kind not in PLANE_KINDS:
            raise ConfigError("plane.kind", f"must be one of {', '.join(PLANE_KINDS)}, not {self.kind!r}")
        labels = tuple(str(s) for s in self.labels)
        if len(labels) != 2:
            raise ConfigError("plane.labels", "must name the two directions")
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen dataclass)
        set_("origin", origin)
        set_("d1", d1)
        set_("d2", d2)
        set_("labels", labels)
        set_("info", dict(self.info))
        # The field's default is shadowed by the ``axes`` maker below (a class attribute of the same name).
        set_("axes", tuple(self.axes) if isinstance(self.axes, (tuple, list)) else None)
        if self.buffers is not None:
            set_("buffers", {k_: np.array(v, dtype=np.float64) for k_, v in dict(self.buffers).items()})
        # The Gram matrix's inverse projects any point onto the plane (directions need not be orthogonal).
        set_("_gram_inv", np.linalg.inv(np.array([[n1, cross], [cross, n2]])))

    @property
    def dim(self) -> int:
        """How many parameters the plane lives among."""
        return int(self.origin.shape[0])

    def point(self, alpha, beta) -> np.ndarray:
        """The parameters at plane coordinates (alpha, beta): (k,) for scalars, (..., k) for arrays."""
        a = np.asarray(alpha, dtype=np.float64)
        b = np.asarray(beta, dtype=np.float64)
        if a.ndim == 0 and b.ndim == 0:
            return self.origin + float(a) * self.d1 + float(b) * self.d2
        a, b = np.broadcast_arrays(a, b)
        return self.origin + a[..., None] * self.d1 + b[..., None] * self.d2

    def project(self, params) -> tuple:
        """(alpha, beta, distance off the plane) of parameters (k,) -> floats, or (m, k) -> arrays (m,).

        Least squares: alpha and beta of the nearest point of the plane, and the Euclidean distance to it.
        """
        p = np.asarray(params, dtype=np.float64)
        single = p.ndim == 1
        pts = p.reshape(1, -1) if single else p
        if pts.ndim != 2 or pts.shape[1] != self.dim:
            raise ConfigError("params", f"must have {self.dim} values per point, not shape {p.shape}")
        rel = pts - self.origin
        rhs = np.stack([rel @ self.d1, rel @ self.d2], axis=1)
        coef = rhs @ self._gram_inv.T
        off = rel - coef[:, :1] * self.d1 - coef[:, 1:] * self.d2
        dist = np.sqrt(np.einsum("ij,ij->i", off, off))
        if single:
            return float(coef[0, 0]), float(coef[0, 1]), float(dist[0])
        return coef[:, 0].copy(), coef[:, 1].copy(), dist

    def covering_span(self, paths, margin: float = 0.1, origin: bool = True) -> tuple[tuple[float, float],
                                                                                     tuple[float, float]]:
        """``((alpha_low, alpha_high), (beta_low, beta_high))``: a view of the plane that shows the paths whole.

        ``paths``: Trajectories, projected paths (``la.project_path``) or (n, k) parameter arrays, one or several.
        Each range is widened on both sides by ``margin`` times the larger of the two extents; ``origin`` keeps the
        plane's origin (0, 0) in view. Pass it on as ``compute_surface(exp, plane=plane, span=...)``.
        """
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin < 1e6:
            raise ConfigError("margin", f"must be a number >= 0 (a fraction of the paths' extent), not {margin!r}")
        if hasattr(paths, "params") or hasattr(paths, "alpha") or (isinstance(paths, np.ndarray) and paths.ndim == 2):
            paths = [paths]
        alphas, betas = [np.zeros(1)] if origin else [], [np.zeros(1)] if origin else []
        for i, path in enumerate(paths):
            if hasattr(path, "alpha"):             # already projected
                a, b = path.alpha, path.beta
            else:
                params = np.asarray(getattr(path, "params", path), dtype=np.float64)
                if params.ndim != 2 or params.shape[1] != self.dim:
                    raise ConfigError(f"paths[{i}]", f"must be a path of {self.dim} parameters per point, not "
                                                     f"shape {params.shape}")
                if not params.shape[0]:
                    continue
                a, b, _ = self.project(params)
            alphas.append(np.asarray(a, dtype=np.float64))
            betas.append(np.asarray(b, dtype=np.float64))
        if not alphas:
            raise ConfigError("paths", "no point to cover: give at least one non-empty path, or origin=True")
        a, b = np.concatenate(alphas), np.concatenate(betas)
        lo = np.array([a.min(), b.min()])
        hi = np.array([a.max(), b.max()])
        extent = float((hi - lo).max())
        # A single point (or a path along one axis) still gets a view: a unit of the plane around it.
        pad = margin * extent if extent > 0 else 1.0
        pad = max(pad, 1e-9 * max(1.0, float(np.abs(np.concatenate([lo, hi])).max())))
        return ((float(lo[0] - pad), float(hi[0] + pad)), (float(lo[1] - pad), float(hi[1] + pad)))

    def scale(self) -> tuple[float, float]:
        """The lengths of d1 and d2 (a unit of alpha or beta in parameter-space distance)."""
        return float(np.linalg.norm(self.d1)), float(np.linalg.norm(self.d2))

    # -- makers -----------------------------------------------------------------------------------------------
    @classmethod
    def axes(cls, exp, x: str, y: str, held: Mapping[str, float] | None = None) -> "Plane":
        """The plane of two named parameters, the others held at the start (or at ``held``): today's grids.

        alpha and beta are the two parameters' own values (the origin has zeros there).
        """
        names = exp.param_names
        for key, name in (("x", x), ("y", y)):
            if name not in names:
                shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
                raise ConfigError(f"plane.{key}", f"{name!r} is not a parameter of the model ({shown})")
        if x == y:
            raise ConfigError("plane", f"the two axes must be different parameters, not {x!r} twice")
        origin = exp.start_vector()
        for name, value in dict(held or {}).items():
            if name not in names:
                raise ConfigError("held", f"{name!r} is not a parameter of the model")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"held.{name}", f"must be a finite number, not {value!r}")
            origin[names.index(name)] = float(value)
        ix, iy = names.index(x), names.index(y)
        origin[ix] = origin[iy] = 0.0
        d1 = np.zeros_like(origin)
        d2 = np.zeros_like(origin)
        d1[ix] = d2[iy] = 1.0
        return cls(origin, d1, d2, (x, y), "axes", {}, None, (x, y))

    @classmethod
    def random(cls, exp, seed: int = 0, normalization: str = "filter", ignore=("bias", "bn"), origin=None,
               buffers=None) -> "Plane":
        """Li et al.'s random plane: two Gaussian directions, each filter rescaled to the norm of the same filter
        of the origin's parameters (tomgoldstein/loss-landscape ``net_plotter.py``).

        ``normalization``: "filter" (each slice along a weight's first dimension), "layer" (each parameter
        tensor), or "none". Parameters of one dimension carry no filter: those named in ``ignore`` ("bias": biases
        and other 1-D parameters; "bn": BatchNorm and other normalisation layers, told apart by the owning module)
        are zeroed, the others copied from the origin, as Li et al. do. ``seed`` drives a private generator (d1's
        draws, then d2's); torch's global random state is untouched. ``origin``: the parameters to centre on
        (default: the start), or a Trajectory (its last point, with its BatchNorm ``buffers``).
        """
        from .plane_directions import random_directions
        origin, buffers = _point_and_buffers("origin", origin, buffers, exp)
        d1, d2, labels, info = random_directions(exp, origin, seed, normalization, ignore)
        return cls(origin, d1, d2, labels, "random", info, buffers)

    @classmethod
    def pca(cls, trajectories, center: str = "end", run: int = 0, margin: float = PCA_MARGIN) -> "Plane":
        """The first two principal directions of one or several runs' parameter paths (Li et al.'s PCA plane).

        One PCA over all the points of all the runs (a race shares one plane), of their differences to the
        origin. ``center``: where the plane's origin is: "end" (run ``run``'s final point, as Li et al.; the
        other runs' ends lie off the plane by what ``project`` reports), "start" (its first point) or "mean" (the
        points' mean, the PCA's own centre). ``info`` holds the explained variance ratios (also in the labels,
        "PCA 1 (71%)"), how far the points lie from the plane (``distance_max``, ``distance_rms``) and ``span``,
        the alpha and beta ranges that show all the paths (``covering_span`` with ``margin``). BatchNorm runs with
        the run's last statistics (centre "end" or "mean"). The directions are unit vectors, oriented so that run
        ``run`` moves toward +alpha and +beta.
        """
        from .plane_directions import pca_directions
        origin, d1, d2, labels, info, buffers, points = pca_directions(trajectories, center, run)
        plane = cls(origin, d1, d2, labels, "pca", info, buffers)
        _, _, dist = plane.project(points)
        # Honest about what the plane leaves out: how far the paths' points lie from it.
        info = {**info, "distance_max": float(dist.max()), "distance_rms": float(np.sqrt(np.mean(dist * dist))),
                "span": plane.covering_span(points, margin)}
        return cls(origin, d1, d2, labels, "pca", info, buffers)

    @classmethod
    def hessian(cls, exp, params=None, k: int = 2, buffers=None, method: str = "auto", seed: int = 0,
                tol: float = 1e-8, max_iter: int = 1000, stop=None) -> "Plane":
        """The plane through ``params`` (default: the start; a Trajectory: its end, with its buffers) along the
        two eigenvectors of the full-data Hessian largest in eigenvalue magnitude.

        Hessian-vector products in float64 (torch.func, the module in eval mode with ``buffers``); ``method``:
        "lanczos" (scipy's eigsh), "power" (power iteration with deflation, as PyHessian), "dense" (the whole
        Hessian, one product per parameter) or "auto" (dense up to 200 parameters, else Lanczos). ``k`` eigenpairs
        are computed (at least the plane's two); ``info`` holds the eigenvalues, residuals ``|Hv - λv|`` and the
        number of products; labels "Hessian 1 (λ=12.3)". ``stop`` (a callable or an Event) ends it early with
        ``EvaluationStopped``.
        """
        from .hessian import eigen_labels, top_eigenpairs
        params, buffers = _point_and_buffers("params", params, buffers, exp)
        values, vectors, info = top_eigenpairs(exp, params, k, buffers, method, seed, tol, max_iter, stop)
        return cls(params, vectors[:, 0], vectors[:, 1], eigen_labels(values), "hessian", info, buffers)

    @classmethod
    def through(cls, p0, p1, p2, labels: tuple[str, str] = ("toward point 1", "toward point 2")) -> "Plane":
        """The plane through three points (Garipov et al. 2018): p0 at (0, 0), p1 at (1, 0), p2 at (0, 1)."""
        o = _vector("p0", p0)
        a, b = _vector("p1", p1, o.shape[0]), _vector("p2", p2, o.shape[0])
        if np.array_equal(a, o) or np.array_equal(b, o):
            raise ConfigError("plane", "the three points must differ; a point equals the first")
        return cls(o, a - o, b - o, labels, "through")


def _point_and_buffers(name: str, value, buffers, exp) -> tuple[np.ndarray, Any]:
    """A plane's centre: the start (None), a flat vector, or a Trajectory's end with its BatchNorm statistics."""
    if value is None:
        return exp.start_vector(), buffers
    params = getattr(value, "params", None)
    if isinstance(params, np.ndarray) and params.ndim == 2:      # a Trajectory
        if params.shape[0] == 0:
            raise ConfigError(name, "the trajectory is empty")
        return _vector(name, params[-1], exp.param_count), value.buffers if buffers is None else buffers
    return _vector(name, value, exp.param_count), buffers


__all__ = ["Plane", "PLANE_KINDS"]
