"""The optimizer section of the control panel: its widgets are built from the core's description of each
optimizer and scheduler (``core.optimizers.OPTIMIZERS``/``SCHEDULERS``), so a new optimizer needs no GUI code.

A pair of torch's (Adam's ``betas``, Rprop's ``etas``) is shown as two fields, one per value, each marked on its
own when ``ConfigError`` names it (``optimizer_options.betas[1]``)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QWidget

from ..core.optimizers import LINE_SEARCHES, MAX_LR, OPTIMIZERS, SCHEDULERS, Hyper
from .controls_fields import LogSlider, NumberField
from .controls_sections import Section, _combo, _select

LR_SLIDER = (1e-4, 10.0)


class OptionalNumberField(NumberField):
    """A number entry that may be left blank: torch's None (it then chooses the value itself)."""

    def __init__(self, field: str, value, help: str = ""):
        super().__init__(field, 0.0, help=help)
        self.setPlaceholderText("auto")
        self.set_value(value)

    def set_value(self, value) -> None:
        if value is None:
            self.setText("")
        else:
            super().set_value(value)

    def value(self):
        return None if not self.text().strip() else super().value()


def _pair_widgets(prefix: str, h: Hyper) -> list[QWidget]:
    out = []
    for i, part in enumerate(h.parts):
        field = f"{prefix}.{h.name}[{i}]"
        if i == 0 and h.optional:
            w = OptionalNumberField(field, h.default[i], help=h.help)
        else:
            w = NumberField(field, h.default[i], help=h.help)
        w.setObjectName(field)
        out.append(w)
    return out


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
            if h.kind == "pair":
                # torch's pair, one field per value: widgets "betas[0]", "betas[1]" labelled beta1, beta2
                for i, (part, w) in enumerate(zip(h.parts, _pair_widgets(self.prefix, h))):
                    w.edited.connect(self.edited)
                    self.widgets[f"{h.name}[{i}]"] = w
                    self.form.addRow(part, w)
                continue
            w = _hyper_widget(self.prefix, h)
            w.setObjectName(f"{self.prefix}.{h.name}")
            for signal in ("edited", "currentIndexChanged", "toggled"):
                if hasattr(w, signal):
                    getattr(w, signal).connect(self.edited)
                    break
            self.widgets[h.name] = w
            self.form.addRow(h.name.replace("_", " "), w)

    def _parts(self, h: Hyper) -> list[QWidget]:
        return [self.widgets[f"{h.name}[{i}]"] for i in range(len(h.parts))]

    def show(self, values: dict) -> None:
        for h in self.hypers:
            value = values.get(h.name, h.default)
            if h.kind == "pair":
                for w, v in zip(self._parts(h), value):
                    _show_hyper(h, w, v)
            else:
                _show_hyper(h, self.widgets[h.name], value)

    def values(self) -> dict:
        return {h.name: tuple(w.value() for w in self._parts(h)) if h.kind == "pair"
                else _hyper_value(h, self.widgets[h.name]) for h in self.hypers}

    def fields(self) -> dict[str, list[QWidget]]:
        out = {f"{self.prefix}.{name}": [w] for name, w in self.widgets.items()}
        for h in self.hypers:
            if h.kind == "pair":      # an error about the pair as a whole marks both its fields
                out[f"{self.prefix}.{h.name}"] = self._parts(h)
        return out


class OptimizerSection(Section):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Optimizer", parent)
        self.optimizer = self._register("optimizer", _combo({k: s.label for k, s in OPTIMIZERS.items()}))
        for i, spec in enumerate(OPTIMIZERS.values()):
            if spec.note:
                self.optimizer.setItemData(i, spec.note, Qt.ItemDataRole.ToolTipRole)
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
        self.optimizer.setToolTip(OPTIMIZERS[exp.optimizer].note)
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
