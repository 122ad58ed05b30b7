"""The main window's linked views: contour (with a network's surface beside it where one surface cannot show the
race: ``scene_beside``; and the mini-batch contour), 3-D surface, loss, data.

``ViewSet`` lays the views out and hands each the values the controller computed (the surface, the paths, the
mini-batch surface of the shown step) and the options. Views only draw (see ``views.base.View``).
"""
from __future__ import annotations


from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from . import style
from .elided import ElidedLabel
from .views import ContourView, DataView, LossView, SurfaceView, gl_available
from .projection_note import ProjectionNote
from .views.base import View


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
        # Beside the main contour, in its slot: another network of the race, or the random slice through the start.
        self.beside = ContourView()
        self.beside.setObjectName("beside_contour")
        self.beside.setVisible(False)
        self._beside_kind = None
        self._start_xy = (None, None)
        self.minibatch = ContourView()
        self.minibatch.setVisible(False)
        self.loss = LossView()
        # The window's 3-D views are native GL windows (see views.gl.make_gl_view); the exporter's are widgets.
        if gl_available():
            self.surface3d = SurfaceView(native=True)
        else:
            self.surface3d = Placeholder("The 3-D surface needs OpenGL, which this display does not offer.\n"
                                         "The contour, loss and data views show everything else.")
        self.data = DataView(native_gl=True)
        self.all = [self.contour, self.beside, self.minibatch, self.surface3d, self.loss, self.data]

        self.top = QSplitter(Qt.Orientation.Horizontal)
        self.contours = QSplitter(Qt.Orientation.Horizontal)
        self.contours.addWidget(self.contour)
        self.contours.addWidget(self.beside)
        for w in (self.contours, self.minibatch, self._with_reset_button(self.surface3d)):
            self.top.addWidget(w)
        self.bottom = QSplitter(Qt.Orientation.Horizontal)
        # A network's paths are projections: under the loss curve, each run's true loss beside the surface's
        # value at its projected point, and how far it lies off the plane.
        self.projection_note = ProjectionNote()
        loss_box = QWidget()
        loss_column = QVBoxLayout(loss_box)
        loss_column.setContentsMargins(0, 0, 0, 0)
        loss_column.setSpacing(0)
        loss_column.addWidget(self.loss, 1)
        loss_column.addWidget(self.projection_note)
        self.bottom.addWidget(loss_box)
        self.bottom.addWidget(self.data)
        self.bottom.setSizes([550, 550])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.top)
        split.addWidget(self.bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([560, 340])
        self.split = split
        self.top.setSizes([600, 0, 480])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        self.contour.start_clicked.connect(self.start_clicked)
        self.contour.hovered.connect(self.hovered)
        self.contour.hover_left.connect(self.hover_left)
        self._experiment = None
        self._paths: dict = {}
        self._upto = None
        self._mixed = False
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
    def set_scene(self, experiment, surface) -> None:
        """Show ``surface`` (computed by the controller) in every view; with no ``experiment`` (a surface read
        from a file, alone) only the contour and the 3-D view draw it: there are no data and no runs."""
        if experiment is None:
            self._experiment = None
            for view in (self.contour, self.surface3d):
                view.set_scene(None, surface)
            return
        if self._experiment is not None and experiment.param_names != self._experiment.param_names:
            self.show_paths({}, {}, None)     # another model: the old paths mean nothing on the new scene
        self._experiment = experiment
        for view in (self.contour, self.surface3d, self.loss, self.data):
            view.set_scene(experiment, surface)
        if self.minibatch.isVisible() and self.minibatch.surface is None:
            # Until a step arrives to say which batch: the full surface, not an empty plot.
            self.set_minibatch_scene(experiment, surface, "Mini-batch surface: no step yet")

    def set_data_experiment(self, experiment) -> None:
        """The data view follows the selected run at once (it needs no surface): a network's decision regions or
        digits replace the old data while its surface is still being computed."""
        self.data.set_scene(experiment, None)

    def set_mixed_losses(self, mixed: bool) -> None:
        """Whether some run trains on another loss than the shown one (the loss curve's label says so)."""
        self._mixed = bool(mixed)
        self.loss.set_own_losses(self.own_losses, self._mixed)

    def set_planned_length(self, iterations: int | None) -> None:
        # The loss curve's x axis spans the whole planned run: it does not re-tick on every frame, and
        # people see how far through training each run is.
        self.loss.set_planned_length(iterations)

    def set_runs(self, runs) -> None:
        for view in self.all:
            view.set_runs(runs)
        self.projection_note.set_runs(runs)

    def set_start_marker(self, experiment, plane=None) -> None:
        """Where new runs start, on the contour (``None``: no marker); a network's start projected on ``plane``
        (a random or Hessian plane goes through it; a PCA plane is centred on a run's end)."""
        if experiment is None:
            self._mark_start(None)
            return
        if experiment.is_module:
            if plane is None or plane.dim != experiment.param_count:
                self._mark_start(0.0, 0.0)
            else:
                a, b, _ = plane.project(experiment.start_vector())
                self._mark_start(a, b)
            return
        start = dict(zip(experiment.param_names, experiment.start))
        ax, ay = experiment.grid.axes
        self._mark_start(start[ax], start[ay])

    def _mark_start(self, x, y=None) -> None:
        self._start_xy = (x, y)
        self.contour.set_start_marker(x, y)
        if self._beside_kind == "network":          # the same plane: the same start
            self.beside.set_start_marker(x, y)

    def show_paths(self, paths, lifted, upto=None, projected=None, beside=None) -> None:
        """Each run's path (``paths``) and the same paths in the shown surface's unit (``lifted``: a run trained
        on another loss, re-evaluated on the shown one, for the 3-D heights and the loss curve). A network's paths
        are drawn on the surface's plane: ``projected`` holds each run's projection (``projected.Projection``),
        ``beside`` those of the runs drawn on the surface beside (another network's, or on the random slice)."""
        if self._experiment is not None and self._experiment.is_module:
            self._show_projected(paths, lifted, upto, projected or {}, beside or {})
            return
        self.projection_note.show_projections({}, None)
        if self._experiment is not None:
            # Paths of another model than the scene's wait for their surface (it is computed off the GUI thread).
            names = self._experiment.param_names
            paths = {rid: t for rid, t in paths.items() if t.param_names == names}
            lifted = {rid: t for rid, t in lifted.items() if t.param_names == names}
        self._paths, self._upto = paths, upto
        for view in (self.contour, self.data):
            view.show_paths(paths, upto)
        self.loss.show_paths(paths if self.own_losses else lifted, upto)
        self.surface3d.show_paths(lifted, upto)
        if self.minibatch.isVisible():
            self.minibatch.show_paths(paths, upto)

    def _show_projected(self, paths, lifted, upto, projected, beside) -> None:
        # Runs of a race may differ in BatchNorm or dropout: every run's loss is on the curve, and a run whose
        # parameters are the shown network's (BatchNorm without scale and shift adds none) is drawn on its plane;
        # one with other parameters (BatchNorm's scale and shift) has no projection there, and the note says so.
        curves = paths if self.own_losses else lifted
        count = self._experiment.param_count
        elsewhere = [rid for rid, t in paths.items() if len(t) and t.params.shape[1] != count]
        paths = {rid: t for rid, t in paths.items() if t.params.shape[1] == count}
        flat = {rid: p.flat for rid, p in projected.items() if rid in paths}
        self._paths, self._upto = flat, upto
        self.contour.show_paths(flat, upto)
        # In 3-D a projected point sits on the surface (its height is the surface's value there); its true loss is
        # on the loss curve, and the note beneath it gives both.
        self.surface3d.show_paths({rid: p.on_surface for rid, p in projected.items() if rid in paths}, upto)
        self.loss.show_paths(curves, upto)
        self.data.show_paths(paths, upto)
        if self.minibatch.isVisible():
            self.minibatch.show_paths(flat, upto)
        if self._beside_kind is not None:
            self.beside.show_paths({rid: p.flat for rid, p in beside.items()}, upto)
        # Each run reads its true loss against its own network's surface: the other network's from the beside view.
        own = {**projected, **beside} if self._beside_kind == "network" else projected
        self.projection_note.show_projections(own, upto, elsewhere)

    def set_beside_scene(self, spec, surface) -> None:
        """The surface beside the main contour (``scene_beside.BesideSpec`` and its Surface; None hides it)."""
        shown = spec is not None and surface is not None
        self._beside_kind = spec.kind if shown else None
        self.contour.set_title(spec.main_title if shown else "")     # two networks: each view names its own
        if shown:
            self.beside.set_scene(spec.experiment, surface)
            self.beside.set_title(spec.title)
            if spec.kind == "random":
                self.beside.set_start_marker(0.0, 0.0)      # a random slice goes through the start
            else:
                self.beside.set_start_marker(*self._start_xy)
        elif not self.beside.isHidden():
            self.beside.set_scene(None, None)
        if shown == self.beside.isHidden():
            self.beside.setVisible(shown)
            width = sum(self.contours.sizes()) or 600
            self.contours.setSizes([width // 2, width - width // 2] if shown else [width, 0])

    def show_predictions(self, value) -> None:
        """A network's predictions at the shown step (computed by the controller) in the data view."""
        self.data.show_predictions(value)

    def set_own_losses(self, on: bool) -> None:
        """The loss curve shows each run's own training loss (``on``) or every run's loss on the shown criterion."""
        self.own_losses = bool(on)
        self.loss.set_own_losses(self.own_losses, self._mixed)

    def set_minibatch_scene(self, experiment, surface, title: str) -> None:
        """The surface of the batch that the shown step descended (computed by the controller)."""
        self.minibatch.set_scene(experiment, surface)
        self.minibatch.set_title(title)
        self.minibatch.show_paths(self._paths, self._upto)

    # -- options --------------------------------------------------------------------------------------------
    def set_run_legends(self, on: bool) -> None:
        """Whether each view names the runs itself (the main window shows one legend for all of them)."""
        for view in self.all:
            view.set_run_legend(on)

    def set_lecture_mode(self, on: bool) -> None:
        for view in self.all:
            view.set_lecture_mode(on)
        self.projection_note.set_lecture_mode(on)
        # Lecture mode's large text takes the same lines in each pane; the loss curve and the data view, under
        # their titles, legends and axes, keep a plot to read only with half the height (3:2 left them ~60 px at
        # 1280x720). The splitter keeps the proportion as the window resizes.
        top, bottom = (1, 1) if on else (3, 2)
        total = sum(self.split.sizes()) or 900
        self.split.setStretchFactor(0, top)
        self.split.setStretchFactor(1, bottom)
        self.split.setSizes([total * top // (top + bottom), total - total * top // (top + bottom)])

    def set_log_scale(self, on: bool) -> None:
        self.contour.set_log_scale(on)
        self.beside.set_log_scale(on)
        self.minibatch.set_log_scale(on)
        self.surface3d.set_log_scale(on)

    def set_gradient_field(self, on: bool) -> None:
        self.contour.set_gradient_field(on)
        self.beside.set_gradient_field(on)
        self.minibatch.set_gradient_field(on)

    def set_log_loss(self, on: bool) -> None:
        self.loss.set_log_y(on)

    def set_static(self, on: bool) -> None:
        """A surface shown alone (``on``): the contour and the 3-D view take the room of the loss and data views,
        which have nothing to show."""
        if on:
            self.set_minibatch_visible(False)
        self.bottom.setVisible(not on)

    def set_minibatch_visible(self, on: bool) -> None:
        self.minibatch.setVisible(on)
        if on and self._experiment is not None and self.contour.surface is not None:
            # Until a step arrives to say which batch: the full surface, not an empty plot.
            self.set_minibatch_scene(self._experiment, self.contour.surface, "Mini-batch surface: no step yet")
        sizes = self.top.sizes()
        total = sum(sizes) or 1080
        self.top.setSizes([total * 4 // 10, total * 3 // 10, total * 3 // 10] if on
                          else [total * 55 // 100, 0, total * 45 // 100])
