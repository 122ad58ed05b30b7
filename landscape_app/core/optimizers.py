"""The torch.optim optimizers and schedulers we offer, each describing its hyperparameters.

A control panel builds its widgets from these descriptions; ``build_optimizer`` passes the values through to
torch unchanged, so the run is the plain torch loop.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import torch

from .errors import ConfigError


@dataclass(frozen=True)
class Hyper:
    """One hyperparameter: ``kind`` is "float", "int" or "bool"; ``low``/``high`` bound floats and ints."""

    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    log: bool = False          # a log-scale slider suits it
    help: str = ""


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    cls: type
    label: str
    hypers: tuple[Hyper, ...]
    default_lr: float


def _f(name, default, low=0.0, high=None, log=False, help=""):
    return Hyper(name, "float", default, low, high, log, help)


_BETA1 = _f("beta1", 0.9, 0.0, 0.999999, help="decay of the running mean of gradients")
_BETA2 = _f("beta2", 0.999, 0.0, 0.999999, help="decay of the running mean of squared gradients")
_EPS = _f("eps", 1e-8, 0.0, 1.0, log=True, help="added to the denominator for stability")
_WD = _f("weight_decay", 0.0, 0.0, 10.0, help="L2 penalty")

OPTIMIZERS: dict[str, OptimizerSpec] = {s.name: s for s in (
    OptimizerSpec("sgd", torch.optim.SGD, "SGD", (
        _f("momentum", 0.0, 0.0, 0.999999), _f("dampening", 0.0, 0.0, 1.0),
        Hyper("nesterov", "bool", False, help="Nesterov momentum (needs momentum > 0, dampening 0)"), _WD), 0.1),
    OptimizerSpec("adam", torch.optim.Adam, "Adam", (
        _BETA1, _BETA2, _EPS, _WD, Hyper("amsgrad", "bool", False)), 0.5),
    OptimizerSpec("adamw", torch.optim.AdamW, "AdamW", (
        _BETA1, _BETA2, _EPS, _f("weight_decay", 0.01, 0.0, 10.0, help="decoupled weight decay"),
        Hyper("amsgrad", "bool", False)), 0.5),
    OptimizerSpec("rmsprop", torch.optim.RMSprop, "RMSprop", (
        _f("alpha", 0.99, 0.0, 0.999999, help="smoothing constant"), _EPS, _WD,
        _f("momentum", 0.0, 0.0, 0.999999), Hyper("centered", "bool", False)), 0.1),
    OptimizerSpec("adagrad", torch.optim.Adagrad, "Adagrad", (
        _f("lr_decay", 0.0, 0.0, 1.0), _WD, _f("initial_accumulator_value", 0.0, 0.0, 100.0),
        _f("eps", 1e-10, 0.0, 1.0, log=True)), 1.0),
    OptimizerSpec("adadelta", torch.optim.Adadelta, "Adadelta", (
        _f("rho", 0.9, 0.0, 1.0), _f("eps", 1e-6, 0.0, 1.0, log=True), _WD), 10.0),
    OptimizerSpec("adamax", torch.optim.Adamax, "Adamax", (_BETA1, _BETA2, _EPS, _WD), 0.5),
    OptimizerSpec("nadam", torch.optim.NAdam, "NAdam", (
        _BETA1, _BETA2, _EPS, _WD, _f("momentum_decay", 0.004, 0.0, 1.0)), 0.5),
    OptimizerSpec("radam", torch.optim.RAdam, "RAdam", (_BETA1, _BETA2, _EPS, _WD), 0.5),
    OptimizerSpec("asgd", torch.optim.ASGD, "ASGD", (
        _f("lambd", 1e-4, 0.0, 1.0, log=True, help="decay term"), _f("alpha", 0.75, 0.0, 10.0),
        _f("t0", 1e6, 0.0, 1e12, log=True, help="point at which to start averaging"), _WD), 0.1),
    OptimizerSpec("lbfgs", torch.optim.LBFGS, "L-BFGS", (
        Hyper("max_iter", "int", 20, 1, 1000, help="iterations per step"),
        _f("tolerance_grad", 1e-7, 0.0, 1.0, log=True), _f("tolerance_change", 1e-9, 0.0, 1.0, log=True),
        Hyper("history_size", "int", 100, 1, 1000),
        Hyper("line_search_fn", "choice", "none", help="'none' or 'strong_wolfe'")), 1.0),
)}

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


def _check_values(field: str, hypers: tuple[Hyper, ...], options: Mapping[str, Any], owner: str) -> dict:
    by_name = {h.name: h for h in hypers}
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
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(name, f"must be a finite number, not {value!r}")
            if h.kind == "int":
                if float(value) != int(value):
                    raise ConfigError(name, f"must be a whole number, not {value!r}")
                value = int(value)
            else:
                value = float(value)
            if h.low is not None and value < h.low or h.high is not None and value > h.high:
                raise ConfigError(name, f"must be between {h.low:g} and {h.high:g}, not {value:g}"
                                  if h.high is not None else f"must be >= {h.low:g}, not {value:g}")
        out[key] = value
    return out


def check_optimizer(name: str, lr: float, options: Mapping[str, Any]) -> dict[str, Any]:
    """Validated options with defaults filled in; ``ConfigError`` names the bad field."""
    if name not in OPTIMIZERS:
        raise ConfigError("optimizer", f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or not 0 < lr <= MAX_LR:
        raise ConfigError("lr", f"must be a positive number up to {MAX_LR:g}, not {lr!r}")
    out = _check_values("optimizer_options", OPTIMIZERS[name].hypers, options, OPTIMIZERS[name].label)
    if name == "sgd" and out["nesterov"] and (out["momentum"] <= 0 or out["dampening"] != 0):
        raise ConfigError("optimizer_options.nesterov", "Nesterov momentum needs momentum > 0 and dampening 0")
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
    if "beta1" in kw:
        kw["betas"] = (kw.pop("beta1"), kw.pop("beta2"))
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
