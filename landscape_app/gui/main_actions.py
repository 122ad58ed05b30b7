"""The main window's menu commands: view options, and session files (new, open, save, recent, export).

A mixin of ``MainWindow``, kept apart so each module stays about one thing.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from ..core.errors import LandscapeError
from .main_menus import remember_session
from ..core.presets import default_session


class WindowActions:
    """Menu commands; needs the attributes MainWindow sets up (views, playback, session, ...)."""

    # -- view options ------------------------------------------------------------------------------------------
    def set_lecture_mode(self, on: bool) -> None:
        self.lecture = on
        font = QFont(self._base_font)
        if on:
            font.setPointSizeF(max(self._base_font.pointSizeF(), 9) * 1.5)
        QApplication.instance().setFont(font)
        # Widgets styled by a style sheet keep the font they were polished with: polish them again.
        for widget in self.findChildren(QWidget):
            if widget.styleSheet():
                widget.setStyleSheet(widget.styleSheet())
        self.views.set_lecture_mode(on)
        self._restyle()
        # Larger text needs a wider control panel.
        width = 470 if on else 330
        self.left_panel.setMaximumWidth(width + 120)
        total = sum(self.splitter.sizes())
        self.splitter.setSizes([width, max(total - width, 1)])
        self.actions_by_name["lecture"].setChecked(on)

    def set_log_scale(self, on: bool) -> None:
        self.views.set_log_scale(on)

    def set_gradient_field(self, on: bool) -> None:
        self.views.set_gradient_field(on)

    def set_minibatch_view(self, on: bool) -> None:
        self.views.set_minibatch_visible(on)
        self.playback.dirty = True

    def set_log_loss(self, on: bool) -> None:
        self.views.set_log_loss(on)

    def set_own_losses(self, on: bool) -> None:
        self.views.set_own_losses(on)
        self.playback.dirty = True

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()
        self.actions_by_name["fullscreen"].setChecked(self.isFullScreen())

    # -- files ------------------------------------------------------------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        """A warning dialog that does not block (the window keeps drawing)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.message_box = box

    def new_session(self) -> None:
        self.set_session(default_session())

    def open_session_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open session", "", "Sessions (*.toml);;All files (*)")
        if path:
            self.open_path(path)

    def open_path(self, path: str, checked: bool = False) -> bool:
        try:
            self.load_session_file(path)
        except LandscapeError as exc:
            self.show_error("Cannot open the session", str(exc))
            return False
        return True

    def open_preset(self, name: str, checked: bool = False) -> None:
        try:
            self.apply_preset(name)
        except LandscapeError as exc:
            self.show_error("Cannot open the preset", str(exc))

    def save_session(self) -> None:
        if self.path is None:
            self.save_session_as()
        else:
            self.save_to(self.path)

    def save_session_as(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save session", "session.toml", "Sessions (*.toml)")
        if path:
            self.save_to(path)

    def save_to(self, path) -> None:
        try:
            self.session.save(path)
        except OSError as exc:
            self.show_error("Cannot save the session", f"{path}: {exc.strerror or exc}")
            return
        self.path = str(path)
        remember_session(path)
        self.status.showMessage(f"Saved {path}", 4000)

    def open_export_dialog(self) -> None:
        try:
            from .export_dialog import ExportDialog
        except ImportError:
            self.show_error("Export", "Exporting animations is not available in this installation.")
            return
        dialog = ExportDialog(self.session, self.playback.paths(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
