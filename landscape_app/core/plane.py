"""Planes through parameter space: an origin and two directions in the flat parameter vector.

A surface is the loss over a plane: ``loss(alpha, beta) = L(origin + alpha * d1 + beta * d2)``. Today's (w, b)
grid is ``Plane.axes(exp, "w", "b")`` (the origin holds the other parameters, the directions are the two axes, so
alpha and beta are the parameters' own values). Random, PCA and Hessian planes live in ``plane_directions``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .errors import ConfigError

PLANE_KINDS = ("axes", "random", "pca", "hessian", "through", "custom")


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
    def through(cls, p0, p1, p2, labels: tuple[str, str] = ("toward point 1", "toward point 2")) -> "Plane":
        """The plane through three points (Garipov et al. 2018): p0 at (0, 0), p1 at (1, 0), p2 at (0, 1)."""
        o = _vector("p0", p0)
        a, b = _vector("p1", p1, o.shape[0]), _vector("p2", p2, o.shape[0])
        if np.array_equal(a, o) or np.array_equal(b, o):
            raise ConfigError("plane", "the three points must differ; a point equals the first")
        return cls(o, a - o, b - o, labels, "through")


__all__ = ["Plane", "PLANE_KINDS"]
