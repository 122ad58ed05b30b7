"""What a surface file holds once read, whatever its format (HDF5, NPZ, CSV): ``SurfaceFile``."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError, DataError

FORMAT = "landscape-app surface"
KEYS = {"loss": "train_loss", "accuracy": "train_acc"}


@dataclass(frozen=True, eq=False)
class SurfaceFile:
    """What an HDF5, NPZ or CSV surface file holds: the loss surface, the accuracy (if stored) and where it came from.

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


__all__ = ["SurfaceFile", "FORMAT", "KEYS"]
