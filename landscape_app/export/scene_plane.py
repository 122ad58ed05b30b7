"""A network's surface for an export: the window's scene controller, driven headless, computes it on the plane the
window would show, so an export and the window agree on the plane whatever kind it is.

A network's surface is a slice through its parameters; which slice is a scene setting of ``SceneController`` (today
the random plane's seed). The exporter never chooses a plane itself: it takes the surface the window shows (the
dialog hands it over), or asks a headless controller for the one the window would compute for the session.
Needs a QCoreApplication (the exporter's ``QtSession``, or the window's).
"""
from __future__ import annotations

from ..core.errors import ExportError

WAIT_S = 600.0          # a network's surface takes seconds here; a limit only so that a hung job cannot hang us


def scene_surface(experiment, plane_seed: int = 0, stop=None):
    """The surface the window's scene shows for ``experiment`` (a network): computed by a headless
    ``SceneController`` with the scene settings given (``plane_seed``: the random plane's seed, as in the Plane
    section of the panel). ``stop()`` True cancels (``ExportCancelled``)."""
    from ..gui.scene_controller import SceneController
    from .scene import ExportCancelled
    controller = SceneController(follow_every_s=0.0)
    failures: list[str] = []
    controller.failed.connect(failures.append)
    try:
        controller.plane_seed = int(plane_seed)
        controller.show(experiment)
        done = _wait(controller, stop)
        if not done:
            raise ExportCancelled() if stop is not None and stop() else \
                ExportError(f"the surface took more than {WAIT_S:.0f} s to compute")
        if failures or controller.surface is None:
            raise ExportError(failures[0] if failures else "the surface could not be computed")
        return controller.surface
    finally:
        controller.shutdown()


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


__all__ = ["scene_surface"]
