"""The training process: a ``RaceLoop`` commanded through a socket by the window's process.

Started as ``python -m landscape_app.core.race_server FD`` with FD one end of a socket pair (see
``gui.worker_process``). The window's drawing then never holds this process's interpreter lock: in one process,
every torch call releases the lock, and a window waiting for it takes it each time, which cost a small model's
training a fifth of its speed.

Commands arrive as tuples: ``("load", generation, pickled experiments, users' model files, playing, sys.path)``, ``("play",)``,
``("pause",)``, ``("step",)``, ``("speed", steps_per_second)``, ``("release",)``. It says ``Ready`` when it
starts serving; what the loop makes goes back as its messages (``race_loop``); runs that cannot be unpickled here answer ``Unportable``, and the window trains
them itself. The process ends when the window's end of the socket closes.
"""
from __future__ import annotations

import importlib.util
import os
import pickle
import signal
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection

from .background import lower_this_thread
from .race_loop import RaceLoop
from .usercode import ESCAPES


@dataclass(frozen=True)
class Unportable:
    """The runs of ``generation`` could not be rebuilt in this process (``message`` says why)."""

    generation: int
    message: str


@dataclass(frozen=True)
class Ready:
    """Sent once, as the process starts serving, torch imported: until then it was importing (seconds), not
    silent."""


def _run_user_file(name: str, path: str) -> None:
    """Import a user's model file under the name the window gave it, so its classes unpickle here."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True    # no __pycache__ beside their file
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved


def serve(conn: Connection) -> None:
    """Answer commands from ``conn`` until it closes."""
    sending = threading.Lock()      # the loop's thread and this one both send

    def send(message) -> None:
        with sending:
            conn.send(message)

    # torch first, in this thread alone: the loop's thread importing it while this one imports a user's model file
    # (which imports torch too) left torch half-initialised ("partially initialized module 'torch.nn.parameter'").
    from . import training  # noqa: F401
    try:
        send(Ready())
    except OSError:     # the window is gone already (it exited before taking this process): nothing to serve
        return
    loop = RaceLoop(send)
    # The loop runs in a thread, as in the bare benchmark: torch's small ops ran much slower driven from a
    # process's main thread on a busy two-core machine.
    thread = threading.Thread(target=loop.run, name="race-training", daemon=True)
    thread.start()
    try:
        while True:
            try:
                command, *args = conn.recv()
            except (EOFError, OSError):
                return
            if command == "load":
                generation, blob, user_files, playing, path = args
                sys.path[:] = path + [p for p in sys.path if p not in path]
                try:
                    for name, file in user_files.items():
                        _run_user_file(name, file)
                    experiments = pickle.loads(blob)
                except (Exception, *ESCAPES) as exc:  # noqa: BLE001 - a class of the window's __main__, say,
                    # or a model file that calls sys.exit here: the window, which imported it already, trains there
                    send(Unportable(generation, f"{type(exc).__name__}: {exc}"))
                    loop.load(generation, {}, False)     # drop the runs before: the window trains now
                    continue
                loop.load(generation, experiments, playing)
            elif command == "speed":
                loop.set_speed(args[0])
            elif command in ("play", "pause", "step", "release"):
                getattr(loop, command)()
    finally:
        loop.request_stop()
        thread.join(timeout=5.0)


def main(argv: list[str]) -> int:
    lower_this_thread()        # the window's drawing comes first; the loop's thread inherits this
    conn = Connection(int(argv[0]))
    serve(conn)
    conn.close()
    # Nothing to tear down that matters: skip torch's and the interpreter's teardown (a run mid-step could
    # otherwise hold the exit).
    os._exit(0)


if __name__ == "__main__":
    # Ctrl+C in the terminal reaches the whole process group: the window decides what it means, and this process
    # ends with the window's socket (a KeyboardInterrupt here would only print a traceback).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Below the window's priority from the start: it is launching too, and importing torch takes seconds.
    lower_this_thread()
    # Run the module's importable copy, so that what it sends (Unportable) unpickles as race_server's, not
    # __main__'s.
    from landscape_app.core.race_server import main as _main
    sys.exit(_main(sys.argv[1:]))
