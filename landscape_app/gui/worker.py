"""The training thread: a ``core.race_loop.RaceLoop`` in a QThread, its messages turned into Qt signals.

The window trains in a process of its own where it can (``worker_process``): this thread is for runs that
cannot be sent to another process (a model class defined in a notebook, say), for injected training functions
(tests), and where no such process can be started.
"""
from __future__ import annotations

import weakref
from typing import Callable, Mapping

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.race_loop import Idle, RaceLoop, RunEnded, StepBatch

# Every QThread this module starts, until it has finished: tests check that none outlives its window.
_LIVE_THREADS: "weakref.WeakSet[QThread]" = weakref.WeakSet()


def live_threads() -> list[QThread]:
    """The training threads still running."""
    return [t for t in list(_LIVE_THREADS) if t.isRunning()]


def emit_message(target, message) -> None:
    """Send a race loop's ``message`` as ``target``'s signal of its kind (``steps``, ``run_ended``, ``idle``)."""
    if isinstance(message, StepBatch):
        target.steps.emit(message)
    elif isinstance(message, RunEnded):
        target.run_ended.emit(message)
    elif isinstance(message, Idle):
        target.idle.emit(message.generation)


class TrainWorker(QObject):
    """Runs in the training thread. Call ``load`` then ``play``/``step``/``pause`` from any thread."""

    steps = Signal(object)        # StepBatch
    run_ended = Signal(object)    # RunEnded
    idle = Signal(int)            # generation: stopped advancing (paused, stepped, or every run ended)

    def __init__(self, train_fn: Callable | None = None):
        super().__init__()
        self._loop = RaceLoop(lambda message: emit_message(self, message), train_fn)

    # -- control, from any thread ---------------------------------------------------------------------------
    def load(self, generation: int, experiments: Mapping[int, object], playing: bool = False) -> None:
        """Start over with ``experiments`` (run_id -> Experiment); their start points are sent at once."""
        self._loop.load(generation, experiments, playing)

    def play(self) -> None:
        self._loop.play()

    def pause(self) -> None:
        self._loop.pause()

    def step(self) -> None:
        """Advance every unfinished run by exactly one iteration (pauses a playing run first)."""
        self._loop.step()

    def set_speed(self, steps_per_second: float | None) -> None:
        """``None`` (or <= 0): as fast as the machine goes."""
        self._loop.set_speed(steps_per_second)

    def request_stop(self) -> None:
        """End the loop between two steps; the thread can then quit."""
        self._loop.request_stop()

    @Slot()
    def run(self) -> None:
        self._loop.run()


class TrainingThread(QObject):
    """Owns the QThread and its worker; lives in the GUI thread. ``shutdown()`` before the owner goes away."""

    trains_apart = False        # the runs train in this process (see worker_process.TrainingProcess)

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
