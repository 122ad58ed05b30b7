"""Many line sets and symbol sets drawn by one plot item: what the 2-D views draw per run, made cheap.

Each pyqtgraph item is painted and measured in Python: a paint call, several ``boundingRect`` calls and
``setData`` bookkeeping cost 0.2-0.5 ms a frame per item, whether it holds one point or a thousand. The GUI
thread holds the GIL all that time (PySide6 keeps it inside QPainter calls too), and the training thread needs
it: a four-run race had ~30 such items per frame in the 2-D views, a third of what the window cost the
training. ``LayerItem`` draws any number of layers in one paint: segments with one ``QPainter.drawLines``
call per layer, symbols as pixmap fragments of one pre-rendered sprite (as pyqtgraph's ScatterPlotItem does,
with its ``renderSymbol``, so they look the same). Its bounds are the ViewBox's visible rectangle (as
pyqtgraph's InfiniteLine does), so new data needs only a repaint, never a geometry change.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pyqtgraph.functions as fn
from pyqtgraph.graphicsItems.ScatterPlotItem import drawSymbol, renderSymbol
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen, QPixmap, QPolygonF

# pyqtgraph's wrapper of the C arrays that QPainter's drawLines(QLineF*) and drawPixmapFragments take (its
# PlotCurveItem and ScatterPlotItem use it too): drawLines from a QLineF array is 3x faster than from a
# QPolygonF of point pairs, which Qt converts first.
from pyqtgraph.Qt.internals import PrimitiveArray

_COORD_LIMIT = 2.0 ** 30     # Qt's raster engine crashes on coordinates beyond this


def _polygon(xy: np.ndarray) -> QPolygonF:
    poly = fn.create_qpolygonf(len(xy))
    if len(xy):
        fn.ndarray_from_qpolygonf(poly)[:] = xy
    return poly


def _xy(x, y=None) -> np.ndarray:
    """Points as a float (k, 2) array, from ``x, y`` arrays or one (k, 2) array."""
    if y is None:
        return np.asarray(x, dtype=np.float64).reshape(-1, 2)
    return np.column_stack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])


class _Layer:
    """What every layer has: its place in the paint order, whether it counts for the view's auto range, the
    points last given (for ``data`` and ``LayerItem.dataBounds``), and the item that paints it."""

    def __init__(self, z: float, bounds: bool = False):
        self.z = z
        self.bounds = bounds
        self._xy = np.empty((0, 2))
        self.item: LayerItem | None = None

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """The points last given, as x and y arrays."""
        return self._xy[:, 0].copy(), self._xy[:, 1].copy()

    def _changed(self) -> None:
        if self.item is not None:
            self.item.changed(self)


class Lines(_Layer):
    """Straight segments in data coordinates, drawn with one pen (a cosmetic width, in pixels)."""

    def __init__(self, pen: QPen, antialias: bool = True, z: float = 0.0, bounds: bool = False):
        super().__init__(z, bounds)
        self.pen = pen
        self.antialias = antialias
        self._segs = PrimitiveArray(QLineF, 4)
        self._count = 0

    def __len__(self) -> int:
        """The number of segments."""
        return self._count

    def set_pen(self, pen: QPen) -> None:
        self.pen = pen
        self._changed()

    def set_pairs(self, pairs: np.ndarray) -> None:
        """Segments as a (2k, 2) array of endpoint pairs; a pair with a non-finite end is left out."""
        pairs = _xy(pairs)
        pairs = pairs[: len(pairs) // 2 * 2]
        ok = np.isfinite(pairs).all(axis=1)
        if not ok.all():
            keep = ok[0::2] & ok[1::2]
            pairs = pairs.reshape(-1, 2, 2)[keep].reshape(-1, 2)
        self._xy = pairs
        self._count = len(pairs) // 2
        self._segs.resize(self._count)
        if self._count:
            np.clip(pairs.reshape(-1, 4), -_COORD_LIMIT, _COORD_LIMIT, out=self._segs.ndarray())
        self._changed()

    def set_polyline(self, x, y) -> None:
        """Consecutive points joined; a non-finite point breaks the line (``data`` gives the points)."""
        xy = _xy(x, y)
        if len(xy) < 2:
            self.clear()
            return
        pairs = np.empty((2 * (len(xy) - 1), 2))
        pairs[0::2], pairs[1::2] = xy[:-1], xy[1:]
        self.set_pairs(pairs)
        self._xy = xy

    def clear(self) -> None:
        self._xy = np.empty((0, 2))
        if self._count:
            self._count = 0
            self._segs.resize(0)
            self._changed()

    def paint(self, painter: QPainter) -> None:
        if self._count:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, self.antialias)
            painter.setPen(self.pen)
            painter.drawLines(*self._segs.drawargs())


class Fill(_Layer):
    """A filled polygon (its outline is the points given), without a pen."""

    def __init__(self, brush, antialias: bool = False, z: float = 0.0):
        super().__init__(z)
        self.brush = fn.mkBrush(brush)
        self.antialias = antialias
        self._poly = QPolygonF()

    def set_brush(self, brush) -> None:
        self.brush = fn.mkBrush(brush)
        self._changed()

    def set_polygon(self, x, y) -> None:
        """The outline's points in order; non-finite points are left out."""
        xy = _xy(x, y)
        self._xy = xy[np.isfinite(xy).all(axis=1)]
        self._poly = _polygon(np.clip(self._xy, -_COORD_LIMIT, _COORD_LIMIT)) if len(self._xy) > 2 else QPolygonF()
        self._changed()

    def clear(self) -> None:
        self._xy = np.empty((0, 2))
        if len(self._poly):
            self._poly = QPolygonF()
            self._changed()

    def paint(self, painter: QPainter) -> None:
        if len(self._poly) > 2:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, self.antialias)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.brush)
            painter.drawPolygon(self._poly)


class Symbols(_Layer):
    """The same symbol (pyqtgraph's names: "o", "x", ...) at points in data coordinates; sizes in pixels."""

    def __init__(self, symbol: str = "o", size: float = 8.0, pen=None, brush=None, z: float = 0.0):
        super().__init__(z)
        self._sprite: QPixmap | None = None
        self._dpr = 1.0
        self._frags = PrimitiveArray(QPainter.PixmapFragment, 10)
        self.set_style(symbol, size, pen, brush)

    def __len__(self) -> int:
        return len(self._xy)

    def set_style(self, symbol: str = "o", size: float = 8.0, pen=None, brush=None) -> None:
        self.symbol, self.size = symbol, float(size)
        self.pen, self.brush = fn.mkPen(pen), fn.mkBrush(brush)
        self._sprite = None
        self._changed()

    def set_points(self, x, y=None) -> None:
        """Points as ``(x, y)`` arrays or one (k, 2) array; non-finite points are left out."""
        xy = _xy(x, y)
        self._xy = xy[np.isfinite(xy).all(axis=1)]
        self._changed()

    def clear(self) -> None:
        if len(self._xy):
            self._xy = np.empty((0, 2))
            self._changed()

    def paint(self, painter: QPainter) -> None:
        if not len(self._xy):
            return
        dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        sprite = self._sprite_for(dpr)
        t = painter.transform()
        # The points in device pixels: symbols keep their pixel size at any zoom.
        dev = np.empty_like(self._xy)
        x, y = self._xy[:, 0], self._xy[:, 1]
        dev[:, 0] = t.m11() * x + t.m21() * y + t.dx()
        dev[:, 1] = t.m12() * x + t.m22() * y + t.dy()
        np.clip(dev, -_COORD_LIMIT, _COORD_LIMIT, out=dev)
        side = sprite.width()
        painter.save()
        painter.resetTransform()
        if self.item is not None and self.item._exportOpts is not False:
            # Exporting a vector file (pyqtgraph's export mode, as its ScatterPlotItem): shapes, not pictures.
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            for x, y in dev:
                painter.resetTransform()
                painter.translate(x, y)
                drawSymbol(painter, self.symbol, self.size, self.pen, self.brush)
            painter.restore()
            return
        self._frags.resize(len(dev))
        frags = self._frags.ndarray()
        frags[:, 0:2] = dev                                   # the centre of each target
        frags[:, 2:6] = (0, 0, side, side)                    # the source rectangle, in sprite pixels
        frags[:, 6:10] = (1 / self._dpr, 1 / self._dpr, 0.0, 1.0)
        painter.drawPixmapFragments(*self._frags.drawargs(), sprite)
        painter.restore()

    def _sprite_for(self, dpr: float) -> QPixmap:
        if self._sprite is None or dpr != self._dpr:
            self._dpr = dpr
            self._sprite = QPixmap.fromImage(renderSymbol(self.symbol, self.size, self.pen, self.brush, dpr=dpr))
        return self._sprite


class Extent(_Layer):
    """Draws nothing: the rectangle of its points is what counts for the view's auto range (a view whose
    curves may run far off, like a diverging loss, sets its range itself)."""

    def __init__(self):
        super().__init__(0.0, bounds=True)

    def set_points(self, x, y=None) -> None:
        xy = _xy(x, y)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if not np.array_equal(xy, self._xy):
            self._xy = xy
            self._changed()

    def clear(self) -> None:
        self.set_points(np.empty((0, 2)))

    def paint(self, painter: QPainter) -> None:
        pass


class LayerItem(pg.GraphicsObject):
    """Paints its layers (``Lines`` and ``Symbols``) in order of their ``z``, in one paint call."""

    def __init__(self, snap_bounds: bool = False):
        super().__init__()
        self._layers: list = []
        self._bounds: QRectF | None = None
        # Round the auto range outward to a tenth of its decade: a growing curve then moves the axes (a
        # re-tick, the grid and the axis redrawn) only when it crosses a step, not on every frame.
        self.snap_bounds = snap_bounds

    def add(self, *layers):
        for layer in layers:
            layer.item = self
            self._layers.append(layer)
        self._layers.sort(key=lambda layer: layer.z)     # stable: equal z keeps the order of adding
        self.update()
        return layers[0] if len(layers) == 1 else layers

    def remove(self, *layers) -> None:
        for layer in layers:
            if layer in self._layers:
                self._layers.remove(layer)
                layer.item = None
        self.update()

    def layers(self) -> list:
        return list(self._layers)

    def changed(self, layer) -> None:
        """A layer's data or style changed: repaint, and re-range the view if it counts for the range."""
        self.update()
        if layer.bounds:
            self.informViewBoundsChanged()

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange=None):
        """The range of the layers that count for the view's auto range (pyqtgraph asks this)."""
        lo = hi = None
        for layer in self._layers:
            if layer.bounds and len(layer._xy):
                values = layer._xy[:, axis]
                values = values[np.isfinite(values)]
                if values.size:
                    a, b = float(values.min()), float(values.max())
                    lo, hi = (a, b) if lo is None else (min(lo, a), max(hi, b))
        if lo is None:
            return None
        return _snapped(lo, hi) if self.snap_bounds else (lo, hi)

    def boundingRect(self) -> QRectF:
        if self._bounds is None:
            view = self.viewRect()
            self._bounds = QRectF() if view is None else QRectF(view)
        return self._bounds

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()
        self._bounds = None
        super().viewTransformChanged()

    def paint(self, painter: QPainter, *args) -> None:
        for layer in self._layers:
            layer.paint(painter)


def _snapped(lo: float, hi: float) -> tuple[float, float]:
    """``lo``..``hi`` widened to multiples of a tenth of the span's decade (``hi`` stays above ``lo``)."""
    span = hi - lo
    if not (math.isfinite(span) and span > 0):
        return lo, hi
    step = 10.0 ** (math.floor(math.log10(span)) - 1)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step
