"""The drawing side of ``core.helper.LossSurface``: an image file, or a small live window beside the user's loop.

A script that uses the helper has no Qt application of its own: we create one when needed. The live window is
shown and updated without blocking (``plot_ps``), and ``final_plot`` runs an event loop until it is closed,
like ``plt.show()``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, Signal
from PySide6.QtWidgets import QApplication, QSplitter, QVBoxLayout, QWidget

from ..core.errors import ExportError
from . import style
# Imported before we create a QApplication: the views switch on GL context sharing (see views.gl).
from .views import RUN_COLORS, ContourView, DataView, LossView, RunStyle, SurfaceView

RUN_ID = 0
RUNS = (RunStyle(RUN_ID, "your path", RUN_COLORS[0]),)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def _has_display() -> bool:
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def ensure_app(need_screen: bool) -> QApplication:
    """The running QApplication, or a new one. Without a screen, an image file is still drawn (offscreen)."""
    app = QApplication.instance()
    if app is not None:
        return app
    if not need_screen and not _has_display() and "QT_QPA_PLATFORM" not in os.environ:
        # Qt aborts the process when it cannot reach a display; drawing into a file needs none.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = QApplication([sys.argv[0] if sys.argv and sys.argv[0] else "landscape-app"])
    app.setApplicationName("landscape-app")
    return app


def _draw(view, helper) -> None:
    trajectory = helper.trajectory
    view.show_paths({RUN_ID: trajectory} if len(trajectory) else {})


def contour_view(helper) -> ContourView:
    """A contour view of the helper's surface with its path."""
    view = ContourView()
    view.set_scene(helper.experiment, helper.surface)
    view.set_runs(RUNS)
    _draw(view, helper)
    return view


def save_image(helper, path, size=(800, 600)) -> None:
    """Write the contour of the surface with the recorded path to ``path`` (PNG, JPEG or BMP)."""
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ExportError(f"{path}: an image file needs one of the suffixes {', '.join(IMAGE_SUFFIXES)}")
    if not path.parent.is_dir():
        raise ExportError(f"{path}: the folder {path.parent} does not exist")
    ensure_app(need_screen=False)
    view = contour_view(helper)
    try:
        # Resize even at the default 640x480: a top-level widget never resized is shrunk to fit the screen.
        view.resize(int(size[0]), int(size[1]))
        image = view.render_image(int(size[0]), int(size[1]))
        if not image.save(str(path)):
            raise ExportError(f"{path}: could not write the image")
    finally:
        view.deleteLater()


class HelperWindow(QWidget):
    """Contour and 3-D surface side by side, the data with the current fit and the loss curve below."""

    closed = Signal()

    def __init__(self, helper):
        super().__init__()
        self.setWindowTitle("landscape-app: loss surface")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.setPalette(style.dark_palette())
        self.setAutoFillBackground(True)
        self.contour = ContourView()
        self.surface3d = SurfaceView()     # a placeholder note inside when OpenGL cannot run here
        self.data = DataView()             # the course's "data space": the points and the current line
        self.loss = LossView()
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.contour)
        top.addWidget(self.surface3d)
        top.setSizes([500, 500])
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.data)
        bottom.addWidget(self.loss)
        bottom.setSizes([500, 500])
        outer = QSplitter(Qt.Orientation.Vertical)
        outer.addWidget(top)
        outer.addWidget(bottom)
        outer.setSizes([420, 240])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(outer)
        self.views = (self.contour, self.surface3d, self.data, self.loss)
        for view in self.views:
            view.set_scene(helper.experiment, helper.surface)
            view.set_runs(RUNS)
        # One path in one colour, which the contour's legend names: the other views keep their room.
        for view in (self.surface3d, self.data):
            view.set_run_legend(False)
        self.resize(1000, 700)

    def update_path(self, helper) -> None:
        for view in self.views:
            _draw(view, helper)

    def closeEvent(self, event) -> None:
        super().closeEvent(event)
        self.closed.emit()


def show_live(helper, window: HelperWindow | None, block: bool) -> HelperWindow:
    """Show (or update) ``helper``'s window; with ``block``, return only once the user has closed it."""
    app = ensure_app(need_screen=True)
    if window is None or not window.isVisible():
        if window is not None:
            window.deleteLater()
        window = HelperWindow(helper)
        window.show()
    window.update_path(helper)
    app.processEvents()
    if block and window.isVisible():
        loop = QEventLoop()
        window.closed.connect(loop.quit)
        loop.exec()
    return window
