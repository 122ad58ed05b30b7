"""Vector stills: the final frame as SVG through Qt's own SVG paint device.

Qt's SVG 1.1 generator records what the views paint, so curves, paths, iso-lines and text stay vectors (the heat
map is an embedded image) and clip paths keep each plot inside its axes. (pyqtgraph 0.14's SVGExporter cannot
parse the closed paths Qt 6 writes, pyqtgraph issue #3495, and handles one plot only.)
"""
from __future__ import annotations

import contextlib

from ..core.errors import ExportError


def save_svg(renderer, path) -> None:
    """Write ``renderer``'s final frame (2-D views only) to ``path`` as SVG, atomically."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, QSize
    from PySide6.QtGui import QColor, QPainter
    from PySide6.QtSvg import QSvgGenerator

    from ..gui import style
    from .writers import write_bytes_atomic
    if any(getattr(v, "gl", None) is not None for v in renderer.views.values()):
        raise ExportError(f"-o {path}: the 3-D view cannot be written as SVG; write a .png")
    renderer.update(renderer.scene.n_points, 0, 1)
    width, height = renderer.plan.size
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)     # 1.1: clip paths keep plots in their axes
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(width, height))
    generator.setViewBox(QRect(0, 0, width, height))
    generator.setResolution(96)       # so viewers size it width x height pixels
    generator.setTitle(renderer.title.text() if renderer.title is not None else "landscape-app")
    generator.setDescription("Exported by landscape-app")
    painter = QPainter(generator)
    try:
        # One background rectangle under the window's own pieces: no seams between them in viewers.
        painter.fillRect(QRect(0, 0, width, height), QColor(style.BACKGROUND))
        painter.scale(renderer.scale, renderer.scale)
        with _export_mode(renderer.views.values()):
            renderer.window.render(painter, QPoint())
    finally:
        painter.end()
    buffer.close()
    write_bytes_atomic(path, bytes(data.data()))


@contextlib.contextmanager
def _export_mode(views):
    """pyqtgraph's export mode for every item while painting a vector file: scatter symbols are then drawn as
    shapes instead of cached pixmap fragments (which SVG viewers show torn)."""
    import pyqtgraph as pg
    items = [item for view in views for plot in view.findChildren(pg.GraphicsView)
             for item in plot.scene().items() if hasattr(item, "setExportMode")]
    for item in items:
        item.setExportMode(True, {"antialias": True})
    try:
        yield
    finally:
        for item in items:
            item.setExportMode(False)


__all__ = ["save_svg"]
