"""The panel's "Plane" choice: which plane through parameter space the surface lies on.

A plane is a scene setting, never a training one: changing it recomputes the surface and keeps the runs. So it
is not part of the Experiment the rest of the panel edits; it goes out as its own signal (``plane_changed``, a
``PlaneSettings``). The linear models' surface spans their parameters themselves (the "Surface" section's axes); a
network's lies on a plane chosen here: random (seeded, filter-, layer- or not normalised, Li et al. 2018), the PCA
of the finished runs' paths, the Hessian's top two eigenvectors (at the start or at the shown step), or the plane
through the start and two runs' ends (Garipov et al. 2018). Beside a plane of another kind, the random slice
through the start may be shown too (*beside*), with the seed and normalisation rows of a random plane.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from ..core.errors import ConfigError
from ..core.plane_settings import PlaneSettings
from ..core.session import MAX_RUNS
from .controls_fields import NumberField
from .controls_sections import Section, _combo, _select

PARAMETERS_TEXT = "the parameters themselves"
KIND_LABELS = {"random": "random, through the start", "pca": "the runs' own paths (PCA)",
               "hessian": "Hessian's top two eigenvectors", "through": "start and two runs' ends"}
KIND_TIPS = {"random": "Two random directions, each filter scaled to the norm of the same filter of the start "
                       "(Li et al. 2018); the race animates on it live, though random directions hold almost "
                       "none of a path: the paths stay near the start",
             "pca": "A network's default: the first two principal directions of every run's whole path (Li et al. "
                    "2018), the plane that holds most of their motion. The runs train ahead to their end (seconds "
                    "for small networks), the plane is fitted, then the race replays on it",
             "hessian": "The two eigenvectors of the full-data Hessian largest in eigenvalue magnitude: the "
                        "sharpest directions, at the start (live) or at the shown run's shown step",
             "through": "The plane through the start and the ends of two runs (Garipov et al. 2018): the runs "
                        "are trained to their end first, then the race replays on it"}
NORMALIZATION_LABELS = {"filter": "filter (Li et al.)", "layer": "layer", "none": "none (raw Gaussian)"}
AT_LABELS = {"start": "the start", "current": "the shown step"}
BESIDE_LABELS = {"none": "nothing", "random": "random slice through the start"}


class PlaneSection(Section):
    plane_changed = Signal(object)      # PlaneSettings: a network's plane (a scene edit: the runs go on)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Plane", parent)
        self.kind = QLabel(PARAMETERS_TEXT)
        self.kind.setObjectName("plane_kind")
        self.kind.setWordWrap(True)
        self.kind.setToolTip("The surface is the loss over a plane through parameter space; a linear model's "
                             "plane is that of two of its parameters (the Surface section's axes)")
        self._row("plane", self.kind)
        self.choice = _combo(KIND_LABELS)
        self.choice.setObjectName("plane.kind")
        for i, key in enumerate(KIND_LABELS):
            self.choice.setItemData(i, KIND_TIPS[key], 3)          # 3: Qt.ToolTipRole
        self.choice.setToolTip("Which plane through the network's parameters the surface lies on")
        self.choice.currentIndexChanged.connect(self._changed)
        self._row("plane", self.choice)
        self.beside = _combo(BESIDE_LABELS)
        self.beside.setObjectName("plane.beside")
        self.beside.setToolTip("Beside the main surface: the random slice through the start (its seed and "
                               "normalisation below), with the runs' projections on it; a random slice holds "
                               "almost nothing of a trajectory, so there the runs stay near the start")
        self.beside.currentIndexChanged.connect(self._changed)
        self._row("beside", self.beside)
        self.normalization = _combo(NORMALIZATION_LABELS)
        self.normalization.setObjectName("plane.normalization")
        self.normalization.setToolTip("How each random direction is scaled: per filter (each output unit) to the "
                                      "start's filter norm, per layer, or not at all. Without it, a layer with "
                                      "large weights barely changes along the direction and one with small "
                                      "weights changes wildly, so sharpness compares scales, not minima")
        self.normalization.currentIndexChanged.connect(self._changed)
        self._row("normalisation", self.normalization)
        self.seed = NumberField("plane.seed", 0, integer=True, help="seed of the plane's random directions")
        self.seed.setObjectName("plane.seed")
        self.seed.edited.connect(self._seed_edited)
        self._row("plane seed", self.seed)
        self.button = QPushButton("New directions")
        self.button.setObjectName("new_directions_button")
        self.button.setToolTip("Draw two other random directions (the next seed); the runs go on")
        self.button.clicked.connect(self._new_directions)
        self._row("", self.button)
        self.at = _combo(AT_LABELS)
        self.at.setObjectName("plane.at")
        self.at.setToolTip("Where the Hessian is taken: at the start (a fixed plane, animated live) or at the "
                           "selected run's shown step (press 'Here' after moving the timeline)")
        self.at.currentIndexChanged.connect(self._changed)
        self.here = QPushButton("Here")
        self.here.setObjectName("plane.here")
        self.here.setToolTip("Compute the Hessian's plane again at the selected run's shown step")
        self.here.clicked.connect(self._changed)
        at_row = QWidget()
        at_layout = QHBoxLayout(at_row)
        at_layout.setContentsMargins(0, 0, 0, 0)
        at_layout.addWidget(self.at, 1)
        at_layout.addWidget(self.here)
        self.at_row = at_row
        self._row("at", at_row)
        self.points = (QSpinBox(), QSpinBox())
        points_row = QWidget()
        points_layout = QHBoxLayout(points_row)
        points_layout.setContentsMargins(0, 0, 0, 0)
        for i, box in enumerate(self.points):
            box.setRange(1, MAX_RUNS)
            box.setValue(i + 1)
            box.setObjectName(f"plane.points.{i + 1}")
            box.setToolTip("The runs whose ends the plane goes through (numbered as in the runs list)")
            box.valueChanged.connect(self._changed)
            points_layout.addWidget(QLabel("run" if i == 0 else "and run"))
            points_layout.addWidget(box)
        points_layout.addStretch(1)
        self.points_row = points_row
        self._row("ends of", points_row)
        self._settings = PlaneSettings()
        self._network = False
        self._update_rows()

    @property
    def settings(self) -> PlaneSettings:
        return self._settings

    @property
    def network(self) -> bool:
        """Whether the experiment shown is a network's (a linear model's surface spans its parameters: no plane)."""
        return self._network

    def show(self, exp) -> None:
        self._network = exp.is_module
        self._update_rows()

    def set_settings(self, settings: PlaneSettings) -> None:
        """Show the plane in force (signals blocked: showing is not editing)."""
        if settings == self._settings:
            return          # shown already (every scene change asks)
        self._settings = settings
        _select(self.choice, settings.kind)
        _select(self.beside, settings.beside)
        _select(self.normalization, settings.normalization)
        _select(self.at, settings.at)
        self.seed.set_value(settings.seed)
        for box, value in zip(self.points, settings.points):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self._update_rows()

    def values(self, exp) -> dict:
        return {}           # nothing of the Experiment: the plane is the scene's

    def _update_rows(self) -> None:
        network, kind = self._network, self._settings.kind
        random = kind == "random" or self._settings.random_beside      # a random plane's rows: main or beside
        self._set_row_visible(self.kind, not network)
        self._set_row_visible(self.choice, network)
        for widget, shown in ((self.beside, kind != "random"), (self.normalization, random), (self.seed, random),
                              (self.button, random), (self.at_row, kind == "hessian"),
                              (self.points_row, kind == "through")):
            self._set_row_visible(widget, network and shown)
        self.here.setVisible(self._settings.at == "current")

    def _changed(self, *args) -> None:
        points = tuple(box.value() for box in self.points)
        if points[0] == points[1]:          # one run twice spans no plane: the other box moves on
            other = self.points[1] if self.sender() is self.points[0] else self.points[0]
            other.blockSignals(True)
            other.setValue(points[0] % MAX_RUNS + 1)
            other.blockSignals(False)
            points = tuple(box.value() for box in self.points)
        kind = self.choice.currentData()
        # A random plane is the slice itself: nothing random beside it.
        beside = "none" if kind == "random" else self.beside.currentData()
        settings = self._settings.replace(kind=kind, normalization=self.normalization.currentData(),
                                          at=self.at.currentData(), points=points, beside=beside)
        _select(self.beside, beside)
        self._emit(settings)

    def _emit(self, settings: PlaneSettings) -> None:
        self._settings = settings
        self._update_rows()
        self.plane_changed.emit(settings)

    def _new_directions(self) -> None:
        self.set_settings(self._settings.replace(seed=self._settings.seed + 1))
        self.plane_changed.emit(self._settings)

    def _seed_edited(self) -> None:
        try:
            seed = int(self.seed.value())
        except ConfigError:     # not a whole number: the entry shows the seed in use again
            self.seed.set_value(self._settings.seed)
            return
        if seed < 0:
            self.seed.set_value(self._settings.seed)
            return
        if seed != self._settings.seed:
            self._emit(self._settings.replace(seed=seed))
