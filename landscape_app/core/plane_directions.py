"""The directions of random planes (Li et al. 2018, filter-normalised) and of PCA planes of training paths.

Both follow tomgoldstein/loss-landscape: ``net_plotter.py`` (``get_random_weights``,
``normalize_directions_for_weights``, ``normalize_direction``) for random directions and ``projection.py``
(``setup_PCA_directions``) for the principal directions of a path, centred on its final point. ``Plane.random`` and
``Plane.pca`` make planes of them (this module knows no Plane: the core's modules import in one direction).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .errors import ConfigError
from .plane_settings import NORMALIZATIONS

IGNORABLE = ("bias", "bn")
PCA_CENTERS = ("end", "start", "mean")

# Layers whose affine parameters count as "bn" for ``ignore`` (Li et al. zero them with the biases).
_NORM_LAYERS = tuple(t for t in (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm,
                                 getattr(nn, "RMSNorm", None)) if t is not None)


def parameter_layout(module: nn.Module) -> list[tuple[str, torch.Size, str]]:
    """``(name, shape, role)`` per parameter in ``module.parameters()`` order.

    ``role``: "weight" for parameters of two or more dimensions, "bn" for the parameters of a normalisation layer
    (BatchNorm, InstanceNorm, LayerNorm, GroupNorm), "bias" for every other parameter of at most one dimension.
    The owning module decides, not the name: a BatchNorm's ``bias`` is "bn", a Linear's is "bias".
    """
    layout = []
    for name, p in module.named_parameters():
        owner_name = name.rpartition(".")[0]
        owner = module.get_submodule(owner_name) if owner_name else module
        if isinstance(owner, _NORM_LAYERS):
            role = "bn"
        elif p.dim() <= 1:
            role = "bias"
        else:
            role = "weight"
        layout.append((name, p.shape, role))
    return layout


def _check_ignore(ignore) -> tuple[str, ...]:
    if ignore is None:
        return ()
    if isinstance(ignore, str):
        ignore = (ignore,)
    try:
        ignore = tuple(ignore)
    except TypeError:
        raise ConfigError("ignore", f"must name parameters to leave out ('bias', 'bn'), not {ignore!r}") from None
    for item in ignore:
        if item not in IGNORABLE:
            raise ConfigError("ignore", f"can hold 'bias' and 'bn' (BatchNorm and other normalisation layers), "
                                        f"not {item!r}")
    return tuple(dict.fromkeys(ignore))


def _random_direction(theta: np.ndarray, layout, gen: torch.Generator, normalization: str,
                      ignore: tuple[str, ...]) -> np.ndarray:
    """One direction: Gaussian per parameter, then normalised to theta as ``normalize_directions_for_weights``."""
    out = np.empty_like(theta)
    i = 0
    for _, shape, role in layout:
        n = int(math.prod(shape))
        w = torch.from_numpy(theta[i:i + n].reshape(tuple(shape)))
        # Drawn for every parameter, kept or not, so that d2's draws follow d1's whatever is ignored.
        d = torch.randn(tuple(shape), generator=gen, dtype=torch.float64)
        if d.dim() <= 1 or role == "bn":
            # Li et al.: one value per node carries no filter to normalise by; zeroed, or the point's own values.
            d = torch.zeros_like(d) if role in ignore else w.clone()
        elif normalization == "filter":
            for d_f, w_f in zip(d, w):      # a filter: a slice along the first dimension (an output unit)
                d_f.mul_(w_f.norm() / (d_f.norm() + 1e-10))
        elif normalization == "layer":
            d.mul_(w.norm() / d.norm())
        out[i:i + n] = d.reshape(-1).numpy()
        i += n
    return out


def random_directions(exp, theta: np.ndarray, seed: int = 0, normalization: str = "filter",
                      ignore=("bias", "bn")) -> tuple[np.ndarray, np.ndarray, tuple[str, str], dict]:
    """d1, d2, labels and info of Li et al.'s random plane through ``theta``; see ``Plane.random``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise ConfigError("seed", f"must be a whole number >= 0, not {seed!r}")
    if normalization not in NORMALIZATIONS:
        raise ConfigError("normalization", f"must be one of {', '.join(NORMALIZATIONS)}, not {normalization!r}")
    ignore = _check_ignore(ignore)
    theta = np.array(theta, dtype=np.float64)      # a private, writable copy: torch shares its memory
    layout = parameter_layout(exp.build_module())
    gen = torch.Generator().manual_seed(int(seed))
    d1 = _random_direction(theta, layout, gen, normalization, ignore)
    d2 = _random_direction(theta, layout, gen, normalization, ignore)
    _check_spans_plane(d1, d2, normalization, ignore)
    how = {"filter": " (filter-normalised)", "layer": " (layer-normalised)", "none": ""}[normalization]
    info = {"seed": int(seed), "normalization": normalization, "ignore": ignore}
    return d1, d2, (f"random 1{how}", f"random 2{how}"), info


def _check_spans_plane(d1: np.ndarray, d2: np.ndarray, normalization: str, ignore) -> None:
    n1, n2, cross = float(d1 @ d1), float(d2 @ d2), float(d1 @ d2)
    setting = f"normalization={normalization!r}, ignore={ignore!r}"
    if n1 == 0 or n2 == 0:
        raise ConfigError("plane", f"a random direction is all zeros ({setting}): every parameter it would move "
                                   "is ignored or zero at the origin; choose another origin or ignore less")
    if not n1 * n2 - cross * cross > 1e-12 * n1 * n2:
        raise ConfigError("plane", f"the two random directions are parallel ({setting}): a filter of one "
                                   "parameter is rescaled to that parameter's own size, and ignored or copied "
                                   "parameters are the same in both directions, so too few parameters stay "
                                   "random (the linear models); use normalization='none' with ignore=(), "
                                   "or Plane.axes(exp, ...)")


# -- PCA of paths ----------------------------------------------------------------------------------------------

def _paths(trajectories) -> tuple[list[np.ndarray], list]:
    """The runs' parameter paths (n_i, k) and their final BatchNorm statistics (None where unknown)."""
    from .trajectory import Trajectory
    if isinstance(trajectories, Trajectory) or (isinstance(trajectories, np.ndarray) and trajectories.ndim == 2):
        trajectories = [trajectories]
    try:
        runs = list(trajectories)
    except TypeError:
        raise ConfigError("trajectories", "must be a Trajectory, several of them, or (n, k) arrays of "
                                          "parameters") from None
    if not runs:
        raise ConfigError("trajectories", "no path given; PCA needs at least one run")
    paths, buffers = [], []
    for i, run in enumerate(runs):
        params = run.params if isinstance(run, Trajectory) else run
        arr = np.asarray(params, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] == 0:
            raise ConfigError(f"trajectories[{i}]", f"must be a path of parameter vectors (n, k), not shape "
                                                    f"{arr.shape}")
        if paths and arr.shape[1] != paths[0].shape[1]:
            raise ConfigError(f"trajectories[{i}]", f"has {arr.shape[1]} parameters but run 0 has "
                                                    f"{paths[0].shape[1]}; one PCA needs runs of one model")
        if not np.isfinite(arr).all():
            raise ConfigError(f"trajectories[{i}]", "holds non-finite parameters")
        paths.append(arr)
        buffers.append(getattr(run, "buffers", None))
    return paths, buffers


def pca_directions(trajectories, center: str = "end", run: int = 0):
    """origin, d1, d2, labels, info, BatchNorm buffers and all the points (m, k) of a PCA plane; see ``Plane.pca``."""
    from sklearn.decomposition import PCA
    if center not in PCA_CENTERS:
        raise ConfigError("center", f"must be one of {', '.join(PCA_CENTERS)}, not {center!r}")
    paths, buffers = _paths(trajectories)
    if isinstance(run, bool) or not isinstance(run, (int, np.integer)) or not 0 <= run < len(paths):
        raise ConfigError("run", f"must name one of the {len(paths)} run(s) by its index (0..{len(paths) - 1}), "
                                 f"not {run!r}")
    points = np.concatenate(paths)
    if points.shape[0] < 3 or points.shape[1] < 2:
        raise ConfigError("trajectories", f"PCA needs at least 3 points of at least 2 parameters, not "
                                          f"{points.shape[0]} of {points.shape[1]}")
    own = paths[run]
    origin = {"end": own[-1], "start": own[0], "mean": points.mean(axis=0)}[center]
    # Li et al.: the differences to the final point, then sklearn's PCA (which centres them on their mean).
    diffs = points - origin
    # "full" is exact and deterministic; a long path of a large model gets the seeded randomized solver.
    solver = "full" if diffs.size <= 20_000_000 else "randomized"
    pca = PCA(n_components=2, svd_solver=solver, random_state=0).fit(diffs)
    var = pca.explained_variance_
    if not var[0] > 0 or not var[1] > 1e-12 * var[0]:
        raise ConfigError("trajectories", "the paths lie on a line (or a point): PCA finds no second direction; "
                                          "use Plane.random(...) or Plane.through(...)")
    d1, d2 = (np.array(c, dtype=np.float64) for c in pca.components_)
    # Orient both so the chosen run moves toward +alpha and +beta (the signs of principal directions are free).
    travel = own[-1] - own[0]
    if travel @ d1 < 0:
        d1 = -d1
    if travel @ d2 < 0:
        d2 = -d2
    ratios = tuple(float(r) for r in pca.explained_variance_ratio_)
    labels = (f"PCA 1 ({ratios[0]:.0%})", f"PCA 2 ({ratios[1]:.0%})")
    info = {"explained_variance_ratio": ratios, "explained_variance": tuple(float(v) for v in var),
            "singular_values": tuple(float(v) for v in pca.singular_values_), "center": center, "run": int(run),
            "runs": len(paths), "points": int(points.shape[0]), "solver": solver}
    plane_buffers = buffers[run] if center != "start" else None
    return np.array(origin, dtype=np.float64), d1, d2, labels, info, plane_buffers, points


__all__ = ["IGNORABLE", "NORMALIZATIONS", "PCA_CENTERS", "parameter_layout", "pca_directions", "random_directions"]
