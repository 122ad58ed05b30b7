"""A resumable surface: an HDF5 file (loss-landscape's layout, ``surface_h5``) filled block by block.

The file is made whole first (through a temporary file renamed into place): coordinates, a NaN-filled surface,
the experiment, plane and options it belongs to, and one "done" flag per block of rows. Each finished block is
written into the surface, flushed, and only then flagged done and flushed again; nothing else in the file ever
changes. A run stopped at any moment (Ctrl-C, a lost machine, a killed process) leaves every flagged block intact,
and a block cut off mid-write is simply not flagged, so it is computed again. Once every block is done the store
is an ordinary surface file that ``load_surface`` reads.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from .errors import ConfigError, DataError
from .surface_h5 import FORMAT, GROUP, KEYS, check_output, create_atomic, read_plane, require_h5py, write_layout
from .surface_job import SurfaceJob

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def stored_block_rows(path) -> int | None:
    """The block size a store was made with (None: no store there yet)."""
    path = Path(path)
    if not path.exists():
        return None
    h5py = require_h5py()
    try:
        with h5py.File(path, "r") as f:
            g = f.get(GROUP)
            if g is None or g.attrs.get("format") != FORMAT or "blocks_done" not in g:
                raise ConfigError("store", f"{path} is not a landscape-app surface store; give a new file name")
            return int(g.attrs["block_rows"])
    except OSError as exc:
        raise ConfigError("store", f"{path}: not a readable HDF5 file ({exc})") from None


# Settings that change training but not the surface: a store may be resumed by an experiment that differs in them.
TRAINING_ONLY = ("optimizer", "lr", "optimizer_options", "scheduler", "scheduler_options", "batch_size", "shuffle",
                 "epochs")
# The grid's extent and resolution are compared as the axis values themselves.
GRID_EXTENT = ("x_range", "y_range", "resolution")


def _surface_fields(table: dict) -> dict:
    out = {k: v for k, v in table.items() if k not in TRAINING_ONLY}
    if isinstance(out.get("grid"), dict):
        out["grid"] = {k: v for k, v in out["grid"].items() if k not in GRID_EXTENT}
    return out


class SurfaceStore:
    """An open store for one ``SurfaceJob``; use as a context manager. ``done`` flags the finished blocks."""

    def __init__(self, path, job: SurfaceJob, template):
        h5py = require_h5py()
        self.path = Path(path)
        self.job = job
        if not self.path.exists():
            check_output(self.path)
            self._create(template)
        try:
            self._file = h5py.File(self.path, "r+")
        except OSError as exc:
            raise ConfigError("store", f"{self.path}: cannot open it for writing ({exc})") from None
        try:
            self._check()
            g = self._file[GROUP]
            self._values = self._file[KEYS[job.metric]]
            self._exact = g["accuracy"] if job.metric == "accuracy" else self._values
            self._done = g["blocks_done"]
            self.done = np.asarray(self._done[()], dtype=bool)
        except BaseException:
            self._file.close()
            raise

    def _create(self, template) -> None:
        import tomli_w
        job = self.job

        def fill(f):
            write_layout(f, job.alpha, job.beta, metric=job.metric, experiment=tomli_w.dumps(job.experiment),
                         plane=job.plane, axes=template.axes, held=template.held, criterion=template.criterion,
                         batch=template.batch, options_json=job.options_json())
            g = f[GROUP]
            g.attrs["block_rows"] = job.block_rows
            g.create_dataset("blocks_done", data=np.zeros(job.n_blocks, dtype=bool))
        create_atomic(self.path, fill)

    def _refuse(self, what: str) -> None:
        raise ConfigError("store", f"{self.path} holds the blocks of another surface ({what} differs); resume with "
                                   f"the same settings, or give a new file name")

    def _check(self) -> None:
        f, job = self._file, self.job
        g = f.get(GROUP)
        if g is None or g.attrs.get("format") != FORMAT or "blocks_done" not in g:
            raise ConfigError("store", f"{self.path} is not a landscape-app surface store; give a new file name")
        import tomli_w
        stored = _surface_fields(tomllib.loads(str(g.attrs.get("experiment", ""))))
        # through TOML text: the same normalisation as the stored experiment's
        current = _surface_fields(tomllib.loads(tomli_w.dumps(job.experiment)))
        if stored != current:
            keys = sorted(set(stored) | set(current), key=str)
            first = next((k for k in keys if stored.get(k) != current.get(k)), "experiment")
            self._refuse(f"the experiment's {first}")
        if str(g.attrs.get("metric")) != job.metric:
            self._refuse("the metric")
        ax, ay = job.plane.labels if job.plane is not None else ("x", "y")
        if not np.array_equal(f["xcoordinates"][()], job.alpha):
            self._refuse(f"the {ax} axis")
        if not np.array_equal(f["ycoordinates"][()], job.beta):
            self._refuse(f"the {ay} axis")
        plane = read_plane(g)
        if (plane is None) != (job.plane is None) or (plane is not None and not plane.same_as(job.plane)):
            self._refuse("the plane")
        if json.loads(str(g.attrs.get("options", "{}"))) != json.loads(job.options_json()):
            self._refuse("the options (held values, mini-batch)")
        if int(g.attrs["block_rows"]) != job.block_rows or g["blocks_done"].shape != (job.n_blocks,):
            self._refuse(f"the block size ({int(g.attrs['block_rows'])} rows)")

    # -- use ---------------------------------------------------------------------------------------------------
    def missing(self) -> list[int]:
        return [int(k) for k in np.flatnonzero(~self.done)]

    def write_block(self, k: int, values: np.ndarray) -> None:
        """Store block ``k``'s rows, then flag it done (each step flushed, in that order)."""
        rows = self.job.rows(k)
        if self.job.metric == "accuracy":
            self._exact[rows] = values
            self._values[rows] = values * 100.0
        else:
            self._values[rows] = values
        self._file.flush()
        self._done[k] = True
        self._file.flush()
        self.done[k] = True

    def read_block(self, k: int) -> np.ndarray:
        return np.asarray(self._exact[self.job.rows(k)], dtype=np.float64)

    def close(self) -> None:
        if self._file.id.valid:
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_store(path, job: SurfaceJob, template) -> SurfaceStore:
    try:
        return SurfaceStore(path, job, template)
    except DataError as exc:
        raise ConfigError("store", str(exc)) from None


__all__ = ["SurfaceStore", "open_store", "stored_block_rows"]
