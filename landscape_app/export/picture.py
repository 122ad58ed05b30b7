"""A view or the whole window as it is on screen, saved as a picture: PNG, or SVG with its 3-D views as images.

``landscape_app.export.save_picture`` was public from the first release; it stays (CHANGELOG.md).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import ExportError


def save_picture(widget, path) -> None:
    """A view or the whole window as it is on screen, to ``path``: PNG or SVG (its 3-D views as images).

    Written atomically; ``ExportError`` for an unusable path or format.
    """
    from .images import qimage_to_rgb
    from .stills import svg_bytes
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
    write_bytes_atomic(path, svg_bytes(widget, (widget.width(), widget.height()), 1.0,
                                       widget.windowTitle() or "landscape-app", rasters=_opengl_views(widget, path)))


def _opengl_views(widget, path) -> list:
    """The views under ``widget`` (itself included) that draw with OpenGL now, to embed as images."""
    from PySide6.QtOpenGLWidgets import QOpenGLWidget

    from ..gui.views.base import View
    views = [v for v in [widget, *widget.findChildren(View)]
             if isinstance(v, View) and v.shows_opengl() and (v is widget or v.isVisibleTo(widget))]
    covered = [w for v in views for w in [v, *v.findChildren(QOpenGLWidget)]]
    if any(w not in covered for w in [widget, *widget.findChildren(QOpenGLWidget)]
           if isinstance(w, QOpenGLWidget) and w.isVisible()):
        raise ExportError(f"{path}: this 3-D picture cannot be drawn as SVG; save a .png")
    return views


__all__ = ["save_picture"]
