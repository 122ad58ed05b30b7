"""A line under the loss curve that keeps a network's projected paths honest.

Per run at the shown step: its true loss (at its own parameters), the surface's value under its projected
point, and how far it lies off the plane, so no one mistakes a projection for the path. Hidden for the linear
models, whose paths lie on their surface.
"""
from __future__ import annotations

import html
import math
from typing import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from . import style

HEADER = "Projected paths:"
ELSEWHERE = "not on this plane (its network has other parameters: BatchNorm's scale and shift)"


TIP = ("A network's path lives among all its parameters; the contour and the 3-D view draw its projection onto the "
       "surface's plane. Per run: its true loss (the loss curve's), the surface's value under its projected point, "
       "and how far it lies off the plane.")


def _num(v: float) -> str:
    if not math.isfinite(v):
        return "—"
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def note_lines(projected: Mapping, names: Mapping[int, str], upto: int | None) -> list[tuple[int, str]]:
    """``(run id, "loss 0.31 · surface 0.45 · 1.2 off the plane")`` per projected run at its shown step (``upto``:
    the timeline's length; None: the end). The run is named by its colour on screen, by ``names`` in the
    tooltip. A projection still on its way names the earlier step it shows."""
    out = []
    for rid, p in projected.items():
        n = len(p.distance)
        if n == 0:
            continue
        wanted = max(p.total, n) if upto is None else upto
        i = max(1, min(wanted, n)) - 1
        surface = "surface accuracy" if getattr(p, "metric", "loss") == "accuracy" else "surface"
        text = (f"loss {_num(float(p.flat.loss[i]))} · {surface} {_num(float(p.surface_loss[i]))} · "
                f"{_num(float(p.distance[i]))} off the plane")
        if wanted > n:
            text += f" (step {int(p.flat.iteration[i])})"
        out.append((rid, text))
    return out


class ProjectionNote(QLabel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("projection_note")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setContentsMargins(6, 2, 6, 2)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Maximum)
        self.setToolTip(TIP)
        self.setStyleSheet(f"color: {style.MUTED};")
        self._runs: dict[int, tuple[str, str]] = {}
        self.lines: list[tuple[int, str]] = []
        self.setVisible(False)

    def set_runs(self, runs) -> None:
        self._runs = {r.run_id: (r.name, r.color) for r in runs}

    def set_lecture_mode(self, on: bool) -> None:
        """Nothing of its own: lecture mode enlarges the application's font, which this label uses."""

    def show_projections(self, projected: Mapping, upto: int | None, elsewhere=()) -> None:
        """Each projected run's line; ``elsewhere``: runs whose parameters are not the plane's (no path drawn)."""
        names = {rid: name for rid, (name, _) in self._runs.items()}
        self.lines = note_lines(projected, names, upto) + [(rid, ELSEWHERE) for rid in elsewhere]
        if not self.lines and not projected:
            self.setVisible(False)
            return
        parts = [html.escape(HEADER)]
        for rid, text in self.lines:
            color = self._runs.get(rid, ("", style.MUTED))[1]
            parts.append(f'<span style="color:{color}">●</span>&nbsp;{html.escape(text)}')
        self.setText("&nbsp;&nbsp; ".join(parts))
        tips = [f"{names.get(rid, f'run {rid}')}: {text}" for rid, text in self.lines]
        self.setToolTip("\n".join([TIP, *tips]))
        self.setVisible(True)
