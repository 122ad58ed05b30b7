"""The control panel's sections. Each shows part of an Experiment and turns its widgets back into fields.

A section offers ``show(exp)`` (fill the widgets, signals blocked), ``values(exp)`` (the Experiment fields it
owns, raising ``ConfigError``/``DataError`` for text that is not a number or a dataset that cannot be made),
``fields`` (field name -> widgets, so an error can be shown on the widget that caused it) and ``edited``.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QWidget

from ..core.data import GENERATORS, make_dataset
from ..core.errors import ConfigError
from ..core.experiment import DEFAULT_AXES, MAX_RESOLUTION, Grid
from .controls_fields import NumberField

DATASET_LABELS = {"linear": "Line with noise", "linear-outliers": "Line with outliers",
                  "logistic": "Two classes (0/1 labels)", "plane": "Plane (two inputs x1, x2)",
                  "moons": "Moons (2-D classes)", "circles": "Circles (2-D classes)", "xor": "XOR (2-D classes)",
                  "spirals": "Spirals (2-D classes)", "digits": "Digits (8x8 images, 10 classes)"}
# The networks beside the closed-form models (their data and loss follow: see ControlPanel._follow_model).
NETWORK_LABELS = {"mlp": "MLP (neural network)", "softmax": "Softmax (one linear layer)",
                  "cnn": "CNN (small, for images)"}
ACTIVATIONS = ("tanh", "relu", "sigmoid", "gelu", "elu", "leaky-relu")
# The knobs shown for each generator (the rest keep their values from the session or the defaults).
SHOWN_KNOBS = {"n_samples": ("samples", True), "noise": ("noise", False),
               "outlier_fraction": ("outliers (fraction)", False), "overlap": ("class overlap", False)}


class Section(QGroupBox):
    edited = Signal()
    label_prefix = ""        # what a message puts before a row's label, where the label alone is not enough

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(title, parent)
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, list[QWidget]] = {}

    def _register(self, field: str, widget: QWidget) -> QWidget:
        self.fields.setdefault(field, []).append(widget)
        widget.setObjectName(field)
        for signal in ("edited", "currentIndexChanged", "toggled"):
            if hasattr(widget, signal) and not isinstance(widget, QPushButton):
                getattr(widget, signal).connect(self.edited)
                break
        return widget

    def _row(self, label: str, widget: QWidget) -> None:
        self.form.addRow(label, widget)

    def _set_row_visible(self, widget: QWidget, visible: bool) -> None:
        self.form.setRowVisible(widget, visible)


def _combo(items: dict[str, str]) -> QComboBox:
    combo = QComboBox()
    for key, label in items.items():
        combo.addItem(label, key)
    return combo


def _select(combo: QComboBox, key) -> None:
    combo.blockSignals(True)
    index = combo.findData(key)
    combo.setCurrentIndex(max(index, 0))
    combo.blockSignals(False)


class DataSection(Section):
    """Which data: a generator with its knobs, or a CSV file."""

    load_csv_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Data", parent)
        self.dataset = self._register("data", _combo(DATASET_LABELS))
        self.dataset.setToolTip("The samples the model is fitted to")
        # Choosing the item already shown (the CSV in use, after a file that could not be loaded) counts too.
        self.dataset.activated.connect(self.edited)
        self._row("dataset", self.dataset)
        self.knobs: dict[str, NumberField] = {}
        for key, (label, integer) in SHOWN_KNOBS.items():
            self.knobs[key] = self._register(f"data.{key}", NumberField(f"data.{key}", 0, integer=integer))
            self._row(label, self.knobs[key])
        self.knobs["seed"] = self._register("data.seed", NumberField("data.seed", 0, integer=True,
                                                                      help="seed of the data's random noise"))
        self._row("data seed", self.knobs["seed"])
        self.csv_button = QPushButton("Load CSV…")
        self.csv_button.setProperty("help", "Columns x,y (or x1,x2,y for the plane model); a header row is optional")
        self.csv_button.setToolTip(self.csv_button.property("help"))
        self.csv_button.clicked.connect(self.load_csv_requested)
        self._row("", self.csv_button)
        self._csv_data = None

    def show(self, exp) -> None:
        src = exp.data.source
        if src.kind == "generator":
            if self.dataset.findData("csv") >= 0:
                self.dataset.removeItem(self.dataset.findData("csv"))
            _select(self.dataset, src.name)
            params = dict(src.params)
        else:
            name = src.path.replace("\\", "/").rsplit("/", 1)[-1] if src.kind == "csv" else "your arrays"
            if self.dataset.findData("csv") < 0:
                self.dataset.addItem("", "csv")
            self.dataset.setItemText(self.dataset.findData("csv"), f"CSV: {name}" if src.kind == "csv" else name)
            _select(self.dataset, "csv")
            self._csv_data = exp.data
            params = {}
        name = src.name if src.kind == "generator" else None
        for key, field in self.knobs.items():
            shown = name is not None and (key == "seed" or key in GENERATORS[name][1])
            self._set_row_visible(field, shown)
            if shown:
                field.set_value(params.get(key, GENERATORS[name][1].get(key, 0)))

    def values(self, exp) -> dict:
        name = self.dataset.currentData()
        if name == "csv":
            return {"data": self._csv_data if self._csv_data is not None else exp.data}
        src = exp.data.source
        knobs = dict(src.params) if src.kind == "generator" and src.name == name else {}
        allowed = set(GENERATORS[name][1]) | {"seed"}
        knobs = {k: v for k, v in knobs.items() if k in allowed}
        for key, field in self.knobs.items():
            if key in allowed and self.form.isRowVisible(field):
                knobs[key] = field.value()
        if src.kind == "generator" and src.name == name and knobs == dict(src.params):
            return {"data": exp.data}          # unchanged: keep the very same dataset object
        return {"data": make_dataset(name, **knobs)}

    def field_for_data_error(self, message: str) -> str:
        for key in self.knobs:
            if key in message:
                return f"data.{key}"
        return "data"


BATCH_MODES = {"full": "Full batch", "mini": "Mini-batch", "one": "Stochastic (1 sample)"}


class TrainingSection(Section):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Training", parent)
        self.mode = self._register("batch_mode", _combo(BATCH_MODES))
        self.mode.setToolTip("How many samples each update sees")
        self._row("batches", self.mode)
        self.batch_size = self._register("batch_size", NumberField("batch_size", 10, integer=True))
        self._row("batch size", self.batch_size)
        self.shuffle = self._register("shuffle", QCheckBox("reshuffle every epoch"))
        self._row("shuffle", self.shuffle)
        self.seed = self._register("seed", NumberField("seed", 0, integer=True, help="seed of the shuffling"))
        self._row("shuffle seed", self.seed)
        self.epochs = self._register("epochs", NumberField("epochs", 20, integer=True))
        self._row("epochs", self.epochs)

    def show(self, exp) -> None:
        mode = "full" if exp.batch_size is None else "one" if exp.batch_size == 1 else "mini"
        _select(self.mode, mode)
        self.batch_size.set_value(exp.batch_size or min(10, max(1, len(exp.data) // 4)))
        self.shuffle.blockSignals(True)
        self.shuffle.setChecked(exp.shuffle)
        self.shuffle.blockSignals(False)
        self.seed.set_value(exp.seed)
        self.epochs.set_value(exp.epochs)
        self._visibility()

    def _visibility(self) -> None:
        mode = self.mode.currentData()
        self._set_row_visible(self.batch_size, mode == "mini")
        self._set_row_visible(self.shuffle, mode != "full")
        self._set_row_visible(self.seed, mode != "full" and self.shuffle.isChecked())

    def values(self, exp) -> dict:
        self._visibility()
        mode = self.mode.currentData()
        batch = None if mode == "full" else 1 if mode == "one" else self.batch_size.value()
        return {"batch_size": batch, "shuffle": self.shuffle.isChecked(), "seed": self.seed.value(),
                "epochs": self.epochs.value()}


class StartSection(Section):
    """The start point: one entry per parameter (clicking the contour sets it too)."""

    label_prefix = "start "

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Start point", parent)
        self.hint = QLabel("or click on the contour")
        self.hint.setProperty("role", "hint")
        self.entries: dict[str, NumberField] = {}
        self._names: tuple[str, ...] = ()

    def show(self, exp) -> None:
        # A network starts at its seeded initialisation (the training seed): hundreds of entries help no one.
        self.setVisible(not exp.is_module)
        if exp.is_module:
            return
        if exp.param_names != self._names:
            while self.form.rowCount():
                self.form.removeRow(0)
            self.fields = {}
            self.entries = {}
            self.hint = QLabel("or click on the contour")
            self.hint.setProperty("role", "hint")
            for name in exp.param_names:
                self.entries[name] = self._register(f"start.{name}", NumberField(f"start.{name}", 0.0))
                self._row(name, self.entries[name])
            self.form.addRow(self.hint)
            self.fields["start"] = list(self.entries.values())
            self._names = exp.param_names
        for name, value in zip(exp.param_names, exp.start):
            self.entries[name].set_value(value)

    def values(self, exp) -> dict:
        if exp.is_module or exp.param_names != self._names:
            return {}
        return {"start": tuple(self.entries[n].value() for n in self._names)}


FITTED_SPAN_TIP = ("The plane is fitted to the runs' paths (PCA, three points): its surface spans the paths, "
                   "whatever these ranges say")


class GridSection(Section):
    """The surface's window: the two parameters it spans, their ranges, the resolution."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Surface", parent)
        self.axes = self._register("grid.axes", QComboBox())
        self.axes.setToolTip("The two parameters the surface spans; the third is held at the selected run's "
                             "current value, so the slice follows the training")
        self._row("spans", self.axes)
        self.ranges = []
        for key in ("grid.x_range", "grid.y_range"):
            lo, hi = NumberField(key, 0.0), NumberField(key, 1.0)
            self._register(key, lo)
            self._register(key, hi)
            row = QWidget()
            layout = QHBoxLayout(row)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(lo)
            layout.addWidget(QLabel("to"))
            layout.addWidget(hi)
            self.ranges.append((lo, hi, row))
            self._row(key, row)
        self.resolution = self._register("grid.resolution", NumberField(
            "grid.resolution", 201, integer=True, help="grid points along each axis"))
        self._row("resolution", self.resolution)
        self._model = None

    def show(self, exp) -> None:
        g = exp.grid
        if exp.is_module:
            # A network's surface lies on a plane (see PlaneSection); its window is in the plane's units.
            self._set_row_visible(self.axes, False)
            for (lo, hi, row), rng, axis in zip(self.ranges, (g.x_range, g.y_range), ("α", "β")):
                lo.set_value(rng[0])
                hi.set_value(rng[1])
                self.form.labelForField(row).setText(f"{axis} range")
            self.resolution.set_value(g.resolution[0])
            self._model = exp.model
            return
        if exp.model != self._model:
            self.axes.blockSignals(True)
            self.axes.clear()
            names = exp.param_names
            pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
            for pair in pairs:
                held = [n for n in names if n not in pair]
                self.axes.addItem(f"{pair[0]}, {pair[1]}" + (f"  ({held[0]} held)" if held else ""), ",".join(pair))
            self.axes.blockSignals(False)
            self._model = exp.model
        _select(self.axes, ",".join(g.axes))
        self._set_row_visible(self.axes, len(exp.param_names) > 2)
        for (lo, hi, row), rng, axis in zip(self.ranges, (g.x_range, g.y_range), g.axes):
            lo.set_value(rng[0])
            hi.set_value(rng[1])
            self.form.labelForField(row).setText(f"{axis} range")
        self.resolution.set_value(g.resolution[0])

    def set_fitted_span(self, fitted: bool) -> None:
        """A plane fitted to the runs' paths draws over their span: the ranges are greyed out, and say why."""
        for _lo, _hi, row in self.ranges:
            row.setEnabled(not fitted)
            row.setToolTip(FITTED_SPAN_TIP if fitted else "")

    def values(self, exp) -> dict:
        if exp.is_module:
            (xlo, xhi, _), (ylo, yhi, _) = self.ranges
            res = self.resolution.value()
            if not 2 <= res <= MAX_RESOLUTION:
                raise ConfigError("grid.resolution", f"must be a whole number from 2 to {MAX_RESOLUTION}, not {res}")
            return {"grid": Grid((xlo.value(), xhi.value()), (ylo.value(), yhi.value()), (res, res))}
        data = self.axes.currentData()
        axes = tuple(data.split(",")) if data else DEFAULT_AXES[exp.model]
        (xlo, xhi, _), (ylo, yhi, _) = self.ranges
        res = self.resolution.value()
        if not 2 <= res <= MAX_RESOLUTION:     # one entry here, a pair in the API: say it for the entry
            raise ConfigError("grid.resolution", f"must be a whole number from 2 to {MAX_RESOLUTION}, not {res}")
        if tuple(axes) != tuple(exp.grid.axes):
            # Other axes: their own default window.
            return {"grid": Grid(axes=tuple(axes), resolution=(res, res) if isinstance(res, int) else res)}
        return {"grid": Grid((xlo.value(), xhi.value()), (ylo.value(), yhi.value()), (res, res), tuple(axes),
                             exp.grid.held)}

