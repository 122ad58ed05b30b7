"""Paths in the shown surface's unit: a run trained on another loss, re-evaluated on the shown one (the window's
3-D view, loss curve and the exporter's, alike)."""
from __future__ import annotations

import dataclasses

import numpy as np

from ...core.surface import batch_losses_at, loss_at


class LiftedPaths:
    """Paths whose losses are the *shown* surface's criterion.

    A run trained on another loss than the selected run's (say L1 beside MSE) carries its own loss values;
    on the MSE surface its points would sink below or float above it, and on an axis labelled "MSE loss" its
    curve would claim a loss it never had. Its losses are re-evaluated on the shown loss, exactly (the core's
    float64 evaluator), incrementally (only new points), and cached until the scene or the race restarts.
    """

    def __init__(self):
        self._cache: dict[tuple[int, str], np.ndarray] = {}
        self.experiment = None
        self.run_experiments: dict = {}

    def reset(self, experiment=None, run_experiments=None) -> None:
        self._cache.clear()
        if experiment is not None:
            self.experiment = experiment
        if run_experiments is not None:
            self.run_experiments = dict(run_experiments)

    def same_loss(self, run_id: int) -> bool:
        """Whether run ``run_id`` trains on the shown criterion (its own values are already in its unit)."""
        exp, shown = self.run_experiments.get(run_id), self.experiment
        return exp is None or shown is None or (exp.criterion == shown.criterion
                                                and dict(exp.criterion_options) == dict(shown.criterion_options))

    def mixed(self) -> bool:
        """Whether some run trains on another loss than the shown one."""
        return not all(self.same_loss(rid) for rid in self.run_experiments)

    def paths(self, paths: dict, batch_loss: bool = False) -> dict:
        """``paths`` with ``loss`` (and with ``batch_loss``, the mini-batch loss too) in the shown criterion."""
        if self.experiment is None:
            return paths
        out = {}
        for rid, traj in paths.items():
            if self.same_loss(rid) or len(traj) == 0:
                out[rid] = traj
                continue
            changes = {"loss": self._extend(rid, "loss", traj, self._full)}
            if batch_loss:
                changes["batch_loss"] = self._extend(rid, "batch", traj, self._batch)
            out[rid] = dataclasses.replace(traj, **changes)
        return out

    def _extend(self, rid: int, kind: str, traj, evaluate) -> np.ndarray:
        """The cached values of one run, grown to the path's length (a shorter path: a new run, start over)."""
        have = self._cache.get((rid, kind), np.empty(0))
        n = len(traj)
        if n < len(have):
            have = np.empty(0)
        if n > len(have):
            have = np.concatenate([have, evaluate(traj, len(have), n)])
            self._cache[(rid, kind)] = have
        return have[:n]

    def _full(self, traj, start: int, stop: int) -> np.ndarray:
        return np.atleast_1d(loss_at(self.experiment, traj.params[start:stop]))

    def _batch(self, traj, start: int, stop: int) -> np.ndarray:
        # Step i's batch loss is taken at the parameters before its update (step i-1's); the start has none.
        before = traj.params[np.maximum(np.arange(start, stop) - 1, 0)]
        none = np.empty(0, np.int64)
        batches = list(traj.batches[start:stop]) if len(traj.batches) >= stop else [none] * (stop - start)
        if start == 0:
            batches[0] = none
        return batch_losses_at(self.experiment, before, batches)
