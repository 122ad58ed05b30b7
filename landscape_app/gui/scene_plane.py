"""Which plane a network's surface is asked on, and what the plane is made of (no Qt; the scene holds one).

A plane is a scene setting (``PlaneSettings``). Planes fitted to finished runs (PCA, three points) are made of the
runs' paths (``fit``); a Hessian at the current point of the shown path (``choose`` with ``current``). ``inputs``
says what to build the plane of for an experiment: paths of another parameter space (an edit of the data or the
model since) do not count, and a plane still waiting for its runs is, meanwhile, the random plane of its seed.
``key`` names the plane asked for, so that the scene recomputes only when it changes. A race's runs may be of
different networks that share the parameters (BatchNorm without scale and shift): one plane serves them all, and
``buffers_for`` gives each network the BatchNorm statistics of its own first run.
"""
from __future__ import annotations

from ..core.experiment import Experiment
from ..core.modelspec import PER_RUN_OPTIONS
from ..core.plane_settings import PlaneSettings


def parameter_space(experiment: Experiment) -> tuple:
    """The parameter space a path lives in (its data, model, the race's model options and how many parameters):
    a plane fitted to paths of another space cannot be drawn on this one's. A run's own BatchNorm or dropout
    changes the network, not the space, unless it adds parameters (BatchNorm's scale and shift)."""
    shared = sorted((k, v) for k, v in experiment.model_options.items() if k not in PER_RUN_OPTIONS)
    return experiment.data, experiment.model, repr(shared), experiment.param_count


def network_key(experiment: Experiment) -> str:
    """Which network of a race ``experiment`` trains: its model options but dropout, which is off on surfaces."""
    return repr(sorted((k, v) for k, v in experiment.model_options.items() if k != "dropout"))


class PlaneChoice:
    def __init__(self):
        self.settings = PlaneSettings()
        self._paths: tuple = ()
        self._paths_space = None
        self._version = 0
        self._current = None
        self._current_key = None
        self._current_space = None
        self._buffers: dict = {}        # network_key -> the BatchNorm statistics of its first fitted run's end

    def choose(self, settings: PlaneSettings, experiment: Experiment | None, current=None,
               current_key=None) -> None:
        """Ask for the plane ``settings`` describe; ``current``: the shown path up to its shown step (named by
        ``current_key``) for a Hessian at the current point."""
        if settings.needs_finished_runs != self.settings.needs_finished_runs or (
                settings.needs_finished_runs and settings.main != self.settings.main):
            self._paths = ()            # fitted to another choice of runs: fitted anew
        self.settings = settings
        self._current, self._current_key = current, current_key
        self._current_space = parameter_space(experiment) if current is not None and experiment else None

    def fit(self, paths, experiment: Experiment | None, experiments=None) -> None:
        """The finished runs' paths (session order) a PCA or three-point plane is fitted to; ``experiments``: the
        run of each path (where the race's networks differ, each network's surface takes its own run's BatchNorm
        statistics)."""
        self._paths = tuple(paths)
        self._paths_space = parameter_space(experiment) if experiment is not None else None
        self._version += 1
        self._buffers = {}
        for path, exp in zip(self._paths, experiments or ()):
            if path is not None and exp is not None:
                self._buffers.setdefault(network_key(exp), getattr(path, "buffers", None))

    def buffers_for(self, experiment: Experiment):
        """The BatchNorm statistics ``experiment``'s network is evaluated with on a fitted plane (None: the
        plane's own, or the module's)."""
        if experiment is None or not self.fitted(experiment):
            return None
        return self._buffers.get(network_key(experiment))

    def fitted(self, experiment: Experiment | None) -> bool:
        """Whether the plane asked for is fitted to finished runs of ``experiment``'s space."""
        return (self.settings.needs_finished_runs and bool(self._paths) and experiment is not None
                and self._paths_space == parameter_space(experiment))

    def inputs(self, experiment: Experiment) -> tuple:
        """``(settings, paths, current)`` to build the plane of for ``experiment`` now."""
        settings, space = self.settings, parameter_space(experiment)
        paths = self._paths if self._paths_space == space else ()
        current = self._current if self._current_space == space else None
        if settings.needs_finished_runs and not paths:
            return PlaneSettings(seed=settings.seed, normalization=settings.normalization), (), None
        return settings, paths, current

    def key(self, experiment: Experiment):
        """What names the plane asked for ``experiment`` (None: a linear model's grid)."""
        if not experiment.is_module:
            return None
        settings, _, _ = self.inputs(experiment)
        settings = settings.main            # the slice beside is computed apart: it changes nothing here
        if settings.needs_finished_runs:
            return ("plane", settings, self._version)
        if settings.kind == "hessian" and settings.at == "current":
            return ("plane", settings, self._current_key)
        return ("plane", settings)
