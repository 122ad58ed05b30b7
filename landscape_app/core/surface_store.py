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

from . import surface_checks as check
from .errors import ConfigError, DataError
from .file_limits import MAX_SURFACE_VALUES
from .h5_guard import H5Reader, open_h5
from .surface_h5 import FORMAT, GROUP, KEYS, check_output, create_atomic, read_plane, write_layout
from .surface_job import SurfaceJob

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


STORE = "surface store"


def stored_block_rows(path) -> int | None:
    """The block size a store was made with (None: no store there yet). A store another run is writing, a
    damaged one or one that is no HDF5 file is a ``DataError`` saying so."""
    path = Path(path)
    if not path.exists():
        return None
    with open_h5(path, "r", STORE) as f:
        r = H5Reader(path, f)
        return r.integer(_store_group(r), "block_rows")


def _store_group(r: H5Reader):
    """The ``landscape_app`` group of a store (``ConfigError`` where the file is not one)."""
    g = r.group(r.f, GROUP)
    if g is None or r.text(g, "format") != FORMAT or r.dataset(g, "blocks_done") is None:
        raise ConfigError("store", f"{r.path} is not a landscape-app surface store; give a new file name")
    return g


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
        self.path = Path(path)
        self.job = job
        if not self.path.exists():
            check_output(self.path)
            self._create(template)
        # Checked read-only first: a store refused is left byte for byte as it was (opening for writing marks
        # the file). Refused as a DataError saying why: another run writing it (HDF5's lock), damaged, crafted.
        with open_h5(self.path, "r", STORE) as f:
            self._check(f)
        self._file = open_h5(self.path, "r+", STORE)
        try:
            self._check(self._file)
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

    def _check(self, f) -> None:
        """Refuse a store of another surface (``ConfigError``) or a damaged or crafted one (``DataError``), and
        take the datasets blocks are written to: the file's own (no links, no virtual datasets), of the grid's
        shape, so writing a block never writes outside them."""
        job = self.job
        r = H5Reader(self.path, f)
        g = _store_group(r)
        import tomli_w
        text = r.text(g, "experiment", "")
        try:
            stored = _surface_fields(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"{self.path}: landscape_app/@experiment is not valid TOML ({exc}); the store is "
                            f"damaged") from None
        # through TOML text: the same normalisation as the stored experiment's
        current = _surface_fields(tomllib.loads(tomli_w.dumps(job.experiment)))
        if stored != current:
            keys = sorted(set(stored) | set(current), key=str)
            first = next((k for k in keys if stored.get(k) != current.get(k)), "experiment")
            self._refuse(f"the experiment's {first}")
        if r.text(g, "metric") != job.metric:
            self._refuse("the metric")
        ax, ay = job.plane.labels if job.plane is not None else ("x", "y")
        if not np.array_equal(r.array(f, "xcoordinates", True, most_values=MAX_SURFACE_VALUES), job.alpha):
            self._refuse(f"the {ax} axis")
        if not np.array_equal(r.array(f, "ycoordinates", True, most_values=MAX_SURFACE_VALUES), job.beta):
            self._refuse(f"the {ay} axis")
        plane = read_plane(r, g)
        if (plane is None) != (job.plane is None) or (plane is not None and not plane.same_as(job.plane)):
            self._refuse("the plane")
        options = check.json_value(self.path, "landscape_app/@options", r.text(g, "options", "{}"))
        if options != json.loads(job.options_json()):
            self._refuse("the options (held values, mini-batch)")
        block_rows = r.integer(g, "block_rows")
        done = r.dataset(g, "blocks_done", True)
        if block_rows != job.block_rows or done.shape != (job.n_blocks,):
            self._refuse(f"the block size ({block_rows} rows)")
        self._values = self._grid_dataset(r, f, KEYS[job.metric])
        self._exact = self._grid_dataset(r, g, "accuracy") if job.metric == "accuracy" else self._values
        self._done = done
        self.done = r.read(done, kinds="biu").astype(bool)

    def _grid_dataset(self, r: H5Reader, parent, name: str):
        ds = r.dataset(parent, name, True)
        shape = (len(self.job.beta), len(self.job.alpha))
        if ds.shape != shape or ds.dtype.kind != "f":
            raise DataError(f"{self.path}: {r.where(parent, name)} is {ds.dtype} of shape {ds.shape}, not the "
                            f"grid's float values of shape {shape}; the store is damaged")
        return ds

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
    """The store at ``path`` for ``job``, made where there is none. ``ConfigError``: the file is not a store, or
    one of another surface; ``DataError``: it is damaged, crafted, or in use by another run."""
    return SurfaceStore(path, job, template)


__all__ = ["SurfaceStore", "open_store", "stored_block_rows"]
