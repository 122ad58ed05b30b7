"""The exporter's Qt application: on the display chosen in ``gui.xdisplay`` (a private Xvfb when the 3-D view
needs OpenGL and there is no screen), with OpenGL checked once it exists."""
from __future__ import annotations

import os

from ..core.errors import ExportError
from ..gui.xdisplay import INSTALL_HINT, Display, prepare_display


def check_gl() -> None:
    """After the QApplication exists: refuse the 3-D view when no OpenGL context can be made."""
    from ..gui.views.gl import gl_available
    if not gl_available():
        hint = INSTALL_HINT.replace("none is available", "no OpenGL context could be created")
        if os.environ.get("DISPLAY"):
            hint += " (or unset DISPLAY to draw on a private Xvfb)"
        raise ExportError(hint)


class QtSession:
    """A QApplication for exporting, created (with the platform chosen above) only if none exists yet.

    ``scale``: the device pixel ratio the frames are painted at; with OpenGL the whole application is scaled
    (``QT_SCALE_FACTOR``) so the 3-D view's framebuffer has the frame's full resolution, not an enlargement.
    On exit an application we created is shut down before our Xvfb stops (Qt dies if its display vanishes).
    """

    def __init__(self, needs_gl: bool, scale: float = 1.0):
        self.needs_gl, self.scale = needs_gl, scale
        self.display: Display | None = None
        self.app = None
        self.owned = False

    def __enter__(self):
        from PySide6.QtWidgets import QApplication
        self.app = QApplication.instance()
        if self.app is None:
            self.display = prepare_display(self.needs_gl)
            if self.needs_gl and self.scale > 1.0:
                os.environ["QT_SCALE_FACTOR"] = f"{self.scale:g}"
            from ..gui.views import gl  # noqa: F401  (switches on GL context sharing before the app exists)
            self.app = QApplication(["landscape-app"])
            self.owned = True
        try:
            if self.needs_gl:
                check_gl()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.owned and self.app is not None:
            self.app.processEvents()
            self.app.shutdown()
            os.environ.pop("QT_SCALE_FACTOR", None)
        self.app = None
        if self.display is not None:
            self.display.close()
            self.display = None
        return False


__all__ = ["QtSession", "check_gl"]
