"""Training in a process of its own: the window's side of ``core.race_server``.

In one process, every torch call of the training thread releases the interpreter lock, and the window, waiting
for it to draw, takes it each time: a small model then trained a fifth slower with the window open. Here the
race trains in a child process (``core.race_process``); a thread of the window's process reads its messages and
hands them to the GUI thread as the same signals ``worker.TrainWorker`` sends.

Runs that cannot be sent (a model class defined in a notebook's ``__main__``, say) train in a thread here
instead (``worker.TrainingThread``), generation by generation, as does everything if the child cannot start or
dies.
"""
from __future__ import annotations

import sys
import threading
from multiprocessing.connection import Connection

from PySide6.QtCore import QObject, Signal, Slot

from ..core import race_process
from ..core.race_loop import Idle, Released, RunEnded
from ..core.race_process import NOTHING, RELEASE_WAIT_S, portable
from ..core.race_server import Unportable
from .worker import TrainingThread, emit_message


class TrainingProcess(QObject):
    """Trains in a child process, or in a thread where it must; sends ``worker.TrainWorker``'s signals.

    ``worker`` is this object itself: it has the commands (``load``, ``play``...) and the signals.
    """

    steps = Signal(object)        # StepBatch
    run_ended = Signal(object)    # RunEnded
    idle = Signal(int)            # generation
    _received = Signal(object)    # from the reader thread: anything the child sent, or the child's loss

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = self
        self._received.connect(self._on_child)
        self._owner: str | None = None       # who trains the current generation: "child" or "thread"
        self._generation = -1
        self._experiments: dict = {}
        self._ended: set[int] = set()          # runs of the current generation that have ended
        self._playing = False
        self._speed: float | None = None
        self._local: TrainingThread | None = None
        self._child = race_process.take()
        self._reader: threading.Thread | None = None
        if self._child is not None:
            self._reader = threading.Thread(target=self._read, args=(self._child.conn,),
                                            name="landscape-training-reader", daemon=True)
            self._reader.start()

    @property
    def trains_apart(self) -> bool:
        """The current runs train in the child process (the window's drawing cannot slow them)."""
        return self._owner == "child"

    # -- commands (GUI thread) ------------------------------------------------------------------------------
    def load(self, generation: int, experiments: dict, playing: bool = False) -> None:
        self._generation, self._experiments, self._playing = generation, dict(experiments), playing
        self._ended = set()
        sent = portable(self._experiments) if self._child is not None else None
        if sent is not None and self._send(("load", generation, sent[0], sent[1], playing, list(sys.path))):
            self._owner = "child"
            if self._local is not None:
                self._local.worker.load(generation, {}, False)
            return
        self._train_here(generation)

    def play(self) -> None:
        self._playing = True
        self._command("play")

    def pause(self) -> None:
        self._playing = False
        self._command("pause")

    def step(self) -> None:
        self._playing = False
        self._command("step")

    def set_speed(self, steps_per_second: float | None) -> None:
        self._speed = steps_per_second
        self._send(("speed", steps_per_second))
        if self._local is not None:
            self._local.worker.set_speed(steps_per_second)

    def shutdown(self) -> None:
        """Stop training; the child goes back to the pool once it has dropped this window's runs."""
        if self._local is not None:
            self._local.shutdown()
        child, self._child = self._child, None
        if child is None:
            return
        released = False
        try:
            child.conn.send(("release",))
            self._reader.join(RELEASE_WAIT_S)
            released = not self._reader.is_alive()
        except OSError:
            pass
        if released and child.alive():
            race_process.give_back(child)
        else:
            child.end()
            self._reader.join()

    # -- the two trainers -----------------------------------------------------------------------------------
    def _command(self, name: str) -> None:
        if self._owner == "thread":
            getattr(self._local.worker, name)()
        else:
            self._send((name,))

    def _send(self, message) -> bool:
        if self._child is None:
            return False
        try:
            self._child.conn.send(message)
            return True
        except OSError:
            return False

    def _train_here(self, generation: int) -> None:
        """This generation trains in a thread of this process."""
        if self._local is None:
            self._local = TrainingThread(self)
            worker = self._local.worker
            # Bound slots of this GUI-thread object: queued here (a lambda would run in the training thread).
            worker.steps.connect(self._from_thread)
            worker.run_ended.connect(self._from_thread)
            worker.idle.connect(self._from_thread_idle)
            worker.set_speed(self._speed)
        self._owner = "thread"
        self._send(("load", generation, NOTHING, {}, False, []))     # the child drops the runs before
        self._local.worker.load(generation, self._experiments, self._playing)

    @Slot(object)
    def _from_thread(self, message) -> None:
        self._relay(message, "thread")

    @Slot(int)
    def _from_thread_idle(self, generation: int) -> None:
        self._relay(Idle(generation), "thread")

    def _read(self, conn: Connection) -> None:
        """The reader thread: every message of the child, until it confirms a release or the socket closes."""
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                self._received.emit(None)
                return
            except Exception:  # noqa: BLE001 - a message this process cannot unpickle: the stream goes on
                continue
            if isinstance(message, Released):
                return
            self._received.emit(message)

    @Slot(object)
    def _on_child(self, message) -> None:
        if message is None:          # the child died: its runs end, and the next loads train here
            child, self._child = self._child, None
            if child is not None:
                child.end()
                if self._owner == "child":
                    why = f"the training process ended unexpectedly (exit status {child.process.returncode})"
                    for run_id in self._experiments.keys() - self._ended:
                        self._relay(RunEnded(self._generation, run_id, "failed", why), "child")
            return
        if isinstance(message, Unportable):
            if message.generation == self._generation and self._owner == "child":
                self._train_here(message.generation)
            return
        self._relay(message, "child")

    def _relay(self, message, source: str) -> None:
        """Pass on a trainer's message, unless it is of the current generation and another trainer has it (the
        child's last words on runs the thread took over); older generations' messages die in Playback."""
        if message.generation == self._generation:
            if self._owner != source:
                return
            if isinstance(message, RunEnded):
                self._ended.add(message.run_id)
        emit_message(self, message)
