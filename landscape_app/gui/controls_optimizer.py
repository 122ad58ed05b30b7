"""The optimizer section of the control panel: its widgets are built from the core's description of each
optimizer and scheduler (``core.optimizers.OPTIMIZERS``/``SCHEDULERS``), so a new optimizer needs no GUI code."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QWidget

from ..core.optimizers import LINE_SEARCHES, MAX_LR, OPTIMIZERS, SCHEDULERS, Hyper
from .controls_fields import LogSlider, NumberField
from .controls_sections import Section, _combo, _select

LR_SLIDER = (1e-4, 10.0)


def _hyper_widget(prefix: str, h: Hyper) -> QWidget:
    field = f"{prefix}.{h.name}"
    if h.kind == "bool":
        w = QCheckBox()
    elif h.kind == "choice":
        w = _combo({c: c for c in LINE_SEARCHES})
    else:
        w = NumberField(field, h.default, integer=h.kind == "int", help=h.help)
    w.setProperty("help", h.help)
    w.setToolTip(h.help)
    return w


def _hyper_value(h: Hyper, w: QWidget):
    if h.kind == "bool":
        return w.isChecked()
    if h.kind == "choice":
        return w.currentData()
    return w.value()


def _show_hyper(h: Hyper, w: QWidget, value) -> None:
    w.blockSignals(True)
    if h.kind == "bool":
        w.setChecked(bool(value))
    elif h.kind == "choice":
        w.setCurrentIndex(max(w.findData(value), 0))
    else:
        w.set_value(value)
    w.blockSignals(False)


class HyperForm(QWidget):
    """The hyperparameters of one optimizer or scheduler, built from the core's description of it."""

    edited = Signal()

    def __init__(self, prefix: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.prefix = prefix
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.hypers: tuple[Hyper, ...] = ()
        self.widgets: dict[str, QWidget] = {}

    def rebuild(self, hypers: tuple[Hyper, ...]) -> None:
        if hypers == self.hypers:
            return
        while self.form.rowCount():
            self.form.removeRow(0)
        self.hypers, self.widgets = hypers, {}
        for h in hypers:
            w = _hyper_widget(self.prefix, h)
            w.setObjectName(f"{self.prefix}.{h.name}")
            for signal in ("edited", "currentIndexChanged", "toggled"):
                if hasattr(w, signal):
                    getattr(w, signal).connect(self.edited)
                    break
            self.widgets[h.name] = w
            self.form.addRow(h.name.replace("_", " "), w)

    def show(self, values: dict) -> None:
        for h in self.hypers:
            _show_hyper(h, self.widgets[h.name], values.get(h.name, h.default))

    def values(self) -> dict:
        return {h.name: _hyper_value(h, self.widgets[h.name]) for h in self.hypers}

    def fields(self) -> dict[str, list[QWidget]]:
        return {f"{self.prefix}.{name}": [w] for name, w in self.widgets.items()}


class OptimizerSection(Section):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Optimizer", parent)
        self.optimizer = self._register("optimizer", _combo({k: s.label for k, s in OPTIMIZERS.items()}))
        self._row("optimizer", self.optimizer)
        self.lr = LogSlider("lr", 0.1, *LR_SLIDER, help=f"learning rate (the entry takes any value up to {MAX_LR:g})")
        self.lr.edited.connect(self.edited)
        self.fields["lr"] = [self.lr.entry]     # an error is shown on the exact entry
        self._row("learning rate", self.lr)
        self.hypers = HyperForm("optimizer_options")
        self.hypers.edited.connect(self.edited)
        self.form.addRow(self.hypers)
        self.scheduler = self._register("scheduler", _combo({None: "none", **{k: k for k in SCHEDULERS}}))
        self.scheduler.setToolTip("Changes the learning rate once per epoch")
        self._row("lr schedule", self.scheduler)
        self.scheduler_hypers = HyperForm("scheduler_options")
        self.scheduler_hypers.edited.connect(self.edited)
        self.form.addRow(self.scheduler_hypers)

    @property
    def all_fields(self) -> dict[str, list[QWidget]]:
        return {**self.fields, **self.hypers.fields(), **self.scheduler_hypers.fields()}

    def show(self, exp) -> None:
        _select(self.optimizer, exp.optimizer)
        self.lr.set_value(exp.lr)
        self.hypers.rebuild(OPTIMIZERS[exp.optimizer].hypers)
        self.hypers.show(dict(exp.optimizer_options))
        _select(self.scheduler, exp.scheduler)
        self.scheduler_hypers.rebuild(SCHEDULERS[exp.scheduler][1] if exp.scheduler else ())
        self.scheduler_hypers.show(dict(exp.scheduler_options))

    def values(self, exp) -> dict:
        name = self.optimizer.currentData()
        out = {"optimizer": name, "lr": self.lr.value()}
        if name != exp.optimizer:
            # Another optimizer: its own defaults, and the learning rate that suits it on these surfaces.
            self.hypers.rebuild(OPTIMIZERS[name].hypers)
            self.hypers.show({})
            out["lr"] = OPTIMIZERS[name].default_lr
            self.lr.set_value(out["lr"])
        out["optimizer_options"] = self.hypers.values()
        scheduler = self.scheduler.currentData()
        if scheduler != exp.scheduler:
            self.scheduler_hypers.rebuild(SCHEDULERS[scheduler][1] if scheduler else ())
            self.scheduler_hypers.show({})
        out["scheduler"] = scheduler
        out["scheduler_options"] = self.scheduler_hypers.values() if scheduler else {}
        return out
