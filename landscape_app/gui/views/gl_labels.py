"""All of a 3-D view's text labels in one GL item. Imports pyqtgraph.opengl: import it only to build a 3-D view.

pyqtgraph's GLTextItem opens a QPainter on the GL widget for each label and each frame (~0.2 ms each, holding
the GIL the training thread needs); ``GLLabels`` paints every label with one QPainter.
"""
from __future__ import annotations

from pyqtgraph.opengl import GLGraphicsItem
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QFontMetrics, QMatrix4x4, QPainter, QVector3D

from .. import style


def label(pos, text: str, points: int, color=style.FOREGROUND) -> tuple:
    """One label for ``GLLabels.set_labels``: its scene position, text, font size and colour."""
    return (tuple(float(v) for v in pos), text, points, color)


class GLLabels(GLGraphicsItem.GLGraphicsItem):
    """Labels (``label`` tuples) centred on their scene positions."""

    def __init__(self):
        super().__init__()
        self.setGLOptions("additive")
        self.labels = []

    def set_labels(self, labels) -> None:
        # (position, text, font, pen colour, half width, half height of the text's tight box)
        self.labels = []
        for pos, text, points, color in labels:
            font = style.font(points)
            box = QFontMetrics(font).tightBoundingRect(text)
            self.labels.append((QVector3D(*pos), text, font, style.qcolor(color),
                                box.width() / 2.0, box.height() / 2.0))
        self.update()

    def texts(self) -> list[str]:
        return [entry[1] for entry in self.labels]

    def paint(self):
        if not self.labels:
            return
        self.setupGLState()
        rect = QRectF(self.view().rect())
        to_viewport = QMatrix4x4()
        to_viewport.viewport(rect.left(), rect.bottom(), rect.width(), -rect.height())
        project = to_viewport * self.mvpMatrix()
        painter = QPainter(self.view())
        painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        for pos, text, font, color, half_w, half_h in self.labels:
            at = project.map(pos).toPointF()
            painter.setPen(color)
            painter.setFont(font)
            painter.drawText(QPointF(at.x() - half_w, at.y() + half_h), text)
        painter.end()
