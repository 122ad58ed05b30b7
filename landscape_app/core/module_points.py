"""A network's loss (or accuracy) at given points of its parameter space, evaluated as torch evaluates the module.

This is the point-by-point path (the training loop's full-data loss, trajectories, checks); whole grids go through
the batched evaluator in ``surface_module``.
"""
from __future__ import annotations

import copy
import threading

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from .errors import ConfigError
from .models import build_criterion
from .surface_parallel import serial_torch

BN_MODES = ("eval", "recompute")
# From this many points on, the batched evaluator's set-up pays for itself.
BATCHED_FROM = 8
METRICS = ("loss", "accuracy")
_CACHE_LOCK = threading.Lock()


def split_params(module: nn.Module, flat: torch.Tensor) -> dict[str, torch.Tensor]:
    """The flat vector as ``{name: tensor}`` in ``module.named_parameters()`` order and shapes."""
    out, i = {}, 0
    for name, p in module.named_parameters():
        n = p.numel()
        out[name] = flat[i:i + n].view_as(p)
        i += n
    return out


def float64_module(exp) -> nn.Module:
    """The experiment's module in float64, cached per experiment and thread (eval mode: dropout off, BN running
    stats).

    Per thread: ``functional_call`` puts the parameters and buffers it is given into the module while it runs, so
    two threads sharing one module (the training's full-data loss at the step's BatchNorm statistics, and the
    projection of the same run's path in the scene) would each compute with the other's now and then.
    """
    # A plain dict by thread id (not a threading.local), so an experiment still pickles; an id that a finished
    # thread leaves to a new one hands that one a module no one else uses any more.
    with _CACHE_LOCK:
        per_thread = exp.__dict__.get("_module64")
        if per_thread is None:
            per_thread = {}
            object.__setattr__(exp, "_module64", per_thread)
    cached = per_thread.get(threading.get_ident())
    if cached is None:
        cached = copy.deepcopy(exp._fitted.template).to(torch.float64).eval()
        per_thread[threading.get_ident()] = cached
    return cached


def check_bn(bn: str) -> str:
    if bn not in BN_MODES:
        raise ConfigError("bn", f"must be 'eval' (running statistics) or 'recompute' (statistics of the data at "
                                f"each point), not {bn!r}")
    return bn


def _buffers(module: nn.Module, buffers) -> dict[str, torch.Tensor]:
    own = {name: b.clone() for name, b in module.named_buffers()}
    for name, value in dict(buffers or {}).items():
        if name not in own:
            raise ConfigError("buffers", f"the model has no buffer {name!r}")
        own[name] = torch.as_tensor(np.asarray(value), dtype=own[name].dtype).reshape(own[name].shape).clone()
    return own


def module_outputs(exp, params: np.ndarray, x: torch.Tensor, buffers=None, bn: str = "eval") -> torch.Tensor:
    """The module's float64 output on ``x`` at flat parameters ``params`` (k,)."""
    module = float64_module(exp)
    flat = torch.as_tensor(np.asarray(params, dtype=np.float64))
    state = {**_buffers(module, buffers), **split_params(module, flat)}
    bn_layers = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if bn == "recompute":
        for layer in bn_layers:
            layer.train()
    try:
        with torch.no_grad():
            return functional_call(module, state, (x,))
    finally:
        for layer in bn_layers:
            layer.eval()


def correct(out: torch.Tensor, target: torch.Tensor, criterion: str) -> torch.Tensor:
    """Per-sample correctness of a classifier's output: argmax for classes, the 0.5/0 threshold for one output."""
    if out.shape[1] > 1:
        return (out.argmax(dim=1) == target.reshape(-1).to(torch.int64)).to(torch.float64)
    threshold = 0.5 if criterion == "bce" else 0.0
    return ((out[:, 0] > threshold).to(torch.float64) == target.reshape(-1).to(torch.float64)).to(torch.float64)


def module_losses(exp, points, batch=None, buffers=None, bn: str = "eval", metric: str = "loss") -> np.ndarray:
    """Loss (or accuracy) of the full data (or the samples ``batch``) at each point (m, k) -> (m,) float64."""
    check_bn(bn)
    if metric not in METRICS:
        raise ConfigError("metric", f"must be one of {', '.join(METRICS)}, not {metric!r}")
    pts = np.asarray(points, dtype=np.float64)
    pts = pts.reshape(1, -1) if pts.ndim == 1 else pts
    if pts.ndim != 2 or pts.shape[1] != exp.param_count:
        raise ConfigError("params", f"must have {exp.param_count} values per point, not shape {pts.shape}")
    if pts.shape[0] >= BATCHED_FROM:
        from .surface_network import network_losses
        return network_losses(exp, pts, batch=batch, buffers=buffers, metric=metric, bn=bn)
    x = exp.data.x.to(torch.float64)
    target = exp.targets()
    if batch is not None:
        sel = torch.as_tensor(np.asarray(batch, dtype=np.int64))
        x, target = x[sel], target[sel]
    if target.dtype.is_floating_point:
        target = target.to(torch.float64)
    criterion = build_criterion(exp.criterion, exp.criterion_options)
    out = np.empty(pts.shape[0])
    with serial_torch():    # small operations: torch's thread barrier costs more than it gives (surface_parallel)
        for i, p in enumerate(pts):
            yhat = module_outputs(exp, p, x, buffers, bn)
            if metric == "accuracy":
                out[i] = float(correct(yhat, target, exp.criterion).mean())
            else:
                out[i] = float(criterion(yhat, target))
    return out


class LiveLoss:
    """The full-data loss of a module while it trains: ``module_losses`` at its parameters and floating buffers,
    bit for bit, without that function's set-up on every call.

    The float64 copy is built once, and its parameters are views of one flat vector, as ``split_params`` lays
    them out; the data is converted once. ``take()`` copies the live float32 parameters and buffers into it (an
    exact widening) and returns them as the step's numpy records; ``loss()`` then evaluates the copy in eval mode
    (dropout off, BatchNorm's running statistics) under ``serial_torch``, as ``module_losses`` does.
    """

    def __init__(self, exp, live: nn.Module):
        module = copy.deepcopy(exp._fitted.template).to(torch.float64).eval()
        self._flat = torch.empty(exp.param_count, dtype=torch.float64)
        own = dict(module.named_parameters())
        self._views = []
        for name, view in split_params(module, self._flat).items():
            own[name].data = view          # the module computes with the flat vector's values
            self._views.append(view)
        self._module = module
        self._live = list(live.parameters())
        copies = dict(module.named_buffers())
        floating = [(name, b) for name, b in live.named_buffers() if b.dtype.is_floating_point]
        self._buffer_names = [name for name, _ in floating]
        self._live_buffers = [b for _, b in floating]
        self._buffers = [copies[name] for name, _ in floating]
        self._x = exp.data.x.to(torch.float64)
        target = exp.targets()
        self._target = target.to(torch.float64) if target.dtype.is_floating_point else target
        self._criterion = build_criterion(exp.criterion, exp.criterion_options)

    def take(self) -> tuple[np.ndarray, dict | None]:
        """The live module's parameters (float64 (k,)) and floating buffers ({name: array} or None), copied."""
        with torch.no_grad():
            torch._foreach_copy_(self._views, self._live)      # one call instead of a copy per tensor
            if not self._buffers:
                return self._flat.numpy().copy(), None
            torch._foreach_copy_(self._buffers, self._live_buffers)
            buffers = {name: b.numpy().copy() for name, b in zip(self._buffer_names, self._buffers)}
        return self._flat.numpy().copy(), buffers

    def loss(self) -> float:
        """The full-data loss at what ``take()`` last copied."""
        with torch.no_grad(), serial_torch():
            return float(self._criterion(self._module(self._x), self._target))

