"""The race's training loop, without Qt: every run of a race stepped in lockstep, played, paused or stepped.

``RaceLoop`` adapts ``core.training.train`` (a generator of ``Step``): it advances each run's generator by one
iteration per round, checking the commands (play, pause, step, speed, load, stop) between rounds, and hands
what it made to ``send`` as messages: ``StepBatch`` (20 a second at full speed, every round when paced),
``RunEnded`` and ``Idle``, each tagged with the *generation* of the load it belongs to, so that messages still
in flight after a Reset are recognised as stale and dropped.

The window runs it in a process of its own (``core.race_server``), so that the window's drawing never takes
the interpreter lock from the training; or, where the runs cannot be sent to another process, in a thread
(``gui.worker``). Commands come from another thread, through a condition variable: the loop is busy training
while playing, so they cannot wait for it. Waits have a timeout, so Pause and Stop interrupt a paced run at once.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from .trajectory import Step
from .usercode import ESCAPES, describe_escape

# Seconds between batches sent while running flat out. Each batch wakes the window; it draws a few frames a
# second at full speed, so more than 20 batches a second would show nothing more.
EMIT_INTERVAL = 1.0 / 20.0
MAX_BATCH = 20_000             # steps per batch at most, so one batch never stalls the window


@dataclass(frozen=True)
class StepBatch:
    """Steps of one or more runs, in the order they were made, from load number ``generation``."""

    generation: int
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class RunEnded:
    """A run's generator has finished: ``outcome`` is finished, diverged or failed; ``message`` says why."""

    generation: int
    run_id: int
    outcome: str
    message: str


@dataclass(frozen=True)
class Idle:
    """The loop stopped advancing (paused, stepped, or every run ended) after working on ``generation``."""

    generation: int


@dataclass(frozen=True)
class Released:
    """The loop dropped its runs on ``release()``: nothing of theirs follows this message."""


def _default_train():
    from .training import train
    return train


def _outcome(result, last: Step | None) -> tuple[str, str]:
    """The outcome of a finished generator: what it returned if it says, else judged from its last step."""
    outcome = getattr(result, "outcome", None)
    if outcome in ("finished", "stopped", "diverged"):
        return outcome, str(getattr(result, "message", ""))
    if last is not None and not (np.isfinite(last.loss) and np.all(np.isfinite(last.params))):
        return "diverged", f"diverged at iteration {last.iteration} (the loss or a parameter is not finite)"
    return "finished", ""


_RELEASE = object()     # a load that drops every run and answers Released


class RaceLoop:
    """Call ``run()`` in the training thread; ``load`` then ``play``/``step``/``pause`` from any other thread."""

    def __init__(self, send: Callable[[object], None], train_fn: Callable | None = None):
        self._send = send
        self._train_fn = train_fn
        self._cond = threading.Condition()
        # State shared with the commanding thread; guarded by _cond.
        self._stop = False
        self._playing = False
        self._step_requests = 0
        self._speed: float | None = None     # steps per second; None: as fast as possible
        self._to_load: object = None         # (generation, experiments), _RELEASE or None
        self._speed_changed = False

    # -- commands, from any thread --------------------------------------------------------------------------
    def load(self, generation: int, experiments: Mapping[int, object], playing: bool = False) -> None:
        """Start over with ``experiments`` (run_id -> Experiment); their start points are sent at once."""
        self._command(_to_load=(generation, dict(experiments)), _playing=playing, _step_requests=0)

    def release(self) -> None:
        """Drop every run (their unsent steps too) and send ``Released``; the loop then waits for a load."""
        self._command(_to_load=_RELEASE, _playing=False, _step_requests=0)

    def play(self) -> None:
        self._command(_playing=True)

    def pause(self) -> None:
        self._command(_playing=False, _step_requests=0)

    def step(self) -> None:
        """Advance every unfinished run by exactly one iteration (pauses a playing run first)."""
        with self._cond:
            self._playing = False
            self._step_requests += 1
            self._cond.notify_all()

    def set_speed(self, steps_per_second: float | None) -> None:
        """``None`` (or <= 0): as fast as the machine goes."""
        speed = steps_per_second if steps_per_second and steps_per_second > 0 else None
        self._command(_speed=speed, _speed_changed=True)

    def request_stop(self) -> None:
        """End the loop between two steps: ``run()`` returns."""
        self._command(_stop=True)

    def _command(self, **state) -> None:
        with self._cond:
            for name, value in state.items():
                setattr(self, name, value)
            self._cond.notify_all()

    # -- the loop, in the training thread ------------------------------------------------------------------
    def run(self) -> None:
        train = self._train_fn or _default_train()
        generation, gens, last = -1, {}, {}
        pending: list[Step] = []
        last_emit = time.perf_counter()
        next_due = 0.0

        def flush():
            nonlocal pending, last_emit
            if pending:
                self._send(StepBatch(generation, tuple(pending)))
                pending = []
            last_emit = time.perf_counter()

        def close_all():
            for gen, _ in gens.values():
                gen.close()
            gens.clear()
            last.clear()

        active = False      # advanced since the last idle message
        try:
            while True:
                with self._cond:
                    if self._must_wait(gens) and active:
                        to_load = "idle"    # about to sleep: send what is pending and say so, outside the lock
                    else:
                        while self._must_wait(gens):
                            self._cond.wait()
                        if self._stop:
                            break
                        to_load, self._to_load = self._to_load, None
                        stepping = False
                        if to_load is None and not self._playing:
                            self._step_requests -= 1
                            stepping = True
                        speed = self._speed
                        if self._speed_changed:
                            self._speed_changed = False
                            next_due = 0.0

                if to_load == "idle":
                    flush()
                    active = False
                    self._send(Idle(generation))
                    continue
                active = True
                if to_load is _RELEASE:
                    pending = []    # the runs' steps not yet sent belong to nobody now
                    close_all()
                    active = False
                    self._send(Released())
                    continue
                if to_load is not None:
                    # Steps of the old generation still unsent are stale by definition: drop them.
                    pending = []
                    close_all()
                    generation, experiments = to_load
                    for run_id, exp in experiments.items():
                        gens[run_id] = (train(exp, run_id=run_id), exp.epochs * exp.steps_per_epoch)
                    ended = self._advance(gens, last, pending, generation)   # iteration 0: the start points
                    flush()
                    for e in ended:
                        self._send(e)
                    next_due = 0.0
                    continue

                if speed is not None and not stepping:
                    # Paced: wait until this round is due, interruptibly (pause/stop/load wake us).
                    now = time.perf_counter()
                    if next_due and now < next_due:
                        if self._wait_until(next_due):
                            continue
                    next_due = max(next_due, time.perf_counter() - 1.0 / speed) + 1.0 / speed
                ended = self._advance(gens, last, pending, generation)
                now = time.perf_counter()
                if (ended or stepping or speed is not None or not gens or len(pending) >= MAX_BATCH
                        or now - last_emit >= EMIT_INTERVAL):
                    flush()
                # After the flush, so the window has a run's last steps before it hears that the run ended.
                for e in ended:
                    self._send(e)
        finally:
            flush()
            close_all()

    def _must_wait(self, gens: dict) -> bool:
        """Nothing to do (call with the lock held): not stopping, nothing to load, not playing or stepping."""
        return (not self._stop and self._to_load is None
                and not ((self._playing or self._step_requests) and gens))

    def _wait_until(self, deadline: float) -> bool:
        """Sleep until ``deadline``; True if woken early by a command that needs the loop's attention."""
        with self._cond:
            while not (self._stop or self._to_load is not None or not self._playing or self._speed_changed):
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    @staticmethod
    def _advance(gens: dict, last: dict, pending: list, generation: int) -> list[RunEnded]:
        """One iteration of every live run; runs that ended leave ``gens`` and are returned.

        A run also ends at once on its last iteration or on a non-finite step, rather than one round later,
        so the window learns that a run is over as soon as its last point arrives.
        """
        ended = []
        for run_id in list(gens):
            gen, total = gens[run_id]
            try:
                step = next(gen)
            except StopIteration as stop:
                outcome, message = _outcome(stop.value, last.get(run_id))
                del gens[run_id]
                ended.append(RunEnded(generation, run_id, outcome, message))
                continue
            except (Exception, *ESCAPES) as exc:
                # A bug or a numerical failure inside torch, or the model's code calling sys.exit: end this run, say
                # why. Outside the main thread no signal raises KeyboardInterrupt: there, any is the code's own.
                if isinstance(exc, KeyboardInterrupt) and threading.current_thread() is threading.main_thread():
                    raise
                del gens[run_id]
                gen.close()
                why = describe_escape(exc) if isinstance(exc, ESCAPES) else f"{type(exc).__name__}: {exc}"
                ended.append(RunEnded(generation, run_id, "failed", why))
                continue
            last[run_id] = step
            pending.append(step)
            # math.isfinite over the few parameters: ~1 us a step instead of numpy's ~5 us on tiny arrays.
            finite = math.isfinite(step.loss) and all(map(math.isfinite, step.params.tolist()))
            if step.iteration >= total or not finite:
                result = None
                if not finite:
                    try:   # the generator's own verdict (its return value) names where and why
                        next(gen)
                    except StopIteration as stop:
                        result = stop.value
                    except Exception:   # noqa: BLE001 - the run is over either way
                        pass
                gen.close()
                del gens[run_id]
                ended.append(RunEnded(generation, run_id, *_outcome(result, step)))
        return ended


__all__ = ["EMIT_INTERVAL", "MAX_BATCH", "Idle", "RaceLoop", "Released", "RunEnded", "StepBatch"]
