"""The decision view: a 2-D classifier's regions with its data, as TensorFlow Playground draws them.

It draws a ``core.predictions.DecisionMap`` it is given (``show_predictions``): the predicted probability as a
diverging colour map (Playground's orange for class 0, blue for class 1, fading to the background where the
network is unsure), the 0.5 contour as the decision boundary, and the samples coloured by their label with a dark
edge. With more than two classes each class's region has its own colour. The current mini-batch of the map's run is
ringed in the run's colour, as the data view rings it. It computes nothing but the picture: the map comes from the
core, computed off the GUI thread.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsItem

from .. import style
from .base import RunStyle
from .data_common import current_batch, current_index
from .isolines import isoline_segments
from .layers import LayerItem, Lines, Symbols
from .path_items import path_pen
from .plot_view import PlotView

# Playground's class colours (orange: its -1, our 0; blue: its +1, our 1), then distinct ones for more classes.
CLASS_COLORS = ("#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
                "#17becf", "#7f7f7f")
# The points' fill: the class colour, a little brighter than its region so a point shows on its own side.
POINT_COLORS = ("#ffa940", "#3aa0f0", "#4cd44c", "#ff5555", "#b58ff0", "#c08060", "#ff9ee0", "#e0e040",
                "#40e0f0", "#b0b0b0")
REGION_STRENGTH = 0.62        # how far a sure region's colour goes from the background towards its class colour
BOUNDARY_COLOR = "#f2f4f8"
EQUAL_ASPECT_MIN_PX = 240     # a plot box shorter than this fills its width rather than keep both inputs' units equal
# Equal units only where the map, so drawn, would fill this much of the plot box's width (and height): in a wide
# full-screen pane they left it in the middle third (x from -4.5 to 5.5 for moons' -1.5 to 2.5).
EQUAL_ASPECT_MIN_FILL = 0.6


def class_color(k: int) -> str:
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def region_image(classes: np.ndarray, margin: np.ndarray, n_classes: int) -> np.ndarray:
    """The regions as an RGBA uint8 image (ny, nx, 4): each class's colour, faded to the background by doubt.

    The fade follows the margin (the winner's probability less the runner-up's): with two classes a diverging
    map of P(class 1) with the background at 0.5, as Playground draws it; with more, every boundary between two
    classes fades alike.
    """
    bg = np.array(pg.mkColor(style.BACKGROUND).getRgb()[:3], dtype=np.float32)
    palette = np.array([pg.mkColor(class_color(k)).getRgb()[:3] for k in range(max(n_classes, 2))],
                       dtype=np.float32)
    sure = np.clip(np.nan_to_num(np.asarray(margin, dtype=np.float32), nan=0.0), 0.0, 1.0)
    # A square root: Playground's regions take colour quickly away from the boundary, not only where p ~ 0 or 1.
    weight = (REGION_STRENGTH * np.sqrt(sure))[..., None]
    colour = palette[np.clip(classes, 0, len(palette) - 1)]
    out = np.full(sure.shape + (4,), 255, np.uint8)
    out[..., :3] = (bg + (colour - bg) * weight).round()
    return out


class DecisionView(PlotView):
    """Decision regions, boundary and samples of a 2-D classifier (``show_predictions(DecisionMap)``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.experiment = None
        self.decision = None           # the DecisionMap drawn
        self._last = ({}, None)
        self._points_of = None         # the arrays the point layers were filled from
        self._map_rect = None          # the map's extent in data units
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.image.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.plot.addItem(self.image)
        self.layers = LayerItem()
        self.plot.addItem(self.layers, ignoreBounds=True)
        self.boundary_halo = self.layers.add(Lines(path_pen(style.HALO_COLOR, 1), z=1))
        self.boundary = self.layers.add(Lines(path_pen(BOUNDARY_COLOR, 1), z=2))
        self.class_points: list[Symbols] = []
        self.batch = self.layers.add(Symbols(z=20))
        # Circles stay circles (both inputs in the same units) where the plot has the height for it and the map
        # fills most of it; in a short pane (a lecture at 1280x720) or a much wider one (full screen at 1920x1080)
        # equal units would shrink the map to a strip in the middle, so the map fills the pane instead (the axes'
        # ticks still give each input's units).
        self.equal_aspect = True
        self.vb.setAspectLocked(True)
        self.vb.sigResized.connect(self._fit_aspect)
        self.vb.setMouseEnabled(False, False)
        self.set_axis_labels("x1", "x2")
        self._apply_style()

    # -- View -----------------------------------------------------------------------------------------------
    def set_scene(self, experiment, surface=None) -> None:
        """Other data: the map drawn belongs to the old data and goes (the surface is not used here)."""
        if self.experiment is not None and experiment.data != self.experiment.data:
            self.show_predictions(None)
            self._last = ({}, None)
        self.experiment = experiment

    def set_runs(self, runs) -> None:
        super().set_runs(runs)
        self._style_batch()
        self._update_title()
        self.show_paths(*self._last)

    def show_paths(self, paths: Mapping, upto=None) -> None:
        """Ring the current mini-batch of the run the map was computed for."""
        self._last = (paths, upto)
        d = self.decision
        run_id = None if d is None else (d.run_id if d.run_id is not None else next(iter(paths), None))
        traj = paths.get(run_id) if run_id is not None else None
        if d is None or traj is None or run_id not in self.runs:
            self.batch.clear()
            return
        batch = current_batch(traj, current_index(traj, upto))
        batch = batch[(batch >= 0) & (batch < len(d.points))]
        if batch.size and batch.size < len(d.points):     # a full batch is every point: nothing to single out
            self.batch.set_points(d.points[batch])
        else:
            self.batch.clear()
        self._style_batch()

    # -- the map --------------------------------------------------------------------------------------------
    def show_predictions(self, decision) -> None:
        """Draw a ``DecisionMap`` (None: nothing)."""
        self.decision = decision
        if decision is None:
            self.image.clear()
            self.boundary.clear()
            self.boundary_halo.clear()
            for layer in self.class_points:
                layer.clear()
            self.batch.clear()
            self._points_of = None
            self._update_title()
            return
        x1, x2 = decision.x1, decision.x2
        # RGBA bytes as they are (no levels: no rescaling pass), which Qt paints without converting them first.
        self.image.setImage(region_image(decision.classes, decision.margin, decision.n_classes), autoLevels=False,
                            levels=None)
        dx = (x1[-1] - x1[0]) / max(len(x1) - 1, 1)
        dy = (x2[-1] - x2[0]) / max(len(x2) - 1, 1)
        rect = QRectF(x1[0] - dx / 2, x2[0] - dy / 2, dx * len(x1), dy * len(x2))
        self.image.setRect(rect)
        self._map_rect = rect
        if decision.binary:
            pairs = isoline_segments(decision.prob, x1, x2, 0.5)
            self.boundary.set_pairs(pairs)
            self.boundary_halo.set_pairs(pairs)
        else:       # the colours part the classes; one line per pair of classes would clutter
            self.boundary.clear()
            self.boundary_halo.clear()
        if self._points_of is None or self._points_of[0] is not decision.points \
                or self._points_of[1] is not decision.labels:
            self._set_points(decision)
            self.vb.setRange(rect, padding=0)
            self._fit_aspect()          # the map's shape counts too, not only the box's
        self._update_title()
        self.show_paths(*self._last)

    def _fit_aspect(self) -> None:
        equal = self.vb.height() >= EQUAL_ASPECT_MIN_PX and self._equal_units_fill() >= EQUAL_ASPECT_MIN_FILL
        if equal == self.equal_aspect:
            return
        self.equal_aspect = equal
        self.vb.setAspectLocked(equal)
        if self._map_rect is not None:
            self.vb.setRange(self._map_rect, padding=0)

    def _equal_units_fill(self) -> float:
        """The share of the plot box's width (or height) that the map would fill with both inputs in one unit."""
        rect, w, h = self._map_rect, self.vb.width(), self.vb.height()
        if rect is None or rect.width() <= 0 or rect.height() <= 0 or w <= 0 or h <= 0:
            return 1.0
        ratio = (rect.width() / rect.height()) / (w / h)
        return min(ratio, 1.0 / ratio)

    def _set_points(self, decision) -> None:
        self._points_of = (decision.points, decision.labels)
        for layer in self.class_points:
            self.layers.remove(layer)
        self.class_points = []
        for k in range(max(decision.n_classes, 2)):
            layer = Symbols(z=10 + 0.01 * k)
            self.layers.add(layer)
            layer.set_points(decision.points[decision.labels == k])
            self.class_points.append(layer)
        self._style_points()
        self._rebuild_legend()

    def _update_title(self) -> None:
        d = self.decision
        if d is None:
            self.set_title("")
            return
        # The accuracy first: a narrow view cuts the title's end.
        parts = [f"accuracy {100 * d.accuracy:.1f}%"]
        if d.iteration is not None:
            parts.append(f"step {d.iteration:,}")
        if d.run_id is not None and d.run_id in self.runs:
            parts.append(self.runs[d.run_id].name)
        self.set_title(" · ".join(parts))

    # -- look -----------------------------------------------------------------------------------------------
    def _style_points(self) -> None:
        s = style.sizes(self.lecture)
        edge = pg.mkPen(style.HALO_COLOR, width=1.2 if not self.lecture else 1.8)
        for k, layer in enumerate(self.class_points):
            # Many samples: smaller than a path's markers, so a lecture's points do not merge into a blob.
            layer.set_style("o", 4 + 0.45 * s.marker, edge, pg.mkBrush(POINT_COLORS[k % len(POINT_COLORS)]))

    def _style_batch(self) -> None:
        s = style.sizes(self.lecture)
        d = self.decision
        run: RunStyle | None = self.runs.get(d.run_id) if d is not None and d.run_id is not None else None
        if run is None and self.runs:
            run = next(iter(self.runs.values()))
        color = run.color if run is not None else style.FOREGROUND
        self.batch.set_style("o", s.marker * 2.4, pg.mkPen(color, width=max(1.5, s.line * 0.8)), None)

    def legend_extras(self):
        """What the colours mean: a sample point of each class (up to four; more would crowd the legend)."""
        d = self.decision
        n = 2 if d is None else d.n_classes
        if n > 4:
            return []
        s = style.sizes(self.lecture)
        return [(pg.ScatterPlotItem(symbol="o", size=s.marker + 2, pen=pg.mkPen(style.HALO_COLOR),
                                    brush=pg.mkBrush(POINT_COLORS[k])), f"class {k}") for k in range(n)]

    def _apply_style(self) -> None:
        super()._apply_style()
        if not hasattr(self, "boundary"):
            return
        s = style.sizes(self.lecture)
        width = max(1.5, s.line * 0.9)
        self.boundary.set_pen(path_pen(BOUNDARY_COLOR, width))
        self.boundary_halo.set_pen(path_pen(style.HALO_COLOR, width + 2 * (s.halo - 0.5)))
        self._style_points()
        self._style_batch()
