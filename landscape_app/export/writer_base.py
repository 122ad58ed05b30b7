"""What every frame writer is: a ``with`` block that commits on success and leaves the target untouched otherwise.

Apart from ``writers`` so that the GIF writer and the writers' factory (which makes it) need not import each other.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..core.errors import ExportError
from ..core.files import writing

# QImage.Format_RGB32 holds each pixel as the 32-bit word 0xffRRGGBB: in memory B, G, R, 0xff on a little-endian
# machine. ffmpeg reads that as it is; converting it to packed RGB ourselves cost a third of rendering a frame.
QT32_PIXEL_FORMAT = "bgr0" if sys.byteorder == "little" else "0rgb"
LAYOUTS = {"rgb": ("rgb24", 3), "qt32": (QT32_PIXEL_FORMAT, 4)}    # frame layout: ffmpeg's name, channels


class FrameWriter:
    """Base: a ``with`` block commits on success and aborts on any exception.

    Nothing touches the disk before the first frame (``_open``): an interrupt between making the writer and
    entering its ``with`` block cannot leave a temporary file behind.
    """

    layout = "rgb"              # the frames it takes (see LAYOUTS)

    def __init__(self, path: Path, size: tuple[int, int]):
        self.path = Path(path)
        self.size = (int(size[0]), int(size[1]))
        self.frames_written = 0
        self._done = False
        self._opened = False

    def write(self, frame: np.ndarray) -> None:
        """Append one frame of the writer's size and layout (RGB unless made otherwise)."""
        if self._done:
            raise RuntimeError("writer already closed")
        w, h = self.size
        channels = LAYOUTS[self.layout][1]
        if frame.shape != (h, w, channels) or frame.dtype != np.uint8:
            raise ValueError(f"frame must be ({h}, {w}, {channels}) uint8, not {frame.shape} {frame.dtype}")
        with writing(self.path):          # a full disk or the file-size limit: one line naming the target
            self._ensure_open()
            self._write(frame)
        self.frames_written += 1

    def _ensure_open(self) -> None:
        if not self._opened:
            self._opened = True       # first: an interrupt inside _open still gets _discard
            self._open()

    def close(self) -> None:
        """Finish the file and move it into place."""
        if self._done:
            return
        self._done = True
        with writing(self.path):
            try:
                if self.frames_written == 0:
                    raise ExportError(f"{self.path}: no frames to write")
                self._finish()
            except BaseException:
                self._discard_if_open()
                raise

    def abort(self) -> None:
        """Throw away what was written; the target stays as it was."""
        if self._done:
            return
        self._done = True
        self._discard_if_open()

    def _discard_if_open(self) -> None:
        if self._opened:
            self._discard()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False

    # subclasses: _discard must cope with an _open that was interrupted halfway (attributes still None)
    def _open(self) -> None:
        raise NotImplementedError

    def _write(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _discard(self) -> None:
        raise NotImplementedError
