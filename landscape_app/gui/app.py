"""``landscape-app [SESSION.toml | SURFACE.h5] [--trust] [--preset NAME] [--play] [--lecture] [--screenshot PATH
--quit-after S]``.

A surface file (HDF5, ours or loss-landscape's; our NPZ or CSV) opens as a session file does: drawn with its session,
or alone. A file whose session names code (a model file) opens with ``--trust``, or once trusted in the app (its
dialog asks, and remembers); a timed run (``--screenshot``, ``--quit-after``) never asks: it refuses the file.

A user's mistake (a bad session file, an unknown preset, a bad option) prints one line and exits 2 before any
window opens; so does a machine where Qt could not open one (no display, a missing X11 library: ``qt_platform``).
Heavy imports (torch, pyqtgraph) wait until the arguments are known to be sound.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PROG = "landscape-app"
SCREENSHOT_FORMATS = (".png", ".jpg", ".jpeg", ".bmp")



class UsageError(Exception):
    """A bad command line: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):   # one line instead of argparse's usage block
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Watch a PyTorch optimizer walk across the exact loss surface of a "
                                       "small model, live. Subcommands export, surface and run work headless.")
    p.add_argument("session", nargs="?", metavar="FILE",
                   help="a saved session (or experiment, .toml) or a surface file (.h5 ours or loss-landscape's, "
                        ".npz, .csv) to open")
    p.add_argument("--preset", metavar="NAME", help="open a built-in preset (see --list-presets)")
    p.add_argument("--trust", action="store_true",
                   help="run the code FILE's session names (its model file, file.py:function) without asking: only "
                        "for files whose code you trust")
    p.add_argument("--list-presets", action="store_true", help="print the presets and exit")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument("--play", action="store_true", help="start training at once")
    p.add_argument("--lecture", action="store_true", help="lecture mode: large text and thick lines")
    p.add_argument("--screenshot", metavar="PATH", help="save a picture of the whole window (PNG) and exit")
    p.add_argument("--quit-after", metavar="SECONDS", type=float,
                   help="quit after this many seconds (with --screenshot: take it then)")
    return p


def _check(args) -> None:
    if args.session and args.preset:
        raise UsageError("give a session or surface file or --preset, not both")
    if args.quit_after is not None and not (0 <= args.quit_after <= 86_400):
        raise UsageError(f"--quit-after must be between 0 and 86400 seconds, not {args.quit_after:g}")
    if args.screenshot:
        path = Path(args.screenshot)
        if path.suffix.lower() not in SCREENSHOT_FORMATS:
            raise UsageError(f"--screenshot {path}: use a .png (or .jpg) file name")
        if not path.resolve().parent.is_dir():
            raise UsageError(f"--screenshot {path}: the folder {path.resolve().parent} does not exist")


def _load_session(args, trust: bool = False):
    """The session to open (None: the default), its path, and the surface file read (None: none); user mistakes
    raise LandscapeError, a file naming code not trusted UntrustedCodeError (``trust``: it may run)."""
    if args.preset:
        from ..core.presets import load_preset
        return load_preset(args.preset), None, None
    if args.session:
        from .surface_file import is_surface_file, read_surface_scene
        if is_surface_file(args.session):
            return None, None, read_surface_scene(args.session, trust)
        from ..core.tomlio import load_session
        return load_session(args.session, trust), str(args.session), None
    return None, None, None


def _load_trusting(args):
    """``_load_session``, asking the user (the app's trust dialog) before a file's code runs, unless ``--trust``,
    or the code was trusted before unchanged. A timed run (--screenshot, --quit-after) must end by itself: it never
    asks, and a file not trusted raises its UntrustedCodeError. The code, once trusted, is imported off the GUI
    thread within a time limit, with a Cancel (``user_code``): a file that loops while importing is refused."""
    from ..core.errors import UntrustedCodeError
    try:
        return _load_session(args, False)
    except UntrustedCodeError as exc:
        files = exc.files
        if not args.trust:
            timed = bool(args.screenshot) or args.quit_after is not None
            if not timed:
                make_application()
            from .trust_dialog import confirm_trust
            if not confirm_trust(exc, None, ask=not timed):
                raise
    make_application()
    from .user_code import run_user_code
    return run_user_code(lambda: _load_session(args, True), ", ".join(f.path.name for f in files))


def passive_openmp() -> None:
    """Let torch's idle OpenMP threads sleep rather than spin (``OMP_WAIT_POLICY=PASSIVE``) unless the user chose.

    By default libgomp's threads spin for a while after every parallel operation, waiting for the next. In the
    app they share the cores with the GUI thread, the training thread that drives them and the renderer, so the
    spinning starves both: on two busy cores a logistic run trained ~700-1,200 steps in 5 s with the window
    open and ~5,500-6,500 with this set, and the longest GUI stall fell from ~250 ms to ~100-140 ms
    (benchmarks/bench_gui_stall.py). The arithmetic is unchanged: the same threads split the same work, only
    their waiting differs. libgomp reads the setting once, when torch loads it: call this before torch is imported.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv: list[str] | None = None) -> int:
    passive_openmp()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
        if args.version:
            from ..core.version import package_version
            print(f"{PROG} {package_version()}")
            return 0
        _check(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    if args.list_presets:
        from ..core.presets import list_presets
        for preset in list_presets():
            print(f"{preset.name:32s} {preset.title}: {preset.description}")
        return 0
    problem = _window_problem()
    if problem:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
        return 2

    # The training process imports torch while this one does (see core.race_process).
    from ..core import race_process
    race_process.prestart()
    _preload_opengl()      # before a session file's loading imports torch
    from ..core.errors import LandscapeError
    try:
        session, path, surface_file = _load_trusting(args)
    except LandscapeError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, MemoryError) as exc:     # the machine failing under a reader: still one line, exit 2
        reason = "not enough memory to read it" if isinstance(exc, MemoryError) else \
            f"cannot read ({exc.strerror or exc})"
        print(f"{PROG}: error: {args.session}: {reason}", file=sys.stderr)
        return 2
    return run_app(session, path, args, surface_file)


def _window_problem() -> str | None:
    """Why no window can open here (one line), asked before Qt would abort the process for it; None where one
    can, or where this process already has its QApplication."""
    widgets = sys.modules.get("PySide6.QtWidgets")
    if widgets is not None and widgets.QApplication.instance() is not None:
        return None
    from .qt_platform import window_problem
    return window_problem()


def make_application():
    """The QApplication, once per process, with the app's dark theme."""
    from . import views  # noqa: F401  (before the QApplication exists: it switches on GL context sharing)
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    if app is None:
        app = QApplication([PROG])
        app.setApplicationName(PROG)
        app.setOrganizationName(PROG)
        app.setStyle("Fusion")
        from . import style
        app.setPalette(style.dark_palette())
    return app


def _preload_opengl() -> None:
    """Import PyOpenGL in a helper thread while the main thread imports torch.

    ``import OpenGL.GL`` (and its shaders module, which pyqtgraph.opengl needs) takes ~0.15 s here, yet runs
    almost entirely in the shadow of torch's import (measured: torch alone 1.44 s, both 1.44 s), so the 3-D
    view's first picture comes that much sooner. The modules both imports share are imported first, in this
    thread, so the two imports never wait on each other's module locks; any failure is left for the real
    import (in ``gl_available``) to report.
    """
    import threading
    import ctypes, ctypes.util, logging  # noqa: E401,F401  (shared with torch's import: see above)
    import numpy  # noqa: F401

    def work():
        try:
            import OpenGL.GL  # noqa: F401
            import OpenGL.GL.shaders  # noqa: F401
        except Exception:   # noqa: BLE001 - no OpenGL: the window shows its placeholder later
            pass
    threading.Thread(target=work, name="landscape-preload-gl", daemon=True).start()


def freeze_long_lived() -> None:
    """Leave the objects that live as long as the app (torch's, Qt's and pyqtgraph's modules, the window: about
    300,000) out of the garbage collector's full passes.

    A full pass scans every tracked object holding the GIL: with these it took 130-380 ms, a stall of the GUI
    thread whenever a surface or training thread's allocations triggered one (``benchmarks/bench_gui_stall.py``).
    """
    import gc
    gc.freeze()


def present(window, lecture: bool) -> None:
    """Show the window; in lecture mode (``--lecture``) filling the screen's free area, whatever its size (a
    1920x1080 projector got the 1440x900 of a desktop window)."""
    if lecture:
        window.set_lecture_mode(True)
        window.fit_to_screen(fill=True)
    window.show()


def run_app(session, path, args, surface_file=None) -> int:
    app = make_application()
    from PySide6.QtCore import QTimer
    from .main_window import MainWindow
    window = MainWindow(session, path)
    if surface_file is not None:
        window.show_surface_file(surface_file)
    # Discarding unsaved edits asks first, except in a timed run (--quit-after, --screenshot) that must end.
    window.confirm_discard = not (args.screenshot or args.quit_after is not None)
    present(window, args.lecture)
    freeze_long_lived()
    if args.play:
        window.toggle_play()
    status = {"code": 0}
    if args.screenshot or args.quit_after is not None:
        seconds = args.quit_after if args.quit_after is not None else 1.0

        def finish():
            try:
                if args.screenshot:
                    window.redraw()
                    app.processEvents()
                    if not window.screenshot().save(args.screenshot):
                        print(f"{PROG}: error: cannot write {args.screenshot}", file=sys.stderr)
                        status["code"] = 2
            finally:    # whatever happened, the app quits when told to (a smoke test must not hang)
                window.close()
                app.quit()
        QTimer.singleShot(int(seconds * 1000), finish)
    code = app.exec()
    return status["code"] or code
