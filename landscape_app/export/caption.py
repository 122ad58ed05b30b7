"""The line under an exported animation: the iteration, and each run's loss in its colour and its unit (the
shown surface's criterion: the trajectories given are in it).

Laid out once in fixed columns measured for the widest text a cell can hold, so numbers changing from frame to
frame never move anything: the iteration in a column of its own, the runs beside it in rows of equal length. When the runs' names do not fit in two rows, only coloured dots mark the runs (the
views' legends name them).
"""
from __future__ import annotations

import math
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from ..gui import style

WIDEST_NUMBER = "-8.888e-88"
SPACING = 20


def fmt(value: float) -> str:
    """Four significant digits; scientific below 0.001."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


class Caption(QWidget):
    """``show_at(upto)`` writes the caption for the first ``upto`` points of every run."""

    def __init__(self, runs, trajectories, width: int, points: int, parent=None, unit: str = "loss"):
        super().__init__(parent)
        self.runs, self.trajectories = list(runs), list(trajectories)
        self.unit = unit
        self.single = len(self.trajectories) == 1
        font = style.font(points)
        metrics = QFontMetrics(font)
        n_runs = 1 if self.single else len(self.runs)
        self.with_names = True
        for with_names in (True, False):
            # Without names, the unit goes with the iteration (each run's cell is a dot and a number).
            first = ("iteration 888888 · epoch 88888" if self.single else
                     "iteration 888888" if with_names else f"iteration 888888 · {unit}")
            first_width = metrics.horizontalAdvance(first) + SPACING
            column = max(metrics.horizontalAdvance(self._plain(r, with_names)) for r in self.runs) + SPACING
            # The iteration has a column of its own; the runs fill the rest, in rows of equal length.
            per_row = max(1, min(n_runs, (width - first_width) // column))
            rows = math.ceil(n_runs / per_row)
            if rows <= 2 or not with_names:
                self.with_names = with_names
                break
        per_row = math.ceil(n_runs / rows)
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 0, 4, 0)
        grid.setHorizontalSpacing(SPACING)
        grid.setVerticalSpacing(0)
        grid.setColumnMinimumWidth(0, first_width - SPACING)
        self.labels = []
        for k in range(1 + n_runs):
            label = QLabel()
            label.setFont(font)
            label.setTextFormat(Qt.TextFormat.RichText)
            # Ignored width: the columns keep their size whatever the numbers, so nothing jitters.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            if k == 0:
                grid.addWidget(label, 0, 0, Qt.AlignmentFlag.AlignTop)
            else:
                grid.addWidget(label, (k - 1) // per_row, 1 + (k - 1) % per_row)
            self.labels.append(label)
        for c in range(1, per_row + 1):
            grid.setColumnStretch(c, 1)
        self.setFixedHeight(rows * metrics.height() + 4)

    def _plain(self, run, with_names: bool) -> str:
        name = f"● {run.name}  " if with_names and not self.single else "● " if not self.single else ""
        return f"{name}{self.unit} {WIDEST_NUMBER}" if with_names or self.single else f"{name}{WIDEST_NUMBER}"

    def show_at(self, upto: int) -> None:
        trajs = self.trajectories
        if self.single:
            t = trajs[0]
            i = min(upto, len(t)) - 1
            self.labels[0].setText(f"iteration <b>{int(t.iteration[i])}</b> &nbsp;·&nbsp; "
                                   f"epoch <b>{int(t.epoch[i])}</b>")
            self.labels[1].setText(self._run_text(0, upto))
            return
        longest = max(trajs, key=len)
        j = min(upto, len(longest)) - 1
        unit = "" if self.with_names else f" &nbsp;·&nbsp; {escape(self.unit)}"
        self.labels[0].setText(f"iteration <b>{int(longest.iteration[j])}</b>{unit}")
        for k in range(len(trajs)):
            self.labels[k + 1].setText(self._run_text(k, upto))

    def _run_text(self, k: int, upto: int) -> str:
        run, traj = self.runs[k], self.trajectories[k]
        color = run.color
        head = ""
        if not self.single:
            head = f"<span style='color:{color}'>●</span> "
            if self.with_names:
                head += f"{escape(run.name)} &nbsp;"
        if upto >= len(traj) and traj.outcome == "diverged":
            return f"{head}<span style='color:{style.DIVERGED_COLOR}'>diverged</span>"
        i = min(upto, len(traj)) - 1
        word = f"{escape(self.unit)} " if self.with_names or self.single else ""
        return f"{head}{word}<b style='color:{color}'>{fmt(float(traj.loss[i]))}</b>"


__all__ = ["Caption", "fmt"]
