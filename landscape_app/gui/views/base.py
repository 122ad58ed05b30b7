"""What every view offers: the main window and the exporter drive views only through this.

A view only draws. It is handed a *scene* (the experiment and its surface), the *runs* (name and colour of each
race entry), and the *paths* (each run's Trajectory, possibly still growing), and shows every path up to a
timeline index. It never trains, computes losses on its own, or reads widgets of the main window.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from ...core.experiment import Experiment
from ...core.models import loss_unit
from ...core.palette import RUN_COLORS  # noqa: F401  (the views' palette, kept in the core for the Qt-free exporter)
from ...core.trajectory import Trajectory



def axis_columns(traj, surface) -> tuple[int, int] | None:
    """Which columns of ``traj.params`` lie along the surface's x and y axes (None: nothing to draw)."""
    if traj is None or surface is None:
        return None
    try:
        return tuple(traj.param_names.index(a) for a in surface.axes)
    except ValueError:
        return None


# A random plane's direction names carry its normalisation ("random 1 (filter-normalised)"): said on every axis
# it doubled a title's length, which then ran over the 3-D surface and off a lecture-sized contour's left edge.
# The window's plane line and the contour's bottom axis say it once.
_NORMALISATION_NOTES = (" (filter-normalised)", " (layer-normalised)")


def axis_name(label: str) -> str:
    """A plane direction's name as an axis shows it: "random 1 (filter-normalised)" -> "random 1"; other names
    ("w", "PCA 1 (71%)", "toward run 2's end") as they are."""
    for note in _NORMALISATION_NOTES:
        if label.endswith(note) and len(label) > len(note):
            return label[:-len(note)]
    return label


def value_label(surface) -> str:
    """What a surface's values are, as colour bars and read-outs name them: "MSE loss", "loss" (a criterion not
    known, as in loss-landscape's files) or "accuracy"."""
    if getattr(surface, "metric", "loss") == "accuracy":
        return "accuracy"
    unit = loss_unit(getattr(surface, "criterion", ""))
    return f"{unit} loss" if unit else "loss"


@dataclass(frozen=True)
class RunStyle:
    run_id: int
    name: str
    color: str          # "#RRGGBB"


class View(QWidget):
    """Base class of the contour, 3-D surface, loss curve and data views (and the mini-batch contour)."""

    def set_scene(self, experiment: Experiment, surface) -> None:
        """A new surface or dataset: redraw the background. ``surface`` is a ``core.surface.Surface``."""
        raise NotImplementedError

    def set_runs(self, runs: Sequence[RunStyle]) -> None:
        """Which runs exist, with their names and colours (legend); paths of removed runs disappear."""
        raise NotImplementedError

    def show_paths(self, paths: Mapping[int, Trajectory], upto: int | None = None) -> None:
        """Draw each run's path (keyed by run_id) up to index ``upto`` (exclusive; ``None``: all of it).

        The last drawn point of each path is its current point. Called up to ~60 times a second while
        training, so it updates plot items in place (``setData``) and never rebuilds the scene.
        """
        raise NotImplementedError

    def set_lecture_mode(self, on: bool) -> None:
        """Larger fonts and thicker lines, readable on a projector."""
        raise NotImplementedError

    # -- shared by every view (not part of what subclasses must implement) ------------------------------------
    def set_run_legend(self, on: bool) -> None:
        """Whether the view names the runs in a legend of its own (the main window shows one legend for all).

        A view's legend never lies over its plot: it sits beside it (views without a legend ignore this).
        """

    def set_log_scale(self, on: bool) -> None:
        """A logarithmic scale for the loss: colours of a surface, or the loss axis (views without one ignore it)."""

    def fix_ranges(self, paths: Mapping[int, Trajectory]) -> None:
        """The whole run is known before the first frame (an export): axes that would follow the paths as they
        grow hold the extent of the final ``paths`` from the start (views whose axes never move ignore this)."""

    def render_image(self, width: int | None = None, height: int | None = None) -> QImage:
        """The view drawn at ``width`` x ``height`` pixels (its current size if omitted), shown or not.

        Paints twice: pyqtgraph measures tick labels while painting and resizes its axes afterwards, so the
        first paint after a change of size, font or range can be laid out with stale widths. The second is
        the settled, deterministic picture (the exporter's frames and the screenshots use this).
        """
        # Always resize (even to the same size): a never-resized hidden window is re-laid out at its size hint.
        self.resize(int(width or self.width()), int(height or self.height()))
        if not self.isVisible():
            self._prepare_hidden()
        self.grab_image()
        QApplication.processEvents()
        return self.grab_image()

    def _prepare_hidden(self) -> None:
        """Lay out a hidden view's children (a hidden layout does not); OpenGL views do more."""
        if self.layout() is not None:
            self.layout().setGeometry(self.rect())

    def grab_image(self) -> QImage:
        """One paint of the view as it is laid out now (the 3-D view overrides this to read its framebuffer)."""
        return self.grab().toImage()

    def shows_opengl(self) -> bool:
        """Whether the view now draws with OpenGL (a window's ``grab`` then misses what it paints over GL)."""
        return False
