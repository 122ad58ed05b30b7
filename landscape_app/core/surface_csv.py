"""Reading a surface's CSV (``landscape-app export``/``save_surface`` writes it): one row per grid point.

The ``#`` lines before the table hold the surface's description (``# surface: {json}``: axes, shape, criterion,
held values, mini-batch, metric), the plane it lies on (``# plane: {json}``) and the session's TOML block; the
table is ``alpha,beta,value`` per point, rows of beta in order, alpha varying fastest. Everything is checked
(``surface_checks``) and the declared shape held to the limits before the table is parsed.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from . import surface_checks as check
from .commented_csv import split_comments
from .errors import ConfigError, DataError
from .file_limits import MAX_SURFACE_VALUES, MAX_TEXT_BYTES, count_text, read_text
from .surface_file import SurfaceFile


def read_csv_surface(path):
    """The ``SurfaceFile`` of a surface CSV (its plane on the surface, the session as text, or None)."""
    path = Path(path)
    session, surface = csv_surface(path)
    loss, accuracy = (surface, None) if surface.metric == "loss" else (None, surface)
    return SurfaceFile(loss, accuracy, None, session, None, "landscape-app", None)


def csv_surface(path: Path):
    """(the session's TOML text or None, the ``Surface``) of a surface CSV."""
    from .plane import Plane
    from .surface import Surface
    session, comments, lines = split_comments(path, read_text(path, MAX_TEXT_BYTES, "utf-8"))
    meta = _header(path, comments, "surface")
    if meta is None:
        raise DataError(f"{path}: not a landscape-app surface (no '# surface:' line before the table)")
    axes = check.names_pair(path, "the surface line's axes", meta.get("axes"))
    rows, cols = _shape(path, meta.get("shape"))
    criterion = meta.get("criterion", "")
    if not isinstance(criterion, str):
        raise DataError(f"{path}: the surface line's criterion must be text")
    held = check.held_values(path, "the surface line's held", meta.get("held", {}))
    batch = _whole_numbers(path, "the surface line's batch", meta.get("batch", []))
    metric = check.metric(path, "the surface line's metric", meta.get("metric", "loss"))
    plane_meta = _header(path, comments, "plane")
    plane = None
    if plane_meta is not None:
        try:
            vectors = [_numbers(path, f"the plane line's {k}", plane_meta.get(k)) for k in ("origin", "d1", "d2")]
            labels = check.names_pair(path, "the plane line's labels", plane_meta.get("labels"))
            info = plane_meta.get("info", {})
            if not isinstance(info, dict) or not isinstance(plane_meta.get("kind"), str):
                raise DataError(f"{path}: the plane line's kind must be text and its info an object")
            named = plane_meta.get("axes")
            plane_axes = check.names_pair(path, "the plane line's axes", named) if named else None
            plane = Plane(*vectors, labels=labels, kind=plane_meta["kind"], info=info, axes=plane_axes)
        except ConfigError as exc:
            raise DataError(f"{path}: the plane line: {exc}") from None
    if not lines:
        raise DataError(f"{path}: no table after the '#' lines")
    table = [line for line in lines[1:] if line.strip()]
    if len(table) != rows * cols:
        raise DataError(f"{path}: the surface line declares {rows} x {cols} points; the table has "
                        f"{count_text(len(table))} rows")
    try:
        values = np.loadtxt(io.StringIO("\n".join(table)), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise DataError(f"{path}: the table must hold three numbers a row ({exc})") from None
    if values.shape != (rows * cols, 3):
        raise DataError(f"{path}: expected {rows * cols} rows of 3 values, found {values.shape[0]} of "
                        f"{values.shape[1]}")
    grid = values.reshape(rows, cols, 3)
    x = check.coordinates(path, f"the {axes[0]} column", grid[0, :, 0])
    y = check.coordinates(path, f"the {axes[1]} column", grid[:, 0, 1])
    if not (np.array_equal(grid[:, :, 0], np.broadcast_to(x, (rows, cols)))
            and np.array_equal(grid[:, :, 1], np.broadcast_to(y[:, None], (rows, cols)))):
        raise DataError(f"{path}: the rows are not the grid in order (rows of {axes[1]}, {axes[0]} varying "
                        f"fastest)")
    z = check.grid(path, f"the {metric} column", grid[:, :, 2].copy(), cols, rows)
    return session, Surface(x, y, z, axes, held, criterion, batch, plane, metric)


def _header(path: Path, comments: list[str], key: str):
    """The JSON object of the ``# key: {...}`` line (None: no such line)."""
    line = next((c for c in comments if c.startswith(f"{key}:")), None)
    if line is None:
        return None
    return check.json_value(path, f"the '# {key}:' line", line.split(":", 1)[1], dict)


def _shape(path: Path, shape) -> tuple[int, int]:
    if not (isinstance(shape, list) and len(shape) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape)):
        raise DataError(f"{path}: the surface line's shape must be two whole numbers of 1 or more, not "
                        f"{shape!r:.60}")
    rows, cols = shape
    if rows * cols > MAX_SURFACE_VALUES:
        raise DataError(f"{path}: the surface line declares {rows:,} x {cols:,} = {count_text(rows * cols)} "
                        f"points; at most {count_text(MAX_SURFACE_VALUES)} are read")
    return rows, cols


def _numbers(path: Path, where: str, value) -> np.ndarray:
    if not (isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                            for v in value)):
        raise DataError(f"{path}: {where} must be a list of numbers")
    return np.array(value, dtype=np.float64)


def _whole_numbers(path: Path, where: str, value):
    if not (isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                            for v in value)):
        raise DataError(f"{path}: {where} must be a list of sample indices")
    return np.array(value, dtype=np.int64) if value else None


__all__ = ["read_csv_surface", "csv_surface"]
