"""One run's path on a 2-D plot: an outlined line, step markers, the start point and the current point."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from .. import style
from .base import RunStyle
from .decimate import SegmentCache, marker_indices

MARKER_LIMIT = 150   # markers per path; beyond that the line alone shows the way


def path_pen(color, width: float) -> pg.QtGui.QPen:
    pen = pg.mkPen(color, width=width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


class PathItems:
    """The items drawing one run on ``plot``; ``update`` moves them in place with ``setData``."""

    Z = 20   # above the image, the iso-lines and the arrows

    def __init__(self, plot: pg.PlotItem, run: RunStyle, lecture: bool = False):
        self.plot = plot
        self.run = run
        self.cache = SegmentCache()
        kw = dict(connect="pairs", skipFiniteCheck=True, antialias=True)
        self.halo = pg.PlotCurveItem(**kw)
        self.line = pg.PlotCurveItem(**kw)
        for item in (self.halo, self.line):
            # Draw segments, not one stroked path: stroking a thick path of many overlapping pieces makes Qt
            # compute their union (up to a second per frame for a noisy path).
            item.setSegmentedLineMode("on")
        self.halo.opts["antialias"] = False    # the dark outline's edge is not seen; AA costs ~2 ms a frame
        self.markers = pg.ScatterPlotItem(symbol="o", pxMode=True, antialias=True)
        self.start = pg.ScatterPlotItem(symbol="o", pxMode=True, antialias=True)
        self.current = pg.ScatterPlotItem(symbol="o", pxMode=True, antialias=True)
        self.items = (self.halo, self.line, self.markers, self.start, self.current)
        for i, item in enumerate(self.items):
            item.setZValue(self.Z + i + 0.01 * run.run_id)
            # Paths never widen the view: a diverging run would zoom the surface away.
            plot.addItem(item, ignoreBounds=True)
        self.n_drawn = 0
        self.diverged = False
        self.set_style(run, lecture)

    def set_style(self, run: RunStyle, lecture: bool) -> None:
        self.run = run
        s = style.sizes(lecture)
        self.halo.setPen(path_pen(style.HALO_COLOR, s.line + 2 * s.halo))
        self.line.setPen(path_pen(run.color, s.line))
        self.markers.setSize(s.marker)
        self.markers.setPen(pg.mkPen(style.HALO_COLOR, width=1))
        self.markers.setBrush(pg.mkBrush(run.color))
        self.start.setSize(s.start)
        self.start.setPen(pg.mkPen(run.color, width=max(2.0, s.line)))
        self.start.setBrush(pg.mkBrush(style.BACKGROUND))
        self._style_current(lecture)
        self.lecture = lecture

    def _style_current(self, lecture: bool) -> None:
        s = style.sizes(lecture)
        self.current.setSize(s.current)
        if self.diverged:
            self.current.setSymbol("x")
            self.current.setPen(pg.mkPen(style.DIVERGED_COLOR, width=max(2.0, s.line)))
            self.current.setBrush(pg.mkBrush(style.DIVERGED_COLOR))
        else:
            self.current.setSymbol("o")
            self.current.setPen(pg.mkPen("#ffffff", width=2))
            self.current.setBrush(pg.mkBrush(self.run.color))

    def remove(self) -> None:
        for item in self.items:
            self.plot.removeItem(item)

    def clear(self) -> None:
        for item in self.items:
            item.setData([], [])
        self.n_drawn = 0

    def update(self, traj, n: int, cols, cell, origin) -> None:
        """Draw the first ``n`` points of ``traj`` (columns ``cols`` of its params as x, y)."""
        if n <= 0:
            self.clear()
            return
        params = traj.params
        self.cache.configure(cell, origin)
        pairs, seg_index = self.cache.update(params, n, cols)
        self.halo.setData(pairs[:, 0], pairs[:, 1])
        self.line.setData(pairs[:, 0], pairs[:, 1])
        idx = marker_indices(seg_index, n, MARKER_LIMIT)
        pts = _finite_rows(params[idx][:, list(cols)])
        self.markers.setData(pts[:, 0], pts[:, 1])
        first = _finite_rows(params[:1, list(cols)])
        self.start.setData(first[:, 0], first[:, 1])
        # The current point: the last finite one (a diverged run's last step may be inf).
        last = _last_finite(params, n, cols)
        self.current.setData([] if last is None else [last[0]], [] if last is None else [last[1]])
        diverged = getattr(traj, "outcome", "") == "diverged" and n == len(traj)
        if diverged != self.diverged:
            self.diverged = diverged
            self._style_current(self.lecture)
        self.n_drawn = n


def _finite_rows(a: np.ndarray) -> np.ndarray:
    return a[np.isfinite(a).all(axis=1)]


def _last_finite(params: np.ndarray, n: int, cols):
    for i in range(n - 1, max(-1, n - 64), -1):
        p = params[i, list(cols)]
        if np.isfinite(p).all():
            return p
    return None
