"""The training loop as a generator of ``Step`` records: exactly the course's plain torch loop.

``train(exp)`` yields the start point (iteration 0) and then one ``Step`` per optimizer update. How the run
ended is available both as the ``StopIteration`` value (an ``Outcome``) and as attributes of the iterator::

    training = train(exp, stop=event)
    for step in training:
        ...
    training.outcome, training.message        # "finished" | "stopped" | "diverged", and why
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .errors import ConfigError
from .experiment import Experiment
from .models import build_criterion, flat_params
from .module_points import LiveLoss
from .optimizers import build_optimizer, build_scheduler
from .surface import loss_at
from .surface_parallel import torch_threads
from .trajectory import Step, Trajectory, TrajectoryBuilder

# A parameter beyond this is off any surface worth drawing: the run has diverged even while still finite.
DIVERGENCE_BOUND = 1e10

_NO_BATCH = np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class Outcome:
    """How a run ended: ``outcome`` is "finished", "stopped" or "diverged"; ``message`` says why, for people."""

    outcome: str
    message: str = ""


class _IndexedBatches(Dataset):
    """The experiment's dataset seen by the DataLoader so that a batch also carries its sample indices.

    ``__getitems__`` fetches a whole batch by tensor indexing (the same float32 values that collating the
    samples one by one would stack) and the identity ``collate_fn`` passes it through. The DataLoader still
    builds its own sampler from ``shuffle`` and the seeded generator, so the random stream (the sampler's draws
    and the base seed each iterator takes) is exactly that of the plain loop over the plain dataset.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        self.x, self.y = x, y

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, index):
        return self.x[index], self.y[index], index

    def __getitems__(self, indices):
        n, first = len(indices), int(indices[0])
        if int(indices[-1]) == first + n - 1 and list(indices) == list(range(first, first + n)):
            # An unshuffled batch is a run of samples: a view holds the same values without a gather.
            return self.x[first:first + n], self.y[first:first + n], torch.arange(first, first + n)
        idx = torch.from_numpy(np.fromiter(indices, np.int64, n))   # 4x faster than torch.as_tensor(list)
        return self.x[idx], self.y[idx], idx


def _as_batch(batch):
    return batch


def _stop_requested(stop) -> bool:
    if stop is None:
        return False
    if isinstance(stop, threading.Event):
        return stop.is_set()
    return bool(stop())


class Training(Iterator[Step]):
    """The iterator ``train`` returns: yields ``Step`` records; ``outcome``/``message`` are set when it ends.

    While it runs ``outcome`` is "running". ``StopIteration.value`` carries the same ``Outcome``, for a consumer
    driving it with ``next()``.
    """

    def __init__(self, exp: Experiment, stop: Callable[[], bool] | threading.Event | None = None,
                 run_id: int = 0):
        self.experiment = exp
        self.run_id = run_id
        self.outcome = "running"
        self.message = ""
        self._gen = self._steps(exp, stop, run_id)

    def __iter__(self) -> "Training":
        return self

    def __next__(self) -> Step:
        try:
            return next(self._gen)
        except StopIteration as end:
            result: Outcome = end.value if end.value is not None else Outcome(self.outcome, self.message)
            self.outcome, self.message = result.outcome, result.message
            raise StopIteration(result) from None

    def close(self) -> None:
        """Abandon the run (its outcome stays what it was, "running" if it had not ended)."""
        self._gen.close()

    @property
    def result(self) -> Outcome:
        return Outcome(self.outcome, self.message)

    def _steps(self, exp: Experiment, stop, run_id: int):
        # Every update runs at the experiment's thread count, and the caller's count is back before each yield:
        # the runs of a race (each at its own count) and the code between steps see only their own.
        threads, names = exp.threads, exp.param_names
        with torch_threads(threads):
            loop = _Loop(exp)
            params, buffers = loop.records.take()
            start = Step(0, 0, params, math.nan, loop.records.loss(), _NO_BATCH, math.nan, run_id, buffers)
        yield start

        iteration = 0
        for epoch in range(1, exp.epochs + 1):
            batches = iter(loop.loader)
            while True:
                with torch_threads(threads):
                    batch = next(batches, None)
                    if batch is None:
                        break
                    if _stop_requested(stop):
                        return Outcome("stopped", f"stopped by request after iteration {iteration} "
                                                  f"(epoch {epoch})")
                    iteration += 1
                    x, y, idx = batch
                    lr = float(loop.optimizer.param_groups[0]["lr"])
                    batch_loss = loop.update(x, y)
                    params, buffers = loop.records.take()
                    why = _divergence(params, names, batch_loss)
                    full_loss = loop.records.loss() if why is None else math.nan
                    if why is None and not math.isfinite(full_loss):
                        why = f"the loss became {full_loss}"
                    if why is not None:
                        return Outcome("diverged", f"diverged at iteration {iteration} (epoch {epoch}): {why}; "
                                                   f"try a smaller learning rate")
                    step = Step(iteration, epoch, params, batch_loss, full_loss, idx.numpy(), lr, run_id, buffers)
                yield step
            if loop.scheduler is not None:
                with torch_threads(threads):
                    loop.scheduler.step()
        return Outcome("finished", f"finished {exp.epochs} epoch(s), {iteration} iteration(s)")


class _Loop:
    """One run's loader, module, criterion, optimizer and scheduler, built as the plain loop builds them, and
    what records the module after each update."""

    def __init__(self, exp: Experiment):
        self.loader = DataLoader(_IndexedBatches(exp.data.x, exp.targets()), batch_size=exp.effective_batch_size,
                                 shuffle=exp.shuffle, generator=torch.Generator().manual_seed(exp.seed),
                                 collate_fn=_as_batch)
        self.model = model = exp.build_module()
        if any(isinstance(m, torch.nn.Dropout) for m in model.modules()):
            # Dropout draws from torch's global random state: seeded here, the run is reproducible.
            torch.manual_seed(exp.seed)
        self.criterion = build_criterion(exp.criterion, exp.criterion_options)
        self.optimizer = build_optimizer(exp.optimizer, model.parameters(), exp.lr, exp.optimizer_options)
        self.scheduler = build_scheduler(exp.scheduler, self.optimizer, exp.scheduler_options)
        self.is_lbfgs = isinstance(self.optimizer, torch.optim.LBFGS)
        self.records = LiveLoss(exp, model) if exp.is_module else _LinearRecords(exp, model)

    def update(self, x, y) -> float:
        """One optimizer update on the batch; returns the batch loss that drove it (before the update)."""
        model, criterion, optimizer = self.model, self.criterion, self.optimizer
        if self.is_lbfgs:
            def closure():
                optimizer.zero_grad()
                closure_loss = criterion(model(x), y)
                closure_loss.backward()
                return closure_loss
            # LBFGS returns the closure's first evaluation: the batch loss before the update.
            return float(optimizer.step(closure).detach())
        yhat = model(x)
        loss = criterion(yhat, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return float(loss.detach())


class _LinearRecords:
    """A closed-form model's records: its parameters, and the full-data loss from the surface's own kernel."""

    def __init__(self, exp: Experiment, model: torch.nn.Module):
        self._exp, self._model, self._params = exp, model, None

    def take(self) -> tuple[np.ndarray, None]:
        self._params = flat_params(self._model).double().numpy()
        return self._params, None

    def loss(self) -> float:
        return float(loss_at(self._exp, self._params))


def _divergence(params: np.ndarray, names, batch_loss: float) -> str | None:
    """Why the update left the map (a non-finite or huge parameter, a non-finite batch loss), or None."""
    if not math.isfinite(batch_loss):
        return f"the mini-batch loss became {batch_loss}"
    if params.size and np.abs(params).max() <= DIVERGENCE_BOUND:   # the common case in one pass (NaN fails it)
        return None
    bad = ~np.isfinite(params) | (np.abs(params) > DIVERGENCE_BOUND)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        name, value = names[i], float(params[i])
        if not math.isfinite(value):
            return f"parameter {name} became {value}"
        return f"parameter {name} = {value:.3g} is beyond ±{DIVERGENCE_BOUND:g}"
    return None


def train(exp: Experiment, stop: Callable[[], bool] | threading.Event | None = None, run_id: int = 0) -> Training:
    """Run ``exp``'s plain torch loop, yielding the start point and then a ``Step`` per optimizer update.

    ``stop`` (a callable returning True, or a ``threading.Event``) is checked before every update; when set the
    run ends with outcome "stopped". A non-finite loss or parameter ends it with outcome "diverged"; the steps
    yielded up to there stand. See ``Training`` for how the outcome is reported.
    """
    return Training(exp, stop, run_id)


def check_path_memory(experiments) -> None:
    """Refuse runs whose whole paths (every step's parameters, kept to the end) cannot fit in memory, before any
    training: ``ConfigError("epochs")`` with the estimate and the limit. (``train`` itself streams its steps: its
    consumer decides what to keep.)"""
    from . import memory
    experiments = list(experiments)
    steps = [exp.epochs * exp.steps_per_epoch for exp in experiments]
    need = sum(memory.path_bytes(exp.param_count, n, exp.effective_batch_size) for exp, n in zip(experiments, steps))
    what = (f"the path ({steps[0]:,} steps of {memory.count(experiments[0].param_count)} parameters)"
            if len(experiments) == 1 else f"the paths of {len(experiments)} runs ({sum(steps):,} steps)")
    memory.check(need, what, lambda message: ConfigError("epochs", message),
                 "train fewer epochs, on larger batches, or a smaller model")


def run(exp: Experiment, stop: Callable[[], bool] | threading.Event | None = None, run_id: int = 0) -> Trajectory:
    """Train ``exp`` to the end and return its whole path as a ``Trajectory`` (with outcome and message); runs
    whose path cannot fit in memory are refused first (``check_path_memory``)."""
    check_path_memory([exp])
    builder = TrajectoryBuilder(exp.param_names)
    training = train(exp, stop, run_id)
    builder.extend(training)
    builder.outcome, builder.message = training.outcome, training.message
    return builder.trajectory()


__all__ = ["DIVERGENCE_BOUND", "Outcome", "Training", "check_path_memory", "train", "run"]
