"""How big the main window opens: its preferred size, or the screen's free area when that is smaller.

A projector at 1280x720 or a laptop at 1366x768 is smaller than the preferred 1440x900: a window that size would
put the transport bar and the status bar below the screen's edge. Sizes come from the screen's *available*
geometry (the screen less its panels and docks), and the window's frame is kept inside it as well.
"""
from __future__ import annotations

from PySide6.QtCore import QMargins, QRect, QSize

PREFERRED = QSize(1440, 900)


def fitted_geometry(available: QRect, frame: QMargins | None = None, preferred: QSize = PREFERRED) -> QRect:
    """The window's geometry (without its frame) centred in ``available``: ``preferred``, or less so that the
    window and its ``frame`` (title bar, borders) fit."""
    room = available.marginsRemoved(frame or QMargins())
    rect = QRect(0, 0, min(preferred.width(), room.width()), min(preferred.height(), room.height()))
    rect.moveCenter(room.center())
    return rect


def fits(preferred: QSize, available: QRect, frame: QMargins | None = None) -> bool:
    """Whether a window of ``preferred`` size and its frame fit in ``available``."""
    room = available.marginsRemoved(frame or QMargins())
    return preferred.width() <= room.width() and preferred.height() <= room.height()
