"""A network's paths on the scene's plane: per step (alpha, beta), how far it lies off the plane, and the
surface's value under the projected point beside the run's true loss.

A network's path lives among hundreds of parameters; the views draw its projection on the plane the surface
lies on (``Plane.project``). ``evaluate`` does the work (the projection and the loss at each projected point,
plain numpy/torch meant for a worker thread); ``ProjectedPaths`` keeps what came back, per run, and hands the
views paths in plane coordinates as far as they are known, so the GUI thread never evaluates a loss.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from ..core.projection import plane_losses


@dataclasses.dataclass(frozen=True)
class ProjectWork:
    """The points of one run still to project: the path's parameters ``start:start + len(params)``."""

    run_id: int
    start: int
    params: np.ndarray


@dataclasses.dataclass(frozen=True)
class Projection:
    """One run's path on the plane, as far as projected: the path in plane coordinates (``flat``: its loss is the
    run's true loss), the same with the surface's value under each point (``on_surface``, for the 3-D view), and
    each point's distance off the plane. ``total``: the path's length so far (more than ``len(distance)`` while
    the projection of its newest steps is on its way)."""

    flat: object
    on_surface: object
    distance: np.ndarray
    total: int = 0
    metric: str = "loss"        # what ``surface_loss`` holds: the surface's loss or its accuracy
    scale: float = 1.0          # the plane's size in parameter space (``plane_scale``): a distance far below it is 0

    @property
    def surface_loss(self) -> np.ndarray:
        return self.on_surface.loss


def evaluate(experiment, plane, work: list[ProjectWork], stop=None,
             metric: str = "loss") -> list[tuple[ProjectWork, np.ndarray]]:
    """Each piece of ``work`` projected on ``plane``: rows (alpha, beta, distance, the surface's value: its loss or
    accuracy, ``metric``) (worker thread)."""
    out = []
    for piece in work:
        if stop is not None and stop.is_set():
            break
        alpha, beta, distance = plane.project(piece.params)
        surface = plane_losses(experiment, plane, plane.point(alpha, beta), metric=metric)
        out.append((piece, np.stack([alpha, beta, distance, surface], axis=1)))
    return out


def plane_scale(plane) -> float:
    """How large the plane's numbers are: the longest of its origin and its two directions. A distance off the
    plane computed in float64 carries rounding noise of about 1e-16 times this (a point on the plane read
    "2.15e-16 off the plane")."""
    return max(float(np.linalg.norm(v)) for v in (plane.origin, plane.d1, plane.d2))


class ProjectedPaths:
    """The runs' paths projected on the scene's plane, cached until the plane or the race changes. ``runs``: the
    run ids whose surface values are read on ``experiment``'s network (None: every run); where a race's networks
    differ, each network's runs are projected by their own ``ProjectedPaths``."""

    def __init__(self):
        self._cache: dict[int, np.ndarray] = {}      # run id -> (n, 4): alpha, beta, distance, surface loss
        self.experiment = None
        self.plane = None
        self.metric = "loss"        # the surface's values under the projected points: its loss or accuracy
        self.version = 0            # counts resets: work for an older version is dropped
        self.runs: frozenset | None = None

    def reset(self, experiment=None, plane=None, metric: str = "loss", runs=None) -> None:
        self._cache.clear()
        self.version += 1
        self.experiment, self.plane, self.metric = experiment, plane, metric
        self.runs = None if runs is None else frozenset(runs)

    @property
    def active(self) -> bool:
        return self.plane is not None and self.experiment is not None

    def missing(self, paths: Mapping) -> list[ProjectWork]:
        """What is still to project of ``paths`` (a path shorter than its cache starts over: a new run)."""
        if not self.active:
            return []
        work = []
        for rid, traj in paths.items():
            if len(traj) == 0 or traj.params.shape[1] != self.plane.dim or not self.takes(rid):
                continue
            have = self._cache.get(rid)
            if have is not None and len(traj) < len(have):
                del self._cache[rid]
                have = None
            start = 0 if have is None else len(have)
            if len(traj) > start:
                work.append(ProjectWork(rid, start, np.array(traj.params[start:])))
        return work

    def takes(self, run_id: int) -> bool:
        """Whether ``run_id`` is projected here (a run of this network)."""
        return self.runs is None or run_id in self.runs

    def absorb(self, results) -> None:
        for piece, rows in results:
            have = self._cache.get(piece.run_id, np.empty((0, 4)))
            if len(have) != piece.start:
                continue             # the path started over meanwhile
            self._cache[piece.run_id] = np.concatenate([have, rows])

    def compute(self, paths: Mapping) -> None:
        """Project what is missing here and now (headless use, tests)."""
        self.absorb(evaluate(self.experiment, self.plane, self.missing(paths), metric=self.metric))

    def paths(self, paths: Mapping) -> dict[int, Projection]:
        """Each run of ``paths`` on the plane, up to its last projected step (runs with none yet are left out)."""
        out = {}
        if not self.active:
            return out
        labels = tuple(self.plane.labels)
        for rid, traj in paths.items():
            rows = self._cache.get(rid) if self.takes(rid) else None
            if rows is None or len(traj) == 0:
                continue
            n = min(len(traj), len(rows))
            if n == 0:
                continue
            shown = traj if n == len(traj) else dataclasses.replace(traj.upto(n), outcome="running", message="")
            flat = dataclasses.replace(shown, param_names=labels, params=np.ascontiguousarray(rows[:n, :2]))
            on_surface = dataclasses.replace(flat, loss=rows[:n, 3].copy())
            out[rid] = Projection(flat, on_surface, rows[:n, 2].copy(), len(traj), self.metric,
                                  plane_scale(self.plane))
        return out
