"""What an export shows: a session's runs trained to the end, their paths, and the surface under them.

Qt-free for the linear models. A network's surface lies on a plane, a scene setting of the window's scene
controller: it comes from the window, or from that controller driven headless (``scene_plane``), which needs Qt.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from ..core.errors import ExportError
from ..core.palette import RUN_COLORS, run_color
from ..core.session import Session
from ..core.trajectory import Trajectory


Progress = Callable[[int, int], None]      # (done, total)


def run_colors(session: Session) -> tuple[str, ...]:
    """Each run's colour: its own from the session, else the palette's, in order."""
    return tuple(run_color(i, c) for i, c in enumerate(session.colors))


def max_points(session: Session) -> int:
    """An upper bound of the longest path (start point included), known before training."""
    return max(r.epochs * r.steps_per_epoch for r in session.runs) + 1


@dataclass
class ExportScene:
    """A session with every run's finished path and the surface to draw them on."""

    session: Session
    trajectories: tuple[Trajectory, ...]
    surface: object                             # core.surface.Surface
    _slices: dict = field(default_factory=dict, repr=False)
    # A network's surface beside the main one: ``(gui.scene_beside.BesideSpec, Surface)`` (another network of the
    # race on the same plane, or the random slice through the start), or None.
    beside: tuple | None = None

    @property
    def experiment(self):
        return self.session.experiment

    @property
    def names(self) -> tuple[str, ...]:
        return self.session.names

    @property
    def colors(self) -> tuple[str, ...]:
        return run_colors(self.session)

    @property
    def plane(self):
        """The plane a network's surface lies on (its paths are drawn projected on it); None for a linear model."""
        return getattr(self.surface, "plane", None) if self.experiment.is_module else None

    @property
    def n_points(self) -> int:
        """Points of the longest path: the length of the animation's timeline."""
        return max(len(t) for t in self.trajectories)

    @property
    def follows_held(self) -> bool:
        """The plane model's slice follows the training (the held parameter is not pinned by the grid)."""
        exp = self.experiment
        return not exp.is_module and len(exp.param_names) > 2 and exp.grid.held is None

    def held_value(self, upto: int) -> float | None:
        """The held parameter of the first run at timeline point ``upto`` (for a slice that follows it)."""
        if not self.follows_held:
            return None
        exp = self.experiment
        name = next(p for p in exp.param_names if p not in exp.grid.axes)
        traj = self.trajectories[0]
        i = max(0, min(int(upto), len(traj)) - 1)
        return float(traj.column(name)[i])

    def surface_at(self, upto: int):
        """The surface to draw at timeline point ``upto``: the fixed one, or the plane slice that follows run 1."""
        value = self.held_value(upto)
        if value is None:
            return self.surface
        hit = self._slices.get(value)
        if hit is None:
            from ..core.surface import compute_surface
            exp = self.experiment
            name = next(p for p in exp.param_names if p not in exp.grid.axes)
            hit = compute_surface(exp, held={name: value})
            if len(self._slices) > 4:       # consecutive frames reuse a slice; keep memory small
                self._slices.clear()
            self._slices[value] = hit
        return hit


def train_steps(session: Session, stop: Callable[[], bool] | None = None, every: int = 64):
    """Train every run of the session (a race) to its end, yielding ``(done, total)`` updates now and then;
    the generator's return value is the tuple of trajectories. Driven in slices, it keeps a window responsive."""
    from ..core.trajectory import TrajectoryBuilder
    from ..core.training import check_path_memory, train
    check_path_memory(session.runs)
    total = max_points(session) * len(session.runs)
    done = 0
    out = []
    for run_id, exp in enumerate(session.runs):
        builder = TrajectoryBuilder(exp.param_names)
        training = train(exp, stop=stop, run_id=run_id)
        for step in training:
            builder.append(step)
            done += 1
            if done % every == 0:
                yield done, total
        if training.outcome == "stopped":
            raise ExportCancelled()
        builder.outcome, builder.message = training.outcome, training.message
        out.append(_copy(builder.trajectory()))
    yield total, total
    return tuple(out)


def train_session(session: Session, progress: Progress | None = None,
                  stop: Callable[[], bool] | None = None) -> tuple[Trajectory, ...]:
    """Run every experiment of the session (a race) to its end; ``progress(done, total)`` counts updates."""
    steps = train_steps(session, stop)
    while True:
        try:
            done, total = next(steps)
        except StopIteration as end:
            return end.value
        if progress is not None:
            progress(done, total)


def _copy(traj: Trajectory) -> Trajectory:
    # The builder's arrays are views into buffers that may be reused: own them.
    return Trajectory(traj.param_names, traj.iteration.copy(), traj.epoch.copy(), traj.params.copy(),
                      traj.batch_loss.copy(), traj.loss.copy(), traj.lr.copy(), traj.batches, traj.outcome,
                      traj.message, traj.buffers)


def prepare_scene(session: Session, trajectories: Sequence[Trajectory] | None = None,
                  progress: Progress | None = None, stop: Callable[[], bool] | None = None, *,
                  surface=None, metric: str = "loss", beside=None) -> ExportScene:
    """Train the session's runs (unless their paths are given) and compute the surface.

    A network's surface lies on the plane of the window's scene: ``surface``, the one the window shows (on its
    plane, whatever kind), or else the one its scene controller computes for the session's plane (its ``[plane]``)
    and ``metric`` ("loss", or a classifier's "accuracy"); this needs a QApplication (see ``scene_plane``). The
    surface beside it, where the session has one: ``beside`` (the window's), else computed the same way. A linear
    model's surface is its (w, b) grid, computed here."""
    from ..core.surface import compute_surface
    if trajectories is None:
        trajectories = train_session(session, progress, stop)
    trajectories = tuple(trajectories)
    if len(trajectories) != len(session.runs):
        raise ExportError(f"{len(trajectories)} paths for a session of {len(session.runs)} runs")
    if any(len(t) == 0 for t in trajectories):
        raise ExportError("a run has no points to show yet; play it first")
    scene = ExportScene(session, trajectories, None)
    first = scene.held_value(1)
    if session.experiment.is_module:
        if surface is not None:
            _check_surface(session, surface)
        if surface is None or (beside is None and has_beside(session)):
            from .scene_plane import scene_surfaces
            surfaces = scene_surfaces(session, trajectories, metric, stop, surface)
            if surfaces is None:
                raise ExportCancelled()
            surface, beside = surfaces
        _check_surface(session, surface)
        scene.surface, scene.beside = surface, beside
    elif first is None:
        scene.surface = compute_surface(session.experiment)
    else:
        scene.surface = scene.surface_at(1)
    return scene


def has_beside(session: Session) -> bool:
    """Whether a network's session shows a surface beside the main one (``gui.scene_beside``)."""
    from ..gui.scene_beside import beside_spec
    return beside_spec(session.experiment, dict(enumerate(session.runs)), session.plane_settings) is not None


def _check_surface(session: Session, surface) -> None:
    """Refuse a surface that is not of the session's model (a network's needs the plane its paths lie on)."""
    exp = session.experiment
    plane = getattr(surface, "plane", None)
    if exp.is_module and (plane is None or plane.dim != exp.param_count):
        raise ExportError(f"the surface given does not lie on a plane among the network's {exp.param_count} "
                          f"parameters")


class ExportCancelled(Exception):
    """The user cancelled an export (Cancel in the dialog, Ctrl-C): nothing was written."""


__all__ = ["ExportScene", "ExportCancelled", "prepare_scene", "train_session", "train_steps", "max_points",
           "run_colors", "RUN_COLORS"]
