"""The loss along a segment between two parameter points (Goodfellow, Vinyals and Saxe 2015)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError
from .plane import _vector

# Criteria whose networks are classifiers: the interpolation also gives the fraction classified right.
_CLASSIFYING = ("bce", "bce-logits", "cross-entropy")
MAX_STEPS = 100_001


@dataclass(frozen=True, eq=False)
class Interpolation:
    """The loss at ``(1 - t) p0 + t p1`` for each ``t`` (read-only arrays).

    ``accuracy``: the fraction of samples classified right at each ``t`` for a classifier network, else None.
    ``t`` = 0 is ``p0`` and ``t`` = 1 is ``p1`` exactly; values outside [0, 1] extend the line beyond them.
    """

    t: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray | None
    p0: np.ndarray
    p1: np.ndarray
    criterion: str

    def __post_init__(self):
        for name in ("t", "loss", "accuracy", "p0", "p1"):
            value = getattr(self, name)
            if value is None:
                continue
            arr = np.array(value, dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def params(self, t: float) -> np.ndarray:
        """The parameters at ``t`` on the line."""
        return segment_points(self.p0, self.p1, np.array([float(t)]))[0]

    def argmin(self) -> tuple[float, float]:
        """``(t, loss)`` at the lowest point sampled."""
        i = int(np.nanargmin(self.loss))
        return float(self.t[i]), float(self.loss[i])


def segment_points(p0: np.ndarray, p1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``(1 - t) p0 + t p1`` (m, k): exactly p0 at t = 0 and p1 at t = 1."""
    return (1.0 - t)[:, None] * p0 + t[:, None] * p1


def _endpoint(name: str, value, k: int, buffers):
    from .trajectory import Trajectory
    if isinstance(value, Trajectory):
        if len(value) == 0:
            raise ConfigError(name, "the trajectory is empty")
        return value.params[-1], value.buffers
    return _vector(name, value, k), buffers


def interpolate(exp, p0, p1, steps: int = 51, t_range=(0.0, 1.0), *, batch=None, buffers=None,
                bn: str = "eval") -> Interpolation:
    """The loss of ``exp`` along the line from ``p0`` to ``p1``, at ``steps`` values of t over ``t_range``.

    ``p0``, ``p1``: flat parameter vectors (``exp.start_vector()``, a trajectory's ``params[-1]``) or
    Trajectories (their last point). ``t_range`` = (-0.5, 1.5) looks past both ends. ``batch``: sample indices
    (None: all the data). A network's BatchNorm runs with ``buffers`` (default: ``p1``'s trajectory's, else the
    module's own) or, with ``bn="recompute"``, with the data's statistics at each point.
    """
    k = exp.param_count
    p1, buffers1 = _endpoint("p1", p1, k, None)
    p0, buffers0 = _endpoint("p0", p0, k, None)
    if buffers is None:
        buffers = buffers1 if buffers1 is not None else buffers0
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 2 <= steps <= MAX_STEPS:
        raise ConfigError("steps", f"must be a whole number from 2 to {MAX_STEPS:,}, not {steps!r}")
    try:
        lo, hi = (float(v) for v in t_range)
    except (TypeError, ValueError):
        raise ConfigError("t_range", f"must be two numbers (low, high), not {t_range!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ConfigError("t_range", f"must be finite with low < high, not {t_range!r}")
    if np.array_equal(p0, p1):
        raise ConfigError("p1", "equals p0: a segment needs two different points")
    from .surface import _batch_indices
    batch = _batch_indices(batch, len(exp.data))
    t = np.linspace(lo, hi, int(steps))
    points = segment_points(p0, p1, t)
    accuracy = None
    if exp.is_module:
        from .module_points import module_losses
        loss = module_losses(exp, points, batch, buffers, bn)
        if exp.criterion in _CLASSIFYING:
            accuracy = module_losses(exp, points, batch, buffers, bn, metric="accuracy")
    else:
        from .module_points import check_bn
        from .surface import loss_at
        check_bn(bn)
        loss = np.asarray(loss_at(exp, points, batch), dtype=np.float64).reshape(-1)
    return Interpolation(t, loss, accuracy, p0, p1, exp.criterion)


__all__ = ["Interpolation", "interpolate", "segment_points"]
