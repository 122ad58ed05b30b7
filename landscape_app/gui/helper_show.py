"""Where the course helper's figures go: inline in a Jupyter notebook, the live window, or an image file.

``landscape_app.course.LossSurface`` calls ``show`` and ``save`` only; everything Qt starts here.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice

from ..core.errors import ExportError
from ..core.files import write_bytes_atomic
from .helper_figure import HelperFigure, default_size
from .helper_window import ensure_app, has_screen, note_no_gl, show_live
from .views import gl_available

IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPG", ".jpeg": "JPG", ".bmp": "BMP"}


def _size(size, kind: str, gl: bool) -> tuple[int, int]:
    if size is None:
        return default_size(kind, gl)
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ExportError(f"size must be (width, height) in pixels, not {size!r}") from None
    if not (64 <= w <= 8192 and 64 <= h <= 8192):
        raise ExportError(f"size must be from 64 to 8192 pixels a side, not {w}x{h}")
    return w, h


def figure_image(helper, kind: str, size=None):
    """``helper``'s figure ``kind`` ("surface", "plot_ps", "final_plot") as a QImage."""
    gl = gl_available()
    if not gl and kind in ("surface", "final_plot"):
        note_no_gl()
    width, height = _size(size, kind, gl)
    figure = helper._figures.get(kind)
    if figure is None:
        figure = helper._figures[kind] = HelperFigure(kind, gl)
    figure.update_from(helper)
    return figure.render_image(width, height)


def _encoded(image, fmt: str) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = image.save(buffer, fmt)
    buffer.close()
    if not ok:
        raise ExportError(f"could not encode the figure as {fmt}")
    return bytes(data)


def save(helper, kind: str, path, size=None) -> None:
    """Write the figure to ``path`` (PNG, JPEG or BMP), through a temporary file renamed at the end."""
    path = Path(path)
    fmt = IMAGE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ExportError(f"{path}: an image file needs one of the suffixes {', '.join(IMAGE_FORMATS)}")
    if not path.parent.is_dir():
        raise ExportError(f"{path}: the folder {path.parent} does not exist")
    _size(size, kind, True)                 # a bad size is refused before Qt starts
    ensure_app(for_window=False)
    try:
        write_bytes_atomic(path, _encoded(figure_image(helper, kind, size), fmt))
    except OSError as exc:
        raise ExportError(f"{path}: could not write the image ({exc.strerror or exc})") from None


def show(helper, kind: str, place: str, size=None, quiet: bool = False) -> None:
    """Show the figure ``kind`` "inline" (in the notebook cell's output) or in the live "window"."""
    if place == "inline":
        from IPython.display import Image, display
        ensure_app(for_window=False)
        display(Image(data=_encoded(figure_image(helper, kind, size), "PNG"), format="png"))
        return
    app = ensure_app(for_window=True)
    if app is None or (not has_screen() and helper.show == "auto"):
        if not quiet:
            helper.say_headless(kind)
        return
    window = helper._figures.get("window")
    helper._figures["window"] = show_live(helper, window, block=kind == "final_plot")


__all__ = ["figure_image", "save", "show"]
