"""``landscape-app surface``'s options for computing a surface in blocks: on Ray workers, into a resumable store."""
from __future__ import annotations

import argparse

ENGINES = ("local", "ray")   # as core.distributed.ENGINES (not imported: the parser must not import torch)


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("computing in blocks of rows (a large surface, several machines)")
    g.add_argument("--engine", choices=ENGINES, default="local",
                   help="local: this process (default); ray: one Ray task per block of rows "
                        "(needs pip install 'landscape-app[distributed]')")
    g.add_argument("--workers", type=int, metavar="N",
                   help="Ray workers (a local Ray with N CPUs; on a cluster, at most 2N blocks in flight)")
    g.add_argument("--address", metavar="ADDR",
                   help="a running Ray cluster (e.g. ray://head:10001 or auto) instead of a local Ray")
    g.add_argument("--store", metavar="STORE.h5",
                   help="keep every finished block in this HDF5 file; the same command again resumes, "
                        "computing only the blocks it lacks")
    g.add_argument("--block-rows", type=int, metavar="N", help="grid rows per block (default: about 64 blocks)")


def engine_options(args) -> dict:
    """The keywords ``compute_surface`` takes for the chosen engine ({} for a plain local surface)."""
    from ..core.errors import ConfigError
    if args.engine != "ray":
        for name in ("workers", "address"):
            if getattr(args, name) is not None:
                raise ConfigError(f"--{name}", "needs --engine ray")
    options = {"engine": args.engine} if args.engine != "local" else {}
    for name in ("workers", "address", "store", "block_rows"):
        value = getattr(args, name)
        if value is not None:
            options[name] = value
    if args.store is not None:
        from ..core.surface_h5 import check_output
        try:
            check_output(args.store)
        except ConfigError as exc:
            raise ConfigError("--store", str(exc).split(": ", 1)[-1]) from None
    return options
