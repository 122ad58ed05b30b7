"""The loss curve: each run's full-data loss and mini-batch loss against iteration (the course's ``LOSS`` list)."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPen

from .. import style
from .decimate import envelope, peak_decimate
from .layers import Fill, LayerItem, Lines
from .plot_view import PlotView

BATCH_ALPHA = 110      # the mini-batch loss is noisy: draw it thin and translucent under the full-data loss
GHOST_ALPHA = 60       # the part of a path after the timeline position, while scrubbing back
MIN_X_SPAN = 10        # iterations shown at least, so a fresh run's first point sits on a sensible axis
BAND_ALPHA = 70        # a long mini-batch loss, drawn as the band between its per-pixel min and max
COLUMN_PX = 2          # pixels per bucket of the decimated curves and of the band


class _RunCurves:
    """One run's layers: full-data loss, mini-batch loss (a thin line, or a band when long), the ghost."""

    def __init__(self, layers: LayerItem, run_id: int):
        z = 0.01 * run_id
        # The y range follows the full-data loss: a batch of one can have a loss of 1e-12 (or a spike),
        # which would squash the curves on a log axis.
        self.batch = Lines(QPen(), antialias=False, z=10 + z)     # thin, short paths only; long ones are a band
        # A long mini-batch loss: the polygon between its min and max per column (without antialiasing: its
        # jagged edge is noise anyway, and antialiasing triples the cost).
        self.band = Fill(None, z=10 + z)
        self.ghost = Lines(QPen(), z=15 + z, bounds=True)
        self.full = Lines(QPen(), z=20 + z, bounds=True)
        self.curves = (self.batch, self.band, self.full, self.ghost)
        self.layers = layers
        layers.add(*self.curves)

    def set_style(self, color: str, lecture: bool) -> None:
        s = style.sizes(lecture)
        self.full.set_pen(pg.mkPen(color, width=s.line))
        self.batch.set_pen(pg.mkPen(style.qcolor(color, BATCH_ALPHA), width=1))
        self.band.set_brush(style.qcolor(color, BAND_ALPHA))
        self.ghost.set_pen(pg.mkPen(style.qcolor(color, GHOST_ALPHA), width=max(1.0, s.line * 0.75)))

    def remove(self) -> None:
        self.layers.remove(*self.curves)

    def clear(self) -> None:
        for item in self.curves:
            item.clear()


class LossView(PlotView):
    """Full-data loss (solid) and mini-batch loss (thin) per run, a log-y option, a line at the timeline."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.log_y = False
        self.curves: dict[int, _RunCurves] = {}
        # Every run's curves in one item (see ``layers``); the full-data loss sets the auto range.
        self.layers = LayerItem(snap_bounds=True)
        self.plot.addItem(self.layers)
        self._last = ({}, None)
        self._x_auto: bool | None = None
        self._planned: int | None = None     # the x axis spans this many iterations, when set
        self.timeline = pg.InfiniteLine(angle=90, movable=False)
        self.timeline.setZValue(50)
        self.timeline.setVisible(False)
        self.plot.addItem(self.timeline, ignoreBounds=True)
        self.show_grid()
        self.vb.setDefaultPadding(0.02)
        self.vb.sigResized.connect(self._redraw)
        self.set_axis_labels("iteration", "loss")
        self._apply_style()

    def set_scene(self, experiment, surface) -> None:
        """The loss view has no background; a new scene only names the criterion on the y axis."""
        name = (getattr(experiment, "criterion", "") or "").upper()
        self.set_axis_labels("iteration", f"{name} loss" if name else "loss")

    def set_log_y(self, on: bool) -> None:
        """A logarithmic loss axis (losses fall over orders of magnitude)."""
        self.log_y = bool(on)
        self.plot.getAxis("left").setLogMode(self.log_y)
        # pyqtgraph picks an SI prefix from 10**range on a log axis: a diverging run's 1e20 turned the ticks
        # into "10^-18 ... (x1e+18)". Decades need no prefix.
        self.plot.getAxis("left").enableAutoSIPrefix(not self.log_y)
        self._redraw()
        self.vb.enableAutoRange(y=True)

    def set_runs(self, runs) -> None:
        super().set_runs(runs)
        for run_id in list(self.curves):
            if run_id not in self.runs:
                self.curves.pop(run_id).remove()
        for run in self.runs.values():
            curves = self.curves.get(run.run_id) or self.curves.setdefault(run.run_id,
                                                                           _RunCurves(self.layers, run.run_id))
            curves.set_style(run.color, self.lecture)
        self._redraw()

    def legend_extras(self):
        s = style.sizes(self.lecture)
        return [(pg.PlotDataItem(pen=pg.mkPen(style.FOREGROUND, width=s.line)), "full-data loss"),
                (pg.PlotDataItem(pen=pg.mkPen(style.qcolor(style.FOREGROUND, BATCH_ALPHA),
                                              width=max(1.0, s.line * 0.5))), "mini-batch loss")]

    def show_paths(self, paths: Mapping, upto: int | None = None) -> None:
        self._last = (paths, upto)
        # Two pixels per bucket: the min/max zig-zag stays faithful and costs half as much to draw.
        columns = max(100, int(self.vb.width() / COLUMN_PX) or 500)
        current = None
        for run_id, curves in self.curves.items():
            traj = paths.get(run_id)
            if traj is None or len(traj) == 0:
                curves.clear()
                continue
            total = len(traj)
            n = total if upto is None else max(0, min(int(upto), total))
            if n == 0:
                curves.clear()
                continue
            it = traj.iteration
            self._set(curves.full, it[:n], traj.loss[:n], columns)
            # Step i's batch loss was evaluated at step i-1's parameters (before the update): draw it there,
            # so a full-batch run's two curves coincide, as they should.
            self._set_batch(curves, it[:n] - 1, traj.batch_loss[:n], columns)
            if n < total:
                self._set(curves.ghost, it[n - 1:], traj.loss[n - 1:], columns)
            else:
                curves.ghost.clear()
            at = float(it[n - 1])
            current = at if current is None else max(current, at)
        self.timeline.setVisible(current is not None)
        if current is not None:
            self.timeline.setValue(current)
        self._keep_min_x_span(current)

    def set_planned_length(self, iterations: int | None) -> None:
        """Fix the x axis to 0..``iterations`` (the run's planned length); ``None``: follow the data."""
        self._planned = int(iterations) if iterations else None
        self._x_auto = None
        self._keep_min_x_span(self.timeline.value() if self.timeline.isVisible() else None)

    def _keep_min_x_span(self, current: float | None) -> None:
        if self._planned is not None:
            # A fixed axis: no new ticks every frame (each re-layout costs the training thread its GIL).
            if self._x_auto is not False:
                self.vb.disableAutoRange(axis=pg.ViewBox.XAxis)
                self.vb.setXRange(0, max(self._planned, MIN_X_SPAN), padding=0.02)
                self._x_auto = False
            return
        # A path of one point (or a few) would make pyqtgraph's auto range zoom into a sliver around
        # iteration 0 (an axis of -400..400 x 0.001): show at least MIN_X_SPAN iterations instead.
        short = current is None or current < MIN_X_SPAN
        if short and self._x_auto is not False:
            self.vb.disableAutoRange(axis=pg.ViewBox.XAxis)
            self.vb.setXRange(0, MIN_X_SPAN, padding=0.02)
        elif not short and self._x_auto is not True:
            self.vb.enableAutoRange(x=True)
        self._x_auto = not short

    def _set(self, item: Lines, x: np.ndarray, y: np.ndarray, columns: int) -> None:
        xs, ys = peak_decimate(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), columns)
        item.set_polyline(xs, self._transform(ys))

    def _set_batch(self, curves: _RunCurves, x: np.ndarray, y: np.ndarray, columns: int) -> None:
        env = envelope(x, np.asarray(y, dtype=np.float64), columns)
        if env is None:
            curves.band.clear()
            self._set(curves.batch, x, y, columns)
            return
        curves.batch.clear()
        xs, lo, hi = env
        lo, hi = self._transform(lo), self._transform(hi)
        ok = np.isfinite(lo) & np.isfinite(hi)
        xs, lo, hi = xs[ok], lo[ok], hi[ok]
        curves.band.set_polygon(np.concatenate([xs, xs[::-1]]), np.concatenate([hi, lo[::-1]]))

    def _transform(self, ys: np.ndarray) -> np.ndarray:
        ys = np.where(np.isfinite(ys), ys, np.nan)
        if self.log_y:
            with np.errstate(divide="ignore", invalid="ignore"):
                ys = np.log10(np.where(ys > 0, ys, np.nan))
        return ys

    def _redraw(self, *args) -> None:
        if self._last[0]:
            self.show_paths(*self._last)

    def _apply_style(self) -> None:
        super()._apply_style()
        if not hasattr(self, "curves"):
            return
        s = style.sizes(self.lecture)
        pen = pg.mkPen(style.FOREGROUND, width=max(1.0, s.line * 0.6))
        pen.setStyle(Qt.PenStyle.DashLine)
        self.timeline.setPen(pen)
        for run_id, curves in self.curves.items():
            curves.set_style(self.runs[run_id].color, self.lecture)
