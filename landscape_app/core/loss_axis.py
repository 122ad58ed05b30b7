"""The loss axis's range when a run leaves the picture (diverges): the other runs must stay readable.

A diverging run's loss grows geometrically (to 1e20 and beyond before the training stops it); an axis that
followed it would press every other curve flat onto zero. So a run *leaves* once its loss passes a threshold
(ten times the highest start loss, or the shown surface's highest value if that is higher) or stops being
finite; a leaving run counts for the range only up to the highest start loss, and its curve leaves through the
top of the plot, marked there. The window's loss view and the exporter's fixed axis both use this rule, and so
does the span of a plane fitted to the runs (``plane_build.plane_span``): it covers the runs that stay, so one
runaway run cannot stretch the surface until the others' paths collapse into its start.

Plain numpy, no Qt.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

LEAVE_FACTOR = 10.0


@dataclass(frozen=True)
class LossAxis:
    lo: float                  # the range the runs' losses set (in loss units, not transformed)
    hi: float
    threshold: float | None    # beyond this a run has left (None: no start loss to measure by)
    leaving: frozenset         # the run ids that left


def leave_threshold(losses: Mapping[int, np.ndarray], surface_top: float | None = None) -> tuple[float, float] | None:
    """``(highest start loss, threshold)``, or None when no run has a finite start loss."""
    starts = [float(y[0]) for y in losses.values() if len(y) and math.isfinite(float(y[0]))]
    if not starts:
        return None
    ref = max(starts)
    threshold = LEAVE_FACTOR * ref
    if surface_top is not None and math.isfinite(surface_top):
        threshold = max(threshold, float(surface_top))
    return ref, threshold


def _leaves(y: np.ndarray, threshold: float) -> bool:
    finite = np.isfinite(y)
    return not finite.all() or bool(np.any(y[finite] > threshold))


def leaving_runs(losses: Mapping[int, np.ndarray], surface_top: float | None = None) -> frozenset:
    """The ids of the runs (run id -> losses) that leave the picture."""
    measure = leave_threshold(losses, surface_top)
    if measure is None:
        return frozenset()
    return frozenset(rid for rid, y in losses.items() if _leaves(np.asarray(y, dtype=np.float64), measure[1]))


def plan_axis(losses: Mapping[int, np.ndarray], surface_top: float | None = None,
              positive: bool = False) -> LossAxis | None:
    """The range of the runs' losses (run id -> values) that the axis shows; ``positive``: a log axis (only
    positive values count). None when no value counts."""
    measure = leave_threshold(losses, surface_top)
    leaving = set()
    lo = hi = None
    for rid, y in losses.items():
        y = np.asarray(y, dtype=np.float64)
        finite = np.isfinite(y)
        if measure is not None:
            ref, threshold = measure
            if _leaves(y, threshold):
                leaving.add(rid)
                finite &= np.where(finite, y, np.inf) <= ref
        if positive:
            finite &= np.where(finite, y, 0.0) > 0
        if finite.any():
            a, b = float(y[finite].min()), float(y[finite].max())
            lo, hi = (a, b) if lo is None else (min(lo, a), max(hi, b))
    if lo is None:
        return None
    return LossAxis(lo, hi, measure[1] if measure else None, frozenset(leaving))


def exit_point(x: np.ndarray, y: np.ndarray, top: float) -> tuple[float, float] | None:
    """Where the curve (x, y), already on the axis's scale, first leaves through ``top``: ``(x, top)`` on the
    segment that crosses it, or the last point before a non-finite value. None if it never leaves."""
    out = ~(np.isfinite(y) & (y <= top))
    if not out.any():
        return None
    j = int(np.argmax(out))
    if j == 0:
        return None
    x0, y0, x1, y1 = float(x[j - 1]), float(y[j - 1]), float(x[j]), float(y[j])
    if not math.isfinite(y1) or y1 == y0:
        return x0, y0
    return x0 + (x1 - x0) * (top - y0) / (y1 - y0), top


__all__ = ["LossAxis", "plan_axis", "leaving_runs", "leave_threshold", "exit_point", "LEAVE_FACTOR"]
