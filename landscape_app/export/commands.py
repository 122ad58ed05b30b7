"""The headless subcommands: ``landscape-app export``, ``surface`` and ``run``.

Arguments are checked (paths, formats, views, sizes) before the heavy work: Qt is imported only once the
request is known to be valid. A user's mistake prints one line and exits 2; Ctrl-C leaves nothing behind and
exits 130.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import time

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """An argparse complaint, turned into our one-line message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _add_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("session", nargs="?", metavar="SESSION.toml", help="a session or experiment saved by the app")
    p.add_argument("--preset", metavar="NAME", help="a built-in preset instead of a file (see the Presets menu)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="landscape-app", description="Headless exports of landscape-app sessions.",
                     epilog="examples:  landscape-app export --preset adam-vs-sgd -o race.mp4 --views contour,loss"
                            "  |  landscape-app surface session.toml -o surface.npz"
                            "  |  landscape-app run session.toml -o paths.csv")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ex = sub.add_parser("export", help="write the animation (MP4, GIF, WebM, PNG frames) or a still",
                        epilog="example: landscape-app export --preset adam-vs-sgd -o race.gif --size 640x360 "
                               "--views contour,loss --duration 8",
                        description="Run the session's experiment(s) and write the optimizer's path as an "
                                    "animation or a still. OUT: a .mp4, .webm or .gif file, a folder ending "
                                    "in / for numbered PNG frames, or a .png/.svg still of the final frame.")
    _add_source(ex)
    ex.add_argument("-o", "--output", required=True, metavar="OUT",
                    help="out.mp4, out.webm, out.gif, frames/ (numbered PNGs), final.png or final.svg")
    ex.add_argument("--views", default="contour", metavar="LIST",
                    help="comma-separated, in layout order: contour, surface (3-D), loss, data "
                         "(default: contour)")
    ex.add_argument("--size", default="1280x720", metavar="WxH", help="frame size in pixels (default 1280x720)")
    ex.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    pace = ex.add_mutually_exclusive_group()
    pace.add_argument("--every", type=int, metavar="N", help="one frame every N iterations")
    pace.add_argument("--duration", type=float, metavar="S",
                      help="spread the run over S seconds (default: its length at one frame per iteration, "
                           "kept within 4-12 s)")
    ex.add_argument("--hold", type=float, default=2.0, metavar="S", help="seconds the last frame stays (default 2)")
    ex.add_argument("--title", metavar="TEXT", help="a title above the views (default: the session's title; "
                                                   "--title '' for none)")
    ex.add_argument("--no-caption", action="store_true", help="no iteration/loss line under the views")
    ex.add_argument("--orbit", type=float, nargs="?", const=90.0, default=0.0, metavar="DEG",
                    help="turn the 3-D camera by DEG degrees over the animation (default 90 when given)")
    ex.add_argument("--log", action="store_true", help="log colour scale, log heights and a log loss axis")
    ex.add_argument("--lecture", action="store_true", help="larger fonts and thicker lines, for projectors")
    ex.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")

    su = sub.add_parser("surface", help="write the loss surface (NPZ or CSV) with the session",
                        description="Compute the session's loss surface over its grid and write it.")
    _add_source(su)
    su.add_argument("-o", "--output", required=True, metavar="surface.npz|surface.csv")
    su.add_argument("--resolution", metavar="N|WxH", help="grid points per axis (default: the session's grid)")
    su.add_argument("-q", "--quiet", action="store_true")

    ru = sub.add_parser("run", help="train the session's runs and write their paths (CSV or JSON)",
                        description="Train every run of the session and write each step (parameters, losses, "
                                    "batch) with the session that made them.")
    _add_source(ru)
    ru.add_argument("-o", "--output", required=True, metavar="path.csv|path.json")
    ru.add_argument("-q", "--quiet", action="store_true")
    return parser


def _source(args) -> None:
    if bool(args.session) == bool(args.preset):
        raise UsageError(f"landscape-app {args.command}: give a SESSION.toml or --preset NAME (one of them)")


def _load_session(args):
    if getattr(args, "own_process", False) and args.command in ("export", "run"):
        # Training is plain eager torch here: the optimizers need nothing from its compiler.
        from ..core.eager_torch import defer_dynamo
        defer_dynamo()
    if args.preset:
        from ..core.presets import load_preset
        return load_preset(args.preset)
    from ..core.tomlio import load_session
    return load_session(args.session)


def _export(args) -> int:
    from .plan import check_frame_count, make_plan
    plan = make_plan(args.output, views=args.views, size=args.size, fps=args.fps, every=args.every,
                     duration=args.duration, hold=args.hold, title=args.title, caption=not args.no_caption,
                     orbit=args.orbit, lecture=args.lecture, log=args.log)
    session = _load_session(args)
    from .scene import max_points, prepare_scene
    if plan.is_animation:
        check_frame_count(plan, max_points(session))
    from .display import QtSession
    from .frames import BASE_HEIGHT
    from .job import export_steps, result_of
    from .progress import ProgressBar
    started = time.monotonic()
    enabled = None if not args.quiet else False
    frames = 0
    # The display first: without OpenGL for the 3-D view we say what to install before training anything.
    with QtSession(plan.needs_gl, max(1.0, plan.size[1] / BASE_HEIGHT)):
        bar = ProgressBar("training", "steps", enabled=enabled)
        try:
            scene = prepare_scene(session, progress=bar.update)
        finally:
            bar.finish()
        # While Qt paints, Python code runs inside C++ calls where an exception cannot pass: Ctrl-C only sets a
        # flag, checked between two frames.
        with INTERRUPTS.deferred():
            bar = ProgressBar("rendering", "frames", enabled=enabled)
            steps = export_steps(scene, plan)
            try:
                for frames, total in steps:
                    INTERRUPTS.check()
                    bar.update(frames, total)
            finally:
                steps.close()           # an interrupt: the writer aborts here, removing its temporary file
                bar.finish()
    if not args.quiet:
        print(result_of(plan, frames, time.monotonic() - started).summary())
    return 0


def _surface(args) -> int:
    from .data import SURFACE_SUFFIXES, check_data_output, save_surface
    path = check_data_output(args.output, SURFACE_SUFFIXES, "surface")
    resolution = None
    if args.resolution:
        from .plan import parse_size
        text = args.resolution
        resolution = parse_size(text if "x" in text.lower() else f"{text}x{text}")
    session = _load_session(args)
    if resolution is not None:
        import dataclasses
        from ..core.errors import ConfigError
        try:
            runs = tuple(r.replace(grid=dataclasses.replace(r.grid, resolution=resolution)) for r in session.runs)
        except ConfigError as exc:
            raise ConfigError("--resolution", str(exc).split(": ", 1)[-1]) from None
        session = session.replace(runs=runs)
    from ..core.surface import compute_surface
    started = time.monotonic()
    surface = compute_surface(session.experiment)
    save_surface(path, session, surface)
    if not args.quiet:
        rows, cols = surface.loss.shape
        print(f"wrote {path}: {cols}x{rows} grid over ({', '.join(surface.axes)}) in "
              f"{time.monotonic() - started:.1f} s")
    return 0


def _run(args) -> int:
    from .data import RUN_SUFFIXES, check_data_output, save_runs
    path = check_data_output(args.output, RUN_SUFFIXES, "runs")
    session = _load_session(args)
    from .progress import ProgressBar
    from .scene import train_session
    bar = ProgressBar("training", "steps", enabled=False if args.quiet else None)
    started = time.monotonic()
    try:
        trajectories = train_session(session, progress=bar.update)
    finally:
        bar.finish()
    save_runs(path, session, trajectories)
    if not args.quiet:
        steps = ", ".join(f"{name}: {len(t) - 1} steps, {t.outcome}" for name, t in zip(session.names, trajectories))
        print(f"wrote {path} ({steps}) in {time.monotonic() - started:.1f} s")
    return 0


COMMANDS = {"export": _export, "surface": _surface, "run": _run}


def main(argv: list[str] | None = None, own_process: bool = False) -> int:
    """Entry point of ``landscape-app export|surface|run``; returns the exit status.

    ``own_process``: the process runs this command alone (the ``landscape-app`` program), so process-wide
    shortcuts are allowed: torch's compiler is not imported for the optimizers' sake (see ``core.eager_torch``).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
        _source(args)
        from ..core.errors import LandscapeError
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    try:
        with INTERRUPTS:
            args.own_process = own_process
            return COMMANDS[args.command](args)
    except (LandscapeError, UsageError) as exc:
        print(f"landscape-app {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\nlandscape-app {args.command}: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED


class _Interrupts:
    """Ctrl-C (SIGINT) and a polite kill (SIGTERM) end a command the same way: ``KeyboardInterrupt``, so every
    writer on the way out aborts and removes its temporary file.

    Inside ``deferred()`` the signal only sets a flag that ``check()`` turns into the exception at a safe point
    (a second signal does not wait). Installed in the main thread only; the previous handlers come back after.
    """

    def __init__(self):
        self.pending = 0
        self.defer = False
        self._previous = {}

    def __enter__(self):
        import signal
        import threading
        self.pending, self.defer = 0, False
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        import signal
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        return False

    def _handle(self, signum, frame):
        self.pending += 1
        if not self.defer or self.pending > 1:
            raise KeyboardInterrupt

    def check(self) -> None:
        if self.pending:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def deferred(self):
        self.check()
        self.defer = True
        try:
            yield
        finally:
            self.defer = False


INTERRUPTS = _Interrupts()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
