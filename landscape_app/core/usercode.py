"""Running a user's code (a model file's import, its function, its forward) so that it cannot end the program.

``sys.exit(0)`` in a model file raises ``SystemExit``, and code may ``raise KeyboardInterrupt`` itself: both pass
every ``except Exception``, and uncaught they end a command with exit status 0 and nothing written, or close the
window without a word. Caught around the user's code, they are its error like any other (``UserCodeError`` in
``modelspec``). A real Ctrl-C (or the headless commands' SIGTERM, see ``commands.interrupts``) that arrives
meanwhile must still interrupt: ``watching_signals`` notes every such signal its handlers see, and only a
``KeyboardInterrupt`` that no signal caused is the code's own. ``os._exit`` cannot be caught: it ends the process
at once, whoever calls it.
"""
from __future__ import annotations

import contextlib
import signal
import threading
import traceback
from typing import Iterator

# What user code may raise that ``except Exception`` lets pass.
ESCAPES = (SystemExit, KeyboardInterrupt)


class SignalsSeen:
    """Whether SIGINT or SIGTERM reached this process while the user's code ran."""

    def __init__(self):
        self.seen = False

    def interrupted(self, exc: BaseException) -> bool:
        """``exc`` is a real interruption, to pass on: a ``KeyboardInterrupt`` raised while a signal arrived."""
        return isinstance(exc, KeyboardInterrupt) and self.seen


@contextlib.contextmanager
def watching_signals() -> Iterator[SignalsSeen]:
    """Note the SIGINT and SIGTERM that arrive inside the block, then do what their handlers did before.

    Signals reach Python's main thread only: in another thread no signal can raise anything, so every
    ``KeyboardInterrupt`` there is the code's own and nothing is installed. A signal whose handler is not Python's
    (ignored, or the system's default) is left alone: it raises nothing either.
    """
    seen = SignalsSeen()
    installed: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            handler = signal.getsignal(signum)
            if not callable(handler):
                continue

            def relay(number, frame, handler=handler):
                seen.seen = True
                return handler(number, frame)
            try:
                installed[signum] = signal.signal(signum, relay)
            except (ValueError, OSError):     # no signals here (an embedded interpreter, say)
                pass
    try:
        yield seen
    finally:
        for signum, handler in installed.items():
            signal.signal(signum, handler)


def describe_escape(exc: BaseException) -> str:
    """What ``SystemExit`` or ``KeyboardInterrupt`` raised by user code means, in one line."""
    if isinstance(exc, SystemExit):
        code = "" if exc.code is None else f"({exc.code!r})"
        return f"sys.exit{code} (SystemExit): model code must not end the program"
    return "KeyboardInterrupt raised by the model code itself"


def raised_at(exc: BaseException) -> str:
    """``file line N`` of the deepest Python frame of ``exc`` (where sys.exit was called), else ``""``."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename} line {frames[-1].lineno}" if frames else ""


__all__ = ["ESCAPES", "SignalsSeen", "describe_escape", "raised_at", "watching_signals"]
