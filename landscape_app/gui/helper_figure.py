"""The course helper's figures, drawn with the app's own views: what ``plot_ps``, ``final_plot`` and ``go=True``
show, as the course's matplotlib figures did, and more.

- ``plot_ps``: the data space (points, the fitted line or sigmoid, the current mini-batch ringed) beside the
  contour with the path, both titled with the iteration.
- ``final_plot``: the 3-D surface with the path lifted onto it, the contour, the data space and the loss per
  iteration.
- ``surface`` (``go=True``): the 3-D surface beside the contour, before anything is recorded.
- ``window``: the live window's four panels.

The same widget is shown as the live window or rendered, never shown, into an image (notebooks, files).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QRegion
from PySide6.QtWidgets import QApplication, QGridLayout, QLabel, QLayout, QVBoxLayout, QWidget

from . import style
# Imported before any QApplication exists: the views switch on GL context sharing (see views.gl).
from .views import RUN_COLORS, ContourView, DataView, LossView, RunStyle, SurfaceView

PANELS = {"surface": ("surface3d", "contour"), "plot_ps": ("data", "contour"),
          "final_plot": ("surface3d", "contour", "data", "loss"), "window": ("data", "contour", "surface3d", "loss")}
SIZES = {"surface": (1000, 440), "plot_ps": (1000, 440), "final_plot": (1000, 820), "window": (1100, 820)}
VIEW_CLASSES = {"surface3d": SurfaceView, "contour": ContourView, "data": DataView, "loss": LossView}
MARGIN = 8


def default_size(kind: str, gl: bool) -> tuple[int, int]:
    """A figure's size in pixels; without OpenGL a final plot has three panels in a row."""
    if kind == "final_plot" and not gl:
        return 1300, 440
    if kind == "surface" and not gl:
        return 560, 440
    return SIZES[kind]


class Panel(QWidget):
    """A view under its title."""

    def __init__(self, view, parent=None):
        super().__init__(parent)
        self.view = view
        self.title = QLabel()
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.title.setWordWrap(True)             # a narrow panel (the course's 640 x 480) wraps, not cuts
        self.title.setFont(style.font(style.sizes(False).title_pt, bold=True))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(view, stretch=1)

    def set_title(self, text: str) -> None:
        self.title.setText(text)


class HelperFigure(QWidget):
    """The panels of one figure ``kind`` for a ``LossSurface``; ``update_from(helper)`` draws its state."""

    closed = Signal()

    def __init__(self, kind: str, gl: bool):
        super().__init__()
        self.kind = kind
        self.setWindowTitle("landscape-app: loss surface")
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(style.BACKGROUND))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(style.FOREGROUND))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        names = [n for n in PANELS[kind] if gl or n != "surface3d" or kind == "window"]
        self.views = {name: VIEW_CLASSES[name]() for name in names}
        self.panels = {name: Panel(view) for name, view in self.views.items()}
        if "contour" in self.views:
            # The contour's legend names the runs; the 3-D and data views keep their room for the picture.
            for name in ("surface3d", "data"):
                if name in self.views:
                    self.views[name].set_run_legend(False)
        grid = QGridLayout(self)
        # No size constraint on the top level: the offscreen platform warns about size hints it cannot pass on.
        grid.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        grid.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        grid.setSpacing(MARGIN)
        columns = 2 if len(names) in (2, 4) else len(names)
        for k, name in enumerate(names):
            grid.addWidget(self.panels[name], k // columns, k % columns)
        for r in range((len(names) + columns - 1) // columns):
            grid.setRowStretch(r, 1)
        for c in range(columns):
            grid.setColumnStretch(c, 1)
        self._surface = None
        self._styles = ()
        contour = self.views.get("contour")
        if contour is not None:
            pen = pg.mkPen(style.FOREGROUND, width=1)
            pen.setStyle(Qt.PenStyle.DashLine)
            self.course_frame = pg.PlotCurveItem(pen=pen)        # the course's range, when the view is wider
            self.course_frame.setZValue(15)
            contour.plot.addItem(self.course_frame, ignoreBounds=True)
            self.edge_marks = pg.ScatterPlotItem(symbol="t", size=11, pxMode=True)   # points beyond the view
            self.edge_marks.setZValue(70)
            contour.plot.addItem(self.edge_marks, ignoreBounds=True)

    # -- drawing the helper's state -------------------------------------------------------------------------
    def update_from(self, helper) -> None:
        surface = helper.display_surface()
        if surface is not self._surface:
            self._surface = surface
            for view in self.views.values():
                view.set_scene(helper.experiment, surface)
        runs = [t for t in helper.trajectories if len(t)]
        styles = tuple(RunStyle(i, "your path" if len(runs) == 1 else f"run {i + 1}", RUN_COLORS[i % len(RUN_COLORS)])
                       for i in range(len(runs)))
        if styles != self._styles:
            self._styles = styles
            for name, view in self.views.items():
                view.set_runs(styles[-1:] if name == "data" else styles)
        paths = dict(enumerate(runs))
        for name, view in self.views.items():
            if name == "data":
                if runs:
                    self._fit_data_range(helper, runs[-1])
                view.show_paths({len(runs) - 1: runs[-1]} if runs else {})
            elif name == "loss":
                view.show_paths({i: _recorded_at_own_step(t) for i, t in paths.items()})
            else:
                view.show_paths(paths)
        self._mark_edges(helper, runs)
        self._set_titles(helper, len(runs))

    def _set_titles(self, helper, n_runs: int) -> None:
        it = "" if self.kind == "surface" else f" · iteration {helper.n}"
        run = f" · run {n_runs}" if n_runs > 1 else ""
        loss = helper.loss_name + (", a guess" if helper.guessed else "")
        titles = {"data": f"Data space{it}{run}", "contour": f"Loss contour: {loss}{it}",
                  "surface3d": f"Loss surface: {loss}{it}", "loss": "Loss per iteration"}
        for name, panel in self.panels.items():
            panel.set_title(titles[name])

    def _fit_data_range(self, helper, traj) -> None:
        """Widen the data plot's y axis to take in the run's lines (the course fixed it at -10..15); a line far
        off is cut at two spans of the data beyond it."""
        if helper.experiment.model != "linear":
            return
        x, y = helper.x, helper.y
        lo, hi = float(y.min()), float(y.max())
        span = hi - lo if hi > lo else 1.0
        p = traj.params[np.isfinite(traj.params).all(axis=1)]
        ends = np.concatenate([p[:, 0] * x.min() + p[:, 1], p[:, 0] * x.max() + p[:, 1]]) if p.size else np.empty(0)
        top = min(max(hi, ends.max(initial=hi)), hi + 2 * span) + 0.08 * span
        bottom = max(min(lo, ends.min(initial=lo)), lo - 2 * span) - 0.08 * span
        self.views["data"].plot2d.vb.setRange(yRange=(bottom, top), padding=0)

    def _mark_edges(self, helper, runs) -> None:
        """The course's range as a dashed frame when the view was widened for the path; points still outside
        the view as triangles on its edge, in their run's colour."""
        if "contour" not in self.views:
            return
        (w0, w1), (b0, b1) = helper.course_box
        (v0, v1), (u0, u1) = helper.display_box()
        if (w0, w1, b0, b1) != (v0, v1, u0, u1):
            self.course_frame.setData([w0, w1, w1, w0, w0], [b0, b0, b1, b1, b0])
        else:
            self.course_frame.setData([], [])
        spots = []
        for i, traj in enumerate(runs):
            p = traj.params[np.isfinite(traj.params).all(axis=1)]
            out = (p[:, 0] < v0) | (p[:, 0] > v1) | (p[:, 1] < u0) | (p[:, 1] > u1)
            if out.any():
                at = np.unique(np.column_stack([np.clip(p[out, 0], v0, v1), np.clip(p[out, 1], u0, u1)]), axis=0)
                color = RUN_COLORS[i % len(RUN_COLORS)]
                spots += [{"pos": tuple(q), "brush": pg.mkBrush(color), "pen": pg.mkPen("#ffffff", width=1)}
                          for q in at[:500]]
        self.edge_marks.setData(spots)

    # -- images ---------------------------------------------------------------------------------------------
    def render_image(self, width: int, height: int) -> QImage:
        """The figure at ``width`` x ``height`` pixels, laid out but never shown on a screen."""
        self.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self.resize(int(width), int(height))
        self.show()
        try:
            QApplication.processEvents()
            self._paint()              # pyqtgraph sizes its axes to the tick labels it measured while painting
            QApplication.processEvents()
            return self._paint()
        finally:
            self.hide()

    def _paint(self) -> QImage:
        image = QImage(self.width(), self.height(), QImage.Format.Format_RGB32)
        image.fill(QColor(style.BACKGROUND))
        gl_views = [v for v in self.views.values() if v.shows_opengl()]
        region = QRegion(self.rect())
        for view in gl_views:
            region -= QRegion(QRect(view.mapTo(self, QPoint(0, 0)), view.size()))
        self.render(image, QPoint(), region)
        if gl_views:
            # QWidget.render leaves out what GL views paint over OpenGL (their labels): lay their own grab over.
            painter = QPainter(image)
            try:
                for view in gl_views:
                    top_left = view.mapTo(self, QPoint(0, 0))
                    painter.drawImage(QRectF(top_left.x(), top_left.y(), view.width(), view.height()),
                                      view.grab_image())
            finally:
                painter.end()
        return image

    def closeEvent(self, event) -> None:
        super().closeEvent(event)
        self.closed.emit()


def _recorded_at_own_step(traj):
    """The loss view draws step i's batch loss at iteration i - 1 (the app's losses drive the step after
    them); the helper's recorded loss belongs to its own point: shift it so it is drawn there."""
    shifted = np.concatenate([[np.nan], traj.batch_loss[:-1]])
    return dataclasses.replace(traj, batch_loss=shifted)


__all__ = ["HelperFigure", "PANELS", "default_size"]
