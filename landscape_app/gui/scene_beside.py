"""The surface beside the main one: what it shows, and the work of computing it (no Qt; the scene holds one).

A single surface cannot show two things a race may need:

* **another network** of the race: runs that differ in BatchNorm without its scale and shift share the plane's
  parameters but are different functions of them, so one network's surface says nothing of the other's runs (the
  other run's end reads far from its true loss on it). Each network gets its own surface on the same plane, and
  each run's path is drawn on its own network's: the selected run's in the main view, the other's beside it.
* **the random slice through the start** (``PlaneSettings.beside = "random"``): beside the plane of the runs'
  own paths, Li et al.'s random plane of the session's seed and normalisation, with the runs' projections on it
  (near the start: a random slice holds almost nothing of a trajectory).

``beside_spec`` says which (the random slice, asked for, wins), ``BesideScene`` keeps what came back: the
surface and, per run drawn on it, its projection (``projected.ProjectedPaths``). The computations are plain
functions (``beside_work``) run in the scene controller's worker threads.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

from ..core.experiment import Experiment
from ..core.plane_settings import PlaneSettings
from .projected import ProjectedPaths
from .scene_plane import network_key, parameter_space

NETWORK, RANDOM = "network", "random"
NORMALISED = {"filter": "filter-normalised", "layer": "layer-normalised", "none": "not normalised"}
# The main view's title beside a random slice: the plane it lies on (short: a contour is a third of the window).
MAIN_PLANE = {"pca": "The runs' own plane (PCA)", "hessian": "The Hessian's plane", "through": "Through the runs' ends"}


@dataclasses.dataclass(frozen=True, eq=False)
class BesideSpec:
    """What the beside view shows: ``kind`` NETWORK (the surface of ``experiment``, another network of the race,
    on the main plane) or RANDOM (the random slice ``settings`` describe, through the start of ``experiment``, the
    shown run's); ``runs``: the run ids drawn on it; ``title`` names it above the view, ``main_title`` the main
    view beside it (the shown network's runs; "" where the main view needs no title)."""

    kind: str
    title: str
    experiment: Experiment
    runs: tuple[int, ...]
    settings: PlaneSettings | None = None
    main_title: str = ""

    @property
    def key(self) -> tuple:
        """What names the surface asked for (the experiment by identity: a frozen value, compared cheaply)."""
        return self.kind, self.title, id(self.experiment), self.runs, self.settings


def network_label(experiment: Experiment) -> str:
    """A network of a race in words, by what a run may set apart from the others."""
    options = experiment.model_options
    if "batchnorm" in options:
        return "with BatchNorm" if options["batchnorm"] else "without BatchNorm"
    return "another network"


def run_numbers(runs, order) -> str:
    """``run 2`` or ``runs 2, 3``: the runs as the runs list numbers them (from 1, in session order)."""
    numbers = [str(list(order).index(rid) + 1) for rid in runs if rid in order]
    return ("run " if len(numbers) == 1 else "runs ") + ", ".join(numbers)


def own_runs(shown: Experiment, run_experiments: Mapping[int, Experiment]) -> tuple[int, ...]:
    """The runs of ``shown``'s network among ``run_experiments`` (run id -> Experiment, in session order)."""
    key = network_key(shown)
    return tuple(rid for rid, exp in run_experiments.items() if network_key(exp) == key)


def beside_spec(shown: Experiment | None, run_experiments: Mapping[int, Experiment],
                settings: PlaneSettings) -> BesideSpec | None:
    """What to show beside the surface of ``shown`` (the selected run's network), or None: the random slice where
    ``settings`` ask for it, else the first other network of the race that shares the plane's parameters."""
    if shown is None or not shown.is_module:
        return None
    if settings.random_beside:
        # Short enough for a third of a 1280-pixel window; the start marker says where it goes through.
        title = f"Random slice ({NORMALISED[settings.normalization]})"
        space = parameter_space(shown)
        runs = tuple(rid for rid, exp in run_experiments.items() if parameter_space(exp) == space)
        return BesideSpec(RANDOM, title, shown, runs, settings, MAIN_PLANE.get(settings.kind, ""))
    key, space = network_key(shown), parameter_space(shown)
    others: dict[str, list[int]] = {}
    for rid, exp in run_experiments.items():
        if network_key(exp) != key and parameter_space(exp) == space:
            others.setdefault(network_key(exp), []).append(rid)
    if not others:
        return None
    runs = tuple(next(iter(others.values())))
    experiment = run_experiments[runs[0]]
    title = f"{network_label(experiment)}: {run_numbers(runs, run_experiments)}"
    main = f"{network_label(shown)}: {run_numbers(own_runs(shown, run_experiments), run_experiments)}"
    return BesideSpec(NETWORK, title, experiment, runs, main_title=main)


def beside_work(spec: BesideSpec, surface, buffers, metric: str):
    """The job that computes the beside surface (for a worker thread): ``surface`` is the main one (its plane and
    grid), ``buffers`` the BatchNorm statistics of the other network's own run (None: none known)."""
    from ..core.plane import Plane
    from ..core.plane_build import network_plane
    from ..core.surface import compute_surface

    def work(stop, progress):
        exp = spec.experiment
        if spec.kind == RANDOM:
            plane = Plane.random(exp, seed=spec.settings.seed, normalization=spec.settings.normalization)
            return compute_surface(exp, plane=plane, metric=metric, stop=stop, progress=progress)
        plane = network_plane(surface.plane, exp, buffers)
        return compute_surface(exp, plane=plane, alpha=surface.alpha, beta=surface.beta, metric=metric,
                               stop=stop, progress=progress)
    return work


class BesideScene:
    """The beside view's state: what was asked for (``spec``, named by ``key``), the surface that came back, and
    the runs' projections on its plane."""

    def __init__(self):
        self.spec: BesideSpec | None = None
        self.surface = None
        self.key = None
        self.projected = ProjectedPaths()

    def ask(self, spec: BesideSpec | None, surface, metric: str) -> bool:
        """Whether ``spec`` over the main ``surface`` is new (to compute); the old one is dropped if so."""
        key = None if spec is None else (spec.key, id(surface), metric)
        if key == self.key:
            return False
        self.key, self.spec, self.surface = key, spec, None
        self.projected.reset()
        return True

    def take(self, spec: BesideSpec, surface) -> None:
        """The beside surface arrived: its runs are projected on its plane, read on its network."""
        self.spec, self.surface = spec, surface
        self.projected.reset(spec.experiment, surface.plane, getattr(surface, "metric", "loss"), spec.runs)

    def seed(self, spec: BesideSpec, surface, main, metric: str) -> None:
        """Start from a beside surface computed already (an exporter's scene), over the main surface ``main``."""
        self.key = (spec.key, id(main), metric)
        self.take(spec, surface)

    def clear(self) -> None:
        self.spec, self.surface, self.key = None, None, None
        self.projected.reset()


__all__ = ["BesideSpec", "BesideScene", "beside_spec", "beside_work", "network_label", "own_runs", "NETWORK",
           "RANDOM"]
