"""The status bar: where the selected run is (iteration, epoch, parameters, losses, speed), what the cursor is
over, and a clear red message when a run diverges."""
from __future__ import annotations

import math

from PySide6.QtCore import QSize, QTimer, Slot
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QStatusBar, QStyle, QStyleOptionProgressBar,
                               QWidget)

from ..core.models import loss_unit
from . import style
from .elided import ElidedLabel


def _num(v: float) -> str:
    if not math.isfinite(v):
        return "—"
    return f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


BUSY_SHOW_MS = 250       # a surface that takes longer than this shows the progress bar

POSITION_TIP = ("The selected run at the timeline's iteration: its parameters, the loss over all the data at "
                "those parameters (a point of the surface), and the loss of the mini-batch that drove this "
                "update, taken at the parameters before it (so the two differ even with a full batch).")


# Runs that ended before their last epoch. The update that failed is not recorded: a run's message names it
# ("diverged at iteration 13"), its path ends at the step before (12), and the window says both that way.
ENDED_EARLY = ("diverged", "failed")


def kept_path_text(traj) -> str:
    """What stays on screen of a run that ended early, naming its last recorded iteration."""
    if traj is None or len(traj) == 0:
        return "no step of it was recorded"
    return f"its path up to iteration {int(traj.iteration[-1])} stays on screen"


def readout(traj, index: int, steps_per_second: float, criterion: str = "") -> str:
    """``iteration 12 · epoch 2 · w 0.52 · b -1.02 · MSE loss 0.29 · batch loss 0.31 before this update``.

    The loss is the full-data loss at the shown parameters; the batch loss drove the update that reached them,
    so it was taken at the parameters before (said, so the two numbers are not read as one point's)."""
    if traj is None or len(traj) == 0:
        return "no steps yet"
    i = min(max(index, 0), len(traj) - 1)
    parts = [f"iteration {int(traj.iteration[i])}", f"epoch {int(traj.epoch[i])}"]
    if i == len(traj) - 1 and traj.outcome in ENDED_EARLY:
        parts[0] += f" (the last before it {traj.outcome})"
    if len(traj.param_names) <= 3:       # a network's hundreds of parameters are not for a status line
        parts += [f"{name} {_num(v)}" for name, v in zip(traj.param_names, traj.params[i])]
    parts.append(f"{loss_unit(criterion) + ' ' if criterion else ''}loss {_num(traj.loss[i])}")
    if math.isfinite(traj.batch_loss[i]):
        parts.append(f"batch loss {_num(traj.batch_loss[i])} before this update")
    if steps_per_second > 0:
        parts.append(f"{steps_per_second:,.0f} steps/s")
    return "  ·  ".join(parts)


class ProgressLine(QWidget):
    """A small progress bar (``setRange``, ``setValue``; a range of 0 to 0 moves to and fro) drawn by the style
    like ``QProgressBar``, but a new value asks for a repaint with the next frame instead of painting at once.

    ``QProgressBar.setValue`` repaints synchronously, and in a window holding OpenGL views each synchronous repaint
    composes the whole window again, the views' pictures included: 3-60 ms of the GUI thread per progress report
    (ten a second) while a surface computed (benchmarks/bench_gui_stall.py).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._minimum, self._maximum, self._value = 0, 100, 0

    def setRange(self, minimum: int, maximum: int) -> None:
        if (minimum, maximum) != (self._minimum, self._maximum):
            self._minimum, self._maximum = int(minimum), int(maximum)
            self.update()

    def setValue(self, value: int) -> None:
        if int(value) != self._value:
            self._value = int(value)
            self.update()

    def value(self) -> int:
        return self._value

    def maximum(self) -> int:
        return self._maximum

    def sizeHint(self) -> QSize:
        return QSize(120, 14)

    def paintEvent(self, event) -> None:
        option = QStyleOptionProgressBar()
        option.initFrom(self)
        option.minimum, option.maximum = self._minimum, self._maximum
        option.progress = min(max(self._value, self._minimum), self._maximum)
        option.textVisible = False
        option.state |= QStyle.StateFlag.State_Horizontal
        painter = QPainter(self)
        self.style().drawControl(QStyle.ControlElement.CE_ProgressBar, option, painter, self)
        painter.end()


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        # Elided labels: a long readout or message never widens the window (the whole text is the tooltip).
        self.position = ElidedLabel("no steps yet")
        self.position.setObjectName("status_position")
        self.position.setToolTip(POSITION_TIP)
        self.hover = QLabel("")
        self.hover.setObjectName("status_hover")
        self.hover.setStyleSheet(f"color: {style.MUTED};")
        self.alert = ElidedLabel("")
        self.alert.setObjectName("status_alert")
        self.alert.setStyleSheet(f"color: {style.DIVERGED_COLOR}; font-weight: bold;")
        # While a surface computes (off the GUI thread) a small bar says so; shown only for one that takes a
        # moment, so a quick surface does not make it flicker.
        self.busy = QWidget()
        self.busy.setObjectName("status_busy")
        self.busy.setToolTip("Computing the surface; the runs and the views go on meanwhile")
        busy_row = QHBoxLayout(self.busy)
        busy_row.setContentsMargins(0, 0, 0, 0)
        busy_label = QLabel("computing the surface…")
        busy_label.setStyleSheet(f"color: {style.MUTED};")
        self.busy_bar = ProgressLine()
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setMaximumHeight(14)
        busy_row.addWidget(busy_label)
        busy_row.addWidget(self.busy_bar)
        self.busy.setVisible(False)
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_SHOW_MS)
        self._busy_timer.timeout.connect(lambda: self.busy.setVisible(True))
        # A training process that stopped answering: said on the alert line, with the button that ends it.
        self.stop_training = QPushButton("Stop training process")
        self.stop_training.setObjectName("status_stop_training")
        self.stop_training.setToolTip("End the training process: its runs end here, and Reset or an edit trains "
                                      "in a fresh one")
        self.stop_training.setVisible(False)
        self._silence_text = ""
        self.addWidget(self.position, 0)
        self.addWidget(self.alert, 1)
        self.addWidget(self.stop_training, 0)
        self.addPermanentWidget(self.busy)
        self.addPermanentWidget(self.hover)

    @Slot(bool)
    def set_busy(self, on: bool) -> None:
        """A surface is computing (``on``) or nothing is."""
        if on:
            if not self.busy.isVisible() and not self._busy_timer.isActive():
                self._busy_timer.start()
        else:
            self._busy_timer.stop()
            self.busy.setVisible(False)

    @Slot(int, int)
    def set_progress(self, done: int, total: int) -> None:
        """How far the surface in flight is (0 of 0: not known, the bar moves to and fro)."""
        self.busy_bar.setRange(0, max(total, 0))
        self.busy_bar.setValue(min(done, total) if total > 0 else 0)

    def show_position(self, traj, index: int, steps_per_second: float, criterion: str = "") -> None:
        self.position.setText(readout(traj, index, steps_per_second, criterion))

    def show_progress_text(self, text: str) -> None:
        """Where the position goes, while there is none to show (the runs train ahead for their plane)."""
        self.position.setText(text)

    def show_hover(self, names: tuple[str, str], x: float, y: float, loss: float, criterion: str = "",
                   label: str | None = None) -> None:
        """The value under the cursor; ``label`` names it where it is not the criterion's loss ("accuracy")."""
        unit = label or (f"{loss_unit(criterion)} loss" if criterion else "loss")
        self.hover.setText(f"cursor: {names[0]} {_num(x)}, {names[1]} {_num(y)}, {unit} {_num(loss)}")

    def clear_hover(self) -> None:
        """The cursor left the surface: no reading (a stale one would name a point no longer pointed at)."""
        self.hover.setText("")

    def show_alert(self, text: str) -> None:
        self.alert.setText(text)
        self.alert.setToolTip(text)

    @Slot(float)
    def show_silence(self, seconds: float) -> None:
        """The training process has not answered for ``seconds`` while it should train (0: it answers again)."""
        if seconds > 0:
            self._silence_text = f"The training process has not answered for {seconds:.0f} s"
            self.show_alert(self._silence_text)
        elif self._silence_text:
            if self.alert.text() == self._silence_text:
                self.show_alert("")
            self._silence_text = ""
        self.stop_training.setVisible(seconds > 0)
