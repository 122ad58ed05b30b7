"""A session: one or more runs over the same data, model and grid (a race), with a title.

A plain value: ``tomlio`` reads and writes it as TOML (``load_session``, ``save``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .errors import ConfigError
from .experiment import Experiment
from .modelspec import PER_RUN_OPTIONS, is_file_spec
from .optimizers import OPTIMIZERS
from .plane_settings import PlaneSettings

MAX_RUNS = 8
EDITED_MARK = "(edited)"
ORIGINALLY = "Originally: "


def lr_label(lr: float) -> str:
    """The learning rate as run names give it: ``lr 0.1``."""
    return f"lr {lr:g}"


def default_run_name(exp: Experiment) -> str:
    """A run's name from its settings, in the one format run names have: ``SGD, lr 0.1``,
    ``SGD momentum 0.9, lr 0.02`` (what runs, then its learning rate after a comma)."""
    label = OPTIMIZERS[exp.optimizer].label
    extras = [f"{k} {v:g}" for k, v in exp.optimizer_options.items()
              if isinstance(v, float) and v and k in ("momentum",)]
    return f"{' '.join([label, *extras])}, {lr_label(exp.lr)}"


def differing_model_option(first: Experiment, run: Experiment) -> str | None:
    """The first model option in which ``run`` differs from ``first`` that a run may not set on its own (a
    built-in model's BatchNorm and dropout are a run's own; its layers are the race's), else None."""
    mine, theirs = dict(run.model_options), dict(first.model_options)
    own = () if is_file_spec(first.model) else PER_RUN_OPTIONS
    for key in sorted(set(mine) | set(theirs)):
        if key not in own and mine.get(key) != theirs.get(key):
            return key
    return None


def own_model_options(first: Experiment, run: Experiment) -> dict:
    """The model options ``run`` sets apart from ``first`` (what its [[runs]] entry writes)."""
    theirs = dict(first.model_options)
    return {k: v for k, v in dict(run.model_options).items() if theirs.get(k) != v}


# A network's default plane: the plane of its runs' own paths. A random plane through the start holds almost none
# of a trajectory (its directions are nearly orthogonal to any path, Li et al. 2018), so on it the paths sit on the
# start while the loss falls; on the paths' PCA plane they travel, and the surface under each end is its loss.
DEFAULT_NETWORK_PLANE = PlaneSettings(kind="pca")


@dataclass(frozen=True)
class Session:
    """Runs that share a surface (same data, model and grid); ``names``/``colors`` per run.

    A network's runs may differ in BatchNorm and dropout (``PER_RUN_OPTIONS``); the surface shown is the
    selected run's.

    ``edited``: the runs were changed after ``title`` and ``description`` were written, so those describe the
    session it was made from; ``shown_title`` and ``shown_description`` say so wherever they are shown.
    ``plane``: which plane a network's surface lies on (None: ``DEFAULT_NETWORK_PLANE``, the PCA plane of the
    runs' own paths); a linear model's surface spans its parameters and has none.
    """

    runs: tuple[Experiment, ...]
    names: tuple[str, ...] = ()
    colors: tuple[str | None, ...] = ()
    title: str = ""
    description: str = ""
    edited: bool = False
    plane: PlaneSettings | None = None

    def __post_init__(self):
        runs = tuple(self.runs)
        if not runs:
            raise ConfigError("runs", "a session needs at least one run")
        if len(runs) > MAX_RUNS:
            raise ConfigError("runs", f"at most {MAX_RUNS} runs race at once, not {len(runs)}")
        if not isinstance(self.edited, bool):
            raise ConfigError("edited", f"must be true or false, not {self.edited!r}")
        first = runs[0]
        for i, run in enumerate(runs[1:], start=2):
            for name in ("model", "module", "data", "grid"):
                if getattr(run, name) != getattr(first, name):
                    raise ConfigError(f"runs[{i}].{name}", "every run of a session shares the first run's "
                                                           "data, model and grid")
            key = differing_model_option(first, run)
            if key is not None:
                own = ", ".join(PER_RUN_OPTIONS)
                raise ConfigError(f"runs[{i}].model_options.{key}",
                                  f"every run of a session shares the first run's model; a run may set only "
                                  f"its own {own}")
        names = tuple(self.names) or tuple(default_run_name(r) for r in runs)
        colors = tuple(self.colors) or (None,) * len(runs)
        if len(names) != len(runs) or len(colors) != len(runs):
            raise ConfigError("runs", "names and colors must have one entry per run")
        # A blank name would be a blank legend entry (and would not survive a TOML round trip).
        names = tuple(name or default_run_name(run) for name, run in zip(names, runs))
        if self.plane is not None and not isinstance(self.plane, PlaneSettings):
            raise ConfigError("plane", f"must be PlaneSettings, not {type(self.plane).__name__}")
        if self.plane is not None and not first.is_module:
            # The model became a linear one (an edit in the panel): its surface spans its parameters, no plane.
            object.__setattr__(self, "plane", None)
        object.__setattr__(self, "runs", runs)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "colors", colors)

    @property
    def experiment(self) -> Experiment:
        return self.runs[0]

    @property
    def shown_title(self) -> str:
        """The title as shown: marked ``(edited)`` once the runs no longer are the ones it was written for."""
        return f"{self.title} {EDITED_MARK}" if self.edited and self.title else self.title

    @property
    def shown_description(self) -> str:
        """The description as shown: once the runs were edited, it is said to describe the original."""
        return ORIGINALLY + self.description if self.edited and self.description else self.description

    @property
    def plane_settings(self) -> PlaneSettings:
        """The plane's settings in force (``DEFAULT_NETWORK_PLANE`` where none was chosen)."""
        if self.plane is not None:
            return self.plane
        # A linear model's surface spans its parameters: the setting is unused, and none fitted to the paths.
        return DEFAULT_NETWORK_PLANE if self.experiment.is_module else PlaneSettings()

    def replace(self, **changes) -> "Session":
        return dataclasses.replace(self, **changes)
