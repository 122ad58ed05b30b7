"""The main window's linked views: contour (and the mini-batch contour beside it), 3-D surface, loss, data.

``ViewSet`` computes the surface once and hands it to every view, forwards paths and options, and keeps the
mini-batch contour on the batch the shown step descended. Views only draw (see ``views.base.View``).
"""
from __future__ import annotations


import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from ..core.surface import compute_surface
from . import style
from .elided import ElidedLabel
from .views import ContourView, DataView, LossView, SurfaceView, gl_available
from .views.base import View
from .views.lifted import LiftedPaths


class Placeholder(View):
    """Text where a view cannot be shown (the 3-D view without OpenGL): a view that draws nothing."""

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        label = QLabel(text)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        label.setStyleSheet(f"color: {style.MUTED}; background: {style.BACKGROUND};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        self.label = label

    def set_scene(self, experiment, surface) -> None:
        pass

    def set_runs(self, runs) -> None:
        pass

    def show_paths(self, paths, upto=None) -> None:
        pass

    def set_lecture_mode(self, on: bool) -> None:
        pass


class ViewSet(QWidget):
    start_clicked = Signal(float, float)
    hovered = Signal(float, float, float)
    hover_left = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.contour = ContourView()
        self.minibatch = ContourView()
        self.minibatch.setVisible(False)
        self.loss = LossView()
        if gl_available():
            self.surface3d = SurfaceView()
        else:
            self.surface3d = Placeholder("The 3-D surface needs OpenGL, which this display does not offer.\n"
                                         "The contour, loss and data views show everything else.")
        self.lifted = LiftedPaths()
        self.data = DataView()
        self.all = [self.contour, self.minibatch, self.surface3d, self.loss, self.data]

        self.top = QSplitter(Qt.Orientation.Horizontal)
        for w in (self.contour, self.minibatch, self._with_reset_button(self.surface3d)):
            self.top.addWidget(w)
        self.bottom = QSplitter(Qt.Orientation.Horizontal)
        self.bottom.addWidget(self.loss)
        self.bottom.addWidget(self.data)
        self.bottom.setSizes([550, 550])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.top)
        split.addWidget(self.bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([560, 340])
        self.top.setSizes([600, 0, 480])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        self.contour.start_clicked.connect(self.start_clicked)
        self.contour.hovered.connect(self.hovered)
        self.contour.hover_left.connect(self.hover_left)
        self._experiment = None
        self._held = None
        self._paths: dict = {}
        self._batch_key = None
        self.own_losses = False       # the loss curve shows each run's own training loss, not the shown one's

    def _with_reset_button(self, view: QWidget) -> QWidget:
        """The 3-D view under a thin bar: how to move it, and a button back to the standard camera."""
        if not hasattr(view, "reset_view"):
            return view
        box = QWidget()
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        hint = ElidedLabel("3-D surface · drag to orbit, wheel to zoom")
        hint.setStyleSheet(f"color: {style.MUTED};")
        button = QPushButton("Reset view")
        button.setObjectName("reset_view_button")
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(view.reset_view)
        bar.addWidget(hint, 1)
        bar.addWidget(button)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addLayout(bar)
        column.addWidget(view, 1)
        return box

    # -- the scene ------------------------------------------------------------------------------------------
    def set_scene(self, experiment, held: dict | None = None):
        """Compute the surface of ``experiment`` (the plane's held parameter at ``held``) and show it."""
        surface = compute_surface(experiment, held=held)
        if self._experiment is not None and experiment.param_names != self._experiment.param_names:
            self.show_paths({}, None)     # another model: the old paths mean nothing on the new scene
        if experiment is not self._experiment:
            self.lifted.reset(experiment)
        self._experiment, self._held = experiment, held
        for view in (self.contour, self.surface3d, self.loss, self.data):
            view.set_scene(experiment, surface)
        self.loss.set_own_losses(self.own_losses, self.lifted.mixed())
        self._batch_key = None
        return surface

    def set_run_experiments(self, run_experiments: dict) -> None:
        """Which experiment each run trains (a new race): the 3-D heights of other losses are recomputed."""
        self.lifted.reset(run_experiments=run_experiments)
        self.loss.set_own_losses(self.own_losses, self.lifted.mixed())
        # The loss curve's x axis spans the whole planned run: it does not re-tick on every frame, and
        # people see how far through training each run is.
        self.loss.set_planned_length(max((e.epochs * e.steps_per_epoch for e in run_experiments.values()),
                                         default=None))

    def set_runs(self, runs) -> None:
        for view in self.all:
            view.set_runs(runs)

    def set_start_marker(self, experiment) -> None:
        start = dict(zip(experiment.param_names, experiment.start))
        ax, ay = experiment.grid.axes
        self.contour.set_start_marker(start[ax], start[ay])

    def show_paths(self, paths, upto=None) -> None:
        self._paths = paths
        for view in (self.contour, self.data):
            view.show_paths(paths, upto)
        # Runs trained on another loss, in the shown loss's unit: heights on the 3-D surface, and (unless the
        # loss curve shows each run's own loss) their curves on the loss axis. Computed once per new point.
        lifted = self.lifted.paths(paths, batch_loss=not self.own_losses)
        self.loss.show_paths(paths if self.own_losses else lifted, upto)
        self.surface3d.show_paths(lifted, upto)

    def set_own_losses(self, on: bool) -> None:
        """The loss curve shows each run's own training loss (``on``) or every run's loss on the shown criterion."""
        self.own_losses = bool(on)
        self.loss.set_own_losses(self.own_losses, self.lifted.mixed())

    def update_minibatch(self, experiment, traj, upto) -> None:
        """Keep the mini-batch contour on the batch that the shown step of the selected run descended."""
        if not self.minibatch.isVisible() or traj is None or len(traj) == 0:
            return
        n = len(traj) if upto is None else max(1, min(upto, len(traj)))
        batch = traj.batches[n - 1] if n > 1 else np.empty(0, np.int64)
        key = (id(experiment), n if batch.size else 0, batch.tobytes())
        if key != self._batch_key:
            self._batch_key = key
            if batch.size == 0:
                surface = compute_surface(experiment, held=self._held)
                title = "Mini-batch surface: no step yet"
            elif batch.size >= len(experiment.data):
                surface = compute_surface(experiment, held=self._held)
                title = f"Step {int(traj.iteration[n - 1])}: the full batch (same surface)"
            else:
                surface = compute_surface(experiment, held=self._held, batch=batch)
                shown = ", ".join(str(int(i)) for i in batch[:6]) + (", …" if batch.size > 6 else "")
                title = f"Step {int(traj.iteration[n - 1])}: batch of {batch.size} (samples {shown})"
            self.minibatch.set_scene(experiment, surface)
            self.minibatch.set_title(title)
        self.minibatch.show_paths(self._paths, n)

    # -- options --------------------------------------------------------------------------------------------
    def set_run_legends(self, on: bool) -> None:
        """Whether each view names the runs itself (the main window shows one legend for all of them)."""
        for view in self.all:
            view.set_run_legend(on)

    def set_lecture_mode(self, on: bool) -> None:
        for view in self.all:
            view.set_lecture_mode(on)

    def set_log_scale(self, on: bool) -> None:
        self.contour.set_log_scale(on)
        self.minibatch.set_log_scale(on)
        if hasattr(self.surface3d, "set_log_scale"):
            self.surface3d.set_log_scale(on)

    def set_gradient_field(self, on: bool) -> None:
        self.contour.set_gradient_field(on)
        self.minibatch.set_gradient_field(on)

    def set_log_loss(self, on: bool) -> None:
        self.loss.set_log_y(on)

    def set_minibatch_visible(self, on: bool) -> None:
        self.minibatch.setVisible(on)
        self._batch_key = None
        if on and self._experiment is not None:
            # Until a step arrives to say which batch: the full surface, not an empty plot.
            self.minibatch.set_scene(self._experiment, compute_surface(self._experiment, held=self._held))
            self.minibatch.set_title("Mini-batch surface: no step yet")
        sizes = self.top.sizes()
        total = sum(sizes) or 1080
        self.top.setSizes([total * 4 // 10, total * 3 // 10, total * 3 // 10] if on
                          else [total * 55 // 100, 0, total * 45 // 100])
