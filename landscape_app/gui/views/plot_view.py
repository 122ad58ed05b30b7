"""The shared frame of the 2-D views: one dark-themed pyqtgraph PlotItem, a legend of runs, lecture mode."""
from __future__ import annotations

from typing import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout

from .. import style
from .base import RunStyle, View


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
        self.vb: pg.ViewBox = self.plot.getViewBox()
        self.legend = pg.LegendItem(offset=(-8, 8), brush=pg.mkBrush(20, 22, 28, 210),
                                    pen=pg.mkPen(style.MUTED), labelTextColor=style.FOREGROUND,
                                    verSpacing=-4)
        self.legend.setParentItem(self.vb)
        self.legend_corner = "right"          # top right; "left" for views whose top right is busy
        self.vb.sigResized.connect(self._fit_legend)
        self.legend.setZValue(100)
        self.legend.setVisible(False)        # until there are runs
        self._axis_labels: dict[str, str] = {}
        self._title = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
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
    def set_axis_labels(self, bottom: str, left: str) -> None:
        self._axis_labels = {"bottom": bottom, "left": left}
        for side, text in self._axis_labels.items():
            style.set_axis_label(self.plot, side, text, self.lecture)

    def set_title(self, text: str) -> None:
        """A title above the plot (e.g. "Mini-batch surface, step 12"); empty hides it."""
        self._title = text
        style.set_title(self.plot, text, self.lecture)

    def title(self) -> str:
        return self._title

    # -- runs and legend ----------------------------------------------------------------------------------
    def set_runs(self, runs: Sequence[RunStyle]) -> None:
        self.runs = {r.run_id: r for r in runs}
        self._rebuild_legend()

    def legend_sample(self, run: RunStyle):
        """The item whose look the legend shows for ``run`` (a curve in the run's colour by default)."""
        return pg.PlotDataItem(pen=pg.mkPen(run.color, width=style.sizes(self.lecture).line))

    def _rebuild_legend(self) -> None:
        self.legend.clear()
        s = style.sizes(self.lecture)
        self.legend.setLabelTextSize(f"{s.label_pt}pt")
        for run in self.runs.values():
            self.legend.addItem(self.legend_sample(run), run.name)
        self.legend.setVisible(bool(self.runs))
        self._cache_legend()
        self._fit_legend()

    def _fit_legend(self, *args) -> None:
        """Anchor the legend in its corner; wider than the plot (long names in lecture mode), anchor it top left,
        so what is cut off is the end of the names, not the samples that say which line is which."""
        self.legend.updateSize()
        wide = self.legend.boundingRect().width() > self.vb.width() - 16
        if self.legend_corner == "left" or wide:
            self.legend.anchor(itemPos=(0, 0), parentPos=(0, 0), offset=(8, 8))
        else:
            self.legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-8, 8))

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
        if self._title:
            style.set_title(self.plot, self._title, self.lecture)
