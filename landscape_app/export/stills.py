"""Vector stills: the final frame as SVG through Qt's own SVG paint device, made portable.

Qt's SVG 1.1 generator records what the views paint, so curves, paths, iso-lines and text stay vectors (the heat
map and any 3-D view are embedded images) and clip paths keep each plot inside its axes; ``svg_portable`` then
rewrites what only Qt's own renderer reads as Qt means it (cosmetic pens, font names), so librsvg and browsers show
the same picture as the PNG still. (pyqtgraph 0.14's SVGExporter cannot parse the closed paths Qt 6 writes,
pyqtgraph issue #3495, and handles one plot only.)
"""
from __future__ import annotations

import contextlib


def save_svg(renderer, path) -> None:
    """Write ``renderer``'s final frame to ``path`` as SVG, atomically (3-D views as embedded images)."""
    from .writers import write_bytes_atomic
    renderer.update(renderer.scene.n_points, 0, 1)
    title = renderer.title.text() if renderer.title is not None else "landscape-app"
    write_bytes_atomic(path, svg_bytes(renderer.window, renderer.plan.size, renderer.scale, title,
                                       rasters=renderer.gl_views()))


def svg_bytes(widget, size, scale: float, title: str, rasters=()) -> bytes:
    """``widget`` painted into a portable SVG document of ``size`` pixels (its layout ``scale`` times smaller).

    Views in ``rasters`` (OpenGL, which has no vector form) are embedded as images of their pixels; everything
    else stays vector. The widgets are recorded into a ``QPicture`` first and replayed into the SVG: painting a
    widget tree straight into ``QSvgGenerator`` writes every clip region in its own widget's coordinates, so
    browsers and librsvg cut plots, axes and labels in the wrong places (Qt's own renderer, which ignores clip
    paths, hid the mistake). ``svg_portable`` then rewrites what only Qt reads as Qt means it.
    """
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, QRectF, QSize
    from PySide6.QtGui import QColor, QPainter, QPicture, QRegion
    from PySide6.QtSvg import QSvgGenerator

    from ..gui import style
    from .svg_portable import portable_svg
    width, height = int(size[0]), int(size[1])
    places = [QRect(view.mapTo(widget, QPoint(0, 0)), view.size()) if view is not widget else widget.rect()
              for view in rasters]
    picture = QPicture()
    recorder = QPainter(picture)
    try:
        region = QRegion(widget.rect())
        for place in places:
            region -= QRegion(place)
        with _export_mode(widget):
            widget.render(recorder, QPoint(), region)
    finally:
        recorder.end()
    images = [view.grab_image() for view in rasters]

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)     # 1.1: clip paths keep plots in their axes
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(width, height))
    generator.setViewBox(QRect(0, 0, width, height))
    generator.setResolution(picture.logicalDpiX())      # as recorded: the replay must not rescale fonts
    generator.setTitle(title)
    generator.setDescription("Exported by landscape-app")
    painter = QPainter(generator)
    try:
        # One background rectangle under the widgets' own pieces: no seams between them in viewers.
        painter.fillRect(QRect(0, 0, width, height), QColor(style.BACKGROUND))
        # Pens of cosmetic width stay that many pixels, as on the PNG still's device (its pixel ratio scales
        # everything else).
        painter.scale(scale, scale)
        painter.drawPicture(0, 0, picture)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        for place, image in zip(places, images):
            painter.drawImage(QRectF(place), image)
    finally:
        painter.end()
    buffer.close()
    return portable_svg(bytes(data.data()), (width, height), dpi=generator.resolution())


@contextlib.contextmanager
def _export_mode(widget):
    """Every item drawn as vectors while painting a vector file: pyqtgraph's export mode (scatter symbols as
    shapes, not cached pixmap fragments, which SVG viewers show torn), and no item cache (the views keep the heat
    map, iso-lines and legends as device pixmaps between frames, which would put them in the file as pictures)."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QGraphicsItem, QGraphicsView
    graphics = widget.findChildren(pg.GraphicsView) + ([widget] if isinstance(widget, pg.GraphicsView) else [])
    items = [item for plot in graphics for item in plot.scene().items()]
    modes = [item.cacheMode() for item in items]
    backgrounds = [plot.cacheMode() for plot in graphics]     # a view's cached background: a picture too
    for plot in graphics:
        plot.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
    for item in items:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        if hasattr(item, "setExportMode"):
            item.setExportMode(True, {"antialias": True})
    try:
        yield
    finally:
        for plot, mode in zip(graphics, backgrounds):
            plot.setCacheMode(mode)
        for item, mode in zip(items, modes):
            item.setCacheMode(mode)
            if hasattr(item, "setExportMode"):
                item.setExportMode(False)


__all__ = ["save_svg", "svg_bytes"]
