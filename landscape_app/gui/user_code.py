"""A user's model file imported off the GUI thread, with a time limit and a Cancel.

Importing a model file runs whatever it holds, as any script would; on the GUI thread a file that loops while
importing froze the window for good. ``run_user_code`` runs the import (and the construction that follows: the
factory, the first forward on the data) in a thread of its own while the GUI thread's event loop goes on: the
window keeps drawing, its timers fire, and the training process is heard. After a short delay a dialog says
"Importing lesson.py…" with Cancel; on Cancel, or when the time limit passes, the file is refused with
``UnfinishedImport`` (a ``UserCodeError``: the caller shows it as any other) and what was in use stays.

A Python thread cannot be stopped from outside: a refused import's thread is left running (a daemon thread, gone
when the app ends), and the message says so. Code that holds the interpreter lock without a pause (one long call
into C, such as ``10 ** 10 ** 9``) would still stall the window while it runs; a loop of Python code does not.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget

from ..core.modelspec import UserCodeError
from ..core.usercode import ESCAPES, describe_escape, raised_at

IMPORT_TIMEOUT_S = 30.0      # a model file imports and builds within this, or it is refused
SHOW_AFTER_MS = 400          # the dialog appears only for an import that takes a moment (no flicker)

T = TypeVar("T")


class UnfinishedImport(UserCodeError):
    """A model file did not finish importing within the time limit, or its import was cancelled."""


class _Relay(QObject):
    finished = Signal()      # emitted by the import's thread, delivered in the GUI thread


class _InputHold(QObject):
    """Holds back the user's clicks and keys meant for the windows while an import runs (a second *Open*, say,
    before the dialog shows); the dialog's own pass."""

    INPUT = {QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick,
             QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.Wheel, QEvent.Type.ShortcutOverride}

    def __init__(self, dialog: QWidget):
        super().__init__()
        self.dialog = dialog

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() not in self.INPUT or not isinstance(watched, QWidget):
            return False
        return not (watched is self.dialog or self.dialog.isAncestorOf(watched))


def run_user_code(work: Callable[[], T], name: str, parent: QWidget | None = None, *,
                  timeout_s: float | None = None, show_after_ms: int | None = None) -> T:
    """``work()`` (an import of the model file ``name`` and what is built from it) in a thread, the GUI thread's
    events handled meanwhile; returns its value or raises its exception here. Raises ``UnfinishedImport`` when
    it has not finished within ``timeout_s`` (default ``IMPORT_TIMEOUT_S``) or the user cancelled it."""
    timeout_s = IMPORT_TIMEOUT_S if timeout_s is None else timeout_s
    show_after_ms = SHOW_AFTER_MS if show_after_ms is None else show_after_ms
    outcome: dict = {}
    relay = _Relay()

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - raised again in the GUI thread (or dropped if refused)
            outcome["error"] = exc
        try:
            relay.finished.emit()
        except RuntimeError:     # refused long ago: nobody listens any more
            pass

    app = QApplication.instance()
    loop = QEventLoop()
    relay.finished.connect(loop.quit)
    dialog = QProgressDialog(f"Importing {name}…", "Cancel", 0, 0, parent)
    dialog.setWindowTitle("Importing the model")
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setMinimumDuration(2 ** 31 - 1)      # shown by ``shown`` below, never by a timer of its own
    dialog.canceled.connect(loop.quit)
    shown = QTimer()
    shown.setSingleShot(True)
    shown.timeout.connect(dialog.show)
    limit = QTimer()
    limit.setSingleShot(True)
    limit.timeout.connect(loop.quit)
    hold = _InputHold(dialog)
    thread = threading.Thread(target=target, name="landscape-user-code", daemon=True)
    started = time.monotonic()
    app.installEventFilter(hold)
    try:
        thread.start()
        shown.start(show_after_ms)
        limit.start(max(0, int(timeout_s * 1000)))
        if not outcome:
            loop.exec()
    finally:
        app.removeEventFilter(hold)
        shown.stop()
        limit.stop()
        cancelled = dialog.wasCanceled()
        dialog.canceled.disconnect(loop.quit)
        dialog.reset()
        dialog.hide()
        dialog.deleteLater()
    if outcome:
        thread.join()       # it has finished the work: only its last words (the signal) are left
    if "value" in outcome:
        return outcome["value"]
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, ESCAPES):     # no signal reaches this thread: code it ran raised it
            where = raised_at(error)
            raise UserCodeError(f"{where + ': ' if where else ''}{describe_escape(error)} "
                                f"(while importing {name})") from None
        raise error
    waited = f"{time.monotonic() - started:.0f} s (cancelled)" if cancelled else f"{timeout_s:g} s"
    raise UnfinishedImport(f"{name} did not finish importing within {waited}, so it is not used; its code goes on "
                           "running in the background until the app closes")


__all__ = ["IMPORT_TIMEOUT_S", "SHOW_AFTER_MS", "UnfinishedImport", "run_user_code"]
