"""The control panel's model section: the model (a closed-form one, a network, or a user's file), an MLP's layers,
a run's own BatchNorm and dropout, and the loss."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QLineEdit, QPushButton, QWidget

from ..core.errors import ConfigError
from ..core.models import CRITERION_LABELS, MODEL_LABELS
from .controls_fields import NumberField
from .controls_sections import ACTIVATIONS, NETWORK_LABELS, Section, _combo, _select


class ModelSection(Section):
    load_model_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Model and loss", parent)
        self.model = self._register("model", _combo({**MODEL_LABELS, **NETWORK_LABELS}))
        self._row("model", self.model)
        self.file_button = QPushButton("Load model…")
        self.file_button.setObjectName("load_model_button")
        # "help": the tooltip that comes back once a failed load's mark clears (see controls_fields.mark).
        self.file_button.setProperty("help", "A network of your own: a Python file with a function that returns "
                                             "the nn.Module (it runs the file's code, as any script would)")
        self.file_button.setToolTip(self.file_button.property("help"))
        self.file_button.clicked.connect(self.load_model_requested)
        self._row("", self.file_button)
        # An MLP's layers: hidden widths as "16, 16" (applied on Enter or leaving the entry) and the activation.
        self.hidden = QLineEdit()
        self.hidden.setObjectName("model_options.hidden")
        self.hidden.setProperty("help", "widths of the hidden layers, comma-separated (e.g. 16, 16)")
        self.hidden.setToolTip(self.hidden.property("help"))
        self.hidden.editingFinished.connect(self._hidden_finished)
        self.fields.setdefault("model_options.hidden", []).append(self.hidden)
        self.fields.setdefault("model_options", []).append(self.hidden)
        self._row("hidden layers", self.hidden)
        self.activation = self._register("model_options.activation", _combo({a: a for a in ACTIVATIONS}))
        self._row("activation", self.activation)
        # A run's own: in a race the other runs keep theirs (their paths share the plane where BatchNorm learns
        # no scale and shift, see Session).
        self.batchnorm = self._register("model_options.batchnorm", QCheckBox("this run only"))
        self.batchnorm.setToolTip("BatchNorm after each hidden layer, for the selected run only (the other runs "
                                  "keep theirs)")
        self._row("BatchNorm", self.batchnorm)
        self.dropout = self._register("model_options.dropout", NumberField(
            "model_options.dropout", 0.0, help="Dropout after each hidden layer, for the selected run only: the "
            "probability of zeroing a unit while training (0: none; surfaces are evaluated without it)"))
        self._row("dropout", self.dropout)
        self._hidden_shown = ""
        self.criterion = self._register("criterion", _combo(CRITERION_LABELS))
        self.criterion.setToolTip("The loss the optimizer minimises; the contour shows the selected run's loss")
        self._row("loss", self.criterion)
        self.delta = self._register("criterion_options.delta", NumberField(
            "criterion_options.delta", 1.0, help="Huber: quadratic within ±delta, linear beyond"))
        self._row("huber delta", self.delta)

    def _hidden_finished(self) -> None:
        if self.hidden.text() != self._hidden_shown:
            self.edited.emit()

    def show(self, exp) -> None:
        if isinstance(exp.model, str) and self.model.findData(exp.model) < 0:
            self.model.addItem(exp.model.replace("\\", "/").rsplit("/", 1)[-1], exp.model)   # a user's file
        _select(self.model, exp.model)
        _select(self.criterion, exp.criterion)
        mlp = exp.model == "mlp"
        self._set_row_visible(self.hidden, mlp)
        self._set_row_visible(self.activation, mlp)
        normed = exp.model in ("mlp", "cnn")
        self._set_row_visible(self.batchnorm, normed)
        if normed:
            self.batchnorm.blockSignals(True)
            self.batchnorm.setChecked(bool(exp.model_options.get("batchnorm", False)))
            self.batchnorm.blockSignals(False)
        self._set_row_visible(self.dropout, mlp)
        if mlp:
            self.dropout.set_value(float(exp.model_options.get("dropout", 0.0)))
            self._hidden_shown = ", ".join(str(w) for w in exp.model_options.get("hidden", ()))
            self.hidden.setText(self._hidden_shown)
            _select(self.activation, exp.model_options.get("activation", "tanh"))
        self._set_row_visible(self.delta, exp.criterion == "huber")
        if exp.criterion == "huber":
            self.delta.set_value(exp.criterion_options.get("delta", 1.0))

    def values(self, exp) -> dict:
        criterion = self.criterion.currentData()
        self._set_row_visible(self.delta, criterion == "huber")
        options = {"delta": self.delta.value()} if criterion == "huber" else {}
        out = {"model": self.model.currentData(), "criterion": criterion, "criterion_options": options}
        if out["model"] == "mlp" and exp.model == "mlp":
            text = self.hidden.text().replace(";", ",")
            try:
                hidden = tuple(int(part) for part in text.split(",") if part.strip())
            except ValueError:
                raise ConfigError("model_options.hidden", f"must be whole numbers separated by commas, not {text!r}") \
                    from None
            out["model_options"] = {**exp.model_options, "hidden": hidden,
                                    "activation": self.activation.currentData(), "dropout": self.dropout.value()}
        if out["model"] == exp.model and exp.model in ("mlp", "cnn"):
            out["model_options"] = {**out.get("model_options", exp.model_options),
                                    "batchnorm": self.batchnorm.isChecked()}
        return out
