"""What to export, validated before any work starts: output and format, views, size, frame rate and pacing.

Qt-free and torch-free on purpose: the CLI refuses a bad request in milliseconds, before the heavy imports.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import ExportError

VIEWS = ("contour", "surface", "loss", "data")
TWO_D_VIEWS = ("contour", "loss", "data")
# Output kinds: animations (mp4, webm, gif, a folder of numbered PNG frames), stills of the final frame, and the
# scene's surface as data (with the plane it lies on and, for a network, the paths projected on it).
ANIMATIONS = ("mp4", "webm", "gif", "frames")
STILLS = ("png", "svg")
DATA = ("npz", "csv")
KINDS = ANIMATIONS + STILLS + DATA
SUFFIXES = {".mp4": "mp4", ".m4v": "mp4", ".webm": "webm", ".gif": "gif", ".png": "png", ".svg": "svg",
            ".npz": "npz", ".csv": "csv"}

MIN_SIDE, MAX_SIDE = 64, 7680
MAX_PIXELS = 7680 * 4320
MAX_FPS = {"gif": 50}       # GIF delays are in 1/100 s and viewers clamp anything under 2/100 s
FPS_RANGE = (1.0, 120.0)
MAX_FRAMES = 36_000         # 20 minutes at 30 fps: beyond that, ask for --every or --duration
MAX_DURATION = 3600.0
MAX_HOLD = 60.0
DEFAULT_SIZE = (1280, 720)
DEFAULT_FPS = 30.0
DEFAULT_HOLD = 2.0
# With no pacing given the animation lasts its natural length (one frame per iteration), kept within these
# bounds: a 20-iteration run is slowed down to be watchable, a 100,000-iteration run is sped up.
AUTO_DURATION = (4.0, 12.0)
FRAME_NAME = "frame_{:05d}.png"
FRAME_PATTERN = re.compile(r"frame_\d{5,}\.png")


@dataclass(frozen=True)
class ExportPlan:
    """One validated export request. ``schedule(n)`` says which path prefix each frame shows."""

    output: Path
    kind: str                          # one of KINDS
    views: tuple[str, ...] = ("contour",)
    size: tuple[int, int] = DEFAULT_SIZE
    fps: float = DEFAULT_FPS
    every: int | None = None           # one frame per ``every`` iterations
    duration: float | None = None      # or a total duration in seconds (the hold not included)
    hold: float = DEFAULT_HOLD         # seconds the last frame stays on screen
    title: str | None = None           # None: the session's title
    caption: bool = True               # iteration and loss under the views
    orbit: float = 0.0                 # degrees the 3-D camera turns over the animation
    lecture: bool = False              # the views' lecture mode: larger fonts, thicker lines
    log: bool = False                  # log colour scale and heights, log loss axis

    @property
    def is_animation(self) -> bool:
        return self.kind in ANIMATIONS

    @property
    def is_data(self) -> bool:
        """The surface as numbers (NPZ, CSV): no frames are drawn."""
        return self.kind in DATA

    @property
    def needs_gl(self) -> bool:
        return "surface" in self.views and not self.is_data

    def hold_frames(self) -> int:
        return int(round(self.hold * self.fps)) if self.is_animation else 0

    def schedule(self, n_points: int) -> np.ndarray:
        """For each frame, how many points of the path it shows (1..n_points); the hold repeats the last.

        A still is a single frame showing the whole path.
        """
        n = max(int(n_points), 1)
        if not self.is_animation:
            return np.array([n], dtype=np.int64)
        if self.every is not None:
            shown = np.arange(1, n + 1, self.every, dtype=np.int64)
            if shown[-1] != n:
                shown = np.append(shown, n)
        else:
            frames = self.motion_frames(n)
            # Evenly spaced in iterations: a slow-motion run repeats points, a long one skips them.
            shown = 1 + np.rint(np.linspace(0.0, n - 1, frames)).astype(np.int64)
        return np.concatenate([shown, np.full(self.hold_frames(), n, dtype=np.int64)])

    def motion_frames(self, n_points: int) -> int:
        """Frames before the hold, for a path of ``n_points`` points."""
        if not self.is_animation:
            return 1
        if self.every is not None:
            return math.ceil((n_points - 1) / self.every) + 1 if n_points > 1 else 1
        seconds = self.duration
        if seconds is None:
            seconds = min(max(n_points / self.fps, AUTO_DURATION[0]), AUTO_DURATION[1])
        return max(2, int(round(seconds * self.fps)))

    def frame_count(self, n_points: int) -> int:
        return self.motion_frames(n_points) + self.hold_frames()


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` -> (1280, 720); ``ExportError`` otherwise."""
    m = re.fullmatch(r"\s*(\d{1,6})\s*[xX×]\s*(\d{1,6})\s*", str(text))
    if not m:
        raise ExportError(f"--size: {text!r} is not WIDTHxHEIGHT (e.g. 1280x720)")
    return int(m.group(1)), int(m.group(2))


def parse_views(text) -> tuple[str, ...]:
    """``"contour,loss"`` (or a sequence of names) -> a tuple of known, distinct view names."""
    names = [v.strip().lower() for v in (text.split(",") if isinstance(text, str) else text)]
    names = [v for v in names if v]
    if not names:
        raise ExportError(f"--views: name at least one of {', '.join(VIEWS)}")
    for v in names:
        if v not in VIEWS:
            raise ExportError(f"--views: unknown view {v!r}; choose from {', '.join(VIEWS)}")
    if len(set(names)) != len(names):
        raise ExportError(f"--views: {','.join(names)} names a view twice")
    return tuple(names)


def kind_of(output: str | os.PathLike) -> str:
    """The output kind from the path: a known suffix, or a folder (a trailing slash or an existing folder)."""
    text = os.fspath(output)
    if not text.strip():
        raise ExportError("-o: the output path is empty")
    path = Path(text)
    kind = SUFFIXES.get(path.suffix.lower())
    if text.endswith(("/", os.sep)):
        return "frames"
    if path.is_dir():
        if kind is not None:
            raise ExportError(f"-o {text}: is a folder; name a file, or end the name with / for PNG frames")
        return "frames"
    if kind is None:
        known = ", ".join(sorted(SUFFIXES))
        raise ExportError(f"-o {text}: unknown format {path.suffix or '(no suffix)'!r}; use a file ending in "
                          f"{known}, or a folder ending in / for numbered PNG frames")
    return kind


def make_plan(output, *, views="contour", size=DEFAULT_SIZE, fps=DEFAULT_FPS, every=None, duration=None,
              hold=DEFAULT_HOLD, title=None, caption=True, orbit=0.0, lecture=False, log=False) -> ExportPlan:
    """Validate an export request; ``ExportError`` (one line, naming the option) for anything unusable."""
    kind = kind_of(output)
    views = parse_views(views)
    if isinstance(size, str):
        size = parse_size(size)
    width, height = (int(v) for v in size)
    for name, v in (("width", width), ("height", height)):
        if not MIN_SIDE <= v <= MAX_SIDE:
            raise ExportError(f"--size: {name} {v} is outside {MIN_SIDE}..{MAX_SIDE} pixels")
    if width * height > MAX_PIXELS:
        raise ExportError(f"--size: {width}x{height} is more than 8K ({MAX_PIXELS:,} pixels)")
    if kind in ("mp4", "webm"):
        # H.264/VP9 in yuv420p need even sides: round up rather than refuse an odd size.
        width, height = width + width % 2, height + height % 2
    fps = _number("--fps", fps)
    top = MAX_FPS.get(kind, FPS_RANGE[1])
    if not FPS_RANGE[0] <= fps <= top:
        raise ExportError(f"--fps: {fps:g} is outside {FPS_RANGE[0]:g}..{top:g}"
                          + (" (GIF viewers cannot show faster)" if kind == "gif" else ""))
    if every is not None and duration is not None:
        raise ExportError("--every and --duration both set the pacing; give one of them")
    if every is not None:
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ExportError(f"--every: must be a whole number of iterations >= 1, not {every!r}")
        every = int(every)
    if duration is not None:
        duration = _number("--duration", duration)
        if not 0 < duration <= MAX_DURATION:
            raise ExportError(f"--duration: {duration:g} s is outside (0, {MAX_DURATION:g}] seconds")
        if duration * fps < 2:
            raise ExportError(f"--duration: {duration:g} s at {fps:g} fps is less than two frames")
    hold = _number("--hold", hold)
    if not 0 <= hold <= MAX_HOLD:
        raise ExportError(f"--hold: {hold:g} s is outside 0..{MAX_HOLD:g} seconds")
    orbit = _number("--orbit", orbit)
    if abs(orbit) > 3600:
        raise ExportError(f"--orbit: {orbit:g} degrees is more than ten turns")
    if orbit and "surface" not in views:
        raise ExportError("--orbit turns the 3-D camera: add 'surface' to --views")
    plan = ExportPlan(Path(os.fspath(output)), kind, views, (width, height), fps, every, duration, hold,
                      None if title is None else str(title), bool(caption), orbit, bool(lecture), bool(log))
    check_output(plan)
    return plan


def check_frame_count(plan: ExportPlan, n_points: int) -> int:
    """Refuse an animation with more than ``MAX_FRAMES`` frames before rendering any; returns the count."""
    frames = plan.frame_count(n_points)
    if frames > MAX_FRAMES:
        minimum = math.ceil(n_points / (MAX_FRAMES - plan.hold_frames()))
        raise ExportError(f"{frames:,} frames is too many (at most {MAX_FRAMES:,}); the path has {n_points:,} "
                          f"points: pass --every {minimum} or more, or --duration")
    return frames


def check_output(plan: ExportPlan) -> None:
    """Refuse an output that cannot be written, before any work: missing or read-only folder, wrong kind."""
    out = plan.output
    target = out.resolve() if out.exists() else out.absolute()
    parent = target.parent
    if not parent.is_dir():
        raise ExportError(f"-o {out}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"-o {out}: cannot write in {parent} (permission denied)")
    if plan.kind == "frames":
        if target.exists():
            if not target.is_dir():
                raise ExportError(f"-o {out}: exists and is not a folder")
            strangers = [p.name for p in target.iterdir() if not FRAME_PATTERN.fullmatch(p.name)]
            if strangers:
                raise ExportError(f"-o {out}: the folder holds other files ({strangers[0]}); choose a new or "
                                  f"empty folder, or one holding only frames")
            if not os.access(target, os.W_OK | os.X_OK):
                raise ExportError(f"-o {out}: cannot write in the folder (permission denied)")
    elif target.exists():
        if target.is_dir():
            raise ExportError(f"-o {out}: is a folder; to write numbered PNG frames end it with /")
        if not os.access(target, os.W_OK):
            raise ExportError(f"-o {out}: the file exists and is read-only")


def _number(option: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ExportError(f"{option}: {value!r} is not a number") from None
    if isinstance(value, bool) or not math.isfinite(v):
        raise ExportError(f"{option}: {value!r} is not a finite number")
    return v


__all__ = ["ExportPlan", "make_plan", "check_output", "check_frame_count", "parse_size", "parse_views",
           "kind_of", "VIEWS", "KINDS", "ANIMATIONS", "STILLS", "DATA", "FRAME_NAME"]
