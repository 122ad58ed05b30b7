"""Honest trajectories: a path projected on a plane, with both the true loss and the surface's value beneath it.

A drawn path is a projection: step i lies ``distance[i]`` off the plane, and the loss the run really had there
(``loss``, at its own parameters) is not the surface's value at the projected point (``surface_loss``). Views
show both, so a projection is never passed off as the path.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from typing_extensions import deprecated

from .errors import ConfigError
from .plane import Plane


@dataclass(frozen=True, eq=False)
class ProjectedPath:
    """A path on a plane, per step (arrays of equal length, read-only).

    ``alpha``, ``beta``: the nearest point of the plane; ``distance``: how far the step's parameters lie from it;
    ``loss``: the full-data loss at the step's own parameters (the run's own record); ``surface_loss``: the loss at
    ``plane.point(alpha, beta)``, what the drawn surface shows under the projected point.
    """

    iteration: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    distance: np.ndarray
    loss: np.ndarray
    surface_loss: np.ndarray
    plane: Plane

    def __post_init__(self):
        n = None
        for name in ("iteration", "alpha", "beta", "distance", "loss", "surface_loss"):
            arr = np.array(getattr(self, name), dtype=np.int64 if name == "iteration" else np.float64)
            if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
                raise ValueError(f"{name} must be a vector as long as the path, not shape {arr.shape}")
            n = arr.shape[0]
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return int(self.alpha.shape[0])

    @property
    def gap(self) -> np.ndarray:
        """The true loss minus the surface's value under the projected point (0 where the path lies on the plane)."""
        return self.loss - self.surface_loss


def plane_losses(exp, plane: Plane, points: np.ndarray, bn: str = "eval", metric: str = "loss") -> np.ndarray:
    """The loss (or a network's accuracy, ``metric``) at points (m, k) of ``plane``, as the surface evaluates it
    (its BatchNorm statistics, eval mode)."""
    from .module_points import check_bn, module_losses
    check_bn(bn)
    if exp.is_module:
        return module_losses(exp, points, buffers=plane.buffers, bn=bn, metric=metric)
    if metric != "loss":
        raise ConfigError("metric", "the closed-form models' surfaces show their loss")
    from .surface import loss_at
    return np.asarray(loss_at(exp, points), dtype=np.float64).reshape(-1)


def project_path(exp, trajectory, plane: Plane, bn: str = "eval") -> ProjectedPath:
    """Project a run's path on ``plane``: per step (alpha, beta, distance), its true loss and the surface's value.

    ``trajectory`` is a ``Trajectory`` of ``exp`` (from ``la.run``). ``bn``: how the surface treats BatchNorm
    ("eval": the plane's running statistics; "recompute": the data's statistics at each point), as in
    ``compute_surface``. The true ``loss`` is the step's own (with the run's statistics at that step).
    """
    from .trajectory import Trajectory
    if not isinstance(trajectory, Trajectory):
        raise ConfigError("trajectory", f"must be a Trajectory (from la.run), not {type(trajectory).__name__}")
    if not isinstance(plane, Plane):
        raise ConfigError("plane", f"must be a la.Plane, not {type(plane).__name__}")
    if plane.dim != exp.param_count:
        raise ConfigError("plane", f"lies among {plane.dim} parameters but the model has {exp.param_count}")
    if trajectory.params.shape[1:] != (exp.param_count,):
        raise ConfigError("trajectory", f"has {trajectory.params.shape[1]} parameters per step but the model has "
                                        f"{exp.param_count}")
    if len(trajectory) == 0:
        empty = np.empty(0)
        return ProjectedPath(np.empty(0, np.int64), empty, empty, empty, empty, empty, plane)
    alpha, beta, distance = plane.project(trajectory.params)
    surface_loss = plane_losses(exp, plane, plane.point(alpha, beta), bn)
    return ProjectedPath(trajectory.iteration, alpha, beta, distance, trajectory.loss, surface_loss, plane)


@deprecated("la.covering_span is deprecated; use plane.covering_span(paths, margin, origin)")
def covering_span(plane: Plane, paths, margin: float = 0.1, origin: bool = True) -> tuple[tuple[float, float],
                                                                                           tuple[float, float]]:
    """The first release's spelling of ``plane.covering_span(paths, margin, origin)`` (CHANGELOG.md), which warns."""
    return plane.covering_span(paths, margin=margin, origin=origin)


__all__ = ["ProjectedPath", "plane_losses", "project_path"]
