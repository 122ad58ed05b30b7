"""Make long paths cheap to draw without changing the picture.

A 100,000-step path drawn as a polyline costs tens of milliseconds per frame, yet most of its steps move less
than a pixel (a converged or noisy optimizer jitters among a few pixels). ``SegmentCache`` keeps, in the order
they first appear, only the distinct segments between pixel cells: at the screen's resolution that is the same
drawing. It grows incrementally as the path grows (each frame processes only the new steps) and answers any
shorter prefix (the timeline scrubbing back) by a binary search.

``peak_decimate`` does the classic min/max-per-pixel-column reduction for curves against iteration.
"""
from __future__ import annotations

import numpy as np

# Cell indices are clamped to this many cells either side of the origin; far-off points (a diverging run)
# all fall into the edge cells, which lie well outside any visible area.
_LIMIT = 1 << 15


class SegmentCache:
    """Distinct pixel-cell segments of one growing 2-D path.

    ``cell`` is the cell size in data units (x, y), about a path line's width on screen; ``origin`` anchors
    the cell grid. Call ``update(params, n, cols)`` with the path's (m, k) parameters (m >= n) and get back,
    for the first ``n`` points, the drawn segments as a (2k, 2) array of endpoint pairs (real points of the
    path, joined end to end) and the step index at which each segment first appeared.
    """

    def __init__(self, cell=(1.0, 1.0), origin=(0.0, 0.0)):
        self.cell = np.asarray(cell, dtype=np.float64)
        self.origin = np.asarray(origin, dtype=np.float64)
        self.reset()

    def reset(self) -> None:
        self._points = np.empty((0, 2))     # our copy of the processed points (to detect a different path)
        self._n = 0
        self._last_code = None
        self._seg_index = np.empty(0, np.int64)     # step index at which each segment ends (ascending)
        self._seg_points = np.empty((0, 2))         # (2k, 2) endpoint pairs
        self._seg_ends = np.empty(0, np.int64)      # (2k,) the step indices of each segment's two points
        self._seg_count = 0
        self._run_start = 0                         # the first point of the run the path is in
        self._seen = np.empty(0, np.uint64)         # sorted keys of known segments

    def configure(self, cell, origin) -> None:
        """A new pixel size (zoom, resize): forget everything if it changed."""
        cell = np.asarray(cell, dtype=np.float64)
        origin = np.asarray(origin, dtype=np.float64)
        if not (np.array_equal(cell, self.cell) and np.array_equal(origin, self.origin)):
            self.cell, self.origin = cell, origin
            self.reset()

    def _codes(self, pts: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore"):
            q = np.floor((pts - self.origin) / self.cell)
        bad = ~np.isfinite(q).all(axis=1)
        q = np.clip(np.nan_to_num(q), -_LIMIT, _LIMIT - 1).astype(np.int64) + _LIMIT
        codes = (q[:, 0] << 16) | q[:, 1]
        codes[bad] = -1        # non-finite points break the path
        return codes

    def _same_path(self, params: np.ndarray, n: int, cols) -> bool:
        if self._n == 0:
            return True
        j = min(n, self._n) - 1
        return bool(np.array_equal(params[0, cols], self._points[0], equal_nan=True)
                    and np.array_equal(params[j, cols], self._points[j], equal_nan=True))

    def update(self, params: np.ndarray, n: int, cols=(0, 1)) -> tuple[np.ndarray, np.ndarray]:
        """Segments of the first ``n`` points: ``(pairs (2k, 2), step index (k,))``.

        ``params`` is the path's (m, k) array (m >= n); ``cols`` picks the two columns drawn as x and y.
        """
        cols = list(cols)
        if n > 0 and not self._same_path(params, n, cols):
            self.reset()
        if n > self._n:
            self._extend(params, n, cols)
        k = int(np.searchsorted(self._seg_index[: self._seg_count], n, side="left"))
        return self._seg_points[: 2 * k], self._seg_index[:k]

    def point_indices(self, k: int) -> np.ndarray:
        """The path indices of the endpoints of the first ``k`` segments, (2k,) in the order of ``pairs``."""
        return self._seg_ends[: 2 * k]

    def _extend(self, params: np.ndarray, n: int, cols) -> None:
        start = self._n
        new = np.asarray(params[start:n][:, cols], dtype=np.float64)
        self._points = _append(self._points, new, start)
        codes = self._codes(new)
        first_prev = -1 if self._last_code is None else self._last_code
        prev = np.concatenate([[first_prev], codes[:-1]])
        self._last_code = int(codes[-1])
        self._n = n
        # A run is a stretch of consecutive points in one cell; a segment joins the first points of two
        # consecutive runs, so the drawn segments connect end to end (joining the last point of a run to the
        # first of the next would leave gaps the size of a cell along a slow path).
        run_starts = np.flatnonzero(codes != prev) + start
        if not run_starts.size:
            return
        previous_start = np.concatenate([[self._run_start], run_starts[:-1]])
        self._run_start = int(run_starts[-1])
        rel = run_starts - start
        drawn = (codes[rel] >= 0) & (prev[rel] >= 0)
        idx, from_idx = run_starts[drawn], previous_start[drawn]
        if not idx.size:
            return
        a, b = prev[idx - start].astype(np.uint64), codes[idx - start].astype(np.uint64)
        keys = (np.minimum(a, b) << np.uint64(32)) | np.maximum(a, b)
        # First appearance within this batch, in path order.
        _, first = np.unique(keys, return_index=True)
        first.sort()
        keys, idx, from_idx = keys[first], idx[first], from_idx[first]
        if self._seen.size:
            pos = np.searchsorted(self._seen, keys)
            pos = np.minimum(pos, self._seen.size - 1)
            fresh = self._seen[pos] != keys
            keys, idx, from_idx = keys[fresh], idx[fresh], from_idx[fresh]
        if not keys.size:
            return
        self._seen = np.sort(np.concatenate([self._seen, keys]))
        # Clip to the cell grid's box: Qt misdraws coordinates like 1e30 (a diverging run).
        box_lo = self.origin - _LIMIT * self.cell
        box_hi = self.origin + (_LIMIT - 1) * self.cell
        p0, p1, ok = clip_segments(self._points[from_idx], self._points[idx], box_lo, box_hi)
        idx, from_idx = idx[ok], from_idx[ok]
        pairs = np.empty((2 * idx.size, 2))
        pairs[0::2], pairs[1::2] = p0[ok], p1[ok]
        ends = np.empty(2 * idx.size, np.int64)
        ends[0::2], ends[1::2] = from_idx, idx
        c = self._seg_count
        self._seg_index = _append(self._seg_index, idx, c)
        self._seg_points = _append(self._seg_points, pairs, 2 * c)
        self._seg_ends = _append(self._seg_ends, ends, 2 * c)
        self._seg_count = c + idx.size


def clip_segments(p0: np.ndarray, p1: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Clip segments p0 -> p1 to the box [lo, hi] (Liang-Barsky): ``(q0, q1, visible)``."""
    d = p1 - p0
    t0 = np.zeros(p0.shape[0])
    t1 = np.ones(p0.shape[0])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for axis in (0, 1):
            for bound, sign in ((lo[axis], -1.0), (hi[axis], 1.0)):
                # sign * (p0 + t d - bound) <= 0
                num = sign * (bound - p0[:, axis])
                den = sign * d[:, axis]
                t = num / den
                entering = den < 0
                leaving = den > 0
                t0 = np.where(entering, np.maximum(t0, t), t0)
                t1 = np.where(leaving, np.minimum(t1, t), t1)
                outside = (den == 0) & (num < 0)
                t1 = np.where(outside, -1.0, t1)
        ok = (t0 <= t1) & np.isfinite(t0) & np.isfinite(t1)
        q0 = p0 + t0[:, None] * d
        q1 = p0 + t1[:, None] * d
    inside0 = (p0 >= lo).all(axis=1) & (p0 <= hi).all(axis=1)
    inside1 = (p1 >= lo).all(axis=1) & (p1 <= hi).all(axis=1)
    q0 = np.where(inside0[:, None], p0, q0)     # exact where no clipping was needed
    q1 = np.where(inside1[:, None], p1, q1)
    return q0, q1, ok


def _append(buf: np.ndarray, new: np.ndarray, used: int) -> np.ndarray:
    """Write ``new`` after the first ``used`` rows of ``buf``, doubling its capacity when full."""
    need = used + new.shape[0]
    if need > buf.shape[0]:
        grown = np.empty((max(need, 2 * buf.shape[0], 64),) + buf.shape[1:], dtype=buf.dtype)
        grown[:used] = buf[:used]
        buf = grown
    buf[used:need] = new
    return buf


def marker_indices(seg_index: np.ndarray, n: int, limit: int) -> np.ndarray:
    """Which steps get a marker: every step of a short path, else the steps that moved, thinned to ``limit``."""
    if n <= limit:
        return np.arange(n)
    idx = seg_index
    if idx.size > limit:
        idx = idx[:: int(np.ceil(idx.size / limit))]
    return idx


def _bucket_extremes(x: np.ndarray, y: np.ndarray, columns: int):
    """``(size, m, xs, lo, hi)``: ``m`` whole buckets of ``size`` points, each with its first x and its y
    min and max (NaN ignored); None when the curve has at most two points per column and needs no buckets."""
    n = x.shape[0]
    if n <= 2 * columns:
        return None
    size = int(np.ceil(n / columns))
    m = n // size
    body = y[: m * size].reshape(m, size)
    with np.errstate(invalid="ignore"):
        lo = np.fmin.reduce(body, axis=1)
        hi = np.fmax.reduce(body, axis=1)
    return size, m, x[: m * size: size], lo, hi


def peak_decimate(x: np.ndarray, y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a curve over increasing ``x`` to a min and a max per bucket (~``columns`` buckets).

    Keeps every spike visible at a fraction of the points; NaN (a missing value) is ignored within a bucket.
    """
    buckets = _bucket_extremes(x, y, columns)
    if buckets is None:
        return x, y
    size, m, xs, lo, hi = buckets
    n = x.shape[0]
    out_x = np.repeat(xs, 2)
    out_y = np.empty(2 * m)
    out_y[0::2], out_y[1::2] = lo, hi
    # The tail point by point, and always the last point: the curve ends at the current value.
    tail = min(m * size, n - 1)
    out_x = np.concatenate([out_x, x[tail:]])
    out_y = np.concatenate([out_y, y[tail:]])
    return out_x, out_y


def envelope(x: np.ndarray, y: np.ndarray, columns: int):
    """Per-bucket (x, min, max) of a long curve over increasing ``x``, or None when it is short enough to draw.

    A noisy curve (the mini-batch loss) decimated to min/max zig-zags up and down every pixel column, which
    is slow to stroke; its envelope is filled as one polygon instead.
    """
    buckets = _bucket_extremes(x, y, columns)
    if buckets is None:
        return None
    size, m, xs, lo, hi = buckets
    n = x.shape[0]
    xs = xs.astype(np.float64)
    if m * size < n:
        tail = y[m * size:]
        xs = np.append(xs, x[m * size])
        with np.errstate(invalid="ignore"):
            lo = np.append(lo, np.fmin.reduce(tail))
            hi = np.append(hi, np.fmax.reduce(tail))
    xs[-1] = x[-1]          # the band reaches the last step
    return xs, lo, hi
