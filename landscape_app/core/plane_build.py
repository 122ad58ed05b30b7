"""The plane that a ``PlaneSettings`` describes, made from what it needs: finished paths, the shown step.

Apart from ``plane_settings`` (a plain value the session holds), because making a plane reaches the trajectories
and the Hessian, which sit above the session in the core's layers.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

from .errors import ConfigError
from .loss_axis import leaving_runs
from .plane import PCA_MARGIN, Plane
from .plane_settings import PlaneSettings


def build_plane(settings: PlaneSettings, exp, paths: Sequence = (), current=None, stop=None):
    """The plane ``settings`` describe for ``exp``: ``paths`` are the runs' finished Trajectories in session order
    (PCA, three points), ``current`` the shown run's Trajectory up to its shown step (a Hessian at the current
    point). ``ConfigError`` says what is missing; ``stop`` ends a Hessian's computation early
    (``EvaluationStopped``)."""
    if settings.kind == "random":
        return Plane.random(exp, seed=settings.seed, normalization=settings.normalization)
    if settings.kind == "hessian":
        at = current if settings.at == "current" and current is not None and len(current) else None
        plane = Plane.hessian(exp, at, stop=stop)
        where = "start" if at is None else f"iteration {int(current.iteration[-1])}"
        return dataclasses.replace(plane, info={**plane.info, "at": where})
    paths = [p for p in paths if p is not None and len(p)]
    if settings.kind == "pca":
        # A run of another network (BatchNorm's scale and shift add weights) lies in another space: the plane is
        # fitted to the runs of ``exp``'s, and the others are named off it where they are drawn.
        mine = [p for p in paths if p.params.shape[1] == exp.param_count]
        if not mine:
            raise ConfigError("plane", "a PCA plane needs the runs' paths: train them first")
        return Plane.pca(mine)
    a, b = settings.points
    if max(a, b) > len(paths):
        raise ConfigError("plane.points", f"runs {a} and {b} are needed; the session has {len(paths)} finished")
    start = paths[a - 1].params[0]
    return Plane.through(start, paths[a - 1].params[-1], paths[b - 1].params[-1],
                         labels=(f"toward run {a}'s end", f"toward run {b}'s end"))


def network_plane(plane, exp, buffers=None):
    """``plane`` as ``exp``'s network evaluates it: with ``buffers``, the BatchNorm statistics of that network's own
    run (a race's runs may differ in BatchNorm and share one plane: each network's surface is drawn with its own
    statistics), else with the plane's where the network has those buffers, else with none (the module's own).
    A plane fitted to another network's run keeps that run's statistics, which this network may not have."""
    names = {name for name, _ in exp.build_module().named_buffers() if not name.endswith("num_batches_tracked")}
    if buffers:
        own = {k: v for k, v in dict(buffers).items() if k in names}
        return dataclasses.replace(plane, buffers=own or None)
    if plane.buffers and not set(plane.buffers) <= names:
        return dataclasses.replace(plane, buffers=None)
    return plane


def plane_span(settings: PlaneSettings, plane, paths: Sequence = ()):
    """The alpha and beta ranges a plane's surface is drawn over, where the grid's would not do: a plane through
    three points shows the three points and the paths; None keeps the grid's (a PCA plane carries its own).

    Either plane fitted to the runs spans only the runs that stay in the picture, by the loss axis's rule
    (``loss_axis.leaving_runs``): a run whose loss runs away (an lr of 1000) would stretch the surface to its
    far-off end and press the other paths into their start. Its path leaves the view, and its loss the axis."""
    if not settings.needs_finished_runs:
        return None
    paths = [p for p in paths if p is not None and len(p)]
    leaving = leaving_runs({i: p.loss for i, p in enumerate(paths)})
    staying = [p for i, p in enumerate(paths) if i not in leaving]
    if settings.kind == "pca" and (not leaving or not staying):
        return None
    margin = 0.15 if settings.kind == "through" else PCA_MARGIN
    return plane.covering_span(staying or paths, margin=margin)


__all__ = ["build_plane", "plane_span", "network_plane"]
