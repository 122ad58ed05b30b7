"""The ``landscape-app export`` subcommand: its options and its work (``landscape_app.commands`` runs it).

Arguments are checked (paths, formats, views, sizes) before the heavy work: Qt is imported only once the
request is known to be valid.
"""
from __future__ import annotations

import argparse
import time

EXAMPLE = ("landscape-app export --preset adam-vs-sgd -o race.gif --size 640x360 --views contour,loss "
           "--duration 8")


def add_parser(sub) -> argparse.ArgumentParser:
    """The ``export`` subparser, added to ``sub`` (an ``add_subparsers`` object)."""
    ex = sub.add_parser("export", help="write the animation (MP4, GIF, WebM, PNG frames), a still, or the surface",
                        epilog=f"example: {EXAMPLE}",
                        description="Run the session's experiment(s) and write the optimizer's path as an "
                                    "animation or a still. OUT: a .mp4, .webm or .gif file, a folder ending "
                                    "in / for numbered PNG frames, a .png/.svg still of the final frame, or the "
                                    "surface shown as .npz/.csv data with the plane it lies on. A network's "
                                    "surface lies on the session's plane (its [plane] table; the PCA plane of "
                                    "its runs' paths without one), as in the window: its paths are drawn "
                                    "projected on it, their distance off it under the loss curve.")
    ex.add_argument("session", nargs="?", metavar="SESSION.toml", help="a session or experiment saved by the app")
    ex.add_argument("--preset", metavar="NAME", help="a built-in preset instead of a file (see the Presets menu)")
    ex.add_argument("-o", "--output", required=True, metavar="OUT",
                    help="out.mp4, out.webm, out.gif, frames/ (numbered PNGs), final.png, final.svg, or "
                         "surface.npz / surface.csv (the surface, the plane's origin and directions; the NPZ also "
                         "a network's paths projected on it)")
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
    add_trust_option(ex)
    return ex


def add_trust_option(p: argparse.ArgumentParser) -> None:
    """``--trust``: a session file that names code (its model file) may run it; without, such a file is refused."""
    p.add_argument("--trust", action="store_true",
                   help="run the code a session file names (its model file, file.py:function) without refusing "
                        "it: only for files whose code you trust")


def load_session(args):
    """The session of ``SESSION.toml`` or ``--preset NAME`` (the caller checked that one of them is given)."""
    if getattr(args, "own_process", False) and args.command in ("export", "run", "surface"):
        # Training is plain eager torch here: the optimizers need nothing from its compiler.
        from ..core.eager_torch import defer_dynamo
        defer_dynamo()
    if args.preset:
        from ..core.presets import load_preset
        return load_preset(args.preset)
    from ..core.tomlio import load_session
    return load_session(args.session, trust=args.trust)


def export_command(args, interrupts) -> int:
    """Do ``landscape-app export``; ``interrupts`` (``commands.interrupts.Interrupts``) defers Ctrl-C while Qt
    paints. Returns the exit status."""
    from .plan import check_frame_count, make_plan
    plan = make_plan(args.output, views=args.views, size=args.size, fps=args.fps, every=args.every,
                     duration=args.duration, hold=args.hold, title=args.title, caption=not args.no_caption,
                     orbit=args.orbit, lecture=args.lecture, log=args.log)
    from ..core.inputs import check_not_input, session_inputs
    check_not_input(plan.output, [("the session file", args.session)], f"-o {args.output}")
    session = load_session(args)
    check_not_input(plan.output, session_inputs(session), f"-o {args.output}")
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
        with interrupts.deferred():
            bar = ProgressBar("rendering", "frames", enabled=enabled)
            steps = export_steps(scene, plan)
            try:
                for frames, total in steps:
                    interrupts.check()
                    bar.update(frames, total)
            finally:
                steps.close()           # an interrupt: the writer aborts here, removing its temporary file
                bar.finish()
    if not args.quiet:
        print(result_of(plan, frames, time.monotonic() - started).summary())
    return 0
