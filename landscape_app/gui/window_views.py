"""The main window's linked views: contour (with a network's surface beside it where one surface cannot show the
race: ``scene_beside``; and the mini-batch contour), 3-D surface, loss, data.

``ViewSet`` lays the views out and hands each the values the controller computed (the surface, the paths, the
mini-batch surface of the shown step) and the options. Views only draw (see ``views.base.View``). Where the room is
too small for a view to be read, it is hidden and a note above the views names it (see ``view_fit``).
"""
from __future__ import annotations


from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from . import style, view_fit
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
        self._minibatch_wanted = False
        self._static = False
        self._lecture = False
        self._panel_shown = True
        self._rows_forced = False           # the rows' heights were set for readability, not by their stretch
        self.hidden: tuple[str, ...] = ()       # the views hidden for lack of room (view_fit's names)
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
        surface_pane = self._with_reset_button(self.surface3d)
        self.contours = QSplitter(Qt.Orientation.Horizontal)
        self.contours.addWidget(self.contour)
        self.contours.addWidget(self.beside)
        for w in (self.contours, self.minibatch, surface_pane):
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
        # Each view's pane by view_fit's name: what is hidden when the room is too small to read it.
        self.panes = {"contour": self.contours, "minibatch": self.minibatch, "surface": surface_pane,
                      "loss": loss_box, "data": self.data}
        self.bottom.setSizes([550, 550])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.top)
        split.addWidget(self.bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([560, 340])
        self.split = split
        self.top.setSizes([600, 0, 480])
        self.room_note = ElidedLabel()
        self.room_note.setObjectName("room_note")
        self.room_note.setStyleSheet(f"color: {style.MUTED}; padding: 1px 6px;")
        self.room_note.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.room_note)
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
        if self._minibatch_wanted and self.minibatch.surface is None:
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
        if not self.projection_note.isHidden():
            self.projection_note.show_projections({}, None)
            self.arrange()
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
        if self._minibatch_wanted:
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
        if self._minibatch_wanted:
            self.minibatch.show_paths(flat, upto)
        if self._beside_kind is not None:
            self.beside.show_paths({rid: p.flat for rid, p in beside.items()}, upto)
        # Each run reads its true loss against its own network's surface: the other network's from the beside view.
        own = {**projected, **beside} if self._beside_kind == "network" else projected
        noted = not self.projection_note.isHidden()
        self.projection_note.show_projections(own, upto, elsewhere)
        if noted != (not self.projection_note.isHidden()):
            self.arrange()          # the note takes some of the loss curve's pane

    def show_file_paths(self, paths) -> None:
        """The paths a surface file keeps on its plane (``surface_file``), drawn on the surface shown alone: in the
        contour at their plane coordinates, in 3-D on the surface (their loss is the surface's value)."""
        self._paths, self._upto = paths, None
        self.contour.show_paths(paths, None)
        self.surface3d.show_paths(paths, None)

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
        self._lecture = bool(on)
        self.arrange()

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
        self._static = bool(on)
        self.bottom.setVisible(not on)
        self.arrange()

    def set_minibatch_visible(self, on: bool) -> None:
        self._minibatch_wanted = bool(on)
        self.minibatch.setVisible(on)
        if on and self._experiment is not None and self.contour.surface is not None:
            # Until a step arrives to say which batch: the full surface, not an empty plot.
            self.set_minibatch_scene(self._experiment, self.contour.surface, "Mini-batch surface: no step yet")
        sizes = self.top.sizes()
        total = sum(sizes) or 1080
        self.top.setSizes([total * 4 // 10, total * 3 // 10, total * 3 // 10] if on
                          else [total * 55 // 100, 0, total * 45 // 100])
        self.arrange()

    # -- room ----------------------------------------------------------------------------------------------------
    def set_panel_shown(self, on: bool) -> None:
        """Whether the window's control panel is shown (the note then says that hiding it gives room)."""
        self._panel_shown = bool(on)
        self.room_note.setText(view_fit.note_text(self.hidden, self._panel_shown))

    def wanted(self) -> list[str]:
        """The views the window would show with room enough."""
        names = ["contour", "surface"] + (["minibatch"] if self._minibatch_wanted else [])
        return names + ([] if self._static else ["loss", "data"])

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.arrange()

    def arrange(self) -> None:
        """Hide the views that the room cannot show readably (and say so), show the others at least at their
        readable size. The layout has already given the splitters this widget's size when this runs."""
        wanted, mins = self.wanted(), self.minimums()
        note_h = self.room_note.sizeHint().height()
        hidden = view_fit.hidden_views(wanted, self.width(), self.height(), mins, note_h)
        for name, pane in self.panes.items():
            pane.setVisible(name in wanted and name not in hidden)
        self.bottom.setVisible(not self._static and any(n not in hidden for n in view_fit.BOTTOM))
        self.hidden = hidden
        self.room_note.setText(view_fit.note_text(hidden, self._panel_shown))
        self.room_note.setVisible(bool(hidden))
        height = self.height() - (note_h if hidden else 0)
        shown = [n for n in wanted if n not in hidden]
        self._share(self.top, view_fit.TOP, shown, mins, {"contour": 4, "minibatch": 3, "surface": 3})
        self._share(self.bottom, view_fit.BOTTOM, shown, mins, {"loss": 1, "data": 1})
        if self.bottom.isVisibleTo(self):
            self._split_rows(shown, height, mins)

    def minimums(self) -> dict:
        """Each view's least readable size now (lecture mode's text, the projections' note under the loss)."""
        note = self.projection_note
        # (Its height at the loss pane's width: a wrapping label's size hint is for a narrow, tall label.)
        lines = note.heightForWidth(max(self.width() // 2, 1)) if note.hasHeightForWidth() else -1
        extra = {"loss": lines if lines > 0 else note.sizeHint().height()} if not note.isHidden() else {}
        return view_fit.minimums(self._lecture, extra)

    def _split_rows(self, shown, height: int, mins: dict) -> None:
        """The rows' heights: by the splitter's stretch (3:2, lecture 1:1), but never a row under its readable
        height where the other can spare it (a short window's 3:2 left the loss curve ~30 px). Once there is room
        again the stretch's proportion comes back; a height the user dragged to stays while it is readable."""
        rows = [[n for n in row if n in shown] for row in (view_fit.TOP, view_fit.BOTTOM)]
        mins = [max(mins[n][1] for n in row) for row in rows]
        top_w, bottom_w = (1, 1) if self._lecture else (3, 2)
        room = height - view_fit.HANDLE
        proportional = room * bottom_w // (top_w + bottom_w)
        sizes = self.split.sizes()
        low = any(s < m for s, m in zip(sizes, mins))
        if sum(mins) > room or not (low or self._rows_forced):
            return
        bottom = max(mins[1], min(proportional, room - mins[0]))
        self._rows_forced = bottom != proportional
        if [room - bottom, bottom] != sizes:
            self.split.setSizes([room - bottom, bottom])

    def _share(self, splitter: QSplitter, row, shown, least: dict, weights: dict) -> None:
        """A row's views each at least at their readable width where some is under it (a user's wider choice
        stays)."""
        names = [n for n in row if n in shown]
        if not names:
            return
        mins = [least[n][0] for n in names]
        index = {n: splitter.indexOf(self.panes[n]) for n in names}
        sizes = splitter.sizes()
        if all(sizes[index[n]] >= m for n, m in zip(names, mins)) or sum(sizes) <= 0:
            return
        given = dict(zip(names, view_fit.shares(self.width(), mins, [weights[n] for n in names])))
        splitter.setSizes([given.get(n, 0) for n in row])
