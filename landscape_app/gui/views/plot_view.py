"""The shared frame of the 2-D views: one dark-themed pyqtgraph PlotItem, a legend of runs, lecture mode."""
from __future__ import annotations

from typing import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout

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
        self.legend.setZValue(100)
        self._axis_labels: dict[str, str] = {}
        self._title = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget)
        self._apply_style()

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
