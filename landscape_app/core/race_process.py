"""The window's training processes (``core.race_server``): started, pooled and handed the runs, without Qt.

A child is started at the app's launch (``prestart``), so that it imports torch while the window does; a window
takes it (``take``) and gives it back when it closes (``give_back``), so the next window of the process finds it
warm. Runs go to it pickled (``portable``), but only if a fresh interpreter could rebuild them: a class defined
in a notebook's ``__main__`` cannot, and such runs train in the window's process instead. The children end when
this process does (their end of the socket closes).
"""
from __future__ import annotations

import atexit
import importlib.util
import io
import os
import pickle
import subprocess
import sys
import threading
import types
from multiprocessing import Pipe
from multiprocessing.connection import Connection

RELEASE_WAIT_S = 10.0                    # a run mid-step may take this long to notice; then the child is killed
STOP_WAIT_S = 1.0                        # a terminated child gets this long to exit before it is killed
MODE_VARIABLE = "LANDSCAPE_APP_TRAINING"  # "thread": train in the window's process (no child process)
NOTHING = pickle.dumps({})               # the runs of a load that drops them


class Child:
    """A training process and the window's end of its socket."""

    def __init__(self):
        ours, theirs = Pipe(duplex=True)
        env = dict(os.environ)
        # The child finds this package (and whatever the window imported from) where the window found it.
        env["PYTHONPATH"] = os.pathsep.join(p or os.getcwd() for p in sys.path)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "landscape_app.core.race_server", str(theirs.fileno())],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=env)
        theirs.close()
        self.conn: Connection = ours
        self.ready = False      # it said Ready (its imports are done): from then on it answers within moments

    def alive(self) -> bool:
        return self.process.poll() is None

    def end(self) -> None:
        """Close the socket (the child exits on it) and reap the process."""
        self.conn.close()
        try:
            self.process.wait(timeout=RELEASE_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def stop(self, wait_s: float = STOP_WAIT_S) -> None:
        """End the process now, whatever it is doing (a run stuck in a model's code): SIGTERM, then after
        ``wait_s`` SIGKILL, which cannot be refused. The socket stays open: a thread reading it gets its end (EOF)
        and returns; close it after (closed first, its number could be reused under the reader)."""
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_IDLE: list[Child] = []      # started children no window holds (at most one)
_IDLE_LOCK = threading.Lock()


@atexit.register
def _end_idle() -> None:
    with _IDLE_LOCK:
        while _IDLE:
            _IDLE.pop().end()


def enabled() -> bool:
    return os.name == "posix" and os.environ.get(MODE_VARIABLE, "process") != "thread"


def prestart() -> None:
    """Start a training process now, so that it has imported torch by the time the first window wants it."""
    if enabled():
        with _IDLE_LOCK:
            if not _IDLE:
                try:
                    _IDLE.append(Child())
                except OSError:
                    pass     # no child: the window trains in a thread


def take() -> Child | None:
    with _IDLE_LOCK:
        while _IDLE:
            child = _IDLE.pop()
            if child.alive():
                return child
            child.end()
    try:
        return Child()
    except OSError:
        return None


def give_back(child: Child) -> None:
    with _IDLE_LOCK:
        if child.alive() and not _IDLE:
            _IDLE.append(child)
            return
    child.end()


class _NotPortable(Exception):
    pass


class _Probe(pickle.Pickler):
    """Pickles runs, refusing what a fresh interpreter could not import; notes the users' model files."""

    def __init__(self, file):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.user_files: dict[str, str] = {}
        self._checked: dict[str, bool] = {}

    def reducer_override(self, obj):
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            module = getattr(obj, "__module__", None)
            if module not in self._checked:
                self._checked[module] = self._importable(module)
            if not self._checked[module]:
                raise _NotPortable(f"{module}.{getattr(obj, '__qualname__', obj)}")
        return NotImplemented

    def _importable(self, module: str | None) -> bool:
        if not module or module == "__main__":
            return False
        from .modelspec import USER_MODULE_PREFIX      # (torch is loaded by now: the runs hold its tensors)
        if module.startswith(USER_MODULE_PREFIX):     # the child runs the same file first, under the same name
            path = getattr(sys.modules.get(module), "__file__", None)
            if path:
                self.user_files[module] = path
            return bool(path)
        try:    # through sys.meta_path, as the child's import would (an editable install has a finder there)
            return importlib.util.find_spec(module.partition(".")[0]) is not None
        except (ImportError, ValueError):     # ValueError: a module made in memory, without a spec
            return False


def portable(experiments: dict) -> tuple[bytes, dict[str, str]] | None:
    """The pickled runs and the users' files they need, or None if a fresh interpreter could not rebuild them."""
    buffer = io.BytesIO()
    probe = _Probe(buffer)
    try:
        probe.dump(experiments)
    except Exception:  # noqa: BLE001 - _NotPortable, or an object that cannot be pickled at all
        return None
    return buffer.getvalue(), probe.user_files


__all__ = ["Child", "enabled", "give_back", "portable", "prestart", "take"]
