"""The shared frame of the 2-D views: one dark-themed pyqtgraph PlotItem, a legend of runs, lecture mode."""
from __future__ import annotations

from typing import Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem, QSizePolicy, QVBoxLayout

from .. import style
from ..elided import ElidedLabel
from .base import RunStyle, View

LEGEND_SPACING = 8       # pixels between a legend's columns (its samples, its labels)


class PlotView(View):
    """A View holding one ``pg.PlotWidget``; subclasses add their items to ``self.plot``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.lecture = False
        self.runs: dict[int, RunStyle] = {}
        self.widget = pg.PlotWidget(background=style.BACKGROUND)
        self.widget.setAntialiasing(True)
        self.plot: pg.PlotItem = self.widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        # Plain values on every axis, as the 3-D view and the hover read-out give them: pyqtgraph's SI prefixes
        # turned a PCA plane's alpha of -0.6..0 into ticks -700..100 with "(x0.001)" appended to the title.
        for name in ("left", "bottom", "right", "top"):
            self.plot.getAxis(name).enableAutoSIPrefix(False)
        self.vb: pg.ViewBox = self.plot.getViewBox()
        # The legend sits above the plot, in the row of the (never shown) top axis: over the plot it would
        # hide the paths under it. It wraps into as many columns as the plot's width holds.
        self.legend = pg.LegendItem(frame=False, labelTextColor=style.FOREGROUND, verSpacing=-4,
                                    horSpacing=LEGEND_SPACING)
        self.plot.layout.removeItem(self.plot.getAxis("top"))
        self.plot.layout.addItem(self.legend, 1, 1, alignment=Qt.AlignmentFlag.AlignHCenter)
        # Never wider than the plot gives it (a long name is cut), never stretched wider than its entries.
        self.legend.setMinimumWidth(0)
        self.legend.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.legend.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self.vb.sigResized.connect(self._fit_legend)
        self.legend.setVisible(False)        # until there are runs
        self.run_legend = True               # False: the legend leaves the runs out (the window has one for all)
        self._axis_labels: dict[str, str] = {}
        self._title = ""
        self.title_label = ElidedLabel()
        self.title_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title_label.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title_label)
        layout.addWidget(self.widget)
        self._apply_style()

    # -- grid ---------------------------------------------------------------------------------------------
    def show_grid(self) -> None:
        """Faint lines at the axes' major and minor ticks.

        Drawn as two plain line items rather than with pyqtgraph's ``showGrid``, whose grid is repainted
        with the axes and costs ~8-30 ms per frame at 1280x800, most of a 60 Hz frame budget.
        """
        self._grid = []
        for alpha in (style.GRID_ALPHA, style.GRID_ALPHA / 2.5):
            item = pg.PlotCurveItem(connect="pairs", antialias=False, skipFiniteCheck=True,
                                    pen=pg.mkPen(255, 255, 255, int(255 * alpha), width=1))
            item.setZValue(-20)
            # Redrawn only when the range changes: cached, a frame does not repaint thousands of grid lines.
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.plot.addItem(item, ignoreBounds=True)
            self._grid.append(item)
        self.vb.sigRangeChanged.connect(self._update_grid)
        self.vb.sigResized.connect(self._update_grid)

    def _update_grid(self, *args) -> None:
        (x0, x1), (y0, y1) = self.vb.viewRange()
        size = self.vb.size()
        ticks = {"x": self.plot.getAxis("bottom").tickValues(x0, x1, max(size.width(), 1)),
                 "y": self.plot.getAxis("left").tickValues(y0, y1, max(size.height(), 1))}
        for level, item in enumerate(self._grid):
            xs = ticks["x"][level][1] if len(ticks["x"]) > level else []
            ys = ticks["y"][level][1] if len(ticks["y"]) > level else []
            px, py = [], []
            for v in xs:
                px += [v, v]
                py += [y0, y1]
            for v in ys:
                px += [x0, x1]
                py += [v, v]
            item.setData(px, py)

    # -- text ---------------------------------------------------------------------------------------------
    def point_at(self, x: float, y: float):
        """Where the data point (x, y) lies in this view's own coordinates (a QPoint)."""
        from PySide6.QtCore import QPointF
        local = self.widget.mapFromScene(self.vb.mapViewToScene(QPointF(float(x), float(y))))
        return self.widget.mapTo(self, local)

    def set_axis_labels(self, bottom: str, left: str) -> None:
        if getattr(self, "_axis_labels", None) == {"bottom": bottom, "left": left}:
            return          # the same words: laying the axis text out again cost ~5 ms a label
        self._axis_labels = {"bottom": bottom, "left": left}
        for side, text in self._axis_labels.items():
            style.set_axis_label(self.plot, side, text, self.lecture)

    def set_title(self, text: str) -> None:
        """A title above the plot (e.g. "Mini-batch surface, step 12"); empty hides it.

        A label above the plot widget rather than pyqtgraph's title, whose text width is the plot's minimum
        width: a long title made the plot wider than its view, which then hid the plot's right part. This one
        is cut with "…" to the view's width, its whole text in the tooltip.
        """
        self._title = text
        self.title_label.setText(text)
        self.title_label.setVisible(bool(text))

    def title(self) -> str:
        return self._title

    # -- runs and legend ----------------------------------------------------------------------------------
    def set_runs(self, runs: Sequence[RunStyle]) -> None:
        self.runs = {r.run_id: r for r in runs}
        self._rebuild_legend()

    def set_run_legend(self, on: bool) -> None:
        self.run_legend = bool(on)
        self._rebuild_legend()

    def legend_sample(self, run: RunStyle):
        """The item whose look the legend shows for ``run`` (a curve in the run's colour by default)."""
        return pg.PlotDataItem(pen=pg.mkPen(run.color, width=style.sizes(self.lecture).line))

    def legend_extras(self) -> list[tuple[object, str]]:
        """Entries after the runs' (sample item, text): what a view's line styles mean."""
        return []

    def _rebuild_legend(self) -> None:
        self.legend.clear()
        s = style.sizes(self.lecture)
        self.legend.setLabelTextSize(f"{s.label_pt}pt")
        if self.run_legend:
            for run in self.runs.values():
                self.legend.addItem(self.legend_sample(run), run.name)
        if self.runs:
            for sample, text in self.legend_extras():
                self.legend.addItem(sample, text)
        self.legend.setVisible(bool(self.legend.items))
        self._cache_legend()
        self._fit_legend()

    def _fit_legend(self, *args) -> None:
        """As many columns as the plot's width holds (one row when it can): the legend never covers the plot."""
        entries = [(sample.boundingRect().width(), label.boundingRect().width())
                   for sample, label in self.legend.items]
        room = self.vb.width()
        columns = max(len(entries), 1)
        while columns > 1 and _grid_width(entries, columns) > room:
            columns -= 1
        if columns != self.legend.columnCount:
            self.legend.setColumnCount(columns)
        self.legend.updateGeometry()

    def _cache_legend(self) -> None:
        """The legend lies over the paths, so every frame repaints it: keep its pieces as device pixmaps (its
        samples and labels are Python-painted items, ~0.3 ms a frame per view otherwise)."""
        pending = [self.legend]
        while pending:
            item = pending.pop()
            # Not items that draw nothing themselves (a sample's PlotDataItem): Qt would call their paint.
            if not item.flags() & QGraphicsItem.GraphicsItemFlag.ItemHasNoContents:
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            pending.extend(item.childItems())

    def legend_names(self) -> list[str]:
        return [label.text for _, label in self.legend.items]

    # -- lecture mode -------------------------------------------------------------------------------------
    def set_lecture_mode(self, on: bool) -> None:
        self.lecture = bool(on)
        self._apply_style()
        self._rebuild_legend()

    def _apply_style(self) -> None:
        style.style_plot(self.plot, self.lecture)
        for side, text in self._axis_labels.items():
            style.set_axis_label(self.plot, side, text, self.lecture)
        s = style.sizes(self.lecture)
        self.title_label.setStyleSheet(f"color: {style.FOREGROUND}; background: {style.BACKGROUND};"
                                       f"font-size: {s.title_pt}pt; padding: 4px 6px 0px 6px;")


def _grid_width(entries: list[tuple[float, float]], columns: int) -> float:
    """The width of a legend whose (sample, label) entries fill ``columns`` columns row by row."""
    widths = [0.0] * columns
    for i, (sample, label) in enumerate(entries):
        widths[i % columns] = max(widths[i % columns], sample + label + 2 * LEGEND_SPACING)
    return sum(widths) + 8
