"""The main window, offscreen: binding, running, races, presets, sessions, clean shutdown, pixels on the path."""
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor

import landscape_app as la
from landscape_app.core.session import Session
from landscape_app.core.tomlio import session_to_dict
from landscape_app.gui.formula_text import keep_formulas_whole
from landscape_app.gui.main_menus import recent_sessions
from landscape_app.gui.main_window import MainWindow
from landscape_app.gui.playback import PAUSED, PLAYING
from landscape_app.core.presets import list_presets, load_preset
from landscape_app.gui.views.base import RUN_COLORS
from landscape_app.gui.worker import live_threads

from app_window import WAIT
from app_window import lengths as _lengths, play_to_end as _play_to_end, ready as _ready, settle as _settle
from app_window import type_into as _type

# Qt's offscreen platform says this whenever a top-level window's size constraints change; it is not our doing.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def test_default_window_shows_the_course_surface(window, qtbot):
    assert window.session.title.startswith("Linear regression")
    _ready(qtbot, window)
    assert window.views.contour.surface is not None
    assert window.transport.play_button.isEnabled()
    assert "Play" in window.hint_label.text()


def test_control_edit_rebinds_the_selected_run_and_restarts(window, qtbot):
    _ready(qtbot, window)
    _type(window.panel.optimizer.lr.entry, "0.05")
    assert window.session.runs[0].lr == 0.05
    assert window.playback.experiments[0].lr == 0.05
    _type(window.panel.data.knobs["noise"], "0.5")
    assert window.session.runs[0].data.source.params["noise"] == 0.5
    _settle(qtbot, window)          # the surface is computed off the GUI thread
    assert window.views.contour.experiment.data.source.params["noise"] == 0.5


def test_invalid_entry_disables_play(window, qtbot):
    _ready(qtbot, window)
    _type(window.panel.training.epochs, "0")
    assert not window.transport.play_button.isEnabled()
    assert "epochs" in window.transport.play_button.toolTip()
    window.toggle_play()
    assert window.playback.state == PAUSED
    _type(window.panel.training.epochs, "5")
    assert window.transport.play_button.isEnabled()


def test_play_pause_step_reset(window, qtbot):
    _ready(qtbot, window)
    for expected in (2, 3):
        with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
            window.step()
        qtbot.waitUntil(lambda: _lengths(window) == [expected], timeout=WAIT)
    window.redraw()
    assert "iteration 2" in window.status.position.text()
    with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
        window.reset()
    assert _lengths(window) == [1]
    _type(window.panel.training.epochs, "1000000")
    _ready(qtbot, window)
    window.toggle_play()
    assert window.playback.state == PLAYING and "Pause" in window.transport.play_button.text()
    qtbot.waitUntil(lambda: _lengths(window)[0] > 20, timeout=WAIT)
    with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
        window.toggle_play()
    assert window.playback.state == PAUSED
    n = _lengths(window)[0]
    qtbot.wait(100)
    assert _lengths(window)[0] == n


def test_keyboard_shortcuts(window, qtbot):
    _ready(qtbot, window)
    window.views.contour.setFocus()
    with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
        qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: _lengths(window) == [2], timeout=WAIT)
    with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
        qtbot.keyClick(window, Qt.Key.Key_R)
    assert _lengths(window) == [1]


def test_run_to_the_end_and_scrub(window, qtbot):
    _play_to_end(qtbot, window)
    n = _lengths(window)[0]
    assert n == window.experiment.epochs + 1
    window.transport.timeline.setValue(5)
    window.redraw()
    assert window.transport.upto == 6
    assert window.status.position.text().startswith("iteration 5 ")
    assert window.views.loss.isVisible()
    window.transport.timeline.setValue(window.transport.timeline.maximum())
    assert window.transport.upto is None


def test_the_frame_timer_wakes_at_once_after_waiting_out_the_budget(window, qtbot):
    """At full speed the frame timer sleeps until the GUI's share allows a frame; a pause, a scrub or a new
    speed brings back the normal tick, so the screen follows at once."""
    from landscape_app.gui.main_drawing import FRAME_MS
    _play_to_end(qtbot, window)
    for act in (lambda: window._state_changed(PAUSED), lambda: window.transport.timeline.setValue(3),
                lambda: window.transport.speed_changed.emit(5.0)):
        window.timer.setInterval(400)
        act()
        assert window.timer.interval() == FRAME_MS


def _scene_pos(view, x, y):
    return view.widget.mapFromScene(view.vb.mapViewToScene(QPointF(x, y)))


def test_click_on_the_contour_sets_the_start_point(window, qtbot):
    _ready(qtbot, window)
    contour = window.views.contour
    pos = _scene_pos(contour, 5.0, 7.0)
    qtbot.mouseClick(contour.widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: abs(window.experiment.start[0] - 5.0) < 0.5, timeout=WAIT)
    w, b = window.experiment.start
    assert abs(w - 5.0) < 0.5 and abs(b - 7.0) < 0.5
    assert window.panel.start.entries["w"].text() == f"{w:.6g}"
    _ready(qtbot, window)
    np.testing.assert_allclose(window.playback.path(0).params[0], [w, b], rtol=1e-6)


def test_races_add_edit_remove(window, qtbot):
    for _ in range(3):
        window.add_run()
    assert len(window.session.runs) == 4
    assert {r.optimizer for r in window.session.runs} >= {"sgd", "adam", "rmsprop"}
    colours = [s.color for s in window.run_styles()]
    assert len(set(colours)) == 4 and colours == list(RUN_COLORS[:4])
    assert window.legend.names() == list(window.session.names)      # one legend above the views
    assert window.views.contour.legend_names() == []                   # none over the paths
    window.runs_panel.list.setCurrentRow(2)
    assert window.row == 2 and window.panel.experiment is window.session.runs[2]
    _type(window.panel.optimizer.lr.entry, "0.07")
    assert window.session.runs[2].lr == 0.07 and window.session.runs[0].lr == 0.1
    _type(window.panel.data.knobs["noise"], "0.3")        # shared: every run follows
    assert all(r.data.source.params["noise"] == 0.3 for r in window.session.runs)
    _ready(qtbot, window)
    with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
        window.step()
    qtbot.waitUntil(lambda: _lengths(window) == [2, 2, 2, 2], timeout=WAIT)
    window.remove_run(1)
    assert len(window.session.runs) == 3 and window.run_ids == [0, 2, 3]
    assert [s.color for s in window.run_styles()] == [RUN_COLORS[0], RUN_COLORS[2], RUN_COLORS[3]]
    window.rename_run(0, "baseline")
    assert window.session.names[0] == "baseline"


@pytest.mark.parametrize("preset", [p.name for p in list_presets()])
def test_every_preset_loads_and_steps(window, qtbot, preset):
    window.apply_preset(preset)
    session = load_preset(preset)
    assert window.session.title == session.title
    assert window.description_label.text() == keep_formulas_whole(session.description)
    assert len(session.description) > 20
    _ready(qtbot, window)
    assert len(_lengths(window)) == len(session.runs)
    if window.controller.fitting.training_ahead:
        # A network on the plane of its paths: the runs train ahead, then Step walks the race on the fitted plane.
        qtbot.waitUntil(lambda: window.controller.fit_phase == "fitted", timeout=WAIT * 4)
        assert window.views.contour.surface.plane.kind == session.plane_settings.kind
        window.step()
        assert window.transport.upto == 2
    else:
        with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
            window.step()
        qtbot.waitUntil(lambda: all(n == 2 for n in _lengths(window)), timeout=WAIT)
    window.redraw()
    assert np.isfinite(window.views.contour.surface.loss).all()


def test_divergence_is_reported_and_the_path_stays(window, qtbot):
    window.apply_preset("learning-rate-too-large")
    _play_to_end(qtbot, window)
    outcomes = [window.playback.outcome(rid)[0] for rid in window.run_ids]
    assert outcomes == ["finished", "finished", "diverged"]
    assert "diverged" in window.status.alert.text() and "stays on screen" in window.status.alert.text()
    assert len(window.playback.path(2)) > 2
    assert "diverged" in window.runs_panel.list.item(2).text()


def test_session_save_open_round_trip_and_recent(window, qtbot, tmp_path):
    window.apply_preset("adam-vs-sgd")
    path = tmp_path / "race.toml"
    window.save_to(path)
    saved = window.session
    window.new_session()
    assert len(window.session.runs) == 1
    assert window.open_path(str(path))
    assert session_to_dict(window.session) == session_to_dict(saved)
    assert recent_sessions() == [str(path.resolve())]
    assert (tmp_path / "settings.ini").exists()


def test_bad_session_file_is_shown_not_raised(window, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[experiment]\nlr = -1\n")
    assert not window.open_path(str(bad))
    assert window.message_box is not None and "lr" in window.message_box.text()
    assert len(window.session.runs) == 1


def test_mixed_losses_are_explained(window, qtbot):
    window.apply_preset("outliers-mse-l1-huber")
    assert "differ in loss" in window.scene_label.text()
    window.runs_panel.list.setCurrentRow(1)
    _settle(qtbot, window)
    assert window.views.contour.surface.criterion == "l1"
    assert "L1" in window.scene_label.text()


def test_minibatch_view_follows_the_batch(window, qtbot):
    window.apply_preset("batch-sizes")
    window.runs_panel.list.setCurrentRow(1)           # mini-batches of 10
    window.set_minibatch_view(True)
    _ready(qtbot, window)
    with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
        window.step()
    qtbot.waitUntil(lambda: all(n == 2 for n in _lengths(window)), timeout=WAIT)
    _settle(qtbot, window)
    mb = window.views.minibatch
    assert mb.isVisible() and "batch of 10" in mb.title()
    assert not np.allclose(mb.surface.loss, window.views.contour.surface.loss)


def test_plane_slice_follows_the_training(window, qtbot):
    window.panel.model.model.setCurrentIndex(window.panel.model.model.findData("plane"))
    assert window.experiment.model == "plane"
    assert "held" in window.scene_label.text()
    _settle(qtbot, window)
    first = window.views.contour.surface.loss.copy()
    _play_to_end(qtbot, window)
    qtbot.waitUntil(lambda: (window.redraw() or True) and not np.allclose(window.views.contour.surface.loss,
                                                                          first), timeout=WAIT)
    held = window.views.contour.surface.held
    assert held and abs(list(held.values())[0] - 3.0) > 1e-3      # no longer the start's b = 3


def test_lecture_mode_and_view_options(window, qtbot):
    from PySide6.QtWidgets import QApplication
    size = QApplication.font().pointSizeF()
    window.set_lecture_mode(True)
    assert QApplication.font().pointSizeF() > size
    window.set_log_scale(True)
    assert window.views.contour.log_scale
    window.set_gradient_field(True)
    assert window.views.contour.gradient_field
    window.set_lecture_mode(False)
    assert QApplication.font().pointSizeF() == size


def test_closing_mid_run_stops_the_thread(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LANDSCAPE_APP_SETTINGS", str(tmp_path / "s.ini"))
    w = MainWindow(Session((la.Experiment(epochs=1_000_000, batch_size=1),)))
    qtbot.addWidget(w)
    w.show()
    w.playback.set_speed(None)
    w.toggle_play()
    qtbot.waitUntil(lambda: len(w.playback.path(0)) > 50, timeout=WAIT)
    w.close()
    assert live_threads() == []


def test_hundred_quick_start_stop_cycles(window, qtbot):
    _type(window.panel.training.epochs, "1000000")
    for i in range(100):
        window.toggle_play()
        if i % 3 == 0:
            qtbot.wait(1)
        window.toggle_play() if window.playback.state == PLAYING else None
        window.reset()
    _ready(qtbot, window)
    with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
        window.step()
    qtbot.waitUntil(lambda: _lengths(window) == [2], timeout=WAIT)


def _near_colour(img, x, y, colour, radius=3, tol=40):
    c = QColor(colour)
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            px = img.pixelColor(int(x) + dx, int(y) + dy)
            if abs(px.red() - c.red()) + abs(px.green() - c.green()) + abs(px.blue() - c.blue()) < tol:
                return True
    return False


def test_screenshot_pixels_lie_on_the_path(window, qtbot):
    window.apply_preset("adam-vs-sgd")
    _play_to_end(qtbot, window)
    window.transport.timeline.setValue(15)       # mid-way, where the paths are apart
    window.redraw()
    contour = window.views.contour
    img = contour.widget.grab().toImage()
    for row, rid in enumerate(window.run_ids):
        traj = window.playback.path(rid)
        colour = window.run_styles()[row].color
        hits = 0
        for i in range(3, 15):
            mid = (traj.params[i] + traj.params[i + 1]) / 2      # on the segment, between markers
            p = _scene_pos(contour, *mid)
            hits += _near_colour(img, p.x(), p.y(), colour)
        assert hits >= 8, f"run {row} ({colour}): path colour found at {hits} of 12 segment midpoints"
    # and the colour is not everywhere: a corner of the map far from every path has none of it
    p = _scene_pos(contour, 18.0, 18.0)
    assert not any(_near_colour(img, p.x(), p.y(), s.color) for s in window.run_styles())
