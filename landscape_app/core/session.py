"""A session: one or more runs over the same data, model and grid (a race), with a title; saved as TOML.

File layout::

    title = "Momentum vs plain SGD"
    description = "One line shown under the title."
    edited = true         # optional: the runs were changed after the title and description were written
    [experiment]          # every field of an Experiment, with [experiment.data] and [experiment.grid]
    [[runs]]              # optional: each run changes some of the run fields, and may have a name and colour
    name = "momentum 0.9"
    optimizer_options = { momentum = 0.9 }
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import tomli_w

from .errors import ConfigError, DataError
from .files import write_text_atomic
from .experiment import Experiment
from .optimizers import OPTIMIZERS
from .tomlio import RUN_FIELDS, experiment_from_dict, experiment_to_dict, normalise_run_fields, run_fields_to_dict

MAX_RUNS = 8
SESSION_KEYS = ("title", "description", "edited", "experiment", "runs")
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


@dataclass(frozen=True)
class Session:
    """Runs that share a surface (same data, model and grid); ``names``/``colors`` per run.

    ``edited``: the runs were changed after ``title`` and ``description`` were written, so those describe the
    session it was made from; ``shown_title`` and ``shown_description`` say so wherever they are shown.
    """

    runs: tuple[Experiment, ...]
    names: tuple[str, ...] = ()
    colors: tuple[str | None, ...] = ()
    title: str = ""
    description: str = ""
    edited: bool = False

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
            for name in ("model", "model_options", "module", "data", "grid"):
                if getattr(run, name) != getattr(first, name):
                    raise ConfigError(f"runs[{i}].{name}", "every run of a session shares the first run's "
                                                           "data, model and grid")
        names = tuple(self.names) or tuple(default_run_name(r) for r in runs)
        colors = tuple(self.colors) or (None,) * len(runs)
        if len(names) != len(runs) or len(colors) != len(runs):
            raise ConfigError("runs", "names and colors must have one entry per run")
        # A blank name would be a blank legend entry (and would not survive a TOML round trip).
        names = tuple(name or default_run_name(run) for name, run in zip(names, runs))
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

    def replace(self, **changes) -> "Session":
        return dataclasses.replace(self, **changes)

    # -- TOML ---------------------------------------------------------------------------------------------
    def to_dict(self, base_dir: Path | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        if self.edited:
            out["edited"] = True
        out["experiment"] = experiment_to_dict(self.runs[0], base_dir)
        runs = []
        for run, name, color in zip(self.runs, self.names, self.colors):
            entry: dict[str, Any] = {"name": name}
            if color:
                entry["color"] = color
            entry.update(run_fields_to_dict(run))
            runs.append(entry)
        out["runs"] = runs
        return out

    @classmethod
    def from_dict(cls, table: Mapping[str, Any], base_dir: Path | None = None) -> "Session":
        unknown = set(table) - set(SESSION_KEYS)
        if unknown:
            raise ConfigError(sorted(unknown)[0], f"unknown key; a session has {', '.join(SESSION_KEYS)}")
        if "experiment" not in table:
            raise ConfigError("experiment", "missing: a session needs an [experiment] table")
        base = experiment_from_dict(table["experiment"], base_dir, where="experiment.")
        entries = table.get("runs", [])
        if not isinstance(entries, list):
            raise ConfigError("runs", "must be an array of tables ([[runs]])")
        runs, names, colors = [], [], []
        for i, entry in enumerate(entries, start=1):
            if not isinstance(entry, Mapping):
                raise ConfigError(f"runs[{i}]", "must be a table")
            entry = dict(entry)
            name, color = entry.pop("name", None), entry.pop("color", None)
            unknown = set(entry) - set(RUN_FIELDS)
            if unknown:
                raise ConfigError(f"runs[{i}].{sorted(unknown)[0]}",
                                  f"a run may set only {', '.join(('name', 'color') + RUN_FIELDS)}")
            try:
                run = base.replace(**normalise_run_fields(entry))
            except ConfigError as exc:
                raise ConfigError(f"runs[{i}].{exc.field}", str(exc).split(": ", 1)[1]) from None
            runs.append(run)
            names.append(str(name) if name else default_run_name(run))
            colors.append(str(color) if color else None)
        if not runs:
            runs, names, colors = [base], [default_run_name(base)], [None]
        edited = table.get("edited", False)
        if not isinstance(edited, bool):
            raise ConfigError("edited", f"must be true or false, not {edited!r}")
        return cls(tuple(runs), tuple(names), tuple(colors), str(table.get("title", "")),
                   str(table.get("description", "")), edited)

    def save(self, path) -> None:
        """Write atomically: a temporary file beside the target, renamed at the end."""
        path = Path(path)
        text = tomli_w.dumps(self.to_dict(path.resolve().parent))
        write_text_atomic(path, text)

    @classmethod
    def load(cls, path) -> "Session":
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(str(path), "no such file") from None
        except OSError as exc:
            raise ConfigError(str(path), f"cannot read ({exc.strerror})") from None
        try:
            table = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(str(path), f"not valid TOML ({exc})") from None
        try:
            return cls.from_dict(table, path.resolve().parent)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc.field}", str(exc).split(": ", 1)[1]) from None
        except DataError as exc:
            raise DataError(f"{path}: {exc}") from None
