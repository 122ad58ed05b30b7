"""Paths lifted onto the shown surface for the 3-D view (the window's and the exporter's)."""
from __future__ import annotations

import dataclasses

import numpy as np

from ...core.surface import loss_at


class LiftedPaths:
    """Paths for the 3-D view, whose heights must be the *shown* surface's loss.

    A run trained on another loss than the selected run's (say L1 beside MSE) carries its own loss values;
    on the MSE surface its points would sink below or float above it. Its heights are re-evaluated on the
    shown loss, incrementally (only new points), and cached until the scene or the race restarts.
    """

    def __init__(self):
        self._cache: dict[int, tuple[np.ndarray, int]] = {}
        self.experiment = None
        self.run_experiments: dict = {}

    def reset(self, experiment=None, run_experiments=None) -> None:
        self._cache.clear()
        if experiment is not None:
            self.experiment = experiment
        if run_experiments is not None:
            self.run_experiments = dict(run_experiments)

    def _same_loss(self, exp) -> bool:
        shown = self.experiment
        return exp is None or (exp.criterion == shown.criterion
                               and dict(exp.criterion_options) == dict(shown.criterion_options))

    def paths(self, paths: dict) -> dict:
        if self.experiment is None:
            return paths
        out = {}
        for rid, traj in paths.items():
            if self._same_loss(self.run_experiments.get(rid)) or len(traj) == 0:
                out[rid] = traj
                continue
            heights, n = self._cache.get(rid, (np.empty(0), 0))
            if len(traj) < n:
                heights, n = np.empty(0), 0
            if len(traj) > n:
                new = np.atleast_1d(loss_at(self.experiment, traj.params[n:]))
                heights = np.concatenate([heights[:n], new])
                n = len(traj)
                self._cache[rid] = (heights, n)
            out[rid] = dataclasses.replace(traj, loss=heights[: len(traj)])
        return out
