"""Small input widgets for the control panel: number entries that can be marked invalid, a log slider.

Number entries are free text on purpose: a user may type a negative learning rate, and the experiment's own
validation (``ConfigError``) then explains in place why it is refused, instead of a spin box silently clamping.
A typed value counts once the entry is finished (Enter, or the focus moves on): "30" typed digit by digit never
redraws the surface for "3" on the way.
"""
from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QSlider, QWidget

from ..core.errors import ConfigError

INVALID_STYLE = "border: 2px solid #ff5050; border-radius: 3px;"


def format_number(value: float) -> str:
    """A short exact-enough text for an entry: 0.1, 1e-05, 250, -15."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value == 0:
        return "0"
    if value == int(value) and abs(value) < 1e7:
        return str(int(value))
    return f"{value:.6g}"


def mark(widget: QWidget, message: str | None) -> None:
    """Show ``message`` on ``widget`` as a red border and a tooltip; ``None`` clears the mark."""
    if message:
        widget.setStyleSheet(INVALID_STYLE)
        widget.setToolTip(message)
        widget.setProperty("invalid", True)
    else:
        widget.setStyleSheet("")
        widget.setToolTip(widget.property("help") or "")
        widget.setProperty("invalid", False)


class NumberField(QLineEdit):
    """A float or int entry; ``value()`` raises ``ConfigError(field)`` when the text is not a number.

    ``edited`` is emitted when a typed change is finished (Enter, focus out, or ``finish()``), not per keystroke.
    """

    edited = Signal()

    def __init__(self, field: str, value: float | int = 0.0, integer: bool = False, help: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.field = field
        self.integer = integer
        self.setProperty("help", help)
        self.setToolTip(help)
        self.setMinimumWidth(56)
        self._pending = False
        self.set_value(value)
        self.textEdited.connect(self._typed)
        self.editingFinished.connect(self.finish)

    @property
    def pending(self) -> bool:
        """Whether the text was typed in and not yet applied."""
        return self._pending

    def _typed(self, _text: str) -> None:
        self._pending = True

    def finish(self) -> None:
        """Apply what was typed (emit ``edited``), if anything was."""
        if self._pending:
            self._pending = False
            self.edited.emit()

    def set_value(self, value) -> None:
        self._pending = False
        self.setText(format_number(int(value) if self.integer else float(value)))

    def value(self) -> float | int:
        text = self.text().strip()
        try:
            number = float(text)
        except ValueError:
            raise ConfigError(self.field, f"{text!r} is not a number") from None
        if self.integer:
            if not math.isfinite(number) or number != int(number):
                raise ConfigError(self.field, f"must be a whole number, not {text!r}")
            return int(number)
        return number


class LogSlider(QWidget):
    """A log-scale slider over [low, high] beside an exact entry; ``value()`` is the entry's number."""

    edited = Signal()
    STEPS = 1000

    def __init__(self, field: str, value: float, low: float, high: float, help: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self._log_low, self._log_high = math.log10(low), math.log10(high)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, self.STEPS)
        self.slider.setToolTip(help)
        self.entry = NumberField(field, value, help=help)
        self.entry.setMaximumWidth(80)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.entry)
        self._sync_slider(value)
        self.slider.valueChanged.connect(self._slid)
        self.entry.edited.connect(self._typed)

    @property
    def field(self) -> str:
        return self.entry.field

    def value(self) -> float:
        return self.entry.value()

    def set_value(self, value: float) -> None:
        self.entry.set_value(value)
        self._sync_slider(value)

    def _sync_slider(self, value: float) -> None:
        if value > 0 and math.isfinite(value):
            pos = (math.log10(value) - self._log_low) / (self._log_high - self._log_low) * self.STEPS
            self.slider.blockSignals(True)
            self.slider.setValue(int(round(min(max(pos, 0), self.STEPS))))
            self.slider.blockSignals(False)

    def _slid(self, pos: int) -> None:
        value = 10 ** (self._log_low + (self._log_high - self._log_low) * pos / self.STEPS)
        # Three significant digits: a slider position means "about this much", the entry gives exact values.
        self.entry.set_value(float(f"{value:.3g}"))
        self.edited.emit()

    def _typed(self) -> None:
        try:
            self._sync_slider(self.entry.value())
        except ConfigError:
            pass
        self.edited.emit()
