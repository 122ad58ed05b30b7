"""A small table under the loss curve that keeps a network's projected paths honest.

One row per run at the shown step: its true loss (at its own parameters), the surface's value under its projected
point, and how far it lies off the plane, so no one mistakes a projection for the path. Hidden for the linear
models, whose paths lie on their surface.

Each phrase is a cell of its own that never wraps, and the columns line up from run to run; the table takes one
line per run and at most ``MAX_ROWS`` lines of the loss curve's height (more runs scroll). A word-wrapped line
broke mid-phrase ("loss / 0.283") and, with three runs, took the loss plot's height.
"""
from __future__ import annotations

import html
import math
from typing import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLayout, QScrollArea, QSizePolicy, QWidget

from . import style
from .elided import ElidedLabel

HEADER = "Projected paths:"
ELSEWHERE = "not on this plane (its network has other parameters: BatchNorm's scale and shift)"
MAX_ROWS = 4              # lines of height at most; more runs scroll
ON_PLANE = 1e-9           # a distance below this times the plane's scale is rounding noise: it reads 0
SEP = " · "
GAP = 10                  # pixels between columns
MARGIN = (6, 2, 6, 2)

TIP = ("A network's path lives among all its parameters; the contour and the 3-D view draw its projection onto the "
       "surface's plane. Per run: its true loss (the loss curve's), the surface's value under its projected point, "
       "and how far it lies off the plane.")


def _num(v: float) -> str:
    """Three significant digits, plain where that is short: 0.283, 12.3, 1260; 2.15e-05 below 0.001."""
    if not math.isfinite(v):
        return "—"
    if v == 0:
        return "0"
    if 99.95 <= abs(v) < 1e6:
        return f"{v:.0f}"
    return f"{v:.3g}" if abs(v) >= 1e-3 else f"{v:.2e}"


def distance_text(d: float, scale: float = 1.0) -> str:
    """A distance off the plane; 0 where it is rounding noise next to the plane's scale."""
    return "0" if math.isfinite(d) and abs(d) < ON_PLANE * max(scale, 1e-300) else _num(d)


def note_cells(p, upto: int | None) -> tuple[str, str, str] | None:
    """``("loss 0.31", "surface 0.45", "1.2 off the plane")`` for one projection at its shown step (``upto``: the
    timeline's length; None: the end); None before its first point. A projection still on its way names the
    earlier step it shows."""
    n = len(p.distance)
    if n == 0:
        return None
    wanted = max(p.total, n) if upto is None else upto
    i = max(1, min(wanted, n)) - 1
    surface = "surface accuracy" if getattr(p, "metric", "loss") == "accuracy" else "surface"
    distance = f"{distance_text(float(p.distance[i]), getattr(p, 'scale', 1.0))} off the plane"
    if wanted > n:
        distance += f" (step {int(p.flat.iteration[i])})"
    return f"loss {_num(float(p.flat.loss[i]))}", f"{surface} {_num(float(p.surface_loss[i]))}", distance


def note_lines(projected: Mapping, names: Mapping[int, str], upto: int | None) -> list[tuple[int, str]]:
    """``(run id, "loss 0.31 · surface 0.45 · 1.2 off the plane")`` per projected run at its shown step (``upto``
    as in ``note_cells``). The run is named by its colour on screen, by ``names`` in the tooltip."""
    out = []
    for rid, p in projected.items():
        cells = note_cells(p, upto)
        if cells is not None:
            out.append((rid, SEP.join(cells)))
    return out


class _Row:
    """One run's cells: the header (first row only), its colour, the three phrases, or the one that says its
    network is not the plane's."""

    def __init__(self, grid: QGridLayout, r: int):
        def label(column: int, span: int = 1, cls=QLabel) -> QLabel:
            w = cls()
            w.setTextFormat(Qt.TextFormat.PlainText)
            w.setWordWrap(False)
            # The gap between columns is each cell's own right margin: a grid's spacing is lost between columns
            # that a hidden cell spans (the row that says its network is not the plane's).
            w.setContentsMargins(0, 0, GAP, 0)
            grid.addWidget(w, r, column, 1, span)
            return w

        self.header = label(0)
        self.dot = label(1)
        self.dot.setTextFormat(Qt.TextFormat.RichText)
        self.cells = [label(2), label(3), label(4)]
        self.elsewhere = label(2, 4, ElidedLabel)

    def show(self, header: str, color: str | None, cells) -> None:
        _set(self.header, header)
        self.header.setVisible(bool(header))
        _set(self.dot, f'<span style="color:{color}">●</span>' if color else "")
        elsewhere = isinstance(cells, str)
        for w, text in zip(self.cells, ("", "", "") if elsewhere else cells):
            _set(w, text)
            w.setVisible(not elsewhere)
        self.elsewhere.setText(cells if elsewhere else "")
        self.elsewhere.setVisible(elsewhere)
        self.dot.setVisible(True)

    def hide(self) -> None:
        for w in (self.header, self.dot, *self.cells, self.elsewhere):
            w.setVisible(False)


def _width(label: QLabel) -> int:
    """The width a cell holds its column at: a projection's passing "(step 207)" (while it catches up) does not
    count, or it would widen its column, and push the header out, for good."""
    text = label.text()
    if " (step " not in text:
        return label.sizeHint().width()
    return label.fontMetrics().horizontalAdvance(text.split(" (step ")[0]) + GAP + 1


def _set(label: QLabel, text: str) -> None:
    if label.text() != text:        # a QLabel measures its text again on every setText
        label.setText(text)


class ProjectionNote(QScrollArea):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("projection_note")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        # Never wider than the loss curve above it: a long row is cut at the right (its tooltip has it whole).
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setToolTip(TIP)
        self.setStyleSheet(f"QLabel {{ color: {style.MUTED}; }}")
        table = QWidget()
        self.grid = QGridLayout(table)
        self.grid.setContentsMargins(*MARGIN)
        # The table is as wide as its columns (the scroll area cuts it at the right), never squeezed: squeezed
        # columns overlapped ("surface 0.08270.514 off the plane").
        self.grid.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        self.grid.setHorizontalSpacing(0)
        self.grid.setVerticalSpacing(0)
        self.grid.setColumnStretch(5, 1)            # the columns keep to the left
        self.setWidget(table)
        # See-through, on whatever it lies (the window's or an exported frame's background): a scroll area fills
        # its viewport and its widget, with the application's palette where a style sheet is set.
        self.viewport().setAutoFillBackground(False)
        table.setAutoFillBackground(False)
        self._rows: list[_Row] = []
        self._widths: dict[int, int] = {}           # each column's width so far: numbers never shift a column
        self._runs: dict[int, tuple[str, str]] = {}
        self.lines: list[tuple[int, str]] = []
        self.setVisible(False)

    def set_runs(self, runs) -> None:
        self._runs = {r.run_id: (r.name, r.color) for r in runs}
        self._release_columns()

    def set_lecture_mode(self, on: bool) -> None:
        """Lecture mode enlarges the application's font, which this table uses: its columns are measured anew."""
        self._release_columns()

    def _release_columns(self) -> None:
        for column in self._widths:
            self.grid.setColumnMinimumWidth(column, 0)
        self._widths.clear()

    def text(self) -> str:
        """The table as one line of plain text."""
        return "   ".join([HEADER] + [f"● {text}" for _, text in self.lines])

    def show_projections(self, projected: Mapping, upto: int | None, elsewhere=()) -> None:
        """Each projected run's row; ``elsewhere``: runs whose parameters are not the plane's (no path drawn)."""
        names = {rid: name for rid, (name, _) in self._runs.items()}
        rows = [(rid, note_cells(p, upto)) for rid, p in projected.items()]
        rows = [(rid, cells) for rid, cells in rows if cells is not None] + [(rid, ELSEWHERE) for rid in elsewhere]
        self.lines = [(rid, cells if isinstance(cells, str) else SEP.join(cells)) for rid, cells in rows]
        if not self.lines and not projected:
            self.setVisible(False)
            return
        while len(self._rows) < len(rows):
            self._rows.append(_Row(self.grid, len(self._rows)))
        header = self._header_fits()
        for k, row in enumerate(self._rows):
            if k < len(rows):
                rid, cells = rows[k]
                row.show(HEADER if k == 0 and header else "", self._runs.get(rid, ("", style.MUTED))[1], cells)
            else:
                row.hide()
        self._hold_columns(len(rows))
        tips = [f"{names.get(rid, f'run {rid}')}: {text}" for rid, text in self.lines]
        self.setToolTip("\n".join([TIP, HEADER, *tips]))
        # One line per run, at most MAX_ROWS of the loss curve's height.
        line = max(self.fontMetrics().height(), self._rows[0].dot.sizeHint().height())
        shown = max(1, min(len(rows), MAX_ROWS))
        self.setFixedHeight(shown * line + MARGIN[1] + MARGIN[3])
        self.setVisible(True)

    def _header_fits(self) -> bool:
        """Whether the rows, as wide as they were so far, leave room for the header before them; in a narrow pane
        the numbers matter more (the header is in the tooltip too)."""
        rest = sum(self._widths.get(c, 0) for c in range(1, 5)) + MARGIN[0] + MARGIN[2]
        fits = rest + self.fontMetrics().horizontalAdvance(HEADER) + GAP <= self.viewport().width()
        if not fits and self._widths.get(0):
            self._widths[0] = 0
            self.grid.setColumnMinimumWidth(0, 0)
        return fits

    def _hold_columns(self, n: int) -> None:
        """Widen each column to its widest cell so far, never narrow it: a number growing a digit would move the
        columns to its right on every frame."""
        for column in range(5):
            cells = [[row.header, row.dot, *row.cells][column] for row in self._rows[:n]]
            if column == 0 and all(w.isHidden() for w in cells):
                continue        # no header: no column for it
            need = max((_width(w) for w in cells if not w.isHidden()), default=0)
            if need > self._widths.get(column, 0):
                self._widths[column] = need
                self.grid.setColumnMinimumWidth(column, need)

    def row_texts(self) -> list[list[str]]:
        """The shown rows' cells, as on screen (for tests)."""
        out = []
        for row in self._rows:
            if row.dot.isVisibleTo(self):
                cells = [row.elsewhere.text()] if row.elsewhere.isVisibleTo(self) else [w.text() for w in row.cells]
                out.append([row.header.text(), *cells])
        return out


__all__ = ["ProjectionNote", "note_lines", "note_cells", "distance_text", "HEADER", "ELSEWHERE", "TIP"]
