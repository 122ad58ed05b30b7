"""The 3-D view: the loss surface in OpenGL with every run's path lifted onto it.

The scene lives in a normalised box (x and y span ``SIZE``, the height spans ``HEIGHT``) so the camera,
grid and labels suit any grid range. Heights are the loss scaled into the box (the classic bowl); with
``set_log_scale(True)`` they are ``log(1 + (loss - min) / s)`` with ``s`` a hundredth of the loss range, which
keeps a loss spanning orders of magnitude legible (the valley floor is not flattened by the steep walls).
The paths use the same transform, so they lie on the surface.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QVBoxLayout

from .. import style
from .base import View, axis_columns, axis_name
from .decimate import SegmentCache
from .gl import (colors_for, gl_available, grab_with_legend, make_gl_legend, make_gl_view, mesh_gl_options,
                 overlay_gl_options, shade, update_gl_legend)
from .isolines import nice_levels
from .path_items import leaving

SIZE = 10.0
HEIGHT = 5.0
MAX_MESH = 121            # the surface mesh is strided to at most this many nodes per axis (llvmpipe draws
                          # a 241 x 241 mesh in ~35 ms at 1280x800; smooth shading hides the coarser grid)
PATH_CELLS = 600          # path decimation: distinct segments on a 600 x 600 grid over the box (about
                          # 2 pixels at 1280x800, the width of a path line)
DEFAULT_CAMERA = (-60.0, 30.0, 1.9 * SIZE)   # azimuth, elevation, distance


class _HeightMap:
    """The surface's loss -> scene height transform (shared by the mesh and the paths)."""

    def __init__(self, loss: np.ndarray, log: bool):
        finite = loss[np.isfinite(loss)]
        self.lo = float(finite.min()) if finite.size else 0.0
        self.hi = float(finite.max()) if finite.size else 1.0
        self.log = log
        self.scale = max((self.hi - self.lo) / 100.0, np.finfo(float).tiny)
        self.top = self._raw(self.hi)
        if not self.top > 0:
            self.top = 1.0

    def _raw(self, loss):
        d = np.maximum(np.asarray(loss, dtype=np.float64) - self.lo, 0.0)
        return np.log1p(d / self.scale) if self.log else d

    def __call__(self, loss) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore"):
            return HEIGHT * self._raw(loss) / self.top


class SurfaceView(View):
    """GLSurfacePlotItem of the loss, paths as lines on it, current points highlighted; orbit and zoom."""

    def __init__(self, parent=None, native: bool = False):
        """``native``: the GL view in a window of its own (the app's window; see ``gl.make_gl_view``)."""
        super().__init__(parent)
        self.lecture = False
        self.log_scale = False
        self.colormap_name = style.DEFAULT_COLORMAP
        self.experiment = None
        self.surface = None
        self.runs = {}
        self.run_legend = True
        self._last = ({}, None)
        self._height = None
        self._box = None
        self._mesh_grid = None          # the mesh's scene x, y and heights (len(x), len(y)), for hidden labels
        self._caches: dict[int, SegmentCache] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.gl, self.gl_widget = make_gl_view(native) if gl_available() else (None, None)
        if self.gl is None:
            self.placeholder = QLabel("The 3-D view needs OpenGL, which is not available here.")
            self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.placeholder.setStyleSheet(f"color: {style.MUTED}; background: {style.BACKGROUND};")
            layout.addWidget(self.placeholder)
            return
        import pyqtgraph.opengl as gl
        from .gl_labels import GLLabels
        layout.addWidget(self.gl_widget)
        # Lighting is baked into the vertex colours (see ``shade``): a pass-through shader is the cheapest
        # thing llvmpipe can fill a 1280x800 frame with, and no normals need computing per scene.
        self.mesh = gl.GLSurfacePlotItem(computeNormals=False, glOptions=mesh_gl_options())
        self.mesh.setVisible(False)          # an empty mesh cannot be drawn
        self.gl.addItem(self.mesh)
        self.grid = gl.GLGridItem()
        self.grid.setSize(SIZE, SIZE, 1)
        self.grid.setSpacing(SIZE / 10, SIZE / 10, 1)
        self.grid.setColor((255, 255, 255, 45))
        self.grid.translate(0, 0, -0.06 * HEIGHT)   # below the valley floor (the mesh is depth-offset back)
        self.gl.addItem(self.grid)
        self.labels = GLLabels()
        self.labels.hides = self._behind_surface
        self.gl.addItem(self.labels)
        # Every run's path, start and current point: one GL item each for all runs (per-vertex colours).
        # Each item costs ~0.3 ms of Python a frame in pyqtgraph's paint, with the GIL held.
        self.paths = gl.GLLinePlotItem(mode="lines", antialias=True, glOptions=overlay_gl_options())
        self.starts = gl.GLScatterPlotItem(pxMode=True, glOptions=overlay_gl_options())
        self.currents = gl.GLScatterPlotItem(pxMode=True, glOptions=overlay_gl_options())
        for depth, item in enumerate((self.paths, self.starts, self.currents)):
            item.setDepthValue(10 + 10 * depth)
            self.gl.addItem(item)
        self.legend = make_gl_legend(self)
        layout.insertWidget(0, self.legend)
        self.reset_view()

    # -- camera -----------------------------------------------------------------------------------------
    def reset_view(self) -> None:
        """Back to the default camera: the whole surface, seen from the front left, a little above."""
        self.set_camera(*DEFAULT_CAMERA)

    def set_camera(self, azimuth: float, elevation: float, distance: float | None = None) -> None:
        """Place the camera (degrees; distance in scene units, the surface spans ``SIZE``) — for slow orbits."""
        if self.gl is None:
            return
        from pyqtgraph import Vector
        self.gl.setCameraPosition(pos=Vector(0, 0, HEIGHT * 0.3), distance=distance or DEFAULT_CAMERA[2],
                                  elevation=elevation, azimuth=azimuth)

    def camera(self) -> tuple[float, float, float]:
        o = self.gl.opts if self.gl is not None else {}
        return (o.get("azimuth", 0.0), o.get("elevation", 0.0), o.get("distance", 0.0))

    def project(self, x: float, y: float, loss: float) -> tuple[float, float]:
        """Where the surface point (x, y, loss) appears in the rendered image, in pixels (for tests, captions)."""
        from PySide6.QtGui import QVector4D
        w, h = self.gl.width(), self.gl.height()
        sx, sy = self._scene_xy(x, y)
        matrix = self.gl.projectionMatrix((0, 0, w, h), (0, 0, w, h)) * self.gl.viewMatrix()
        clip = matrix.map(QVector4D(float(sx), float(sy), float(self._height(loss)), 1.0))
        # In the view's image: the GL widget lies under the legend's row, when there is one.
        top_left = self.gl_widget.pos()
        return (top_left.x() + (clip.x() / clip.w() + 1) / 2 * w, top_left.y() + (1 - clip.y() / clip.w()) / 2 * h)

    # -- scene ------------------------------------------------------------------------------------------
    def set_scene(self, experiment, surface) -> None:
        self.experiment = experiment
        self.surface = surface
        if self.gl is None:
            return
        if surface is None:
            self.mesh.setVisible(False)
            self._mesh_grid = None
            self.labels.forget_hidden()
            return
        self._draw_surface()
        self._draw_labels()
        self._redraw()

    def set_log_scale(self, on: bool) -> None:
        """Heights compressed logarithmically (True) or linear in the loss (False, the default)."""
        self.log_scale = bool(on)
        if self.surface is not None and self.gl is not None:
            self._draw_surface()
            self._draw_labels()
            self._redraw()

    def set_colormap(self, name: str) -> None:
        self.colormap_name = name
        if self.surface is not None and self.gl is not None:
            self._draw_surface()

    def _scene_xy(self, x, y):
        (x0, x1), (y0, y1) = self._box
        return (np.asarray(x) - x0) / (x1 - x0) * SIZE - SIZE / 2, (np.asarray(y) - y0) / (y1 - y0) * SIZE - SIZE / 2

    def _draw_surface(self) -> None:
        s = self.surface
        w, b, loss = np.asarray(s.w, float), np.asarray(s.b, float), np.asarray(s.loss, float)
        self._box = ((w[0], w[-1]), (b[0], b[-1]))
        self._height = _HeightMap(loss, self.log_scale)
        sj = max(1, int(np.ceil(len(w) / MAX_MESH)))
        si = max(1, int(np.ceil(len(b) / MAX_MESH)))
        jj = np.unique(np.r_[np.arange(0, len(w), sj), len(w) - 1])
        ii = np.unique(np.r_[np.arange(0, len(b), si), len(b) - 1])
        sub = loss[np.ix_(ii, jj)]
        sub = np.where(np.isfinite(sub), sub, self._height.hi)
        z = self._height(sub).T                              # GL wants (len(x), len(y))
        xs, ys = self._scene_xy(w[jj], b[ii])
        colors = shade(colors_for(z, 0.0, HEIGHT, self.colormap_name), xs, ys, z).reshape(-1, 4)
        self.mesh.setData(x=xs.astype(np.float32), y=ys.astype(np.float32), z=z.astype(np.float32),
                          colors=colors.astype(np.float32))
        self._mesh_grid = (np.asarray(xs, float), np.asarray(ys, float), np.asarray(z, float))
        self.mesh.setVisible(True)

    def _behind_surface(self, point, eye) -> bool:
        """Whether the surface hides a scene point (a tick label on the floor's far edges) from ``eye``. From
        below the floor the surface is a sheet seen from underneath, not a solid: nothing is hidden then."""
        return self._mesh_grid is not None and eye[2] > 0 and behind_surface(point, eye, *self._mesh_grid)

    def _draw_labels(self) -> None:
        from .gl_labels import label
        s = style.sizes(self.lecture)
        ax, ay = (axis_name(a) for a in self.surface.axes)
        (x0, x1), (y0, y1) = self._box
        half = SIZE / 2
        pad = 0.06 * SIZE
        # Axis titles read outward along their axes, beyond their rows of tick labels and inside the view:
        # centred at the axes' far ends they lay across the surface and its paths, or past the view's edge. At
        # the default camera the x title goes beyond its far end (the footprint's lowest corner); the y axis's
        # far end lies behind the surface and a wall can rise over its middle (a PCA plane's does), so its
        # title goes before its near end, the footprint's leftmost corner. Nothing of the surface lies below
        # its floor, so both places stay empty whatever the heights.
        xt, yt = _ticks(x0, x1), _ticks(y0, y1)
        clear = _text_half_size([f"{v:g}" for v in (*xt, *yt)], s.font_pt, margin=s.font_pt + 4)
        items = [label((half + pad, -half - pad, 0), ax, s.label_pt, away=(-half, -half - pad, 0), clear=clear),
                 label((-half - pad, -half - pad, 0), ay, s.label_pt, away=(-half - pad, 0, 0), clear=clear),
                 label((-half, -half, HEIGHT + pad), _height_name(self.surface) + (" (log)" if self.log_scale else ""),
                       s.label_pt, away=(0, 0, HEIGHT + pad))]
        alternates = [None] * len(items)
        # An axis's tick labels on the floor's edge by its title, or on the opposite edge when the surface hides
        # some of them from the camera there (text is painted over the image: it would show through the surface).
        for v in xt:
            x = float(self._scene_xy(v, y0)[0])
            items += [label((x, -half - pad, 0), f"{v:g}", s.font_pt, style.MUTED),
                      label((x, half + pad, 0), f"{v:g}", s.font_pt, style.MUTED)]
            alternates += ["x", None]
        for v in yt:
            y = float(self._scene_xy(x0, v)[1])
            items += [label((-half - pad, y, 0), f"{v:g}", s.font_pt, style.MUTED),
                      label((half + pad, y, 0), f"{v:g}", s.font_pt, style.MUTED)]
            alternates += ["y", None]
        self.labels.set_labels(items, alternates)

    # -- runs and paths ---------------------------------------------------------------------------------
    def set_runs(self, runs) -> None:
        self.runs = {r.run_id: r for r in runs}
        if self.gl is None:
            return
        self._caches = {run_id: self._caches.get(run_id) or SegmentCache() for run_id in self.runs}
        self._style_runs()
        self._update_legend()
        self._redraw()

    def _style_runs(self) -> None:
        s = style.sizes(self.lecture)
        self.paths.setData(width=s.line * 1.25)
        self.starts.setData(size=s.start * 0.8)
        self.currents.setData(size=s.current * 1.2)

    def set_run_legend(self, on: bool) -> None:
        self.run_legend = bool(on)
        if self.gl is not None:
            self._update_legend()

    def _update_legend(self) -> None:
        update_gl_legend(self.legend, self.runs.values(), self.lecture, self.run_legend)

    def show_paths(self, paths: Mapping, upto: int | None = None) -> None:
        self._last = (paths, upto)
        if self.gl is None or self.surface is None:
            return
        (x0, x1), (y0, y1) = self._box
        cell = ((x1 - x0) / PATH_CELLS, (y1 - y0) / PATH_CELLS)
        lift = 0.005 * HEIGHT
        lines, line_colors, starts, currents, current_colors = [], [], [], [], []
        for run_id, cache in self._caches.items():
            traj = paths.get(run_id)
            cols = self._columns(traj)
            n = 0 if traj is None or cols is None else (len(traj) if upto is None
                                                        else max(0, min(int(upto), len(traj))))
            if n == 0:
                continue
            color = style.rgba(self.runs[run_id].color)
            # A path that leaves the surface's box is drawn up to its edge, ending on the surface there (a
            # diverging run left the box on its first step and was not drawn at all).
            n, exit_point = leaving(traj.params, n, cols, (x0, x1, y0, y1))
            cache.configure(cell, (x0, y0))
            pairs, seg_index = cache.update(traj.params, n, cols)
            ends = cache.point_indices(seg_index.size)
            z = self._height(traj.loss[ends]) + lift
            ok = _inside(pairs, self._box) & np.isfinite(z)
            ok = np.repeat(ok[0::2] & ok[1::2], 2)
            segments = self._lift(pairs[ok, 0], pairs[ok, 1], z[ok])
            current = self._point(traj, n - 1, cols, 2 * lift)
            if exit_point is not None:
                a = traj.params[n - 1, list(cols)]
                za = self._height(traj.loss[n - 1]) + lift
                ze = self._height(_grid_value(self.surface, *exit_point)) + lift
                edge = self._lift(np.array([a[0], exit_point[0]]), np.array([a[1], exit_point[1]]),
                                  np.array([za, ze]))
                if np.isfinite(edge).all():
                    segments = np.concatenate([segments, edge])
                    current = edge[1:] + np.float32([0.0, 0.0, lift])
            lines.append(segments)
            line_colors.append(np.broadcast_to(np.float32(color), (len(segments), 4)))
            starts.append(self._point(traj, 0, cols, lift))
            currents.append(current)
            current_colors.append(np.broadcast_to(np.float32(color), (len(currents[-1]), 4)))
        empty = np.empty((0, 3), np.float32)
        self.paths.setData(pos=np.concatenate(lines) if lines else empty,
                           color=np.concatenate(line_colors) if lines else (1.0, 1.0, 1.0, 1.0))
        # A tuple: one colour for every start point.
        self.starts.setData(pos=np.concatenate(starts) if starts else empty, color=(0.95, 0.95, 0.95, 1.0))
        self.currents.setData(pos=np.concatenate(currents) if currents else empty,
                              color=np.concatenate(current_colors) if currents else (1.0, 1.0, 1.0, 1.0))

    def _lift(self, x, y, z) -> np.ndarray:
        sx, sy = self._scene_xy(x, y)
        return np.stack([sx, sy, z], axis=1).astype(np.float32)

    def _point(self, traj, i: int, cols, lift: float) -> np.ndarray:
        p = traj.params[i, list(cols)]
        z = self._height(traj.loss[i]) + lift
        if not (np.isfinite(p).all() and np.isfinite(z)) or not _inside(p[None, :], self._box)[0]:
            return np.empty((0, 3), np.float32)
        return self._lift(p[:1], p[1:], np.atleast_1d(z))

    def _columns(self, traj):
        return axis_columns(traj, self.surface)

    def _redraw(self) -> None:
        if self._last[0]:
            self.show_paths(*self._last)

    # -- lecture mode and images ------------------------------------------------------------------------
    def set_lecture_mode(self, on: bool) -> None:
        self.lecture = bool(on)
        if self.gl is None:
            return
        self._style_runs()
        self._update_legend()
        if self.surface is not None:
            self._draw_labels()

    def _prepare_hidden(self) -> None:
        if self.gl is not None:
            # Create the hidden window's native handle first: the GL widget creating it during its first
            # grab re-lays the window out at size 0.
            self.window().winId()
        super()._prepare_hidden()

    def shows_opengl(self) -> bool:
        return self.gl is not None

    def grab_image(self) -> QImage:
        """The GL framebuffer with the legend painted over it (``QWidget.grab`` may miss GL content)."""
        if self.gl is None:
            return super().grab_image()
        return grab_with_legend(self.gl, self.gl_widget, self.legend)


def _text_half_size(texts, points: int, margin: float) -> tuple[float, float]:
    """Half the width and height of the largest of ``texts`` at ``points``, plus ``margin`` pixels."""
    from PySide6.QtGui import QFontMetrics
    metrics = QFontMetrics(style.font(points))
    boxes = [metrics.tightBoundingRect(t) for t in texts] or [metrics.tightBoundingRect("0")]
    return (max(b.width() for b in boxes) / 2 + margin, max(b.height() for b in boxes) / 2 + margin)


def _height_name(surface) -> str:
    return "accuracy" if getattr(surface, "metric", "loss") == "accuracy" else "loss"


def _grid_value(surface, x: float, y: float) -> float:
    """The surface's loss at (x, y) inside its grid, interpolated between the four nodes around it."""
    w, b, loss = np.asarray(surface.w, float), np.asarray(surface.b, float), np.asarray(surface.loss, float)
    j = int(np.clip(np.searchsorted(w, x) - 1, 0, len(w) - 2))
    i = int(np.clip(np.searchsorted(b, y) - 1, 0, len(b) - 2))
    tx = float(np.clip((x - w[j]) / (w[j + 1] - w[j]), 0.0, 1.0))
    ty = float(np.clip((y - b[i]) / (b[i + 1] - b[i]), 0.0, 1.0))
    return ((1 - ty) * ((1 - tx) * loss[i, j] + tx * loss[i, j + 1])
            + ty * ((1 - tx) * loss[i + 1, j] + tx * loss[i + 1, j + 1]))


def _inside(points: np.ndarray, box) -> np.ndarray:
    (x0, x1), (y0, y1) = box
    x, y = points[:, 0], points[:, 1]
    with np.errstate(invalid="ignore"):
        return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def behind_surface(point, eye, xs: np.ndarray, ys: np.ndarray, z: np.ndarray, samples: int = 96) -> bool:
    """Whether the height field ``z`` (len(xs), len(ys)) over the increasing grid ``xs`` x ``ys`` rises above the
    straight line from ``point`` to ``eye`` somewhere over the grid: the surface then hides the point from there.
    Heights between grid points are bilinear, as the mesh's triangles nearly are."""
    p, e = np.asarray(point, float), np.asarray(eye, float)
    line = p + np.linspace(0.0, 1.0, samples)[1:-1, None] * (e - p)
    inside = ((line[:, 0] >= xs[0]) & (line[:, 0] <= xs[-1]) & (line[:, 1] >= ys[0]) & (line[:, 1] <= ys[-1]))
    if not inside.any():
        return False
    q = line[inside]
    i = np.clip(np.searchsorted(xs, q[:, 0]) - 1, 0, len(xs) - 2)
    j = np.clip(np.searchsorted(ys, q[:, 1]) - 1, 0, len(ys) - 2)
    u = (q[:, 0] - xs[i]) / (xs[i + 1] - xs[i])
    v = (q[:, 1] - ys[j]) / (ys[j + 1] - ys[j])
    height = ((1 - u) * (1 - v) * z[i, j] + u * (1 - v) * z[i + 1, j] + (1 - u) * v * z[i, j + 1]
              + u * v * z[i + 1, j + 1])
    return bool((q[:, 2] < height).any())


def _ticks(lo: float, hi: float) -> list[float]:
    return [float(v) for v in nice_levels(lo, hi, count=4)]
