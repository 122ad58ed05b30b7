"""The training thread: one worker QObject, moved to one QThread, steps every run of a race in lockstep.

The worker adapts ``core.training.train`` (a generator of ``Step``): it advances each run's generator by one
iteration per round, checking the pause/stop flags between rounds, and sends the steps to the GUI thread in
batches (20 a second at full speed, every round when paced) tagged with a *generation* number, so that
batches still in flight after a Reset are recognised as stale and dropped.

Control (play, pause, step, speed, load, stop) goes through a mutex and a wait condition rather than through
queued slots: the worker's loop is busy training while playing, so queued calls would wait behind it. Waits
use ``QWaitCondition`` with a timeout, so Pause and Stop interrupt a paced (slow) run at once.
"""
from __future__ import annotations

import math
import time
import weakref
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
from PySide6.QtCore import QMutex, QMutexLocker, QObject, QThread, QWaitCondition, Signal, Slot

from ..core.trajectory import Step

# Seconds between batches sent while running flat out. Each batch wakes the GUI thread, which then takes the
# GIL from the training; at full speed the window draws a few frames a second (main_drawing.GUI_SHARE), so
# more than 20 batches a second would show nothing more.
EMIT_INTERVAL = 1.0 / 20.0
MAX_BATCH = 20_000             # steps per batch at most, so one batch never stalls the GUI thread

# Every QThread this module starts, until it has finished: tests check that none outlives its window.
_LIVE_THREADS: "weakref.WeakSet[QThread]" = weakref.WeakSet()


def live_threads() -> list[QThread]:
    """The training threads still running."""
    return [t for t in list(_LIVE_THREADS) if t.isRunning()]


@dataclass(frozen=True)
class StepBatch:
    """Steps of one or more runs, in the order they were made, from load number ``generation``."""

    generation: int
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class RunEnded:
    """A run's generator has finished: ``outcome`` is finished, diverged or failed; ``message`` says why."""

    generation: int
    run_id: int
    outcome: str
    message: str


def _default_train():
    from ..core.training import train
    return train


def _outcome(result, last: Step | None) -> tuple[str, str]:
    """The outcome of a finished generator: what it returned if it says, else judged from its last step."""
    outcome = getattr(result, "outcome", None)
    if outcome in ("finished", "stopped", "diverged"):
        return outcome, str(getattr(result, "message", ""))
    if last is not None and not (np.isfinite(last.loss) and np.all(np.isfinite(last.params))):
        return "diverged", f"diverged at iteration {last.iteration} (the loss or a parameter is not finite)"
    return "finished", ""


class TrainWorker(QObject):
    """Runs in the training thread. Call ``load`` then ``play``/``step``/``pause`` from any thread."""

    steps = Signal(object)        # StepBatch
    run_ended = Signal(object)    # RunEnded
    idle = Signal(int)            # generation: stopped advancing (paused, stepped, or every run ended)

    def __init__(self, train_fn: Callable | None = None):
        super().__init__()
        self._train_fn = train_fn
        self._mutex = QMutex()
        self._wake = QWaitCondition()
        # State shared with the GUI thread; guarded by _mutex.
        self._stop = False
        self._playing = False
        self._step_requests = 0
        self._speed: float | None = None     # steps per second; None: as fast as possible
        self._to_load: tuple[int, Mapping] | None = None
        self._speed_changed = False

    # -- control, from any thread ---------------------------------------------------------------------------
    def load(self, generation: int, experiments: Mapping[int, object], playing: bool = False) -> None:
        """Start over with ``experiments`` (run_id -> Experiment); their start points are sent at once."""
        with QMutexLocker(self._mutex):
            self._to_load = (generation, dict(experiments))
            self._playing = playing
            self._step_requests = 0
            self._wake.wakeAll()

    def play(self) -> None:
        with QMutexLocker(self._mutex):
            self._playing = True
            self._wake.wakeAll()

    def pause(self) -> None:
        with QMutexLocker(self._mutex):
            self._playing = False
            self._step_requests = 0
            self._wake.wakeAll()

    def step(self) -> None:
        """Advance every unfinished run by exactly one iteration (pauses a playing run first)."""
        with QMutexLocker(self._mutex):
            self._playing = False
            self._step_requests += 1
            self._wake.wakeAll()

    def set_speed(self, steps_per_second: float | None) -> None:
        """``None`` (or <= 0): as fast as the machine goes."""
        with QMutexLocker(self._mutex):
            self._speed = steps_per_second if steps_per_second and steps_per_second > 0 else None
            self._speed_changed = True
            self._wake.wakeAll()

    def request_stop(self) -> None:
        """End the loop between two steps; the thread can then quit."""
        with QMutexLocker(self._mutex):
            self._stop = True
            self._wake.wakeAll()

    # -- the loop, in the training thread ------------------------------------------------------------------
    @Slot()
    def run(self) -> None:
        train = self._train_fn or _default_train()
        generation, gens, last = -1, {}, {}
        pending: list[Step] = []
        last_emit = time.perf_counter()
        next_due = 0.0

        def flush():
            nonlocal pending, last_emit
            if pending:
                self.steps.emit(StepBatch(generation, tuple(pending)))
                pending = []
            last_emit = time.perf_counter()

        def close_all():
            for gen, _ in gens.values():
                gen.close()
            gens.clear()
            last.clear()

        active = False      # advanced since the last idle signal
        try:
            while True:
                self._mutex.lock()
                try:
                    if self._must_wait(gens) and active:
                        # About to sleep: send what is pending and say so, outside the lock.
                        to_load = "idle"
                    else:
                        while self._must_wait(gens):
                            self._wake.wait(self._mutex)
                        if self._stop:
                            break
                        to_load, self._to_load = self._to_load, None
                        stepping = False
                        if to_load is None and not self._playing:
                            self._step_requests -= 1
                            stepping = True
                        speed = self._speed
                        if self._speed_changed:
                            self._speed_changed = False
                            next_due = 0.0
                finally:
                    self._mutex.unlock()

                if to_load == "idle":
                    flush()
                    active = False
                    self.idle.emit(generation)
                    continue
                active = True
                if to_load is not None:
                    # Steps of the old generation still unsent are stale by definition: drop them.
                    pending = []
                    close_all()
                    generation, experiments = to_load
                    for run_id, exp in experiments.items():
                        gens[run_id] = (train(exp, run_id=run_id), exp.epochs * exp.steps_per_epoch)
                    ended = self._advance(gens, last, pending, generation)   # iteration 0: the start points
                    flush()
                    for e in ended:
                        self.run_ended.emit(e)
                    next_due = 0.0
                    continue

                if speed is not None and not stepping:
                    # Paced: wait until this round is due, interruptibly (pause/stop/load wake us).
                    now = time.perf_counter()
                    if next_due and now < next_due:
                        if self._wait_until(next_due):
                            continue
                    next_due = max(next_due, time.perf_counter() - 1.0 / speed) + 1.0 / speed
                ended = self._advance(gens, last, pending, generation)
                now = time.perf_counter()
                if (ended or stepping or speed is not None or not gens or len(pending) >= MAX_BATCH
                        or now - last_emit >= EMIT_INTERVAL):
                    flush()
                # After the flush, so the GUI has a run's last steps before it hears that the run ended.
                for e in ended:
                    self.run_ended.emit(e)
        finally:
            flush()
            close_all()

    def _must_wait(self, gens: dict) -> bool:
        """Nothing to do (call with the mutex held): not stopping, nothing to load, not playing or stepping."""
        return (not self._stop and self._to_load is None
                and not ((self._playing or self._step_requests) and gens))

    def _wait_until(self, deadline: float) -> bool:
        """Sleep until ``deadline``; True if woken early by a command that needs the loop's attention."""
        with QMutexLocker(self._mutex):
            while not (self._stop or self._to_load is not None or not self._playing or self._speed_changed):
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    return False
                self._wake.wait(self._mutex, max(1, int(remaining * 1000)))
            return True

    def _advance(self, gens: dict, last: dict, pending: list, generation: int) -> list[RunEnded]:
        """One iteration of every live run; runs that ended leave ``gens`` and are returned.

        A run also ends at once on its last iteration or on a non-finite step, rather than one round later,
        so the GUI learns that a run is over as soon as its last point arrives.
        """
        ended = []
        for run_id in list(gens):
            gen, total = gens[run_id]
            try:
                step = next(gen)
            except StopIteration as stop:
                outcome, message = _outcome(stop.value, last.get(run_id))
                del gens[run_id]
                ended.append(RunEnded(generation, run_id, outcome, message))
                continue
            except Exception as exc:  # a bug or a numerical failure inside torch: end this run, say why
                del gens[run_id]
                gen.close()
                ended.append(RunEnded(generation, run_id, "failed", f"{type(exc).__name__}: {exc}"))
                continue
            last[run_id] = step
            pending.append(step)
            # math.isfinite over the few parameters: ~1 us a step instead of numpy's ~5 us on tiny arrays.
            finite = math.isfinite(step.loss) and all(map(math.isfinite, step.params.tolist()))
            if step.iteration >= total or not finite:
                result = None
                if not finite:
                    try:   # the generator's own verdict (its return value) names where and why
                        next(gen)
                    except StopIteration as stop:
                        result = stop.value
                    except Exception:   # noqa: BLE001 - the run is over either way
                        pass
                gen.close()
                del gens[run_id]
                ended.append(RunEnded(generation, run_id, *_outcome(result, step)))
        return ended


class TrainingThread(QObject):
    """Owns the QThread and its worker; lives in the GUI thread. ``shutdown()`` before the owner goes away."""

    def __init__(self, parent: QObject | None = None, train_fn: Callable | None = None):
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("landscape-training")
        self.worker = TrainWorker(train_fn)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        _LIVE_THREADS.add(self.thread)
        self.thread.start()

    def shutdown(self) -> None:
        """Cooperative stop: the loop ends between steps, then the thread's event loop quits; wait for it.

        Safe to wait here: nothing the training thread does on the way out needs the GUI thread.
        """
        if self.thread.isRunning():
            self.worker.request_stop()
            self.thread.quit()
            self.thread.wait()
        _LIVE_THREADS.discard(self.thread)
