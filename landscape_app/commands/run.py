"""``landscape-app run``: train a session's runs (or one experiment given by options) and write their paths."""
from __future__ import annotations

import argparse
import time

from .options import add_source_options, check_outputs, session_from


def add_parser(sub) -> argparse.ArgumentParser:
    ru = sub.add_parser("run", help="train the runs and write their paths (CSV or JSON)",
                        description="Train every run of a session, a preset, or one experiment given by options, "
                                    "and write each step (parameters, losses, batch) with the session that made "
                                    "them.",
                        epilog="examples:  landscape-app run --model mlp --data moons --optimizer adam --lr 0.01 "
                               "--batch-size 32 --shuffle -o path.csv  |  landscape-app run --model my_net.py:make "
                               "--data digits -o path.json  |  landscape-app run session.toml -o paths.csv")
    add_source_options(ru)
    ru.add_argument("-o", "--output", required=True, metavar="path.csv|path.json")
    ru.add_argument("-q", "--quiet", action="store_true")
    return ru


def run_command(args) -> int:
    from ..export.data import RUN_SUFFIXES, check_data_output, save_runs
    from ..export.progress import ProgressBar
    from ..export.scene import train_session
    path = check_data_output(args.output, RUN_SUFFIXES, "runs")
    check_outputs(args)
    session = session_from(args)
    check_outputs(args, session)
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
