"""The ``landscape-app`` command: opens the app, or runs one of the headless subcommands.

``landscape-app [SESSION.toml | --preset NAME] [--play] [--screenshot PATH --quit-after S]`` opens the window;
``landscape-app export|surface|run ...`` work without a display.
"""
from __future__ import annotations

import os
import sys

SUBCOMMANDS = ("export", "surface", "run")


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv``; without it, the process's own (the process is then this command's)."""
    own_process = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in SUBCOMMANDS:
        from .commands import main as headless_main
        status = headless_main(argv, own_process=own_process)
        if own_process:
            # Everything is written and closed, the Qt application and any Xvfb are shut down: tearing down
            # torch's and Qt's modules one by one would add ~0.3 s to every command for nothing.
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError):     # a closed pipe: nothing more can be said there
                    pass
            os._exit(status)
        return status
    from .gui.app import main as app_main
    return app_main(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
