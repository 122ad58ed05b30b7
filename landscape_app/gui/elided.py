"""A one-line label that never sizes its window: a text longer than its room ends in "…".

A plain QLabel asks for the width of its whole text, and a layout grows the window to give it (a diverged run's
message once widened the window past the screen's edge). This label asks for a few characters at least, draws
as much of its text as fits, and offers the whole text as its tooltip whenever it is cut.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MIN_CHARS = 6       # the least it asks for: enough to show that there is a message at all


class ElidedLabel(QLabel):
    """``text()`` stays the whole text; only the drawing is cut to the label's width."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setWordWrap(False)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._own_tooltip = ""

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        if text == self.text():
            return          # measuring a long line's width again took ~5 ms of the GUI thread, for nothing
        super().setText(text)
        self._update_tooltip()

    def setToolTip(self, text: str) -> None:  # noqa: N802
        """A tooltip set from outside is kept; otherwise the whole text is the tooltip while it is cut."""
        self._own_tooltip = text
        super().setToolTip(text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        hint = super().minimumSizeHint()
        room = self.fontMetrics().horizontalAdvance("M" * MIN_CHARS) + self.contentsMargins().left() \
            + self.contentsMargins().right()
        return QSize(min(hint.width(), room), hint.height())

    def is_elided(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def shown_text(self) -> str:
        """What is drawn: the text, cut with "…" to the label's width."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                             max(self.contentsRect().width(), 0))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        if not self._own_tooltip:
            QLabel.setToolTip(self, self.text() if self.text() and self.is_elided() else "")

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment()), self.palette(),
                                  self.isEnabled(), self.shown_text(), self.foregroundRole())
        painter.end()
