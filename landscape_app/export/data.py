"""Data for people who plot elsewhere: the runs' paths (CSV, JSON) and the surface (NPZ, CSV, HDF5) with the plane it
lies on, each file carrying the session (TOML) that made it, so it alone reproduces the numbers.

Files are written through a temporary file renamed into place; the readers give back the same values exactly.
"""
from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from ..core.commented_csv import comment_block, split_comments
from ..core.errors import ConfigError, DataError, ExportError
from ..core.file_limits import read_text
from ..core.files import writing
from ..core.session import Session
from ..core.tomlio import session_from_dict, session_to_dict
from ..core.trajectory import Trajectory, batch_cell, cell_batch, full_batch_line
from .writers import temp_file_beside, write_text_atomic

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RUNS_FORMAT = "landscape-app runs"
SURFACE_FORMAT = "landscape-app surface"
VERSION = 1
RUN_SUFFIXES = (".csv", ".json")
SURFACE_SUFFIXES = (".npz", ".csv", ".h5", ".hdf5")


def check_data_output(path, suffixes: Sequence[str], what: str) -> Path:
    """Refuse an unusable output path before any work (suffix, folder, permissions)."""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise ExportError(f"-o {path}: write the {what} to a file ending in {' or '.join(suffixes)}")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise ExportError(f"-o {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"-o {path}: cannot write in {parent} (permission denied)")
    if path.is_dir():
        raise ExportError(f"-o {path}: is a folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise ExportError(f"-o {path}: the file exists and is read-only")
    return path


# -- the session as text -----------------------------------------------------------------------------------
def _session_toml(session: Session, base_dir: Path) -> str:
    import tomli_w
    return tomli_w.dumps(session_to_dict(session, base_dir))


def _session_from_toml(text: str, base_dir: Path, where, trust: bool) -> Session:
    """The session a file carries; one that names code is refused unless ``trust`` (``UntrustedCodeError``)."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{where}: the session stored in the file is not valid TOML ({exc})") from None
    return _session_from_table(table, base_dir, where, trust)


def _session_from_table(table: dict, base_dir: Path, where, trust: bool) -> Session:
    """``session_from_dict``, its mistakes (``ConfigError``, ``DataError``) named as the file's."""
    try:
        return session_from_dict(table, base_dir, trust=trust, source=where)
    except (ConfigError, DataError) as exc:
        raise DataError(f"{where}: the session stored in the file: {exc}") from None


def _float_text(v) -> str:
    return repr(float(v))


# -- runs ----------------------------------------------------------------------------------------------------
def save_runs(path, session: Session, trajectories: Sequence[Trajectory]) -> None:
    """Every run's path, CSV (one row per step, a ``run`` column) or JSON, with the session that made them."""
    path = Path(path)
    if len(trajectories) != len(session.runs):
        raise ExportError(f"{len(trajectories)} paths for a session of {len(session.runs)} runs")
    base = path.absolute().parent
    colors = _colors(session)
    if path.suffix.lower() == ".json":
        table = {"format": RUNS_FORMAT, "version": VERSION, "session": session_to_dict(session, base),
                 "runs": [{"name": n, "color": c, "trajectory": t.to_dict()}
                          for n, c, t in zip(session.names, colors, trajectories)]}
        write_text_atomic(path, json.dumps(table, allow_nan=False, ensure_ascii=False) + "\n")
        return
    names = trajectories[0].param_names
    out = io.StringIO()
    out.write(f"# {RUNS_FORMAT} (version {VERSION}): one row per optimizer step of each run; "
              f"iteration 0 is the start point\n")
    for k, (name, color, t) in enumerate(zip(session.names, colors, trajectories)):
        meta = {"name": name, "color": color, "outcome": t.outcome, "message": t.message}
        out.write(f"# run {k}: {json.dumps(meta, ensure_ascii=False)}\n")
    # A full batch's indices (every sample, on every row) are left out: an empty cell after iteration 0.
    full = len(session.experiment.data)
    out.write(full_batch_line([b for t in trajectories for b in t.batches], full))
    out.write(comment_block(_session_toml(session, base)))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["run", "iteration", "epoch", *names, "batch_loss", "loss", "lr", "batch"])
    for k, t in enumerate(trajectories):
        for i in range(len(t)):
            batch = batch_cell(t.batches[i], full) if i < len(t.batches) else ""
            writer.writerow([k, int(t.iteration[i]), int(t.epoch[i]), *map(_float_text, t.params[i]),
                             _float_text(t.batch_loss[i]), _float_text(t.loss[i]), _float_text(t.lr[i]), batch])
    write_text_atomic(path, out.getvalue())


def load_runs(path, trust: bool = False) -> tuple[Session, tuple[Trajectory, ...]]:
    """Read a file written by ``save_runs``: the session and each run's path; ``DataError`` names the file and
    what is wrong in it.

    A session that names code (a model file) runs it when built: unless ``trust``, ``UntrustedCodeError`` before
    any of it runs."""
    path = Path(path)
    text = read_text(path)
    base = path.absolute().parent
    if path.suffix.lower() == ".json":
        return _load_runs_json(path, text, base, trust)
    toml_text, comments, lines = split_comments(path, text)
    if toml_text is None:
        raise DataError(f"{path}: no session block; not written by landscape-app run")
    session = _session_from_toml(toml_text, base, path, trust)
    metas = _run_lines(path, comments)
    rows = [(n, row) for n, row in enumerate(csv.reader(lines), start=len(text.splitlines()) - len(lines) + 1)
            if row]
    tail = ["batch_loss", "loss", "lr", "batch"]
    if not rows or rows[0][1][:3] != ["run", "iteration", "epoch"] or rows[0][1][-4:] != tail \
            or len(rows[0][1]) < 3 + 2 + 4:
        raise DataError(f"{path}: the table's header must be run, iteration, epoch, two or more parameter names, "
                        f"{', '.join(tail)}")
    header = rows[0][1]
    k = len(header) - 7
    names = tuple(header[3:3 + k])
    per_run: dict[int, list] = {}
    for line_no, row in rows[1:]:
        if len(row) != len(header):
            raise DataError(f"{path}, line {line_no}: {len(row)} columns; the header has {len(header)}")
        try:
            run, iteration, epoch = int(row[0]), int(row[1]), int(row[2])
            floats = [float(v) for v in row[3:3 + k + 3]]
        except ValueError:
            raise DataError(f"{path}, line {line_no}: run, iteration and epoch must be whole numbers and the "
                            f"parameters, losses and lr numbers") from None
        if not 0 <= run < len(session.runs):
            raise DataError(f"{path}, line {line_no}: run {run} is not one of the session's "
                            f"{len(session.runs)} run(s)")
        full = len(session.runs[run].data)
        try:
            batch = cell_batch(row[-1], iteration, full)
        except ValueError:
            raise DataError(f"{path}, line {line_no}: the batch {row[-1]!r:.40} is not sample indices") from None
        per_run.setdefault(run, []).append((iteration, epoch, floats, batch))
    out = []
    for run in sorted(per_run):
        body = per_run[run]
        ints = np.array([[r[0], r[1]] for r in body], dtype=np.int64)
        floats = np.array([r[2] for r in body], dtype=np.float64).reshape(len(body), k + 3)
        meta = metas.get(run, {})
        out.append(Trajectory(names, ints[:, 0].copy(), ints[:, 1].copy(), floats[:, :k].copy(),
                              floats[:, k].copy(), floats[:, k + 1].copy(), floats[:, k + 2].copy(),
                              tuple(r[3] for r in body), meta["outcome"], meta["message"]))
    return session, tuple(out)


def _run_lines(path: Path, comments: list[str]) -> dict[int, dict]:
    """The ``# run K: {json}`` lines: each run's outcome and message."""
    from ..core.trajectory import OUTCOMES
    metas = {}
    for c in comments:
        if not (c.startswith("run ") and ":" in c):
            continue
        key, _, value = c.partition(":")
        try:
            run, meta = int(key.split()[1]), json.loads(value)
        except (ValueError, IndexError, RecursionError):
            raise DataError(f"{path}: the line '# {c:.40}' is not '# run K: {{json}}'") from None
        if not isinstance(meta, dict):
            raise DataError(f"{path}: the line '# run {run}:' must hold a JSON object")
        outcome, message = meta.get("outcome", "finished"), meta.get("message", "")
        if outcome not in OUTCOMES or not isinstance(message, str):
            raise DataError(f"{path}: the line '# run {run}:' has an outcome not one of {', '.join(OUTCOMES)} "
                            f"or a message that is not text")
        metas[run] = {"outcome": outcome, "message": message}
    return metas


def _load_runs_json(path: Path, text: str, base: Path, trust: bool):
    from ..core.trajectory import trajectory_from_dict
    try:
        table = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise DataError(f"{path}: not valid JSON (nested too deeply)") from None
    if not isinstance(table, dict) or table.get("format") != RUNS_FORMAT:
        raise DataError(f"{path}: not a landscape-app runs file (no \"format\": \"{RUNS_FORMAT}\")")
    if not isinstance(table.get("session"), dict):
        raise DataError(f"{path}: no session (a \"session\" object) in the file")
    session = _session_from_table(table["session"], base, path, trust)
    runs = table.get("runs", [])
    if not isinstance(runs, list) or not all(isinstance(r, dict) and "trajectory" in r for r in runs):
        raise DataError(f"{path}: \"runs\" must be a list of objects, each with its \"trajectory\"")
    return session, tuple(trajectory_from_dict(r["trajectory"], where=f"{path}: runs[{i}]")
                          for i, r in enumerate(runs))


def _colors(session: Session) -> list[str]:
    from .scene import run_colors
    return list(run_colors(session))


# -- surface -------------------------------------------------------------------------------------------------
def _plane_meta(plane) -> dict | None:
    """The plane as JSON-ready values: labels, kind, info, and its three vectors."""
    if plane is None:
        return None
    return {"labels": list(plane.labels), "kind": plane.kind, "info": _plain(dict(plane.info)),
            "axes": _named_axes(plane)}


def _named_axes(plane) -> list[str] | None:
    # Only an axes plane names two parameters (elsewhere ``plane.axes`` may be the class's maker, not a value).
    axes = plane.axes if plane.kind == "axes" else None
    return [str(a) for a in axes] if isinstance(axes, (tuple, list)) else None


def _plain(value):
    """numpy values (a PCA's variance ratios, a Hessian's eigenvalues) as JSON numbers and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def save_surface(path, session: Session, surface, paths: dict | None = None, extra: dict | None = None) -> None:
    """The surface as NPZ (arrays ``alpha``/``x``, ``beta``/``y``, ``loss``, also under an axes plane's parameter
    names, and the plane's ``plane_origin``, ``plane_d1``, ``plane_d2``, ``plane_labels``, ``plane_kind``,
    ``plane_info``) or CSV (one row per grid point: alpha, beta, loss; the plane in a header line), with the
    session that made it. ``paths``: the runs' paths projected on the plane (columns ``run``, ``iteration``,
    ``alpha``, ``beta``, ``distance``, ``loss``, ``surface``), kept in the NPZ as ``path_<column>`` and in HDF5
    as the datasets of ``landscape_app/paths`` (a CSV's one table is the grid's: it keeps none); ``extra``: more
    NPZ arrays (the surface beside)."""
    path = Path(path)
    ax, ay = (str(a) for a in surface.axes)
    held = {str(k): float(v) for k, v in dict(surface.held or {}).items()}
    batch = np.asarray([] if surface.batch is None else surface.batch, dtype=np.int64)
    toml_text = _session_toml(session, path.absolute().parent)
    x, y, loss = (np.asarray(a, dtype=np.float64) for a in (surface.w, surface.b, surface.loss))
    if path.suffix.lower() in (".h5", ".hdf5"):
        from ..core import surface_h5
        surface_h5.save_surface(path, surface, session.experiment, session=toml_text, paths=paths)
        return
    plane = getattr(surface, "plane", None)
    meta_plane = _plane_meta(plane)
    metric = str(getattr(surface, "metric", "loss"))
    if path.suffix.lower() == ".npz":
        arrays = {"x": x, "y": y, "alpha": x, "beta": y, "loss": loss, "axes": np.array([ax, ay]),
                  "held_names": np.array(list(held), dtype=str), "held_values": np.array(list(held.values())),
                  "criterion": np.array(str(surface.criterion or "")), "metric": np.array(metric), "batch": batch,
                  "session": np.array(toml_text), "format": np.array(SURFACE_FORMAT)}
        if plane is not None:
            arrays.update(plane_origin=plane.origin, plane_d1=plane.d1, plane_d2=plane.d2,
                          plane_labels=np.array(list(plane.labels)), plane_kind=np.array(plane.kind),
                          plane_info=np.array(json.dumps(meta_plane["info"])),
                          plane_axes=np.array(meta_plane["axes"] or [], dtype=str))
        for key, column in dict(paths or {}).items():
            arrays[f"path_{key}"] = np.asarray(column)
        arrays.update(extra or {})
        if plane is None or plane.kind == "axes":
            for name, arr in ((ax, x), (ay, y)):
                arrays.setdefault(name, arr)
        _write_npz_atomic(path, arrays)
        return
    out = io.StringIO()
    out.write(f"# {SURFACE_FORMAT} (version {VERSION}): the {metric} at every grid point; rows of {ay} in order, "
              f"{ax} varying fastest\n")
    meta = {"axes": [ax, ay], "shape": list(loss.shape), "criterion": str(surface.criterion or ""),
            "held": held, "batch": batch.tolist(), "metric": metric}
    out.write(f"# surface: {json.dumps(meta, ensure_ascii=False)}\n")
    if plane is not None:
        vectors = {k: [float(v) for v in getattr(plane, k)] for k in ("origin", "d1", "d2")}
        out.write(f"# plane: {json.dumps({**meta_plane, **vectors}, ensure_ascii=False, allow_nan=False)}\n")
    out.write(comment_block(toml_text))
    # An axes plane's columns are its two parameters (w,b,loss as ever); any other plane's its coordinates, whose
    # labels ("PCA 1 (71%)") are in the plane's line.
    named = plane is None or plane.kind == "axes"
    columns = (_csv_field(ax), _csv_field(ay)) if named else ("alpha", "beta")
    out.write(f"{columns[0]},{columns[1]},{metric}\n")
    xx, yy = np.meshgrid(x, y)
    for xv, yv, lv in zip(xx.ravel().tolist(), yy.ravel().tolist(), loss.ravel().tolist()):
        out.write(f"{xv!r},{yv!r},{lv!r}\n")
    write_text_atomic(path, out.getvalue())


def projected_columns(scene) -> dict[str, np.ndarray] | None:
    """A network scene's paths on its plane, as ``save_surface`` keeps them: per step of each run its plane
    coordinates, its distance off the plane, its true loss and the surface's value at the projected point (the
    numbers the window's note gives). None for a linear model, whose paths lie on their (w, b) grid.

    A race of two networks on one plane (``scene.beside`` of kind "network"): each run's ``surface`` is read on its
    own network's surface, and ``network`` says which (0: the main surface's, 1: the one beside, ``loss_beside``).
    Beside the random slice: each run's ``alpha_beside``, ``beta_beside``, ``distance_beside`` and
    ``surface_beside`` on it."""
    plane = scene.plane
    if plane is None:
        return None
    from ..core.projection import project_path
    spec, beside = scene.beside if scene.beside is not None else (None, None)
    network = spec is not None and spec.kind == "network"
    cols = {k: [] for k in ("run", "iteration", "alpha", "beta", "distance", "loss", "surface", "network")}
    if spec is not None and not network:
        cols.update({f"{k}_beside": [] for k in ("alpha", "beta", "distance", "surface")})
    for run, traj in enumerate(scene.trajectories):
        other = network and run in spec.runs
        exp, on = (spec.experiment, beside.plane) if other else (scene.experiment, plane)
        p = project_path(exp, traj, on)        # the surface's loss under each projected point: its own network's
        for key, col in (("run", np.full(len(p), run)), ("iteration", p.iteration), ("alpha", p.alpha),
                         ("beta", p.beta), ("distance", p.distance), ("loss", p.loss), ("surface", p.surface_loss),
                         ("network", np.full(len(p), int(other)))):
            cols[key].append(np.asarray(col))
        if spec is not None and not network:
            q = project_path(spec.experiment, traj, beside.plane)      # on the random slice beside
            for key, col in (("alpha", q.alpha), ("beta", q.beta), ("distance", q.distance),
                             ("surface", q.surface_loss)):
                cols[f"{key}_beside"].append(np.asarray(col))
    return {k: np.concatenate(v) for k, v in cols.items()}


def beside_arrays(scene) -> dict[str, np.ndarray]:
    """The surface beside the main one, for the NPZ: ``loss_beside`` over ``alpha_beside`` x ``beta_beside`` (the
    main grid for another network of the race), ``beside_kind`` ("network" or "random"), ``beside_title``, and the
    random slice's plane (``beside_plane_origin``, ``_d1``, ``_d2``, ``_labels``); none without one."""
    if scene.beside is None:
        return {}
    spec, surface = scene.beside
    out = {"loss_beside": np.asarray(surface.loss, dtype=np.float64), "alpha_beside": np.asarray(surface.w),
           "beta_beside": np.asarray(surface.b), "beside_kind": np.array(spec.kind),
           "beside_title": np.array(spec.title)}
    if spec.kind == "random":
        out.update(beside_plane_origin=surface.plane.origin, beside_plane_d1=surface.plane.d1,
                   beside_plane_d2=surface.plane.d2, beside_plane_labels=np.array(list(surface.plane.labels)))
    return out


def save_scene_surface(path, scene) -> None:
    """An export's surface (``export.scene.ExportScene``) as NPZ or CSV, with the plane it lies on: its origin and
    directions (NPZ arrays; the CSV's ``# plane:`` header line) and, in the NPZ, a network's paths projected on it
    and the surface beside it (``beside_arrays``)."""
    save_surface(path, scene.session, scene.surface, paths=projected_columns(scene), extra=beside_arrays(scene))


def _csv_field(text: str) -> str:
    """A header cell, quoted where it holds a comma (a network's ``0.weight[3,1]``)."""
    cell = io.StringIO()
    csv.writer(cell, lineterminator="").writerow([text])
    return cell.getvalue()


def load_surface(path, trust: bool = False):
    """Read a file written by ``save_surface``: ``(session, surface)`` (with its plane).

    A session that names code (a model file) runs it when built: unless ``trust``, ``UntrustedCodeError`` before
    any of it runs (``la.load_surface`` reads the surface alone and runs nothing)."""
    from ..core.surface_h5 import read_surface_file
    path = Path(path)
    # Read by the core (la.load_surface reads the same files, checked, without the session); the session comes
    # along from the file.
    read = read_surface_file(path)
    if read.session is None:
        raise DataError(f"{path}: a surface without its session (not written by landscape-app)")
    surface = read.loss if read.loss is not None else read.accuracy
    return _session_from_toml(read.session, path.absolute().parent, path, trust), surface


def _write_npz_atomic(path: Path, arrays: dict) -> None:
    with writing(path):
        tmp = temp_file_beside(path, ".npz")
        try:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


__all__ = ["save_runs", "load_runs", "save_surface", "load_surface", "save_scene_surface", "projected_columns",
           "check_data_output", "RUN_SUFFIXES", "SURFACE_SUFFIXES"]
