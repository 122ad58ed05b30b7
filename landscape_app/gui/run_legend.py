"""The window's one legend of the race: each run's colour and name in a row above the views.

The views inside the window leave their own run legends out (a legend over a plot hides the paths under it, and
four of them took half of a lecture-mode contour); exported frames keep theirs, drawn beside each plot.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from . import style

OUTCOME_MARKS = {"diverged": " ✗ diverged", "failed": " ✗ failed"}


class RunLegend(QLabel):
    """``set_runs([(name, colour, outcome), ...])``; wraps between runs when they do not fit in one line."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("run_legend")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setToolTip("The runs of the race, in their colours in every view")
        self.lecture = False
        self._rows: list[tuple[str, str, str]] = []

    def set_runs(self, rows) -> None:
        self._rows = [(name, color, outcome) for name, color, outcome, *_ in rows]
        self._render()

    def set_lecture_mode(self, on: bool) -> None:
        self.lecture = bool(on)
        self._render()

    def names(self) -> list[str]:
        return [name for name, _, _ in self._rows]

    def _render(self) -> None:
        s = style.sizes(self.lecture)
        entries = []
        for name, color, outcome in self._rows:
            mark = OUTCOME_MARKS.get(outcome, "")
            mark_html = (f'<span style="color:{style.DIVERGED_COLOR}">{escape(mark).replace(" ", "&nbsp;")}</span>'
                         if mark else "")
            # Non-breaking spaces inside an entry: lines break between runs, never inside a name.
            text = escape(name).replace(" ", "&nbsp;")
            entries.append(f'<span style="color:{color}">━━●</span>&nbsp;{text}{mark_html}')
        self.setText('<span style="white-space:normal">' + "&nbsp;&nbsp;&nbsp;&nbsp; ".join(entries) + "</span>")
        self.setStyleSheet(f"color: {style.FOREGROUND}; font-size: {s.label_pt}pt; padding: 1px 10px;")
        self.setVisible(bool(self._rows))
