"""Where the course helper's figures go, and what range they show: decided without Qt (the core imports no Qt;
a headless script that never draws never loads it)."""
from __future__ import annotations

import math
import os
import sys

import numpy as np

_NO_SCREEN_PLATFORMS = {"offscreen", "minimal"}


def output_place(show: str) -> str:
    """Where a figure goes when no file is named: "inline" (a Jupyter kernel), "window" (a screen) or "none"."""
    if show != "auto":
        return show
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None
    except Exception:
        shell = None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        return "inline"
    widgets = sys.modules.get("PySide6.QtWidgets")
    if widgets is not None and widgets.QApplication.instance() is not None:
        return "none" if widgets.QApplication.platformName() in _NO_SCREEN_PLATFORMS else "window"
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in _NO_SCREEN_PLATFORMS:
        return "none"
    if sys.platform != "linux":
        return "window"
    return "window" if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") else "none"


def widened_range(lo: float, hi: float, values: np.ndarray, limit: float) -> tuple[float, float]:
    """(lo, hi) widened to take in ``values`` with a margin, in steps of a twentieth of the span (so the view
    does not creep with every point), and by at most ``limit`` spans on each side."""
    span = hi - lo
    step = span / 20
    values = values[np.isfinite(values)]
    if values.size:
        far = values.min() - span / 40            # a margin beyond the farthest point, so none sits on the edge
        if far < lo:
            lo = max(lo - math.ceil((lo - far) / step) * step, lo - limit * span)
        far = values.max() + span / 40
        if far > hi:
            hi = min(hi + math.ceil((far - hi) / step) * step, hi + limit * span)
    return float(lo), float(hi)


__all__ = ["output_place", "widened_range"]
