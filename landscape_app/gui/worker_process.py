"""Training in a process of its own: the window's side of ``core.race_server``.

In one process, every torch call of the training thread releases the interpreter lock, and the window, waiting
for it to draw, takes it each time: a small model then trained a fifth slower with the window open. Here the
race trains in a child process (``core.race_process``); a thread of the window's process reads its messages and
hands them to the GUI thread as the same signals ``worker.TrainWorker`` sends.

Runs that cannot be sent (a model class defined in a notebook's ``__main__``, say) train in a thread here
instead (``worker.TrainingThread``), generation by generation, as does everything if no child can start. A child
that dies ends its runs (saying so), and the next load starts a fresh one.

A child may also stop answering (a model whose forward never returns): while it should be training, no message for
``SILENCE_S`` seconds is reported (``unresponsive``), and ``stop_child`` ends it. Closing never waits more than
about two seconds for it: ``CLOSE_WAIT_S`` for it to drop the runs, then it is terminated, then killed.
"""
from __future__ import annotations

import sys
import threading
import time

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ..core import race_process
from ..core.race_loop import Idle, Released, RunEnded
from ..core.race_process import NOTHING, Child, portable
from ..core.race_server import Ready, Unportable
from .worker import TrainingThread, emit_message

SILENCE_S = 10.0       # no message for this long while the child should be training: it is not answering
CHECK_MS = 1000        # how often that is looked at
CLOSE_WAIT_S = 1.0     # closing waits this long for the child to drop the runs, then terminates it (and as long
#                        again for it to exit before it is killed)


class TrainingProcess(QObject):
    """Trains in a child process, or in a thread where it must; sends ``worker.TrainWorker``'s signals.

    ``worker`` is this object itself: it has the commands (``load``, ``play``...) and the signals.
    """

    steps = Signal(object)        # StepBatch
    run_ended = Signal(object)    # RunEnded
    idle = Signal(int)            # generation
    unresponsive = Signal(float)  # seconds the child has not answered while it should train (0: it answers again)
    _received = Signal(object, object)    # from a reader thread: its child, and what it sent (None: it ended)

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
        self._child: Child | None = None
        self._reader: threading.Thread | None = None
        # Whether the child owes an answer (a load, play or step sent, no Idle since), when it last said anything,
        # and whether its silence was reported.
        self._awaiting, self._heard, self._silent = False, time.monotonic(), False
        self._watch = QTimer(self)
        self._watch.timeout.connect(self._check_silence)
        self._watch.start(CHECK_MS)
        self._start_child()

    def _start_child(self) -> None:
        self._child = race_process.take()
        if self._child is not None:
            self._reader = threading.Thread(target=self._read, args=(self._child,),
                                            name="landscape-training-reader", daemon=True)
            self._reader.start()
            self.set_speed(self._speed)

    @property
    def trains_apart(self) -> bool:
        """The current runs train in the child process (the window's drawing cannot slow them)."""
        return self._owner == "child"

    # -- commands (GUI thread) ------------------------------------------------------------------------------
    def load(self, generation: int, experiments: dict, playing: bool = False) -> None:
        self._generation, self._experiments, self._playing = generation, dict(experiments), playing
        self._ended = set()
        if self._child is None:
            self._start_child()      # the last one died or was stopped: a fresh one
        sent = portable(self._experiments) if self._child is not None else None
        if sent is not None and self._send(("load", generation, sent[0], sent[1], playing, list(sys.path))):
            self._owner = "child"
            self._expect_answer()
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

    def stop_child(self) -> None:
        """End the training process now (one that does not answer): its runs end, saying so; the next load starts
        a fresh one."""
        if self._child is not None:
            silence = time.monotonic() - self._heard
            self._drop_child(f"stopped: the training process had not answered for {silence:.0f} s")

    def shutdown(self) -> None:
        """Stop training; the child goes back to the pool once it has dropped this window's runs. One that does not
        drop them within ``CLOSE_WAIT_S`` (or has stopped answering) is terminated: closing never waits long."""
        self._watch.stop()
        if self._local is not None:
            self._local.shutdown()
        child, reader, self._child, self._reader = self._child, self._reader, None, None
        if child is None:
            return
        released = False
        if not self._silent:
            try:
                child.conn.send(("release",))
                reader.join(CLOSE_WAIT_S)
                released = not reader.is_alive()
            except OSError:
                pass
        if released and child.alive():
            race_process.give_back(child)
        else:
            self._end(child, reader)

    @staticmethod
    def _end(child: Child, reader: threading.Thread | None) -> None:
        """Terminate (then kill) ``child``, let its reader see the end, then close the socket."""
        child.stop(CLOSE_WAIT_S)
        if reader is not None:
            reader.join(CLOSE_WAIT_S)      # at once: the socket's other end closed with the process
        child.conn.close()

    def _drop_child(self, why: str) -> None:
        """The child is gone (or is ended now): its runs of the current generation end with ``why``."""
        child, reader, self._child, self._reader = self._child, self._reader, None, None
        self._end(child, reader)
        self._awaiting = False
        self._hear()
        if self._owner == "child":
            for run_id in self._experiments.keys() - self._ended:
                self._relay(RunEnded(self._generation, run_id, "failed", why), "child")

    # -- whether the child answers ----------------------------------------------------------------------------
    def _expect_answer(self) -> None:
        """A command that the child answers (steps, then Idle) went out; its silence counts from now, unless it
        owed an answer already."""
        if not self._awaiting:
            self._awaiting, self._heard = True, time.monotonic()

    def _hear(self) -> None:
        self._heard = time.monotonic()
        if self._silent:
            self._silent = False
            self.unresponsive.emit(0.0)

    @Slot()
    def _check_silence(self) -> None:
        if self._child is None or not self._child.ready or self._owner != "child" or not self._awaiting:
            return       # (a child still importing torch is slow, not silent)
        silence = time.monotonic() - self._heard
        if silence >= SILENCE_S:
            self._silent = True
            self.unresponsive.emit(silence)

    # -- the two trainers -----------------------------------------------------------------------------------
    def _command(self, name: str) -> None:
        if self._owner == "thread":
            getattr(self._local.worker, name)()
        elif self._send((name,)) and name != "pause":
            self._expect_answer()

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
        self._awaiting = False
        self._local.worker.load(generation, self._experiments, self._playing)

    @Slot(object)
    def _from_thread(self, message) -> None:
        self._relay(message, "thread")

    @Slot(int)
    def _from_thread_idle(self, generation: int) -> None:
        self._relay(Idle(generation), "thread")

    def _read(self, child: Child) -> None:
        """A reader thread: every message of ``child``, until it confirms a release or the socket closes."""
        while True:
            try:
                message = child.conn.recv()
            except (EOFError, OSError):
                self._received.emit(child, None)
                return
            except Exception:  # noqa: BLE001 - a message this process cannot unpickle: the stream goes on
                continue
            if isinstance(message, Released):
                return
            self._received.emit(child, message)

    @Slot(object, object)
    def _on_child(self, child: Child, message) -> None:
        if child is not self._child:
            return                   # a child stopped or replaced: what it still said belongs to nobody
        self._hear()
        if message is None:          # the child died: its runs end, and the next load starts another
            child.stop(CLOSE_WAIT_S)     # reaped (its socket closes as it exits)
            self._drop_child(f"the training process ended unexpectedly (exit status {child.process.returncode})")
            return
        if isinstance(message, Ready):
            child.ready = True
            return
        if isinstance(message, Idle) and message.generation == self._generation:
            self._awaiting = False
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
