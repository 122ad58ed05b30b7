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
    from .writers import write_bytes_atomic
    if renderer.gl_views():
        raise ExportError(f"-o {path}: the 3-D view cannot be written as SVG; write a .png")
    renderer.update(renderer.scene.n_points, 0, 1)
    title = renderer.title.text() if renderer.title is not None else "landscape-app"
    write_bytes_atomic(path, svg_bytes(renderer.window, renderer.plan.size, renderer.scale, title))


def save_picture(widget, path) -> None:
    """A view or the whole window as it is on screen, to ``path``: PNG (any widget) or SVG (2-D plots only).

    For the window's File > Save picture; written atomically; ``ExportError`` for an unusable path or format.
    """
    from pathlib import Path

    import numpy as np

    from .frames import qimage_to_rgb
    from .writers import write_bytes_atomic, write_png
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ExportError(f"{path}: save a picture as .png or .svg")
    if not path.absolute().parent.is_dir():
        raise ExportError(f"{path}: the folder {path.absolute().parent} does not exist")
    if suffix == ".png":
        render = getattr(widget, "render_image", None)        # a View paints twice for settled axes
        image = render() if callable(render) else widget.grab().toImage()
        write_png(path, np.ascontiguousarray(qimage_to_rgb(image)))
        return
    from PySide6.QtOpenGLWidgets import QOpenGLWidget
    if isinstance(widget, QOpenGLWidget) or widget.findChildren(QOpenGLWidget):
        raise ExportError(f"{path}: the 3-D view cannot be drawn as SVG; save a .png")
    write_bytes_atomic(path, svg_bytes(widget, (widget.width(), widget.height()), 1.0,
                                       widget.windowTitle() or "landscape-app"))


def svg_bytes(widget, size, scale: float, title: str) -> bytes:
    """``widget`` painted into an SVG document of ``size`` pixels (its layout ``scale`` times smaller)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, QSize
    from PySide6.QtGui import QColor, QPainter
    from PySide6.QtSvg import QSvgGenerator

    from ..gui import style
    width, height = int(size[0]), int(size[1])
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)     # 1.1: clip paths keep plots in their axes
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(width, height))
    generator.setViewBox(QRect(0, 0, width, height))
    generator.setResolution(96)       # so viewers size it width x height pixels
    generator.setTitle(title)
    generator.setDescription("Exported by landscape-app")
    painter = QPainter(generator)
    try:
        # One background rectangle under the widgets' own pieces: no seams between them in viewers.
        painter.fillRect(QRect(0, 0, width, height), QColor(style.BACKGROUND))
        painter.scale(scale, scale)
        with _export_mode(widget):
            widget.render(painter, QPoint())
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data())


@contextlib.contextmanager
def _export_mode(widget):
    """pyqtgraph's export mode for every item while painting a vector file: scatter symbols are then drawn as
    shapes instead of cached pixmap fragments (which SVG viewers show torn)."""
    import pyqtgraph as pg
    graphics = widget.findChildren(pg.GraphicsView) + ([widget] if isinstance(widget, pg.GraphicsView) else [])
    items = [item for plot in graphics for item in plot.scene().items() if hasattr(item, "setExportMode")]
    for item in items:
        item.setExportMode(True, {"antialias": True})
    try:
        yield
    finally:
        for item in items:
            item.setExportMode(False)


__all__ = ["save_svg", "save_picture", "svg_bytes"]
