"""The data view: the samples and each run's current prediction, the current mini-batch highlighted.

The fitted line (linear), the sigmoid curve (logistic), or for the plane model the fitted plane over the
(x1, x2) points in 3-D (``DataPlane3D``); without OpenGL the plane model falls back to a 2-D projection:
each sample's prediction against its target, where a perfect fit lies on the diagonal. A network classifying
two features shows its decision regions (``DecisionView``), one on images a grid of digits with their predicted
classes and the confusion matrix (``DigitsView``): both draw the predictions the scene controller computed.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPen
from PySide6.QtWidgets import QGraphicsItem, QStackedLayout, QWidget

from ...core.predictions import DecisionMap, prediction_kind
from .. import style
from .base import View
from .data_common import current_batch, current_index, prediction
from .decimate import clip_segments
from .decision_view import DecisionView
from .digits_view import DigitsView
from .gl import gl_available
from .layers import LayerItem, Lines, Symbols
from .path_items import path_pen
from .plot_view import PlotView

CURVE_POINTS = 200            # samples of the sigmoid curve
POINT_COLOR = (225, 228, 235, 200)


class _Plot2D(PlotView):
    """The 2-D data plot: points, a prediction curve per run, the current batch ringed in the run's colour."""

    def __init__(self, parent=None):
        super().__init__(parent)
        # Everything drawn per run, and the samples, in one item (see ``layers``); ranges are set explicitly.
        self.layers = LayerItem()
        self.plot.addItem(self.layers, ignoreBounds=True)
        self.points = self.layers.add(Symbols(z=12.5))     # over the prediction curves, under the batch rings
        self.diagonal = pg.PlotCurveItem(antialias=True)
        self.diagonal.setZValue(-1)
        self.diagonal.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.plot.addItem(self.diagonal, ignoreBounds=True)
        self.show_grid()
        self.items: dict[int, dict] = {}
        self.exp = None
        self.x = self.y = None
        self.projection = False

    def set_data(self, exp, projection: bool) -> None:
        self.exp = exp
        self.projection = projection
        x, y = exp.data.numpy()
        self.x, self.y = x, y
        if projection:
            self.set_axis_labels("prediction ŷ = w1·x1 + w2·x2 + b", "y")
            self.points.clear()
            lo, hi = _padded(y, 0.1)
            self.diagonal.setData([lo, hi], [lo, hi])
            self.vb.setRange(xRange=(lo, hi), yRange=(lo, hi), padding=0)
        else:
            self.set_axis_labels("x", "y")
            self.points.set_points(x[:, 0], y)
            self.diagonal.setData([], [])
            ylo, yhi = (-0.1, 1.1) if exp.model == "logistic" else _padded(y, 0.1)
            self.vb.setRange(xRange=_padded(x[:, 0], 0.05), yRange=(ylo, yhi), padding=0)
        self._apply_style()

    def set_runs(self, runs) -> None:
        super().set_runs(runs)
        for run_id in list(self.items):
            if run_id not in self.runs:
                self.layers.remove(*self.items.pop(run_id).values())
        for run in self.runs.values():
            if run.run_id not in self.items:
                z = 0.01 * run.run_id
                # Thick antialiased curves as segments: Qt's stroker makes even a 2-point thick path cost ~1 ms.
                its = {"halo": Lines(QPen(), z=10 + z), "line": Lines(QPen(), z=11 + z),
                       "proj": Symbols(z=12 + z), "batch": Symbols(z=13.5 + z)}
                self.layers.add(*its.values())
                self.items[run.run_id] = its
        self._style_runs()

    def _style_runs(self) -> None:
        s = style.sizes(self.lecture)
        for rank, (run_id, its) in enumerate(self.items.items()):
            color = self.runs[run_id].color
            its["halo"].set_pen(path_pen(style.HALO_COLOR, s.line + 2 * s.halo))
            its["line"].set_pen(path_pen(color, s.line))
            its["proj"].set_style("o", s.marker + 1, pg.mkPen(style.HALO_COLOR, width=1),
                                  pg.mkBrush(style.qcolor(color, 200)))
            # Rings nest by run, so every run's batch stays visible where batches overlap.
            its["batch"].set_style("o", s.marker * 2.4 + rank * (s.line + 3),
                                   pg.mkPen(color, width=max(1.5, s.line * 0.8)), None)

    def legend_sample(self, run):
        return pg.PlotDataItem(pen=path_pen(run.color, style.sizes(self.lecture).line))

    def show_paths(self, paths: Mapping, upto=None) -> None:
        if self.exp is None:
            return
        for run_id, its in self.items.items():
            traj = paths.get(run_id)
            i = -1 if traj is None else current_index(traj, upto)
            if i < 0 or not np.isfinite(traj.params[i]).all():
                for item in its.values():
                    item.clear()
                continue
            params = traj.params[i]
            batch = current_batch(traj, i)
            if self.projection:
                yhat = prediction(self.exp, params, self.x)
                its["proj"].set_points(yhat, self.y)
                its["line"].clear()
                its["halo"].clear()
                bx, by = yhat[batch], self.y[batch]
            else:
                xs, ys = self._curve(params)
                its["line"].set_polyline(xs, ys)
                its["halo"].set_polyline(xs, ys)
                its["proj"].clear()
                bx, by = self.x[batch, 0], self.y[batch]
            if batch.size and batch.size < len(self.y):       # a full batch is every point: nothing to single out
                its["batch"].set_points(bx, by)
            else:
                its["batch"].clear()

    def _curve(self, params) -> tuple[np.ndarray, np.ndarray]:
        (x0, x1), (y0, y1) = self.vb.viewRange()
        span = max(x1 - x0, 1e-12)
        count = 2 if self.exp.model == "linear" else CURVE_POINTS
        xs = np.linspace(x0 - span, x1 + span, count)
        ys = prediction(self.exp, params, xs[:, None])
        if count == 2:       # a steep line: clip it to a box around the view (Qt misdraws huge coordinates)
            h = max(y1 - y0, 1e-12)
            box_lo, box_hi = np.array([x0 - span, y0 - 10 * h]), np.array([x1 + span, y1 + 10 * h])
            p0, p1, ok = clip_segments(np.array([[xs[0], ys[0]]]), np.array([[xs[1], ys[1]]]), box_lo, box_hi)
            if not ok[0]:
                return np.empty(0), np.empty(0)
            return np.array([p0[0, 0], p1[0, 0]]), np.array([p0[0, 1], p1[0, 1]])
        return xs, ys

    def _apply_style(self) -> None:
        super()._apply_style()
        if not hasattr(self, "items"):
            return
        s = style.sizes(self.lecture)
        self.points.set_style("o", s.marker + 2, pg.mkPen(style.BACKGROUND, width=1), pg.mkBrush(POINT_COLOR))
        pen = pg.mkPen(style.MUTED, width=max(1.0, s.line * 0.5))
        pen.setStyle(Qt.PenStyle.DashLine)
        self.diagonal.setPen(pen)
        self._style_runs()


class DataView(View):
    """Data and predictions: a 2-D plot for one input feature, a 3-D scene (or a projection) for two."""

    def __init__(self, parent=None, native_gl: bool = False):
        """``native_gl``: its 3-D scene in a GL window of its own (the app's window; see ``gl.make_gl_view``)."""
        super().__init__(parent)
        self._native_gl = native_gl
        self.lecture = False
        self.run_legend = True
        self.runs = []
        self.experiment = None
        self.plot2d = _Plot2D()
        self.plane3d = None         # built on first use: only the plane model needs OpenGL here
        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)
        self._stack.addWidget(self.plot2d)
        self.decision = None        # a network's views, built on first use
        self.digits = None
        self._last = ({}, None)

    @property
    def mode(self) -> str:
        """"2d", "3d" (the plane over its inputs) or "projection" (the plane model without OpenGL)."""
        if self.experiment is not None and self._stack.currentWidget() in (self.decision, self.digits):
            return "decision" if self._stack.currentWidget() is self.decision else "digits"
        if self.experiment is None or self.experiment.model != "plane":
            return "2d"
        return "3d" if self._stack.currentWidget() is self.plane3d and self.plane3d is not None else "projection"

    def set_scene(self, experiment, surface=None) -> None:
        """The data changes with the experiment; the surface is not used here."""
        if self.experiment is not None and prediction_kind(experiment) is None \
                and experiment.same_training(self.experiment):
            # A scene edit (the grid): the same data and model, nothing to draw again (rebuilding took ~40 ms
            # of the GUI thread on every grid edit).
            self.experiment = experiment
            return
        if self.experiment is not None and experiment.data != self.experiment.data:
            self._last = ({}, None)     # paths trained on other data: their batches index samples not here
        self.experiment = experiment
        kind = prediction_kind(experiment)
        if kind is not None:
            view = self._network_view(kind)
            view.set_scene(experiment, surface)
            self._stack.setCurrentWidget(view)
        elif experiment.model == "plane" and gl_available():
            if self.plane3d is None:
                from .data_plane3d import DataPlane3D
                self.plane3d = DataPlane3D(native=self._native_gl)
                self.plane3d.set_runs(self.runs)
                self.plane3d.set_lecture_mode(self.lecture)
                self.plane3d.set_run_legend(self.run_legend)
                self._stack.addWidget(self.plane3d)
            self.plane3d.set_data(experiment)
            self._stack.setCurrentWidget(self.plane3d)
        else:
            self.plot2d.set_data(experiment, projection=experiment.model == "plane")
            self._stack.setCurrentWidget(self.plot2d)
        self.show_paths(*self._last)

    def _network_view(self, kind: str) -> View:
        attr = "decision" if kind == "decision" else "digits"
        view = getattr(self, attr)
        if view is None:
            view = DecisionView() if kind == "decision" else DigitsView()
            view.set_runs(self.runs)
            view.set_lecture_mode(self.lecture)
            view.set_run_legend(self.run_legend)
            self._stack.addWidget(view)
            setattr(self, attr, view)
        return view

    def show_predictions(self, value) -> None:
        """A network's predictions at the shown step (a DecisionMap or DigitPredictions, computed elsewhere)."""
        if value is None:
            for view in (self.decision, self.digits):
                if view is not None:
                    view.show_predictions(None)
            return
        # They may come before the surface that switches this view over: kept by kind, shown once switched.
        self._network_view("decision" if isinstance(value, DecisionMap) else "images").show_predictions(value)

    def _active(self) -> QWidget:
        return self._stack.currentWidget()

    def set_runs(self, runs) -> None:
        self.runs = list(runs)
        for view in (self.plot2d, self.plane3d, self.decision, self.digits):
            if view is not None:
                view.set_runs(self.runs)

    def show_paths(self, paths: Mapping, upto=None) -> None:
        self._last = (paths, upto)
        if self.experiment is None:
            return
        self._active().show_paths(paths, upto)

    def set_run_legend(self, on: bool) -> None:
        self.run_legend = bool(on)
        for view in (self.plot2d, self.plane3d, self.decision, self.digits):
            if view is not None:
                view.set_run_legend(on)

    def set_lecture_mode(self, on: bool) -> None:
        self.lecture = bool(on)
        for view in (self.plot2d, self.plane3d, self.decision, self.digits):
            if view is not None:
                view.set_lecture_mode(on)

    def _prepare_hidden(self) -> None:
        if self._active() is self.plane3d:
            self.window().winId()      # see SurfaceView._prepare_hidden
        super()._prepare_hidden()

    def shows_opengl(self) -> bool:
        return self.mode == "3d"

    def grab_image(self) -> QImage:
        active = self._active()
        return active.grab_image() if active is self.plane3d else super().grab_image()


def _padded(values: np.ndarray, frac: float) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = (hi - lo) * frac if hi > lo else 1.0
    return lo - pad, hi + pad
