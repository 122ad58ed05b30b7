"""Experiments and sessions to and from TOML: the file alone reproduces the run.

All TOML reading and writing lives here, above the plain values it reads and writes (``Experiment``,
``Session``). The file layout::

    title = "Momentum vs plain SGD"
    description = "One line shown under the title."
    edited = true         # optional: the runs were changed after the title and description were written
    [experiment]          # every field of an Experiment, with [experiment.data] and [experiment.grid]
    [[runs]]              # optional: each run changes some of the run fields, and may have a name and colour
    name = "momentum 0.9"
    optimizer_options = { momentum = 0.9 }
    [plane]               # optional, networks only: kind = "random" (seed, normalization), "pca",
    kind = "random"       # "hessian" (at = "start" | "current") or "through" (points = [1, 2]: runs' ends);
    seed = 0              # beside = "random" (another kind's plane): the random slice (seed, normalization) beside
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import tomli_w
from typing_extensions import deprecated

from .codefiles import is_file_spec, named_code, require_trust
from .data import DataSource, LandscapeDataset, dataset_from_arrays, dataset_from_csv, make_dataset
from .errors import ConfigError, DataError
from .experiment import Experiment, Grid
from .file_limits import MAX_SESSION_BYTES, read_bytes
from .files import write_text_atomic
from .plane_settings import PlaneSettings
from .session import Session, default_run_name, own_model_options

# Fields a [[runs]] entry may change; the rest (data, model, grid) are shared so the runs share a surface.
# A [[runs]] entry may also set ``model_options``: the ones a run may have of its own (BatchNorm, dropout), laid
# over the [experiment]'s.
RUN_FIELDS = ("criterion", "criterion_options", "optimizer", "lr", "optimizer_options", "scheduler",
              "scheduler_options", "batch_size", "shuffle", "epochs", "seed", "start", "threads")
EXPERIMENT_FIELDS = ("model", "model_options") + RUN_FIELDS + ("data", "grid")
GRID_FIELDS = ("x_range", "y_range", "resolution", "axes", "held")
SESSION_KEYS = ("title", "description", "edited", "experiment", "runs", "plane")


def data_to_dict(data: LandscapeDataset, base_dir: Path | None) -> dict[str, Any]:
    src = data.source
    if src.kind == "generator":
        return {"kind": "generator", "name": src.name, **dict(src.params)}
    if src.kind == "csv":
        path = Path(src.path)
        if base_dir is not None:
            try:
                # A relative source path means relative to the working directory, not to the file.
                path = Path(os.path.relpath(os.path.abspath(path), base_dir))
            except ValueError:  # another drive on Windows
                pass
        return {"kind": "csv", "path": path.as_posix()}
    x, y = data.numpy()
    xs = x[:, 0].tolist() if x.shape[1] == 1 else x.tolist()
    return {"kind": "arrays", "x": xs, "y": y.tolist()}


def data_from_dict(table: Any, base_dir: Path | None, where: str) -> LandscapeDataset:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}data", "must be a table with a 'kind'")
    table = dict(table)
    kind = table.pop("kind", "generator")
    if kind == "generator":
        name = table.pop("name", "linear")
        return make_dataset(name, **table)
    if kind == "csv":
        if set(table) != {"path"}:
            raise ConfigError(f"{where}data", "a csv dataset takes only 'path'")
        path = Path(str(table["path"])).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        data = dataset_from_csv(path)
        # The file holds the path relative to itself (data_to_dict), so the folder can move as a whole.
        return LandscapeDataset(data.x, data.y, DataSource("csv", path=os.path.abspath(path)))
    if kind == "arrays":
        if set(table) != {"x", "y"}:
            raise ConfigError(f"{where}data", "an arrays dataset takes 'x' and 'y'")
        return dataset_from_arrays(table["x"], table["y"])
    raise ConfigError(f"{where}data.kind", f"must be generator, csv or arrays, not {kind!r}")


def options_to_toml(options: Mapping[str, Any]) -> dict[str, Any]:
    """Optimizer options as TOML holds them: torch's names and shapes, a pair as an array (``betas = [0.9,
    0.999]``), and torch's None (Adafactor's first eps) as "none", since TOML has no null."""
    def value(v):
        if isinstance(v, tuple):
            return [value(x) for x in v]
        return "none" if v is None else v
    return {k: value(v) for k, v in options.items()}


def run_fields_to_dict(exp: Experiment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "criterion": exp.criterion, "criterion_options": dict(exp.criterion_options),
        "optimizer": exp.optimizer, "lr": exp.lr, "optimizer_options": options_to_toml(exp.optimizer_options),
        "scheduler": exp.scheduler or "none", "scheduler_options": dict(exp.scheduler_options),
        "batch_size": exp.batch_size if exp.batch_size is not None else "full",
        "shuffle": exp.shuffle, "epochs": exp.epochs, "seed": exp.seed,
        "threads": exp.threads,       # chosen from the model's size if none was given: the run replays at it
    }
    if exp.start is not None:     # a network's start is its seeded initialisation unless given
        out["start"] = list(exp.start)
    return out


def _model_to_toml(exp, base_dir: Path | None) -> str:
    from .modelspec import GIVEN
    if exp.model == GIVEN:
        raise ConfigError("model", "a module given as an object cannot be saved; write a function that returns "
                                   "it in a file and use model='path/to/file.py:function'")
    if is_file_spec(exp.model) and base_dir is not None:
        path, _, func = exp.model.rpartition(":")
        try:
            rel = os.path.relpath(os.path.abspath(path), base_dir)
        except ValueError:  # another drive on Windows
            rel = path
        return f"{Path(rel).as_posix()}:{func}"
    return exp.model


def experiment_to_dict(exp: Experiment, base_dir: Path | None = None) -> dict[str, Any]:
    """The experiment as a TOML table; a CSV data path (and a model file) is written relative to ``base_dir``."""
    g = exp.grid
    out = {"model": _model_to_toml(exp, base_dir), **run_fields_to_dict(exp)}
    if exp.model_options:
        out["model_options"] = {k: list(v) if isinstance(v, tuple) else v for k, v in exp.model_options.items()}
    out["data"] = data_to_dict(exp.data, base_dir)
    out["grid"] = {"x_range": list(g.x_range), "y_range": list(g.y_range), "resolution": list(g.resolution)}
    if g.axes is not None:
        out["grid"].update(axes=list(g.axes), held="start" if g.held is None else g.held)
    return out


def normalise_run_fields(table: Mapping[str, Any]) -> dict[str, Any]:
    """TOML spellings to Experiment values: 'full' batch, 'none' scheduler, lists to tuples."""
    kw = dict(table)
    if kw.get("batch_size") == "full":
        kw["batch_size"] = None
    if kw.get("scheduler") in ("none", ""):
        kw["scheduler"] = None
    if kw.get("threads") == "auto":
        kw["threads"] = None
    if isinstance(kw.get("start"), list):
        kw["start"] = tuple(kw["start"])
    return kw


def experiment_from_dict(table: Mapping[str, Any], base_dir: Path | None = None, where: str = "", *,
                         trust: bool = False, source=None) -> Experiment:
    """The inverse of ``experiment_to_dict``; ``ConfigError`` names the field at fault, after ``where``.

    A table that names code (a model file) raises ``UntrustedCodeError`` unless ``trust``, before that code runs
    (``codefiles``); ``source``: the file the table came from, named in that refusal.
    """
    if not isinstance(table, Mapping):
        raise ConfigError(where.rstrip(".") or "experiment", "must be a table")
    require_trust(named_code(table, base_dir), source, trust)
    unknown = set(table) - set(EXPERIMENT_FIELDS)
    if unknown:
        raise ConfigError(f"{where}{sorted(unknown)[0]}",
                          f"unknown field; the fields are {', '.join(EXPERIMENT_FIELDS)}")
    kw = normalise_run_fields({k: v for k, v in table.items() if k not in ("data", "grid")})
    model = kw.get("model")
    if is_file_spec(model) and base_dir is not None:
        path, _, func = model.rpartition(":")
        path = Path(path).expanduser()
        # A model file's path is relative to the TOML file, so the folder can move as a whole.
        kw["model"] = f"{os.path.abspath(path if path.is_absolute() else base_dir / path)}:{func}"
    if "model_options" in kw and not isinstance(kw["model_options"], Mapping):
        raise ConfigError(f"{where}model_options", "must be a table")
    if "data" in table:
        kw["data"] = data_from_dict(table["data"], base_dir, where)
    if "grid" in table:
        grid = table["grid"]
        if not isinstance(grid, Mapping):
            raise ConfigError(f"{where}grid", "must be a table")
        unknown = set(grid) - set(GRID_FIELDS)
        if unknown:
            raise ConfigError(f"{where}grid.{sorted(unknown)[0]}",
                              f"unknown field; the fields are {', '.join(GRID_FIELDS)}")
        gkw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in grid.items()}
        if gkw.get("held") == "start":
            gkw["held"] = None
        kw["grid"] = Grid(**gkw)
    try:
        return Experiment(**kw)
    except ConfigError as exc:
        if where:
            raise ConfigError(f"{where}{exc.field}", str(exc).split(": ", 1)[1]) from None
        raise


def session_to_dict(session: Session, base_dir: Path | None = None) -> dict[str, Any]:
    """The session as a TOML table: the first run in full under [experiment], every run's own fields in [[runs]]."""
    out: dict[str, Any] = {}
    if session.title:
        out["title"] = session.title
    if session.description:
        out["description"] = session.description
    if session.edited:
        out["edited"] = True
    out["experiment"] = experiment_to_dict(session.runs[0], base_dir)
    runs = []
    for run, name, color in zip(session.runs, session.names, session.colors):
        entry: dict[str, Any] = {"name": name}
        if color:
            entry["color"] = color
        entry.update(run_fields_to_dict(run))
        own = own_model_options(session.runs[0], run)
        if own:
            entry["model_options"] = {k: list(v) if isinstance(v, tuple) else v for k, v in own.items()}
        runs.append(entry)
    out["runs"] = runs
    if session.plane is not None:
        out["plane"] = session.plane.to_dict()
    return out


def session_from_dict(table: Mapping[str, Any], base_dir: Path | None = None, *, trust: bool = False,
                      source=None) -> Session:
    """The inverse of ``session_to_dict``; ``ConfigError`` names the key at fault (``runs[2].lr``).

    A session that names code (its model file) raises ``UntrustedCodeError`` unless ``trust``, before that code
    runs; ``source``: the file it came from, named in that refusal.
    """
    if not isinstance(table, Mapping):
        raise ConfigError("session", f"must be a table, not {type(table).__name__}")
    unknown = set(table) - set(SESSION_KEYS)
    if unknown:
        raise ConfigError(sorted(unknown)[0], f"unknown key; a session has {', '.join(SESSION_KEYS)}")
    if "experiment" not in table:
        raise ConfigError("experiment", "missing: a session needs an [experiment] table")
    base = experiment_from_dict(table["experiment"], base_dir, where="experiment.", trust=trust, source=source)
    entries = table.get("runs", [])
    if not isinstance(entries, list):
        raise ConfigError("runs", "must be an array of tables ([[runs]])")
    runs, names, colors = [], [], []
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"runs[{i}]", "must be a table")
        entry = dict(entry)
        name, color = entry.pop("name", None), entry.pop("color", None)
        unknown = set(entry) - set(RUN_FIELDS) - {"model_options"}
        if unknown:
            raise ConfigError(f"runs[{i}].{sorted(unknown)[0]}",
                              f"a run may set only {', '.join(('name', 'color', 'model_options') + RUN_FIELDS)}")
        if "model_options" in entry:
            if not isinstance(entry["model_options"], Mapping):
                raise ConfigError(f"runs[{i}].model_options", "must be a table")
            entry["model_options"] = {**base.model_options, **entry["model_options"]}
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
    plane = None
    if "plane" in table:
        if not base.is_module:
            raise ConfigError("plane", "only a network's surface lies on a chosen plane; a linear model's spans "
                                       "its parameters ([experiment.grid] axes)")
        plane = PlaneSettings.from_dict(table["plane"])
        if plane.kind == "through" and max(plane.points) > len(runs):
            raise ConfigError("plane.points", f"names run {max(plane.points)}; the session has {len(runs)} run(s)")
    return Session(tuple(runs), tuple(names), tuple(colors), str(table.get("title", "")),
                   str(table.get("description", "")), edited, plane)


def save(value: Session | Experiment, path) -> None:
    """Write a session, or one experiment (a session of one run), as TOML; the file alone reproduces the runs.

    Atomic: a temporary file beside the target, renamed at the end. CSV data paths are written relative to
    the file, so a folder holding both can move as a whole.
    """
    if isinstance(value, Experiment):
        value = Session(runs=(value,))
    elif not isinstance(value, Session):
        raise ConfigError("value", f"must be an Experiment or a Session, not {type(value).__name__}")
    path = Path(path)
    write_text_atomic(path, tomli_w.dumps(session_to_dict(value, path.resolve().parent)))


def load_session(path, trust: bool = False) -> Session:
    """The session in a TOML file; ``ConfigError``/``DataError`` name the file and what is wrong in it.

    A session that names code (``model = "lesson.py:make"``) runs it when loaded: unless ``trust``, such a file
    raises ``UntrustedCodeError`` (naming the code file) before any of it runs.
    """
    path = Path(path)
    try:
        # a regular file, its size checked before it is read (not /dev/zero, not a 2 GB file)
        raw = read_bytes(path, MAX_SESSION_BYTES, "session file")
    except DataError as exc:
        raise ConfigError(str(path), str(exc).removeprefix(f"{path}: ")) from None
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), f"not valid TOML ({exc})") from None
    try:
        return session_from_dict(table, path.resolve().parent, trust=trust, source=path)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.field}", str(exc).split(": ", 1)[1]) from None
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None


def load_experiment(path, trust: bool = False) -> Experiment:
    """The experiment in a TOML file (the first run of a session with several); ``trust`` as ``load_session``."""
    return load_session(path, trust).runs[0]


# -- the first release's spellings, deprecated (CHANGELOG.md) -------------------------------------------------------
# Experiment.save/load/to_dict/from_dict and the same on Session were methods until TOML moved here. Names users were
# given keep working: each calls its new spelling with the arguments it is given (new keywords pass through) and
# warns, naming it, at the caller's line. Experiment and Session may not import tomlio (the "tomlio" contract), so
# tomlio attaches them; landscape_app.core loads tomlio with either class, so ``la.Experiment.load`` is always there.

@deprecated("Experiment.save is deprecated; use la.save(experiment, path)")
def _experiment_save(self, path, *args, **kwargs) -> None:
    """Write the experiment as TOML (deprecated: ``la.save(experiment, path)``)."""
    return save(self, path, *args, **kwargs)


@deprecated("Experiment.load is deprecated; use la.load_experiment(path)")
def _experiment_load(cls, path, *args, **kwargs) -> Experiment:
    """The experiment in a TOML file (deprecated: ``la.load_experiment(path)``)."""
    return load_experiment(path, *args, **kwargs)


@deprecated("Experiment.to_dict is deprecated; use landscape_app.core.tomlio.experiment_to_dict(experiment, "
            "base_dir)")
def _experiment_to_dict(self, base_dir: Path | None = None, *args, **kwargs) -> dict[str, Any]:
    """The experiment as a TOML table (deprecated: ``tomlio.experiment_to_dict``)."""
    return experiment_to_dict(self, base_dir, *args, **kwargs)


@deprecated("Experiment.from_dict is deprecated; use landscape_app.core.tomlio.experiment_from_dict(table, "
            "base_dir, where)")
def _experiment_from_dict(cls, table: Mapping[str, Any], base_dir: Path | None = None, where: str = "", *args,
                          **kwargs) -> Experiment:
    """The experiment of a TOML table (deprecated: ``tomlio.experiment_from_dict``)."""
    return experiment_from_dict(table, base_dir, where, *args, **kwargs)


@deprecated("Session.save is deprecated; use la.save(session, path)")
def _session_save(self, path, *args, **kwargs) -> None:
    """Write the session as TOML (deprecated: ``la.save(session, path)``)."""
    return save(self, path, *args, **kwargs)


@deprecated("Session.load is deprecated; use la.load_session(path)")
def _session_load(cls, path, *args, **kwargs) -> Session:
    """The session in a TOML file (deprecated: ``la.load_session(path)``)."""
    return load_session(path, *args, **kwargs)


@deprecated("Session.to_dict is deprecated; use landscape_app.core.tomlio.session_to_dict(session, base_dir)")
def _session_to_dict(self, base_dir: Path | None = None, *args, **kwargs) -> dict[str, Any]:
    """The session as a TOML table (deprecated: ``tomlio.session_to_dict``)."""
    return session_to_dict(self, base_dir, *args, **kwargs)


@deprecated("Session.from_dict is deprecated; use landscape_app.core.tomlio.session_from_dict(table, base_dir)")
def _session_from_dict(cls, table: Mapping[str, Any], base_dir: Path | None = None, *args, **kwargs) -> Session:
    """The session of a TOML table (deprecated: ``tomlio.session_from_dict``)."""
    return session_from_dict(table, base_dir, *args, **kwargs)


def _attach(cls, name: str, method, *, of_class: bool = False) -> None:
    method.__name__, method.__qualname__ = name, f"{cls.__name__}.{name}"
    setattr(cls, name, classmethod(method) if of_class else method)


for _cls, _methods in ((Experiment, (_experiment_save, _experiment_load, _experiment_to_dict,
                                     _experiment_from_dict)),
                       (Session, (_session_save, _session_load, _session_to_dict, _session_from_dict))):
    for _method, _name in zip(_methods, ("save", "load", "to_dict", "from_dict")):
        _attach(_cls, _name, _method, of_class=_name in ("load", "from_dict"))
del _cls, _methods, _method, _name
