"""The torch.optim optimizers and schedulers we offer, each describing its hyperparameters.

Hyperparameters have torch's own names and shapes (Adam's ``betas`` is a pair, Rprop's ``etas`` and
``step_sizes`` too), so options copied from torch code work as they are. A control panel builds its widgets
from these descriptions; ``build_optimizer`` passes the values through to torch unchanged, so the run is the
plain torch loop.

Not offered, because they do not apply to these models: ``SparseAdam`` (needs sparse gradients), ``Muon``
(updates only 2-D weight matrices, through an orthogonalisation meant for hidden layers).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import torch

from .errors import ConfigError


@dataclass(frozen=True)
class Hyper:
    """One hyperparameter: ``kind`` is "float", "int", "bool", "choice" or "pair".

    ``low``/``high`` bound floats and ints; for a "pair" (two floats, as torch's ``betas``) they are pairs of
    bounds, one per value, and ``parts`` names the two values for people (the panel's two fields).
    ``optional``: the pair's first value may be None (torch then chooses it, as Adafactor's ``eps``).
    """

    name: str
    kind: str
    default: Any
    low: Any = None
    high: Any = None
    log: bool = False          # a log-scale slider suits it
    help: str = ""
    parts: tuple[str, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    cls: type
    label: str
    hypers: tuple[Hyper, ...]
    default_lr: float
    note: str = ""             # what a user should know before choosing it


def _f(name, default, low=0.0, high=None, log=False, help=""):
    return Hyper(name, "float", default, low, high, log, help)


def _pair(name, default, low, high, parts, help="", optional=False):
    return Hyper(name, "pair", tuple(default), tuple(low), tuple(high), help=help, parts=tuple(parts),
                 optional=optional)


_BETAS = _pair("betas", (0.9, 0.999), (0.0, 0.0), (0.999999, 0.999999), ("beta1", "beta2"),
               help="decays of the running means of gradients (beta1) and of squared gradients (beta2)")
_EPS = _f("eps", 1e-8, 0.0, 1.0, log=True, help="added to the denominator for stability")
_WD = _f("weight_decay", 0.0, 0.0, 10.0, help="L2 penalty")

_RPROP_NOTE = ("Rprop is meant for the full batch: it adapts each step size to the sign of the gradient, and "
               "mini-batches flip that sign by noise")

OPTIMIZERS: dict[str, OptimizerSpec] = {s.name: s for s in (
    OptimizerSpec("sgd", torch.optim.SGD, "SGD", (
        _f("momentum", 0.0, 0.0, 0.999999), _f("dampening", 0.0, 0.0, 1.0),
        Hyper("nesterov", "bool", False, help="Nesterov momentum (needs momentum > 0, dampening 0)"), _WD), 0.1),
    OptimizerSpec("adam", torch.optim.Adam, "Adam", (
        _BETAS, _EPS, _WD, Hyper("amsgrad", "bool", False)), 0.5),
    OptimizerSpec("adamw", torch.optim.AdamW, "AdamW", (
        _BETAS, _EPS, _f("weight_decay", 0.01, 0.0, 10.0, help="decoupled weight decay"),
        Hyper("amsgrad", "bool", False)), 0.5),
    OptimizerSpec("rmsprop", torch.optim.RMSprop, "RMSprop", (
        _f("alpha", 0.99, 0.0, 0.999999, help="smoothing constant"), _EPS, _WD,
        _f("momentum", 0.0, 0.0, 0.999999), Hyper("centered", "bool", False)), 0.1),
    OptimizerSpec("adagrad", torch.optim.Adagrad, "Adagrad", (
        _f("lr_decay", 0.0, 0.0, 1.0), _WD, _f("initial_accumulator_value", 0.0, 0.0, 100.0),
        _f("eps", 1e-10, 0.0, 1.0, log=True)), 1.0),
    OptimizerSpec("adadelta", torch.optim.Adadelta, "Adadelta", (
        _f("rho", 0.9, 0.0, 1.0), _f("eps", 1e-6, 0.0, 1.0, log=True), _WD), 10.0),
    OptimizerSpec("adamax", torch.optim.Adamax, "Adamax", (_BETAS, _EPS, _WD), 0.5),
    OptimizerSpec("nadam", torch.optim.NAdam, "NAdam", (
        _BETAS, _EPS, _WD, _f("momentum_decay", 0.004, 0.0, 1.0)), 0.5),
    OptimizerSpec("radam", torch.optim.RAdam, "RAdam", (_BETAS, _EPS, _WD), 0.5),
    OptimizerSpec("asgd", torch.optim.ASGD, "ASGD", (
        _f("lambd", 1e-4, 0.0, 1.0, log=True, help="decay term"), _f("alpha", 0.75, 0.0, 10.0),
        _f("t0", 1e6, 0.0, 1e12, log=True, help="point at which to start averaging"), _WD), 0.1),
    OptimizerSpec("lbfgs", torch.optim.LBFGS, "L-BFGS", (
        Hyper("max_iter", "int", 20, 1, 1000, help="iterations per step"),
        _f("tolerance_grad", 1e-7, 0.0, 1.0, log=True), _f("tolerance_change", 1e-9, 0.0, 1.0, log=True),
        Hyper("history_size", "int", 100, 1, 1000),
        Hyper("line_search_fn", "choice", "none", help="'none' or 'strong_wolfe'")), 1.0),
    OptimizerSpec("rprop", torch.optim.Rprop, "Rprop", (
        _pair("etas", (0.5, 1.2), (0.0, 1.0), (1.0, 100.0), ("eta minus", "eta plus"),
              help="factors that shrink (eta minus < 1) or grow (eta plus > 1) a step size"),
        _pair("step_sizes", (1e-6, 50.0), (0.0, 0.0), (1e6, 1e6), ("min step", "max step"),
              help="smallest and largest allowed step size")), 0.5, _RPROP_NOTE),
)}

# torch.optim.Adafactor arrived in torch 2.5: offered only where the installed torch has it.
ADAFACTOR_TORCH = "2.5"
if hasattr(torch.optim, "Adafactor"):
    OPTIMIZERS["adafactor"] = OptimizerSpec("adafactor", torch.optim.Adafactor, "Adafactor", (
        _f("beta2_decay", -0.8, -10.0, 0.0, help="decay rate of the second moment's running mean (<= 0)"),
        _pair("eps", (None, 1e-3), (0.0, 0.0), (1.0, 1.0), ("eps1", "eps2"), optional=True,
              help="eps1 keeps the denominator away from 0 (blank: the dtype's eps), eps2 the relative step"),
        _f("d", 1.0, 1.0, 1000.0, help="clipping threshold of the update's RMS"),
        _f("weight_decay", 0.0, 0.0, 10.0, help="decoupled weight decay")), 0.5)

# Options saved before optimizers took torch's own shapes: beta1/beta2 for what torch calls betas.
_LEGACY_PARTS = {"betas": ("beta1", "beta2")}

LINE_SEARCHES = ("none", "strong_wolfe")

# Scheduler name -> (torch class, hyperparameters). Stepped once per epoch.
SCHEDULERS: dict[str, tuple[type, tuple[Hyper, ...]]] = {
    "step": (torch.optim.lr_scheduler.StepLR, (
        Hyper("step_size", "int", 10, 1, 1_000_000, help="epochs between decays"),
        _f("gamma", 0.5, 0.0, 1.0, help="factor per decay"))),
    "exponential": (torch.optim.lr_scheduler.ExponentialLR, (_f("gamma", 0.95, 0.0, 1.0),)),
    "cosine": (torch.optim.lr_scheduler.CosineAnnealingLR, (
        Hyper("T_max", "int", 20, 1, 1_000_000, help="epochs of a half cosine"), _f("eta_min", 0.0, 0.0))),
}

MAX_LR = 1e6


def _number(name: str, value, h_kind: str, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(name, f"must be a finite number, not {value!r}")
    if h_kind == "int":
        if float(value) != int(value):
            raise ConfigError(name, f"must be a whole number, not {value!r}")
        value = int(value)
    else:
        value = float(value)
    if low is not None and value < low or high is not None and value > high:
        raise ConfigError(name, f"must be between {low:g} and {high:g}, not {value:g}"
                          if high is not None else f"must be >= {low:g}, not {value:g}")
    return value


def _pair_value(name: str, h: Hyper, value) -> tuple:
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ConfigError(name, f"must be two numbers ({', '.join(h.parts)}), not {value!r}")
    out = []
    for i, v in enumerate(value):
        if i == 0 and h.optional and (v is None or v == "none"):
            out.append(None)     # torch chooses it
            continue
        out.append(_number(f"{name}[{i}]", v, "float", h.low[i], h.high[i]))
    return tuple(out)


def _merge_legacy(field: str, hypers: tuple[Hyper, ...], options: Mapping[str, Any]) -> dict:
    """``beta1``/``beta2`` (as saved before) folded into torch's ``betas``; giving both spellings is refused."""
    options = dict(options)
    names = {h.name for h in hypers}
    for pair, parts in _LEGACY_PARTS.items():
        given = [p for p in parts if p in options]
        if pair not in names or not given:
            continue
        if pair in options:
            raise ConfigError(f"{field}.{given[0]}", f"give {pair} or {' and '.join(parts)}, not both")
        h = next(h for h in hypers if h.name == pair)
        for i, p in enumerate(parts):      # a mistake is named as the file spells it
            if p in options:
                _number(f"{field}.{p}", options[p], "float", h.low[i], h.high[i])
        options[pair] = tuple(options.pop(p, d) for p, d in zip(parts, h.default))
    return options


def _check_values(field: str, hypers: tuple[Hyper, ...], options: Mapping[str, Any], owner: str) -> dict:
    by_name = {h.name: h for h in hypers}
    options = _merge_legacy(field, hypers, options)
    unknown = set(options) - set(by_name)
    if unknown:
        raise ConfigError(f"{field}.{sorted(unknown)[0]}",
                          f"{owner} has no such hyperparameter (its hyperparameters: {', '.join(by_name) or 'none'})")
    out = {h.name: h.default for h in hypers}
    for key, value in options.items():
        h = by_name[key]
        name = f"{field}.{key}"
        if h.kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(name, f"must be true or false, not {value!r}")
        elif h.kind == "choice":
            if value not in LINE_SEARCHES:
                raise ConfigError(name, f"must be one of {', '.join(LINE_SEARCHES)}, not {value!r}")
        elif h.kind == "pair":
            value = _pair_value(name, h, value)
        else:
            value = _number(name, value, h.kind, h.low, h.high)
        out[key] = value
    return out


def check_optimizer(name: str, lr: float, options: Mapping[str, Any]) -> dict[str, Any]:
    """Validated options with defaults filled in; ``ConfigError`` names the bad field."""
    if name not in OPTIMIZERS:
        if name == "adafactor":
            raise ConfigError("optimizer", f"adafactor needs torch >= {ADAFACTOR_TORCH} (this is torch "
                                           f"{torch.__version__}); choose one of {', '.join(OPTIMIZERS)}")
        raise ConfigError("optimizer", f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or not 0 < lr <= MAX_LR:
        raise ConfigError("lr", f"must be a positive number up to {MAX_LR:g}, not {lr!r}")
    out = _check_values("optimizer_options", OPTIMIZERS[name].hypers, options, OPTIMIZERS[name].label)
    if name == "sgd" and out["nesterov"] and (out["momentum"] <= 0 or out["dampening"] != 0):
        raise ConfigError("optimizer_options.nesterov", "Nesterov momentum needs momentum > 0 and dampening 0")
    if name == "rprop":
        (minus, plus), (smallest, largest) = out["etas"], out["step_sizes"]
        if not 0 < minus < 1 < plus:     # torch's own condition
            raise ConfigError("optimizer_options.etas", f"must be (eta minus, eta plus) with 0 < eta minus < 1 < "
                                                        f"eta plus, not ({minus:g}, {plus:g})")
        if not smallest <= largest:
            raise ConfigError("optimizer_options.step_sizes", f"the min step ({smallest:g}) must not exceed the "
                                                              f"max step ({largest:g})")
    return out


def check_scheduler(name: str | None, options: Mapping[str, Any]) -> dict[str, Any]:
    if name is None:
        if options:
            raise ConfigError("scheduler_options", "given without a scheduler")
        return {}
    if name not in SCHEDULERS:
        raise ConfigError("scheduler", f"unknown scheduler {name!r}; choose one of {', '.join(SCHEDULERS)} or none")
    return _check_values("scheduler_options", SCHEDULERS[name][1], options, name)


def _torch_kwargs(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    kw = dict(options)
    if kw.get("line_search_fn") == "none":
        kw["line_search_fn"] = None
    return kw


def build_optimizer(name: str, params, lr: float, options: Mapping[str, Any]) -> torch.optim.Optimizer:
    """The torch optimizer over ``params`` with ``options`` (as returned by ``check_optimizer``)."""
    return OPTIMIZERS[name].cls(params, lr=lr, **_torch_kwargs(name, options))


def build_scheduler(name: str | None, optimizer, options: Mapping[str, Any]):
    if name is None:
        return None
    return SCHEDULERS[name][0](optimizer, **options)
