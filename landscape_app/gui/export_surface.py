"""A network's surface for the export dialog, computed off the GUI thread.

When the dialog cannot reuse the window's surface (the runs trained to their end in the dialog, a plane fitted to
them, or the window's surface still on its way), a headless ``SceneController`` set as the window sets it
(``export.scene_plane.configure``) computes it in its worker threads, and the dialog goes on when it arrives: the
window keeps drawing meanwhile (the exporter's command line waits for the same controller instead).
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.errors import LandscapeError


class ExportSurfaces(QObject):
    """The surfaces computed for the dialog, one per choice of paths (a plane may be fitted to them)."""

    message = Signal(str, bool)         # what to say (computing, the progress, "" when done), whether an error

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._surfaces: dict = {}
        self._besides: dict = {}        # the surface beside each one, ``(BesideSpec, Surface)``, or None
        self._controller = None
        self._key = None
        self._after: list[Callable[[], None]] = []

    def get(self, key):
        """The surface computed for ``key``, or None."""
        return self._surfaces.get(key)

    def beside(self, key):
        """The surface beside ``key``'s (computed with it), or None."""
        return self._besides.get(key)

    @property
    def busy(self) -> bool:
        return self._controller is not None

    def then(self, key, session, paths, metric: str, after: Callable[[], None]) -> None:
        """Compute the surface of ``session`` (a network's) for these paths, keep it as ``key``'s and call
        ``after`` on the GUI thread. While ``key``'s computes, a later call adds what comes after it (a preview
        asked for meanwhile must not take the place of an export)."""
        # What waited for another choice's surface waits for this one: an export asked for stays asked for
        # (each continuation looks again at what it needs when it runs).
        waiting = [then for then in self._after if then != after] + [after]
        if self._controller is not None and key == self._key:
            self._after = waiting
            return
        self.cancel()
        from .. import export
        from .scene_controller import SceneController
        self._key, self._after = key, waiting
        controller = self._controller = SceneController(self, follow_every_s=0.0)
        controller.failed.connect(self._failed)
        controller.progress.connect(lambda done, total: self.message.emit(
            f"computing the surface… {100 * done // total}%" if total else "computing the surface…", False))
        self.message.emit("computing the surface…", False)
        controller.jobs.busy_changed.connect(self._busy_changed)
        try:
            export.configure_scene(controller, session, paths, metric)
            controller.show(session.experiment)
        except LandscapeError as exc:
            self._failed(str(exc))

    def cancel(self) -> None:
        """Stop the surface in flight; nothing comes after it."""
        controller, self._controller, self._after = self._controller, None, []
        if controller is not None:
            controller.shutdown()
            controller.deleteLater()

    def _busy_changed(self, busy: bool) -> None:
        if not busy:
            # A fitted plane's surface is asked for when the fit arrives, by a slot that may run after this one:
            # look again once the queued results are in.
            QTimer.singleShot(0, self._settle)

    def _settle(self) -> None:
        controller = self._controller
        if controller is None or controller.jobs.busy:
            return
        surface, beside, after = controller.surface, controller.beside_shown, list(self._after)
        self.cancel()
        if surface is None:
            self.message.emit("the surface could not be computed", True)
            return
        self._surfaces[self._key] = surface
        self._besides[self._key] = beside
        self.message.emit("", False)
        for then in after:
            then()

    def _failed(self, message: str) -> None:
        self.cancel()
        self.message.emit(message, True)


__all__ = ["ExportSurfaces"]
