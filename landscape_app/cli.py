"""The ``landscape-app`` command: opens the app, or runs one of the headless subcommands.

``landscape-app [SESSION.toml | --preset NAME] [--play] [--screenshot PATH --quit-after S]`` opens the window;
``landscape-app export|surface|run ...`` work without a display.
"""
from __future__ import annotations

import sys

SUBCOMMANDS = ("export", "surface", "run")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in SUBCOMMANDS:
        from .export.commands import main as headless_main
        return headless_main(argv)
    from .gui.app import main as app_main
    return app_main(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
