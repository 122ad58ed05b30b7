"""The race: a list of the session's runs, each in its colour, with add, remove, rename and select.

The list only shows and asks; the main window owns the Session and decides. Selecting a run makes the control
panel edit it (and the contour show its loss, when runs differ in criterion).
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout,
                               QWidget)

from ..core.session import MAX_RUNS

OUTCOME_MARKS = {"diverged": "  ✗ diverged", "failed": "  ✗ failed", "finished": "  ✓"}


def swatch(color: str, size: int = 14) -> QIcon:
    """A round colour chip for a run."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(color))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pix)


def _tooltip(name: str, message: str) -> str:
    return f"{name}: {message}" if message else ""


class RunsPanel(QWidget):
    """Rows ``(name, colour, outcome)``; signals ask the window to change the session."""

    selected = Signal(int)            # row
    add_requested = Signal()
    remove_requested = Signal(int)    # row
    renamed = Signal(int, str)        # row, new name

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        title = QLabel("Runs")
        title.setProperty("role", "heading")
        self.list = QListWidget()
        self.list.setIconSize(QSize(14, 14))
        self.list.setToolTip("Runs race on the same surface. Select one to edit it; double-click to rename.")
        self.add_button = QPushButton("+ Add run")
        self.add_button.setToolTip("Race another optimizer from the same start point")
        self.remove_button = QPushButton("− Remove")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(title)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.add_requested)
        self.remove_button.clicked.connect(self._remove)
        self.list.currentRowChanged.connect(self._row_changed)
        self.list.itemChanged.connect(self._item_changed)
        self._names: list[str] = []

    def set_runs(self, rows: list[tuple], current: int) -> None:
        """Show ``rows`` of (name, colour, outcome[, message]) and select row ``current`` (no signals).

        A run's message (why it diverged or failed) is its entry's tooltip: the status bar may cut it short.
        """
        self.list.blockSignals(True)
        self.list.clear()
        self._names = [row[0] for row in rows]
        for name, color, outcome, *message in rows:
            item = QListWidgetItem(swatch(color), name + OUTCOME_MARKS.get(outcome, ""))
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            item.setToolTip(_tooltip(name, message[0] if message else ""))
            self.list.addItem(item)
        self.list.setCurrentRow(current)
        self.list.blockSignals(False)
        # As tall as its rows (up to the maximum number of runs): the control panel gets the rest.
        row_h = max(self.list.sizeHintForRow(0), 18)
        self.list.setFixedHeight(row_h * max(len(rows), 2) + 2 * self.list.frameWidth() + 4)
        self.add_button.setEnabled(len(rows) < MAX_RUNS)
        self.remove_button.setEnabled(len(rows) > 1)

    def set_outcome(self, row: int, outcome: str, message: str = "") -> None:
        item = self.list.item(row)
        if item is not None:
            self.list.blockSignals(True)
            item.setText(self._names[row] + OUTCOME_MARKS.get(outcome, ""))
            item.setToolTip(_tooltip(self._names[row], message))
            self.list.blockSignals(False)

    def _remove(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.remove_requested.emit(row)

    def _row_changed(self, row: int) -> None:
        if row >= 0:
            self.selected.emit(row)

    def _item_changed(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        text = item.text()
        for mark in OUTCOME_MARKS.values():
            text = text.removesuffix(mark)
        text = text.strip()
        if text and row < len(self._names) and text != self._names[row]:
            self.renamed.emit(row, text)
