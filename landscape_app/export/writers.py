"""Frame writers: MP4 (H.264) and WebM (VP9) through imageio-ffmpeg's bundled ffmpeg, a streaming GIF, a folder of
numbered PNG frames, and a PNG still.

Every writer takes RGB frames (``(height, width, 3)`` uint8 arrays) one at a time and keeps at most two of them,
so memory stays bounded whatever the number of frames. Each writes to a temporary file (or folder) beside the
target and renames it into place on ``close()``; ``abort()`` (or leaving the ``with`` block by an exception,
Ctrl-C included) removes it and leaves the target untouched.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..core.errors import ExportError
from .plan import FRAME_NAME, FRAME_PATTERN, ExportPlan

# x264's "veryfast" preset: about as fast as "ultrafast" here but a third of the size on these mostly-still frames.
FFMPEG_CODECS = {
    "mp4": ["-f", "mp4", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-movflags", "+faststart"],
    "webm": ["-f", "webm", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
             "-b:v", "0", "-crf", "30", "-pix_fmt", "yuv420p"],
}
TRANSPARENT = 255           # GIF palette index kept free to mark unchanged pixels in a delta frame


class FrameWriter:
    """Base: a ``with`` block commits on success and aborts on any exception."""

    def __init__(self, path: Path, size: tuple[int, int]):
        self.path = Path(path)
        self.size = (int(size[0]), int(size[1]))
        self.frames_written = 0
        self._done = False

    def write(self, frame: np.ndarray) -> None:
        """Append one RGB frame of the writer's size."""
        if self._done:
            raise RuntimeError("writer already closed")
        w, h = self.size
        if frame.shape != (h, w, 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame must be ({h}, {w}, 3) uint8, not {frame.shape} {frame.dtype}")
        self._write(frame)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file and move it into place."""
        if self._done:
            return
        self._done = True
        try:
            self._finish()
        except BaseException:
            self._discard()
            raise

    def abort(self) -> None:
        """Throw away what was written; the target stays as it was."""
        if self._done:
            return
        self._done = True
        self._discard()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False

    # subclasses
    def _write(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _discard(self) -> None:
        raise NotImplementedError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_file_beside(path: Path, suffix: str = "") -> Path:
    """A new empty hidden file beside ``path``, with the permissions a plain new file would get.

    (``mkstemp`` makes files only their owner can read; a finished export should not stay that way.)
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".partial{suffix}", dir=path.absolute().parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    return Path(tmp)


def write_bytes_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place."""
    path = Path(path)
    tmp = temp_file_beside(path, path.suffix)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def write_text_atomic(path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def _unlink(path: Path | None) -> None:
    if path is not None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


class FFmpegWriter(FrameWriter):
    """MP4 (H.264, yuv420p) or WebM (VP9) by piping raw RGB frames to ffmpeg."""

    def __init__(self, path: Path, size: tuple[int, int], fps: float, kind: str = "mp4"):
        super().__init__(path, size)
        import imageio_ffmpeg
        w, h = self.size
        if kind not in FFMPEG_CODECS:
            raise ValueError(f"unknown video kind {kind!r}")
        if w % 2 or h % 2:
            raise ExportError(f"{path}: {w}x{h}: video needs even width and height")
        self._tmp = temp_file_beside(self.path, "." + kind)
        self._log = tempfile.TemporaryFile()
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error", "-nostdin",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-framerate", f"{fps:g}", "-i", "-",
               "-an", *FFMPEG_CODECS[kind], str(self._tmp)]
        try:
            # A session of its own: Ctrl-C in the terminal reaches us, and we decide what happens to ffmpeg.
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log,
                                          start_new_session=True)
        except OSError as exc:
            self._log.close()
            _unlink(self._tmp)
            raise ExportError(f"cannot start ffmpeg ({exc})") from None

    def _write(self, frame: np.ndarray) -> None:
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).data)
        except (BrokenPipeError, OSError):
            self._proc.wait()
            raise ExportError(f"ffmpeg stopped while writing {self.path}: {self._ffmpeg_said()}") from None

    def _ffmpeg_said(self) -> str:
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace").strip()
        return text.splitlines()[-1] if text else f"exit status {self._proc.returncode}"

    def _finish(self) -> None:
        try:
            self._proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        code = self._proc.wait()
        if code != 0:
            raise ExportError(f"ffmpeg could not write {self.path}: {self._ffmpeg_said()}")
        self._log.close()
        os.replace(self._tmp, self.path)

    def _discard(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        try:
            self._proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        self._proc.wait()
        self._log.close()
        _unlink(self._tmp)


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
        self._palette = None
        self._tmp = temp_file_beside(self.path, ".gif")
        self._file = open(self._tmp, "wb")
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
        self._file.write(b"GIF89a" + w.to_bytes(2, "little") + h.to_bytes(2, "little")
                         + bytes([0xF7, 0, 0]) + table + loop)

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
        if self._palette is None:
            raise ExportError(f"{self.path}: no frames to write")
        self._flush()
        self._file.write(b";")
        self._file.close()
        os.replace(self._tmp, self.path)

    def _discard(self) -> None:
        self._file.close()
        _unlink(self._tmp)


def _pack(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 (..., 3) as one uint32 per pixel, for fast whole-colour comparisons."""
    rgb = rgb.astype(np.uint32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


class PngFolderWriter(FrameWriter):
    """Numbered PNG frames (frame_00000.png, ...) built in a temporary folder renamed into place at the end."""

    def __init__(self, path: Path, size: tuple[int, int]):
        super().__init__(path, size)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent))
        os.chmod(self._tmp, 0o777 & ~_umask())
        self._last = None

    def _write(self, frame: np.ndarray) -> None:
        from PIL import Image
        target = self._tmp / FRAME_NAME.format(self.frames_written)
        if self._last is not None and (frame is self._last[0] or np.array_equal(frame, self._last[0])):
            shutil.copyfile(self._last[1], target)     # the hold: the same picture again, no re-encoding
        else:
            Image.fromarray(frame).save(target, format="PNG", compress_level=3)
        self._last = (frame, target)

    def _finish(self) -> None:
        self._last = None
        old = None
        if self.path.exists():
            # The plan let only a folder of frames through: swap it out, then delete it.
            if not all(FRAME_PATTERN.fullmatch(p.name) for p in self.path.iterdir()):
                raise ExportError(f"{self.path}: the folder gained other files meanwhile; not replacing it")
            old = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".old", dir=self.path.parent))
            os.replace(self.path, old)
        try:
            os.replace(self._tmp, self.path)
        except BaseException:
            if old is not None:
                os.replace(old, self.path)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _discard(self) -> None:
        self._last = None
        shutil.rmtree(self._tmp, ignore_errors=True)


class PngStillWriter(FrameWriter):
    """One PNG picture: the last frame written wins."""

    def __init__(self, path: Path, size: tuple[int, int]):
        super().__init__(path, size)
        self._frame = None

    def _write(self, frame: np.ndarray) -> None:
        self._frame = frame

    def _finish(self) -> None:
        if self._frame is None:
            raise ExportError(f"{self.path}: no picture to write")
        write_png(self.path, self._frame)
        self._frame = None

    def _discard(self) -> None:
        self._frame = None


def write_png(path, frame: np.ndarray) -> None:
    """Save an RGB array as PNG through a temporary file renamed into place."""
    from PIL import Image
    path = Path(path)
    tmp = temp_file_beside(path, ".png")
    try:
        Image.fromarray(frame).save(tmp, format="PNG", optimize=False, compress_level=6)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def open_writer(plan: ExportPlan, palette_frames=None, fixed_colors=()) -> FrameWriter:
    """The writer for ``plan``'s output kind (SVG stills are not frames: see ``frames.save_svg``).

    ``palette_frames`` and ``fixed_colors``: the GIF's palette (see ``GifWriter``).
    """
    if plan.kind in FFMPEG_CODECS:
        return FFmpegWriter(plan.output, plan.size, plan.fps, plan.kind)
    if plan.kind == "gif":
        return GifWriter(plan.output, plan.size, plan.fps, palette_frames, fixed_colors)
    if plan.kind == "frames":
        return PngFolderWriter(plan.output, plan.size)
    if plan.kind == "png":
        return PngStillWriter(plan.output, plan.size)
    raise ValueError(f"no frame writer for {plan.kind!r}")


__all__ = ["FrameWriter", "FFmpegWriter", "GifWriter", "PngFolderWriter", "PngStillWriter", "open_writer",
           "write_png", "write_text_atomic", "write_bytes_atomic", "temp_file_beside"]
