"""A network's surface for an export: the window's scene controller, driven headless, computes it on the plane the
window would show, so an export and the window agree on the plane whatever kind it is.

A network's surface is a slice through its parameters; which slice is a scene setting of ``SceneController``. The
exporter never makes a plane itself: it takes the surface the window shows (the dialog hands it over), or asks a
headless controller, set as the window sets it (``configure``), for the one the window would compute.
Needs a QCoreApplication (the exporter's ``QtSession``, or the window's).
"""
from __future__ import annotations

from ..core.errors import ExportError

WAIT_S = 600.0          # a network's surface takes seconds here; a limit only so that a hung job cannot hang us


def scene_surface(session, trajectories=(), metric: str = "loss", stop=None):
    """The surface the window's scene shows for ``session`` (a network's): computed by a headless
    ``SceneController`` set as the window sets it (``configure``). ``stop()`` True cancels: None comes back."""
    surfaces = scene_surfaces(session, trajectories, metric, stop)
    return None if surfaces is None else surfaces[0]


def scene_surfaces(session, trajectories=(), metric: str = "loss", stop=None, surface=None):
    """``(surface, beside)``: the surface the window's scene shows for ``session`` (``surface``: that one, given)
    and the one beside it, ``(BesideSpec, Surface)`` or None (``gui.scene_beside``: another network of the race,
    or the random slice through the start); None when ``stop()`` cancelled."""
    from ..gui.scene_controller import SceneController
    controller = SceneController(follow_every_s=0.0)
    failures: list[str] = []
    controller.failed.connect(failures.append)
    try:
        configure(controller, session, trajectories, metric)
        if surface is None:
            controller.show(session.experiment)
        else:
            controller.seed(session.experiment, surface)        # only the surface beside is computed
        done = _wait(controller, stop)
        if not done:
            if stop is not None and stop():
                return None
            raise ExportError(f"the surface took more than {WAIT_S:.0f} s to compute")
        if failures or controller.surface is None:
            raise ExportError(failures[0] if failures else "the surface could not be computed")
        return controller.surface, controller.beside_shown
    finally:
        controller.shutdown()


def configure(controller, session, trajectories=(), metric: str = "loss") -> None:
    """Give ``controller`` the session's scene as the window does: what the surface shows (``metric``), and the
    session's plane (its ``[plane]``; a plane fitted to the runs gets their finished paths, a Hessian at the current
    step the first run's last)."""
    controller.set_metric(metric)
    # Every run's network: a race of two networks shows the other's surface beside the first's.
    controller.set_run_experiments(dict(enumerate(session.runs)))
    # The scene's experiment before its plane: what a plane is made of (paths, a step) belongs to its parameters.
    controller.experiment = session.experiment
    settings, paths = session.plane_settings, tuple(trajectories)
    controller.set_plane(settings, current=paths[0] if paths else None, current_key="export", show=False)
    if settings.needs_finished_runs:
        controller.fit_plane(paths, session.runs)


def _wait(controller, stop) -> bool:
    """Wait for the controller's jobs, looking at ``stop`` now and then."""
    if stop is None:
        return controller.wait(WAIT_S)
    waited = 0.0
    while waited < WAIT_S:
        if controller.wait(0.25):
            return True
        waited += 0.25
        if stop():
            return False
    return False


configure_scene = configure       # its name in the public package (``landscape_app.export``)

__all__ = ["scene_surface", "scene_surfaces", "configure", "configure_scene"]
