"""The mouse wheel over the control panel scrolls it; a slider or list under the pointer changes only once focused.

The wheel events are the window system's own (``QTest.wheelEvent``): only those travel from the control under
the pointer up to the scroll area, as a real mouse's do.
"""
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox, QWidget

import landscape_app as la
from landscape_app.gui.controls import ControlPanel
from landscape_app.gui.wheel_guard import guarded

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

DOWN = QPoint(0, -120)     # one notch towards the user: the panel scrolls down


@pytest.fixture
def panel(qtbot):
    p = ControlPanel(la.Experiment(lr=0.1, epochs=20))
    qtbot.addWidget(p)
    p.resize(320, 420)       # shorter than its sections: it scrolls
    p.show()
    qtbot.waitExposed(p)
    return p


def _wheel(panel, at: QPoint, notches: int = 1, delta: QPoint = DOWN) -> None:
    for _ in range(notches):
        QTest.wheelEvent(panel.windowHandle(), QPointF(at), delta)
        QApplication.processEvents()


def _centre(panel, widget) -> QPoint:
    return widget.mapTo(panel, widget.rect().center())


def test_wheeling_over_the_panel_scrolls_it_and_changes_nothing(panel):
    """The issue's report: 12 notches with the pointer still; the learning-rate slider came under it and took
    the rest (0.1 became 0.0684)."""
    before = panel.experiment
    bar = panel.scroll.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    edits = []
    panel.experiment_changed.connect(edits.append)
    for x in (100, 200):
        bar.setValue(0)
        _wheel(panel, QPoint(x, 300), notches=12)
        assert bar.value() > 0                             # the panel scrolled
        assert edits == [] and panel.experiment is before  # and no setting changed under the pointer
    assert panel.optimizer.lr.entry.text() == "0.1"


def test_every_wheel_control_passes_the_wheel_until_it_has_the_focus(panel, qtbot):
    """Sliders, lists and spin boxes anywhere in the panel, including the ones a section builds later (L-BFGS's
    line search, the Plane section's spin boxes), scroll the panel until clicked."""
    panel.optimizer.optimizer.setCurrentIndex(panel.optimizer.optimizer.findData("lbfgs"))
    qtbot.waitUntil(lambda: "line_search_fn" in panel.optimizer.hypers.widgets, timeout=5000)
    QApplication.processEvents()
    line_search = panel.optimizer.hypers.widgets["line_search_fn"]
    controls = [w for w in panel.findChildren(QWidget) if guarded(w) and w.isVisibleTo(panel)]
    assert line_search in controls and panel.optimizer.lr.slider in controls
    assert any(isinstance(w, QComboBox) for w in controls) and any(isinstance(w, QAbstractSlider) for w in controls)
    bar = panel.scroll.verticalScrollBar()
    before = panel.experiment
    for control in controls:
        assert control.focusPolicy() == Qt.FocusPolicy.StrongFocus, control.objectName()
        panel.scroll.ensureWidgetVisible(control)
        QApplication.processEvents()
        if not control.isVisible():
            continue          # a row hidden for this model (the Plane section is a network's)
        start = bar.value()
        delta = DOWN if start < bar.maximum() else -DOWN
        _wheel(panel, _centre(panel, control), delta=delta)
        assert bar.value() != start, control.objectName()
        assert panel.experiment is before, control.objectName()
        assert not control.hasFocus()
    spin_boxes = [w for w in panel.findChildren(QAbstractSpinBox)]
    assert all(w.focusPolicy() == Qt.FocusPolicy.StrongFocus for w in spin_boxes)


def test_a_focused_slider_takes_the_wheel(panel):
    slider = panel.optimizer.lr.slider
    panel.scroll.ensureWidgetVisible(slider)
    QApplication.processEvents()
    slider.setFocus(Qt.FocusReason.MouseFocusReason)
    QApplication.processEvents()
    assert slider.hasFocus()
    bar = panel.scroll.verticalScrollBar()
    start = bar.value()
    _wheel(panel, _centre(panel, slider))
    assert panel.experiment.lr != 0.1 and bar.value() == start
