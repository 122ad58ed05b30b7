"""The experiment: one frozen, validated config for a whole run (a plain value; ``tomlio`` reads and writes it)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from .data import LandscapeDataset, check_binary_labels, check_class_labels, make_dataset
from .errors import ConfigError
from .models import CRITERIA, MODELS, check_criterion_options, check_pairing, param_names
from .modelspec import GIVEN, MODULE_SPECS, check_model_options, is_file_spec
from .optimizers import check_optimizer, check_scheduler

MAX_RESOLUTION = 4001
MAX_EPOCHS = 1_000_000
MAX_ABS_PARAM = 1e6
MAX_THREADS = 256

# Where the surface is drawn unless the user says otherwise: the course's grid for linear models.
DEFAULT_RANGES = {"linear": ((-20.0, 20.0), (-20.0, 20.0)),
                  "logistic": ((-10.0, 10.0), (-10.0, 10.0)),
                  "plane": ((-5.0, 5.0), (-5.0, 5.0))}
DEFAULT_START = {"linear": (-15.0, -10.0), "logistic": (-8.0, 8.0), "plane": (-4.0, 4.0, 3.0)}
DEFAULT_AXES = {"linear": ("w", "b"), "logistic": ("w", "b"), "plane": ("w1", "w2")}


def _finite(field_name: str, value, what="a finite number") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(field_name, f"must be {what}, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class Grid:
    """The surface grid: ``axes`` names the parameters along x (columns) and y (rows).

    For the plane model the parameter not in ``axes`` is held at ``held`` (``None``: at the start point's
    value; while training, the views follow the run's current value).
    """

    x_range: tuple[float, float] | None = None
    y_range: tuple[float, float] | None = None
    resolution: tuple[int, int] | None = None  # (points along x, points along y); None: 201 x 201, a network 51 x 51
    axes: tuple[str, str] | None = None
    held: float | None = None


@dataclass(frozen=True)
class Experiment:
    """Everything that defines one run. Validated on construction; ``ConfigError`` names the bad field."""

    data: LandscapeDataset = field(default_factory=lambda: make_dataset("linear"))
    model: Any = "linear"              # a built-in name, "path/file.py:function", or an nn.Module (copied)
    criterion: str | None = None       # None: MSE for the three linear models, else what the data's labels want
    criterion_options: Mapping[str, Any] = field(default_factory=dict)
    optimizer: str = "sgd"
    lr: float = 0.1
    optimizer_options: Mapping[str, Any] = field(default_factory=dict)
    scheduler: str | None = None
    scheduler_options: Mapping[str, Any] = field(default_factory=dict)
    batch_size: int | None = None      # None: the full batch
    shuffle: bool = False
    epochs: int = 20
    seed: int = 0
    start: tuple[float, ...] | None = None   # weights..., bias; None: the model's default (a network's seeded init)
    grid: Grid = field(default_factory=Grid)
    model_options: Mapping[str, Any] = field(default_factory=dict)   # mlp: hidden, activation, ...
    threads: int | None = None         # torch's threads while training; None: chosen from the model's size
    module: Any = field(default=None, repr=False)   # the nn.Module of model "module" (set from ``model``)

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen dataclass)
        if not isinstance(self.data, LandscapeDataset):
            raise ConfigError("data", "must be a dataset from make_dataset, dataset_from_arrays or dataset_from_csv")
        if not (isinstance(self.model, str) and self.model in MODELS):
            self._check_network(set_)
            return
        if self.criterion is None:
            set_("criterion", "mse")
        check_pairing(self.model, self.criterion)
        if self.model_options:
            raise ConfigError("model_options", f"the {self.model!r} model has no options")
        set_("model_options", {})
        n_features, names = MODELS[self.model]
        if self.data.n_features != n_features:
            raise ConfigError("data", f"the {self.model!r} model needs {n_features} input feature(s) "
                                      f"but the data has {self.data.n_features}")
        self._check_training(set_)
        start = DEFAULT_START[self.model] if self.start is None else self.start
        if isinstance(start, (str, bytes)) or not hasattr(start, "__len__") or len(start) != len(names):
            raise ConfigError("start", f"must give {len(names)} values ({', '.join(names)}), not {start!r}")
        start = tuple(_finite(f"start.{p}", v) for p, v in zip(names, start))
        for p, v in zip(names, start):
            if abs(v) > MAX_ABS_PARAM:
                raise ConfigError(f"start.{p}", f"must be within ±{MAX_ABS_PARAM:g}, not {v:g}")
        set_("start", start)
        set_("grid", self._checked_grid(self.grid, names))
        self._check_grid_size()
        self._choose_threads(set_)

    def _check_network(self, set_) -> None:
        """A neural network: a built-in spec, a user's file or a given module, checked against data and criterion."""
        import torch
        from . import module_fit
        model = self.model
        if isinstance(model, torch.nn.Module):
            set_("module", module_fit.own(model))
            model = GIVEN
        elif model == GIVEN:
            if not isinstance(self.module, torch.nn.Module):
                raise ConfigError("model", "'module' needs the module itself: pass model=your_module")
            set_("module", module_fit.own(self.module))
        elif not isinstance(model, str) or not (model in MODULE_SPECS or is_file_spec(model)):
            names = ", ".join([*MODELS, *MODULE_SPECS])
            raise ConfigError("model", f"unknown model {model!r}; choose one of {names}, a file "
                                       "'path/to/file.py:function' returning a torch.nn.Module, or pass a module")
        else:
            set_("module", None)
        set_("model", model)
        if self.criterion is None:
            set_("criterion", module_fit.default_criterion(self.data, model))
        if self.criterion not in CRITERIA:
            raise ConfigError("criterion", f"unknown criterion {self.criterion!r}; choose one of "
                                           f"{', '.join(CRITERIA)}")
        if model != GIVEN:
            set_("model_options", check_model_options(model, dict(self.model_options)))
        elif self.model_options:
            raise ConfigError("model_options", "a module given as an object takes no options")
        self._check_training(set_)
        if self.start is not None:
            if isinstance(self.start, (str, bytes)) or not hasattr(self.start, "__len__"):
                raise ConfigError("start", f"must be the model's parameters as numbers, not {self.start!r}")
            set_("start", tuple(_finite("start", float(v)) for v in self.start))
        fitted = module_fit.fit(model, self.model_options, self.module, self.data, self.criterion, self.seed,
                                self.start, check=self._check_size)
        object.__setattr__(self, "_fitted", fitted)
        set_("grid", self._network_grid(self.grid))
        self._check_grid_size()
        self._choose_threads(set_)

    def _check_size(self, size) -> None:
        """Refuse a network whose run cannot fit in memory (``memory.model_bytes``), before it is built where its
        size can be measured without building it."""
        from . import memory
        need = memory.model_bytes(size, len(self.data), self.effective_batch_size, self.optimizer,
                                  self.optimizer_options)
        memory.check(need, f"the model ({memory.count(size.params)} parameters, {len(self.data):,} samples)",
                     lambda message: ConfigError("model", message), "choose fewer or narrower layers")

    def _check_grid_size(self) -> None:
        """Refuse a grid whose surface (the one the app draws for this experiment) cannot fit in memory."""
        from . import memory
        columns, rows = self.grid.resolution
        memory.check_surface(columns, rows, self._fitted.size if self.is_module else None, len(self.data),
                             lambda message: ConfigError("grid.resolution", message))

    def _choose_threads(self, set_) -> None:
        """None: the fastest thread count for the model's size (``surface_parallel.choose_threads``), remembered as
        chosen so that ``replace`` chooses again for the new settings. Saved sessions write the count, so a run
        replays at it: torch's results may depend on it (BatchNorm's batch statistics do), its speed does."""
        if self.threads is None:
            from .surface_parallel import choose_threads
            set_("threads", choose_threads(self.param_count, self.effective_batch_size))
            set_("_threads_chosen", True)

    def _network_grid(self, grid: Grid) -> Grid:
        """A network's default view: alpha and beta from -1 to 1 (its planes' units), 51 points each."""
        if not isinstance(grid, Grid):
            raise ConfigError("grid", "must be a Grid")
        if grid.axes is not None:
            raise ConfigError("grid.axes", "a network's surface is drawn over a plane (la.Plane), not two "
                                           "named parameters")
        x = (-1.0, 1.0) if grid.x_range is None else grid.x_range
        y = (-1.0, 1.0) if grid.y_range is None else grid.y_range
        res = (51, 51) if grid.resolution is None else grid.resolution
        checked = self._ranges_and_resolution(x, y, res)
        return Grid(*checked, None, None)

    def _check_training(self, set_) -> None:
        if CRITERIA[self.criterion][2]:
            check_binary_labels(self.data, self.criterion)
        if self.criterion == "cross-entropy":
            check_class_labels(self.data)
        set_("criterion_options", check_criterion_options(self.criterion, dict(self.criterion_options)))
        set_("lr", _finite("lr", self.lr))
        set_("optimizer_options", check_optimizer(self.optimizer, self.lr, dict(self.optimizer_options)))
        set_("scheduler_options", check_scheduler(self.scheduler, dict(self.scheduler_options)))
        n = len(self.data)
        if self.batch_size is not None:
            if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or not 1 <= self.batch_size:
                raise ConfigError("batch_size", f"must be a whole number from 1 to {n} or none (full batch), "
                                                f"not {self.batch_size!r}")
            if self.batch_size >= n:
                set_("batch_size", None)   # a batch as large as the data is the full batch
        if not isinstance(self.shuffle, bool):
            raise ConfigError("shuffle", f"must be true or false, not {self.shuffle!r}")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or not 1 <= self.epochs <= MAX_EPOCHS:
            raise ConfigError("epochs", f"must be a whole number from 1 to {MAX_EPOCHS:,}, not {self.epochs!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise ConfigError("seed", f"must be a whole number >= 0, not {self.seed!r}")
        if self.threads is not None and (isinstance(self.threads, bool) or not isinstance(self.threads, int)
                                         or not 1 <= self.threads <= MAX_THREADS):
            raise ConfigError("threads", f"must be a whole number from 1 to {MAX_THREADS} or none (chosen from the "
                                         f"model's size), not {self.threads!r}")

    def _checked_grid(self, grid: Grid, names: tuple[str, ...]) -> Grid:
        if not isinstance(grid, Grid):
            raise ConfigError("grid", "must be a Grid")
        axes = DEFAULT_AXES[self.model] if grid.axes is None else tuple(grid.axes)
        if len(axes) != 2 or axes[0] == axes[1] or any(a not in names for a in axes):
            raise ConfigError("grid.axes", f"must be two different parameters of {', '.join(names)}, not {axes!r}")
        x, y = (DEFAULT_RANGES[self.model][i] if v is None else v for i, v in enumerate((grid.x_range, grid.y_range)))
        x_range, y_range, res = self._ranges_and_resolution(x, y, (201, 201) if grid.resolution is None
                                                            else grid.resolution)
        held = grid.held
        if held is not None:
            held = _finite("grid.held", held)
        return Grid(x_range, y_range, res, axes, held)

    @staticmethod
    def _ranges_and_resolution(x, y, res):
        ranges = []
        for key, value in (("x_range", x), ("y_range", y)):
            if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
                raise ConfigError(f"grid.{key}", f"must be two numbers (low, high), not {value!r}")
            lo, hi = (_finite(f"grid.{key}", v) for v in value)
            if not lo < hi:
                raise ConfigError(f"grid.{key}", f"is empty: low ({lo:g}) must be less than high ({hi:g})")
            if max(abs(lo), abs(hi)) > MAX_ABS_PARAM:
                raise ConfigError(f"grid.{key}", f"must lie within ±{MAX_ABS_PARAM:g}")
            ranges.append((lo, hi))
        if isinstance(res, int) and not isinstance(res, bool):
            res = (res, res)
        if (isinstance(res, (str, bytes)) or not hasattr(res, "__len__") or len(res) != 2
                or any(isinstance(r, bool) or not isinstance(r, int) or not 2 <= r <= MAX_RESOLUTION for r in res)):
            raise ConfigError("grid.resolution", f"must be two whole numbers from 2 to {MAX_RESOLUTION}, not {res!r}")
        return ranges[0], ranges[1], tuple(res)

    # -- conveniences -------------------------------------------------------------------------------------
    @property
    def is_module(self) -> bool:
        """A neural network (a built-in spec, a user's file or a given module), not one of the closed-form models."""
        return self.model not in MODELS

    @property
    def param_names(self) -> tuple[str, ...]:
        """A name per entry of the flat parameter vector (``w``, ``b``; a network's ``0.weight[3,1]``...)."""
        if not self.is_module:
            return param_names(self.model)
        names = self.__dict__.get("_names")
        if names is None:
            names = self._fitted.names()
            object.__setattr__(self, "_names", names)
        return names

    @property
    def param_count(self) -> int:
        return len(self.start) if not self.is_module else self._fitted.param_count

    def start_vector(self):
        """The start as a float64 numpy vector (k,) in ``module.parameters()`` order."""
        import numpy as np
        if not self.is_module:
            return np.array(self.start, dtype=np.float64)
        return self._fitted.start.numpy().copy()

    def build_module(self):
        """A fresh float32 module with the start parameters (in training mode, as the loop builds it)."""
        if not self.is_module:
            from .models import build_model
            return build_model(self.model, self.criterion, self.start)
        import copy
        import torch
        module = copy.deepcopy(self._fitted.template).train()
        torch.nn.utils.vector_to_parameters(self._fitted.start.to(torch.float32), module.parameters())
        return module

    def targets(self):
        """The labels as the criterion sees them: class indices (n,) for cross-entropy, else (n, 1) floats."""
        import torch
        if self.criterion == "cross-entropy":
            return self.data.y.reshape(-1).to(torch.int64)
        return self.data.y

    @property
    def source_file(self):
        """The user's model file (or None)."""
        return self._fitted.source if self.is_module else None

    @property
    def effective_batch_size(self) -> int:
        return self.batch_size or len(self.data)

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.data) / self.effective_batch_size)

    def training_settings(self) -> dict[str, Any]:
        """Everything that decides the path: all fields but the grid (a view of the surface, never retrained for)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "grid"}

    def same_training(self, other: "Experiment") -> bool:
        """Whether ``other`` trains exactly like this one (their grids may differ)."""
        return isinstance(other, Experiment) and self.training_settings() == other.training_settings()

    def replace(self, **changes) -> "Experiment":
        """A copy with ``changes``, validated again.

        Options belong to their optimizer, scheduler or criterion: changing one of those without giving its
        options starts from the new one's defaults (SGD's momentum means nothing to Adam). A thread count that was
        chosen (not given) is chosen again for the new settings.
        """
        for name in ("optimizer", "scheduler", "criterion"):
            if name in changes and changes[name] != getattr(self, name):
                changes.setdefault(f"{name}_options", {})
        if self.__dict__.get("_threads_chosen"):
            changes.setdefault("threads", None)     # chosen for the old settings: choose for the new ones
        return dataclasses.replace(self, **changes)

    def grid_axes_values(self):
        """The grid's x and y axes as float64 arrays."""
        import numpy as np
        g = self.grid
        return (np.linspace(*g.x_range, g.resolution[0]), np.linspace(*g.y_range, g.resolution[1]))
