"""What a network's frames add to a linear model's: its paths projected on the scene's plane, the note that keeps
them honest, and the data view's predictions at the shown step, all as the window shows them.

A network's path lives among all its parameters. As in the window (``gui.window_views.ViewSet``), the contour draws
each run's projection on the surface's plane (in the plane's coordinates, named by its directions), the 3-D view
the same points at the surface's height, the loss curve the true loss, and a note under the loss curve gives, per
run, the true loss beside the surface's value at the projected point and how far the step lies off the plane
(``gui.projection_note``). The scene controller projects; here every point is projected before the first frame,
so no frame waits for one. A surface beside the main one (another network of the race, or the random slice
through the start: ``gui.scene_beside``) has its own contour beside the main contour, with its runs' projections.
"""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np

class ProjectedPaths:
    """The scene's runs projected on its plane by ``controller`` (a ``SceneController`` seeded with the scene),
    with the note (a ``ProjectionNote``) that shows them; ``at(upto)`` gives the first ``upto`` points."""

    def __init__(self, controller, scene, styles, font):
        from ..gui.projection_note import ProjectionNote
        # Runs of a race may differ in BatchNorm: a run with other parameters (BatchNorm's scale and shift) than
        # the plane's has no projection on it; the note says so, as in the window.
        dim = scene.plane.dim
        paths = {rid: t for rid, t in enumerate(scene.trajectories) if t.params.shape[1] == dim}
        self.elsewhere = [rid for rid, t in enumerate(scene.trajectories) if rid not in paths]
        controller.projected.compute(paths)
        self.projections = controller.projected.paths(paths)
        # The runs drawn beside: another network's (read on its own surface), or every run on the random slice.
        self.beside, self.network = {}, scene.beside is not None and scene.beside[0].kind == "network"
        if controller.beside.projected.active:
            controller.beside.projected.compute(paths)
            self.beside = controller.beside.projected.paths(paths)
        if len(self.projections) + (len(self.beside) if self.network else 0) != len(paths):
            from ..core.errors import ExportError
            raise ExportError("the runs' paths could not be projected on the surface's plane")
        self.note = ProjectionNote()
        self.note.set_runs(styles)
        # The window's note takes the application's font, which its lecture mode enlarges; here the export's.
        self.note.setFont(font)

    def at(self, upto: int, beside: bool = False) -> dict:
        """Each run's projection up to timeline point ``upto`` (points shown); ``beside``: on the surface beside."""
        out = {}
        for rid, p in (self.beside if beside else self.projections).items():
            n = max(1, min(int(upto), len(p.distance)))
            out[rid] = dataclasses.replace(p, flat=_prefix(p.flat, n), on_surface=_prefix(p.on_surface, n),
                                           distance=p.distance[:n], total=n)
        return out

    def fix_height(self) -> None:
        """Lay the note out once with the widest values of the whole run (call once laid out): its columns keep
        those widths (``ProjectionNote`` never narrows one), so numbers changing from frame to frame never move a
        column, and its height is one line per run from the start."""
        from PySide6.QtGui import QFontMetrics
        from PySide6.QtWidgets import QApplication

        from ..gui.projection_note import _num, distance_text
        metrics = QFontMetrics(self.note.font())

        def widest(values, text=_num) -> np.ndarray:
            # The value the note writes widest, measured in the note's font.
            texts = {text(float(v)): float(v) for v in np.asarray(values)}
            return np.array([texts[max(texts, key=metrics.horizontalAdvance)]])

        samples = {rid: SimpleNamespace(distance=widest(p.distance, lambda v, s=p.scale: distance_text(v, s)),
                                        surface_loss=widest(p.surface_loss), total=1, scale=p.scale,
                                        metric=p.metric, flat=SimpleNamespace(loss=widest(p.flat.loss),
                                                                              iteration=np.zeros(1, int)))
                   for rid, p in self.noted(self.projections, self.beside).items()}
        for _ in range(2):      # laid out at its width, then once more: the header stays only where it fits
            self.note.show_projections(samples, None, self.elsewhere)
            QApplication.processEvents()

    def noted(self, projected: dict, beside: dict) -> dict:
        """The projections the note reads: each run's on its own network's surface (the main one's, the other
        network's beside), never the random slice's."""
        return {**projected, **beside} if self.network else projected

    def show(self, projected: dict, beside: dict | None = None) -> None:
        self.note.show_projections(self.noted(projected, beside or {}), None, self.elsewhere)


def contour_with_beside(contour, beside):
    """The contour cell of an export with a surface beside the main one: the two contours side by side."""
    from PySide6.QtWidgets import QHBoxLayout, QWidget
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(8)
    row.addWidget(contour, 1)
    row.addWidget(beside, 1)
    return box


def loss_with_note(view):
    """A column holding the loss curve, with room beneath it for the note, as the window lays them out."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    class Column(QWidget):
        def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
            # The note's word wrap would make the frame's grid give this cell the height its text asks for at its
            # width, and the cell beside it only the rest; the note's height is fixed (``fix_height``) instead.
            return False

    box = Column()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    column.addWidget(view, 1)
    return box


def view_paths(name: str, shown: dict, raw: dict, projected: dict | None) -> dict:
    """What the view ``name`` draws: a network's projections in the contour and the 3-D view (at the surface's
    height), every run's true loss in the loss curve, the plane's network's runs at their own parameters in the data
    view; a linear model's paths (in the shown surface's unit) everywhere."""
    if projected is None:
        return shown
    if name == "contour":
        return {rid: p.flat for rid, p in projected.items()}
    if name == "surface":
        return {rid: p.on_surface for rid, p in projected.items()}
    if name == "data":
        return {rid: t for rid, t in raw.items() if rid in projected}      # the plane's network's runs
    return shown


def _prefix(traj, n: int):
    if n >= len(traj):
        return traj
    return dataclasses.replace(traj.upto(n), outcome="running", message="")


__all__ = ["ProjectedPaths", "loss_with_note", "view_paths", "contour_with_beside"]
