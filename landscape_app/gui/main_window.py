"""The main window: the race's runs and the control panel on the left, the linked views, the transport bar.

It owns the Session (the race) and the Playback (the training thread). Every edit in the control panel
rebuilds the selected run's Experiment; the window replaces that run in the session, recomputes the surface
when data, model, grid or loss changed, and restarts the race. A 60 Hz timer draws whatever steps arrived.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QPoint, QTimer, Slot
from PySide6.QtGui import QFont, QImage, QPainter
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from ..core.errors import ConfigError, DataError
from ..core.experiment import Experiment
from ..core.models import loss_unit
from ..core.session import Session
from ..core.tomlio import load_session
from . import race
from .controls import ControlPanel
from .main_actions import WindowActions
from .main_drawing import FRAME_MS, WindowDrawing
from .main_layout import WindowLayout
from .main_menus import build_menus, remember_session
from .playback import PLAYING, Playback
from ..core.presets import default_session, load_preset
from .runs_panel import RunsPanel
from .status_bar import StatusBar
from .timeline import Replay, TransportBar, speed_at
from .views.base import RUN_COLORS, RunStyle
from .window_views import ViewSet

STARTUP_MARK_ENV = "LANDSCAPE_APP_STARTUP_MARK"
STARTUP_MARK = "landscape-app: window shown"


class MainWindow(QMainWindow, WindowLayout, WindowActions, WindowDrawing):
    def __init__(self, session: Session | None = None, path: str | None = None, train_fn=None):
        super().__init__()
        self.setWindowTitle("landscape-app")
        self.playback = Playback(self, train_fn)
        self.session: Session = session or default_session()
        self.path: str | None = path
        self.run_ids: list[int] = []
        self.row = 0
        self.lecture = False
        self.message_box: QMessageBox | None = None
        self._base_font = QFont(QApplication.font())
        self._surface = None
        self._held_shown: float | None = None
        self._held_time = 0.0
        self._batch_shown = None
        self._scrub_dirty = False

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
        self.views.start_clicked.connect(self.set_start_point)
        self.views.hovered.connect(self._hovered)
        self.views.hover_left.connect(self.status.clear_hover)

        self.playback.set_speed(speed_at(self.transport.speed.value()))
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._frame)
        self._frame_wall = self._frame_cpu = 0.0
        self.timer.start()
        # Training starts after the first paint: building the first torch optimizer imports torch._dynamo
        # (~1 s of Python holding the GIL), which would otherwise delay the window's first appearance.
        self._first_paint_done = False
        self._pending: dict | None = None
        self.views.contour.widget.viewport().installEventFilter(self)
        self.set_session(self.session, path)

    # -- the session ----------------------------------------------------------------------------------------
    def set_session(self, session: Session, path: str | None = None) -> None:
        """Show ``session`` (a preset, a file, or new) from its start, paused."""
        self.session, self.path = session, path
        self.run_ids = list(range(len(session.runs)))
        self.row = 0
        self._session_loaded()
        self.panel.set_experiment(session.runs[0])
        self.status.show_alert("")
        self._scene_changed()
        self._restart(play=False)

    def load_session_file(self, path) -> None:
        """Open a session TOML; a user's mistake raises ConfigError/DataError (the caller shows it)."""
        session = load_session(path)
        self.set_session(session, str(path))
        remember_session(path)

    def apply_preset(self, name: str) -> None:
        self.set_session(load_preset(name))

    @property
    def experiment(self) -> Experiment:
        """The selected run's experiment."""
        return self.session.runs[self.row]

    def run_styles(self) -> list[RunStyle]:
        return [RunStyle(rid, name, color or RUN_COLORS[rid % len(RUN_COLORS)])
                for rid, name, color in zip(self.run_ids, self.session.names, self.session.colors)]

    def _restart(self, play: bool) -> None:
        """Load the session's runs into the training thread (a new generation) and show them."""
        experiments = dict(zip(self.run_ids, self.session.runs))
        self.replay.stop()
        self.views.set_run_experiments(experiments)
        if self._first_paint_done:
            self.playback.load(experiments, play=play and self.panel.valid)
        else:
            self._pending = {"experiments": experiments, "play": play}
        self.transport.follow()
        self.status.show_alert("")
        self._refresh_runs()
        self.views.set_runs(self.run_styles())
        self.views.set_start_marker(self.experiment)

    def _run_rows(self) -> list[tuple[str, str, str, str]]:
        """Each run's (name, colour, outcome, message), for the runs list and the legend."""
        return [(s.name, s.color, *self.playback.outcome(s.run_id)) for s in self.run_styles()]

    def _refresh_runs(self) -> None:
        rows = self._run_rows()
        self.runs_panel.set_runs(rows, self.row)
        self.legend.set_runs(rows)

    def _scene_changed(self) -> None:
        """Recompute the surface of the selected run (its loss; for the plane, its held value) and show it."""
        self._held_shown = None
        self._batch_shown = None
        self._surface = self.views.set_scene(self.experiment, held=None)
        criteria = {r.criterion for r in self.session.runs}
        text = f"Surface: {loss_unit(self.experiment.criterion)} loss"
        if len(criteria) > 1:
            text += f" of the selected run ({self.session.names[self.row]}); the runs differ in loss"
        g = self.experiment.grid
        held = [n for n in self.experiment.param_names if n not in g.axes]
        if held:
            text += f"  ·  {held[0]} held at the selected run's current value"
        self.scene_label.setText(text)
        self._scene_note = len(criteria) > 1 or bool(held)     # more than the colour bar's title says
        self._header_lines()

    # -- edits ----------------------------------------------------------------------------------------------
    @Slot(object)
    def experiment_edited(self, exp: Experiment) -> None:
        old = self.experiment
        try:
            self.session = race.replace_run(self.session, self.row, exp)
        except (ConfigError, DataError) as exc:
            self.show_error("This change does not fit the race", str(exc))
            self.panel.set_experiment(old)
            return
        if any(getattr(old, f) != getattr(exp, f) for f in ("data", "model", "grid", "criterion",
                                                              "criterion_options")):
            self._scene_changed()
        self._session_edited()
        self._restart(play=self.playback.state == PLAYING)

    @Slot(int)
    def select_run(self, row: int) -> None:
        if not 0 <= row < len(self.session.runs) or row == self.row:
            return
        new = self.session.runs[row]
        changed = (new.criterion, dict(new.criterion_options)) != (self.experiment.criterion,
                                                                  dict(self.experiment.criterion_options))
        self.row = row
        self.panel.set_experiment(self.experiment)
        if changed:
            self._scene_changed()
        self.playback.dirty = True

    @Slot()
    def add_run(self) -> None:
        try:
            self.session = race.add_run(self.session, self.row)
        except ConfigError as exc:
            self.show_error("Cannot add a run", str(exc))
            return
        used = set(self.run_ids)
        self.run_ids.append(min(i for i in range(len(used) + 1) if i not in used))
        self.row = len(self.session.runs) - 1
        self.panel.set_experiment(self.experiment)
        self._session_edited()
        self._scene_changed()
        self._restart(play=False)

    @Slot(int)
    def remove_run(self, row: int) -> None:
        try:
            self.session = race.remove_run(self.session, row)
        except ConfigError as exc:
            self.show_error("Cannot remove the run", str(exc))
            return
        del self.run_ids[row]
        self.row = min(self.row if self.row < row else max(self.row - 1, 0), len(self.session.runs) - 1)
        self.panel.set_experiment(self.experiment)
        self._session_edited()
        self._scene_changed()
        self._restart(play=False)

    @Slot(int, str)
    def rename_run(self, row: int, name: str) -> None:
        self.session = race.rename_run(self.session, row, name)
        self._session_edited()
        self._refresh_runs()
        self.views.set_runs(self.run_styles())

    @Slot(float, float)
    def set_start_point(self, x: float, y: float) -> None:
        """A click on the contour: every run starts there (the surface's two axes; a held parameter stays)."""
        exp = self.experiment
        start = dict(zip(exp.param_names, exp.start))
        start[exp.grid.axes[0]], start[exp.grid.axes[1]] = x, y
        try:
            self.session = race.set_start(self.session, tuple(start[n] for n in exp.param_names))
        except ConfigError as exc:
            self.show_error("Cannot start there", str(exc))
            return
        self.panel.set_experiment(self.experiment)
        self._session_edited()
        if len(exp.param_names) > 2:
            self._scene_changed()       # the held parameter's slice is taken at the start until the run moves
        self._restart(play=self.playback.state == PLAYING)

    def eventFilter(self, watched, event) -> bool:
        if not self._first_paint_done and event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, self.start_training_thread)
        return False

    @Slot()
    def start_training_thread(self) -> None:
        """Load the race into the training thread (once the window has painted, or on the first command)."""
        if self._first_paint_done:
            return
        self._first_paint_done = True
        self.views.contour.widget.viewport().removeEventFilter(self)
        if os.environ.get(STARTUP_MARK_ENV):
            print(STARTUP_MARK, flush=True)      # for benchmarks/bench_startup.py
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.playback.load(pending["experiments"], play=pending["play"] and self.panel.valid)

    # -- running --------------------------------------------------------------------------------------------
    @Slot()
    def toggle_play(self) -> None:
        """Play or pause. Scrubbed back (paused or finished), Play replays the recorded steps from there and
        goes on training where they end; Pause stops the replay where it is."""
        self.start_training_thread()
        self.panel.commit()         # an entry still being typed in counts (the transport's buttons take no focus)
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
        if self.playback.state != PLAYING and self.replay.step():
            return
        if self.panel.valid:
            self.transport.follow()
            self._scrub_dirty = True
            self.playback.step()

    @Slot()
    def _replay_finished(self) -> None:
        """The replay reached the recording's end: the runs with steps left go on training."""
        if self.panel.valid:
            self.playback.play()
        self.transport.set_playing(self.playback.state == PLAYING)

    @Slot()
    def _replay_stopped(self) -> None:
        self.transport.set_playing(self.playback.state == PLAYING)

    @Slot()
    def reset(self) -> None:
        self._restart(play=False)

    @Slot(bool)
    def _validity_changed(self, valid: bool) -> None:
        self.transport.set_can_play(valid, f"Fix the marked field first: {self.panel.error}")
        self.actions_by_name["play"].setEnabled(valid)
        self.actions_by_name["step"].setEnabled(valid)
        if not valid:
            self.playback.pause()

    @Slot(str)
    def _state_changed(self, state: str) -> None:
        self.transport.set_playing(state == PLAYING)
        self._frames_soon()

    @Slot(int, str, str)
    def _run_ended(self, run_id: int, outcome: str, message: str) -> None:
        if run_id in self.run_ids:
            row = self.run_ids.index(run_id)
            self.runs_panel.set_outcome(row, outcome, message)
            if outcome in ("diverged", "failed"):
                self.legend.set_runs(self._run_rows())
                self.status.show_alert(f"{self.session.names[row]}: {message} — its path so far stays on screen")

    @Slot(object)
    def _scrubbed(self, upto) -> None:
        self._scrub_dirty = True
        self._frames_soon()

    @Slot(float, float, float)
    def _hovered(self, x: float, y: float, loss: float) -> None:
        self.status.show_hover(tuple(self.experiment.grid.axes), x, y, loss, self.experiment.criterion)

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
        self._header_lines()        # the description's place depends on the height in lecture mode

    def closeEvent(self, event) -> None:
        if not self.may_close():
            event.ignore()
            return
        self.timer.stop()
        self.playback.shutdown()
        if self.lecture:
            QApplication.instance().setFont(self._base_font)
        super().closeEvent(event)

