"""How an experiment gets its module: built from a spec, a user's file or a given object, then checked against
the data and the criterion (input size, outputs per sample, labels, a finite loss at the start).
"""
from __future__ import annotations

import copy
import math
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from torch import nn

from .errors import ConfigError
from .memory import Profile, profile
from .models import build_criterion
from .modelspec import (GIVEN, MODULE_SPECS, UserCodeError, build_builtin, call_factory, coordinate_names,
                        describe_failure, is_file_spec, load_factory, user_frame, where_defined)
from .usercode import ESCAPES, watching_signals

# Criteria that compare one output per sample with the label.
_ONE_OUTPUT = ("mse", "l1", "huber", "bce", "bce-logits")

# Modules this package deep-copied itself: an Experiment's ``replace`` passes them on without copying again.
_OWNED: "weakref.WeakSet[nn.Module]" = weakref.WeakSet()


@dataclass(frozen=True, eq=False)
class FittedModule:
    """A checked module: ``template`` (float32, at the start) and what was learnt about it."""

    template: nn.Module
    start: torch.Tensor              # float64 flat start (k,)
    n_out: int
    source: Path | None              # the user's file, for error messages
    factory: Any = None
    size: Profile | None = None      # parameters and activations per sample (memory estimates)

    @property
    def param_count(self) -> int:
        return int(self.start.numel())

    def names(self) -> tuple[str, ...]:
        return coordinate_names(self.template)

    def where(self) -> str:
        return where_defined(self.template, self.factory, self.source)


def own(module: nn.Module) -> nn.Module:
    """A private deep copy of a user's module (kept as the experiment's own, never changed afterwards)."""
    if module in _OWNED:
        return module
    mine = copy.deepcopy(module)
    _OWNED.add(mine)
    return mine


def class_count(data) -> int | None:
    """How many classes the labels name (whole numbers 0..C-1), or None when they are not class labels."""
    known = getattr(data, "n_classes", None)
    if known:
        return int(known)
    y = data.y.reshape(-1)
    if y.numel() == 0 or not bool(torch.all(y == torch.round(y))) or float(y.min()) < 0:
        return None
    return int(y.max()) + 1


def default_criterion(data, model: str = "mlp") -> str:
    """The natural loss for a network on this data: cross-entropy for 3+ classes (and for the classifiers
    ``softmax`` and ``cnn``), BCE with logits for 0/1 labels, MSE otherwise."""
    classes = class_count(data)
    if model in ("softmax", "cnn") and classes is not None:
        return "cross-entropy"
    if classes is not None and classes > 2:
        return "cross-entropy"
    if classes is not None and classes <= 2:
        return "bce-logits"
    return "mse"


def output_count(criterion: str, data) -> int:
    if criterion == "cross-entropy":
        classes = class_count(data)
        if classes is None:
            raise ConfigError("criterion", "'cross-entropy' needs class labels (whole numbers 0, 1, 2, ...) "
                                           "but the data's labels are not")
        return max(classes, 2)
    return 1


SizeCheck = Callable[[Profile], None]


def build(model: str, options: Mapping[str, Any], given: nn.Module | None, data, criterion: str,
          seed: int, check: SizeCheck | None = None) -> tuple[nn.Module, Any, Path | None]:
    """The module at its initial parameters (seeded), with its factory and file for a user's file.

    ``check(size)`` refuses a module too large before any of its memory is taken: its parameters are counted on
    the meta device first (``size`` then has no activations yet; see ``fit``)."""
    if model == GIVEN:
        return given, None, None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        factory = path = None
        if is_file_spec(model):
            factory, path = load_factory(model)
        elif model not in MODULE_SPECS:
            raise ConfigError("model", f"unknown model {model!r}")
        params = _meta_params(model, options, data, criterion, factory, path)
        if params is not None and check is not None:
            check(Profile(params, 0, 0))
        return _make(model, options, data, criterion, factory, path), factory, path


def _make(model: str, options: Mapping[str, Any], data, criterion: str, factory, path) -> nn.Module:
    if factory is not None:
        return call_factory(factory, path, options)
    image_shape = getattr(data, "image_shape", None)
    n_out = output_count(criterion, data)
    if model in ("softmax", "cnn"):
        # Classifiers: one output per class whatever the criterion (the criterion's check names a mismatch).
        classes = class_count(data)
        if classes is None:
            raise ConfigError("model", f"the {model!r} model classifies, but the data's labels are not classes "
                                       "(whole numbers 0, 1, 2, ...)")
        n_out = max(classes, 2)
    return build_builtin(model, options, data.n_features, n_out, image_shape)


def _meta_params(model: str, options, data, criterion: str, factory, path) -> int | None:
    """The module's parameter count, built on torch's meta device, where tensors have shapes and no storage:
    ``hidden = [4096] * 300`` (5 G parameters) is refused in milliseconds instead of after 20 GB. (Only built
    there: a forward pass on the meta device first imports torch's decompositions, ~5 s.) A built-in's mistakes
    are raised as building it would; a user's function that cannot build there (it reads a value, makes a tensor
    on a given device) gives None, and is measured once built."""
    try:
        # (its own random state: the real build below draws the same numbers as without this)
        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            module = _make(model, options, data, criterion, factory, path)
        return sum(p.numel() for p in module.parameters())
    except ConfigError:
        if factory is None:
            raise
        return None
    except Exception:  # noqa: BLE001 (a user's code on the meta device may fail in any way; built for real next)
        return None


def fit(model: str, options: Mapping[str, Any], given: nn.Module | None, data, criterion: str, seed: int,
        start, check: SizeCheck | None = None) -> FittedModule:
    """Build and check the module; ``start`` (k values or None) overrides its initial parameters. ``check(size)``
    refuses a module whose run cannot fit in memory: by its parameters before building it (where it can be built on
    the meta device), by its parameters and activations before the copies a run makes and the pass over the data."""
    module, factory, path = build(model, options, given, data, criterion, seed, check)
    module = module.float() if model != GIVEN else module
    # Measured on two samples before the copies below and the check's pass over all the data.
    size = _real_size(module, data)
    if check is not None:
        check(size)
    flat = torch.cat([p.detach().reshape(-1).to(torch.float64) for p in module.parameters()]) \
        if any(True for _ in module.parameters()) else torch.zeros(0, dtype=torch.float64)
    if flat.numel() < 2:
        raise ConfigError("model", f"the model has {flat.numel()} parameter(s); a loss surface needs at least 2")
    fitted = FittedModule(module, flat, 0, path, factory, size)
    if start is not None:
        flat = torch.as_tensor(start, dtype=torch.float64).reshape(-1)
        if flat.numel() != fitted.param_count:
            raise ConfigError("start", f"must give {fitted.param_count} values (the model's parameters), "
                                       f"not {flat.numel()}")
        if not bool(torch.isfinite(flat).all()):
            raise ConfigError("start", "must hold finite values only")
    fitted = FittedModule(module, flat, _check_output(fitted, data, criterion, flat), path, factory, size)
    return fitted


def _real_size(module: nn.Module, data) -> Profile:
    """A built module's size: its parameters, and its activations on two samples of the data (in eval mode, so
    BatchNorm's running statistics stay as they are; each layer's mode is put back). A module that cannot take the
    data is left to the check of its output, which says why."""
    modes = [(m, m.training) for m in module.modules()]
    signals = None
    try:
        with watching_signals() as signals:
            module.eval()
            return profile(module, data.n_features, probe=data.x[:2].to(torch.float32))
    except (Exception, *ESCAPES) as exc:  # noqa: BLE001 (``_check_output`` reports a module that fails, sys.exit too)
        if signals is None or signals.interrupted(exc):
            raise
        return Profile(sum(p.numel() for p in module.parameters()), 0, 0)
    finally:
        for m, training in modes:
            m.training = training


def _check_output(fitted: FittedModule, data, criterion: str, start: torch.Tensor) -> int:
    """Run the module once on all the data at the start: the output's shape and loss must make sense."""
    module = copy.deepcopy(fitted.template).eval()
    torch.nn.utils.vector_to_parameters(start.to(torch.float32), module.parameters())
    x = data.x
    try:
        with torch.no_grad(), watching_signals() as signals:
            out = module(x)
    except (Exception, *ESCAPES) as exc:  # noqa: BLE001 (a user's module may raise anything, sys.exit too)
        if signals.interrupted(exc):
            raise
        where = user_frame(exc, fitted.source) if fitted.source is not None else None
        text = describe_failure(exc)
        if where is not None and str(fitted.source) in where:
            raise UserCodeError(f"{where}: {text} (calling the model on the data: {data.n_features} "
                                f"feature(s) per sample)") from None
        raise ConfigError("model", f"cannot take the data's input ({data.n_features} feature(s) per sample): "
                                   f"{text}") from None
    if not isinstance(out, torch.Tensor):
        raise UserCodeError(f"{fitted.where()}: the model must return a tensor, not {type(out).__name__}")
    where = fitted.where()
    n = x.shape[0]
    if out.dim() != 2 or out.shape[0] != n:
        raise UserCodeError(f"{where}: the model returned shape {tuple(out.shape)} for {n} samples; it must "
                            f"return ({n}, outputs)")
    n_out = int(out.shape[1])
    if criterion in _ONE_OUTPUT and n_out != 1:
        hint = "; use criterion 'cross-entropy' for class labels" if class_count(data) else ""
        raise ConfigError("criterion", f"{criterion!r} compares one output per sample with the label, but the "
                                       f"model gives {n_out} outputs per sample{hint}")
    if criterion == "cross-entropy":
        classes = output_count(criterion, data)
        if n_out < 2:
            raise ConfigError("criterion", "'cross-entropy' needs one output per class, but the model gives "
                                           "1 output per sample; use 'bce-logits' for 0/1 labels")
        if n_out < classes:
            raise ConfigError("criterion", f"the labels name {classes} classes but the model gives only {n_out} "
                                           "outputs per sample")
    if criterion == "bce" and bool(((out < 0) | (out > 1)).any()):
        raise ConfigError("criterion", "'bce' needs a probability in [0, 1] from the model, but its output is "
                                       "not one (it ends without a sigmoid); use 'bce-logits'")
    target = data.y.reshape(-1).to(torch.int64) if criterion == "cross-entropy" else data.y
    with torch.no_grad():
        loss = float(build_criterion(criterion, {})(out, target))
    if not math.isfinite(loss) or not bool(torch.isfinite(out).all()):
        bad = loss if not math.isfinite(loss) else math.nan
        raise UserCodeError(f"{where}: the loss at the start is {bad}; the model's output is not finite there")
    return n_out
