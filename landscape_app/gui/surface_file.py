"""A surface file opened in the app: ours (NPZ, CSV, HDF5, with the session that made it) or one written by
tomgoldstein/loss-landscape's ``plot_surface.py`` (HDF5: ``xcoordinates``, ``ycoordinates``, ``train_loss``).

``read_surface_scene(path)`` reads the file into a ``SurfaceFileScene``: the surface to draw, and the session to open
with it where the app's runs can be drawn on that surface (a linear model's session over its own (w, b) grid). For
anything else (their files, a network's plane, an accuracy or a mini-batch surface) the scene is the surface alone,
with one line that says what it is. Plain values, no Qt: the controller shows them.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import ConfigError, DataError
from ..core.session import Session
from ..core.surface_h5 import KEYS, read_surface_file
from ..core.tomlio import session_from_dict

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HDF5_SUFFIXES = (".h5", ".hdf5")
SURFACE_SUFFIXES = (*HDF5_SUFFIXES, ".npz", ".csv")
DIALOG_FILTER = "Surfaces (*.h5 *.hdf5 *.npz *.csv);;All files (*)"
NAME_CHARS = 40         # a longer file name is cut in its middle in the line that says what is shown


@dataclass(frozen=True, eq=False)
class SurfaceFileScene:
    """What the app shows of a surface file.

    ``surface``: the values drawn (``core.surface.Surface``: the loss, or the accuracy where the file holds no loss);
    ``session``: the session to open with it (None: the surface is shown alone, no runs); ``line``: what is shown,
    in words ("loss-landscape file surface.h5: 51 x 51, train_loss"); ``title``: the file's name; ``paths``: the
    runs' paths the file keeps on its plane (run number -> a ``Trajectory`` over the plane's two coordinates, its
    loss the surface's value under each point), drawn on the surface alone; ``runs``: their (name, colour).
    """

    path: str
    surface: object
    session: Session | None
    line: str
    title: str
    paths: dict = field(default_factory=dict)
    runs: tuple = ()


def is_surface_file(path) -> bool:
    """Whether ``path`` names a surface file (by its suffix) rather than a session."""
    return Path(path).suffix.lower() in SURFACE_SUFFIXES


def read_surface_scene(path, trust: bool = False) -> SurfaceFileScene:
    """Read a surface file; a file that cannot be read raises ``DataError`` naming it and why. A file whose session
    names code (a model file) raises ``UntrustedCodeError`` unless ``trust``, before that code runs."""
    path = Path(path)
    if not is_surface_file(path):
        raise DataError(f"{path}: a surface file ends in {', '.join(SURFACE_SUFFIXES)}")
    try:
        surface, session, origin, key, also, columns = _read(path, trust)
    except DataError:
        raise
    except ConfigError as exc:      # e.g. the session stored in the file names a data file that is gone
        raise DataError(f"{path}: the session stored in the file: {exc}") from None
    except (OSError, KeyError, ValueError, TypeError, IndexError, RuntimeError) as exc:
        # The core's reader checks every piece; this only keeps a case it missed a dialog, not a traceback.
        raise DataError(f"{path}: not a readable surface file ({type(exc).__name__}: {exc})") from None
    except MemoryError:
        raise DataError(f"{path}: not enough memory to read it") from None
    _check_grid(path, surface)
    nx, ny = len(surface.w), len(surface.b)
    line = f"{origin} file {_short(path.name)}: {nx} x {ny}, {key}"
    if also:
        line += f" (the file also holds {also})"
    shown = session if session is not None and _runs_fit(session, surface) else None
    paths = _file_paths(columns, surface) if shown is None else {}
    runs = _run_styles(session, paths)
    if shown is None:
        plane = getattr(surface, "plane", None)
        if plane is not None and plane.kind != "axes":
            line += f", on a {plane.kind} plane"
        if surface.batch is not None:
            line += f", the mini-batch of {surface.batch.size} samples"
        n = len(paths)
        line += f" · the surface and the {n} path{'s' if n != 1 else ''} in the file" if n else \
            " · the surface alone, no runs"
    return SurfaceFileScene(str(path), surface, shown, line, path.name, paths, runs)


def _file_paths(columns, surface) -> dict:
    """The paths a file keeps on its plane (``save_surface``'s columns) as Trajectories over the plane's
    coordinates, named as the surface's axes, at the surface's value under each point (as the window draws a
    network's projected paths). None where the file keeps none, or its surface lies on no plane."""
    from ..core.trajectory import Trajectory
    plane = getattr(surface, "plane", None)
    needed = ("run", "iteration", "alpha", "beta", "surface")
    if not columns or plane is None or plane.kind == "axes" or any(k not in columns for k in needed):
        return {}
    cols = {k: np.asarray(columns[k]) for k in needed}
    out = {}
    for run in np.unique(cols["run"]).astype(int).tolist():
        at = cols["run"] == run
        n = int(at.sum())
        nan = np.full(n, np.nan)
        out[run] = Trajectory(tuple(surface.axes), cols["iteration"][at].astype(np.int64), np.zeros(n, np.int64),
                              np.column_stack([cols["alpha"][at], cols["beta"][at]]).astype(np.float64), nan,
                              cols["surface"][at].astype(np.float64), nan)
    return out


def _run_styles(session: Session | None, paths: dict) -> tuple:
    """(name, colour) of each run with a path, from the file's session where it names them."""
    from ..core.palette import run_color
    names = tuple(session.names) if session is not None else ()
    colors = tuple(session.colors) if session is not None else ()
    return tuple((names[r] if r < len(names) else f"run {r + 1}", run_color(r, colors[r] if r < len(colors) else None))
                 for r in sorted(paths))


def _short(name: str, most: int = NAME_CHARS) -> str:
    """A long file name cut in its middle: loss-landscape names its files by their settings
    (``resnet56_sgd_lr=0.1_bs=128_wd=0.0005.t7_weights.h5_[-1.0,1.0,51]x[-1.0,1.0,51].h5``), and the line must
    still show the grid and the values after it (the title shows the whole name)."""
    if len(name) <= most:
        return name
    keep = most - 1
    return name[:keep - keep // 2] + "…" + name[-(keep // 2):]


def _read(path: Path, trust: bool):
    """(surface, session or None, origin, the values' name in the file, the other values' name or "", the runs'
    paths' columns or None). The core reads every format, checked (``la.load_surface``'s reader)."""
    read = read_surface_file(path)
    metric = "loss" if read.loss is not None else "accuracy"
    other = "accuracy" if metric == "loss" else "loss"
    hdf5 = path.suffix.lower() in HDF5_SUFFIXES
    also = KEYS[other] if hdf5 and getattr(read, other) is not None else ""
    session = None if read.session is None else _session(read.session, path.absolute().parent, path, trust)
    return read.surface(metric), session, read.origin, KEYS[metric] if hdf5 else metric, also, read.paths


def _session(text: str, base: Path, path: Path, trust: bool) -> Session:
    try:
        return session_from_dict(tomllib.loads(text), base, trust=trust, source=path)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: the session stored in the file is not valid TOML ({exc})") from None


def _check_grid(path: Path, surface) -> None:
    for name, values in (("x", surface.w), ("y", surface.b)):
        if len(values) < 2:
            raise DataError(f"{path}: {len(values)} {name} coordinate(s); a surface needs at least 2 along each axis")
        if not (np.isfinite(values).all() and (np.diff(values) > 0).all()):
            raise DataError(f"{path}: the {name} coordinates are not finite and increasing")
    if not np.isfinite(surface.loss).any():
        raise DataError(f"{path}: no value of the surface is computed yet")


def _runs_fit(session: Session, surface) -> bool:
    """Whether the session's runs can be drawn on ``surface``: a linear model's loss over its own grid's axes."""
    exp = session.experiment
    if exp.is_module or surface.metric != "loss" or surface.batch is not None:
        return False
    plane = getattr(surface, "plane", None)
    if plane is not None and plane.kind != "axes":
        return False
    return tuple(surface.axes) == tuple(exp.grid.axes) and surface.criterion == exp.criterion


__all__ = ["SurfaceFileScene", "read_surface_scene", "is_surface_file", "SURFACE_SUFFIXES", "DIALOG_FILTER"]
