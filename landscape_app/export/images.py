"""A frame image's pixels as numpy arrays (RGB, or Qt's own 32-bit words)."""
from __future__ import annotations

import numpy as np


def qimage_to_qt32(image) -> np.ndarray:
    """A (height, width, 4) uint8 copy of an RGB32 QImage's pixels as they lie in memory (each the 32-bit word
    0xffRRGGBB: ``writers.QT32_PIXEL_FORMAT``)."""
    from PySide6.QtGui import QImage
    if image.format() != QImage.Format.Format_RGB32:
        image = image.convertToFormat(QImage.Format.Format_RGB32)
    w, h = image.width(), image.height()
    buf = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(h, image.bytesPerLine())
    return buf[:, : 4 * w].reshape(h, w, 4).copy()


def qimage_to_rgb(image) -> np.ndarray:
    """A (height, width, 3) uint8 copy of a QImage."""
    from PySide6.QtGui import QImage
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = rgb.width(), rgb.height()
    buf = np.frombuffer(rgb.constBits(), np.uint8, count=rgb.sizeInBytes()).reshape(h, rgb.bytesPerLine())
    return buf[:, : 3 * w].reshape(h, w, 3).copy()
