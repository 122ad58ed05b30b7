"""Running an export inside a live window: a generator advanced in short time slices from the event loop.

Frames must be rendered in the GUI thread (widgets live there), so instead of a worker thread the job does a
few milliseconds of work per timer tick and returns to the event loop: the window keeps painting, Cancel is
clicked and handled between two frames. Cancelling closes the generator, which aborts the writer: the target
is untouched and no temporary file remains.
"""
from __future__ import annotations

import time
from typing import Generator

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.errors import LandscapeError

SLICE_SECONDS = 0.04      # work per tick: the window still repaints at ~25 frames/s while exporting


class SlicedJob(QObject):
    """Drives ``steps`` (a generator yielding ``(phase, done, total)``) from a zero-delay timer.

    Emits ``progress(phase, done, total)``, then exactly one of ``done(value)`` (the generator's return
    value), ``failed(message)`` (a user-facing error) or ``cancelled()``.
    """

    progress = Signal(str, int, int)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, steps: Generator, slice_seconds: float = SLICE_SECONDS, parent=None):
        super().__init__(parent)
        self._steps = steps
        self._slice = slice_seconds
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)
        self.running = False

    def start(self) -> None:
        self.running = True
        self._timer.start()

    def cancel(self) -> None:
        """Stop between two steps; the generator's cleanup (removing temporary files) runs now."""
        if not self.running:
            return
        self.running = False
        self._timer.stop()
        self._steps.close()
        self.cancelled.emit()

    def _tick(self) -> None:
        if not self.running:
            return
        deadline = time.monotonic() + self._slice
        last = None
        try:
            while time.monotonic() < deadline:
                last = next(self._steps)
        except StopIteration as end:
            self.running = False
            if last is not None:
                self.progress.emit(*last)
            self.done.emit(end.value)
            return
        except LandscapeError as exc:
            self.running = False
            self.failed.emit(str(exc))
            return
        except OSError as exc:          # a full disk, a vanished folder: say so, like any user-facing error
            self.running = False
            self.failed.emit(f"{exc.filename or ''}: {exc.strerror or exc}".strip(": "))
            return
        if last is not None:
            self.progress.emit(*last)
        self._timer.start()


def tagged(phase: str, steps):
    """``(done, total)`` updates of ``steps`` as ``(phase, done, total)``; returns what ``steps`` returns.

    Closing this generator closes ``steps`` (so an export's writer aborts).
    """
    try:
        while True:
            try:
                done, total = next(steps)
            except StopIteration as end:
                return end.value
            yield phase, done, total
    finally:
        steps.close()


__all__ = ["SlicedJob", "tagged", "SLICE_SECONDS"]
