"""The loss curve: each run's full-data loss and mini-batch loss against iteration (the course's ``LOSS`` list).

Every curve on the axis is in the axis's unit: the window hands it each run's losses under the shown criterion
(``lifted``), or, as an option, each run's own training loss, and then the axis says so. A run that diverges
leaves through the top of the plot, marked there, and the axis keeps to the others (``loss_axis``).
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPen

from ...core.models import loss_unit
from .. import style
from .decimate import envelope, peak_decimate
from .layers import Extent, Fill, LayerItem, Lines, Symbols
from ...core.loss_axis import exit_point, plan_axis
from .plot_view import PlotView

BATCH_ALPHA = 110      # the mini-batch loss is noisy: draw it thin and translucent under the full-data loss
GHOST_ALPHA = 60       # the part of a path after the timeline position, while scrubbing back
MIN_X_SPAN = 10        # iterations shown at least, so a fresh run's first point sits on a sensible axis
BAND_ALPHA = 70        # a long mini-batch loss, drawn as the band between its per-pixel min and max
COLUMN_PX = 2          # pixels per bucket of the decimated curves and of the band
FAR_FACTOR = 100.0     # a curve that left is drawn up to this many times the leaving threshold, no further
OWN_LOSSES_LABEL = "each run's own loss"     # short: it must fit along the axis


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
        # The axis's range is set by ``LossView.extent`` (a diverging run must not set it).
        self.ghost = Lines(QPen(), z=15 + z)
        self.full = Lines(QPen(), z=20 + z)
        # A shown part of one point (the start, iteration 0, right after Play or Reset) is no line: a dot.
        self.point = Symbols(z=21 + z)
        self.curves = (self.batch, self.band, self.full, self.ghost, self.point)
        self.layers = layers
        layers.add(*self.curves)

    def set_style(self, color: str, lecture: bool) -> None:
        s = style.sizes(lecture)
        self.full.set_pen(pg.mkPen(color, width=s.line))
        self.batch.set_pen(pg.mkPen(style.qcolor(color, BATCH_ALPHA), width=1))
        self.band.set_brush(style.qcolor(color, BAND_ALPHA))
        self.ghost.set_pen(pg.mkPen(style.qcolor(color, GHOST_ALPHA), width=max(1.0, s.line * 0.75)))
        self.point.set_style("o", s.marker + 3, pen=None, brush=color)

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
        # Every run's curves in one item (see ``layers``); the full-data losses set the auto range, through
        # ``extent``, except where a run left (see ``loss_axis``).
        self.layers = LayerItem(snap_bounds=True)
        self.extent = Extent()
        self.layers.add(self.extent)
        self.plot.addItem(self.layers)
        self.criterion = ""
        self.own_losses = False           # each run's own training loss (True) or the shown criterion's
        self.mixed = False                # the runs train on different losses
        self.surface_top: float | None = None
        self._fixed = self._held_view = None       # (x range, y range) held by ``fix_ranges``
        self.marks: dict[int, pg.TextItem] = {}       # "diverged" where a run leaves through the top
        self._exits: dict[int, tuple] = {}
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
        self.vb.sigRangeChanged.connect(self._place_marks)
        self.set_axis_labels("iteration", "loss")
        self._apply_style()

    def set_scene(self, experiment, surface) -> None:
        """The loss view has no background; a new scene names the criterion on the y axis, and its surface's
        highest value tells when a run has left the picture."""
        self.criterion = loss_unit(getattr(experiment, "criterion", ""))
        # An accuracy surface's values say nothing of how high a loss may go.
        loss = getattr(surface, "loss", None) if getattr(surface, "metric", "loss") == "loss" else None
        top = -np.inf if loss is None else float(np.max(loss, where=np.isfinite(loss), initial=-np.inf))
        self.surface_top = top if np.isfinite(top) else None
        self._label_axis()

    def set_own_losses(self, own: bool, mixed: bool) -> None:
        """What the curves show: each run's own training loss (``own``), or the shown criterion's (the caller
        hands the paths accordingly); ``mixed``: the runs train on different losses, so the axis says which."""
        self.own_losses, self.mixed = bool(own), bool(mixed)
        self._label_axis()

    def y_label(self) -> str:
        if self.own_losses and self.mixed:
            return OWN_LOSSES_LABEL
        return f"{self.criterion} loss" if self.criterion else "loss"

    def _label_axis(self) -> None:
        self.set_axis_labels("iteration", self.y_label())

    def set_log_y(self, on: bool) -> None:
        """A logarithmic loss axis (losses fall over orders of magnitude)."""
        self.log_y = bool(on)
        # pyqtgraph works out an SI prefix from 10**range on a log axis, here from the linear range still shown
        # (a loss of 900 is 10**900: an overflow, harmless, as the range changes next).
        # A diverging run's 1e20 turned the ticks into "10^-18 ... (x1e+18)": the axis has no SI prefix at all.
        with np.errstate(over="ignore"):
            self.plot.getAxis("left").setLogMode(self.log_y)
        self._redraw()
        self.vb.enableAutoRange(y=True)

    def set_log_scale(self, on: bool) -> None:
        self.set_log_y(on)

    def fix_ranges(self, paths: Mapping) -> None:
        """Hold the axes on the whole of ``paths``: every iteration, and the full-data losses that
        ``plan_axis`` counts (a mini-batch's spikes would squash the curves, and a run that diverges leaves
        through the top rather than pressing the others flat), as the window shows them at the end."""
        self._fixed = None
        trajs = [t for t in paths.values() if len(t)]
        if not trajs:
            return
        last = max(float(t.iteration[-1]) for t in trajs)
        axis = plan_axis({rid: t.loss for rid, t in paths.items() if len(t)}, self.surface_top, positive=self.log_y)
        if axis is None:
            return
        lo, hi = _opened(*((math.log10(axis.lo), math.log10(axis.hi)) if self.log_y else (axis.lo, axis.hi)),
                         self.log_y)
        self._fixed = ((0.0, max(last, 1.0)), (lo, hi))
        self._held_view = None
        self._hold_fixed()

    def _hold_fixed(self) -> None:
        """Put the fixed range back if the view changed it (its own auto range, a minimum span)."""
        if self._fixed is None:
            return
        if any(self.vb.autoRangeEnabled()) or self.vb.viewRange() != self._held_view:
            self.vb.disableAutoRange()
            self.vb.setRange(xRange=self._fixed[0], yRange=self._fixed[1], padding=0.03)
            self._held_view = self.vb.viewRange()

    def set_runs(self, runs) -> None:
        super().set_runs(runs)
        for run_id in list(self.curves):
            if run_id not in self.runs:
                self.curves.pop(run_id).remove()
        for run_id in list(self.marks):
            if run_id not in self.runs:
                self.plot.removeItem(self.marks.pop(run_id))
        for run in self.runs.values():
            curves = self.curves.get(run.run_id) or self.curves.setdefault(run.run_id,
                                                                           _RunCurves(self.layers, run.run_id))
            curves.set_style(run.color, self.lecture)
        for run_id in self.marks:
            self._style_mark(run_id)
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
        axis = plan_axis({rid: t.loss for rid, t in paths.items() if rid in self.curves and len(t)},
                         self.surface_top, positive=self.log_y)
        far = FAR_FACTOR * axis.threshold if axis is not None and axis.threshold else None
        self._exits = {}
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
            loss, batch_loss = traj.loss, traj.batch_loss
            if far is not None:
                # A run that left is drawn up and out of the plot, not to 1e20 (Qt's coordinates have limits).
                loss, batch_loss = np.minimum(loss, far), np.minimum(batch_loss, far)
            drawn = self._set(curves.full, it[:n], loss[:n], columns)
            if n == 1:
                curves.point.set_points(drawn[0], drawn[1])
            else:
                curves.point.clear()
            if axis is not None and run_id in axis.leaving:
                # "diverged" once the shown part includes the end of a run that did; before, it only rose.
                self._exits[run_id] = (*drawn, traj.outcome if n == total else "running")
            # Step i's batch loss was evaluated at step i-1's parameters (before the update): draw it there,
            # so a full-batch run's two curves coincide, as they should.
            self._set_batch(curves, it[:n] - 1, batch_loss[:n], columns)
            if n < total:
                self._set(curves.ghost, it[n - 1:], loss[n - 1:], columns)
            else:
                curves.ghost.clear()
            at = float(it[n - 1])
            current = at if current is None else max(current, at)
        self.timeline.setVisible(current is not None)
        if current is not None:
            self.timeline.setValue(current)
        self._set_extent(paths, axis)
        self._keep_min_x_span(current)
        self._hold_fixed()
        self._place_marks()

    def _set_extent(self, paths: Mapping, axis) -> None:
        """What the auto range shows: every iteration, and the losses that ``plan_axis`` counts."""
        if axis is None:
            self.extent.clear()
            return
        ends = [(float(t.iteration[0]), float(t.iteration[-1])) for rid, t in paths.items()
                if rid in self.curves and len(t)]
        lo, hi = _opened(*self._transform(np.array([axis.lo, axis.hi])), self.log_y)
        self.extent.set_points([min(a for a, _ in ends), max(b for _, b in ends)], [lo, hi])

    def _place_marks(self, *args) -> None:
        """Mark where each run that left goes out through the top of the plot ("diverged" once it has)."""
        top = self.vb.viewRange()[1][1]
        (x0, x1) = self.vb.viewRange()[0]
        for run_id in list(self.marks):
            if run_id not in self._exits:
                self.marks[run_id].setVisible(False)
        for run_id, (xs, ys, outcome) in self._exits.items():
            point = exit_point(xs, ys, top)
            mark = self.marks.get(run_id)
            if point is None:
                if mark is not None:
                    mark.setVisible(False)
                continue
            if mark is None:
                mark = self.marks[run_id] = pg.TextItem(anchor=(0, 0))
                mark.setZValue(40)
                self.plot.addItem(mark, ignoreBounds=True)
                self._style_mark(run_id)
            text = "↑ diverged" if outcome == "diverged" else "↑ off the scale"
            if mark.toPlainText() != text:
                mark.setText(text)
            # Beside the exit, on the side with room.
            mark.setAnchor((1, 0) if point[0] > (x0 + x1) / 2 else (0, 0))
            mark.setPos(point[0], top)
            mark.setVisible(True)

    def _style_mark(self, run_id: int) -> None:
        mark, run = self.marks[run_id], self.runs.get(run_id)
        if run is not None:
            mark.setColor(run.color)
        mark.setFont(style.font(style.sizes(self.lecture).label_pt))

    def mark_texts(self) -> dict[int, str]:
        """The shown marks of runs that left the plot (run id -> text)."""
        return {rid: m.toPlainText() for rid, m in self.marks.items() if m.isVisible()}

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

    def _set(self, item: Lines, x: np.ndarray, y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = peak_decimate(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), columns)
        ys = self._transform(ys)
        item.set_polyline(xs, ys)
        return xs, ys

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
        for run_id in self.marks:
            self._style_mark(run_id)


def _opened(lo: float, hi: float, log: bool) -> tuple[float, float]:
    """A range of no height (one loss, as at the start) opened around its value: half of it each way (half a decade
    on a log axis). pyqtgraph would keep the height the axis had, centred on the value: after a diverged race, Reset
    showed a start loss of 0.68 on an axis of -10,000 to 10,000."""
    if hi > lo:
        return lo, hi
    pad = 0.5 if log or lo == 0 else 0.5 * abs(lo)
    return lo - pad, hi + pad
