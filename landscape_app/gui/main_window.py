"""The main window: the race's runs and the control panel on the left, the linked views, the transport bar.

It lays the widgets out and wires them to the ``Controller``, which owns the Session (the race), the selection,
the training thread and the scene (the surface, computed off the GUI thread). Every edit in the control panel
rebuilds the selected run's Experiment and goes to the controller; what changed comes back as signals. A 60 Hz
timer draws whatever steps arrived.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QTimer, Slot
from PySide6.QtGui import QFont, QImage, QPainter
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from ..core.experiment import Experiment
from ..core.presets import default_session, load_preset
from ..core.session import Session
from ..core.tomlio import load_session
from .controller import Controller
from .controls import ControlPanel
from .main_actions import WindowActions
from .main_drawing import FRAME_MS, WindowDrawing
from .main_layout import HINT, NETWORK_HINT, WindowLayout
from .main_menus import build_menus, remember_session
from .scene_settings import has_accuracy
from .playback import PLAYING
from .runs_panel import RunsPanel
from .status_bar import StatusBar, kept_path_text
from .surface_file import SurfaceFileScene, read_surface_scene
from .timeline import Replay, TransportBar, speed_at
from .user_code import run_user_code
from .views.base import RunStyle, value_label
from .window_views import ViewSet

STARTUP_MARK_ENV = "LANDSCAPE_APP_STARTUP_MARK"
STARTUP_MARK = "landscape-app: window shown"


class MainWindow(QMainWindow, WindowLayout, WindowActions, WindowDrawing):
    def __init__(self, session: Session | None = None, path: str | None = None, train_fn=None):
        super().__init__()
        self.setWindowTitle("landscape-app")
        self.controller = Controller(session or default_session(), path, train_fn, self)
        self.playback = self.controller.playback
        self.scene = self.controller.scene
        self.lecture = False
        self.message_box: QMessageBox | None = None
        self._base_font = QFont(QApplication.font())
        self._scrub_dirty = False
        self._moved = False             # the paths have moved on screen once (see main_drawing.MOTION_MARK)
        self._scene_note = False

        self.panel = ControlPanel(self.session.runs[0])
        self.runs_panel = RunsPanel()
        self.transport = TransportBar()
        self.views = ViewSet()
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self._build_layout()
        self.actions_by_name = build_menus(self)
        self._framed = False
        self.fit_to_screen()

        self.panel.experiment_changed.connect(self.experiment_edited)
        self.panel.validity_changed.connect(self._validity_changed)
        self.panel.plane_changed.connect(self.plane_edited)
        self.runs_panel.selected.connect(self.select_run)
        self.runs_panel.add_requested.connect(self.add_run)
        self.runs_panel.remove_requested.connect(self.remove_run)
        self.runs_panel.renamed.connect(self.rename_run)
        self.transport.play_clicked.connect(self.toggle_play)
        self.transport.step_clicked.connect(self.step)
        self.transport.reset_clicked.connect(self.reset)
        self.transport.speed_changed.connect(self.playback.set_speed)
        self.transport.speed_changed.connect(self._frames_soon)
        self.transport.scrubbed.connect(self._scrubbed)
        self.replay = Replay(self.transport, lambda: self.playback.speed, self)
        self.replay.finished.connect(self._replay_finished)
        self.replay.stopped.connect(self._replay_stopped)
        self.playback.state_changed.connect(self._state_changed)
        self.playback.run_ended.connect(self._run_ended)
        self.playback.unresponsive.connect(self.status.show_silence)
        self.status.stop_training.clicked.connect(self.playback.stop_training_process)
        self.views.start_clicked.connect(self.set_start_point)
        self.views.hovered.connect(self._hovered)
        self.views.hover_left.connect(self.status.clear_hover)

        c = self.controller
        c.session_loaded.connect(self._session_loaded)
        c.session_edited.connect(self._show_header)
        c.runs_changed.connect(self._refresh_runs)
        c.selection_changed.connect(self._selection_changed)
        c.scene_text_changed.connect(self._scene_text_changed)
        c.restarted.connect(self._restarted)
        c.refused.connect(self._refused)
        c.plane_replay.connect(self._replay_on_plane)
        self.scene.surface_ready.connect(self._surface_ready)
        self.scene.minibatch_ready.connect(self.views.set_minibatch_scene)
        self.scene.beside_ready.connect(self._beside_ready)
        self.scene.lifted_changed.connect(self._lifted_changed)
        self.scene.projected_changed.connect(self._lifted_changed)
        self.scene.predictions_ready.connect(self.views.show_predictions)
        self.scene.busy_changed.connect(self.status.set_busy)
        self.scene.progress.connect(self.status.set_progress)
        self.scene.failed.connect(self.status.show_alert)

        self.playback.set_speed(speed_at(self.transport.speed.value()))
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._frame)
        self._frame_wall = self._frame_cpu = 0.0
        self.timer.start()
        # Training starts after the first paint: building the first torch optimizer imports torch._dynamo
        # (~1 s of Python holding the GIL), which would otherwise delay the window's first appearance.
        self.views.contour.widget.viewport().installEventFilter(self)
        self.set_session(self.session, path)

    # -- what the controller holds ----------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        return self.controller.session

    @property
    def path(self) -> str | None:
        return self.controller.path

    @property
    def run_ids(self) -> list[int]:
        return self.controller.run_ids

    @property
    def row(self) -> int:
        return self.controller.row

    @property
    def experiment(self) -> Experiment:
        """The selected run's experiment."""
        return self.controller.experiment

    def run_styles(self) -> list[RunStyle]:
        return self.controller.run_styles()

    # -- the session ----------------------------------------------------------------------------------------
    def set_session(self, session: Session, path: str | None = None) -> None:
        """Show ``session`` (a preset, a file, or new) from its start, paused."""
        self.controller.set_session(session, path)
        self.status.show_alert("")

    def load_session_file(self, path, trust: bool = False, code: str | None = None) -> None:
        """Open a session TOML; a user's mistake raises ConfigError/DataError (the caller shows it), a session
        naming code not trusted UntrustedCodeError (the caller asks). Trusted, the code it names (``code``: its
        file names) is imported off the GUI thread, within a time limit (``user_code``)."""
        session = run_user_code(lambda: load_session(path, True), code or Path(path).name, self) if trust \
            else load_session(path)
        self.set_session(session, str(path))
        remember_session(path)

    def apply_preset(self, name: str) -> None:
        self.set_session(load_preset(name))

    def load_surface_file(self, path, trust: bool = False, code: str | None = None) -> None:
        """Open a surface file (ours or loss-landscape's) and draw it; a file that cannot be read raises
        DataError naming it (the caller shows it), a session naming code not trusted UntrustedCodeError. Trusted,
        as ``load_session_file``."""
        opened = run_user_code(lambda: read_surface_scene(path, True), code or Path(path).name, self) if trust \
            else read_surface_scene(path)
        self.show_surface_file(opened)
        remember_session(path)

    def show_surface_file(self, opened: SurfaceFileScene) -> None:
        """Show a surface file read already: with its session, or alone (see ``Controller.open_surface_file``)."""
        self.controller.open_surface_file(opened)
        self.status.show_alert("")

    # -- from the controller --------------------------------------------------------------------------------
    @Slot()
    def _restarted(self) -> None:
        self.replay.stop()
        self.views.set_mixed_losses(self.scene.lifted.mixed())
        self.views.set_planned_length(max((e.epochs * e.steps_per_epoch for e in self.session.runs), default=None))
        self.transport.follow()
        self.status.show_alert("")
        self.views.set_start_marker(None if self.controller.static is not None else self.experiment)

    @Slot()
    def _refresh_runs(self) -> None:
        rows = self.controller.run_rows()
        self.runs_panel.set_runs(rows, self.row)
        self.legend.set_runs(rows)
        self.views.set_runs(self.run_styles())

    @Slot()
    def _selection_changed(self) -> None:
        self.panel.set_experiment(self.experiment)

    @Slot()
    def _scene_text_changed(self) -> None:
        text, self._scene_note = self.controller.scene_text()
        self.scene_label.setText(text)
        self.hint_label.setText(NETWORK_HINT if self.experiment.is_module else HINT)
        self.views.set_data_experiment(self.experiment)
        self.panel.show_plane(self.scene.plane_settings)
        self.actions_by_name["accuracy"].setEnabled(has_accuracy(self.experiment))
        self.views.set_mixed_losses(self.scene.lifted.mixed())
        self._header_lines()

    @Slot(object, object)
    def _surface_ready(self, experiment, surface) -> None:
        self.views.set_scene(experiment, surface)
        if experiment is not None and experiment.is_module:
            self.views.set_start_marker(experiment, surface.plane)
        self.views.set_mixed_losses(self.scene.lifted.mixed())
        self.playback.dirty = True          # the paths again, over the new surface

    @Slot(object, object)
    def _beside_ready(self, spec, surface) -> None:
        self.views.set_beside_scene(spec, surface)
        self.playback.dirty = True          # the paths on it

    @Slot()
    def _lifted_changed(self) -> None:
        self.playback.dirty = True

    @Slot(str, str)
    def _refused(self, title: str, message: str) -> None:
        self.show_error(title, message)
        self.panel.set_experiment(self.experiment)

    # -- edits ----------------------------------------------------------------------------------------------
    @Slot(object)
    def experiment_edited(self, exp: Experiment) -> None:
        self.controller.edit_run(exp, playing=self.controller.playing and self.panel.valid)

    @Slot(object)
    def plane_edited(self, settings) -> None:
        """Another plane from the panel; a Hessian at the current point is taken at the selected run's shown step."""
        current = key = None
        if settings.kind == "hessian" and settings.at == "current":
            run_id = self.run_ids[self.row]
            path = self.playback.path(run_id)
            if path is not None and len(path):
                n = self.transport.upto or len(path)
                current, key = path.upto(n), (run_id, self.playback.generation, n)
        self.start_training_thread()
        self.controller.set_plane(settings, current, key, start=self.panel.valid)

    @Slot(bool)
    def _replay_on_plane(self, play: bool) -> None:
        """A plane fitted to the finished runs arrived: the race goes back to its first step on it, and replays
        from there when Play was pressed meanwhile (else Play replays it)."""
        self.replay.stop()
        self.transport.show_point(0)
        self._scrub_dirty = True
        self.transport.set_playing(False)
        if not play or not self.replay.start():         # a race of one point: nothing to replay
            self.controller.replay_done()

    @Slot(int)
    def select_run(self, row: int) -> None:
        self.controller.select(row)

    @Slot()
    def add_run(self) -> None:
        self.controller.add_run()

    @Slot(int)
    def remove_run(self, row: int) -> None:
        self.controller.remove_run(row)

    @Slot(int, str)
    def rename_run(self, row: int, name: str) -> None:
        self.controller.rename_run(row, name)

    @Slot(float, float)
    def set_start_point(self, x: float, y: float) -> None:
        """A click on the contour: every run starts there (the surface's two axes; a held parameter stays)."""
        self.controller.set_start(x, y, playing=self.controller.playing and self.panel.valid)

    def eventFilter(self, watched, event) -> bool:
        if not self.controller.training_started and event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, self.start_training_thread)
        return False

    @Slot()
    def start_training_thread(self) -> None:
        """Load the race into the training thread (once the window has painted, or on the first command)."""
        if not self.controller.start_training(self.panel.valid):
            return
        self.views.contour.widget.viewport().removeEventFilter(self)
        if os.environ.get(STARTUP_MARK_ENV):
            print(STARTUP_MARK, flush=True)      # for benchmarks/bench_startup.py

    # -- running --------------------------------------------------------------------------------------------
    @Slot()
    def toggle_play(self) -> None:
        """Play or pause. Scrubbed back (paused or finished), Play replays the recorded steps from there and
        goes on training where they end; Pause stops the replay where it is."""
        self.start_training_thread()
        self.panel.commit()         # an entry still being typed in counts (the transport's buttons take no focus)
        if self.controller.fitting.training_ahead:
            # The runs train ahead for their plane: Play says to replay the race once it is fitted.
            self.transport.set_playing(self.controller.fitting.toggle_watch())
            return
        if self.replay.active:
            self.replay.stop()
            return
        if self.playback.state != PLAYING and self.replay.start():
            return
        if self.panel.valid:
            self.transport.follow()
            self._scrub_dirty = True        # every view and the status bar go to the end with the timeline
            self.playback.toggle()

    @Slot()
    def step(self) -> None:
        """One iteration; scrubbed back, one recorded step forward."""
        self.start_training_thread()
        self.panel.commit()
        if self.controller.fitting.training_ahead:
            return          # nothing to step through until the plane is fitted (seconds)
        if self.playback.state != PLAYING and self.replay.step():
            return
        if self.panel.valid:
            self.transport.follow()
            self._scrub_dirty = True
            self.playback.step()

    @Slot()
    def _replay_finished(self) -> None:
        """The replay reached the recording's end: the runs with steps left go on training."""
        self.controller.replay_done()
        if self.panel.valid:
            self.playback.play()
        self.transport.set_playing(self.playback.state == PLAYING)

    @Slot()
    def _replay_stopped(self) -> None:
        self.controller.replay_done()
        self.transport.set_playing(self.playback.state == PLAYING)

    @Slot()
    def reset(self) -> None:
        self.controller.restart(play=False)

    @Slot(bool)
    def _validity_changed(self, valid: bool) -> None:
        self.transport.set_can_play(valid, f"Fix the marked field first: {self.panel.error}")
        self.actions_by_name["play"].setEnabled(valid)
        self.actions_by_name["step"].setEnabled(valid)
        if not valid:
            self.playback.pause()

    @Slot(str)
    def _state_changed(self, state: str) -> None:
        ahead = self.controller.fitting.training_ahead
        self.transport.set_playing(self.controller.fitting.watch if ahead else state == PLAYING)
        self._frames_soon()

    @Slot(int, str, str)
    def _run_ended(self, run_id: int, outcome: str, message: str) -> None:
        if run_id in self.run_ids:
            row = self.run_ids.index(run_id)
            self.runs_panel.set_outcome(row, outcome, message)
            if outcome in ("diverged", "failed"):
                self.legend.set_runs(self.controller.run_rows())
                self.status.show_alert(f"{self.session.names[row]}: {message} — "
                                       f"{kept_path_text(self.playback.path(run_id))}")

    @Slot(object)
    def _scrubbed(self, upto) -> None:
        self._scrub_dirty = True
        self._frames_soon()

    @Slot(float, float, float)
    def _hovered(self, x: float, y: float, loss: float) -> None:
        if self.controller.static is not None:
            surface = self.controller.static.surface
            self.status.show_hover(tuple(surface.axes), x, y, loss, label=value_label(surface))
            return
        exp = self.experiment
        names = ("α", "β") if exp.is_module else tuple(exp.grid.axes)
        self.status.show_hover(names, x, y, loss, exp.criterion)

    def screenshot(self) -> QImage:
        """The whole window as it is on screen.

        ``QWidget.grab`` leaves out what the 3-D views paint over OpenGL (their axis labels), so each visible
        3-D view's own picture is laid over its place.
        """
        # 32 bits: on a 16-bit display the grab is RGB16, and the views' pictures would lose colour in it.
        image = self.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        painter = QPainter(image)
        for view in self.views.all:
            if view.isVisible() and view.shows_opengl():
                painter.drawImage(view.mapTo(self, QPoint(0, 0)), view.grab_image())
        painter.end()
        return image

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._framed:
            self._framed = True
            # The window manager frames the window after it is shown: then the frame's size is known.
            QTimer.singleShot(0, self._refit_framed)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._header_lines()        # the description's place depends on the height
        self._fit_panel()           # the panel gives way before the views go under their readable width

    def closeEvent(self, event) -> None:
        if not self.may_close():
            event.ignore()
            return
        self.timer.stop()
        self.controller.shutdown()
        if self.lecture:
            QApplication.instance().setFont(self._base_font)
        super().closeEvent(event)

