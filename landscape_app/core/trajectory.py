"""Training records: a ``Step`` per optimizer update, a ``Trajectory`` of many, and a builder that grows one.

These are what cross threads and what the views draw: plain numpy, never live tensors.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

OUTCOMES = ("running", "finished", "stopped", "diverged")


@dataclass(frozen=True)
class Step:
    """One point of the path. Iteration 0 is the start point (no batch: ``batch_loss`` is NaN, ``batch`` empty)."""

    iteration: int
    epoch: int
    params: np.ndarray        # float64 (k,): the model's parameters after the update, in order w..., b
    batch_loss: float         # the mini-batch loss that drove the update (at the parameters before it)
    loss: float               # the full-data loss at ``params``: the point lies on the drawn surface
    batch: np.ndarray         # int64 sample indices of that mini-batch
    lr: float = float("nan")  # the learning rate used for the update
    run_id: int = 0


@dataclass(frozen=True)
class Trajectory:
    """A path as arrays of equal length ``n``; ``batches[i]`` holds step i's sample indices."""

    param_names: tuple[str, ...]
    iteration: np.ndarray     # int64 (n,)
    epoch: np.ndarray         # int64 (n,)
    params: np.ndarray        # float64 (n, k)
    batch_loss: np.ndarray    # float64 (n,)
    loss: np.ndarray          # float64 (n,)
    lr: np.ndarray            # float64 (n,)
    batches: tuple[np.ndarray, ...] = ()
    outcome: str = "finished"
    message: str = ""         # why it ended, for people (e.g. where it diverged)

    def __len__(self) -> int:
        return int(self.iteration.shape[0])

    def column(self, name: str) -> np.ndarray:
        """The values of one parameter along the path."""
        return self.params[:, self.param_names.index(name)]

    def upto(self, n: int) -> "Trajectory":
        """The first ``n`` points (views of the same arrays)."""
        return Trajectory(self.param_names, self.iteration[:n], self.epoch[:n], self.params[:n],
                          self.batch_loss[:n], self.loss[:n], self.lr[:n], self.batches[:n],
                          self.outcome, self.message)


@dataclass
class TrajectoryBuilder:
    """Grows a path step by step with amortised doubling, so a 100,000-point path costs no quadratic copying."""

    param_names: tuple[str, ...]
    _n: int = 0
    _cap: int = 0
    _arrays: dict = field(default_factory=dict)
    _batches: list = field(default_factory=list)
    outcome: str = "running"
    message: str = ""

    def __post_init__(self):
        self._grow(256)

    def _grow(self, cap: int) -> None:
        k = len(self.param_names)
        new = {"iteration": np.empty(cap, np.int64), "epoch": np.empty(cap, np.int64),
               "params": np.empty((cap, k)), "batch_loss": np.empty(cap), "loss": np.empty(cap),
               "lr": np.empty(cap)}
        for key, arr in self._arrays.items():
            new[key][: self._n] = arr[: self._n]
        self._arrays, self._cap = new, cap

    def __len__(self) -> int:
        return self._n

    def append(self, step: Step) -> None:
        if self._n == self._cap:
            self._grow(2 * self._cap)
        a, i = self._arrays, self._n
        a["iteration"][i] = step.iteration
        a["epoch"][i] = step.epoch
        a["params"][i] = step.params
        a["batch_loss"][i] = step.batch_loss
        a["loss"][i] = step.loss
        a["lr"][i] = step.lr
        self._batches.append(step.batch)
        self._n += 1

    def extend(self, steps) -> None:
        for step in steps:
            self.append(step)

    def trajectory(self) -> Trajectory:
        """The path so far; its arrays are views, valid until the next append that grows the buffer."""
        a, n = self._arrays, self._n
        return Trajectory(self.param_names, a["iteration"][:n], a["epoch"][:n], a["params"][:n],
                          a["batch_loss"][:n], a["loss"][:n], a["lr"][:n], tuple(self._batches),
                          self.outcome, self.message)
