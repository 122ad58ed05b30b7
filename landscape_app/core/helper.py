"""The course-style helper for people who keep their own training loop::

    surface = la.LossSurface(20, 20, X, Y, n_samples=101)       # w in [-20, 20], b in [-20, 20]
    for epoch in range(10):
        for x, y in loader:
            loss = criterion(model(x), y)
            surface.set_para_loss(model, loss)                     # or set_para_loss(w, b, loss)
            ...
        surface.plot_ps()                                           # the live window, without blocking
    surface.final_plot()                                            # blocks until the window is closed
    surface.final_plot("path.png")                                  # or an image file

The surface is the core's exact one (the correct sign of b, any grid size). This module stays free of Qt: the
drawing lives in ``landscape_app.gui.helper_window``, imported only when something is drawn.
"""
from __future__ import annotations

import math
from numbers import Real

import numpy as np
import torch

from .data import dataset_from_arrays
from .errors import ConfigError
from .experiment import Experiment, Grid
from .surface import compute_surface, loss_at
from .trajectory import Step, Trajectory, TrajectoryBuilder

_NO_BATCH = np.empty(0, dtype=np.int64)


def _axis_range(field: str, value) -> tuple[float, float]:
    """A half-width ``r`` means (-r, r), like the course's helper; a pair is (low, high)."""
    if isinstance(value, Real) and not isinstance(value, bool):
        r = float(value)
        if not (math.isfinite(r) and r > 0):
            raise ConfigError(field, f"a half-width must be a positive number, not {value!r}")
        return -r, r
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise ConfigError(field, f"must be a positive half-width r (for -r..r) or a pair (low, high), "
                                 f"not {value!r}") from None
    return lo, hi


def _scalar(name: str, value) -> float:
    """A float from a number, a one-element tensor/array/list (``w.data.tolist()`` and friends)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    arr = np.asarray(value, dtype=np.float64)
    if arr.size != 1:
        raise ConfigError(name, f"must be a single number, not an array of shape {arr.shape}")
    return float(arr.reshape(()))


class LossSurface:
    """The loss surface of a one-input model over a (w, b) grid, and the path recorded by ``set_para_loss``.

    ``w_range``/``b_range``: a half-width ``r`` (the axis spans -r..r) or a pair (low, high). ``X``, ``Y``:
    tensors or arrays of n samples. ``n_samples``: grid points per axis (or a pair for w and b).
    ``criterion``: mse, l1, huber, bce or bce-logits; ``model``: "linear" or "logistic" (the default is
    "logistic" for bce, whose input must be a probability, else "linear").
    """

    def __init__(self, w_range, b_range, X, Y, n_samples=30, criterion: str = "mse", *, model: str | None = None,
                 criterion_options=None):
        model = model or ("logistic" if criterion == "bce" else "linear")
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().double().numpy()
        if isinstance(Y, torch.Tensor):
            Y = Y.detach().cpu().double().numpy()
        grid = Grid(x_range=_axis_range("w_range", w_range), y_range=_axis_range("b_range", b_range),
                    resolution=n_samples, axes=("w", "b"))
        try:
            self.experiment = Experiment(data=dataset_from_arrays(X, Y), model=model, criterion=criterion,
                                         criterion_options=criterion_options or {}, grid=grid, start=(0.0, 0.0))
        except ConfigError as exc:
            # Name the helper's own arguments, not the Experiment fields behind them.
            own = {"grid.x_range": "w_range", "grid.y_range": "b_range", "grid.resolution": "n_samples",
                   "data": "X"}.get(exc.field)
            if own is None:
                raise
            raise ConfigError(own, str(exc).split(": ", 1)[1]) from None
        self.surface = compute_surface(self.experiment)
        self._builder = TrajectoryBuilder(self.experiment.param_names)
        self._window = None

    # -- the course helper's names ----------------------------------------------------------------------
    @property
    def n(self) -> int:
        """How many points were recorded."""
        return len(self._builder)

    @property
    def W(self) -> list[float]:
        return self.trajectory.params[:, 0].tolist()

    @property
    def B(self) -> list[float]:
        return self.trajectory.params[:, 1].tolist()

    @property
    def LOSS(self) -> list[float]:
        """The losses given to ``set_para_loss`` (e.g. mini-batch losses)."""
        return self.trajectory.batch_loss.tolist()

    @property
    def Z(self) -> np.ndarray:
        """The loss over the grid, rows b and columns w (``loss[i, j]`` at w[j], b[i])."""
        return self.surface.loss

    @property
    def w(self) -> np.ndarray:
        return np.meshgrid(self.surface.w, self.surface.b)[0]

    @property
    def b(self) -> np.ndarray:
        return np.meshgrid(self.surface.w, self.surface.b)[1]

    # -- recording --------------------------------------------------------------------------------------
    def set_para_loss(self, *args) -> Step:
        """Record a point: ``set_para_loss(model, loss)`` or ``set_para_loss(w, b, loss)``.

        ``model`` is any module whose parameters are one weight and one bias (``nn.Linear(1, 1)``, or the
        course's modules with ``w`` and ``b``). ``loss`` is the loss you computed (a tensor or a number).
        The recorded step also holds the full-data loss at (w, b), so the path lies on the drawn surface.
        """
        if len(args) == 2:
            model, loss = args
            if not isinstance(model, torch.nn.Module):
                raise ConfigError("model", f"set_para_loss(model, loss) needs a torch module, not "
                                           f"{type(model).__name__} (or call set_para_loss(w, b, loss))")
            values = [p.detach().cpu().double().reshape(-1) for p in model.parameters()]
            flat = torch.cat(values).numpy() if values else np.empty(0)
            if flat.size != 2:
                raise ConfigError("model", f"needs exactly one weight and one bias, but the module has "
                                           f"{flat.size} parameter value(s)")
            w, b = float(flat[0]), float(flat[1])
        elif len(args) == 3:
            w, b, loss = _scalar("w", args[0]), _scalar("b", args[1]), args[2]
        else:
            raise TypeError("set_para_loss takes (model, loss) or (w, b, loss)")
        loss = _scalar("loss", loss)
        params = np.array([w, b], dtype=np.float64)
        i = len(self._builder)
        step = Step(i, 0, params, loss, float(loss_at(self.experiment, params)), _NO_BATCH)
        self._builder.append(step)
        return step

    @property
    def trajectory(self) -> Trajectory:
        """The recorded path (a copy: later recordings do not change it)."""
        t = self._builder.trajectory()
        return Trajectory(t.param_names, t.iteration.copy(), t.epoch.copy(), t.params.copy(),
                          t.batch_loss.copy(), t.loss.copy(), t.lr.copy(), t.batches, "running", "")

    def clear(self) -> None:
        """Forget the recorded points (the surface stays)."""
        self._builder = TrajectoryBuilder(self.experiment.param_names)

    # -- drawing ----------------------------------------------------------------------------------------
    def plot_ps(self, path=None, *, size=(800, 600)) -> None:
        """Draw the surface and the path so far: into the image file ``path`` (PNG), or else in the live
        window, which is shown or updated without blocking (your loop goes on)."""
        from ..gui import helper_window
        if path is not None:
            helper_window.save_image(self, path, size)
        else:
            self._window = helper_window.show_live(self, self._window, block=False)

    def final_plot(self, path=None, *, size=(800, 600)) -> None:
        """Like ``plot_ps``, but the live window blocks until you close it (like ``plt.show()``)."""
        from ..gui import helper_window
        if path is not None:
            helper_window.save_image(self, path, size)
        else:
            self._window = helper_window.show_live(self, self._window, block=True)


__all__ = ["LossSurface"]
