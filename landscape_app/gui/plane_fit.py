"""A plane fitted to finished runs (PCA, three points): train the runs to their end flat out, fit, replay.

``PlaneFit`` is the controller's part that walks a race through those phases (``plane_text``'s TRAINING, FITTING,
REPLAYING, FITTED, or NEEDS_RUNS and FAILED): it watches the playback and the scene, sets the playback's speed
to "as fast as it goes" while nothing is worth watching and puts it back after, and hands the finished paths to
the scene. ``changed`` asks for the scene's line anew; ``replay(play)`` asks the window to go back to step 0 of the
race on the fitted plane, and to replay it from there when ``play``.

The runs train ahead as soon as they are loaded (a network's default plane is its runs' PCA plane: for the small
networks of the presets this takes seconds), whether or not Play was pressed; Play meanwhile only says that the
race is to be watched once the plane is there (``watch``), and the transport shows it so.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from . import plane_text
from .playback import FINISHED, PLAYING


class PlaneFit(QObject):
    changed = Signal()          # the phase changed: the scene's line says something else now
    replay = Signal(bool)       # the fitted plane's surface arrived: back to step 0 (True: replay from there)

    def __init__(self, controller, parent: QObject | None = None):
        super().__init__(parent)
        self.controller = controller
        self.phase = ""
        self._generation = None         # the playback generation the plane was fitted to
        self._speed_before: tuple | None = None
        self.watch = False              # Play was pressed while the runs trained ahead: replay once fitted
        controller.scene.surface_ready.connect(self._surface_arrived)
        controller.scene.failed.connect(self._scene_failed)
        controller.playback.state_changed.connect(self._playback_state)
        controller.playback.reset_done.connect(self._runs_restarted)

    @property
    def _active(self) -> bool:
        c = self.controller
        return c.scene.plane_settings.needs_finished_runs and c.static is None and c.experiment.is_module

    def reset(self) -> None:
        """Another session: no phase, the speed the user chose."""
        self.restore_speed()
        self.phase = ""
        self._generation = None
        self.watch = False

    @property
    def training_ahead(self) -> bool:
        """The runs train to their end for the plane (nothing to watch yet: the window draws no path)."""
        return self._active and self.phase == plane_text.TRAINING

    def toggle_watch(self) -> bool:
        """Play or Pause pressed while the runs train ahead: whether the race replays once the plane is fitted."""
        self.watch = not self.watch
        self.changed.emit()
        return self.watch

    def start(self, start: bool) -> None:
        """A plane was chosen: one that needs finished runs sets out for them (``start``: the race is watched)."""
        self.phase = ""
        self._generation = None
        self.watch = self.watch or start
        if self.controller.scene.plane_settings.needs_finished_runs:
            self._needs_finished_runs(True)
        else:
            self.restore_speed()

    def replay_done(self) -> None:
        """The replay on a fitted plane ended (or was stopped): the line says which plane, no longer the replay."""
        if self.phase == plane_text.REPLAYING:
            self.phase = plane_text.FITTED
            self.changed.emit()

    def finished_paths(self) -> list | None:
        """Every run's path in session order, once all have ended; None while one still trains."""
        playback = self.controller.playback
        if playback.state != FINISHED:
            return None
        paths = playback.paths()
        ordered = [paths.get(rid) for rid in self.controller.run_ids]
        return None if any(p is None or not len(p) for p in ordered) else ordered

    def _needs_finished_runs(self, start: bool) -> None:
        c = self.controller
        settings = c.scene.plane_settings
        if settings.kind == "through" and max(settings.points) > len(c.session.runs):
            self.phase = plane_text.NEEDS_RUNS
            return
        if self.finished_paths() is not None:
            self._fit()
            return
        self.phase = plane_text.TRAINING
        if start and c.training_started and c.playback.state != FINISHED:
            c.playback.play()
        if c.playback.state == PLAYING:
            self._flat_out()

    def _flat_out(self) -> None:
        # Nothing to watch yet: the runs train to their end as fast as the machine goes.
        if self._speed_before is None:
            self._speed_before = (self.controller.playback.speed,)
            self.controller.playback.set_speed(None)

    def _fit(self) -> None:
        c = self.controller
        paths = self.finished_paths()
        settings = c.scene.plane_settings
        if paths is None:
            # A run ended before its start point arrived (its training process stopped, say): nothing to fit.
            self.phase = plane_text.FAILED
            c.scene.failed.emit("No plane can be fitted to the runs' paths: a run ended before its first step")
            return
        # A diverged run has no finite path to fit: PCA takes the others (it needs one); three points their own.
        finite = [p if np.isfinite(p.params).all() else None for p in paths]
        if settings.kind == "through" and any(finite[i - 1] is None for i in settings.points):
            self.phase = plane_text.FAILED
            c.scene.failed.emit("The plane through three points needs runs that end: one of them diverged")
            return
        if settings.kind == "pca" and not any(p is not None for p in finite):
            self.phase = plane_text.FAILED
            c.scene.failed.emit("The PCA plane needs a run that ends: every run diverged")
            return
        self.restore_speed()
        self._generation = c.playback.generation
        self.phase = plane_text.FITTING
        runs = list(c.session.runs)
        if settings.kind == "pca":
            runs = [r for r, p in zip(runs, finite) if p is not None]
            finite = [p for p in finite if p is not None]
        c.scene.fit_plane(finite, runs)
        self.changed.emit()

    def restore_speed(self) -> None:
        if self._speed_before is not None:
            (speed,), self._speed_before = self._speed_before, None
            if self.controller.playback.speed is None:     # unless the speed control was moved meanwhile
                self.controller.playback.set_speed(speed)

    @Slot(object, object)
    def _surface_arrived(self, experiment, surface) -> None:
        scene = self.controller.scene
        if self.phase == plane_text.FITTING and scene.plane_fitted and surface.plane is not None \
                and surface.plane.kind == scene.plane_settings.kind:
            self.phase = plane_text.REPLAYING if self.watch else plane_text.FITTED
            self.changed.emit()
            self.replay.emit(self.watch)

    @Slot(str)
    def _playback_state(self, state: str) -> None:
        if not self._active:
            return
        if self.phase == plane_text.TRAINING and state != FINISHED:
            if state == PLAYING:
                self._flat_out()
            self.changed.emit()      # training, or waiting for Play
        elif state == FINISHED and self._generation != self.controller.playback.generation \
                and self.phase in (plane_text.TRAINING, ""):
            self._fit()

    @Slot()
    def _runs_restarted(self) -> None:
        # The runs start over: the plane shown stays (a true plane of the space) until the new runs are fitted.
        # They train ahead at once: the race is ready to replay by the time anyone presses Play.
        if self._active:
            self.restore_speed()
            self._generation = None
            self._needs_finished_runs(start=True)
            self.changed.emit()

    @Slot(str)
    def _scene_failed(self, message: str) -> None:
        if self.phase == plane_text.FITTING:
            self.phase = plane_text.FAILED
            self.changed.emit()
