"""The controller between the session and the widgets: it owns the race, the selection, playback and the scene.

``Controller`` holds the Session (the race), each run's id, the selected row, the training (``Playback``) and
the scene (``SceneController``: the surface and what derives from it, computed off the GUI thread). Edits come
in as calls (from the control panel, the runs list, a click on the contour); what changed goes out as signals,
which the main window wires to its widgets. An edit of the training settings retrains the race; an edit of the
scene settings only (the grid: ranges, resolution, axes, held value) recomputes the surface and keeps the runs.
A surface file opens as its session with the file's surface shown (``open_surface_file``), or, where no runs can be
drawn on it, as a *static* scene: the surface alone, no runs, nothing to edit (``static``).
(pyapp-kit/ndv's ``ArrayViewer`` is the model: models in, views out, stale results dropped by generation.)
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from ..core.errors import ConfigError, DataError
from ..core.experiment import Experiment
from ..core.models import loss_unit
from ..core.palette import run_color
from ..core.plane_settings import PlaneSettings
from ..core.session import Session
from . import plane_text, race
from .plane_fit import PlaneFit
from .playback import PLAYING, Playback
from .scene_controller import SceneController
from .scene_settings import surface_fields, training_differs
from .views.base import RunStyle


class Controller(QObject):
    session_loaded = Signal()        # a session was opened (file, preset, New): its text describes its runs
    session_edited = Signal()        # the runs or their names changed (the header may now be marked edited)
    runs_changed = Signal()          # runs added, removed, renamed, or their outcomes: lists and legends
    selection_changed = Signal()     # another run is selected (the panel shows its settings)
    scene_text_changed = Signal()    # what the surface shows, in words (``scene_text``)
    restarted = Signal()             # the race was loaded anew into the training thread (a new generation)
    refused = Signal(str, str)       # an edit that cannot be made: (title, message)
    plane_replay = Signal(bool)      # a plane fitted to the finished runs arrived: step 0 (True: replay from there)

    def __init__(self, session: Session, path: str | None = None, train_fn=None, parent: QObject | None = None):
        super().__init__(parent)
        self.playback = Playback(self, train_fn)
        self.scene = SceneController(self)
        self.session = session
        self.path = path
        self.run_ids: list[int] = list(range(len(session.runs)))
        self.row = 0
        self._described_runs = None
        self.saved_session = session
        # Training starts after the window's first paint (see MainWindow.start_training_thread).
        self.training_started = False
        self._pending: dict | None = None
        self.static = None              # the SurfaceFileScene shown alone (no runs), or None
        self.opened_file: str | None = None      # the surface file the scene came from (its name titles it)
        self._source_note = None
        self.scene.surface_ready.connect(self._surface_arrived)
        # A plane fitted to finished runs (PCA, three points): train them to the end flat out, fit, replay.
        self.fitting = PlaneFit(self, self)
        self.fitting.changed.connect(self.scene_text_changed)
        self.fitting.replay.connect(self.plane_replay)

    # -- what the widgets read ------------------------------------------------------------------------------
    @property
    def experiment(self) -> Experiment:
        """The selected run's experiment."""
        return self.session.runs[self.row]

    def run_styles(self) -> list[RunStyle]:
        if self.static is not None:
            # A surface alone has no runs; the paths its file keeps are drawn on it, in their runs' colours.
            return [RunStyle(rid, name, color) for rid, (name, color) in zip(sorted(self.static.paths),
                                                                              self.static.runs)]
        return [RunStyle(rid, name, run_color(rid, color))
                for rid, name, color in zip(self.run_ids, self.session.names, self.session.colors)]

    def run_rows(self) -> list[tuple[str, str, str, str]]:
        """Each run's (name, colour, outcome, message), for the runs list and the legend."""
        return [(s.name, s.color, *self.playback.outcome(s.run_id)) for s in self.run_styles()]

    @property
    def unsaved(self) -> bool:
        """Whether the session differs from the one last opened or saved."""
        return self.session != self.saved_session

    def scene_text(self) -> tuple[str, bool]:
        """What the surface shows, in words, and whether that says more than the colour bar's title."""
        if self.static is not None:
            return self.static.line, True
        exp = self.experiment
        criteria = {r.criterion for r in self.session.runs}
        loss = f"{loss_unit(exp.criterion)} loss"
        if self.scene.shown_metric == "accuracy":
            loss = "accuracy (the fraction classified right)"
        elif len(criteria) > 1:
            loss += f" of the selected run ({self.session.names[self.row]}); the runs differ in loss"
        if exp.is_module:
            # A network's surface is a slice: say so, so that no one reads the projected paths as the paths.
            phase = self.fit_phase
            if phase == plane_text.TRAINING and not self.playing:
                phase = plane_text.WAITING
            return plane_text.scene_words(self.scene.plane_settings, self.scene.plane, phase,
                                          len(self.session.runs), loss), True
        text = f"Surface: {loss}"
        held = [n for n in exp.param_names if n not in exp.grid.axes]
        if held:
            text += f"  ·  {held[0]} held at the selected run's current value"
        source = self.scene.source
        if source is not None:
            text += f"  ·  read from {Path(source).name}"
        return text, len(criteria) > 1 or bool(held) or source is not None

    # -- the session ----------------------------------------------------------------------------------------
    def set_session(self, session: Session, path: str | None = None, surface=None,
                    opened_file: str | None = None) -> None:
        """Show ``session`` (a preset, a file, or new) from its start, paused; with ``surface`` (read from
        ``opened_file``) shown instead of computing it."""
        self.static, self.opened_file = None, opened_file
        self.session, self.path = session, path
        self.run_ids = list(range(len(session.runs)))
        self.row = 0
        self._described_runs = None if session.edited else session.runs
        self.saved_session = session
        self.session_loaded.emit()
        self.selection_changed.emit()
        self.fitting.reset()
        self.scene.set_plane(session.plane_settings, show=False)
        if surface is not None:
            self.scene.seed(self.experiment, surface, source=opened_file)
        self._show_scene()
        self.restart(play=False)

    def open_surface_file(self, opened) -> None:
        """Show a surface file (a ``SurfaceFileScene``): with its session where the runs can be drawn on it,
        else the surface alone (no runs; the session in hand stays, unseen, until another is opened)."""
        if opened.session is not None:
            self.set_session(opened.session, None, surface=opened.surface, opened_file=opened.path)
            return
        self.static, self.opened_file = opened, opened.path
        self.saved_session = self.session       # nothing of it is shown, so nothing is left unsaved
        self.session_loaded.emit()
        self.scene.show_static(opened.surface, opened.path)
        self.scene_text_changed.emit()
        self.restart(play=False)

    @Slot(object, object)
    def _surface_arrived(self, experiment, surface) -> None:
        # A surface computed after one read from a file (a grid edit, the held slice): the scene's line says so.
        if self.scene.source != self._source_note:
            self._source_note = self.scene.source
            self.scene_text_changed.emit()
        elif experiment is not None and experiment.is_module:
            self.scene_text_changed.emit()      # the plane's eigenvalues or explained variance are known now

    # -- the plane (networks) -------------------------------------------------------------------------------
    def set_plane(self, settings: PlaneSettings, current=None, current_key=None, start: bool = True) -> None:
        """Another plane for a network's surface: a scene edit saved with the session (the surface is recomputed,
        the runs are never retrained). A plane fitted to finished runs trains them to their end first (``start``:
        at once), fits, then replays the race on it. ``current``: the shown run's path to its shown step."""
        if self.static is not None or not self.experiment.is_module:
            return
        old = self.scene.plane_settings
        self.session = self.session.replace(plane=settings)
        self.scene.set_plane(settings, current, current_key)
        self.session_edited.emit()          # saved with the session: it now differs from the file
        if settings.main != old.main or settings == old:
            self.fitting.start(start)       # not for the slice beside alone: the main plane stays, fitted
        self.scene_text_changed.emit()

    @property
    def fit_phase(self) -> str:
        """Where a plane fitted to finished runs stands (``plane_text``'s phases; "" for other planes)."""
        return self.fitting.phase

    def replay_done(self) -> None:
        """The replay on a fitted plane ended (or was stopped)."""
        self.fitting.replay_done()

    def mark_saved(self, path: str) -> None:
        self.path = str(path)
        self.saved_session = self.session

    def _edited(self) -> None:
        """The runs or their names changed: a title and description that no longer hold are marked edited."""
        self.session = race.mark_edited(self.session, self._described_runs)
        self.session_edited.emit()

    def new_directions(self) -> None:
        """A network's random plane drawn anew: a scene edit (the surface is recomputed, the runs go on)."""
        self.set_plane_seed(self.scene.plane_seed + 1)

    def set_metric(self, metric: str) -> None:
        """The surface shows "loss" or "accuracy" (a classifying network's): recomputed, never retrained."""
        self.scene.set_metric(metric)
        self.scene_text_changed.emit()

    def set_plane_seed(self, seed: int) -> None:
        self.set_plane(self.scene.plane_settings.replace(seed=int(seed)), start=False)

    def _show_scene(self, force: bool = False) -> None:
        self.scene.show(self.experiment, force=force)
        self._source_note = self.scene.source
        self.scene_text_changed.emit()

    # -- edits ----------------------------------------------------------------------------------------------
    def edit_run(self, exp: Experiment, playing: bool) -> bool:
        """The selected run's settings became ``exp``: a training edit retrains the race, a scene edit (the grid)
        only recomputes the surface. False (and ``refused``) when the race cannot take it."""
        if self.static is not None:
            return False
        old = self.experiment
        try:
            self.session = race.replace_run(self.session, self.row, exp)
        except (ConfigError, DataError) as exc:
            self.refused.emit("This change does not fit the race", str(exc))
            return False
        if old.is_module != exp.is_module:
            # A network now (or no longer): its plane is the session's (the paths' own by default).
            self.scene.set_plane(self.session.plane_settings, show=False)
        if surface_fields(old) != surface_fields(exp):
            self._show_scene()
        self._edited()
        if training_differs(old, exp):
            self.restart(play=playing)
        return True

    def select(self, row: int) -> bool:
        if self.static is not None or not 0 <= row < len(self.session.runs) or row == self.row:
            return False
        self.row = row
        self.selection_changed.emit()
        self._show_scene()
        self.playback.dirty = True
        return True

    def add_run(self) -> None:
        if self.static is not None:
            return
        try:
            self.session = race.add_run(self.session, self.row)
        except ConfigError as exc:
            self.refused.emit("Cannot add a run", str(exc))
            return
        used = set(self.run_ids)
        self.run_ids.append(min(i for i in range(len(used) + 1) if i not in used))
        self.row = len(self.session.runs) - 1
        self.selection_changed.emit()
        self._edited()
        self._show_scene()
        # The runs that had ended keep their paths (their settings did not change); the new run trains.
        self.restart(play=False, keep_finished=True)

    def remove_run(self, row: int) -> None:
        try:
            self.session = race.remove_run(self.session, row)
        except ConfigError as exc:
            self.refused.emit("Cannot remove the run", str(exc))
            return
        del self.run_ids[row]
        self.row = min(self.row if self.row < row else max(self.row - 1, 0), len(self.session.runs) - 1)
        self.selection_changed.emit()
        self._edited()
        self._show_scene()
        self.restart(play=False, keep_finished=True)

    def rename_run(self, row: int, name: str) -> None:
        self.session = race.rename_run(self.session, row, name)
        self._edited()
        self.runs_changed.emit()

    def set_start(self, x: float, y: float, playing: bool) -> None:
        """Every run starts at (x, y) on the surface's two axes (a held parameter stays). A network's start is its
        seeded initialisation: a click on its plane moves nothing."""
        if self.static is not None:
            return
        exp = self.experiment
        if exp.is_module:
            return
        start = dict(zip(exp.param_names, exp.start))
        start[exp.grid.axes[0]], start[exp.grid.axes[1]] = x, y
        try:
            self.session = race.set_start(self.session, tuple(start[n] for n in exp.param_names))
        except ConfigError as exc:
            self.refused.emit("Cannot start there", str(exc))
            return
        self.selection_changed.emit()
        self._edited()
        self._show_scene()      # the plane model's held slice is taken at the start until the run moves
        self.restart(play=playing)

    # -- training -------------------------------------------------------------------------------------------
    def restart(self, play: bool, keep_finished: bool = False) -> None:
        """Load the session's runs into the training thread (a new generation); none for a static surface.
        ``keep_finished``: runs that had ended, unchanged, keep their paths (``Playback.load``)."""
        experiments = {} if self.static is not None else dict(zip(self.run_ids, self.session.runs))
        self.scene.set_run_experiments(experiments)
        if self.training_started:
            self.playback.load(experiments, play=play, keep_finished=keep_finished)
        else:
            self._pending = {"experiments": experiments, "play": play}
        self.restarted.emit()
        self.runs_changed.emit()

    def start_training(self, can_play: bool) -> bool:
        """Start the training thread with the race loaded so far; False when it had started already."""
        if self.training_started:
            return False
        self.training_started = True
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.playback.load(pending["experiments"], play=pending["play"] and can_play)
        return True

    @property
    def playing(self) -> bool:
        return self.playback.state == PLAYING

    def shutdown(self) -> None:
        """Stop the training thread and the scene's jobs, and wait for them."""
        self.playback.shutdown()
        self.scene.shutdown()
