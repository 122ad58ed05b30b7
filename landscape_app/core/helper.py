"""What the course's helper knows, without drawing: the exact loss surface of a loop's own model and loss, and the
path the loop records with ``set_para_loss``.

``SurfaceRecorder`` is the part of ``la.LossSurface`` (``landscape_app.course``) that needs no screen: the module
given to ``set_para_loss`` says which model it is, and the recorded losses say which criterion (see
``helper_infer``); ``helper_place`` says where a figure goes and what range it shows. Drawing lives above the core.
"""
from __future__ import annotations

import math
import warnings
import weakref
from numbers import Real

import numpy as np
import torch

from . import helper_infer as infer
from .data import dataset_from_arrays
from .errors import ConfigError
from .experiment import Experiment, Grid
from .helper_place import widened_range
from .surface import compute_surface, loss_at
from .trajectory import Step, Trajectory

DISPLAY_RESOLUTION = 201     # the drawn surface is at least this fine, whatever grid the course asked for
WIDEN_LIMIT = 1.0            # a path may widen each side of the view by up to this many spans of the range
SETTLED = 20                 # exact matches after which the losses are weighed only now and then


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
    """A float from a number, a one-element tensor/array/list (``w.data.tolist()``, ``[[w]]`` and friends)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(name, f"must be a number, not {value!r}") from None
    if arr.size != 1:
        raise ConfigError(name, f"must be a single number, not an array of shape {arr.shape}")
    return float(arr.reshape(()))


class SurfaceRecorder:
    """The loss surface of a one-input model over a (w, b) grid, and the path recorded by ``set_para_loss``.

    The course's parameters, in its order: ``w_range``/``b_range`` (a half-width ``r`` for -r..r, or a pair
    (low, high)), the data ``X``, ``Y`` and ``n_samples`` grid points per axis (or a pair).

    Keyword-only: ``criterion`` (mse, l1, huber, bce, bce-logits) and ``model`` ("linear" or "logistic") when
    you would rather say than have them inferred; ``criterion_options`` (Huber's delta).
    """

    def __init__(self, w_range, b_range, X, Y, n_samples=30, *, criterion: str | None = None,
                 model: str | None = None, criterion_options=None):
        self._x_in = (X.detach() if isinstance(X, torch.Tensor)
                      else torch.as_tensor(np.asarray(X, dtype=np.float32)))
        if self._x_in.ndim == 1:
            self._x_in = self._x_in.reshape(-1, 1)
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().double().numpy()
        if isinstance(Y, torch.Tensor):
            Y = Y.detach().cpu().double().numpy()
        self._grid = Grid(x_range=_axis_range("w_range", w_range), y_range=_axis_range("b_range", b_range),
                          resolution=n_samples, axes=("w", "b"))
        self._data = dataset_from_arrays(X, Y)
        self._x, self._y = (a.reshape(-1) if a.ndim > 1 and a.shape[1] == 1 else a for a in self._data.numpy())
        self._binary = bool(np.all((self._y == 0) | (self._y == 1)))
        self._user = {"model": model, "criterion": criterion}
        self._options = dict(criterion_options or {})
        self._output = None          # what the module computes: "linear", "probability" or None (not seen)
        if criterion is not None:
            first = (model or ("logistic" if criterion in ("bce", "bce-logits") else "linear"), criterion)
        else:
            # The course's logistic labs pass labels 0/1: until the loop says otherwise, guess logistic + BCE.
            guess = model or ("logistic" if self._binary else "linear")
            first = (guess, "bce" if guess == "logistic" and self._binary else "mse")
        self._combo = None
        self._set_combo(first)
        if self._x.ndim != 1:
            raise ConfigError("X", f"the helper's model needs 1 input feature but X has {self._data.n_features}")
        order = np.argsort(self._x, kind="stable")
        self._x_sorted, self._x_order = self._x[order], order
        self._evidence = infer.Evidence()
        self._state = "unknown"
        self._warned = False
        self._clear_records()
        self._module_ref = None
        self._probe = None
        self._hook = None
        self._swapped = False
        self._display_cache = None

    # -- the model and loss drawn ---------------------------------------------------------------------------
    def _set_combo(self, combo) -> None:
        model, criterion = combo
        try:
            experiment = Experiment(data=self._data, model=model, criterion=criterion,
                                    criterion_options=self._options if criterion == self._user["criterion"]
                                    else {}, grid=self._grid, start=(0.0, 0.0))
        except ConfigError as exc:
            # Name the helper's own arguments, not the Experiment fields behind them.
            own = {"grid.x_range": "w_range", "grid.y_range": "b_range", "grid.resolution": "n_samples",
                   "data": "X"}.get(exc.field)
            if own is None:
                raise
            raise ConfigError(own, str(exc).split(": ", 1)[1]) from None
        self.experiment = experiment
        self.surface = compute_surface(experiment)
        self._combo = combo
        self._full: list[float] = []   # the full-data loss of each point, on the drawn surface's loss

    @property
    def loss_name(self) -> str:
        """What the surface shows, e.g. "MSE of σ(w·x + b)"."""
        return infer.describe(self._combo)

    @property
    def guessed(self) -> bool:
        """Whether the model or loss drawn is still a guess: nothing recorded says which it is yet."""
        said = self._user["criterion"] is not None and (self._user["model"] is not None
                                                         or self._user["criterion"] in ("bce", "bce-logits"))
        return not said and self._state == "unknown"

    def _allowed(self):
        """The (model, criterion) pairs still possible, the drawn one first."""
        combos = infer.candidates(self._binary, self._user["model"], self._user["criterion"], self._output)
        return tuple(sorted(combos, key=lambda c: c != self._combo))

    def _weigh(self, loss: float, alternatives, can_contradict: bool = True) -> np.ndarray | None:
        """Weigh one recorded loss; switch to the pair the losses show. Returns the one sample it was the
        loss of, when it was that (stochastic gradient descent), for the data view."""
        combos = self._allowed()
        if not math.isfinite(loss) or not combos:
            return None
        if self._state == "confirmed" and self._evidence.strong.get(combos[0], 0) >= SETTLED \
                and len(self._params) % 16:
            # Settled: weigh every 16th loss (a change of loop still shows), spare the loop the rest.
            return infer.judge(loss, alternatives, self._x, self._y, combos[:1], can_contradict)[1]
        verdicts, single = infer.judge(loss, alternatives, self._x, self._y, combos, can_contradict)
        self._evidence.add(verdicts)
        combo, self._state = infer.decide(combos[0], combos, self._evidence)
        if combo != self._combo:
            self._set_combo(combo)
        return single if combos[0] == self._combo else None

    def _warn_if_unsure(self) -> None:
        """Warn once, before a figure is drawn, when the recorded losses fit more than one loss (or none)."""
        if self._warned or (self._user["model"] and self._user["criterion"]):
            return
        if self._state not in ("ambiguous", "unmatched"):
            return
        self._warned = True
        others = [c for c in infer.distinct(self._allowed())[1:] if self._evidence.consistent(c)]
        message = infer.unsure_message(self._combo, others if self._state == "ambiguous" else [])
        # stacklevel 4: past this method, course.LossSurface._draw and the drawing call, to the user's line.
        warnings.warn(message, UserWarning, stacklevel=4)

    # -- the course helper's names --------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """How many points were recorded (all runs)."""
        return len(self._params)

    @property
    def W(self) -> list[float]:
        return [float(p[0]) for p in self._params]

    @property
    def B(self) -> list[float]:
        return [float(p[1]) for p in self._params]

    @property
    def LOSS(self) -> list[float]:
        """The losses given to ``set_para_loss`` (e.g. mini-batch losses)."""
        return list(self._given)

    @property
    def Z(self) -> np.ndarray:
        """The loss over the course's grid, rows b and columns w (``Z[i, j]`` at w[j], b[i])."""
        return self.surface.loss

    @property
    def w(self) -> np.ndarray:
        return np.meshgrid(self.surface.w, self.surface.b)[0]

    @property
    def b(self) -> np.ndarray:
        return np.meshgrid(self.surface.w, self.surface.b)[1]

    @property
    def x(self) -> np.ndarray:
        """The data's inputs (n,)."""
        return self._x.copy()

    @property
    def y(self) -> np.ndarray:
        """The data's targets (n,)."""
        return self._y.copy()

    # -- recording ------------------------------------------------------------------------------------------
    def _clear_records(self) -> None:
        self._params: list[np.ndarray] = []
        self._given: list[float] = []
        self._batches: list[np.ndarray] = []
        self._run_starts: list[int] = [0]   # where each run begins (the last may be a run yet to come)
        self._full: list[float] = []   # the full-data loss of each point, on the drawn surface's loss

    def set_para_loss(self, *args) -> Step:
        """Record a point: ``set_para_loss(model, loss)`` or ``set_para_loss(w, b, loss)``.

        ``model``: a module with one weight and one bias (``nn.Linear(1, 1)``, the course's modules, a
        ``Linear`` followed by a sigmoid). ``w``, ``b``, ``loss``: numbers, tensors (also ones that require
        grad), ``.tolist()`` results, ``[[w]]`` lists, numpy scalars. A new run starts (drawn apart) when the
        module is another object, when a point jumps back to a run's start, or after ``new_run()``.
        """
        alternatives = []
        if len(args) == 2:
            module, loss = args
            w, b = self._from_module(module, alternatives)
        elif len(args) == 3:
            w, b, loss = _scalar("w", args[0]), _scalar("b", args[1]), args[2]
        else:
            raise TypeError("set_para_loss takes (model, loss) or (w, b, loss)")
        loss = _scalar("loss", loss)
        params = np.array([w, b], dtype=np.float64)
        n = len(self._params)
        if n and not np.array_equal(params, self._params[-1]) \
                and any(np.array_equal(params, self._params[s]) for s in self._run_starts if s < n):
            self.new_run()                      # back at a start: the loop was run again
        hook_batch = alternatives[0][1] if alternatives else None
        alternatives.append((params, None, False))
        # Recorded before optimizer.step(), the loss is at these params; after it, at the last point's. A run's
        # first point recorded after the step has its loss at a start never seen: it cannot rule anything out.
        follows = n > self._run_starts[-1]
        if follows:
            alternatives.append((self._params[-1], None, False))   # the loss of the step just taken
        single = self._weigh(loss, alternatives, can_contradict=follows)
        batch = hook_batch if hook_batch is not None else single
        if batch is None or batch.size >= len(self._x):
            batch = np.empty(0, np.int64)
        self._fill_full()                       # the points before, after a switch of loss
        full = float(loss_at(self.experiment, params))
        self._params.append(params)
        self._given.append(loss)
        self._batches.append(batch)
        self._full.append(full)
        start = self._run_starts[-1]
        return Step(n - start, 0, params, loss, full, batch,
                    run_id=len(self._run_starts) - 1)

    def _from_module(self, module, alternatives) -> tuple[float, float]:
        if not isinstance(module, torch.nn.Module):
            raise ConfigError("model", f"set_para_loss(model, loss) needs a torch module, not "
                                       f"{type(module).__name__} (or call set_para_loss(w, b, loss))")
        flat = infer.module_params(module)
        if flat.size != 2:
            raise ConfigError("model", f"needs exactly one weight and one bias, but the module has "
                                       f"{flat.size} parameter value(s)")
        if self._module_ref is None or self._module_ref() is not module:
            self._watch(module, flat)
        w, b = (flat[1], flat[0]) if self._swapped else (flat[0], flat[1])
        last = self._probe.take() if self._probe is not None else None
        if last is not None:
            values, at = last
            if at.size == 2:
                at = at[::-1].copy() if self._swapped else at
                idx = infer.batch_indices(self._x_sorted, self._x_order, values)
                # Not "exact": the module's last call may be another one (an evaluation on all the data between
                # the step and this call), so a batch that does not match is no contradiction.
                alternatives.append((at, idx if idx.size == values.size else None, False))
        return float(w), float(b)

    def _watch(self, module, flat) -> None:
        """A new module: a new run, its kind recognised on the data, and a hook that sees its mini-batches."""
        self.new_run()
        if self._hook is not None:
            self._hook.remove()
        if self._user["model"] is None:
            output, self._swapped = infer.probe_module(module, self._x_in, flat)
            if output is not None and output != self._output:
                self._output = output
                legal = infer.candidates(self._binary, None, self._user["criterion"], output)
                if self._combo not in legal and legal:
                    self._set_combo(legal[0])
        self._probe = infer.BatchProbe(self)
        self._hook = module.register_forward_pre_hook(self._probe)
        weakref.finalize(self, self._hook.remove)
        self._module_ref = weakref.ref(module)

    def new_run(self) -> None:
        """Start a new run: later points are drawn as a path of their own, not joined to the last one."""
        if self._run_starts[-1] < len(self._params):
            self._run_starts.append(len(self._params))

    def clear(self) -> None:
        """Forget the recorded points (the surface stays)."""
        self._clear_records()

    def _fill_full(self) -> None:
        """Compute the full-data losses not known yet (all of them after a switch of loss)."""
        done, n = len(self._full), len(self._params)
        if done < n:
            self._full.extend(np.atleast_1d(loss_at(self.experiment, np.array(self._params[done:]))).tolist())

    def _full_losses(self) -> np.ndarray:
        """The full-data loss at every recorded point, on the drawn surface's loss."""
        self._fill_full()
        return np.array(self._full[: len(self._params)], dtype=np.float64)

    def _trajectory(self, lo: int, hi: int) -> Trajectory:
        m = hi - lo
        params = np.array(self._params[lo:hi], dtype=np.float64).reshape(m, 2)
        return Trajectory(("w", "b"), np.arange(m, dtype=np.int64), np.zeros(m, np.int64), params,
                          np.array(self._given[lo:hi], dtype=np.float64), self._full_losses()[lo:hi].copy(),
                          np.full(m, np.nan), tuple(self._batches[lo:hi]), "running", "")

    @property
    def trajectory(self) -> Trajectory:
        """Every recorded point, all runs in order (a copy: later recordings do not change it)."""
        return self._trajectory(0, self.n)

    @property
    def trajectories(self) -> list[Trajectory]:
        """One path per run."""
        bounds = sorted({s for s in self._run_starts if s < self.n}) + [self.n]
        return [self._trajectory(a, b) for a, b in zip(bounds[:-1], bounds[1:])]

    # -- what is drawn --------------------------------------------------------------------------------------
    def display_box(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The (w, b) ranges drawn: the course's, widened to take in the path (each side by at most
        ``WIDEN_LIMIT`` spans; points beyond are marked at the edge)."""
        pts = np.array(self._params, dtype=np.float64).reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)]
        (w0, w1), (b0, b1) = self.course_box
        return widened_range(w0, w1, pts[:, 0], WIDEN_LIMIT), widened_range(b0, b1, pts[:, 1], WIDEN_LIMIT)

    @property
    def course_box(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The (w, b) ranges the helper was made with."""
        return self.experiment.grid.x_range, self.experiment.grid.y_range

    def display_surface(self):
        """The surface to draw: over ``display_box()``, and at least ``DISPLAY_RESOLUTION`` points a side
        (the surface is exact and cheap: a smooth heat map at any ``n_samples``)."""
        box = self.display_box()
        res = tuple(max(r, DISPLAY_RESOLUTION) for r in self.experiment.grid.resolution)
        key = (self._combo, box, res)
        if self._display_cache is None or self._display_cache[0] != key:
            (w0, w1), (b0, b1) = box
            surface = compute_surface(self.experiment, w=np.linspace(w0, w1, res[0]), b=np.linspace(b0, b1, res[1]))
            self._display_cache = (key, surface)
        return self._display_cache[1]


__all__ = ["SurfaceRecorder"]
