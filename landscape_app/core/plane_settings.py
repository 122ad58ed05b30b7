"""Which plane a network's surface lies on, as a setting: the value a session saves and the panel edits.

A ``PlaneSettings`` says how to make the plane (``Plane.random``/``pca``/``hessian``/``through``), not the plane
itself: a PCA plane or a plane through runs' ends needs finished runs, a Hessian plane at the current point needs
the shown step. ``plane_build.build_plane`` makes the plane from the settings and what they need;
``needs_finished_runs`` says which kinds wait for the runs to end. ``beside = "random"`` adds, beside the main
surface, the random slice through the start (of the same ``seed`` and ``normalization``). A plain value, imported by ``session``: it
imports nothing of the core but its errors. Linear models have no such setting: their surface spans their
parameters.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import ConfigError

PLANE_CHOICES = ("random", "pca", "hessian", "through")
NORMALIZATIONS = ("filter", "layer", "none")          # of a random plane's directions (``plane_directions``)
HESSIAN_AT = ("start", "current")
BESIDE_CHOICES = ("none", "random")                  # what is shown beside the main surface
PLANE_KEYS = ("kind", "seed", "normalization", "at", "points", "beside")


@dataclass(frozen=True)
class PlaneSettings:
    """``kind``: "random" (seeded, ``normalization`` filter | layer | none), "pca" (of every run's finished path),
    "hessian" (its top-2 eigenvectors ``at`` the start or the shown run's current step) or "through" (the start
    and the ends of runs ``points``, numbered from 1 as the session's ``[[runs]]``).

    ``beside``: "random" shows, beside the main surface, the random slice through the start (``seed``,
    ``normalization``) with the runs' projections on it (not with ``kind = "random"``: that plane is the slice);
    "none" shows nothing beside."""

    kind: str = "random"
    seed: int = 0
    normalization: str = "filter"
    at: str = "start"
    points: tuple[int, int] = (1, 2)
    beside: str = "none"

    def __post_init__(self):
        if self.kind not in PLANE_CHOICES:
            raise ConfigError("plane.kind", f"must be one of {', '.join(PLANE_CHOICES)}, not {self.kind!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError("plane.seed", f"must be a whole number >= 0, not {self.seed!r}")
        if self.normalization not in NORMALIZATIONS:
            raise ConfigError("plane.normalization",
                              f"must be one of {', '.join(NORMALIZATIONS)}, not {self.normalization!r}")
        if self.at not in HESSIAN_AT:
            raise ConfigError("plane.at", f"must be 'start' or 'current', not {self.at!r}")
        points = tuple(self.points) if isinstance(self.points, (tuple, list)) else None
        if (points is None or len(points) != 2 or any(isinstance(p, bool) or not isinstance(p, int) or p < 1
                                                      for p in points) or points[0] == points[1]):
            raise ConfigError("plane.points", f"must be two different run numbers (from 1), not {self.points!r}")
        object.__setattr__(self, "points", points)
        if not isinstance(self.beside, str) or self.beside not in BESIDE_CHOICES:
            raise ConfigError("plane.beside", f"must be one of {', '.join(BESIDE_CHOICES)}, not {self.beside!r}")
        if self.beside == "random" and self.kind == "random":
            raise ConfigError("plane.beside", "the plane is a random slice itself: the random slice beside needs "
                                              "another kind of plane (pca, hessian or through)")

    @property
    def random_beside(self) -> bool:
        """Whether the random slice through the start is shown beside the main surface."""
        return self.beside == "random"

    @property
    def main(self) -> "PlaneSettings":
        """The main plane's settings alone (what the slice beside reads left out): a change of the slice beside
        refits and recomputes nothing of the main surface."""
        if self.kind == "random":
            return self.replace(beside="none")
        return PlaneSettings(kind=self.kind, at=self.at, points=self.points)

    @property
    def needs_finished_runs(self) -> bool:
        """Whether the plane is fitted to finished runs (trained to their end first, then replayed on it)."""
        return self.kind in ("pca", "through")

    @property
    def fixed(self) -> bool:
        """Whether the plane is known before training (the race animates on it live)."""
        return self.kind == "random" or (self.kind == "hessian" and self.at == "start")

    def replace(self, **changes) -> "PlaneSettings":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The ``[plane]`` table: the kind and only what that kind reads."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "random":
            out.update(seed=self.seed, normalization=self.normalization)
        elif self.kind == "hessian":
            out["at"] = self.at
        elif self.kind == "through":
            out["points"] = list(self.points)
        if self.random_beside:
            out.update(beside=self.beside, seed=self.seed, normalization=self.normalization)
        return out

    @staticmethod
    def from_dict(table: Any) -> "PlaneSettings":
        """The inverse of ``to_dict``; ``ConfigError`` names the key at fault (``plane.seed``)."""
        if not isinstance(table, Mapping):
            raise ConfigError("plane", "must be a table ([plane] with a 'kind')")
        unknown = set(table) - set(PLANE_KEYS)
        if unknown:
            raise ConfigError(f"plane.{sorted(unknown)[0]}", f"unknown key; [plane] has {', '.join(PLANE_KEYS)}")
        kw = dict(table)
        if isinstance(kw.get("points"), list):
            kw["points"] = tuple(kw["points"])
        return PlaneSettings(**kw)


__all__ = ["PlaneSettings", "PLANE_CHOICES", "HESSIAN_AT", "NORMALIZATIONS", "BESIDE_CHOICES"]
