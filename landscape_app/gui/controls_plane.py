"""The panel's "Plane" choice: which plane through parameter space the surface lies on.

A plane is a scene setting, never a training one: changing it recomputes the surface and keeps the runs. So it
is not part of the Experiment the rest of the panel edits; it goes out as its own signals. The linear models'
surface spans their parameters themselves (the "Surface" section's axes); a network's spans a random
filter-normalised plane through its start (Li et al. 2018), seeded, with a button for new directions.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from ..core.errors import ConfigError
from .controls_fields import NumberField
from .controls_sections import Section

PARAMETERS_TEXT = "the parameters themselves"
RANDOM_TEXT = "random, filter-normalised, through the start"


class PlaneSection(Section):
    seed_changed = Signal(int)          # a network's random plane with this seed
    new_directions = Signal()           # the next seed's directions

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Plane", parent)
        self.kind = QLabel(PARAMETERS_TEXT)
        self.kind.setObjectName("plane_kind")
        self.kind.setWordWrap(True)
        self.kind.setToolTip("The surface is the loss over a plane through parameter space. A network has too "
                             "many parameters for their own axes: its plane is random, each filter of its two "
                             "directions scaled to the norm of the same filter of the start (Li et al. 2018)")
        self._row("plane", self.kind)
        self.seed = NumberField("plane.seed", 0, integer=True, help="seed of the plane's random directions")
        self.seed.setObjectName("plane.seed")
        self.seed.edited.connect(self._seed_edited)
        self._row("plane seed", self.seed)
        self.button = QPushButton("New directions")
        self.button.setObjectName("new_directions_button")
        self.button.setToolTip("Draw two other random directions (the next seed); the runs go on")
        self.button.clicked.connect(self.new_directions)
        self._row("", self.button)
        self._seed = 0

    def show(self, exp) -> None:
        network = exp.is_module
        self.kind.setText(RANDOM_TEXT if network else PARAMETERS_TEXT)
        self._set_row_visible(self.seed, network)
        self._set_row_visible(self.button, network)

    def set_seed(self, seed: int) -> None:
        self._seed = int(seed)
        self.seed.set_value(self._seed)

    def values(self, exp) -> dict:
        return {}           # nothing of the Experiment: the plane is the scene's

    def _seed_edited(self) -> None:
        try:
            seed = int(self.seed.value())
        except ConfigError:     # not a whole number: the entry shows the seed in use again
            self.seed.set_value(self._seed)
            return
        if seed < 0:
            self.seed.set_value(self._seed)
            return
        if seed != self._seed:
            self._seed = seed
            self.seed_changed.emit(seed)
