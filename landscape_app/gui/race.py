"""Editing a race (a Session) without Qt: replace one run, add a run, remove one, rename one.

Every run of a session shares the first run's data, model and grid. Editing the selected run's shared fields
carries them to the other runs (a network's layers too, while each run keeps its own BatchNorm and dropout); a
run that cannot follow (a loss that does not fit the new model) takes the edited run's loss instead, so an edit
is never refused because of another run.
"""
from __future__ import annotations

from ..core.errors import ConfigError, DataError
from ..core.experiment import Experiment
from ..core.modelspec import PER_RUN_OPTIONS, is_file_spec
from ..core.optimizers import OPTIMIZERS
from ..core.session import MAX_RUNS, Session, default_run_name, differing_model_option, lr_label

SHARED = ("data", "model", "grid")
# What "Add run" races next, in order: a different optimizer than the ones already racing.
ADD_ORDER = ("sgd", "momentum", "adam", "rmsprop", "adagrad", "nadam", "adamw", "adamax")


def _model_options(other: Experiment, edited: Experiment) -> dict:
    """``other``'s model options once it follows ``edited``'s model: the edited layers, its own BatchNorm and
    dropout (a run's own) where the model stays."""
    if other.model != edited.model or is_file_spec(edited.model):
        return dict(edited.model_options)
    own = {k: v for k, v in other.model_options.items() if k in PER_RUN_OPTIONS}
    return {**edited.model_options, **own}


def _follow(other: Experiment, edited: Experiment) -> Experiment:
    shared = {name: getattr(edited, name) for name in SHARED}
    shared["model_options"] = _model_options(other, edited)
    if other.model != edited.model:
        shared.update(start=edited.start, criterion=edited.criterion, criterion_options=edited.criterion_options)
    try:
        return other.replace(**shared)
    except (ConfigError, DataError):
        return other.replace(**shared, criterion=edited.criterion, criterion_options=edited.criterion_options)


def follow_name(name: str, old: Experiment, new: Experiment) -> str:
    """A run's name after its settings changed from ``old`` to ``new``.

    A default name (``SGD, lr 0.1``) is made anew; a name of one's own in the same format (``MSE, lr 0.1``)
    keeps its words and takes the new learning rate; any other name is the user's and stays as it is.
    """
    if name == default_run_name(old):
        return default_run_name(new)
    tail = f", {lr_label(old.lr)}"
    if new.lr != old.lr and name.endswith(tail):
        return name[:-len(tail)] + f", {lr_label(new.lr)}"
    return name


def replace_run(session: Session, row: int, exp: Experiment) -> Session:
    """The session with run ``row`` replaced by ``exp``; the other runs follow its data, model and grid.

    A run named after its settings is renamed to match its new settings (``follow_name``).
    """
    runs, names = list(session.runs), list(session.names)
    old = runs[row]
    runs[row] = exp
    names[row] = follow_name(names[row], old, exp)
    if any(getattr(old, name) != getattr(exp, name) for name in SHARED) or differing_model_option(old, exp):
        for i, run in enumerate(runs):
            if i != row:
                runs[i] = _follow(run, exp)
    return session.replace(runs=tuple(runs), names=tuple(names))


def _next_optimizer(session: Session) -> tuple[str, dict]:
    used = {(r.optimizer, bool(r.optimizer_options.get("momentum"))) for r in session.runs}
    for key in ADD_ORDER:
        name, options = ("sgd", {"momentum": 0.9}) if key == "momentum" else (key, {})
        if (name, bool(options.get("momentum"))) not in used:
            return name, options
    return "sgd", {}


def add_run(session: Session, row: int) -> Session:
    """A new run beside run ``row``: the same settings with the next optimizer not yet racing."""
    if len(session.runs) >= MAX_RUNS:
        raise ConfigError("runs", f"at most {MAX_RUNS} runs race at once")
    base = session.runs[row]
    name, options = _next_optimizer(session)
    lr = base.lr if name == "sgd" and not options else OPTIMIZERS[name].default_lr
    if name == "sgd" and options:
        lr = base.lr / 5 if base.optimizer == "sgd" else 0.02    # momentum multiplies the step by ~1/(1-0.9)
    new = base.replace(optimizer=name, optimizer_options=options, lr=lr, scheduler=None, scheduler_options={})
    return session.replace(runs=session.runs + (new,), names=session.names + (default_run_name(new),),
                           colors=session.colors + (None,))


def remove_run(session: Session, row: int) -> Session:
    if len(session.runs) <= 1:
        raise ConfigError("runs", "a session needs at least one run")
    keep = [i for i in range(len(session.runs)) if i != row]
    return session.replace(runs=tuple(session.runs[i] for i in keep), names=tuple(session.names[i] for i in keep),
                           colors=tuple(session.colors[i] for i in keep))


def rename_run(session: Session, row: int, name: str) -> Session:
    names = list(session.names)
    names[row] = name
    return session.replace(names=tuple(names))


def set_start(session: Session, start: tuple[float, ...]) -> Session:
    """Every run starts at ``start`` (a click on the contour sets the start point of the race)."""
    return session.replace(runs=tuple(r.replace(start=tuple(start)) for r in session.runs))


def mark_edited(session: Session, described: tuple[Experiment, ...] | None) -> Session:
    """``session`` marked edited unless its runs are still ``described``, the runs its title and description
    were written for (``None``: unknown, as for a session saved after an edit, which stays marked).
    A session with neither title nor description has nothing to mark."""
    edited = bool(session.title or session.description) and (described is None or session.runs != tuple(described))
    return session if session.edited == edited else session.replace(edited=edited)
