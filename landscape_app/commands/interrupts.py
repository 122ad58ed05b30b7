"""Ctrl-C and a polite kill for the headless commands: every writer on the way out aborts and removes its file."""
from __future__ import annotations

import contextlib


class Interrupts:
    """Ctrl-C (SIGINT) and a polite kill (SIGTERM) end a command the same way: ``KeyboardInterrupt``, so every
    writer on the way out aborts and removes its temporary file.

    Inside ``deferred()`` the signal only sets a flag that ``check()`` turns into the exception at a safe point
    (a second signal does not wait). Installed in the main thread only; the previous handlers come back after.
    """

    def __init__(self):
        self.pending = 0
        self.defer = False
        self._previous = {}

    def __enter__(self):
        import signal
        import threading
        self.pending, self.defer = 0, False
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        import signal
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        return False

    def _handle(self, signum, frame):
        self.pending += 1
        if not self.defer or self.pending > 1:
            raise KeyboardInterrupt

    def check(self) -> None:
        if self.pending:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def deferred(self):
        self.check()
        self.defer = True
        try:
            yield
        finally:
            self.defer = False


INTERRUPTS = Interrupts()
