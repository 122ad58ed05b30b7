"""An export as a generator: frames rendered and streamed to the writer, one per step.

``export_steps(scene, plan)`` yields ``(done, total)`` after each frame. The CLI runs it to the end under a
progress bar; the dialog advances it from a timer so the window stays responsive. Closing the generator early
(Cancel), an exception or Ctrl-C aborts the writer: the target stays untouched and no temporary file remains.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..core.inputs import check_not_input, session_inputs
from ..core.session import Session
from ..core.tomlio import load_session
from .plan import ExportPlan, check_frame_count, make_plan
from .scene import ExportScene, max_points, prepare_scene


@dataclass(frozen=True)
class ExportResult:
    path: Path
    kind: str
    frames: int
    size: tuple[int, int]
    seconds: float             # length of the animation (0 for a still)
    bytes: int
    elapsed: float             # wall time of the export

    def summary(self) -> str:
        w, h = self.size
        size = _human_bytes(self.bytes)
        if self.kind in ("png", "svg"):
            return f"wrote {self.path} ({w}x{h} {self.kind.upper()}, {size}) in {self.elapsed:.1f} s"
        if self.kind in ("npz", "csv"):
            return f"wrote {self.path} (the surface and its plane, {self.kind.upper()}, {size}) in {self.elapsed:.1f} s"
        what = "PNG frames" if self.kind == "frames" else self.kind.upper()
        return (f"wrote {self.path}: {self.frames} frames ({self.seconds:.1f} s) of {w}x{h} {what}, {size}, "
                f"in {self.elapsed:.1f} s")


def _human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _size_on_disk(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    return path.stat().st_size if path.exists() else 0


def export_steps(scene: ExportScene, plan: ExportPlan, renderer=None) -> Iterator[tuple[int, int]]:
    """Render ``scene`` as ``plan`` says, yielding ``(frames done, total)``; needs a QApplication.

    ``renderer``: a ``FrameRenderer`` to use (and leave open), e.g. the dialog's preview; else one is made.
    An output that is a file the session reads (its data, its model file) is refused (``ExportError``).
    """
    check_not_input(plan.output, session_inputs(scene.session))
    if plan.is_data:
        from .data import save_scene_surface
        save_scene_surface(plan.output, scene)
        yield 1, 1
        return
    from .frames import FrameRenderer, iter_frames
    from .writers import open_writer
    schedule = plan.schedule(scene.n_points)
    total = len(schedule)
    if plan.is_animation:
        check_frame_count(plan, scene.n_points)
    own = renderer is None
    if own:
        renderer = FrameRenderer(scene, plan)
    try:
        if plan.kind == "svg":
            renderer.save_svg(plan.output)
            yield 1, 1
            return
        palette, fixed = None, ()
        if plan.kind == "gif":
            from ..gui import style
            fixed = (*scene.colors, style.BACKGROUND, style.FOREGROUND, style.MUTED, style.DIVERGED_COLOR,
                     "#FFFFFF")
            # Between them the first and last frames hold every colour the animation uses.
            n_motion = total - plan.hold_frames()
            palette = [renderer.render(int(schedule[0]), 0, n_motion),
                       renderer.render(int(schedule[-1]), total - 1, n_motion)]
        # Video takes the frame image's pixels as they are: no conversion to RGB on our side.
        with open_writer(plan, palette, fixed, layout="qt32") as writer:
            for k, frame in enumerate(iter_frames(renderer, schedule, writer.layout)):
                writer.write(frame)
                yield k + 1, total
    finally:
        if own:
            renderer.close()


def export_animation(session: Session | str | Path, output, *, trajectories=None,
                     progress: Callable[[str, int, int], None] | None = None, surface=None, metric: str = "loss",
                     trust: bool = False, **options) -> ExportResult:
    """Export a session (or a session TOML file) to ``output`` from a script; ``options`` as ``make_plan``.

    Trains the runs unless ``trajectories`` are given. Creates the QApplication (offscreen, or on an X display
    for the 3-D view) when the process has none. ``progress(phase, done, total)`` with phase "train"/"frames".
    A network's surface: ``surface`` (one on the plane wanted), else the one the window would show for the session's
    plane and ``metric`` (``prepare_scene``). ``trust``: a session file that names code (a model file) may run it
    (``load_session``); without it such a file raises ``UntrustedCodeError``.
    """
    from .display import QtSession
    from .frames import BASE_HEIGHT
    started = time.monotonic()
    plan = make_plan(output, **options)
    if isinstance(session, (str, Path)):
        session = load_session(session, trust)
    if trajectories is None and plan.is_animation:
        check_frame_count(plan, max_points(session))
    train_cb = (lambda d, t: progress("train", d, t)) if progress else None
    with QtSession(plan.needs_gl, max(1.0, plan.size[1] / BASE_HEIGHT)):
        scene = prepare_scene(session, trajectories, progress=train_cb, surface=surface, metric=metric)
        frames = 0
        steps = export_steps(scene, plan)
        try:
            for frames, total in steps:
                if progress:
                    progress("frames", frames, total)
        finally:
            steps.close()
    return result_of(plan, frames, time.monotonic() - started)


def result_of(plan: ExportPlan, frames: int, elapsed: float) -> ExportResult:
    seconds = frames / plan.fps if plan.is_animation else 0.0
    return ExportResult(plan.output, plan.kind, frames, plan.size, seconds, _size_on_disk(plan.output), elapsed)


__all__ = ["export_steps", "export_animation", "ExportResult", "result_of"]
