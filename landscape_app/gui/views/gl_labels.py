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


def _one_place(hidden: list[bool], alternates: list) -> list[bool]:
    """Which labels not to paint: of each pair (label i, its other place i + 1) one at most. An axis's tick labels
    all stay on their first edge when none is hidden there, else all go to the other edge when none is hidden
    there, else each shows where it is seen."""
    out = list(hidden)
    for axis in {a for a in alternates if a is not None}:
        firsts = [i for i, a in enumerate(alternates) if a == axis]
        if not any(hidden[i] for i in firsts):
            chosen = firsts
        elif not any(hidden[i + 1] for i in firsts):
            chosen = [i + 1 for i in firsts]
        else:
            chosen = [i if not hidden[i] else i + 1 for i in firsts]
        for i in firsts:
            out[i] = out[i + 1] = True
        for i in chosen:
            out[i] = hidden[i]
    return out


class GLLabels(GLGraphicsItem.GLGraphicsItem):
    """Labels (``label`` tuples) centred on their scene positions, or beside them (see ``placed``)."""

    def __init__(self):
        super().__init__()
        self.setGLOptions("additive")
        self.labels = []
        self.boxes = []         # (text, its box in the view's pixels) as last painted
        # hides(position, eye) -> True for a tick label (one without ``away``) that something in the scene hides
        # from the camera at ``eye``: text is painted over the GL image, so nothing else would hide it.
        self.hides = None
        self.alternates = []             # per label: its axis when the next label is its other place, else None
        self._hidden = (None, ())        # (camera position, hidden flags) as last worked out

    def set_labels(self, labels, alternates=None) -> None:
        """``alternates[i]``: an axis name when label i+1 is label i at another place (tick labels on the floor's
        opposite edges): an axis's tick labels show on their first edge, or all on the other one where the
        surface hides some of them there (see ``_one_place``); None for a label alone."""
        # (position, text, font, pen colour, half width, half height of the text's tight box, away point, clear box)
        self.labels = []
        self.alternates = list(alternates) if alternates is not None else [None] * len(labels)
        self._hidden = (None, ())        # new labels (and a new surface under them): work it out again
        for pos, text, points, color, away, clear in labels:
            font = style.font(points)
            box = QFontMetrics(font).tightBoundingRect(text)
            self.labels.append((QVector3D(*pos), text, font, style.qcolor(color),
                                box.width() / 2.0, box.height() / 2.0, None if away is None else QVector3D(*away),
                                clear))
        self.update()

    def forget_hidden(self) -> None:
        """The scene under the labels changed: which ones it hides is worked out again at the next paint."""
        self._hidden = (None, ())
        self.update()

    def texts(self) -> list[str]:
        return [entry[1] for entry in self.labels]

    def _hidden_flags(self) -> list[bool]:
        """Which labels not to paint (see ``hides``), worked out again only when the camera or the labels changed."""
        if self.hides is None:
            return [False] * len(self.labels)
        eye = self.view().cameraPosition()
        key = (round(eye.x(), 4), round(eye.y(), 4), round(eye.z(), 4))
        if self._hidden[0] != key:
            at = (eye.x(), eye.y(), eye.z())
            flags = [away is None and bool(self.hides((pos.x(), pos.y(), pos.z()), at))
                     for pos, _t, _f, _c, _w, _h, away, _clear in self.labels]
            self._hidden = (key, _one_place(flags, self.alternates))
        return list(self._hidden[1])

    def paint(self):
        if not self.labels:
            return
        self.setupGLState()
        rect = QRectF(self.view().rect())
        to_viewport = QMatrix4x4()
        to_viewport.viewport(rect.left(), rect.bottom(), rect.width(), -rect.height())
        project = to_viewport * self.mvpMatrix()
        hidden = self._hidden_flags()
        painter = QPainter(self.view())
        painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.boxes = []
        for (pos, text, font, color, half_w, half_h, away, clear), off in zip(self.labels, hidden):
            if off:
                continue
            at = placed(project.map(pos).toPointF(), None if away is None else project.map(away).toPointF(),
                        half_w, half_h, rect, clear)
            self.boxes.append((text, QRectF(at.x() - half_w, at.y() - half_h, 2 * half_w, 2 * half_h)))
            painter.setPen(color)
            painter.setFont(font)
            painter.drawText(QPointF(at.x() - half_w, at.y() + half_h), text)
        painter.end()
