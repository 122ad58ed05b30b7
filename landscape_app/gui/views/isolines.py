"""Iso-lines of a surface: nicely spaced levels and a vectorised marching squares (pyqtgraph's is pure Python).

The result is a flat array of line segments, drawn as one curve with ``connect="pairs"``: cheap to draw, and
cheap to recompute when the surface changes (the plane model's slice follows the training live).
"""
from __future__ import annotations

import math

import numpy as np


def nice_levels(lo: float, hi: float, log: bool = False, count: int = 10) -> np.ndarray:
    """About ``count`` round-numbered levels strictly inside (lo, hi).

    Linear: multiples of 1, 2, 2.5 or 5 times a power of ten. Log: 1-2-5 steps per decade (fewer when the range
    spans many decades), so the flat bottom of a loss valley gets as many lines as its steep walls.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return np.empty(0)
    if log:
        lo = max(lo, hi * 1e-12, np.finfo(float).tiny)
        if lo <= 0 or hi <= lo:
            return np.empty(0)
        decades = math.log10(hi) - math.log10(lo)
        if decades < 1.0:   # less than a decade: linear steps read better
            return nice_levels(lo, hi, False, count)
        for mantissas in ((1, 2, 5), (1, 3), (1,)):
            if decades * len(mantissas) <= 1.6 * count:
                break
        step = max(1, math.ceil(decades / (1.6 * count)))
        first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        levels = [m * 10.0 ** e for e in range(first, last + 1, step) for m in mantissas]
        return np.array([v for v in levels if lo < v < hi])
    raw = (hi - lo) / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(lo / step) + 1
    levels = np.arange(start, math.ceil(hi / step)) * step
    return levels[(levels > lo) & (levels < hi)]


def isoline_segments(z: np.ndarray, x: np.ndarray, y: np.ndarray, level: float) -> np.ndarray:
    """Segments of the curve ``z == level`` as a (2m, 2) array of endpoints, pairs in a row.

    ``z`` is (len(y), len(x)): rows follow ``y``, columns follow ``x`` (the Surface layout).
    """
    z = np.asarray(z, dtype=np.float64)
    above = z > level
    # Crossing points on the horizontal edges (between columns j, j+1 of row i) and vertical edges.
    h_cross = above[:, :-1] != above[:, 1:]
    v_cross = above[:-1, :] != above[1:, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        th = (level - z[:, :-1]) / (z[:, 1:] - z[:, :-1])
        tv = (level - z[:-1, :]) / (z[1:, :] - z[:-1, :])
    hx = x[:-1][None, :] + th * np.diff(x)[None, :]          # (ny, nx-1), y is y[i]
    vy = y[:-1][:, None] + tv * np.diff(y)[:, None]          # (ny-1, nx), x is x[j]
    # Per cell (i, j): bottom = h[i, j], top = h[i+1, j], left = v[i, j], right = v[i, j+1].
    bottom, top = h_cross[:-1, :], h_cross[1:, :]
    left, right = v_cross[:, :-1], v_cross[:, 1:]
    ny, nx = z.shape
    ii, jj = np.meshgrid(np.arange(ny - 1), np.arange(nx - 1), indexing="ij")

    def point(edge: str, mask):
        i, j = ii[mask], jj[mask]
        if edge == "bottom":
            return np.stack([hx[i, j], y[i]], axis=1)
        if edge == "top":
            return np.stack([hx[i + 1, j], y[i + 1]], axis=1)
        if edge == "left":
            return np.stack([x[j], vy[i, j]], axis=1)
        return np.stack([x[j + 1], vy[i, j + 1]], axis=1)

    edges = {"bottom": bottom, "top": top, "left": left, "right": right}
    count = bottom.astype(np.int8) + top + left + right
    two = count == 2
    pieces = []
    for a, b in (("bottom", "top"), ("bottom", "left"), ("bottom", "right"),
                 ("top", "left"), ("top", "right"), ("left", "right")):
        mask = two & edges[a] & edges[b]
        if mask.any():
            pieces.append((point(a, mask), point(b, mask)))
    saddle = count == 4
    if saddle.any():
        # Resolve the ambiguous case by the cell centre's value: corners on the centre's side connect.
        centre = 0.25 * (z[:-1, :-1] + z[:-1, 1:] + z[1:, :-1] + z[1:, 1:])
        joined = saddle & ((centre > level) == above[:-1, :-1])
        split = saddle & ~joined
        for mask, pairs in ((joined, (("bottom", "right"), ("left", "top"))),
                            (split, (("bottom", "left"), ("top", "right")))):
            if mask.any():
                for a, b in pairs:
                    pieces.append((point(a, mask), point(b, mask)))
    if not pieces:
        return np.empty((0, 2))
    p0 = np.concatenate([p[0] for p in pieces])
    p1 = np.concatenate([p[1] for p in pieces])
    ok = np.isfinite(p0).all(axis=1) & np.isfinite(p1).all(axis=1)
    out = np.empty((2 * int(ok.sum()), 2))
    out[0::2], out[1::2] = p0[ok], p1[ok]
    return out


def isolines(z: np.ndarray, x: np.ndarray, y: np.ndarray, levels, max_nodes: int | None = None) -> np.ndarray:
    """All levels' segments in one (2m, 2) array (pairs of endpoints), for one ``connect="pairs"`` curve;
    ``max_nodes``: traced on every k-th node (and the last) so that at most about that many lie along an axis."""
    if max_nodes is not None:
        jj, ii = _strided(len(x), max_nodes), _strided(len(y), max_nodes)
        z, x, y = np.asarray(z)[np.ix_(ii, jj)], np.asarray(x)[jj], np.asarray(y)[ii]
    parts = [isoline_segments(z, x, y, float(v)) for v in levels]
    return np.concatenate(parts) if parts else np.empty((0, 2))


def _strided(n: int, most: int) -> np.ndarray:
    """Every k-th of ``n`` indices (the last one always), at most about ``most`` of them."""
    step = max(1, int(np.ceil(n / most)))
    return np.unique(np.r_[np.arange(0, n, step), n - 1])
