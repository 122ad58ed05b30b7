"""What a scene shows apart from how the runs train: a change here recomputes the surface, never retrains.

``SceneSettings`` is the value the scene controller keeps of the shown surface (grid, held value, plane, metric);
the functions say what a surface depends on and how an experiment's surface is set up (a held parameter that
follows the run, a classifier's accuracy).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.experiment import Experiment, Grid

METRICS = ("loss", "accuracy")
CLASSIFYING = ("bce", "bce-logits", "cross-entropy")

@dataclass(frozen=True)
class SceneSettings:
    """What the surface shows, apart from how the runs train: a change here recomputes, never retrains."""

    grid: Grid
    held: float | None          # the plane model's held value now (None: the grid's, else the start's)
    plane_seed: int | None = None   # a network's random plane (None: the (w, b) grid of a linear model)
    plane: object = None            # a network's plane: its PlaneSettings and what it was fitted to (a key)
    metric: str = "loss"            # what the surface's values are: "loss", or a classifier's "accuracy"

    @staticmethod
    def of(experiment: Experiment, held: float | None = None, plane_seed: int | None = None,
           plane=None, metric: str = "loss") -> "SceneSettings":
        module = experiment.is_module
        return SceneSettings(experiment.grid, held, plane_seed if module else None, plane if module else None,
                             shown_metric(experiment, metric))


def has_accuracy(experiment: Experiment | None) -> bool:
    """Whether ``experiment``'s surface can show accuracy: a network that classifies (the closed-form models'
    exact kernels compute losses only)."""
    return experiment is not None and experiment.is_module and experiment.criterion in CLASSIFYING


def shown_metric(experiment: Experiment | None, metric: str) -> str:
    """The metric a surface of ``experiment`` shows when ``metric`` is asked for (accuracy where it has one)."""
    return metric if metric == "loss" or has_accuracy(experiment) else "loss"


def surface_fields(experiment: Experiment) -> tuple:
    """What the surface of ``experiment`` depends on (its data, model, loss and grid; the start for a held
    parameter that is taken at the start)."""
    if experiment.is_module:
        # A network's plane goes through its start, which its model options and seed decide.
        return (experiment.data, experiment.model, repr(sorted(experiment.model_options.items())),
                experiment.criterion, tuple(sorted(experiment.criterion_options.items())), experiment.grid,
                experiment.seed)
    start = experiment.start if len(experiment.param_names) > 2 and experiment.grid.held is None else None
    return (experiment.data, experiment.model, experiment.criterion, tuple(sorted(experiment.criterion_options.items())),
            experiment.grid, start)


def training_differs(old: Experiment, new: Experiment) -> bool:
    """Whether ``new`` trains differently from ``old`` (anything but the scene's grid changed)."""
    return not old.same_training(new)


def follows_run(experiment: Experiment) -> bool:
    """Whether the plane model's slice follows the run's held parameter (the grid does not pin it)."""
    return not experiment.is_module and len(experiment.param_names) > 2 and experiment.grid.held is None


def held_name(experiment: Experiment) -> str | None:
    if experiment.is_module:
        return None
    return next((n for n in experiment.param_names if n not in experiment.grid.axes), None)
