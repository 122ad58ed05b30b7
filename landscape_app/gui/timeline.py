"""The transport bar: Play/Pause, Step, Reset, the speed control, and the timeline slider to scrub a run.

While a run plays, the timeline follows its end. Dragging the slider back (when paused or finished) shows every
view as it was at that iteration; dragging it to the end follows the run again. Play from there replays the
recorded steps at the chosen speed (``Replay``), like a video, and training goes on where the recording ends.
"""
from __future__ import annotations

import math
import time
from typing import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

SPEED_MIN, SPEED_MAX = 1.0, 1000.0    # paced steps per second; the slider's last notch is "as fast as possible"
SPEED_NOTCHES = 30
DEFAULT_SPEED = 30.0                  # slow enough that a newcomer sees the path walk
REPLAY_MAX_S = 2.0                    # at full speed, a replay takes this long to reach the end
REPLAY_TICK_MS = 16


def speed_at(notch: int) -> float | None:
    """Steps per second at a speed-slider notch; ``None`` at the last notch (no pacing)."""
    if notch >= SPEED_NOTCHES:
        return None
    frac = notch / (SPEED_NOTCHES - 1)
    return float(f"{SPEED_MIN * (SPEED_MAX / SPEED_MIN) ** frac:.2g}")


def notch_for(speed: float | None) -> int:
    if speed is None:
        return SPEED_NOTCHES
    frac = math.log(max(speed, SPEED_MIN) / SPEED_MIN) / math.log(SPEED_MAX / SPEED_MIN)
    return int(round(min(frac, 1.0) * (SPEED_NOTCHES - 1)))


def speed_text(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:g}/s"


TIMELINE_MIN_WIDTH = 200    # px: room to scrub on the smallest screen the window fits (1024 wide)


class TransportBar(QWidget):
    play_clicked = Signal()
    step_clicked = Signal()
    reset_clicked = Signal()
    speed_changed = Signal(object)     # steps per second, or None for as fast as possible
    scrubbed = Signal(object)          # a point count to show (upto), or None: follow the end

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.play_button = QPushButton("▶  Play")
        self.play_button.setObjectName("play_button")
        self.play_button.setToolTip("Play / pause the training (Space)")
        self.play_button.setMinimumWidth(110)
        # The one button a newcomer must find: an accent colour.
        self.play_button.setStyleSheet(
            "QPushButton#play_button { background: #2f6fd6; color: white; font-weight: bold; padding: 4px 12px;"
            " border: 1px solid #4a86ee; border-radius: 4px; }"
            "QPushButton#play_button:hover { background: #3a7cf0; }"
            "QPushButton#play_button:disabled { background: #3a3f4b; color: #8a90a0; border-color: #3a3f4b; }")
        self.step_button = QPushButton("Step ▸")
        self.step_button.setToolTip("Exactly one iteration of every run (Right arrow)")
        self.reset_button = QPushButton("⟲ Reset")
        self.reset_button.setToolTip("Back to the start point (R)")
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setRange(0, SPEED_NOTCHES)
        self.speed.setFixedWidth(120)
        self.speed.setToolTip("Speed: from 1 step per second (for a lecture) to as fast as the machine goes")
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(52)
        self.timeline = QSlider(Qt.Orientation.Horizontal)
        self.timeline.setRange(0, 0)
        self.timeline.setToolTip("Scrub back through the run (pause first); the end follows the run")
        self.timeline.setMinimumWidth(TIMELINE_MIN_WIDTH)     # never squeezed away by its neighbours
        self.position_label = QLabel("iteration 0")
        self.position_label.setMinimumWidth(120)
        self.position_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        for w in (self.play_button, self.step_button, self.reset_button, self.speed, self.timeline):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)    # Space and Right belong to the window's shortcuts
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        for w in (self.play_button, self.step_button, self.reset_button):
            layout.addWidget(w)
        layout.addSpacing(12)
        layout.addWidget(QLabel("speed"))
        layout.addWidget(self.speed)
        layout.addWidget(self.speed_label)
        layout.addSpacing(12)
        layout.addWidget(self.timeline, 1)
        layout.addWidget(self.position_label)

        self.play_button.clicked.connect(self.play_clicked)
        self.step_button.clicked.connect(self.step_clicked)
        self.reset_button.clicked.connect(self.reset_clicked)
        self.speed.valueChanged.connect(self._speed_moved)
        self.timeline.valueChanged.connect(self._timeline_moved)
        self._following = True
        self._length = 0
        self._iterations = None
        self.set_speed(DEFAULT_SPEED)

    # -- state from the window -----------------------------------------------------------------------------
    def set_playing(self, playing: bool) -> None:
        self.play_button.setText("❚❚  Pause" if playing else "▶  Play")

    def set_can_play(self, can: bool, why: str = "") -> None:
        for w in (self.play_button, self.step_button):
            w.setEnabled(can)
        self.play_button.setToolTip("Play / pause the training (Space)" if can else why)

    def set_speed(self, speed: float | None) -> None:
        self.speed.blockSignals(True)
        self.speed.setValue(notch_for(speed))
        self.speed.blockSignals(False)
        self.speed_label.setText(speed_text(speed))

    def set_length(self, n: int, iterations=None) -> None:
        """The longest path has ``n`` points (``iterations``: their iteration numbers, for the label)."""
        self._length = n
        self._iterations = iterations
        self.timeline.blockSignals(True)
        self.timeline.setRange(0, max(n - 1, 0))
        if self._following:
            self.timeline.setValue(max(n - 1, 0))
        self.timeline.blockSignals(False)
        self._update_label()

    def follow(self) -> None:
        """Jump to the end and follow it."""
        self._following = True
        self.set_length(self._length, self._iterations)

    def show_point(self, index: int) -> None:
        """Move the timeline to point ``index`` as a scrub would (the end: follow it again)."""
        self.timeline.setValue(max(0, min(int(index), self.timeline.maximum())))

    @property
    def upto(self) -> int | None:
        """Points to show: ``None`` while following the end."""
        return None if self._following else self.timeline.value() + 1

    # -- user ---------------------------------------------------------------------------------------------
    def _speed_moved(self, notch: int) -> None:
        speed = speed_at(notch)
        self.speed_label.setText(speed_text(speed))
        self.speed_changed.emit(speed)

    def _timeline_moved(self, value: int) -> None:
        self._following = value >= self.timeline.maximum()
        self._update_label()
        self.scrubbed.emit(self.upto)

    def _update_label(self) -> None:
        index = self.timeline.value()
        its = self._iterations
        it = int(its[index]) if its is not None and 0 <= index < len(its) else index
        last = int(its[-1]) if its is not None and len(its) else max(self._length - 1, 0)
        self.position_label.setText(f"iteration {it} / {last}" if not self._following
                                    else f"iteration {it}")


class Replay(QObject):
    """Plays the recorded steps from a scrubbed-back timeline point to the end, at the speed control's pace.

    The views follow the timeline as they do when it is dragged; at the end the timeline follows the runs again
    (``finished``), and the window goes on training the runs that have steps left. Dragging the timeline stops
    a replay (the hand takes over).
    """

    finished = Signal()         # the replay reached the end of the recording
    stopped = Signal()          # paused part-way (Pause, a drag, Reset)

    def __init__(self, transport: TransportBar, speed: Callable[[], float | None], parent: QObject | None = None):
        super().__init__(parent)
        self.transport = transport
        self._speed = speed
        self.timer = QTimer(self)
        self.timer.setInterval(REPLAY_TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._position = 0.0
        self._rate = 0.0
        self._mark = 0.0
        self._moving = False
        transport.timeline.sliderPressed.connect(self._taken_over)
        transport.timeline.actionTriggered.connect(self._taken_over)

    @property
    def active(self) -> bool:
        return self.timer.isActive()

    def can_start(self) -> bool:
        """The timeline is scrubbed back: there are recorded steps to replay."""
        return self.transport.upto is not None

    def start(self) -> bool:
        """Replay from the timeline's point; False when it is not scrubbed back (nothing to replay)."""
        if not self.can_start():
            return False
        self._position = float(self.transport.timeline.value())
        speed = self._speed()
        remaining = self.transport.timeline.maximum() - self._position
        self._rate = speed if speed is not None else max(remaining / REPLAY_MAX_S, 1.0)
        self._mark = time.perf_counter()
        self.timer.start()
        self.transport.set_playing(True)
        return True

    def stop(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.stopped.emit()

    def step(self) -> bool:
        """One recorded point forward (the Step key on a scrubbed-back timeline); False when not scrubbed back."""
        if not self.can_start():
            return False
        self.stop()
        self._move_to(self.transport.timeline.value() + 1)
        return True

    def _tick(self) -> None:
        now = time.perf_counter()
        self._position += self._rate * (now - self._mark)
        self._mark = now
        index = int(self._position)
        if index > self.transport.timeline.value():
            self._move_to(index)

    def _move_to(self, index: int) -> None:
        self._moving = True
        try:
            self.transport.show_point(index)
        finally:
            self._moving = False
        if self.transport.upto is None:       # the end: the timeline follows the runs again
            if self.timer.isActive():
                self.timer.stop()
                self.finished.emit()

    def _taken_over(self, *args) -> None:
        if not self._moving:
            self.stop()
