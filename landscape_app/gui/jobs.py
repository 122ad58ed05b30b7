"""Computations off the GUI thread: each result tagged with its channel's generation, stale ones dropped.

A *channel* ("surface", "minibatch", "lift") runs one job at a time in the pool's worker threads. Submitting a
new job on a channel makes the one before it stale: its ``stop`` event is set (a computation that checks it ends
early), a queued one is cancelled, and whatever it still returns is dropped here, on the GUI thread, because its
generation is no longer the channel's (pyapp-kit/ndv's ``_current_gen``). The GUI thread only receives values.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

from ..core.background import lower_this_thread

PROGRESS_EVERY_S = 0.1       # a job reports its progress at most this often (each report is a queued signal)


@dataclass
class _Running:
    generation: int
    stop: threading.Event = field(default_factory=threading.Event)
    future: Future | None = None
    context: Any = None


class Jobs(QObject):
    """A small pool of worker threads running generation-tagged jobs per channel.

    ``submit(channel, fn, context)`` runs ``fn(stop, progress)`` in a worker thread; ``stop`` is a
    ``threading.Event`` set when the job is superseded or the pool shuts down, ``progress(done, total)`` reports.
    The result comes back in ``done(channel, context, result)`` on the GUI thread, unless a newer job of the
    channel was submitted meanwhile; an exception comes back in ``failed(channel, context, message)``.
    """

    done = Signal(str, object, object)           # channel, context, result
    failed = Signal(str, object, str)            # channel, context, message
    progress = Signal(str, int, int)             # channel, done, total
    busy_changed = Signal(bool)                  # whether any job is in flight

    # Signals emitted from the worker threads, delivered queued to this object's slots on the GUI thread.
    _finished = Signal(str, int, object)
    _raised = Signal(str, int, str)
    _progressed = Signal(str, int, int, int)

    def __init__(self, parent: QObject | None = None, workers: int = 2):
        super().__init__(parent)
        # Below the GUI thread's priority (and the threads a job starts inherit it): see core.background.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="landscape-job",
                                        initializer=lower_this_thread)
        self._running: dict[str, _Running] = {}
        self._generation = 0
        self._closed = False
        self._finished.connect(self._on_finished)
        self._raised.connect(self._on_raised)
        self._progressed.connect(self._on_progressed)

    # -- the GUI thread's side ------------------------------------------------------------------------------
    def submit(self, channel: str, fn: Callable, context: Any = None) -> int:
        """Run ``fn(stop, progress)`` for ``channel``, superseding its job in flight; returns the generation."""
        if self._closed:
            return -1
        self.cancel(channel)
        was_busy = self.busy
        self._generation += 1
        job = _Running(self._generation, context=context)
        self._running[channel] = job
        job.future = self._pool.submit(self._run, channel, job.generation, job.stop, fn)
        if not was_busy:
            self.busy_changed.emit(True)
        return job.generation

    def cancel(self, channel: str) -> None:
        """Make the channel's job in flight stale (it stops early where it can; its result is dropped)."""
        job = self._running.pop(channel, None)
        if job is not None:
            job.stop.set()
            if job.future is not None:
                job.future.cancel()
            if not self.busy:
                self.busy_changed.emit(False)

    def pending(self, channel: str | None = None) -> bool:
        """Whether ``channel`` (any channel, for None) has a job whose result is still to come."""
        return bool(self._running) if channel is None else channel in self._running

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def wait(self, channel: str | None = None, timeout: float = 60.0) -> bool:
        """Block until the channel's job (every job, for None) has delivered its result; True when it did.

        For headless use (the exporter, scripts): it processes the queued results itself."""
        from PySide6.QtCore import QCoreApplication
        end = time.monotonic() + timeout
        while self.pending(channel):
            jobs = [self._running[c] for c in ([channel] if channel else list(self._running)) if c in self._running]
            for job in jobs:
                try:
                    job.future.result(timeout=max(0.0, end - time.monotonic()))
                except Exception:       # reported through ``failed`` below (a TimeoutError leaves the loop)
                    pass
            QCoreApplication.sendPostedEvents(self)
            if time.monotonic() > end:
                return not self.pending(channel)
        return True

    def shutdown(self) -> None:
        """Stop every job (cooperatively) and join the worker threads."""
        self._closed = True
        for channel in list(self._running):
            self.cancel(channel)
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- the worker threads' side ---------------------------------------------------------------------------
    def _run(self, channel: str, generation: int, stop: threading.Event, fn: Callable) -> None:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY_S or done >= total:
                last[0] = now
                self._progressed.emit(channel, generation, int(done), int(total))

        try:
            result = fn(stop, progress)
        except Exception as exc:       # a job's failure is a message on screen, never a dead worker thread
            if not stop.is_set():
                self._raised.emit(channel, generation, f"{type(exc).__name__}: {exc}")
            return
        if not stop.is_set():
            self._finished.emit(channel, generation, result)

    # -- back on the GUI thread -----------------------------------------------------------------------------
    def _current(self, channel: str, generation: int) -> _Running | None:
        job = self._running.get(channel)
        return job if job is not None and job.generation == generation else None

    @Slot(str, int, object)
    def _on_finished(self, channel: str, generation: int, result) -> None:
        job = self._current(channel, generation)
        if job is None:
            return          # stale: a newer job of the channel was submitted after this one
        del self._running[channel]
        if not self.busy:
            self.busy_changed.emit(False)
        self.done.emit(channel, job.context, result)

    @Slot(str, int, str)
    def _on_raised(self, channel: str, generation: int, message: str) -> None:
        job = self._current(channel, generation)
        if job is None:
            return
        del self._running[channel]
        if not self.busy:
            self.busy_changed.emit(False)
        self.failed.emit(channel, job.context, message)

    @Slot(str, int, int, int)
    def _on_progressed(self, channel: str, generation: int, done: int, total: int) -> None:
        if self._current(channel, generation) is not None:
            self.progress.emit(channel, done, total)
