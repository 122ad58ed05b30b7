"""Reading our NPZ surface (``landscape-app surface -o surface.npz``, ``export.save_surface``).

Arrays x, y, loss, axes, held_names, held_values, criterion, metric, batch, the session, the format, the plane's
``plane_*`` arrays where it lies on one and the runs' ``path_*`` columns. The file is read by ``npz_guard`` (sizes
checked before anything is inflated, no pickles) and every array checked (``surface_checks``) before use.
"""
from __future__ import annotations

from pathlib import Path

from . import surface_checks as check
from .errors import ConfigError, DataError
from .file_limits import MAX_SURFACE_VALUES, count_text
from .npz_guard import read_npz
from .surface_file import FORMAT, SurfaceFile




def read_npz_surface(path):
    """The ``SurfaceFile`` of our NPZ surface; ``DataError`` names the file and what is wrong."""
    from .plane import Plane
    from .surface import Surface
    path = Path(path)
    d = read_npz(path)

    def need(key):
        if key not in d:
            raise DataError(f"{path}: no {key!r} array in the file")
        return d[key]

    def word(key, default=None):
        return default if default is not None and key not in d else check.text(path, repr(key), need(key))

    if "format" not in d or word("format") != FORMAT:
        raise DataError(f"{path}: not a landscape-app surface (no format {FORMAT!r})")
    x = check.coordinates(path, "'x'", need("x"))
    y = check.coordinates(path, "'y'", need("y"))
    if x.size * y.size > MAX_SURFACE_VALUES:
        raise DataError(f"{path}: a grid of {x.size:,} x {y.size:,} points; at most "
                        f"{count_text(MAX_SURFACE_VALUES)} are read")
    loss = check.grid(path, "'loss'", need("loss"), x.size, y.size)
    axes = check.texts(path, "'axes'", need("axes"), 2)
    names = check.texts(path, "'held_names'", need("held_names"))
    values = check.vector(path, "'held_values'", need("held_values"), len(names))
    held = {k: float(v) for k, v in zip(names, values)}
    batch = check.indices(path, "'batch'", need("batch"))
    metric = check.metric(path, "'metric'", word("metric", "loss"))
    plane = None
    if "plane_origin" in d:
        vectors = [check.vector(path, repr(k), need(k)) for k in ("plane_origin", "plane_d1", "plane_d2")]
        plane_axes = check.texts(path, "'plane_axes'", d["plane_axes"]) if "plane_axes" in d else ()
        if plane_axes and len(plane_axes) != 2:
            raise DataError(f"{path}: 'plane_axes' must name two parameters")
        info = check.json_value(path, "'plane_info'", word("plane_info"), dict)
        try:
            plane = Plane(*vectors, labels=check.texts(path, "'plane_labels'", need("plane_labels"), 2),
                          kind=word("plane_kind"), info=info, axes=plane_axes or None)
        except ConfigError as exc:
            raise DataError(f"{path}: the plane: {exc}") from None
    surface = Surface(x, y, loss, axes, held, word("criterion"), batch if batch.size else None, plane, metric)
    loss_s, accuracy = (surface, None) if metric == "loss" else (None, surface)
    paths = {k[len("path_"):]: check.vector(path, repr(k), v) for k, v in d.items() if k.startswith("path_")}
    return SurfaceFile(loss_s, accuracy, None, word("session"), None, "landscape-app", paths or None)


__all__ = ["read_npz_surface"]
