"""A looping GIF written as it goes, with bounded memory: one global palette, delta frames, merged repeats."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.files import temp_file_beside, unlink_quietly as _unlink
from .writer_base import FrameWriter

TRANSPARENT = 255           # palette index kept free to mark unchanged pixels in a delta frame


class GifWriter(FrameWriter):
    """A looping GIF written as it goes: one global palette, and each frame stored as the rectangle that changed
    with unchanged pixels transparent (so the file stays small). Identical consecutive frames are merged into one
    longer frame, which is also how the final hold is stored.

    The palette comes from ``palette_frames`` (pass the first and last frames: between them they hold every colour
    of the animation), or else from the first frame written. ``fixed_colors`` ("#RRGGBB") are always in it
    exactly: a thin path covers too few pixels for the median cut to give its colour an entry of its own.
    """

    def __init__(self, path: Path, size: tuple[int, int], fps: float, palette_frames=None, fixed_colors=()):
        super().__init__(path, size)
        self.fps = float(fps)
        fixed = [tuple(int(c.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)) for c in fixed_colors]
        self._fixed = np.array(list(dict.fromkeys(fixed))[:64], dtype=np.uint8).reshape(-1, 3)
        self._palette = self._header = None
        self._tmp = self._file = None
        self._shown = None       # palette indices of what a viewer shows after the last frame written
        self._pending = None     # the newest frame, not yet written: its duration may still grow
        self._pending_cs = 0
        self._index = 0
        if palette_frames is not None:
            self._set_palette(list(palette_frames))

    def _set_palette(self, frames) -> None:
        from PIL import Image
        sample = Image.fromarray(np.concatenate([np.asarray(f, np.uint8) for f in frames], axis=0))
        # Median cut over the sample: the colour map's gradient, the paths and the text each get their share.
        free = 255 - len(self._fixed)
        quantized = sample.quantize(colors=free, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        cut = np.array(quantized.getpalette()[: 3 * free], dtype=np.uint8)
        colors = np.concatenate([self._fixed.ravel(), cut])
        colors = np.concatenate([colors, np.zeros(3 * 255 - colors.size, np.uint8)])
        self._palette = Image.new("P", (1, 1))
        self._palette.putpalette(colors.tobytes())          # 255 entries: index 255 stays free
        w, h = self.size
        table = np.concatenate([colors, np.zeros(3, np.uint8)]).tobytes()
        loop = b"!\xff\x0bNETSCAPE2.0\x03\x01" + (0).to_bytes(2, "little") + b"\x00"
        self._header = (b"GIF89a" + w.to_bytes(2, "little") + h.to_bytes(2, "little") + bytes([0xF7, 0, 0])
                        + table + loop)

    def _open(self) -> None:
        self._tmp = temp_file_beside(self.path, ".gif")
        self._file = open(self._tmp, "wb")

    def _indices(self, frame: np.ndarray) -> np.ndarray:
        from PIL import Image
        img = Image.fromarray(frame).quantize(palette=self._palette, dither=Image.Dither.NONE)
        indices = np.array(img)
        if len(self._fixed):
            # Pillow's palette lookup is approximate (a coarse colour cube): give the fixed colours (the runs')
            # their own entries exactly wherever they are drawn.
            packed = _pack(frame)
            for i, color in enumerate(_pack(self._fixed[None, :, :])[0]):
                indices[packed == color] = i
        return indices

    def _centiseconds(self) -> int:
        # Exact over the whole animation: frame i starts at round(100 i / fps) hundredths of a second.
        i = self._index
        return int(round(100 * (i + 1) / self.fps)) - int(round(100 * i / self.fps))

    def _write(self, frame: np.ndarray) -> None:
        if self._palette is None:
            self._set_palette([frame])
        if self._header is not None:
            self._file.write(self._header)
            self._header = None
        indices = self._indices(frame)
        duration = self._centiseconds()
        self._index += 1
        if self._pending is not None and np.array_equal(indices, self._pending):
            self._pending_cs += duration
            return
        self._flush()
        self._pending, self._pending_cs = indices, duration

    def _flush(self) -> None:
        if self._pending is None:
            return
        from PIL import GifImagePlugin, Image
        new, old = self._pending, self._shown
        offset = (0, 0)
        params = {"duration": 10 * self._pending_cs, "disposal": 1}
        if old is None:
            region = new
        else:
            changed = new != old
            rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
            if rows.size == 0:      # cannot happen (equal frames were merged) but keep a valid 1-pixel frame
                rows, cols = np.array([0]), np.array([0])
            y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
            region = np.where(changed[y0:y1, x0:x1], new[y0:y1, x0:x1], TRANSPARENT).astype(np.uint8)
            offset = (int(x0), int(y0))
            params["transparency"] = TRANSPARENT
        img = Image.frombytes("P", (region.shape[1], region.shape[0]), np.ascontiguousarray(region).tobytes())
        img.putpalette(self._palette.getpalette())
        for chunk in GifImagePlugin.getdata(img, offset, **params):
            self._file.write(chunk)
        self._shown, self._pending = new, None

    def _finish(self) -> None:
        self._flush()
        self._file.write(b";")
        self._file.close()
        os.replace(self._tmp, self.path)

    def _discard(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:      # its buffer could not be written (a full disk): the file is thrown away anyway
                pass
        _unlink(self._tmp)


def _pack(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 (..., 3) as one uint32 per pixel, for fast whole-colour comparisons."""
    rgb = rgb.astype(np.uint32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


__all__ = ["GifWriter"]
