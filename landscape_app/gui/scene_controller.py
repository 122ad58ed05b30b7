"""The scene: which surface the views show, computed off the GUI thread, and everything derived from it.

``SceneController`` holds the *scene settings* (the shown run's surface: its data, model and loss, the grid's
ranges, resolution and axes, the held value of the plane model and whether it follows the run) apart from the
training settings, and computes in worker threads (``jobs.Jobs``): the surface, the plane model's slice as the
run moves, the mini-batch surface of the shown step, the losses of runs trained on another criterion lifted
onto the shown one, and a network's surface *beside* the main one (another network of the race on the same plane,
or the random slice through the start: ``scene_beside``). Results arrive tagged with a generation; a stale one is dropped. The GUI thread only hands
the values on (signals); views draw them. The exporter drives the same object headless (``wait``).
"""
from __future__ import annotations

import time
from typing import Mapping

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from ..core.experiment import Experiment
from ..core.plane import Plane
from ..core.plane_build import build_plane, network_plane, plane_span
from ..core.plane_settings import PlaneSettings
from ..core.predictions import prediction_kind, predictions
from ..core.surface import compute_surface
from . import lifted as lifting
from . import projected as projecting
from .jobs import Jobs
from .scene_beside import NETWORK, BesideScene, beside_spec, beside_work, own_runs
from .scene_plane import PlaneChoice
from .scene_settings import METRICS, SceneSettings, follows_run, held_name, shown_metric, surface_fields

FIRST_POINTS = 8        # of a path projected from its start, evaluated first (see _project)
FOLLOW_S = 0.1          # the plane model's slice is recomputed at most 10 times a second
SURFACE, MINIBATCH, LIFT, PROJECT, PREDICT = "surface", "minibatch", "lift", "project", "predictions"
BESIDE, BESIDE_PROJECT = "surface beside", "projection beside"


class SceneController(QObject):
    surface_ready = Signal(object, object)          # experiment, Surface: every view redraws its background
    minibatch_ready = Signal(object, object, str)   # experiment, Surface, title
    beside_ready = Signal(object, object)           # scene_beside.BesideSpec, Surface (None, None: none beside)
    predictions_ready = Signal(object)              # a DecisionMap or DigitPredictions of the shown step
    projected_changed = Signal()                    # more projected points arrived: draw the paths again
    lifted_changed = Signal()                       # more lifted losses arrived: draw the paths again
    busy_changed = Signal(bool)                     # whether a surface (full or mini-batch) is being computed
    progress = Signal(int, int)                     # done, total of the surface in flight (0, 0: unknown)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, follow_every_s: float = FOLLOW_S):
        super().__init__(parent)
        self.follow_every_s = follow_every_s      # 0 for an exporter: every frame's slice, whatever the clock says
        self.jobs = Jobs(self)
        self.jobs.done.connect(self._job_done)
        self.jobs.failed.connect(self._job_failed)
        self.jobs.progress.connect(self._job_progress)
        # The status bar's "computing the surface…" is for surfaces: a network's projections and predictions
        # follow the training all along and would keep it on for good.
        self._surface_busy = False
        self.jobs.busy_changed.connect(self._update_busy)
        self.jobs.done.connect(self._update_busy)
        self.jobs.failed.connect(self._update_busy)
        self.experiment: Experiment | None = None       # the shown run's (its loss is the surface's)
        self.settings: SceneSettings | None = None
        self.surface = None                             # the last surface shown
        self.source: str | None = None                  # the file the shown surface was read from (None: computed)
        self._wanted = None                             # surface_fields + held of the surface asked for
        self._held_time = 0.0
        self.lifted = lifting.LiftedPaths()
        self._minibatch_key = None
        self.minibatch_on = False
        # A network's plane: a scene setting, never training. Planes fitted to finished runs (PCA, three points)
        # get those runs' paths with ``fit_plane``; a Hessian at the current point gets the shown path.
        self.planes = PlaneChoice()
        self.metric = "loss"                            # asked for: "loss" or "accuracy" (classifying networks)
        self.plane: Plane | None = None                 # the plane of the surface shown (networks)
        self.projected = projecting.ProjectedPaths()
        self.beside = BesideScene()                     # the surface beside the main one, and its runs
        self._predictions_key = None

    # -- the surface ----------------------------------------------------------------------------------------
    def show(self, experiment: Experiment, force: bool = False) -> None:
        """Show the surface of ``experiment`` (the selected run): computed off the GUI thread unless the
        surface it needs is the one shown or on its way."""
        if experiment is not self.experiment:
            self.lifted.reset(experiment)
            self._minibatch_key = None
            self._predictions_key = None
        self.experiment = experiment
        wanted = (surface_fields(experiment), self.planes.key(experiment),
                  shown_metric(experiment, self.metric))
        if not force and wanted == self._wanted:
            return
        self._request(experiment, None, wanted)

    @property
    def plane_settings(self) -> PlaneSettings:
        return self.planes.settings

    @property
    def plane_seed(self) -> int:
        return self.planes.settings.seed

    @property
    def plane_fitted(self) -> bool:
        """Whether the plane asked for is fitted to finished runs (False: it waits for them, or needs none)."""
        return self.planes.fitted(self.experiment)

    def set_plane(self, settings: PlaneSettings, current=None, current_key=None, show: bool = True) -> None:
        """Another plane for a network (a scene edit: the surface is recomputed, the runs go on). ``current``:
        the shown run's path up to its shown step (a Hessian at the current point), ``current_key`` names it."""
        self.planes.choose(settings, self.experiment, current, current_key)
        if show and self.experiment is not None and self.experiment.is_module:
            self.show(self.experiment)
            self._request_beside()          # the slice beside may have changed alone

    def fit_plane(self, paths, experiments=None) -> None:
        """The finished runs' paths (session order) that a PCA or three-point plane is fitted to; recomputed.
        ``experiments``: each path's run (each network of a race is drawn with its own run's BatchNorm statistics)."""
        self.planes.fit(paths, self.experiment, experiments)
        if self.experiment is not None and self.experiment.is_module:
            self.show(self.experiment)

    def set_metric(self, metric: str) -> None:
        """What the surface shows: "loss" or "accuracy" (a classifying network's; others keep their loss). A scene
        edit: the surface is recomputed, the runs go on."""
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
        self.metric = metric
        if self.experiment is not None:
            self.show(self.experiment)

    @property
    def shown_metric(self) -> str:
        return shown_metric(self.experiment, self.metric)

    def set_plane_seed(self, seed: int) -> None:
        """Another random plane for a network (a scene edit: the surface is recomputed, the runs go on)."""
        self.set_plane(self.plane_settings.replace(seed=int(seed)))

    def new_directions(self) -> None:
        """Draw the random plane's two directions anew (the next seed)."""
        self.set_plane_seed(self.plane_seed + 1)

    def seed(self, experiment: Experiment, surface, held: float | None = None, source: str | None = None,
             beside=None) -> None:
        """Start from a surface computed already (an exporter's prepared scene, or one read from the file
        ``source``): shown as if it had arrived; one still in flight is dropped. ``beside``: the surface beside it,
        computed already (``(BesideSpec, Surface)``; None: computed here if the scene has one)."""
        self.jobs.cancel(SURFACE)
        self._minibatch_key = None
        self.source = source
        self.experiment = experiment
        if experiment is not self.lifted.experiment:
            self.lifted.reset(experiment)
        # As ``show`` names what it wants: showing the same experiment next computes nothing.
        self._wanted = (surface_fields(experiment), held if follows_run(experiment) else None,
                        shown_metric(experiment, self.metric))
        self.settings = SceneSettings.of(experiment, held)
        self.surface = surface
        self._take_plane(experiment, surface)
        self.surface_ready.emit(experiment, surface)
        if beside is None:
            self._request_beside()
        else:
            self.jobs.cancel(BESIDE)
            self.beside.seed(*beside, surface, getattr(surface, "metric", "loss"))
            self.beside_ready.emit(*beside)

    def show_static(self, surface, source: str) -> None:
        """A surface read from the file ``source``, shown alone: no experiment behind it, so nothing to compute,
        follow or lift; the views draw it as any other (``surface_ready`` with no experiment)."""
        for channel in (SURFACE, MINIBATCH, LIFT):
            self.jobs.cancel(channel)
        self.experiment = None
        self.lifted.reset(run_experiments={})
        self._minibatch_key = None
        self._wanted = ("static", source)       # any experiment shown after this one computes its own surface
        self.settings = None
        self.source = source
        self.surface = surface
        self.surface_ready.emit(None, surface)
        self._request_beside()

    def _request(self, experiment: Experiment, held: float | None, wanted) -> None:
        self._wanted = wanted
        self.source = None
        self.settings = SceneSettings.of(experiment, held, self.plane_seed, self.planes.key(experiment),
                                         self.metric)
        self.progress.emit(0, 0)
        if experiment.is_module:
            settings, paths, current = self.planes.inputs(experiment)
            metric = self.settings.metric
            buffers = self.planes.buffers_for(experiment)

            def network(stop, progress):
                # The plane (random directions, a Hessian's eigenvectors, a PCA of the finished paths) and the
                # surface over it: both are work, and both stay off the GUI thread. A plane fitted to a race of two
                # networks is drawn with the shown network's own BatchNorm statistics.
                plane = network_plane(build_plane(settings, experiment, paths, current, stop=stop), experiment,
                                      buffers)
                span = plane_span(settings, plane, paths)
                return compute_surface(experiment, plane=plane, span=span, metric=metric, stop=stop,
                                       progress=progress)

            self.jobs.submit(SURFACE, network, (experiment, held))
            self._update_busy()
            return
        name = held_name(experiment)
        held_arg = {name: held} if held is not None and name is not None else None
        self.jobs.submit(SURFACE, lambda stop, progress: compute_surface(experiment, held=held_arg, stop=stop,
                                                                          progress=progress),
                         (experiment, held))
        self._update_busy()

    def follow(self, traj, upto: int | None) -> bool:
        """The plane model's slice follows the selected run's held parameter (throttled, one job at a time);
        False while a newer value waits for its turn (the caller comes back on a later frame)."""
        exp = self.experiment
        if exp is None or not follows_run(exp) or traj is None or len(traj) == 0:
            return True
        n = len(traj) if upto is None else max(1, min(upto, len(traj)))
        value = float(traj.column(held_name(exp))[n - 1])
        wanted = (surface_fields(exp), value)
        if wanted == self._wanted:
            return True
        now = time.perf_counter()
        if self.jobs.pending(SURFACE) or now - self._held_time < self.follow_every_s:
            return False
        self._held_time = now
        self._request(exp, value, wanted)
        return True

    # -- the mini-batch surface -----------------------------------------------------------------------------
    def set_minibatch(self, on: bool) -> None:
        self.minibatch_on = bool(on)
        self._minibatch_key = None
        if not on:
            self.jobs.cancel(MINIBATCH)

    def update_minibatch(self, traj, upto: int | None) -> bool:
        """Ask for the surface of the batch that the shown step of ``traj`` descended (one job at a time);
        False while a newer batch waits for its turn."""
        exp = self.experiment
        if not self.minibatch_on or exp is None:
            return True
        n = 0 if traj is None or len(traj) == 0 else (len(traj) if upto is None else max(1, min(upto, len(traj))))
        batch = traj.batches[n - 1] if n > 1 else np.empty(0, np.int64)
        key = (id(exp), self.settings, n if batch.size else 0, batch.tobytes())
        if key == self._minibatch_key:
            return True
        if self.jobs.pending(MINIBATCH):
            return False
        self._minibatch_key = key
        held = self.settings.held if self.settings is not None else None
        name = held_name(exp)
        held_arg = {name: held} if held is not None and name is not None else None
        plane = self.plane if exp.is_module else None
        if exp.is_module and plane is None:
            self._minibatch_key = None
            return False            # the plane comes with the surface: the mini-batch surface waits for it
        if batch.size == 0:
            title, part = "Mini-batch surface: no step yet", None
        elif batch.size >= len(exp.data):
            title, part = f"Step {int(traj.iteration[n - 1])}: the full batch (same surface)", None
        else:
            shown = ", ".join(str(int(i)) for i in batch[:6]) + (", …" if batch.size > 6 else "")
            title, part = f"Step {int(traj.iteration[n - 1])}: batch of {batch.size} (samples {shown})", batch
        if part is None and self.surface is not None and not self.jobs.pending(SURFACE):
            self.jobs.cancel(MINIBATCH)
            self.minibatch_ready.emit(exp, self.surface, title)      # the full batch's is the surface shown
            return True
        if plane is not None:
            surface, metric = self.surface, self.settings.metric
            compute = lambda stop, progress: compute_surface(exp, plane=plane, alpha=surface.alpha,  # noqa: E731
                                                             beta=surface.beta, batch=part, metric=metric,
                                                             stop=stop)
        else:
            compute = lambda stop, progress: compute_surface(exp, held=held_arg, batch=part, stop=stop)  # noqa: E731
        self.jobs.submit(MINIBATCH, compute, (exp, title))
        self._update_busy()
        return True

    # -- runs trained on another loss -----------------------------------------------------------------------
    def set_run_experiments(self, run_experiments: Mapping[int, Experiment]) -> None:
        self.lifted.reset(run_experiments=run_experiments)
        if self.experiment is not None and self.surface is not None and not self.jobs.pending(SURFACE):
            # The race's networks may be others now: which runs each surface draws, and the surface beside.
            self._take_plane(self.experiment, self.surface)
            self._request_beside()

    def lifted_paths(self, paths: Mapping, batch_loss: bool = False) -> dict:
        """``paths`` in the shown loss's unit as far as evaluated; what is missing is evaluated off the GUI thread
        (one job at a time; ``lifted_changed`` says when more arrived)."""
        if not self.jobs.pending(LIFT):
            work = self.lifted.missing(paths, batch_loss)
            if work:
                on, version = self.lifted.evaluators(work), self.lifted.version
                self.jobs.submit(LIFT, lambda stop, progress: lifting.evaluate(on, work, stop), version)
        return self.lifted.paths(paths, batch_loss)

    # -- a network's paths on the plane ----------------------------------------------------------------------
    def projected_paths(self, paths: Mapping) -> dict:
        """``paths`` on the plane of the shown network surface, as far as projected (``projecting.Projection`` per
        run); what is missing is projected off the GUI thread (one job at a time; ``projected_changed``)."""
        return self._project(PROJECT, self.projected, paths)

    def beside_paths(self, paths: Mapping) -> dict:
        """``paths`` on the beside view's plane, as far as projected: the other network's runs (read on its own
        surface) or every run on the random slice; missing ones are projected off the GUI thread."""
        return self._project(BESIDE_PROJECT, self.beside.projected, paths)

    def _project(self, channel: str, projected, paths: Mapping) -> dict:
        if not projected.active:
            return {}
        if not self.jobs.pending(channel):
            # A path projected from its start begins with its first points alone: a race replayed on a plane fitted
            # to it moves on screen at once while the rest is evaluated (a CNN's hundred points take about a second).
            work = [piece if piece.start or len(piece.params) <= FIRST_POINTS
                    else projecting.ProjectWork(piece.run_id, 0, piece.params[:FIRST_POINTS])
                    for piece in projected.missing(paths)]
            if work:
                exp, plane, version, metric = projected.experiment, projected.plane, projected.version, projected.metric
                self.jobs.submit(channel, lambda stop, progress: projecting.evaluate(exp, plane, work, stop, metric),
                                 version)
        return projected.paths(paths)

    # -- the surface beside the main one ---------------------------------------------------------------------
    def _request_beside(self) -> None:
        """Ask for the surface beside the main one, if the scene has one and it is not the one shown: computed
        off the GUI thread once the main surface is here (it lies on the main one's plane and grid)."""
        if self.jobs.pending(SURFACE):
            return              # asked again when the main surface arrives
        exp, surface = self.experiment, self.surface
        spec = None
        if exp is not None and exp.is_module and getattr(surface, "plane", None) is not None:
            spec = beside_spec(exp, self.lifted.run_experiments, self.plane_settings)
        metric = getattr(surface, "metric", "loss")
        if not self.beside.ask(spec, surface, metric):
            return
        self.jobs.cancel(BESIDE_PROJECT)
        if spec is None:
            self.jobs.cancel(BESIDE)
            self.beside_ready.emit(None, None)
            return
        buffers = self.planes.buffers_for(spec.experiment) if spec.kind == NETWORK else None
        self.jobs.submit(BESIDE, beside_work(spec, surface, buffers, metric), spec)
        self._update_busy()

    @property
    def beside_shown(self):
        """``(BesideSpec, Surface)`` of the surface beside the main one, once computed; else None."""
        if self.beside.spec is None or self.beside.surface is None:
            return None
        return self.beside.spec, self.beside.surface

    def _own_runs(self, experiment: Experiment):
        """The runs the main surface reads (None: all): where another network of the race is beside it, its own."""
        spec = beside_spec(experiment, self.lifted.run_experiments, self.plane_settings)
        if spec is None or spec.kind != NETWORK:
            return None
        return frozenset(own_runs(experiment, self.lifted.run_experiments))

    # -- what a network predicts --------------------------------------------------------------------------
    def update_predictions(self, run_id: int, traj, upto: int | None) -> bool:
        """Ask for the predictions of ``traj``'s shown step (decision regions or digits) off the GUI thread;
        False while a newer step waits for its turn."""
        exp = self.experiment
        if exp is None or prediction_kind(exp) is None or traj is None or len(traj) == 0:
            return True
        n = len(traj) if upto is None else max(1, min(upto, len(traj)))
        key = (id(exp), run_id, n, int(traj.iteration[n - 1]))
        if key == self._predictions_key:
            return True
        if self.jobs.pending(PREDICT):
            return False
        self._predictions_key = key
        params = np.array(traj.params[n - 1])
        # BatchNorm's statistics are kept for a path's last step only; earlier steps use the module's own.
        buffers = traj.buffers if n == len(traj) else None
        iteration = int(traj.iteration[n - 1])
        self.jobs.submit(PREDICT, lambda stop, progress: predictions(exp, params, buffers, run_id=run_id,
                                                                     iteration=iteration), exp)
        return True

    # -- results --------------------------------------------------------------------------------------------
    @Slot(str, object, object)
    def _job_done(self, channel: str, context, result) -> None:
        if channel == SURFACE:
            experiment, _held = context
            self.surface = result
            self._take_plane(experiment, result)
            self.surface_ready.emit(experiment, result)
            self._request_beside()
        elif channel == BESIDE:
            if context is self.beside.spec:
                self.beside.take(context, result)
                self.beside_ready.emit(context, result)
        elif channel == BESIDE_PROJECT:
            if context == self.beside.projected.version:
                self.beside.projected.absorb(result)
            self.projected_changed.emit()
        elif channel == MINIBATCH:
            experiment, title = context
            self.minibatch_ready.emit(experiment, result, title)
        elif channel == PROJECT:
            if context == self.projected.version:
                self.projected.absorb(result)
            self.projected_changed.emit()
        elif channel == PREDICT:
            if context is self.experiment:
                self.predictions_ready.emit(result)
        elif channel == LIFT:
            if context == self.lifted.version:
                self.lifted.absorb(result)
            self.lifted_changed.emit()

    def _take_plane(self, experiment: Experiment, surface) -> None:
        """A network's paths are projected on the plane of the surface shown, whoever computed it (a job, an
        exporter's scene, a file)."""
        plane = getattr(surface, "plane", None) if experiment.is_module else None
        runs = self._own_runs(experiment) if plane is not None else None
        if plane is not self.plane or experiment is not self.projected.experiment or runs != self.projected.runs:
            self.plane = plane
            metric = getattr(surface, "metric", "loss")
            self.projected.reset(experiment if plane is not None else None, plane, metric, runs)
            self._minibatch_key = None

    @Slot(str, object, str)
    def _job_failed(self, channel: str, context, message: str) -> None:
        if channel == SURFACE:
            self._wanted = None
        elif channel == BESIDE:
            self.beside.key = None          # asked again with the next surface
        self.failed.emit(f"The {channel} could not be computed: {message}")

    @Slot(str, int, int)
    def _job_progress(self, channel: str, done: int, total: int) -> None:
        if channel in (SURFACE, BESIDE):
            self.progress.emit(done, total)

    def _update_busy(self, *args) -> None:
        busy = any(self.jobs.pending(c) for c in (SURFACE, MINIBATCH, BESIDE))
        if busy != self._surface_busy:
            self._surface_busy = busy
            self.busy_changed.emit(busy)

    # -- headless -------------------------------------------------------------------------------------------
    def wait(self, timeout: float = 120.0) -> bool:
        """Block until every job in flight has delivered (the exporter, tests); True when they all did."""
        return self.jobs.wait(None, timeout)

    @property
    def busy(self) -> bool:
        return self.jobs.busy

    def shutdown(self) -> None:
        self.jobs.shutdown()
