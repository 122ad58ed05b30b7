"""A network's surface over a plane: the experiment's module, data and criterion given to the batched evaluator."""
from __future__ import annotations

import numpy as np
import torch

from .models import build_criterion
from .surface_module import module_losses, module_surface


def evaluation_inputs(exp, batch=None, buffers=None) -> dict:
    """The keywords the batched evaluator takes for ``exp`` (the samples ``batch`` only, when given)."""
    x, target = exp.data.x, exp.targets()
    if batch is not None:
        sel = torch.as_tensor(np.asarray(batch, dtype=np.int64))
        x, target = x[sel], target[sel]
    return dict(module=exp._fitted.template, criterion=build_criterion(exp.criterion, exp.criterion_options),
                x=x, target=target, decision="probability" if exp.criterion == "bce" else "logit",
                buffers=None if buffers is None else {k: torch.as_tensor(np.asarray(v)) for k, v in buffers.items()})


def network_surface(exp, plane, alpha: np.ndarray, beta: np.ndarray, *, batch=None, metric="loss", bn="eval",
                    device=None, chunk_bytes=None, progress=None, stop=None, dtype=torch.float32) -> np.ndarray:
    """``out[i, j]`` at ``plane.point(alpha[j], beta[i])``, float64 (evaluated in ``dtype``, float32 by default:
    the dtype networks train in, about twice as fast here as float64)."""
    inputs = evaluation_inputs(exp, batch, plane.buffers)
    extra = {} if chunk_bytes is None else {"chunk_bytes": chunk_bytes}
    return module_surface(**inputs, origin=torch.from_numpy(plane.origin.copy()),
                          d1=torch.from_numpy(plane.d1.copy()), d2=torch.from_numpy(plane.d2.copy()),
                          alpha=alpha, beta=beta, metric=metric, bn=bn, device=device, dtype=dtype,
                          progress=progress, stop=stop, **extra)


def network_losses(exp, points, *, batch=None, buffers=None, metric="loss", bn="eval", device=None,
                   dtype=torch.float64) -> np.ndarray:
    """The loss (or accuracy) at many points (m, k) -> (m,), batched; float64 by default (paths, checks)."""
    return module_losses(**evaluation_inputs(exp, batch, buffers), points=np.asarray(points, dtype=np.float64),
                         metric=metric, bn=bn, device=device, dtype=dtype)
