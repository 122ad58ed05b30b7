"""The decision view in lecture mode on a projector (1280x720): the loss curve and the data view get half the
views' height, and a short, wide decision map fills its pane instead of keeping both inputs' units equal."""
import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication

from app_window import WAIT, close_window, open_window
from landscape_app.core.presets import load_preset
from landscape_app.gui.views.decision_view import EQUAL_ASPECT_MIN_PX

from test_views_predictions import decision, hand_map  # noqa: F401 (decision: a fixture)

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _settle():
    for _ in range(3):
        QApplication.processEvents()


@pytest.fixture
def shown(decision):
    decision.show_predictions(hand_map())           # the map spans [-1, 1] x [-0.8, 0.8] (plus half a cell)
    return decision


def test_a_tall_pane_keeps_both_inputs_in_the_same_units(shown):
    shown.render_image(420, 480)
    assert shown.vb.height() >= EQUAL_ASPECT_MIN_PX
    assert shown.equal_aspect and shown.vb.state["aspectLocked"]
    (x0, x1), (y0, y1) = shown.vb.viewRange()
    px_per_unit = (shown.vb.width() / (x1 - x0), shown.vb.height() / (y1 - y0))
    assert px_per_unit[0] == pytest.approx(px_per_unit[1], rel=1e-3)


def test_a_short_wide_pane_fills_its_width_with_the_map(shown):
    shown.render_image(640, 200)
    assert shown.vb.height() < EQUAL_ASPECT_MIN_PX
    assert not shown.equal_aspect and not shown.vb.state["aspectLocked"]
    (x0, x1), (y0, y1) = shown.vb.viewRange()
    rect = shown._map_rect
    # The map, edge to edge: not a strip in the middle of a wide empty range.
    assert (x0, x1) == pytest.approx((rect.left(), rect.right()), abs=1e-6)
    assert (y0, y1) == pytest.approx((rect.top(), rect.bottom()), abs=1e-6)
    shown.render_image(420, 480)                  # tall again: equal units again
    assert shown.equal_aspect and shown.vb.state["aspectLocked"]


def test_a_wide_full_screen_pane_fills_its_width_with_the_map(shown):
    """Full screen at 1920x1080: a pane tall enough for equal units, but so wide that they left the map in its
    middle third (x from -4.5 to 5.5): the map fills the pane instead."""
    shown.render_image(1300, 420)
    assert shown.vb.height() >= EQUAL_ASPECT_MIN_PX
    assert not shown.equal_aspect and not shown.vb.state["aspectLocked"]
    (x0, x1), (y0, y1) = shown.vb.viewRange()
    rect = shown._map_rect
    assert (x0, x1) == pytest.approx((rect.left(), rect.right()), abs=1e-6)
    assert (y0, y1) == pytest.approx((rect.top(), rect.bottom()), abs=1e-6)
    shown.render_image(560, 480)                  # a pane of about the map's shape: equal units again
    assert shown.equal_aspect and shown.vb.state["aspectLocked"]


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, tmp_path, monkeypatch, load_preset("mlp-moons"))
    yield w
    close_window(w)


def test_lecture_mode_at_1280x720_gives_the_decision_map_room(window, qtbot):
    window.fit_to_screen(QRect(0, 0, 1280, 720))
    _settle()
    split = window.views.split
    top, bottom = split.sizes()
    assert bottom < top                                      # normal mode: the surface views first (3:2)
    window.set_lecture_mode(True)
    _settle()
    top, bottom = split.sizes()
    assert abs(top - bottom) <= 0.02 * (top + bottom)        # lecture mode: half and half
    with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
        window.step()
    qtbot.waitUntil(lambda: window.views.data.decision is not None
                    and window.views.data.decision.decision is not None, timeout=WAIT)
    view = window.views.data.decision
    _settle()
    assert view.vb.height() > 90 and view.vb.width() > 400
    assert not view.equal_aspect              # a short, wide pane: the map spans it
    (x0, x1), _ = view.vb.viewRange()
    assert (x0, x1) == pytest.approx((view._map_rect.left(), view._map_rect.right()), abs=1e-6)
    window.set_lecture_mode(False)
    _settle()
    top, bottom = split.sizes()
    assert bottom < top
