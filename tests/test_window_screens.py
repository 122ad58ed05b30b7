"""The main window on real screens: it fits 1024x768, 1280x720 and 1366x768 (less a desktop's panel), in normal
and lecture mode, with the mini-batch view on, before and after a run diverges; lecture mode gives the views the
screen; messages never size the window."""
import pytest
from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from landscape_app.core.presets import load_preset
from landscape_app.gui.playback import FINISHED
from landscape_app.gui.screen_fit import PREFERRED, fits, fitted_geometry
from landscape_app.gui.timeline import TIMELINE_MIN_WIDTH

from app_window import WAIT, close_window, open_window

PANEL = 28        # a desktop's top bar: the free (available) area is less than the screen
SCREENS = [(1024, 768), (1280, 720), (1366, 768)]

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


# -- the sizing function ---------------------------------------------------------------------------------------
def test_a_large_screen_gets_the_preferred_size_centred():
    available = QRect(0, PANEL, 1920, 1080 - PANEL)
    rect = fitted_geometry(available)
    assert rect.size() == PREFERRED
    assert rect.center() == available.center()
    assert fits(PREFERRED, available)


@pytest.mark.parametrize("width,height", SCREENS)
def test_a_small_screen_gets_its_free_area_less_the_frame(width, height):
    available = QRect(0, PANEL, width, height - PANEL)
    frame = QMargins(4, 30, 4, 4)
    rect = fitted_geometry(available, frame)
    assert available.contains(rect.marginsAdded(frame))
    assert rect.size() == QSize(min(PREFERRED.width(), width - 8), min(PREFERRED.height(), height - PANEL - 34))
    assert not fits(PREFERRED, available, frame)


def test_a_frame_that_would_not_fit_counts():
    """1440x900 fits a 1600x920 free area, but not with a 30 px title bar under a 1600x920 limit."""
    available = QRect(0, 0, 1600, 920)
    assert fits(PREFERRED, available)
    assert not fits(PREFERRED, available, QMargins(0, 30, 0, 0))
    assert fitted_geometry(available, QMargins(0, 30, 0, 0)).height() == 890


# -- the window on a small screen --------------------------------------------------------------------------------
@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, tmp_path, monkeypatch, load_preset("learning-rate-too-large"))
    yield w
    close_window(w)


def _settle():
    for _ in range(3):          # layouts are laid out in posted events, some of them posted by others
        QApplication.processEvents()


def _inside_window(window, widget) -> bool:
    top_left = widget.mapTo(window, QPoint(0, 0))
    return window.rect().contains(QRect(top_left, widget.size()))


def assert_fits(window, available: QRect, what: str) -> None:
    _settle()
    expected = fitted_geometry(available, window._frame_margins())
    assert window.geometry() == expected, f"{what}: the window is {window.geometry()}, not {expected}"
    assert available.contains(window.frameGeometry()), f"{what}: the frame is {window.frameGeometry()}"
    hint = window.minimumSizeHint()
    assert hint.width() <= available.width() and hint.height() <= available.height(), \
        f"{what}: the window asks for at least {hint}"
    for widget in (window.transport, window.transport.play_button, window.transport.timeline,
                   window.transport.position_label, window.status, window.status.position, window.views):
        assert widget.isVisible() and _inside_window(window, widget), \
            f"{what}: {widget.objectName() or type(widget).__name__} is not inside the window"
    # The timeline keeps room to scrub (at 1024 px it was once squeezed to a dot beside the panel).
    assert window.transport.timeline.width() >= TIMELINE_MIN_WIDTH, f"{what}: the timeline is squeezed"
    for view in (window.views.contour, window.views.loss, window.views.data):
        assert view.width() > 100 and view.height() > 80, f"{what}: a view is squeezed to {view.size()}"
    if window.views.minibatch.isVisible():
        mb = window.views.minibatch
        assert mb.width() > 100
        # Its plot (axes and colour bar) within its own view: nothing behind the 3-D view.
        assert mb.plot.geometry().width() <= mb.widget.viewport().width() + 0.5, what


@pytest.mark.parametrize("width,height", SCREENS)
def test_the_window_fits_a_small_screen_in_every_mode(window, qtbot, width, height):
    available = QRect(0, PANEL, width, height - PANEL)
    window.fit_to_screen(available)
    assert_fits(window, available, "normal mode")
    window.set_minibatch_view(True)
    assert_fits(window, available, "mini-batch view")
    window.set_lecture_mode(True)
    assert_fits(window, available, "lecture mode with the mini-batch view")
    window.set_panel_visible(True)
    assert_fits(window, available, "lecture mode with the panel back")

    # A run diverges: its long message stays in the status bar, cut to fit, the whole of it in the tooltips.
    with qtbot.waitSignal(window.playback.state_changed, timeout=WAIT, check_params_cb=lambda s: s == FINISHED):
        window.toggle_play()
    window.redraw()
    alert = window.status.alert
    assert "diverged" in alert.text() and "stays on screen" in alert.text()
    assert_fits(window, available, "lecture mode after a divergence")
    assert alert.toolTip() == alert.text()
    assert "diverged" in window.runs_panel.list.item(2).toolTip()
    assert "diverged" in window.legend.text()
    window.set_lecture_mode(False)
    window.set_minibatch_view(False)
    assert_fits(window, available, "normal mode after a divergence")
    assert window.status.alert.is_elided() == (window.status.alert.fontMetrics().horizontalAdvance(alert.text())
                                               > window.status.alert.contentsRect().width())


def test_a_message_never_widens_the_window(window):
    """A diverged run's message once widened the window to 1744 px on a 1600 px screen."""
    available = QRect(0, 0, 1280, 720)
    window.fit_to_screen(available)
    _settle()
    message = "lr 0.4: diverges: diverged at iteration 52 (epoch 52): parameter w = -1.2e+10 is beyond ±1e10; " \
              "try a smaller learning rate — its path so far stays on screen " * 3
    window.status.show_alert(message)
    window.scene_label.setText("Surface: " + message)
    window.title_label.setText(message)
    _settle()
    assert window.geometry() == fitted_geometry(available, window._frame_margins())
    assert window.status.alert.text() == message and window.status.alert.is_elided()
    assert window.status.alert.shown_text().endswith("…")
    assert window.scene_label.toolTip() == "Surface: " + message


def test_lecture_mode_gives_the_views_the_screen(window, qtbot):
    window.fit_to_screen(QRect(0, 0, 1280, 720))
    _settle()
    views_width = window.views.width()
    window.set_lecture_mode(True)
    _settle()
    assert not window.panel_visible() and not window.actions_by_name["panel"].isChecked()
    assert window.views.width() > views_width + 250            # the panel's width goes to the views
    assert not window.hint_label.isVisible()
    # One legend names the runs above the views; none lies over a plot.
    assert window.legend.isVisible() and window.legend.names() == list(window.session.names)
    for view in (window.views.contour, window.views.loss, window.views.data.plot2d):
        assert all(name not in view.legend_names() for name in window.session.names)
    # The key brings the panel back (and hides it again); so do the menu entry and the header's button.
    QTest.keyClick(window, Qt.Key.Key_P)
    assert window.panel_visible() and window.panel_button.isChecked()
    assert window.left_panel.width() <= window.width() // 3 + 1
    QTest.keyClick(window, Qt.Key.Key_P)
    assert not window.panel_visible()
    window.actions_by_name["panel"].trigger()
    assert window.panel_visible()
    window.panel_button.click()
    assert not window.panel_visible()
    window.set_lecture_mode(False)
    assert window.panel_visible() and window.hint_label.isVisible()


def test_the_minibatch_view_shows_the_surface_before_the_first_step(window):
    """Turned on before any step, it showed an empty plot; it shows the full surface until a batch is known."""
    assert window.views.minibatch.surface is None
    window.set_minibatch_view(True)
    mb = window.views.minibatch
    assert mb.surface is not None and mb.title() == "Mini-batch surface: no step yet"
    assert (mb.surface.loss == window.views.contour.surface.loss).all()


def test_on_a_short_screen_lecture_mode_gives_the_description_s_lines_to_the_views(window):
    description = window.session.description
    window.fit_to_screen(QRect(0, 0, 1280, 720))
    _settle()
    assert window.description_label.isVisibleTo(window)            # normal mode: the description is read
    window.set_lecture_mode(True)
    _settle()
    assert not window.description_label.isVisibleTo(window)        # the lecturer says it; the views get the room
    assert description in window.title_label.toolTip()
    window.fit_to_screen(QRect(0, 0, 1920, 1080))                  # room enough: shown again
    _settle()
    assert window.description_label.isVisibleTo(window) and window.title_label.toolTip() == ""
