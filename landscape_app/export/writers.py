"""Frame writers: MP4 (H.264) and WebM (VP9) through imageio-ffmpeg's bundled ffmpeg, a streaming GIF (``gif.py``),
a folder of numbered PNG frames, and a PNG still.

Every writer takes RGB frames (``(height, width, 3)`` uint8 arrays; the video writers also the frame image's own
32-bit pixels, ``layout="qt32"``) one at a time and keeps at most a few of them, so memory stays bounded whatever
the number of frames; a frame must not be changed once written. Each writes to a temporary file (or folder)
beside the target and renames it into place on ``close()``; ``abort()`` (or leaving the ``with`` block by an
exception, Ctrl-C included) removes it and leaves the target untouched.
"""
from __future__ import annotations

import os
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from ..core.errors import ExportError
from ..core.files import (default_mode, temp_file_beside, unlink_quietly, write_bytes_atomic, write_text_atomic,
                          writing)
from .plan import FRAME_NAME, FRAME_PATTERN, ExportPlan
from .writer_base import LAYOUTS, QT32_PIXEL_FORMAT, FrameWriter

# x264's "veryfast" preset: about as fast as "ultrafast" here but a third of the size on these mostly-still frames.
FFMPEG_CODECS = {
    "mp4": ["-f", "mp4", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-movflags", "+faststart"],
    "webm": ["-f", "webm", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
             "-b:v", "0", "-crf", "30", "-pix_fmt", "yuv420p"],
}
# The atomic-file helpers live in the core (sessions use them too); re-exported for the writers' users.
_unlink = unlink_quietly


class FFmpegWriter(FrameWriter):
    """MP4 (H.264, yuv420p) or WebM (VP9) by piping raw frames to ffmpeg.

    A thread of its own feeds the pipe (the GIL is free while the pipe takes a frame), so the next frame is
    rendered while ffmpeg reads this one, and ffmpeg does not wait for us in turn; at most ``QUEUE`` frames wait.
    """

    QUEUE = 2

    def __init__(self, path: Path, size: tuple[int, int], fps: float, kind: str = "mp4", layout: str = "rgb"):
        super().__init__(path, size)
        w, h = self.size
        if kind not in FFMPEG_CODECS:
            raise ValueError(f"unknown video kind {kind!r}")
        if layout not in LAYOUTS:
            raise ValueError(f"unknown frame layout {layout!r}")
        if w % 2 or h % 2:
            raise ExportError(f"{path}: {w}x{h}: video needs even width and height")
        self.fps, self.kind, self.layout = fps, kind, layout
        self._tmp = self._log = self._proc = self._feeder = None
        self._queue: queue.Queue = queue.Queue(self.QUEUE)
        self._broken = False

    def _open(self) -> None:
        import imageio_ffmpeg
        w, h = self.size
        self._log = tempfile.TemporaryFile()
        self._tmp = temp_file_beside(self.path, "." + self.kind)
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error", "-nostdin",
               "-f", "rawvideo", "-pix_fmt", LAYOUTS[self.layout][0], "-s", f"{w}x{h}", "-framerate",
               f"{self.fps:g}", "-i", "-", "-an", *FFMPEG_CODECS[self.kind], str(self._tmp)]
        try:
            # A session of its own: Ctrl-C in the terminal reaches us, and we decide what happens to ffmpeg.
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log,
                                          start_new_session=True)
        except OSError as exc:
            raise ExportError(f"cannot start ffmpeg ({exc})") from None
        self._feeder = threading.Thread(target=self._feed, name="ffmpeg-feeder", daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        while (frame := self._queue.get()) is not None:
            if self._broken:
                continue                # ffmpeg is gone: take what comes until the end, so no put() waits
            try:
                self._proc.stdin.write(frame.data)
            except (OSError, ValueError):           # a broken pipe, or stdin closed by an abort
                self._broken = True

    def _write(self, frame: np.ndarray) -> None:
        if self._broken:
            self._proc.wait()
            raise ExportError(f"ffmpeg stopped while writing {self.path}: {self._ffmpeg_said()}")
        self._queue.put(np.ascontiguousarray(frame))

    def _ffmpeg_said(self) -> str:
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace").strip()
        return text.splitlines()[-1] if text else f"exit status {self._proc.returncode}"

    def _stop_feeder(self) -> None:
        if self._feeder is not None:
            self._queue.put(None)
            self._feeder.join()
            self._feeder = None

    def _finish(self) -> None:
        self._stop_feeder()
        try:
            self._proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        code = self._proc.wait()
        if code != 0 or self._broken:
            raise ExportError(f"ffmpeg could not write {self.path}: {self._ffmpeg_said()}")
        self._log.close()
        os.replace(self._tmp, self.path)

    def _discard(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()              # before the unlink below, so ffmpeg cannot write the file again
        self._stop_feeder()                # a write under way fails now that ffmpeg is gone
        if self._proc is not None:
            try:
                self._proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            self._proc.wait()
        if self._log is not None:
            self._log.close()
        _unlink(self._tmp)


class PngFolderWriter(FrameWriter):
    """Numbered PNG frames (frame_00000.png, ...) built in a temporary folder renamed into place at the end."""

    def __init__(self, path: Path, size: tuple[int, int]):
        super().__init__(path, size)
        self._tmp = None
        self._last = None

    def _open(self) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".partial",
                                          dir=self.path.absolute().parent))
        os.chmod(self._tmp, default_mode(executable=True))

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
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


class PngStillWriter(FrameWriter):
    """One PNG picture: the last frame written wins."""

    def __init__(self, path: Path, size: tuple[int, int]):
        super().__init__(path, size)
        self._frame = None

    def _open(self) -> None:
        pass

    def _write(self, frame: np.ndarray) -> None:
        self._frame = frame

    def _finish(self) -> None:
        write_png(self.path, self._frame)
        self._frame = None

    def _discard(self) -> None:
        self._frame = None


def write_png(path, frame: np.ndarray) -> None:
    """Save an RGB array as PNG through a temporary file renamed into place."""
    from PIL import Image
    path = Path(path)
    with writing(path):
        tmp = temp_file_beside(path, ".png")
        try:
            Image.fromarray(frame).save(tmp, format="PNG", optimize=False, compress_level=6)
            os.replace(tmp, path)
        except BaseException:
            _unlink(tmp)
            raise


def open_writer(plan: ExportPlan, palette_frames=None, fixed_colors=(), layout: str = "rgb") -> FrameWriter:
    """The writer for ``plan``'s output kind (SVG stills are not frames: see ``frames.save_svg``).

    ``palette_frames`` and ``fixed_colors``: the GIF's palette (see ``GifWriter``). ``layout``: the frames the
    caller would rather give, taken by the writers that can (the video writers); ``writer.layout`` says what to give.
    """
    if plan.kind in FFMPEG_CODECS:
        return FFmpegWriter(plan.output, plan.size, plan.fps, plan.kind, layout)
    if plan.kind == "gif":
        from .gif import GifWriter
        return GifWriter(plan.output, plan.size, plan.fps, palette_frames, fixed_colors)
    if plan.kind == "frames":
        return PngFolderWriter(plan.output, plan.size)
    if plan.kind == "png":
        return PngStillWriter(plan.output, plan.size)
    raise ValueError(f"no frame writer for {plan.kind!r}")


__all__ = ["FrameWriter", "FFmpegWriter", "PngFolderWriter", "PngStillWriter", "open_writer", "LAYOUTS",
           "QT32_PIXEL_FORMAT",
           "write_png", "write_text_atomic", "write_bytes_atomic", "temp_file_beside"]
