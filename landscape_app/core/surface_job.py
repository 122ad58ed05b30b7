"""A surface computed in blocks of rows: what one block is, how the grid splits, and what travels to a worker.

A worker never receives a live module or experiment object: it gets the experiment as its TOML dict, the plane
as plain arrays, and the axis values of its rows, and rebuilds the rest. ``block_function`` is the single call
that evaluates one block; every engine (in-process, Ray) goes through it, so a block computed anywhere equals
the same block computed here.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .errors import ConfigError

# At least this many blocks by default (four per worker when there are more than 16): a lost block costs
# little to redo, and a 51 x 51 surface of a big model gets one row per block.
DEFAULT_BLOCKS = 64


# -- the two calls on the surface API ----------------------------------------------------------------------------

def block_function(exp, plane, alpha: np.ndarray, beta_rows: np.ndarray, **options) -> np.ndarray:
    """The surface over ``alpha`` (columns) x ``beta_rows`` (rows): a (len(beta_rows), len(alpha)) float64 array.

    ``plane``: a ``Plane``, or None for the experiment's (w, b) grid (``alpha``, ``beta_rows`` are then w and b
    values); ``options`` go to ``compute_surface`` (``held``, ``batch``, ``metric``, ``bn``, ``device`` ...).
    """
    from .surface import compute_surface
    if plane is None:
        return compute_surface(exp, w=alpha, b=beta_rows, **options).loss
    return compute_surface(exp, plane=plane, alpha=alpha, beta=beta_rows, **options).loss


def surface_from_values(exp, plane, alpha, beta, values: np.ndarray | None, *, metric: str = "loss", held=None,
                        batch=None, resolution=None, span=None, **_):
    """The ``Surface`` that ``compute_surface(exp, ...)`` returns, with ``values`` computed elsewhere (None: NaN).

    Checks everything ``compute_surface`` checks first, and resolves the axes (``alpha``/``beta`` None: from
    ``span``, ``resolution`` or the experiment's grid).
    """
    from .surface import Surface, surface_frame
    if plane is None:
        frame = surface_frame(exp, alpha, beta, None, held=held, batch=batch, metric=metric)
    else:
        frame = surface_frame(exp, None, None, plane, alpha, beta, resolution, span, held, batch, metric)
    X, Y, axes_plane, held_values, idx = frame
    if values is None:
        values = np.full((len(Y), len(X)), np.nan)
    return Surface(X, Y, values, tuple(axes_plane.labels), held_values, exp.criterion, idx, axes_plane, metric)


# -- planes as plain arrays ------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class PlaneRecord:
    """A plane as arrays (origin, d1, d2: float64 (k,)), labels, kind and BatchNorm buffers: what a store keeps."""

    origin: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    labels: tuple[str, str] = ("alpha", "beta")
    kind: str = ""
    buffers: Mapping[str, np.ndarray] | None = None

    def __post_init__(self):
        for name in ("origin", "d1", "d2"):
            arr = np.array(getattr(self, name), dtype=np.float64).reshape(-1)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if not self.origin.shape == self.d1.shape == self.d2.shape:
            raise ConfigError("plane", f"origin, d1 and d2 must have one length, not {self.origin.shape[0]}, "
                                       f"{self.d1.shape[0]} and {self.d2.shape[0]}")
        object.__setattr__(self, "labels", tuple(str(s) for s in self.labels))
        if self.buffers is not None:
            object.__setattr__(self, "buffers", {str(k): np.array(v, dtype=np.float64)
                                                 for k, v in dict(self.buffers).items()})

    def same_as(self, other: "PlaneRecord | None") -> bool:
        if other is None or (self.labels, self.kind) != (other.labels, other.kind):
            return False
        if not all(np.array_equal(getattr(self, n), getattr(other, n)) for n in ("origin", "d1", "d2")):
            return False
        mine, theirs = self.buffers or {}, other.buffers or {}
        return mine.keys() == theirs.keys() and all(np.array_equal(mine[k], theirs[k]) for k in mine)

    def to_plane(self):
        """The core's ``Plane`` (None where these arrays do not make one, e.g. a kind it does not know)."""
        from .plane import Plane
        try:
            return Plane(self.origin, self.d1, self.d2, self.labels, self.kind, buffers=self.buffers)
        except ConfigError:
            return None


def plane_record(plane) -> PlaneRecord | None:
    """A plane object (``origin``, ``d1``, ``d2``, optional ``labels``, ``kind``, ``buffers``) as arrays."""
    if plane is None or isinstance(plane, PlaneRecord):
        return plane
    try:
        arrays = [np.asarray(_numpy(getattr(plane, n)), dtype=np.float64) for n in ("origin", "d1", "d2")]
    except AttributeError:
        raise ConfigError("plane", "must be a plane with origin, d1 and d2 (or None for the grid's axes)") \
            from None
    labels = tuple(getattr(plane, "labels", None) or ("alpha", "beta"))
    buffers = getattr(plane, "buffers", None)
    return PlaneRecord(*arrays, labels=labels, kind=str(getattr(plane, "kind", "") or ""),
                       buffers=None if buffers is None else {k: _numpy(v) for k, v in dict(buffers).items()})


def _numpy(value):
    detach = getattr(value, "detach", None)
    return detach().cpu().numpy() if detach is not None else value


# -- the job ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class SurfaceJob:
    """One surface to compute in blocks: the experiment (as its TOML dict), the plane, the axes and options."""

    experiment: Mapping[str, Any]
    plane: PlaneRecord | None
    alpha: np.ndarray
    beta: np.ndarray
    block_rows: int
    metric: str = "loss"
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.beta), len(self.alpha)

    @property
    def n_blocks(self) -> int:
        return math.ceil(len(self.beta) / self.block_rows)

    def rows(self, k: int) -> slice:
        """The rows (indices into ``beta``) of block ``k``."""
        return slice(k * self.block_rows, min((k + 1) * self.block_rows, len(self.beta)))

    def describe(self, k: int) -> str:
        r = self.rows(k)
        span = f"row {r.start}" if r.stop - r.start == 1 else f"rows {r.start}-{r.stop - 1}"
        return (f"block {k} ({span} of {len(self.beta)}, {self.beta_label} "
                f"{self.beta[r.start]:g}..{self.beta[r.stop - 1]:g})")

    @property
    def beta_label(self) -> str:
        if self.plane is not None:
            return self.plane.labels[1]
        grid = self.experiment.get("grid", {})
        return str((grid.get("axes") or ("w", "b"))[1])

    def options_json(self) -> str:
        """The options as canonical JSON (arrays as lists): what a store compares."""
        return json.dumps({k: _jsonable(v) for k, v in sorted(self.options.items())}, sort_keys=True)

    def experiment_key(self) -> str:
        """A digest of the experiment's dict: workers keep the experiments they rebuilt under it."""
        text = json.dumps(self.experiment, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def default_block_rows(n_rows: int, workers: int | None = None) -> int:
    target = max(DEFAULT_BLOCKS, 4 * (workers or 1))
    return max(1, math.ceil(n_rows / target))


def check_block_rows(value, n_rows: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value:
        raise ConfigError("block_rows", f"must be a whole number of rows >= 1, not {value!r}")
    return int(min(value, n_rows))


def experiment_dict(exp) -> dict[str, Any]:
    """The experiment as its TOML dict; one that cannot be written (a live module) is refused by name."""
    from .tomlio import experiment_to_dict
    try:
        return experiment_to_dict(exp)
    except ConfigError as exc:
        raise ConfigError("experiment", f"a surface computed in blocks rebuilds the model from the saved "
                                        f"experiment, and this one cannot be saved ({exc})") from None


def experiment_from_dict(table: Mapping[str, Any]):
    """The experiment a worker rebuilds from ``experiment_dict``: one this program built already, from code its
    user trusted (a file's session was refused before), so its model file is imported without asking again."""
    from .tomlio import experiment_from_dict as from_dict
    return from_dict(table, trust=True)


__all__ = ["block_function", "surface_from_values", "PlaneRecord", "plane_record", "SurfaceJob",
           "default_block_rows", "check_block_rows", "experiment_dict", "experiment_from_dict"]
