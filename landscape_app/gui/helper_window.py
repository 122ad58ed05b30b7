"""The Qt side of the course helper that must come first: a QApplication on a platform that cannot abort the
process, and the live window beside the user's loop.

A script or notebook that uses the helper has no Qt application of its own: we create one when something is
drawn. Qt aborts the whole process (a notebook's kernel with it) when its platform cannot reach a display, so
the platform is chosen before the application exists: a screen only where one answers; for images without
one, a private Xvfb (the 3-D view needs OpenGL, as in the exporter), else Qt's offscreen platform (2-D only).
"""
from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QLibraryInfo
from PySide6.QtWidgets import QApplication

from ..core.errors import ExportError
from .xdisplay import display_reachable, prepare_display
# Imported before we create a QApplication: the views switch on GL context sharing (see views.gl).
from .helper_figure import HelperFigure
from .views import gl_available

NO_SCREEN_PLATFORMS = {"offscreen", "minimal"}
_private_display = []      # the Xvfb we started for images, kept for the life of the process


def _screen_answers() -> bool:
    if sys.platform != "linux":
        return True
    if display_reachable(os.environ.get("DISPLAY")):
        return True
    wayland = os.environ.get("WAYLAND_DISPLAY")
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    return bool(wayland) and Path(runtime, wayland).exists()


def _xcb_loads() -> bool:
    """Whether Qt's xcb platform plugin can be loaded (its libraries are installed): where one is missing
    (libxcb-cursor0, say), Qt would abort the whole process, a notebook's kernel with it."""
    plugin = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath), "platforms", "libqxcb.so")
    if not plugin.exists():
        return False
    try:
        ctypes.CDLL(str(plugin))
    except OSError:
        return False
    return True


def ensure_app(for_window: bool) -> QApplication | None:
    """The running QApplication, or a new one; None when a window is wanted and no screen answers."""
    app = QApplication.instance()
    if app is not None:
        return app
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    if platform not in NO_SCREEN_PLATFORMS and not _screen_answers():
        if for_window:
            return None
        if not _xcb_loads():
            os.environ["QT_QPA_PLATFORM"] = "offscreen"        # Xvfb would be of no use: 2-D panels only
        else:
            try:
                _private_display.append(prepare_display(needs_gl=True))
            except ExportError:
                os.environ["QT_QPA_PLATFORM"] = "offscreen"    # no Xvfb here: 2-D panels only
    app = QApplication([sys.argv[0] if sys.argv and sys.argv[0] else "landscape-app"])
    app.setApplicationName("landscape-app")
    return app


def has_screen() -> bool:
    """Whether a window would be seen: not on the offscreen platform, nor on the Xvfb we started for images."""
    return QApplication.platformName() not in NO_SCREEN_PLATFORMS and not _private_display


_noted = set()


def note_no_gl() -> None:
    """One line, once per process: the 3-D panel is left out for want of OpenGL."""
    if "gl" in _noted:
        return
    _noted.add("gl")
    print("LossSurface: no OpenGL here for the 3-D surface, so the figure shows the 2-D panels "
          "(on Debian/Ubuntu: sudo apt-get install xvfb libgl1-mesa-dri libglx-mesa0)", file=sys.stderr)


class HelperWindow(HelperFigure):
    """The live window: data space and contour above, the 3-D surface and the loss per iteration below."""

    def __init__(self):
        super().__init__("window", gl=gl_available())
        self.resize(1100, 820)


def show_live(helper, window: HelperWindow | None, block: bool) -> HelperWindow:
    """Show (or update) ``helper``'s window; with ``block`` (on a real screen), return once it is closed."""
    if window is None or not window.isVisible():
        if window is not None:
            window.deleteLater()
        window = HelperWindow()
        window.show()
    window.update_from(helper)
    QApplication.processEvents()
    if block and window.isVisible() and has_screen():
        loop = QEventLoop()
        window.closed.connect(loop.quit)
        loop.exec()
    return window


__all__ = ["HelperWindow", "ensure_app", "has_screen", "note_no_gl", "show_live"]
