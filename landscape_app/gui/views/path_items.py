"""One run's path on a 2-D plot: an outlined line, step markers, the start point and the current point.

Drawn as layers of the view's one ``LayerItem`` (see ``layers``): five pyqtgraph items per run cost the
training thread more GIL time than the drawing itself.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPen

from .. import style
from .base import RunStyle
from .decimate import SegmentCache, marker_indices
from .layers import LayerItem, Lines, Symbols

MARKER_LIMIT = 150   # markers per path; beyond that the line alone shows the way


def path_pen(color, width: float) -> pg.QtGui.QPen:
    pen = pg.mkPen(color, width=width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


class PathItems:
    """The layers drawing one run in a view's shared ``LayerItem``; ``update`` refills them in place."""

    def __init__(self, layers: LayerItem, run: RunStyle, lecture: bool = False):
        self.layers = layers
        self.run = run
        self.cache = SegmentCache()
        z = 0.01 * run.run_id     # every run's halo under every run's line, under every run's markers...
        # Segments, not one stroked path: stroking a thick path of many overlapping pieces makes Qt compute
        # their union (up to a second per frame for a noisy path). The dark outline's edge is not seen, and
        # antialiasing it would cost ~2 ms a frame.
        self.halo = Lines(QPen(), antialias=False, z=z)
        self.line = Lines(QPen(), antialias=True, z=1 + z)
        self.markers = Symbols(z=2 + z)
        self.start = Symbols(z=3 + z)
        self.current = Symbols(z=4 + z)
        self.items = (self.halo, self.line, self.markers, self.start, self.current)
        layers.add(*self.items)
        self.n_drawn = 0
        self.diverged = False
        self.set_style(run, lecture)

    def set_style(self, run: RunStyle, lecture: bool) -> None:
        self.run = run
        s = style.sizes(lecture)
        self.halo.set_pen(path_pen(style.HALO_COLOR, s.line + 2 * s.halo))
        self.line.set_pen(path_pen(run.color, s.line))
        self.markers.set_style("o", s.marker, pg.mkPen(style.HALO_COLOR, width=1), pg.mkBrush(run.color))
        self.start.set_style("o", s.start, pg.mkPen(run.color, width=max(2.0, s.line)),
                             pg.mkBrush(style.BACKGROUND))
        self.lecture = lecture
        self._style_current(lecture)

    def _style_current(self, lecture: bool) -> None:
        s = style.sizes(lecture)
        if self.diverged:
            self.current.set_style("x", s.current, pg.mkPen(style.DIVERGED_COLOR, width=max(2.0, s.line)),
                                   pg.mkBrush(style.DIVERGED_COLOR))
        else:
            self.current.set_style("o", s.current, pg.mkPen("#ffffff", width=2), pg.mkBrush(self.run.color))

    def remove(self) -> None:
        self.layers.remove(*self.items)

    def clear(self) -> None:
        for item in self.items:
            item.clear()
        self.n_drawn = 0

    def update(self, traj, n: int, cols, cell, origin, bounds=None) -> None:
        """Draw the first ``n`` points of ``traj`` (columns ``cols`` of its params as x, y).

        ``bounds`` (x0, x1, y0, y1): the path is drawn up to where it first leaves them, ending on their edge.
        A diverging path swings to 1e10 and back; drawn whole, its segments cross the plot as stripes that say
        nothing about where it went."""
        if n <= 0:
            self.clear()
            return
        params = traj.params
        cols = list(cols)
        exit_point = None
        shown = n
        if bounds is not None:
            n, exit_point = leaving(params, n, cols, bounds)
        self.cache.configure(cell, origin)
        pairs, seg_index = self.cache.update(params, n, cols)
        if exit_point is not None:
            pairs = np.vstack([pairs, params[n - 1, cols], exit_point])
        self.halo.set_pairs(pairs)
        self.line.set_pairs(pairs)
        self.markers.set_points(params[marker_indices(seg_index, n, MARKER_LIMIT)][:, cols])
        self.start.set_points(params[:1, cols])
        # The current point: the last finite one (a diverged run's last step may be inf), or where it left.
        last = exit_point if exit_point is not None else _last_finite(params, n, cols)
        self.current.set_points(np.empty((0, 2)) if last is None else last[None, :])
        diverged = getattr(traj, "outcome", "") == "diverged" and shown == len(traj)
        if diverged != self.diverged:
            self.diverged = diverged
            self._style_current(self.lecture)
        self.n_drawn = shown


def _last_finite(params: np.ndarray, n: int, cols):
    for i in range(n - 1, max(-1, n - 64), -1):
        p = params[i, list(cols)]
        if np.isfinite(p).all():
            return p
    return None


def leaving(params: np.ndarray, n: int, cols, bounds):
    """``(n_inside, exit_point)``: how many leading points lie inside ``bounds``, and where the segment to the
    first point outside crosses their edge (None if every point is inside, or the next one is not finite)."""
    x0, x1, y0, y1 = bounds
    xy = params[:n, cols]
    with np.errstate(invalid="ignore"):
        inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    if inside.all():
        return n, None
    k = int(np.argmin(inside))
    if k == 0:                      # the start itself is outside: draw as given
        return n, None
    a, b = xy[k - 1], xy[k]
    if not np.isfinite(b).all():
        return k, None
    d = b - a
    t = 1.0
    for v, lo, hi, dv in ((a[0], x0, x1, d[0]), (a[1], y0, y1, d[1])):
        if dv > 0:
            t = min(t, (hi - v) / dv)
        elif dv < 0:
            t = min(t, (lo - v) / dv)
    return k, a + max(0.0, t) * d
