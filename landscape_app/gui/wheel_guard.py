"""The mouse wheel scrolls a scrolled panel; it changes a setting only in the control that has the focus.

Sliders, spin boxes and combo boxes take the wheel wherever the pointer is. In a scrolled panel, scrolling moves
them under a still pointer, and the next notch then changes a learning rate or a model the user never touched.
Guarded, such a control takes the focus only by a click or Tab (``StrongFocus``, not ``WheelFocus``, which the
wheel itself would grant before any filter sees the event) and, without the focus, passes the wheel on: Qt offers
an ignored wheel event to the parent widgets, up to the scroll area, which scrolls.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QComboBox, QScrollBar, QWidget

WHEEL_WIDGETS = (QAbstractSlider, QAbstractSpinBox, QComboBox)


def guarded(widget: QObject) -> bool:
    """A control that the wheel changes; a scroll bar (a list's, inside a combo box's popup) is for scrolling."""
    return isinstance(widget, WHEEL_WIDGETS) and not isinstance(widget, QScrollBar)


class WheelGuard(QObject):
    """Guards every wheel-sensitive control under ``root``, including the ones its sections build later."""

    def __init__(self, root: QWidget):
        super().__init__(root)
        self._root = root
        self._scan_pending = False
        self.scan()

    def scan(self) -> None:
        """Guard the controls under the root now (also done by itself once a child is added)."""
        self._scan_pending = False
        for w in (self._root, *self._root.findChildren(QWidget)):
            # Every widget is watched, to hear of the children added to it; installing again changes nothing.
            w.installEventFilter(self)
            if guarded(w) and w.focusPolicy() != Qt.FocusPolicy.StrongFocus:
                w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.ChildAdded:
            # The child may still be under construction (its type unknown yet): look once this event is over.
            if not self._scan_pending:
                self._scan_pending = True
                QTimer.singleShot(0, self, self.scan)
        elif kind == QEvent.Type.Wheel and guarded(obj) and not obj.hasFocus():
            event.ignore()      # handled here, not accepted: Qt offers it to the parents
            return True
        return False
