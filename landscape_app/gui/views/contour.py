"""The contour view: the loss surface as a heat map with iso-lines and a colour bar, every run's path on top.

Also the mini-batch contour (the same class fed a batch surface, with a title).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsItem

from .. import style
from .base import RunStyle, axis_columns, axis_name, value_label
from .isolines import isolines, nice_levels
from .layers import LayerItem
from .path_items import PathItems, path_pen
from .plot_view import PlotView

ARROWS_ACROSS = 18        # gradient arrows along the longer axis
HOVER_OFFSET = 16         # pixels between the cursor and its read-out
# Iso-lines of a fine grid (a 1201 x 1201 surface) come from every k-th node: at a view's few hundred pixels they
# look the same, and tracing them all took half a second of the GUI thread.
MAX_ISOLINE_NODES = 301


def surface_extent(surface) -> QRectF:
    """The rectangle the image covers: pixel centres sit on the grid nodes."""
    x, y = np.asarray(surface.w), np.asarray(surface.b)
    dx = (x[-1] - x[0]) / max(len(x) - 1, 1)
    dy = (y[-1] - y[0]) / max(len(y) - 1, 1)
    return QRectF(x[0] - dx / 2, y[0] - dy / 2, dx * len(x), dy * len(y))


def log_floor(loss: np.ndarray) -> float:
    """The smallest value a log colour scale shows (a loss of exactly 0 would be -inf)."""
    finite = loss[np.isfinite(loss)]
    if finite.size == 0:
        return 1e-12
    top = float(finite.max())
    positive = finite[finite > 0]
    low = float(positive.min()) if positive.size else top * 1e-6
    return max(low, top * 1e-12, np.finfo(float).tiny)


class ContourView(PlotView):
    """Heat map + iso-lines + colour bar of the surface, with paths, hover read-out and click-to-start."""

    hovered = Signal(float, float, float)        # x, y and the loss at the grid node under the cursor
    hover_left = Signal()                        # the cursor left the surface: no reading any more
    start_clicked = Signal(float, float)         # data coordinates of a left click on the surface

    def __init__(self, parent=None):
        super().__init__(parent)
        self.experiment = None
        self.surface = None
        self.log_scale = False
        self.gradient_field = False
        self.colormap_name = style.DEFAULT_COLORMAP
        self.paths: dict[int, PathItems] = {}
        self._last = ({}, None)
        self._extent = None

        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(interactive=False, colorMap=style.colormap(self.colormap_name),
                                        width=16, colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        # The values as they are: an accuracy of 0.25..0.5 read "250..500, accuracy (x0.001)" with SI prefixes (the
        # bar's other three axes only frame it, but no axis of the app scales its values).
        for name in ("left", "right", "top", "bottom"):
            self.colorbar.getAxis(name).enableAutoSIPrefix(False)
        self.isolines = pg.PlotCurveItem(connect="pairs", skipFiniteCheck=True, antialias=True)
        self.isolines.setZValue(-5)
        self.plot.addItem(self.isolines, ignoreBounds=True)
        self.arrows = pg.PlotCurveItem(connect="pairs", skipFiniteCheck=True, antialias=True)
        self.arrows.setZValue(-4)
        # The background (heat map, iso-lines, arrows) does not change while a path grows: keep it as a device
        # pixmap, so a frame repaints only the paths. Qt re-renders a cached item when it or the view changes.
        for item in (self.image, self.isolines, self.arrows):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.arrows.setVisible(False)
        self.plot.addItem(self.arrows, ignoreBounds=True)
        # Every run's path in one item (see ``layers``); paths never widen the view: a diverging run would
        # zoom the surface away.
        self.path_layers = LayerItem()
        self.path_layers.setZValue(20)      # above the image, the iso-lines and the arrows
        self.plot.addItem(self.path_layers, ignoreBounds=True)
        self.start_marker = pg.ScatterPlotItem(symbol="+", pxMode=True, antialias=True)
        self.start_marker.setZValue(60)
        self.plot.addItem(self.start_marker, ignoreBounds=True)

        self.hover_text = pg.TextItem(anchor=(0, 0), color=style.FOREGROUND, fill=pg.mkBrush(20, 22, 28, 200))
        # Beside the cursor and under the paths (above the heat map): a reading never hides a path.
        self.plot.addItem(self.hover_text, ignoreBounds=True)
        self.hover_text.setZValue(10)
        self.hover_text.setVisible(False)
        self._hover_pos = None          # the cursor's scene position while it is over the surface

        self.plot.showGrid(x=False, y=False)
        self.vb.setDefaultPadding(0.0)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.vb.sigRangeChanged.connect(self._redraw)
        self.vb.sigResized.connect(self._redraw)
        self._apply_style()

    # -- scene ----------------------------------------------------------------------------------------------
    def set_scene(self, experiment, surface) -> None:
        """Draw ``surface`` (a ``core.surface.Surface``, or None to clear) as the background."""
        self.experiment = experiment
        self.surface = surface
        if surface is None:
            self.image.clear()
            self.isolines.setData([], [])
            self.arrows.setData([], [])
            self._hide_hover()
            return
        # The rotated left title has only the plot's height: a random direction's normalisation, said on the
        # bottom axis (which has the width) and in the plane's line, is left out there.
        ax, ay = tuple(surface.axes)
        self.set_axis_labels(ax, axis_name(ay))
        extent = surface_extent(surface)
        if extent != self._extent:      # keep the user's zoom while only the values change
            self._extent = extent
            self.vb.setRange(rect=extent, padding=0.0)
        self._draw_surface()
        self._draw_gradient()
        self._redraw()
        if self._hover_pos is not None:
            self._on_mouse_moved(self._hover_pos)    # the reading under the cursor, on the new surface

    def _loss(self) -> np.ndarray:
        return np.asarray(self.surface.loss, dtype=np.float64)

    def _draw_surface(self) -> None:
        s = self.surface
        loss = self._loss()
        finite = loss[np.isfinite(loss)]
        if finite.size == 0:
            self.image.clear()
            self.isolines.setData([], [])
            return
        lo, hi = float(finite.min()), float(finite.max())
        if self.log_scale:
            floor = log_floor(loss)
            shown = np.log10(np.clip(np.nan_to_num(loss, nan=hi, posinf=hi), floor, None))
            levels = (np.log10(floor), np.log10(max(hi, floor * 10)))
        else:
            shown = np.nan_to_num(loss, nan=hi, posinf=hi, neginf=lo)
            levels = (lo, hi if hi > lo else lo + 1.0)
        # pyqtgraph indexes images [x, y]; the surface is [row = y, column = x].
        self.image.setImage(np.ascontiguousarray(shown.T), autoLevels=False, levels=levels)
        self.image.setRect(surface_extent(s))
        # Log mode first: the axis raises 10 to its range, and a linear range (up to 1e3 or more) overflows.
        self.colorbar.axis.setLogMode(self.log_scale)
        self.colorbar.setLevels(levels)
        label = value_label(s)
        self.colorbar.axis.setLabel(label + (" (log)" if self.log_scale else ""),
                                    **{"color": style.FOREGROUND,
                                       "font-size": f"{style.sizes(self.lecture).label_pt}pt"})
        iso_lo = max(lo, floor) if self.log_scale else lo
        segs = isolines(loss, np.asarray(s.w), np.asarray(s.b), nice_levels(iso_lo, hi, self.log_scale),
                        max_nodes=MAX_ISOLINE_NODES)
        self.isolines.setData(segs[:, 0], segs[:, 1])

    def _draw_gradient(self) -> None:
        if not self.gradient_field or self.surface is None:
            self.arrows.setData([], [])
            self.arrows.setVisible(False)
            return
        self.arrows.setData(*gradient_arrows(self.surface).T)
        self.arrows.setVisible(True)

    # -- options ------------------------------------------------------------------------------------------
    def set_log_scale(self, on: bool) -> None:
        """Colour (and iso-line spacing) on a log scale, for losses spanning orders of magnitude."""
        self.log_scale = bool(on)
        if self.surface is not None:
            self._draw_surface()

    def set_gradient_field(self, on: bool) -> None:
        """Show arrows pointing downhill (along minus the gradient) on a coarse grid."""
        self.gradient_field = bool(on)
        self._draw_gradient()

    def set_colormap(self, name: str) -> None:
        self.colormap_name = name
        self.colorbar.setColorMap(style.colormap(name))

    def set_start_marker(self, x: float | None, y: float | None = None) -> None:
        """Show where new runs will start (a cross); ``None`` hides it."""
        if x is None or y is None:
            self.start_marker.setData([], [])
        else:
            self.start_marker.setData([float(x)], [float(y)])

    # -- paths --------------------------------------------------------------------------------------------
    def set_runs(self, runs) -> None:
        super().set_runs(runs)
        for run_id in list(self.paths):
            if run_id not in self.runs:
                self.paths.pop(run_id).remove()
        for run in self.runs.values():
            if run.run_id in self.paths:
                self.paths[run.run_id].set_style(run, self.lecture)
            else:
                self.paths[run.run_id] = PathItems(self.path_layers, run, self.lecture)
        self._redraw()

    def legend_sample(self, run: RunStyle):
        s = style.sizes(self.lecture)
        sample = pg.PlotDataItem(pen=path_pen(run.color, s.line), symbol="o", symbolSize=s.marker + 2,
                                 symbolBrush=run.color, symbolPen=None)
        # The legend paints the symbol from the item's scatter, which takes the symbol options only once the
        # item holds data; this sample never does, so hand them over (else the dot is pyqtgraph's grey).
        sample.scatter.setBrush(pg.mkBrush(run.color))
        sample.scatter.setPen(pg.mkPen(None))
        sample.scatter.setSize(s.marker + 2)
        return sample

    def show_paths(self, paths: Mapping, upto: int | None = None) -> None:
        self._last = (paths, upto)
        cell, origin = self._cell()
        for run_id, items in self.paths.items():
            traj = paths.get(run_id)
            cols = self._columns(traj)
            if traj is None or cols is None:
                items.clear()
                continue
            n = len(traj) if upto is None else max(0, min(int(upto), len(traj)))
            items.update(traj, n, cols, cell, origin, self._path_bounds())

    def _path_bounds(self):
        """Paths are drawn up to where they leave the surface's extent widened by its own size on each side."""
        r = self._extent
        if r is None:
            return None
        return (r.left() - r.width(), r.right() + r.width(), r.top() - r.height(), r.bottom() + r.height())

    def _redraw(self, *args) -> None:
        if self._last[0]:
            self.show_paths(*self._last)

    def _columns(self, traj):
        return axis_columns(traj, self.surface)

    def _cell(self):
        """Two screen pixels in data units (a path line's width), and a fixed origin, for decimating paths.

        Steps that stay within a 2-pixel cell are invisible under a 2-pixel line; every drawn point is still a
        real point of the path."""
        try:
            px, py = self.vb.viewPixelSize()
        except Exception:   # no size yet (never shown)
            px = py = 0.0
        rect = self._extent or QRectF(0, 0, 1, 1)
        if not (np.isfinite(px) and np.isfinite(py) and px > 0 and py > 0):
            px, py = rect.width() / 1000.0, rect.height() / 1000.0
        return (2 * abs(px), 2 * abs(py)), (rect.left(), rect.top())

    # -- mouse --------------------------------------------------------------------------------------------
    def grid_value(self, x: float, y: float):
        """The grid node nearest (x, y) and its loss: ``(x_node, y_node, loss)``, or None off the surface."""
        s = self.surface
        if s is None or self._extent is None or not self._extent.contains(x, y):
            return None
        w, b = np.asarray(s.w), np.asarray(s.b)
        j = int(np.clip(np.rint((x - w[0]) / (w[-1] - w[0]) * (len(w) - 1)), 0, len(w) - 1))
        i = int(np.clip(np.rint((y - b[0]) / (b[-1] - b[0]) * (len(b) - 1)), 0, len(b) - 1))
        return float(w[j]), float(b[i]), float(np.asarray(s.loss)[i, j])

    def _on_mouse_moved(self, scene_pos) -> None:
        hit = None
        if self.vb.sceneBoundingRect().contains(scene_pos):
            p = self.vb.mapSceneToView(scene_pos)
            hit = self.grid_value(p.x(), p.y())
        if hit is None:
            self._hide_hover()
            return
        self._hover_pos = QPointF(scene_pos)
        x, y, loss = hit
        ax, ay = (axis_name(a) for a in self.surface.axes)
        self.hover_text.setText(f"{ax} = {x:.4g}   {ay} = {y:.4g}   {value_label(self.surface)} = {loss:.5g}")
        self._place_hover(self.vb.mapFromScene(scene_pos))
        self.hover_text.setVisible(True)
        self.hovered.emit(x, y, loss)

    def _place_hover(self, cursor) -> None:
        """Beside the cursor (below right, flipped where the plot ends; ``cursor`` in the ViewBox's pixels)."""
        box = self.hover_text.textItem.boundingRect()
        width, height = self.vb.width(), self.vb.height()
        x = cursor.x() + HOVER_OFFSET
        if x + box.width() > width:
            x = cursor.x() - HOVER_OFFSET - box.width()
        y = cursor.y() + HOVER_OFFSET
        if y + box.height() > height:
            y = cursor.y() - HOVER_OFFSET - box.height()
        self.hover_text.setPos(self.vb.mapToView(QPointF(max(0.0, x), max(0.0, y))))

    def _hide_hover(self) -> None:
        was_shown = self._hover_pos is not None or self.hover_text.isVisible()
        self._hover_pos = None
        self.hover_text.setVisible(False)
        if was_shown:
            self.hover_left.emit()

    def leaveEvent(self, event) -> None:
        # The cursor left the view (the plot fills it). Not an event filter on the plot's viewport: that would
        # run Python for every paint event of every frame.
        self._hide_hover()
        super().leaveEvent(event)

    def hover_label(self) -> str:
        """The hover read-out's text ("" when hidden)."""
        return self.hover_text.toPlainText() if self.hover_text.isVisible() else ""

    def _on_mouse_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        pos = ev.scenePos()
        if not self.vb.sceneBoundingRect().contains(pos):
            return
        if self.legend.isVisible() and self.legend.sceneBoundingRect().contains(pos):
            return
        p = self.vb.mapSceneToView(pos)
        self.start_clicked.emit(float(p.x()), float(p.y()))

    # -- style ----------------------------------------------------------------------------------------------
    def _apply_style(self) -> None:
        super()._apply_style()
        if not hasattr(self, "image"):
            return   # called from PlotView.__init__, before our items exist
        s = style.sizes(self.lecture)
        self.isolines.setPen(pg.mkPen(style.ISOLINE_COLOR, width=s.isoline))
        self.arrows.setPen(pg.mkPen(style.ARROW_COLOR, width=s.isoline * 1.3))
        self.start_marker.setSize(s.start * 1.6)
        self.start_marker.setPen(pg.mkPen("#ffffff", width=max(2.0, s.line * 0.8)))
        self.start_marker.setBrush(pg.mkBrush("#ffffff"))
        self.hover_text.setFont(style.font(s.label_pt))
        axis = self.colorbar.axis
        axis.setPen(pg.mkPen(style.MUTED))
        axis.setTextPen(pg.mkPen(style.FOREGROUND))
        axis.setStyle(tickFont=style.font(s.font_pt))
        # Room for four-digit ticks and the rotated label beside them.
        axis.setWidth(int(62 + 6 * (s.font_pt - 9)))
        for run_id, items in self.paths.items():
            items.set_style(self.runs.get(run_id, items.run), self.lecture)
        if self.surface is not None:
            self._draw_surface()


def gradient_arrows(surface) -> np.ndarray:
    """Arrows pointing downhill on a coarse grid, as (2m, 2) segment endpoint pairs (shafts and heads).

    Each arrow has the same length on the grid (only the direction matters here: magnitudes span orders
    of magnitude); directions are those of minus the gradient in (x, y) data coordinates.
    """
    w, b = np.asarray(surface.w, float), np.asarray(surface.b, float)
    loss = np.asarray(surface.loss, float)
    with np.errstate(invalid="ignore"):
        gy, gx = np.gradient(loss, b, w)
    nx, ny = len(w), len(b)
    across = max(nx, ny)
    step = max(1, across // ARROWS_ACROSS)
    ci = np.arange(step // 2, ny, step)
    cj = np.arange(step // 2, nx, step)
    ii, jj = np.meshgrid(ci, cj, indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    cx, cy = w[jj], b[ii]
    # Arrow length in units of the coarse cell along each axis.
    sx = (w[-1] - w[0]) / max(nx - 1, 1) * step
    sy = (b[-1] - b[0]) / max(ny - 1, 1) * step
    u, v = -gx[ii, jj] / sx, -gy[ii, jj] / sy      # downhill, in cell units
    norm = np.hypot(u, v)
    ok = np.isfinite(norm) & (norm > 0)
    u, v, cx, cy = u[ok] / norm[ok], v[ok] / norm[ok], cx[ok], cy[ok]
    length = 0.7
    tail = np.stack([cx - 0.5 * length * u * sx, cy - 0.5 * length * v * sy], axis=1)
    tip = np.stack([cx + 0.5 * length * u * sx, cy + 0.5 * length * v * sy], axis=1)
    head = 0.32 * length
    segs = [tail, tip]
    for angle in (2.6, -2.6):          # two barbs, about 150 degrees back from the direction
        ca, sa = np.cos(angle), np.sin(angle)
        bu, bv = u * ca - v * sa, u * sa + v * ca
        barb = np.stack([tip[:, 0] + head * bu * sx, tip[:, 1] + head * bv * sy], axis=1)
        segs += [tip, barb]
    out = np.empty((2 * tail.shape[0] * 3, 2))
    for k in range(3):
        out[2 * k::6] = segs[2 * k]
        out[2 * k + 1::6] = segs[2 * k + 1]
    return out
