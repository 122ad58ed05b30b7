"""The GUI thread's side of training: receives the worker's step batches and keeps each run's growing path.

``Playback`` lives in the GUI thread, so its slots run there (queued from the training process's reader or the
training thread). It drops batches of an older generation (sent before a Reset), grows one ``TrajectoryBuilder``
per run, counts steps per second, and tells the window what changed; the window redraws on its own timer, never
per batch.
"""
from __future__ import annotations

import time
from typing import Callable, Mapping

from PySide6.QtCore import QObject, Signal, Slot

from ..core.trajectory import Trajectory, TrajectoryBuilder
from ..core.race_loop import RunEnded, StepBatch
from ..core import race_process
from . import worker_process
from .worker import TrainingThread

PLAYING, PAUSED, FINISHED = "playing", "paused", "finished"


def _same(old, new) -> bool:
    return old is new or (old is not None and old == new)


class Playback(QObject):
    """Play/pause/step/reset of a race, and the paths so far (``paths()``: run_id -> Trajectory)."""

    state_changed = Signal(str)            # PLAYING, PAUSED or FINISHED
    run_ended = Signal(int, str, str)      # run_id, outcome, message (current generation only)
    reset_done = Signal()                  # a new generation was loaded (paths are empty until its start points)
    idle = Signal()                        # the worker stopped advancing (a Step done, paused, or all ended)
    unresponsive = Signal(float)           # seconds the training process has not answered (0: it answers again)

    def __init__(self, parent: QObject | None = None, train_fn: Callable | None = None):
        super().__init__(parent)
        # A process of its own where it can, so that drawing never slows the training (see worker_process).
        if train_fn is None and race_process.enabled():
            self._training = worker_process.TrainingProcess(self)
        else:
            self._training = TrainingThread(self, train_fn)
        worker = self._training.worker
        worker.steps.connect(self._on_steps)
        worker.run_ended.connect(self._on_run_ended)
        worker.idle.connect(self._on_idle)
        if hasattr(worker, "unresponsive"):         # a process can stop answering, and be stopped
            worker.unresponsive.connect(self._on_unresponsive)
        self.silent_s = 0.0                # how long the training process has not answered (0: it answers)
        self.generation = 0
        self._experiments: dict = {}
        self._builders: dict[int, TrajectoryBuilder] = {}
        self._live: set[int] = set()
        self.state = PAUSED
        self.speed: float | None = None    # steps per second; None: as fast as possible
        self.dirty = False                 # new steps since the window last drew
        self.steps_received = 0
        self._rate_mark = (time.perf_counter(), 0)
        self.steps_per_second = 0.0

    # -- commands -------------------------------------------------------------------------------------------
    def load(self, experiments: Mapping[int, object], play: bool = False, keep_finished: bool = False) -> None:
        """Start over with these runs (run_id -> Experiment): a new generation; old batches become stale.

        ``keep_finished``: a run whose path has ended, its experiment unchanged, keeps that path and does not
        train again (a run added to a finished race trains alone beside the others' results); the other runs
        start from their start points, in step with each other.
        """
        kept = {}
        if keep_finished:
            kept = {rid: b for rid, b in self._builders.items()
                    if rid in experiments and rid not in self._live and b.outcome != "running"
                    and _same(self._experiments.get(rid), experiments[rid])}
        self.generation += 1
        self._experiments = dict(experiments)
        self._builders = {rid: kept.get(rid) or TrajectoryBuilder(exp.param_names)
                          for rid, exp in self._experiments.items()}
        self._live = set(self._experiments) - set(kept)
        self.dirty = True
        self._rate_mark = (time.perf_counter(), self.steps_received)
        self.steps_per_second = 0.0
        training = {rid: exp for rid, exp in self._experiments.items() if rid in self._live}
        self._training.worker.load(self.generation, training, playing=play and bool(self._live))
        self._set_state(PLAYING if play and self._live else PAUSED if self._live or not kept else FINISHED)
        self.reset_done.emit()

    def reset(self) -> None:
        """The same runs from their start points, paused."""
        self.load(self._experiments, play=False)

    def play(self) -> None:
        if not self._live:
            return
        self._training.worker.play()
        self._set_state(PLAYING)

    def pause(self) -> None:
        self._training.worker.pause()
        if self.state == PLAYING:
            self._set_state(PAUSED)

    def toggle(self) -> None:
        self.pause() if self.state == PLAYING else self.play()

    def step(self) -> None:
        """Exactly one iteration of every unfinished run."""
        if not self._live:
            return
        self._training.worker.step()
        self._set_state(PAUSED)

    def set_speed(self, steps_per_second: float | None) -> None:
        self.speed = steps_per_second if steps_per_second and steps_per_second > 0 else None
        self._training.worker.set_speed(self.speed)

    def shutdown(self) -> None:
        """Stop the training thread (cooperatively) and wait for it; a training process that does not stop at once
        is ended (see ``worker_process``)."""
        self._training.shutdown()

    def stop_training_process(self) -> None:
        """End a training process that does not answer: its runs end as failed, saying so; the next load (Reset,
        an edit) trains in a fresh one."""
        stop = getattr(self._training, "stop_child", None)
        if stop is not None:
            stop()

    @property
    def trains_apart(self) -> bool:
        """The runs train in another process: drawing takes nothing from them (see main_drawing)."""
        return self._training.trains_apart

    # -- what the window reads -------------------------------------------------------------------------------
    @property
    def experiments(self) -> dict:
        return dict(self._experiments)

    def paths(self) -> dict[int, Trajectory]:
        return {rid: b.trajectory() for rid, b in self._builders.items()}

    def path(self, run_id: int) -> Trajectory | None:
        b = self._builders.get(run_id)
        return b.trajectory() if b is not None else None

    def length(self) -> int:
        """The longest path's number of points."""
        return max((len(b) for b in self._builders.values()), default=0)

    def outcome(self, run_id: int) -> tuple[str, str]:
        b = self._builders.get(run_id)
        return (b.outcome, b.message) if b is not None else ("", "")

    # -- from the training thread (queued) ----------------------------------------------------------------
    @Slot(object)
    def _on_steps(self, batch: StepBatch) -> None:
        if batch.generation != self.generation:
            return
        by_run: dict[int, list] = {}
        for step in batch.steps:
            by_run.setdefault(step.run_id, []).append(step)
        for run_id, steps in by_run.items():
            builder = self._builders.get(run_id)
            if builder is not None:
                builder.extend(steps)
        self.steps_received += len(batch.steps)
        self.dirty = True
        t0, n0 = self._rate_mark
        now = time.perf_counter()
        if now - t0 >= 0.5:
            runs = max(1, len(self._live) or len(self._builders))
            self.steps_per_second = (self.steps_received - n0) / (now - t0) / runs
            self._rate_mark = (now, self.steps_received)

    @Slot(object)
    def _on_run_ended(self, ended: RunEnded) -> None:
        if ended.generation != self.generation:
            return
        builder = self._builders.get(ended.run_id)
        if builder is not None:
            builder.outcome, builder.message = ended.outcome, ended.message
        self._live.discard(ended.run_id)
        self.dirty = True
        self.run_ended.emit(ended.run_id, ended.outcome, ended.message)
        if not self._live:
            self._set_state(FINISHED)

    @Slot(float)
    def _on_unresponsive(self, seconds: float) -> None:
        self.silent_s = seconds
        if seconds:
            self.steps_per_second = 0.0     # no steps are coming: the status bar must not show the last rate
            self.dirty = True
        self.unresponsive.emit(seconds)

    @Slot(int)
    def _on_idle(self, generation: int) -> None:
        if generation != self.generation:
            return
        if not self._live:
            self._set_state(FINISHED)
        self.idle.emit()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if state != PLAYING:
                self.steps_per_second = 0.0
            self.state_changed.emit(state)
