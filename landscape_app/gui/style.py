"""The look of the app: a dark theme that reads well on a projector, colour maps, fonts and lecture-mode sizes.

Views take every colour and size from here, so the main window, the exporter and lecture mode agree.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QPalette

# Dark, slightly blue greys: the colour map's darkest colours still separate from the background.
BACKGROUND = "#14161c"
PANEL = "#1d2029"
FOREGROUND = "#d8dce4"
MUTED = "#8a90a0"
GRID_ALPHA = 0.18           # faint grid lines (pyqtgraph's showGrid alpha)
ISOLINE_COLOR = (255, 255, 255, 80)
HALO_COLOR = (12, 12, 16, 255)   # the dark outline under every path, so paths stand out on any map colour
# (opaque: paths are drawn as separate segments, whose overlapping ends would show through a translucent one)
ARROW_COLOR = (240, 240, 245, 150)
DIVERGED_COLOR = "#ff5050"

# Perceptually uniform maps that pyqtgraph ships (matplotlib's data, CC0).
COLORMAPS = ("viridis", "magma", "inferno", "plasma", "cividis")
DEFAULT_COLORMAP = "viridis"


@dataclass(frozen=True)
class Sizes:
    """Pen widths and marker sizes in pixels, font sizes in points."""

    font_pt: int          # axis tick labels
    label_pt: int         # axis titles, legend, in-plot labels
    title_pt: int
    line: float           # a path or curve
    halo: float           # extra width of the dark outline under a path
    marker: float         # markers along a path
    start: float          # the start point
    current: float        # the current point
    isoline: float


NORMAL = Sizes(font_pt=9, label_pt=10, title_pt=11, line=2.0, halo=2.0, marker=5.0, start=10.0, current=12.0,
               isoline=1.0)
LECTURE = Sizes(font_pt=15, label_pt=17, title_pt=19, line=4.0, halo=3.0, marker=9.0, start=17.0, current=20.0,
                isoline=1.6)


def sizes(lecture: bool) -> Sizes:
    return LECTURE if lecture else NORMAL


def font(points: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSize(points)
    f.setBold(bold)
    return f


def colormap(name: str = DEFAULT_COLORMAP) -> pg.ColorMap:
    """A pyqtgraph colour map by name (one of ``COLORMAPS``)."""
    if name not in COLORMAPS:
        raise ValueError(f"unknown colour map {name!r}; choose one of {', '.join(COLORMAPS)}")
    return pg.colormap.get(name)


def lookup_table(name: str = DEFAULT_COLORMAP, n: int = 256) -> np.ndarray:
    """The colour map as an (n, 4) float array in [0, 1], for OpenGL items."""
    return colormap(name).getLookupTable(0.0, 1.0, n, alpha=True).astype(np.float64) / 255.0


def qcolor(color, alpha: int | None = None) -> QColor:
    c = pg.mkColor(color)
    if alpha is not None:
        c.setAlpha(alpha)
    return c


def rgba(color, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """A colour as an OpenGL (r, g, b, a) tuple in [0, 1]."""
    c = pg.mkColor(color)
    return (c.redF(), c.greenF(), c.blueF(), alpha)


def style_plot(plot: pg.PlotItem, lecture: bool = False) -> None:
    """Dark-theme axes with readable fonts on a pyqtgraph PlotItem."""
    s = sizes(lecture)
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(MUTED))
        axis.setTextPen(pg.mkPen(FOREGROUND))
        axis.setStyle(tickFont=font(s.font_pt), tickTextOffset=4 if not lecture else 7)
        if axis.label is not None and axis.labelText:
            axis.setLabel(axis.labelText, units=axis.labelUnits or None,
                          **{"color": FOREGROUND, "font-size": f"{s.label_pt}pt"})
    if plot.titleLabel is not None and plot.titleLabel.text:
        plot.setTitle(plot.titleLabel.text, color=FOREGROUND, size=f"{s.title_pt}pt")


def set_axis_label(plot: pg.PlotItem, side: str, text: str, lecture: bool = False) -> None:
    plot.setLabel(side, text, **{"color": FOREGROUND, "font-size": f"{sizes(lecture).label_pt}pt"})


def dark_palette() -> QPalette:
    """A dark Qt palette for the whole application (the main window may apply it with ``app.setPalette``)."""
    p = QPalette()
    base, panel, text, muted = QColor(BACKGROUND), QColor(PANEL), QColor(FOREGROUND), QColor(MUTED)
    p.setColor(QPalette.ColorRole.Window, panel)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, panel)
    p.setColor(QPalette.ColorRole.ToolTipBase, panel)
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, panel)
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor(DIVERGED_COLOR))
    p.setColor(QPalette.ColorRole.Highlight, QColor("#3d6fd6"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.PlaceholderText, muted)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, muted)
    return p
