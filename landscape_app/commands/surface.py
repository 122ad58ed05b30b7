"""``landscape-app surface``: the loss surface of a session, a preset or an experiment given by options, over the
session's grid or over a plane through the parameters (axes, random, PCA of the path, Hessian), written as NPZ
or CSV with the session and the plane.

A PCA plane, and a plane centred at the trained end (``--at end``), train first; the file then also holds the
runs' paths projected on the plane (NPZ).
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import time

import numpy as np

from .options import UsageError, add_source_options, check_outputs, session_from

PLANES = ("axes", "random", "pca", "hessian")

# Where a refusal from the core is about an option of ours, name the option.
_FIELD_OPTIONS = {"span": "--span", "resolution": "--resolution", "metric": "--metric", "bn": "--bn",
                  "batch": "--batch", "device": "--device", "normalization": "--normalization",
                  "plane.x": "--axes", "plane.y": "--axes", "held": "--axes", "seed": "--plane-seed",
                  "grid.resolution": "--resolution", "grid.axes": "--axes", "plane": "--plane", "k": "--plane"}


def add_parser(sub) -> argparse.ArgumentParser:
    su = sub.add_parser(
        "surface", help="write the loss surface (NPZ or CSV) over a grid or a plane, with the session",
        description="Compute the loss surface of a session, a preset, or an experiment given by options, and "
                    "write it with the session (and the plane) that made it. A network's surface lies on a plane "
                    "through its parameters (default: the PCA plane of its runs' paths); the linear models' default "
                    "is the session's (w, b) grid.",
        epilog="examples:  landscape-app surface --model mlp --data moons --plane random -o surface.npz"
               "  |  landscape-app surface --model mlp --data moons --optimizer adam --lr 0.01 --epochs 50 "
               "--plane pca -o pca.npz  |  landscape-app surface session.toml -o surface.csv")
    add_source_options(su)
    su.add_argument("-o", "--output", required=True, metavar="surface.npz|surface.csv|surface.h5",
                    help="NPZ (also the plane's vectors and the projected path), CSV (alpha, beta, loss), or HDF5 "
                         "in tomgoldstein/loss-landscape's layout (xcoordinates, ycoordinates, train_loss)")
    g = su.add_argument_group("the plane and the grid")
    g.add_argument("--plane", choices=PLANES,
                   help="axes: two named parameters (--axes); random: Li et al.'s random directions; pca: the "
                        "first two principal directions of the runs' paths (trains first); hessian: the top two "
                        "eigenvectors of the Hessian (default: a session file's [plane], as the window shows it "
                        "(a Hessian at the current point: at run 1's end); else axes for linear, logistic and "
                        "plane; pca else)")
    g.add_argument("--plane-seed", type=int, metavar="N", help="seeds a random plane (default 0)")
    g.add_argument("--normalization", choices=("filter", "layer", "none"),
                   help="a random plane's directions scaled per filter, per layer, or not (default filter)")
    g.add_argument("--ignore", metavar="LIST",
                   help="what a random plane leaves out of its directions (zeros there): bias, bn (BatchNorm's "
                        "weights and biases), both (default bias,bn), or none")
    g.add_argument("--axes", metavar="X,Y",
                   help="an axes plane's two parameters: w,b for the linear models, a network's by name such as "
                        "0.weight[0,0],0.bias[0] (default: the session's grid, or a network's first two)")
    g.add_argument("--at", choices=("start", "end"),
                   help="centre an axes, random or Hessian plane at the start or at the trained end (trains "
                        "first; default start). A PCA plane is centred on the path's end.")
    g.add_argument("--span", metavar="S|LO,HI|LO,HI,LO,HI",
                   help="the plane coordinates' range: a half-width, one range for both, or one per axis "
                        "(write --span=-2,2 when it starts with a minus; default: the session's grid, -1..1 on a "
                        "network's plane, a PCA plane's covers the paths)")
    g.add_argument("--resolution", metavar="N|WxH", help="grid points per axis (default: the session's grid; "
                                                         "51x51 for a network)")
    g.add_argument("--metric", choices=("loss", "accuracy"), default="loss",
                   help="the loss, or a classifier network's accuracy (default loss)")
    g.add_argument("--bn", choices=("eval", "recompute"), default="eval",
                   help="BatchNorm with its running statistics (eval) or those of the data at each point")
    g.add_argument("--batch", type=int, metavar="K",
                   help="the surface of one mini-batch: the samples of training iteration K (1 = the first)")
    g.add_argument("--device", metavar="NAME", help="where a network's surface is evaluated (cpu, cuda, cuda:1)")
    from .engine_args import add_engine_options
    add_engine_options(su)
    su.add_argument("-q", "--quiet", action="store_true")
    return su


# -- parsing --------------------------------------------------------------------------------------------------
def parse_resolution(text: str | None):
    if text is None:
        return None
    from ..export.plan import parse_size
    try:
        return parse_size(text if "x" in text.lower() else f"{text}x{text}")
    except Exception as exc:  # noqa: BLE001 (parse_size says what is wrong in its own words)
        from ..core.errors import ConfigError
        raise ConfigError("--resolution", str(exc).split(": ", 1)[-1]) from None


def parse_span(text: str | None):
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return tuple(values)
    if len(values) == 4:
        return (tuple(values[:2]), tuple(values[2:]))
    raise UsageError(f"--span {text!r}: give a half-width (1), a range for both axes (-1,1), or one range per "
                     "axis (-1,1,-0.5,0.5)")


def parse_axes(text: str) -> tuple[str, str]:
    # A network's parameter names hold commas inside brackets (0.weight[3,1]): split only outside them.
    names = [n.strip() for n in re.split(r",(?![^\[]*\])", text)]
    if len(names) != 2 or not all(names):
        raise UsageError(f"--axes {text!r}: name two parameters separated by a comma, e.g. --axes w,b")
    return names[0], names[1]


def parse_ignore(text: str | None) -> tuple[str, ...]:
    if text is None:
        text = "bias,bn"                 # the default: biases and BatchNorm's parameters stay
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if names in (("none",), ()):
        return ()
    if not set(names) <= {"bias", "bn"}:
        raise UsageError(f"--ignore {text!r}: give bias, bn, bias,bn or none")
    return names


def check_device(text: str | None):
    if text is None:
        return None
    import torch
    from ..core.errors import ConfigError
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise ConfigError("--device", f"{text!r} is not a torch device (cpu, cuda, cuda:1, ...)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device", f"{text!r}: torch sees no CUDA device on this machine")
    return text


def _renamed(exc):
    from ..core.errors import ConfigError
    flag = _FIELD_OPTIONS.get(getattr(exc, "field", None))
    if flag is None:
        return exc
    return ConfigError(flag, str(exc).split(": ", 1)[-1])


# -- the work -------------------------------------------------------------------------------------------------
def batch_of_iteration(exp, k: int) -> np.ndarray:
    """The sample indices of training iteration ``k`` (1-based), as ``train(exp)``'s DataLoader draws them."""
    import torch
    from torch.utils.data import DataLoader
    from ..core.errors import ConfigError
    total = exp.epochs * exp.steps_per_epoch
    if not 1 <= k <= total:
        raise ConfigError("--batch", f"must be an iteration of the run, from 1 to {total}, not {k}")
    # The same sampler and seeded generator as the training loop: the same draws, so the same batches.
    loader = DataLoader(range(len(exp.data)), batch_size=exp.effective_batch_size, shuffle=exp.shuffle,
                        generator=torch.Generator().manual_seed(exp.seed), collate_fn=list)
    seen = 0
    while True:
        for batch in loader:
            seen += 1
            if seen == k:
                return np.asarray(batch, dtype=np.int64)


def _train(session, quiet: bool):
    from ..export.progress import ProgressBar
    from ..export.scene import train_session
    bar = ProgressBar("training", "steps", enabled=False if quiet else None)
    try:
        return train_session(session, progress=bar.update)
    finally:
        bar.finish()


PLANE_OPTIONS = ("plane", "axes", "at", "plane_seed", "normalization", "ignore")


@dataclasses.dataclass(frozen=True)
class SessionPlane:
    """A session's own ``[plane]``, as the window shows it: used when no option names a plane."""

    settings: object             # PlaneSettings

    @property
    def needs_runs(self) -> bool:
        """Trained first: a plane fitted to the finished runs, or a Hessian at the current (here: the end) point."""
        s = self.settings
        return s.needs_finished_runs or (s.kind == "hessian" and s.at == "current")

    def make(self, exp, trajectories, span):
        """The plane, and the span it is drawn over (a plane through three points covers the paths)."""
        from ..core.plane_build import build_plane, plane_span
        paths = list(trajectories)
        plane = build_plane(self.settings, exp, paths, current=paths[0] if paths else None)
        if self.settings.kind == "pca" or (self.settings.kind == "hessian" and paths):
            plane = _with_buffers(plane, paths[0].buffers)
        return plane, span if span is not None else plane_span(self.settings, plane, paths)


def session_plane(args, session) -> SessionPlane | None:
    """The session's plane (its ``[plane]``, else a network's default, the PCA plane of its runs' paths, as the
    window shows it) when no option says anything of the plane."""
    if not session.experiment.is_module:
        return None
    if any(getattr(args, name) is not None for name in PLANE_OPTIONS):
        return None
    return SessionPlane(session.plane_settings)


def make_plane(args, exp, trajectories):
    """The plane the options ask for, or None for the session's own (w, b) grid."""
    from ..core.errors import ConfigError
    from ..core.plane import Plane
    kind = args.plane or ("random" if exp.is_module else "axes")
    if kind == "pca":
        plane = Plane.pca(list(trajectories))
        return _with_buffers(plane, trajectories[0].buffers)
    at_end = args.at == "end"
    end = trajectories[0].params[-1] if at_end else None
    if kind == "axes":
        if not exp.is_module and args.axes is None and not at_end and args.span is None:
            return None
        x, y = parse_axes(args.axes) if args.axes else (exp.grid.axes or exp.param_names[:2])
        held = dict(zip(exp.param_names, map(float, end))) if at_end else None
        if held is None and not exp.is_module and exp.grid.held is not None:
            free = [p for p in exp.param_names if p not in (x, y)]
            held = {p: exp.grid.held for p in free}
        if held is not None:
            held = {p: v for p, v in held.items() if p not in (x, y)}
        plane = Plane.axes(exp, x, y, held)
    elif kind == "random":
        # Centred at the end, the directions are scaled to the trained filters' norms (Li et al.).
        try:
            plane = Plane.random(exp, seed=args.plane_seed or 0, normalization=args.normalization or "filter",
                                 ignore=parse_ignore(args.ignore), origin=end)
        except ConfigError as exc:
            if "parallel" not in str(exc):
                raise
            # The core names its keywords; say which options those are here.
            raise ConfigError("--plane", f"{str(exc).split(': ', 1)[-1]} (here: --normalization none "
                                         "--ignore none, or --plane axes)") from None
    else:
        plane = Plane.hessian(exp, trajectories[0] if at_end else None, k=2)
    return _with_buffers(plane, trajectories[0].buffers) if at_end else plane


def _with_buffers(plane, buffers):
    """A plane centred on a trained point evaluates BatchNorm with that point's running statistics."""
    if buffers is None or plane.buffers is not None:
        return plane
    return dataclasses.replace(plane, buffers=buffers)


def projected_paths(exp, plane, trajectories, surface, bn: str = "eval") -> dict[str, np.ndarray]:
    """Each run's path on the plane: (alpha, beta, distance off it), the true loss at the real parameters, and
    the surface's value at the projected point (what the drawn path would be read as)."""
    from ..core.surface import loss_at
    cols = {k: [] for k in ("run", "iteration", "alpha", "beta", "distance", "loss", "surface")}
    for run, t in enumerate(trajectories):
        a, b, d = plane.project(t.params)
        on_plane = plane.point(a, b)
        if exp.is_module:
            from ..core.module_points import module_losses
            value = module_losses(exp, on_plane, surface.batch, plane.buffers, bn, surface.metric)
        else:
            value = np.asarray(loss_at(exp, on_plane, surface.batch), dtype=np.float64)
        for key, col in (("run", np.full(len(t), run)), ("iteration", t.iteration), ("alpha", a), ("beta", b),
                         ("distance", d), ("loss", t.loss), ("surface", value)):
            cols[key].append(np.asarray(col))
    return {k: np.concatenate(v) for k, v in cols.items()}


def surface_command(args) -> int:
    from ..core.errors import ConfigError
    from ..core.surface_api import compute_surface
    from ..export.data import SURFACE_SUFFIXES, check_data_output, save_surface
    from .engine_args import engine_options
    from ..export.progress import ProgressBar
    path = check_data_output(args.output, SURFACE_SUFFIXES, "surface")
    resolution = parse_resolution(args.resolution)
    span = parse_span(args.span)
    device = check_device(args.device)
    parse_ignore(args.ignore)
    blocks = engine_options(args)
    if args.axes is not None and args.plane not in (None, "axes"):
        raise UsageError(f"--axes: names the parameters of an axes plane, not of a {args.plane} plane")
    if args.plane == "pca" and args.at == "start":
        raise UsageError("--at start: a PCA plane is centred on the path's end (Li et al.)")
    check_outputs(args)
    session = session_from(args)
    check_outputs(args, session)
    exp = session.experiment
    started = time.monotonic()
    own = session_plane(args, session)
    needs_path = args.plane == "pca" or args.at == "end" or (own is not None and own.needs_runs)
    trajectories = _train(session, args.quiet) if needs_path else ()
    try:
        batch = batch_of_iteration(exp, args.batch) if args.batch is not None else None
        if own is None:
            plane = make_plane(args, exp, trajectories)
        else:
            plane, span = own.make(exp, trajectories, span)
        if plane is None and resolution is not None:
            grid = dataclasses.replace(exp.grid, resolution=resolution)
            session = session.replace(runs=tuple(r.replace(grid=grid) for r in session.runs))
            exp = session.experiment
        where = {} if plane is None else dict(plane=plane, span=span, resolution=resolution, device=device)
        bar = ProgressBar("surface", "blocks" if blocks else "points", enabled=False if args.quiet else None)
        try:
            surface = compute_surface(exp, batch=batch, metric=args.metric, bn=args.bn, progress=bar.update,
                                      **where, **blocks)
        except KeyboardInterrupt:
            if args.store:
                raise KeyboardInterrupt(f"the finished blocks are kept in {args.store}; the same command resumes")
            raise
        finally:
            bar.finish()
        paths = projected_paths(exp, surface.plane, trajectories, surface, args.bn) if trajectories else None
    except ConfigError as exc:
        raise _renamed(exc) from None
    save_surface(path, session, surface, paths=paths)
    if not args.quiet:
        rows, cols = surface.loss.shape
        kind = surface.plane.kind if surface.plane is not None else "axes"
        article = "an" if kind[0] in "aeiou" else "a"
        print(f"wrote {path}: {cols}x{rows} grid over ({', '.join(surface.axes)}) on {article} {kind} plane"
              f"{_info_text(surface.plane)}, in {time.monotonic() - started:.1f} s")
    return 0


def _info_text(plane) -> str:
    info = dict(getattr(plane, "info", {}) or {})
    for key, label in (("explained_variance_ratio", "explained variance"), ("eigenvalues", "eigenvalues")):
        if key in info:
            values = np.ravel(np.asarray(info[key], dtype=np.float64))[:2]
            shown = ", ".join(f"{v:.0%}" if key.startswith("explained") else f"{v:.4g}" for v in values)
            return f" ({label} {shown})"
    return ""
