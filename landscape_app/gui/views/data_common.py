"""What the data views share: which point of a path is current, its mini-batch, and the model's prediction."""
from __future__ import annotations

import numpy as np
import torch

from ...core.models import predict


def current_index(traj, upto) -> int:
    """The index of the drawn path's current point (-1: nothing drawn)."""
    n = len(traj) if upto is None else max(0, min(int(upto), len(traj)))
    return n - 1


def current_batch(traj, i: int) -> np.ndarray:
    """The sample indices of step ``i``'s mini-batch (empty for the start point or when not recorded)."""
    if 0 <= i < len(traj.batches):
        return np.asarray(traj.batches[i], dtype=np.int64)
    return np.empty(0, np.int64)


def prediction(exp, params, x: np.ndarray) -> np.ndarray:
    """The model's prediction (what people see: σ(logit) for logistic models) at inputs ``x`` (m, features)."""
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64))
    with torch.no_grad(), np.errstate(over="ignore", invalid="ignore"):
        out = predict(exp.model, exp.criterion, np.asarray(params, dtype=np.float64), xt)
    return out.numpy().reshape(-1)
