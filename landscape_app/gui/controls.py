"""The control panel: every widget bound to one Experiment (the selected run of the session).

Each edit rebuilds the frozen Experiment with ``replace`` from all widget values. A valid result is emitted as
``experiment_changed``; a ``ConfigError``/``DataError`` is shown on the widget that caused it (red border,
tooltip, and the message under the panel, naming the field as the panel labels it) and
``validity_changed(False)`` keeps Play disabled until it is fixed. A CSV or model file that cannot be loaded
changes nothing: its message is shown, the button that loaded it is outlined until the user moves on to another
control, and the data or model already loaded stays in use.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QApplication, QFileDialog, QFormLayout, QInputDialog, QLabel, QScrollArea, QSizePolicy,
                               QVBoxLayout, QWidget)

from ..core.data import dataset_from_csv
from ..core.errors import ConfigError, DataError
from ..core.experiment import Experiment, Grid
from ..core.modelspec import UserCodeError, factory_names, is_file_spec
from .controls_fields import NumberField, mark
from .user_code import run_user_code
from .controls_messages import panel_message
from .controls_optimizer import OptimizerSection
from .controls_plane import PlaneSection
from .controls_model import ModelSection
from .controls_sections import DataSection, GridSection, Section, StartSection, TrainingSection
from .wheel_guard import WheelGuard

# A model's natural data and loss, used when the user switches model (so the switch is valid at once).
MODEL_DATA = {"linear": "linear", "logistic": "logistic", "plane": "plane", "mlp": "moons", "softmax": "digits",
              "cnn": "digits"}
# None: what the data's labels want (bce-logits for two classes, cross-entropy for digits).
MODEL_CRITERION = {"linear": "mse", "logistic": "bce", "plane": "mse", "mlp": None, "softmax": None, "cnn": None}
NETWORK_DATA = ("moons", "circles", "xor", "spirals", "digits")


class ControlPanel(QWidget):
    """Edits one Experiment. ``set_experiment`` shows one; ``experiment`` is the last valid one."""

    experiment_changed = Signal(object)      # a new, valid Experiment
    validity_changed = Signal(bool)
    csv_loaded = Signal(str)                 # a CSV path that was loaded (for the status bar)
    plane_changed = Signal(object)           # a network's PlaneSettings (a scene setting, not the Experiment's)

    def __init__(self, experiment: Experiment | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.data = DataSection()
        self.model = ModelSection()
        self.optimizer = OptimizerSection()
        self.training = TrainingSection()
        self.start = StartSection()
        self.grid = GridSection()
        self.plane = PlaneSection()
        self.sections = (self.data, self.model, self.optimizer, self.training, self.start, self.grid, self.plane)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setObjectName("error_label")
        self.error_label.setContentsMargins(6, 2, 6, 2)
        self.error_label.setStyleSheet("color: #ff6b6b; font-weight: bold;")
        self.error_label.hide()

        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(4, 4, 4, 4)
        for section in self.sections:
            column.addWidget(section)
            section.edited.connect(self._edited)
        self.plane.plane_changed.connect(self.plane_changed)
        column.addStretch(1)
        # The wheel scrolls the panel; a slider or list under the pointer changes only once clicked (focused).
        self.wheel_guard = WheelGuard(body)
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll = scroll
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.error_label)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        # Bold section titles (a stylesheet font does not spread to the fields inside).
        body.setStyleSheet("QGroupBox { font-weight: bold; }")
        self.data.load_csv_requested.connect(self.choose_csv)
        self.model.load_model_requested.connect(self.choose_model)

        self._experiment = experiment or Experiment()
        self._valid = True
        self._error: str = ""
        self._notice: str = ""
        self._marked: list[QWidget] = []
        self._notice_mark: QWidget | None = None     # the button whose file was not loaded
        QApplication.instance().focusChanged.connect(self._focus_moved)
        self.set_experiment(self._experiment)

    # -- the bound experiment ------------------------------------------------------------------------------
    @property
    def experiment(self) -> Experiment:
        return self._experiment

    @property
    def valid(self) -> bool:
        return self._valid

    @property
    def error(self) -> str:
        """The message of the field that keeps Play disabled ("" when every field is valid)."""
        return self._error

    @property
    def notice(self) -> str:
        """A message that changes nothing (a CSV file that could not be loaded); "" when there is none."""
        return self._notice

    def set_experiment(self, exp: Experiment) -> None:
        """Show ``exp`` in every widget (no signals), clearing any error marks."""
        self._experiment = exp
        for section in self.sections:
            section.blockSignals(True)
            section.show(exp)
            section.blockSignals(False)
        self._set_notice("")
        self._set_error(None)

    def commit(self) -> None:
        """Apply whatever is still being typed in an entry (before Play or Step, whose buttons take no focus)."""
        for field in self.findChildren(NumberField):
            field.finish()

    def fields(self) -> dict[str, list[QWidget]]:
        """Field name -> the widgets that edit it (every section's)."""
        out: dict[str, list[QWidget]] = {}
        for section in self.sections:
            own = section.all_fields if hasattr(section, "all_fields") else section.fields
            for key, widgets in own.items():
                out.setdefault(key, []).extend(widgets)
        return out

    def load_csv(self, path: str) -> None:
        """Use the data in ``path``. A file that cannot be used (``DataError``/``ConfigError``, re-raised for the
        caller) changes nothing: its message is shown under the panel and the current data stays in use."""
        try:
            data = dataset_from_csv(path)
            exp = self._experiment
            if data.n_features == 2 and exp.model != "plane":
                exp = exp.replace(model="plane", data=data, criterion="mse", criterion_options={}, start=None,
                                  grid=Grid())
            elif data.n_features == 1 and exp.model == "plane":
                exp = exp.replace(model="linear", data=data, criterion="mse", criterion_options={}, start=None,
                                  grid=Grid())
            else:
                exp = exp.replace(data=data)
        except (ConfigError, DataError) as exc:
            # A file's own message names the file, line and column; the panel's labels have no part in it.
            message = str(exc) if isinstance(exc, DataError) else self._message(exc)
            self._set_notice(f"Not loaded: {message}. Still using {self.data.dataset.currentText()}.",
                             self.data.csv_button)
            raise
        self.set_experiment(exp)
        self.experiment_changed.emit(exp)
        self.csv_loaded.emit(str(path))

    def show_plane(self, settings) -> None:
        """Show the plane in force; a plane fitted to the runs' paths (PCA, three points) spans them, so the
        Surface section's alpha and beta ranges do not apply to it and say so."""
        self.plane.set_settings(settings)
        self.grid.set_fitted_span(settings.needs_finished_runs and self.plane.network)

    def load_model(self, path: str, function: str | None = None) -> None:
        """Use the network that ``function`` in the Python file ``path`` returns (by default ``make_model``, else
        the file's first function), on the data in use when it fits them, else on data it fits (digits for a
        model of 64 inputs). A file or model that cannot be used changes nothing: its message is shown (a failure
        in the file's own code names its file and line) and the ``ConfigError`` re-raised for the caller.

        The file is imported and the model built off the GUI thread (``user_code``): a file that loops while
        importing is refused after a time limit, or on Cancel, with the window alive meanwhile."""
        try:
            names = factory_names(path)
            if function is None:
                function = "make_model" if "make_model" in names else names[0]
            elif function not in names:
                raise ConfigError("model", f"{path} has no function {function!r} (it has {', '.join(names)})")
            exp, spec = self._experiment, f"{path}:{function}"
            changes = self._follow_model(exp, {"model": spec})
            new = run_user_code(lambda: _with_model(exp, changes), Path(path).name, self.window())
        except ConfigError as exc:
            message = str(exc)[len(exc.field) + 2:] if exc.field == "model" else self._message(exc)
            self._set_notice(f"Not loaded: {message}. Still using {self.model.model.currentText()}.",
                             self.model.file_button)
            raise
        self.set_experiment(new)
        self.experiment_changed.emit(new)

    def choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load model", "", "Python files (*.py);;All files (*)")
        if not path:
            return
        try:
            names = factory_names(path)
        except ConfigError as exc:
            self._set_notice(f"Not loaded: {str(exc)[len(exc.field) + 2:]}.", self.model.file_button)
            return
        function = names[0]
        if len(names) > 1:
            function, ok = QInputDialog.getItem(
                self, "Load model", "The function that returns the model:", names,
                names.index("make_model") if "make_model" in names else 0, False)
            if not ok:
                return
        try:
            self.load_model(path, function)
        except ConfigError:
            pass   # already shown in place

    def choose_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load CSV data", "", "CSV files (*.csv);;All files (*)")
        if path:
            try:
                self.load_csv(path)
            except (ConfigError, DataError):
                pass   # already shown in place

    # -- editing --------------------------------------------------------------------------------------------
    def _edited(self) -> None:
        self._set_notice("")
        exp = self._experiment
        try:
            changes: dict = {}
            for section in (self.model, self.data, self.optimizer, self.training, self.start, self.grid):
                changes.update(section.values(exp))
            changes = self._follow_model(exp, changes)
            new = exp.replace(**changes)
        except (ConfigError, DataError) as exc:
            self._show_error(exc)
            return
        if new == exp:
            new = exp            # the very same object: nothing changed
        self._experiment = new
        # Sections whose content depends on other fields (start entries, axes, knobs) are shown anew.
        for section in self.sections:
            section.blockSignals(True)
            section.show(new)
            section.blockSignals(False)
        self._set_error(None)
        if new is not exp:    # choosing what is already chosen (the same CSV, the same value) restarts nothing
            self.experiment_changed.emit(new)

    def _follow_model(self, exp: Experiment, changes: dict) -> dict:
        """A new model brings its natural data, loss, start point and grid, so the switch is valid at once."""
        model = changes.get("model", exp.model)
        if model == exp.model:
            if exp.is_module and changes.get("data", exp.data) is not exp.data:
                # Other data for a network: its loss follows the labels (cross-entropy for digits), and its
                # layers the inputs (a fresh start for the new shapes).
                changes.update(criterion=None, criterion_options={}, start=None)
            return changes
        from ..core.data import make_dataset
        data = changes.get("data", exp.data)
        name = data.source.name if data.source.kind == "generator" else None
        network = model not in MODEL_CRITERION or MODEL_CRITERION[model] is None
        keeps = (name == "digits") == (model in ("softmax", "cnn")) or model == "softmax" or is_file_spec(model)
        if not (network and name in NETWORK_DATA and keeps):
            data = make_dataset(MODEL_DATA.get(model, "moons"))
        changes.update(data=data, criterion=MODEL_CRITERION.get(model), criterion_options={}, start=None, grid=Grid())
        changes.pop("model_options", None)
        if exp.is_module or network:
            changes["model_options"] = {}
        return changes

    def _field_of(self, exc: Exception) -> str:
        return exc.field if isinstance(exc, ConfigError) else self.data.field_for_data_error(str(exc))

    def _message(self, exc: Exception) -> str:
        """``exc``'s message with the field named as the panel labels it ("samples must be ...")."""
        field = self._field_of(exc)
        if isinstance(exc, ConfigError):
            return panel_message(field, str(exc)[len(exc.field) + 2:], self.label_for(field))
        return panel_message(field, str(exc), self.label_for(field), data=True)

    def label_for(self, field: str) -> str:
        """The panel's label of the row that edits ``field`` ("" when no row does)."""
        for widget in self._widgets_for(field):
            child, parent = widget, widget.parentWidget()
            while parent is not None and parent is not self:
                layout = parent.layout()
                if isinstance(layout, QFormLayout):
                    label = layout.labelForField(child)
                    if isinstance(label, QLabel) and label.text():
                        section = parent if isinstance(parent, Section) else None
                        prefix = section.label_prefix if section is not None else ""
                        return prefix + label.text()
                child, parent = parent, parent.parentWidget()
        return ""

    def _show_error(self, exc: Exception) -> None:
        self._set_error((self._field_of(exc), self._message(exc)))

    def _set_notice(self, text: str, source: QWidget | None = None) -> None:
        """Show ``text`` under the panel and outline ``source``, the button whose file was not loaded."""
        self._notice = text
        if self._notice_mark is not None:
            mark(self._notice_mark, None)
        self._notice_mark = source if text else None
        if self._notice_mark is not None:
            mark(self._notice_mark, text)
        self._show_message()

    def _focus_moved(self, old: QWidget | None, new: QWidget | None) -> None:
        """The outline points at the button that failed until the user moves on to another control in the window;
        the message under the panel stays until the next edit or load. A dialog closing (the file dialog) or the
        window being activated again is no move."""
        button = self._notice_mark
        if button is None or old is None or new is None or new is button:
            return
        if old.window() is not self.window() or new.window() is not self.window():
            return
        mark(button, None)
        self._notice_mark = None

    def _show_message(self) -> None:
        text = self._error or self._notice
        self.error_label.setText(f"⚠ {text}" if text else "")
        self.error_label.setVisible(bool(text))

    def _set_error(self, error: tuple[str, str] | None) -> None:
        for w in self._marked:
            mark(w, None)
        self._marked = []
        if error is None:
            self._error = ""
        else:
            field, message = error
            widgets = self._widgets_for(field)
            for w in widgets:
                mark(w, message)
            self._marked = widgets
            self._error = message
        self._show_message()
        valid = error is None
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)

    def _widgets_for(self, field: str) -> list[QWidget]:
        fields = self.fields()
        key = field
        while key:
            if key in fields:
                return fields[key]
            key = key.rpartition(".")[0]
        return []


def _with_model(exp: Experiment, changes: dict) -> Experiment:
    """``exp`` with the model of ``changes``: on the data in use, else on the first built-in data it fits (a digits
    CNN while moons are loaded). Runs in the import's thread (``user_code``): plain values only, no widget."""
    try:
        return exp.replace(**changes)
    except UserCodeError:
        raise
    except ConfigError as first:
        from ..core.data import make_dataset
        for name in ("digits", "moons"):
            try:
                return exp.replace(**{**changes, "data": make_dataset(name)})
            except UserCodeError:
                raise
            except ConfigError:
                continue
        raise first
