"""The status bar's progress bar: a new value is drawn with the next frame, never painted on the spot (a
synchronous paint in a window with OpenGL views composes the whole window again)."""
import numpy as np

from landscape_app.gui.status_bar import ProgressLine


class _Counted(ProgressLine):
    def __init__(self):
        super().__init__()
        self.paints = 0

    def paintEvent(self, event):
        self.paints += 1
        super().paintEvent(event)


def _pixels(widget) -> np.ndarray:
    image = widget.grab().toImage()
    return np.array([[image.pixel(x, image.height() // 2) for x in range(image.width())]])[0]


def test_a_new_value_is_painted_with_the_next_frame_not_at_once(qtbot):
    bar = _Counted()
    qtbot.addWidget(bar)
    bar.resize(120, 14)
    bar.show()
    qtbot.waitExposed(bar)
    qtbot.waitUntil(lambda: bar.paints > 0)
    before = bar.paints
    bar.setRange(0, 100)
    bar.setValue(40)
    assert bar.paints == before and bar.value() == 40 and bar.maximum() == 100
    qtbot.waitUntil(lambda: bar.paints > before)
    painted = bar.paints
    bar.setValue(40)                       # the same value: nothing to draw again
    qtbot.wait(50)
    assert bar.paints == painted


def test_the_bar_fills_as_far_as_its_value(qtbot):
    bar = ProgressLine()
    qtbot.addWidget(bar)
    bar.resize(120, 14)
    bar.setRange(0, 100)
    bar.setValue(0)
    empty = _pixels(bar)
    bar.setValue(50)
    half = _pixels(bar)
    bar.setValue(100)
    full = _pixels(bar)
    inner = slice(10, 110)
    left, right = slice(15, 50), slice(70, 105)
    assert not np.array_equal(half[left], empty[left])       # filled up to the middle
    assert np.array_equal(half[right], empty[right])         # and no further
    assert not np.array_equal(full[right], empty[right])
    assert not np.array_equal(full[inner], empty[inner])
