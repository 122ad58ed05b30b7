"""The plane model's data view in 3-D: the (x1, x2, y) samples and each run's fitted plane, translucent."""
from __future__ import annotations

from typing import Mapping

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .. import style
from .gl import grab_with_legend, make_gl_legend, make_gl_view, overlay_gl_options, update_gl_legend
from .gl_labels import GLLabels, label
from .data_common import current_batch, current_index, prediction

SIZE = 10.0
HEIGHT = 6.0
PLANE_NODES = 12        # the plane is drawn on a 12 x 12 grid so it can be clipped to the box
PLANE_ALPHA = 0.33


class DataPlane3D(QWidget):
    """Samples as points in a box; per run a translucent plane and its current mini-batch ringed."""

    def __init__(self, parent=None, native: bool = False):
        """``native``: the GL view in a window of its own (the app's window; see ``gl.make_gl_view``)."""
        super().__init__(parent)
        import pyqtgraph.opengl as gl
        self.lecture = False
        self.exp = None
        self.runs = {}
        self.run_legend = True
        self.items: dict[int, dict] = {}
        self.labels = GLLabels()
        self.gl, self.gl_widget = make_gl_view(native)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.gl_widget)
        # Drawn after the translucent planes and without depth test: the samples always show.
        self.points = gl.GLScatterPlotItem(pxMode=True, glOptions=overlay_gl_options())
        self.points.setDepthValue(15)
        self.gl.addItem(self.points)
        self.grid = gl.GLGridItem()
        self.grid.setSize(SIZE, SIZE, 1)
        self.grid.setSpacing(SIZE / 10, SIZE / 10, 1)
        self.grid.setColor((255, 255, 255, 45))
        self.gl.addItem(self.grid)
        self.gl.addItem(self.labels)
        self.legend = make_gl_legend(self)
        layout.insertWidget(0, self.legend)
        from pyqtgraph import Vector
        self.gl.setCameraPosition(pos=Vector(0, 0, HEIGHT * 0.4), distance=2.1 * SIZE, elevation=22,
                                  azimuth=35)

    def set_data(self, exp) -> None:
        self.exp = exp
        x, y = exp.data.numpy()
        self.x, self.y = x, y
        self.box = [_range(x[:, 0]), _range(x[:, 1]), _range(y, 0.15)]
        self.points.setData(pos=self._scene(x[:, 0], x[:, 1], y), color=(0.9, 0.91, 0.94, 0.95),
                            size=style.sizes(self.lecture).marker + 2)
        self._labels()

    def _scene(self, a, b, c) -> np.ndarray:
        (a0, a1), (b0, b1), (c0, c1) = self.box
        return np.stack([(np.asarray(a) - a0) / (a1 - a0) * SIZE - SIZE / 2,
                         (np.asarray(b) - b0) / (b1 - b0) * SIZE - SIZE / 2,
                         (np.asarray(c) - c0) / (c1 - c0) * HEIGHT], axis=-1).astype(np.float32)

    def _labels(self) -> None:
        s = style.sizes(self.lecture)
        half, pad = SIZE / 2, 0.06 * SIZE
        self.labels.set_labels([label((half + pad, -half - pad, 0), "x1", s.label_pt),
                                label((-half - pad, half + pad, 0), "x2", s.label_pt),
                                label((-half, -half, HEIGHT + pad), "y", s.label_pt)])

    def set_runs(self, runs) -> None:
        import pyqtgraph.opengl as gl
        self.runs = {r.run_id: r for r in runs}
        for run_id in list(self.items):
            if run_id not in self.runs:
                for item in self.items.pop(run_id).values():
                    self.gl.removeItem(item)
        for run in self.runs.values():
            if run.run_id not in self.items:
                plane = gl.GLSurfacePlotItem(computeNormals=False, glOptions="translucent")
                plane.setVisible(False)     # until it has a mesh: an empty one fails to paint
                batch = gl.GLScatterPlotItem(pxMode=True, glOptions=overlay_gl_options())
                plane.setDepthValue(10 + 0.01 * run.run_id)
                batch.setDepthValue(20 + 0.01 * run.run_id)
                self.gl.addItem(plane)
                self.gl.addItem(batch)
                self.items[run.run_id] = {"plane": plane, "batch": batch}
        self._style()

    def _style(self) -> None:
        s = style.sizes(self.lecture)
        count = len(self.items)
        for rank, (run_id, its) in enumerate(self.items.items()):
            # Later runs draw smaller discs on top: every run's batch stays visible where batches coincide.
            its["batch"].setData(color=style.rgba(self.runs[run_id].color),
                                 size=s.marker * 2.0 + (count - 1 - rank) * (s.line + 3))
        update_gl_legend(self.legend, self.runs.values(), self.lecture, self.run_legend)

    def show_paths(self, paths: Mapping, upto=None) -> None:
        if self.exp is None:
            return
        (a0, a1), (b0, b1), (c0, c1) = self.box
        ga, gb = np.linspace(a0, a1, PLANE_NODES), np.linspace(b0, b1, PLANE_NODES)
        mesh = np.stack(np.meshgrid(ga, gb, indexing="ij"), axis=-1).reshape(-1, 2)
        for run_id, its in self.items.items():
            traj = paths.get(run_id)
            i = -1 if traj is None else current_index(traj, upto)
            if i < 0 or not np.isfinite(traj.params[i]).all():
                its["plane"].setVisible(False)
                its["batch"].setData(pos=np.empty((0, 3)))
                continue
            z = prediction(self.exp, traj.params[i], mesh).reshape(PLANE_NODES, PLANE_NODES)
            # A wild plane leaves the box; far outside it is clamped (where the camera does not look).
            h = c1 - c0
            z = np.clip(z, c0 - 3 * h, c1 + 3 * h)
            pos = self._scene(ga, gb, np.zeros(PLANE_NODES))
            zs = (z - c0) / (c1 - c0) * HEIGHT
            color = np.tile(np.array(style.rgba(self.runs[run_id].color, PLANE_ALPHA), np.float32),
                            (PLANE_NODES * PLANE_NODES, 1))
            its["plane"].setData(x=pos[:, 0], y=pos[:, 1], z=zs.astype(np.float32), colors=color)
            its["plane"].setVisible(True)
            batch = current_batch(traj, i)
            if batch.size and batch.size < len(self.y):
                its["batch"].setData(pos=self._scene(self.x[batch, 0], self.x[batch, 1], self.y[batch]))
            else:
                its["batch"].setData(pos=np.empty((0, 3)))

    def set_run_legend(self, on: bool) -> None:
        self.run_legend = bool(on)
        self._style()

    def set_lecture_mode(self, on: bool) -> None:
        self.lecture = bool(on)
        self._style()
        if self.exp is not None:
            self.points.setData(size=style.sizes(self.lecture).marker + 2)
            self._labels()

    def grab_image(self) -> QImage:
        return grab_with_legend(self.gl, self.gl_widget, self.legend)


def _range(values: np.ndarray, frac: float = 0.02) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = (hi - lo) * frac if hi > lo else 1.0
    return lo - pad, hi + pad
