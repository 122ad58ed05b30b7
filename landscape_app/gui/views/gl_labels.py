"""All of a 3-D view's text labels in one GL item. Imports pyqtgraph.opengl: import it only to build a 3-D view.

pyqtgraph's GLTextItem opens a QPainter on the GL widget for each label and each frame (~0.2 ms each, holding
the GIL the training thread needs); ``GLLabels`` paints every label with one QPainter.
"""
from __future__ import annotations

from pyqtgraph.opengl import GLGraphicsItem
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QFontMetrics, QMatrix4x4, QPainter, QVector3D

from .. import style


def label(pos, text: str, points: int, color=style.FOREGROUND, away=None, clear=(0.0, 0.0)) -> tuple:
    """One label for ``GLLabels.set_labels``: its scene position, text, font size and colour. ``away`` (a scene
    point) puts the text beside its position on the side facing away from that point, instead of centred, and
    clear of a box of half sizes ``clear`` (pixels) centred there (a tick label at the same place)."""
    return (tuple(float(v) for v in pos), text, points, color,
            None if away is None else tuple(float(v) for v in away), tuple(float(v) for v in clear))


def _reach(ux: float, uy: float, half_w: float, half_h: float) -> float:
    """How far along the unit direction (ux, uy) the edge of a box of half sizes (half_w, half_h) lies."""
    return min(half_w / abs(ux) if ux else float("inf"), half_h / abs(uy) if uy else float("inf"))


def placed(at: QPointF, away: QPointF | None, half_w: float, half_h: float, rect: QRectF,
           clear: tuple[float, float] = (0.0, 0.0)) -> QPointF:
    """The centre of a text box (half sizes ``half_w``, ``half_h``) for a label at ``at`` (pixels).

    Without ``away`` the box is centred on ``at``. With it, the box lies beyond ``at`` on the side facing away
    from ``away`` (and beyond a box of half sizes ``clear`` centred on ``at``), so an axis title at the edge of a
    surface reads outward, off the surface and its paths, at any camera; then it is moved inside ``rect`` (the
    view), so a title near the frame is not cut.
    """
    if away is None:
        return at
    dx, dy = at.x() - away.x(), at.y() - away.y()
    norm = (dx * dx + dy * dy) ** 0.5
    if norm > 0:
        ux, uy = dx / norm, dy / norm
        t = _reach(ux, uy, half_w, half_h) + _reach(ux, uy, *clear)
        at = QPointF(at.x() + ux * t, at.y() + uy * t)
    x = min(max(at.x(), rect.left() + half_w), rect.right() - half_w)
    y = min(max(at.y(), rect.top() + half_h), rect.bottom() - half_h)
    return QPointF(x, y)


class GLLabels(GLGraphicsItem.GLGraphicsItem):
    """Labels (``label`` tuples) centred on their scene positions, or beside them (see ``placed``)."""

    def __init__(self):
        super().__init__()
        self.setGLOptions("additive")
        self.labels = []
        self.boxes = []         # (text, its box in the view's pixels) as last painted

    def set_labels(self, labels) -> None:
        # (position, text, font, pen colour, half width, half height of the text's tight box, away point, clear box)
        self.labels = []
        for pos, text, points, color, away, clear in labels:
            font = style.font(points)
            box = QFontMetrics(font).tightBoundingRect(text)
            self.labels.append((QVector3D(*pos), text, font, style.qcolor(color),
                                box.width() / 2.0, box.height() / 2.0, None if away is None else QVector3D(*away),
                                clear))
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
        self.boxes = []
        for pos, text, font, color, half_w, half_h, away, clear in self.labels:
            at = placed(project.map(pos).toPointF(), None if away is None else project.map(away).toPointF(),
                        half_w, half_h, rect, clear)
            self.boxes.append((text, QRectF(at.x() - half_w, at.y() - half_h, 2 * half_w, 2 * half_h)))
            painter.setPen(color)
            painter.setFont(font)
            painter.drawText(QPointF(at.x() - half_w, at.y() + half_h), text)
        painter.end()
