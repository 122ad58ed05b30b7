"""Paths in the shown surface's unit: a run trained on another loss, re-evaluated on the shown one (the window's
3-D view and loss curve, and the exporter's, alike).

The evaluation (``evaluate``) is plain numpy/torch work meant for a worker thread; ``LiftedPaths`` only keeps
what came back and hands views the paths with the values known so far, so the GUI thread never computes a loss.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from ..core.surface import batch_losses_at, loss_at


@dataclasses.dataclass(frozen=True)
class LiftWork:
    """The points of one run still to evaluate: values ``start:stop`` of ``kind`` ("loss" or "batch")."""

    run_id: int
    kind: str
    start: int
    params: np.ndarray          # the path's parameters [0, stop) (the batch loss looks one point back)
    batches: tuple              # the path's mini-batches [0, stop) (empty when not recorded)


def evaluate(experiment, work: list[LiftWork], stop=None) -> list[tuple[LiftWork, np.ndarray]]:
    """Each piece of ``work`` evaluated on ``experiment``'s criterion (in a worker thread); ``experiment`` may be a
    mapping from run id to the experiment to evaluate that run's piece on (``LiftedPaths.evaluators``)."""
    out = []
    whole = experiment
    for piece in work:
        if stop is not None and stop.is_set():
            break
        experiment = whole.get(piece.run_id) if isinstance(whole, Mapping) else whole
        if experiment is None:
            continue
        n = len(piece.params)
        if piece.kind == "loss":
            values = np.atleast_1d(loss_at(experiment, piece.params[piece.start:n]))
        else:
            # Step i's batch loss is taken at the parameters before its update (step i-1's); the start has none.
            before = piece.params[np.maximum(np.arange(piece.start, n) - 1, 0)]
            none = np.empty(0, np.int64)
            batches = list(piece.batches[piece.start:n]) if len(piece.batches) >= n else [none] * (n - piece.start)
            if piece.start == 0:
                batches[0] = none
            values = batch_losses_at(experiment, before, batches)
        out.append((piece, np.asarray(values, dtype=np.float64)))
    return out


class LiftedPaths:
    """Paths whose losses are the *shown* surface's criterion.

    A run trained on another loss than the selected run's (say L1 beside MSE) carries its own loss values;
    on the MSE surface its points would sink below or float above it, and on an axis labelled "MSE loss" its
    curve would claim a loss it never had. Its losses are re-evaluated on the shown loss, exactly (the core's
    float64 evaluator), incrementally (only new points, by ``evaluate`` off the GUI thread), and cached until the
    scene or the race restarts. Until a run's new points are evaluated, its path is shown up to the last one that is.
    """

    def __init__(self):
        self._cache: dict[tuple[int, str], np.ndarray] = {}
        self.experiment = None
        self.run_experiments: dict = {}
        self.version = 0          # counts resets: work for an older version is dropped

    def reset(self, experiment=None, run_experiments=None) -> None:
        self._cache.clear()
        self.version += 1
        if experiment is not None:
            self.experiment = experiment
        if run_experiments is not None:
            self.run_experiments = dict(run_experiments)

    def same_loss(self, run_id: int) -> bool:
        """Whether run ``run_id`` trains on the shown criterion (its own values are already in its unit)."""
        exp, shown = self.run_experiments.get(run_id), self.experiment
        return exp is None or shown is None or (exp.criterion == shown.criterion
                                                and dict(exp.criterion_options) == dict(shown.criterion_options))

    def evaluator(self, run_id: int):
        """What run ``run_id``'s path is re-evaluated on: the shown experiment; None for a run whose BatchNorm is
        not the shown network's (a race's runs may differ in it): its loss at a step depends on running statistics
        that its path does not keep, and the shown network at its weights is another function."""
        exp, shown = self.run_experiments.get(run_id), self.experiment
        if exp is None or shown is None:
            return shown
        mine, theirs = dict(exp.model_options), dict(shown.model_options)
        if any(mine.get(k) != theirs.get(k) for k in ("batchnorm", "bn_affine") if mine.get("batchnorm")
               or theirs.get("batchnorm")):
            return None
        return shown        # dropout is off in evaluation: the same function

    def evaluators(self, work) -> dict:
        return {piece.run_id: self.evaluator(piece.run_id) for piece in work}

    def mixed(self) -> bool:
        """Whether some run trains on another loss than the shown one."""
        return not all(self.same_loss(rid) for rid in self.run_experiments)

    def missing(self, paths: Mapping, batch_loss: bool = False) -> list[LiftWork]:
        """What is still to evaluate for ``paths`` (a path shorter than its cache starts over: a new run)."""
        if self.experiment is None:
            return []
        work = []
        for rid, traj in paths.items():
            if self.same_loss(rid) or len(traj) == 0 or self.evaluator(rid) is None:
                continue
            for kind in ("loss", "batch") if batch_loss else ("loss",):
                have = self._cache.get((rid, kind))
                n = len(traj)
                if have is not None and n < len(have):
                    del self._cache[(rid, kind)]
                    have = None
                start = 0 if have is None else len(have)
                if n > start:
                    work.append(LiftWork(rid, kind, start, np.array(traj.params[:n]), tuple(traj.batches[:n])))
        return work

    def absorb(self, results: list[tuple[LiftWork, np.ndarray]]) -> None:
        """Values that ``evaluate`` returned for this version's work."""
        for piece, values in results:
            key = (piece.run_id, piece.kind)
            have = self._cache.get(key, np.empty(0))
            if len(have) != piece.start:
                continue           # the path started over meanwhile: this piece fits no longer
            self._cache[key] = np.concatenate([have, values])

    def compute(self, paths: Mapping, batch_loss: bool = False) -> None:
        """Evaluate what is missing here and now (headless use: the exporter, which has no GUI to keep drawing)."""
        work = self.missing(paths, batch_loss)
        self.absorb(evaluate(self.evaluators(work), work))

    def paths(self, paths: Mapping, batch_loss: bool = False) -> dict:
        """``paths`` with ``loss`` (and with ``batch_loss``, the mini-batch loss too) in the shown criterion, as far
        as it is evaluated."""
        if self.experiment is None:
            return dict(paths)
        out = {}
        for rid, traj in paths.items():
            if self.same_loss(rid) or len(traj) == 0:
                out[rid] = traj
                continue
            kinds = ("loss", "batch") if batch_loss else ("loss",)
            known = [self._cache.get((rid, kind), np.empty(0)) for kind in kinds]
            n = min(len(traj), *(len(values) for values in known))
            if n == 0:
                continue
            shown = traj if n == len(traj) else dataclasses.replace(traj.upto(n), outcome="running", message="")
            changes = {"loss": known[0][:n]}
            if batch_loss:
                changes["batch_loss"] = known[1][:n]
            out[rid] = dataclasses.replace(shown, **changes)
        return out
