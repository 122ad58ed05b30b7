"""Surfaces in the field's file format: HDF5 as tomgoldstein/loss-landscape writes and plots it.

Their ``plot_surface.py`` writes ``xcoordinates`` (nx,), ``ycoordinates`` (ny,) and ``train_loss`` /
``train_acc`` (accuracy in percent), filled in the order of ``np.meshgrid(xcoordinates, ycoordinates).ravel()``:
flat index ``i * nx + j`` holds the point (x[j], y[i]). Their ``plot_2D.py`` contours ``Z`` against
``np.meshgrid(x, y)``, so we store ``train_loss`` as (ny, nx), rows of y: the same flat order, and a shape their
plotting accepts for any grid (their own writer declares (nx, ny), which only square grids plot). Reading, we
take the flat order and ignore the declared shape, so both read right. Entries they have not computed yet hold -1
and read as NaN.

Ours add, under ``landscape_app/``: the experiment (TOML), the plane's arrays, the axes' names, the held values,
the criterion, the mini-batch and an accuracy surface's exact fractions; a resumable store also keeps which blocks
of rows are done.
"""
from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError, DataError
from .files import temp_file_beside, unlink_quietly

FORMAT = "landscape-app surface"
VERSION = 1
GROUP = "landscape_app"
SUFFIXES = (".h5", ".hdf5")
KEYS = {"loss": "train_loss", "accuracy": "train_acc"}
NOT_COMPUTED = -1.0     # loss-landscape's mark for a value not computed yet


def require_h5py():
    try:
        import h5py
    except ImportError:
        raise ConfigError("h5py", "HDF5 surface files need the h5py package: pip install h5py") from None
    return h5py


@dataclass(frozen=True, eq=False)
class SurfaceFile:
    """What an HDF5 or NPZ surface file holds: the loss surface, the accuracy (if stored) and where it came from.

    ``experiment``: the TOML text of the experiment (ours; None in loss-landscape's files), ``session`` the
    session's, ``plane`` a ``PlaneRecord`` (None for grid axes and for their files), ``origin``: "landscape-app"
    or "loss-landscape"; ``paths``: the runs' paths projected on the plane, as columns (``run``, ``iteration``,
    ``alpha``, ``beta``, ``distance``, ``loss``, ``surface``), where the file keeps them (None: it does not).
    """

    loss: object | None
    accuracy: object | None
    experiment: str | None
    session: str | None
    plane: object | None
    origin: str
    paths: dict | None = None

    def surface(self, metric: str = "loss"):
        if metric == "loss":
            if self.loss is None:
                raise DataError("the file holds no loss surface (train_loss), only accuracy (train_acc)")
            return self.loss
        if metric == "accuracy":
            if self.accuracy is None:
                raise DataError("the file holds no accuracy surface (train_acc)")
            return self.accuracy
        raise ConfigError("metric", f"must be 'loss' or 'accuracy', not {metric!r}")


# -- writing -------------------------------------------------------------------------------------------------

def write_layout(f, x: np.ndarray, y: np.ndarray, *, metric: str = "loss", values: np.ndarray | None = None,
                 experiment: str | None = None, session: str | None = None, plane=None,
                 axes=("w", "b"), held=None, criterion: str = "", batch=None, options_json: str = "{}",
                 paths: dict | None = None) -> None:
    """Create every dataset and attribute of a surface file in the open h5py file ``f``; ``paths``: the runs'
    paths on the plane (columns, as ``SurfaceFile.paths``), kept in the group ``landscape_app/paths``.

    ``values`` None: the surface is filled with NaN (a store, filled block by block). Everything is created here,
    once: writing a block later changes raw data only, never the file's structure.
    """
    key = KEYS[metric]
    f.create_dataset("xcoordinates", data=np.asarray(x, dtype=np.float64))
    f.create_dataset("ycoordinates", data=np.asarray(y, dtype=np.float64))
    shape = (len(y), len(x))
    data = np.full(shape, np.nan) if values is None else np.asarray(values, dtype=np.float64)
    if data.shape != shape:
        raise ValueError(f"values have shape {data.shape}, expected (len(y), len(x)) = {shape}")
    # loss-landscape keeps accuracy in percent
    f.create_dataset(key, data=data * 100.0 if metric == "accuracy" else data)
    g = f.create_group(GROUP)
    g.attrs["format"] = FORMAT
    g.attrs["version"] = VERSION
    g.attrs["metric"] = metric
    g.attrs["axes"] = json.dumps([str(a) for a in axes])
    g.attrs["held"] = json.dumps({str(k): float(v) for k, v in dict(held or {}).items()})
    g.attrs["criterion"] = str(criterion or "")
    g.attrs["options"] = options_json
    if experiment is not None:
        g.attrs["experiment"] = experiment
    if session is not None:
        g.attrs["session"] = session
    g.create_dataset("batch", data=np.asarray([] if batch is None else batch, dtype=np.int64))
    if metric == "accuracy":
        # train_acc is in percent (loss-landscape's unit), and x100 then /100 does not always give back the same
        # float: the fractions themselves are kept here, so what is read (or resumed) equals what was computed.
        g.create_dataset("accuracy", data=data)
    if plane is not None:
        p = g.create_group("plane")
        for name in ("origin", "d1", "d2"):
            p.create_dataset(name, data=getattr(plane, name))
        p.attrs["labels"] = json.dumps(list(plane.labels))
        p.attrs["kind"] = plane.kind
        if plane.buffers is not None:
            b = p.create_group("buffers")
            for name, value in plane.buffers.items():
                b.create_dataset(name, data=value)
    if paths:
        group = g.create_group("paths")
        for name, column in paths.items():
            group.create_dataset(name, data=np.asarray(column))


def read_plane(g):
    """The ``PlaneRecord`` in a file's ``landscape_app/plane`` group (None: no plane stored)."""
    from .surface_job import PlaneRecord
    if "plane" not in g:
        return None
    p = g["plane"]
    buffers = {k: v[()] for k, v in p["buffers"].items()} if "buffers" in p else None
    return PlaneRecord(p["origin"][()], p["d1"][()], p["d2"][()], tuple(json.loads(p.attrs["labels"])),
                       str(p.attrs["kind"]), buffers)


def check_output(path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ConfigError("path", f"{path}: an HDF5 surface file ends in .h5 or .hdf5")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise ConfigError("path", f"{path}: the folder {parent} does not exist")
    return path


def create_atomic(path, fill) -> None:
    """Write an HDF5 file through a temporary file beside ``path``, renamed at the end (``fill(f)`` writes)."""
    h5py = require_h5py()
    path = Path(path)
    tmp = temp_file_beside(path, path.suffix)
    try:
        with h5py.File(tmp, "w") as f:
            fill(f)
        os.replace(tmp, path)
    except BaseException:
        unlink_quietly(tmp)
        raise


def save_surface(path, surface, experiment=None, *, session: str | None = None, paths: dict | None = None) -> None:
    """Write ``surface`` as HDF5 in loss-landscape's layout (``train_loss``, or ``train_acc`` for an accuracy
    surface), with the experiment (an ``Experiment`` or its TOML text) and the surface's plane as attributes, and
    the runs' ``paths`` projected on the plane (columns, as ``SurfaceFile.paths``). Written through a temporary
    file renamed into place."""
    from .surface_job import plane_record
    path = check_output(path)
    metric = getattr(surface, "metric", "loss")
    text = experiment if experiment is None or isinstance(experiment, str) else experiment_toml(experiment)
    record = plane_record(getattr(surface, "plane", None))
    create_atomic(path, lambda f: write_layout(
        f, surface.w, surface.b, metric=metric, values=surface.loss, experiment=text, session=session,
        plane=record, axes=surface.axes, held=surface.held, criterion=surface.criterion, batch=surface.batch,
        paths=paths))


def experiment_toml(exp) -> str:
    import tomli_w
    from .surface_job import experiment_dict
    return tomli_w.dumps(experiment_dict(exp))


# -- reading -------------------------------------------------------------------------------------------------

def read_surface_file(path) -> SurfaceFile:
    """Read an HDF5 surface (ours, or one written by loss-landscape's ``plot_surface.py``) or our NPZ."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        return _read_npz(path)
    h5py = require_h5py()
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with h5py.File(path, "r") as f:
            return _read_h5(path, f)
    except OSError as exc:
        raise DataError(f"{path}: not a readable HDF5 file ({exc})") from None


def load_surface(path, metric: str = "loss"):
    """The ``Surface`` in an HDF5 file (ours or loss-landscape's) or our NPZ; ``metric="accuracy"``: the
    accuracy surface (a fraction, 0..1) where the file has one."""
    return read_surface_file(path).surface(metric)


def _read_h5(path: Path, f) -> SurfaceFile:
    from .surface import Surface
    if "xcoordinates" not in f:
        raise DataError(f"{path}: not a surface file (no xcoordinates)")
    if "ycoordinates" not in f:
        raise DataError(f"{path}: a 1-D surface (no ycoordinates); only 2-D surfaces can be read")
    x = np.asarray(f["xcoordinates"][()], dtype=np.float64).reshape(-1)
    y = np.asarray(f["ycoordinates"][()], dtype=np.float64).reshape(-1)
    g = f.get(GROUP)
    ours = g is not None and g.attrs.get("format") == FORMAT
    if ours and "blocks_done" in g:
        done = np.asarray(g["blocks_done"][()], dtype=bool)
        if not done.all():
            raise DataError(f"{path}: an unfinished surface ({int(done.sum())} of {done.size} blocks computed); "
                            f"compute it again with the same store to finish it")

    def grid(key):
        if key not in f:
            return None
        flat = np.asarray(f[key][()], dtype=np.float64).reshape(-1)
        if flat.size != x.size * y.size:
            raise DataError(f"{path}: {key} holds {flat.size} values for a {x.size} x {y.size} grid")
        values = flat.reshape(len(y), len(x)).copy()
        if not ours:
            values[values == NOT_COMPUTED] = np.nan
        return values

    loss, acc = grid(KEYS["loss"]), grid(KEYS["accuracy"])
    if loss is None and acc is None:
        raise DataError(f"{path}: no train_loss or train_acc in the file")
    if ours and "accuracy" in g:
        acc = np.asarray(g["accuracy"][()], dtype=np.float64)
    elif acc is not None:
        acc /= 100.0
    if ours:
        axes = tuple(json.loads(g.attrs["axes"]))
        held = json.loads(g.attrs["held"])
        criterion = str(g.attrs["criterion"])
        batch = np.asarray(g["batch"][()], dtype=np.int64)
        batch = batch if batch.size else None
        plane = read_plane(g)
        experiment = g.attrs.get("experiment")
        session = g.attrs.get("session")
        paths = {k: v[()] for k, v in g["paths"].items()} if "paths" in g else None
    else:
        axes, held, criterion, batch, plane, experiment, session = ("x", "y"), {}, "", None, None, None, None
        paths = None

    surface_plane = None if plane is None else plane.to_plane()

    def surface(values, metric):
        return None if values is None else Surface(x, y, values, axes, held, criterion, batch, surface_plane, metric)

    return SurfaceFile(surface(loss, "loss"), surface(acc, "accuracy"), _text(experiment), _text(session), plane,
                       "landscape-app" if ours else "loss-landscape", paths)


def _text(value):
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _read_npz(path: Path) -> SurfaceFile:
    """Our NPZ (``landscape-app surface -o surface.npz``): arrays x, y, loss, axes, held_*, criterion, metric, batch,
    the plane's ``plane_*`` arrays where it lies on one, and the session."""
    from .plane import Plane
    from .surface import Surface
    try:
        # Our own file object: np.load leaves the file it opened unclosed when it is not a whole zip.
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable NPZ file ({exc})") from None
    if str(d.get("format", "")) != FORMAT:
        raise DataError(f"{path}: not a landscape-app surface")
    held = {str(k): float(v) for k, v in zip(d["held_names"], d["held_values"])}
    batch = d["batch"] if d["batch"].size else None
    plane = None
    if "plane_origin" in d:
        axes = tuple(str(v) for v in d["plane_axes"]) if "plane_axes" in d and d["plane_axes"].size else None
        plane = Plane(d["plane_origin"], d["plane_d1"], d["plane_d2"],
                      labels=tuple(str(v) for v in d["plane_labels"]), kind=str(d["plane_kind"]),
                      info=json.loads(str(d["plane_info"])), axes=axes)
    metric = str(d.get("metric", "loss"))
    surface = Surface(d["x"], d["y"], d["loss"], tuple(str(a) for a in d["axes"]), held, str(d["criterion"]), batch,
                      plane, metric)
    loss, accuracy = (surface, None) if metric == "loss" else (None, surface)
    paths = {k[len("path_"):]: v for k, v in d.items() if k.startswith("path_")} or None
    return SurfaceFile(loss, accuracy, None, str(d["session"]), None, "landscape-app", paths)


__all__ = ["SurfaceFile", "save_surface", "load_surface", "read_surface_file", "write_layout", "read_plane",
           "create_atomic",
           "require_h5py", "FORMAT", "KEYS", "SUFFIXES"]
