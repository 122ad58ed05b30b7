"""Surfaces in the field's file format: HDF5 as tomgoldstein/loss-landscape writes and plots it.

Their ``plot_surface.py`` writes ``xcoordinates`` (nx,), ``ycoordinates`` (ny,) and ``train_loss`` /
``train_acc`` (accuracy in percent), filled in the order of ``np.meshgrid(xcoordinates, ycoordinates).ravel()``:
flat index ``i * nx + j`` holds the point (x[j], y[i]). Their ``plot_2D.py`` contours ``Z`` against
``np.meshgrid(x, y)``, so we store ``train_loss`` as (ny, nx), rows of y: the same flat order, and a shape their
plotting accepts for any grid (their own writer declares (nx, ny), which only square grids plot). Reading, we
take the flat order of either declared shape, (ny, nx) or (nx, ny), so both read right. Entries they have not
computed yet hold -1 and read as NaN.

Ours add, under ``landscape_app/``: the experiment (TOML), the plane's arrays, the axes' names, the held values,
the criterion, the mini-batch and an accuracy surface's exact fractions; a resumable store also keeps which blocks
of rows are done.

Files are read defensively (``h5_guard``, ``surface_checks``): declared sizes are held to ``file_limits`` before
anything is read, links to other files, virtual datasets and soft links are refused, and coordinates must be 1-D,
finite and strictly increasing, values real; every failure is a ``DataError`` naming the file.
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np

from . import surface_checks as check
from .errors import ConfigError, DataError
from .file_limits import MAX_SURFACE_VALUES, count_text, regular_file
from .files import temp_file_beside, unlink_quietly, writing
from .h5_guard import H5Reader, open_h5, require_h5py
from .surface_file import FORMAT, KEYS, SurfaceFile

VERSION = 1
GROUP = "landscape_app"
SUFFIXES = (".h5", ".hdf5")
NOT_COMPUTED = -1.0     # loss-landscape's mark for a value not computed yet


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


def read_plane(reader: H5Reader, g):
    """The ``PlaneRecord`` in a file's ``landscape_app/plane`` group (None: no plane stored), every part checked
    (``reader``: the file's ``H5Reader``)."""
    from .surface_job import PlaneRecord
    p = reader.group(g, "plane")
    if p is None:
        return None
    path = reader.path
    origin = check.vector(path, "landscape_app/plane/origin", reader.array(p, "origin", True))
    d1, d2 = (check.vector(path, f"landscape_app/plane/{k}", reader.array(p, k, True), origin.size)
              for k in ("d1", "d2"))
    labels = check.names_pair(path, "landscape_app/plane/@labels",
                              check.json_value(path, "landscape_app/plane/@labels", reader.text(p, "labels", "")))
    kind = reader.text(p, "kind")
    if kind is None:
        raise DataError(f"{path}: no landscape_app/plane/@kind in the file")
    b = reader.group(p, "buffers")
    buffers = None if b is None else reader.arrays(b)
    return PlaneRecord(origin, d1, d2, labels, kind, buffers)


def check_output(path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ConfigError("path", f"{path}: an HDF5 surface file ends in .h5 or .hdf5")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise ConfigError("path", f"{path}: the folder {parent} does not exist")
    return path


def create_atomic(path, fill) -> None:
    """Write an HDF5 file through a temporary file beside ``path``, renamed at the end (``fill(f)`` writes).

    The file is made in memory and written by Python: HDF5 writing to a disk that refuses (full, or past the
    file-size limit) left an unclosable file that crashed the interpreter (a segfault), where Python's write
    raises an ``OSError`` (a ``WriteError`` here)."""
    h5py = require_h5py()
    path = Path(path)
    image = io.BytesIO()
    with h5py.File(image, "w") as f:
        fill(f)
    with writing(path):
        tmp = temp_file_beside(path, path.suffix)
        try:
            with open(tmp, "wb") as out:
                out.write(image.getbuffer())
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
    """Read an HDF5 surface (ours, or one written by loss-landscape's ``plot_surface.py``), our NPZ or our CSV.

    Read defensively: sizes checked against ``file_limits`` before anything is read, no link to another file
    followed, every value checked; anything wrong is a ``DataError`` naming the file and what."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            from .surface_npz import read_npz_surface
            return read_npz_surface(path)
        if suffix == ".csv":
            from .surface_csv import read_csv_surface
            return read_csv_surface(path)
        regular_file(path)      # before anything opens it: a pipe would block, a device never end
        if suffix not in SUFFIXES and not _hdf5_signature(path):
            raise DataError(f"{path}: not a surface file; surfaces are read from HDF5 (.h5, .hdf5), NPZ (.npz) and "
                            f"CSV (.csv) files")
        with open_h5(path, "r") as f:
            return _read_h5(path, f)
    except ConfigError as exc:      # a plane or a value the core refuses (the file's, not the caller's)
        raise DataError(f"{path}: {exc}") from None
    except MemoryError:
        raise DataError(f"{path}: not enough memory to read it") from None


def _hdf5_signature(path: Path) -> bool:
    """Whether ``path`` starts as HDF5 files do (a file named otherwise may still be one of loss-landscape's)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(8) == b"\x89HDF\r\n\x1a\n"
    except OSError:
        return True         # open_h5 says why it cannot be read


def load_surface(path, metric: str = "loss"):
    """The ``Surface`` in an HDF5 file (ours or loss-landscape's), our NPZ or CSV; ``metric="accuracy"``: the
    accuracy surface (a fraction, 0..1) where the file has one."""
    read = read_surface_file(path)
    try:
        return read.surface(metric)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None


def _read_h5(path: Path, f) -> SurfaceFile:
    from .surface import Surface
    r = H5Reader(path, f)
    xs = r.dataset(f, "xcoordinates")
    if xs is None:
        raise DataError(f"{path}: not a surface file (no xcoordinates)")
    ys = r.dataset(f, "ycoordinates")
    if ys is None:
        raise DataError(f"{path}: a 1-D surface (no ycoordinates); only 2-D surfaces can be read")
    x = check.coordinates(path, "xcoordinates", r.read(xs, most_values=MAX_SURFACE_VALUES))
    y = check.coordinates(path, "ycoordinates", r.read(ys, most_values=MAX_SURFACE_VALUES))
    nx, ny = x.size, y.size
    if nx * ny > MAX_SURFACE_VALUES:
        raise DataError(f"{path}: a grid of {nx:,} x {ny:,} = {count_text(nx * ny)} points; at most "
                        f"{count_text(MAX_SURFACE_VALUES)} are read")
    g = r.group(f, GROUP)
    ours = g is not None and r.text(g, "format") == FORMAT
    if ours:
        done = r.array(g, "blocks_done", kinds="biu")
        if done is not None:
            done = check.vector(path, "landscape_app/blocks_done", done, kinds="biu").astype(bool)
            if not done.all():
                raise DataError(f"{path}: an unfinished surface ({int(done.sum())} of {done.size} blocks "
                                f"computed); compute it again with the same store to finish it")

    def grid(parent, key, exact=False):
        ds = r.dataset(parent, key)
        if ds is None:
            return None
        where = r.where(parent, key)
        # loss-landscape declares (nx, ny) and fills the flat order of (ny, nx): both are read in that order.
        shapes = {(ny, nx)} if exact else {(ny, nx), (nx, ny)}
        if ds.shape not in shapes:
            raise DataError(f"{path}: {where} has shape {ds.shape}; the coordinates make a grid of "
                            f"(len(y), len(x)) = ({ny}, {nx})")
        values = r.read(ds).astype(np.float64, copy=False)
        if not ours:
            values[values == NOT_COMPUTED] = np.nan
        return check.grid(path, where, values, nx, ny, transposed_ok=not exact)

    loss, acc = grid(f, KEYS["loss"]), grid(f, KEYS["accuracy"])
    if loss is None and acc is None:
        raise DataError(f"{path}: no train_loss or train_acc in the file")
    exact_acc = grid(g, "accuracy", exact=True) if ours else None
    if exact_acc is not None:
        acc = exact_acc
    elif acc is not None:
        acc /= 100.0
    if ours:
        axes = check.names_pair(path, "landscape_app/@axes",
                                check.json_value(path, "landscape_app/@axes", _required(r, g, "axes")))
        held = check.held_values(path, "landscape_app/@held",
                                 check.json_value(path, "landscape_app/@held", _required(r, g, "held"), dict))
        criterion = _required(r, g, "criterion")
        batch = check.indices(path, "landscape_app/batch", r.array(g, "batch", True, kinds="iu"))
        batch = batch if batch.size else None
        plane = read_plane(r, g)
        experiment = r.text(g, "experiment")
        session = r.text(g, "session")
        pg = r.group(g, "paths")
        paths = None if pg is None else {k: check.vector(path, f"landscape_app/paths/{k}", v)
                                         for k, v in r.arrays(pg).items()}
    else:
        axes, held, criterion, batch, plane, experiment, session = ("x", "y"), {}, "", None, None, None, None
        paths = None

    surface_plane = None if plane is None else plane.to_plane()

    def surface(values, metric):
        return None if values is None else Surface(x, y, values, axes, held, criterion, batch, surface_plane, metric)

    return SurfaceFile(surface(loss, "loss"), surface(acc, "accuracy"), experiment, session, plane,
                       "landscape-app" if ours else "loss-landscape", paths)


def _required(r: H5Reader, g, name: str) -> str:
    value = r.text(g, name)
    if value is None:
        raise DataError(f"{r.path}: no landscape_app/@{name} in the file")
    return value


__all__ = ["SurfaceFile", "save_surface", "load_surface", "read_surface_file", "write_layout", "read_plane",
           "create_atomic",
           "require_h5py", "FORMAT", "KEYS", "SUFFIXES"]
