"""The headless subcommands: ``landscape-app export``, ``surface`` and ``run``.

``surface`` and ``run`` work on a session file, a preset, or an experiment described by options
(``--model mlp --data moons ...``) and import no Qt; ``export`` renders the app's views (``landscape_app.export``).
A user's mistake prints one line and exits 2; Ctrl-C leaves nothing behind and exits 130.
"""
from __future__ import annotations

import argparse
import sys

from .interrupts import INTERRUPTS
from .options import UsageError, check_source

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    from ..export import commands as export
    from . import run, surface
    parser = _Parser(prog="landscape-app", description="Headless work: animations, surfaces and paths.",
                     epilog="examples:  landscape-app export --preset adam-vs-sgd -o race.mp4 --views contour,loss"
                            "  |  landscape-app surface --model mlp --data moons --plane random -o surface.npz"
                            "  |  landscape-app run --model mlp --data moons -o path.csv")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    export.add_parser(sub)
    surface.add_parser(sub)
    run.add_parser(sub)
    return parser


def _check(args) -> None:
    if args.command == "export":
        if bool(args.session) == bool(args.preset):
            raise UsageError("landscape-app export: give a SESSION.toml or --preset NAME (one of them)")
    else:
        check_source(args)


def _command(name: str):
    if name == "export":
        from ..export.commands import export_command
        return lambda args: export_command(args, INTERRUPTS)
    if name == "surface":
        from .surface import surface_command
        return surface_command
    from .run import run_command
    return run_command


def main(argv: list[str] | None = None, own_process: bool = False) -> int:
    """Entry point of ``landscape-app export|surface|run``; returns the exit status.

    ``own_process``: the process runs this command alone (the ``landscape-app`` program), so process-wide
    shortcuts are allowed: torch's compiler is not imported for the optimizers' sake (see ``core.eager_torch``).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
        _check(args)
        from ..core.errors import LandscapeError
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    try:
        with INTERRUPTS:
            args.own_process = own_process
            return _command(args.command)(args)
    except (LandscapeError, UsageError) as exc:
        print(f"landscape-app {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        # The machine refused (a file vanished, a disk filled) somewhere no writer named its file: still one line.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"landscape-app {args.command}: error: {where}{exc.strerror or _one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        print(f"\nlandscape-app {args.command}: interrupted; {str(exc) or 'nothing was written'}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as exc:
        # No command ends itself this way: code it ran did (a model's forward calling sys.exit while training or
        # computing the surface; its import and construction say so as UserCodeError). Never exit 0 for it.
        from ..core.usercode import describe_escape, raised_at
        where = raised_at(exc)
        print(f"landscape-app {args.command}: error: {where + ': ' if where else ''}{describe_escape(exc)}; "
              "nothing was written", file=sys.stderr)
        return EXIT_USAGE


def _one_line(exc: BaseException) -> str:
    # A user's exception text may run over several lines; the first says what happened.
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


__all__ = ["main", "build_parser", "INTERRUPTS", "EXIT_USAGE", "EXIT_INTERRUPTED"]
