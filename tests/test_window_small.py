"""The main window in small windows (900x600, and smaller): every view shown keeps its readable size, the panel
narrows first, views that cannot be read are hidden and a note names them; ``--lecture`` fills the screen."""
import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication

from app_window import WAIT, close_window, open_window
from landscape_app.core.presets import load_preset
from landscape_app.gui import app as gui_app
from landscape_app.gui import view_fit
from landscape_app.gui.main_layout import PANEL_MIN_WIDTH, PANEL_WIDTH

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _settle():
    for _ in range(4):          # layouts are laid out in posted events, some of them posted by others
        QApplication.processEvents()


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, tmp_path, monkeypatch, load_preset("mlp-moons"))
    yield w
    close_window(w)


def assert_readable(window, what: str) -> None:
    """Every view on screen is at least its least readable size (its pane: the 3-D view's has its bar)."""
    views = window.views
    mins = views.minimums()
    for name, pane in views.panes.items():
        if pane.isVisibleTo(window):
            w, h = mins[name]
            assert pane.width() >= w - 1 and pane.height() >= h - 1, \
                f"{what}: the {name} view is {pane.size()}, under its readable {w}x{h}"
    hidden = [n for n in views.wanted() if not views.panes[n].isVisibleTo(window)]
    assert list(views.hidden) == [n for n in view_fit.HIDE_ORDER if n in hidden], what
    note = views.room_note
    assert note.isVisibleTo(window) == bool(hidden), what
    for name in hidden:
        assert view_fit.NAMES[name] in note.text(), f"{what}: the note does not name the {name} view"


def test_at_900x600_every_view_is_readable(window, qtbot):
    """The loss curve had no height (its ticks ran together) and the data view was ~30 px tall, while the panel
    kept 330 px."""
    window.fit_to_screen(QRect(0, 0, 900, 600))
    _settle()
    assert_readable(window, "900x600")
    assert window.views.hidden == ()                         # all four views fit, smaller
    assert window.views.loss.height() >= 120 and window.views.data.height() >= 120
    assert window.left_panel.width() < PANEL_WIDTH[False]    # the panel gave way first
    # The description's four lines go to the views; it stays whole in the title's tooltip.
    assert not window.description_label.isVisibleTo(window)
    assert window.session.description in window.title_label.toolTip()
    window.fit_to_screen(QRect(0, 0, 1440, 900))              # room again: the panel and the description come back
    _settle()
    assert window.left_panel.width() == PANEL_WIDTH[False]
    assert window.description_label.isVisibleTo(window)


def test_the_minibatch_view_at_900x600_hides_the_3d_view_and_says_so(window, qtbot):
    window.fit_to_screen(QRect(0, 0, 900, 600))
    window.set_minibatch_view(True)
    _settle()
    assert window.left_panel.width() == PANEL_MIN_WIDTH      # the panel at its least before a view goes
    assert window.views.hidden == ("surface",)
    assert_readable(window, "900x600 with the mini-batch view")
    note = window.views.room_note.text()
    assert "3-D surface" in note and "(P)" in note           # what is hidden, and how to show it
    window.set_panel_visible(False)                          # the panel's room is enough for it
    _settle()
    assert window.views.hidden == ()
    assert_readable(window, "900x600 with the mini-batch view, no panel")
    window.set_panel_visible(True)
    window.set_minibatch_view(False)
    _settle()
    assert window.views.hidden == ()
    assert_readable(window, "900x600, the mini-batch view off again")


def test_a_window_too_short_for_two_rows_hides_the_loss_and_data_views(window, qtbot):
    window.fit_to_screen(QRect(0, 0, 900, 440))
    _settle()
    assert set(window.views.hidden) == {"loss", "data"}
    assert window.views.contour.isVisibleTo(window)
    assert_readable(window, "900x440")
    note = window.views.room_note.text()
    assert "loss curve" in note and "data" in note and "enlarge the window" in note
    window.fit_to_screen(QRect(0, 0, 1280, 720))
    _settle()
    assert window.views.hidden == ()
    assert_readable(window, "1280x720")


@pytest.mark.parametrize("size", [(1280, 720), (1366, 768), (1920, 1080)])
def test_larger_windows_show_every_view_readable_with_the_minibatch_view(window, size):
    """At 1280x720 the mini-batch contour was ~280 px wide: its colour bar's label ran into the axis beside it."""
    window.fit_to_screen(QRect(0, 0, *size))
    window.set_minibatch_view(True)
    _settle()
    assert window.views.hidden == ()
    assert_readable(window, f"{size} with the mini-batch view")
    window.set_lecture_mode(True)
    _settle()
    assert_readable(window, f"{size} in lecture mode")


def test_lecture_mode_fills_the_screen(window, monkeypatch):
    """``--lecture`` opened at 1440x900 on a 1920x1080 projector."""
    window.fit_to_screen(QRect(0, 0, 1920, 1080), fill=True)
    assert window.geometry().size() == QRect(0, 0, 1920, 1080).marginsRemoved(window._frame_margins()).size()
    asked = []
    monkeypatch.setattr(window, "fit_to_screen", lambda available=None, fill=False: asked.append(fill))
    gui_app.present(window, lecture=True)
    assert window.lecture and asked == [True]
    gui_app.present(window, lecture=False)                  # (already shown: nothing more to ask)
    assert asked == [True]


def test_a_network_s_note_under_the_loss_curve_counts_in_its_room(window, qtbot):
    window.fit_to_screen(QRect(0, 0, 900, 600))
    with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
        window.step()
    qtbot.waitUntil(lambda: not window.views.projection_note.isHidden(), timeout=WAIT)
    _settle()
    assert_readable(window, "900x600 with the projections' note")
    assert window.views.loss.height() >= view_fit.MIN_SIZE["loss"][1] - 1
