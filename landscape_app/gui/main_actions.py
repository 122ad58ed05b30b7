"""The main window's menu commands: view options, session files (new, open, save, recent, export) and surface
files (open: with their session, or the surface alone).

A mixin of ``MainWindow``, kept apart so each module stays about one thing.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from ..core.errors import LandscapeError, UntrustedCodeError
from ..core.inputs import check_not_input, session_inputs
from ..core.presets import default_session
from ..core.tomlio import save
from .formula_text import keep_formulas_whole
from .main_layout import EDITED_TIP
from .status_bar import POSITION_TIP
from .main_menus import remember_session
from .surface_file import DIALOG_FILTER, is_surface_file
from .trust_dialog import confirm_trust


class WindowActions:
    """Menu commands; needs MainWindow's controller and widgets."""

    # What a surface shown alone (no runs) disables: everything that trains, edits or saves the runs.
    RUN_ACTIONS = ("play", "step", "reset", "add_run", "save", "save_as", "load_csv", "export", "minibatch")

    # Whether discarding unsaved edits (closing the window, New, Open, a preset) asks first. The app's entry point
    # turns it on; a window made in a test or for a --quit-after screenshot never asks.
    confirm_discard = False
    discard_box: QMessageBox | None = None

    # -- the session's header: title, description, unsaved edits ----------------------------------------------
    def _session_loaded(self) -> None:
        """A session was opened (a file, a preset, New), or a surface file: its text describes what is shown, and
        nothing is unsaved."""
        self._show_static(self.controller.static is not None)
        self._show_header()

    def _show_static(self, on: bool) -> None:
        """A surface alone (``on``): no runs, so the panel, the runs list and the transport bar leave the screen,
        the commands that train, edit or save runs are off, and the status bar says what is shown."""
        was = getattr(self, "_static_shown", False)
        if on:
            line = self.controller.static.line
            self.status.position.setText(line)
            self.status.position.setToolTip(line)
            self.views.show_file_paths(self.controller.static.paths)
        if on == was:
            return
        if on:
            self._panel_before_static = self.panel_visible()
            self.set_panel_visible(False)
            self.actions_by_name["minibatch"].setChecked(False)
            self.set_minibatch_view(False)
        self._static_shown = on
        self.views.set_static(on)
        self.transport.setVisible(not on)
        for name in (*self.RUN_ACTIONS, "panel"):
            self.actions_by_name[name].setEnabled(not on)
        self.panel_button.setEnabled(not on)
        if not on:
            self.set_panel_visible(self._panel_before_static)
            self._validity_changed(self.panel.valid)        # Play and Step as the panel's entries allow
            self.status.position.setText("no steps yet")
            self.status.position.setToolTip(POSITION_TIP)
        self._header_lines()

    def _show_header(self) -> None:
        session = self.session
        static, opened = self.controller.static, self.controller.opened_file
        if static is not None:
            title = name = static.title
            description = ""
        else:
            # A session read from a surface file, and not saved since, is named by that file.
            file_name = Path(self.path).name if self.path else (Path(opened).name if opened else None)
            title = session.shown_title or (Path(self.path).stem if self.path else file_name) or "Untitled session"
            name = session.title or file_name or "Untitled"
            description = session.shown_description
        self.title_label.setText(title)
        self.description_label.setText(keep_formulas_whole(description))     # "y = x - 1" never wraps inside
        self.description_label.setToolTip(EDITED_TIP if session.edited and static is None else "")
        self._header_lines()            # shows the description, or tucks it into the title's tooltip
        self.setWindowTitle(f"{name}[*] — landscape-app")       # [*]: Qt shows "*" while there are unsaved edits
        self.setWindowModified(self.unsaved)

    @property
    def unsaved(self) -> bool:
        """Whether the session differs from the one last opened or saved."""
        return self.controller.unsaved

    def may_close(self) -> bool:
        """True when the window may close (asking first about unsaved edits)."""
        return self.may_discard("closing", "closes the window")

    def may_discard(self, before: str = "closing", then: str = "closes the window") -> bool:
        """Ask what becomes of unsaved edits (Save / Discard / Cancel) before ``before`` (e.g. "closing");
        True when the session may be replaced or the window closed."""
        if not self.confirm_discard or not self.unsaved:
            return True
        buttons = QMessageBox.StandardButton
        where = Path(self.path).name if self.path else "a new file"
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved changes",
                          f"Save the edited session to {where} before {before}?",
                          buttons.Save | buttons.Discard | buttons.Cancel, self)
        box.setInformativeText(f"Discard {then} and loses the edits.")
        box.setDefaultButton(buttons.Save)
        self.discard_box = box
        try:
            choice = box.exec()
        finally:
            self.discard_box = None
            box.deleteLater()
        if choice == buttons.Save:
            return self.save_session()
        return choice == buttons.Discard

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
        # In lecture mode the views own the screen: the panel hides (P brings it back, wider for the larger
        # text); leaving lecture mode brings it back.
        self.set_panel_visible(not on)
        self.actions_by_name["lecture"].setChecked(on)

    def set_log_scale(self, on: bool) -> None:
        self.views.set_log_scale(on)

    def set_gradient_field(self, on: bool) -> None:
        self.views.set_gradient_field(on)

    def set_minibatch_view(self, on: bool) -> None:
        self.views.set_minibatch_visible(on)
        self._fit_panel()           # the panel narrows first to make room for the mini-batch view
        self.scene.set_minibatch(on)
        self.playback.dirty = True

    def set_accuracy_surface(self, on: bool) -> None:
        """A classifying network's accuracy on the surface instead of its loss (a scene setting: no retraining)."""
        self.controller.set_metric("accuracy" if on else "loss")
        self.actions_by_name["accuracy"].setChecked(bool(on))

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
        if self.may_discard("starting a new one", "starts the new session"):
            self.set_session(default_session())

    def open_session_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open session", "", "Sessions (*.toml);;All files (*)")
        if path:
            self.open_path(path)

    def open_surface_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open surface", "", DIALOG_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str, checked: bool = False) -> bool:
        """Open a session (TOML) or a surface file (HDF5, NPZ, CSV); a file that cannot be read is a dialog. A file
        whose session names code (a model file) opens once the user trusts it (``trust_dialog``); Cancel leaves
        the session shown as it was."""
        if not self.may_discard(f"opening {Path(path).name}", f"opens {Path(path).name}"):
            return False
        surface = is_surface_file(path)
        load = self.load_surface_file if surface else self.load_session_file
        try:
            try:
                load(path)
            except UntrustedCodeError as exc:
                if not confirm_trust(exc, self):
                    self.status.showMessage(f"Not opened: {Path(path).name} names code that was not trusted", 6000)
                    return False
                load(path, trust=True, code=", ".join(f.path.name for f in exc.files))
        except LandscapeError as exc:
            self.show_error("Cannot open the surface" if surface else "Cannot open the session", str(exc))
            return False
        except (OSError, MemoryError) as exc:
            # The readers say what is wrong with a file (LandscapeError); the machine failing under them (a disk
            # error, memory exhausted) is still a dialog naming the file, never a silent no-op.
            reason = ("not enough memory to read it" if isinstance(exc, MemoryError)
                      else f"cannot read ({exc.strerror or exc})")
            self.show_error("Cannot open the surface" if surface else "Cannot open the session", f"{path}: {reason}")
            return False
        return True

    def open_preset(self, name: str, checked: bool = False) -> None:
        if not self.may_discard("opening the preset", "opens the preset"):
            return
        try:
            self.apply_preset(name)
        except LandscapeError as exc:
            self.show_error("Cannot open the preset", str(exc))

    def save_session(self) -> bool:
        """Save to the session's file (asking for one if it has none); True when saved."""
        if self.path is None:
            return self.save_session_as()
        return self.save_to(self.path)

    def save_session_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self, "Save session", "session.toml", "Sessions (*.toml)")
        return self.save_to(path) if path else False

    def save_to(self, path) -> bool:
        try:
            # The session's data CSV (or model file) chosen as the name: saving would replace what it reads.
            check_not_input(path, session_inputs(self.session))
            save(self.session, path)
        except LandscapeError as exc:
            self.show_error("Cannot save the session", str(exc))
            return False
        except OSError as exc:
            self.show_error("Cannot save the session", f"{path}: {exc.strerror or exc}")
            return False
        self.controller.mark_saved(path)
        self._show_header()
        remember_session(path)
        self.status.showMessage(f"Saved {path}", 4000)
        return True

    def open_export_dialog(self) -> None:
        try:
            from .export_dialog import ExportDialog
        except ImportError:
            self.show_error("Export", "Exporting animations is not available in this installation.")
            return
        dialog = ExportDialog(self.session, self.playback.paths(), self, **self._export_scene())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def _export_scene(self) -> dict:
        """A network's export draws on the window's plane: the surface shown (on its plane, whatever kind) when it
        is the exported one's (the first run's, computed and not being replaced); else the exporter computes it on
        the session's plane, showing what the window shows (loss or accuracy)."""
        from .scene_controller import BESIDE, SURFACE, surface_fields
        scene, first = self.scene, self.session.runs[0]
        if not first.is_module:
            return {}
        surface = scene.surface
        settings = scene.plane_settings
        # The surface on screen while a fitted plane waits for its runs lies on the random plane meanwhile: not the
        # plane the window shows after training, which the export computes instead.
        current = (self.controller.static is None and surface is not None and scene.experiment is not None
                   and not scene.jobs.pending(SURFACE) and getattr(surface, "plane", None) is not None
                   and surface.plane.kind == settings.kind
                   and (not settings.needs_finished_runs or scene.plane_fitted)
                   and surface_fields(scene.experiment) == surface_fields(first))
        # The surface beside it (another network of the race, the random slice), where it is here already.
        beside = scene.beside_shown if current and not scene.jobs.pending(BESIDE) else None
        return {"surface": surface if current else None, "metric": scene.metric, "beside": beside}
