"""What the main window says must be true: every loss curve in its axis's unit, a hover reading that never goes
stale, a timeline, views and status bar that agree after a replay, a status bar that says where each loss was
taken, and a loss axis that keeps to the runs that did not diverge."""
import numpy as np
import pytest
from PySide6.QtCore import QPointF

from landscape_app.core.surface import loss_at
from landscape_app.gui.playback import FINISHED, PAUSED, PLAYING
from landscape_app.gui.views.loss_curve import OWN_LOSSES_LABEL

from app_window import WAIT
from app_window import lengths as _lengths, play_to_end as _play_to_end, ready as _ready, settle

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _shown_iteration(w) -> int:
    return int(w.status.position.text().split(" ")[1])


def test_loss_curves_of_other_criteria_are_shown_in_the_axis_unit(window, qtbot):
    """MSE, L1 and Huber race on the MSE surface: the axis says "MSE loss", so every curve is the run's MSE
    (what a student compares), unless the View menu asks for each run's own loss, and then the axis says so."""
    window.apply_preset("outliers-mse-l1-huber")
    _play_to_end(qtbot, window)
    mse = window.experiment
    assert mse.criterion == "mse" and window.views.loss.y_label() == "MSE loss"
    paths = window.playback.paths()
    for rid in (1, 2):                                      # L1 and Huber
        traj = paths[window.run_ids[rid]]
        x, y = window.views.loss.curves[window.run_ids[rid]].full.data()
        at = x.astype(int)
        np.testing.assert_allclose(y, loss_at(mse, traj.params[at]), rtol=1e-12)
        assert not np.allclose(y, traj.loss[at])            # their own losses are other numbers
    # The lesson: MSE's own run reaches the lowest MSE.
    finals = {rid: window.views.loss.curves[rid].full.data()[1][-1] for rid in window.run_ids}
    assert min(finals, key=finals.get) == window.run_ids[0]

    window.actions_by_name["own_losses"].trigger()
    window.redraw()
    assert window.views.loss.plot.getAxis("left").labelText == OWN_LOSSES_LABEL
    traj = paths[window.run_ids[1]]
    x, y = window.views.loss.curves[window.run_ids[1]].full.data()
    np.testing.assert_array_equal(y, traj.loss[x.astype(int)])
    window.actions_by_name["own_losses"].trigger()
    window.redraw()
    assert window.views.loss.plot.getAxis("left").labelText == "MSE loss"

    # Selecting the L1 run shows the L1 surface: now the MSE and Huber runs are drawn at their L1 loss.
    window.runs_panel.list.setCurrentRow(1)
    settle(qtbot, window)           # the L1 surface and the lifted losses are computed off the GUI thread
    assert window.views.loss.y_label() == "L1 loss"
    x, y = window.views.loss.curves[window.run_ids[0]].full.data()
    np.testing.assert_allclose(y, loss_at(window.experiment, paths[window.run_ids[0]].params[x.astype(int)]),
                               rtol=1e-12)
    assert "L1 loss" in window.status.position.text()


def test_hover_reading_clears_when_the_cursor_leaves(window, qtbot):
    _ready(qtbot, window)
    contour = window.views.contour
    pos = contour.widget.mapFromScene(contour.vb.mapViewToScene(QPointF(5.0, 5.0)))
    with qtbot.waitSignal(contour.hovered, timeout=WAIT):
        qtbot.mouseMove(contour.widget.viewport(), pos)
    assert "MSE loss" in window.status.hover.text() and contour.hover_label()
    with qtbot.waitSignal(contour.hover_left, timeout=WAIT):
        qtbot.mouseMove(window.panel, window.panel.rect().center())     # the cursor goes to the panel
    assert window.status.hover.text() == "" and contour.hover_label() == ""
    # A new preset (the cursor is on the menu, not the contour) brings no stale reading back.
    window.apply_preset("outliers-mse-l1-huber")
    assert window.status.hover.text() == "" and contour.hover_label() == ""


def test_play_after_scrubbing_a_finished_run_replays_to_the_end(window, qtbot):
    _play_to_end(qtbot, window)
    last = _lengths(window)[0] - 1
    window.transport.timeline.setValue(5)
    window.redraw()
    assert _shown_iteration(window) == 5
    # Step on a scrubbed-back timeline: one recorded step forward, no training.
    window.step()
    window.redraw()
    assert window.transport.timeline.value() == 6 and _shown_iteration(window) == 6
    assert window.views.loss.timeline.value() == 6 and _lengths(window)[0] == last + 1
    # Play replays from there to the end (at full speed, briefly); timeline, views and status bar agree.
    with qtbot.waitSignal(window.replay.finished, timeout=WAIT):
        window.toggle_play()
        assert window.replay.active and "Pause" in window.transport.play_button.text()
    window.redraw()
    assert window.transport.upto is None and window.transport.timeline.value() == last
    assert _shown_iteration(window) == last and window.views.loss.timeline.value() == last
    assert window.playback.state == FINISHED and "Play" in window.transport.play_button.text()


def test_pausing_a_replay_keeps_everything_at_one_point(window, qtbot):
    _play_to_end(qtbot, window)
    window.playback.set_speed(1.0)             # a slow replay, paused at once
    window.transport.timeline.setValue(3)
    window.toggle_play()
    assert window.replay.active
    window.toggle_play()
    assert not window.replay.active and "Play" in window.transport.play_button.text()
    window.redraw()
    index = window.transport.timeline.value()
    assert window.transport.upto == index + 1
    assert _shown_iteration(window) == index and window.views.loss.timeline.value() == index


def test_a_replay_of_a_paused_run_goes_on_training(window, qtbot):
    window.panel.training.epochs.setText("1000000")
    window.panel.training.epochs.edited.emit()
    _ready(qtbot, window)
    for _ in range(4):
        with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
            window.step()
    qtbot.waitUntil(lambda: _lengths(window) == [5], timeout=WAIT)
    window.redraw()
    window.transport.timeline.setValue(1)
    with qtbot.waitSignal(window.replay.finished, timeout=WAIT):
        window.toggle_play()
    assert window.playback.state == PLAYING
    qtbot.waitUntil(lambda: _lengths(window)[0] > 8, timeout=WAIT)
    with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
        window.toggle_play()
    assert window.playback.state == PAUSED


def test_status_bar_says_where_each_loss_was_taken(window, qtbot):
    _ready(qtbot, window)
    window.redraw()
    assert "before this update" not in window.status.position.text()     # the start point has no batch
    with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
        window.step()
    qtbot.waitUntil(lambda: _lengths(window) == [2], timeout=WAIT)
    window.redraw()
    traj = window.playback.path(0)
    text = window.status.position.text()
    assert f"MSE loss {traj.loss[1]:.4g}" in text
    assert f"batch loss {traj.batch_loss[1]:.4g} before this update" in text
    # With the full batch, the batch loss is the full loss at the parameters before the update.
    assert traj.batch_loss[1] == pytest.approx(traj.loss[0], rel=1e-4)      # float32 vs float64


def test_a_diverged_run_does_not_flatten_the_others(window, qtbot):
    window.apply_preset("learning-rate-too-large")
    _play_to_end(qtbot, window)
    window.views.loss.render_image(700, 480)
    start = window.playback.path(window.run_ids[0]).loss[0]
    assert window.views.loss.vb.viewRange()[1][1] < 1.3 * start
    assert window.views.loss.mark_texts() == {window.run_ids[2]: "↑ diverged"}


def test_the_divergence_message_the_timeline_and_the_status_bar_agree(window, qtbot):
    """The update that diverges is not recorded: "diverged at iteration 52" named that update while the timeline and
    the status bar stopped at 51 and said nothing more. One rule now: the message names the update that diverged,
    the path (timeline, status bar) ends at the step before, and the alert and the status bar say so."""
    from landscape_app.core.session import Session
    from landscape_app.core.presets import load_preset
    preset = load_preset("learning-rate-too-large")
    window.set_session(Session((preset.runs[2],), names=(preset.names[2],)))      # lr 0.4 alone: it diverges
    _play_to_end(qtbot, window)
    traj = window.playback.path(window.run_ids[0])
    last = int(traj.iteration[-1])
    assert traj.outcome == "diverged" and f"diverged at iteration {last + 1} " in traj.message
    window.playback.dirty = True
    window.redraw()
    assert window.transport.position_label.text() == f"iteration {last}"
    assert window.status.position.text().startswith(f"iteration {last} (the last before it diverged)")
    alert = window.status.alert.toolTip()
    assert f"diverged at iteration {last + 1} " in alert and alert.endswith(f"its path up to iteration {last} "
                                                                               "stays on screen")
    # Scrubbed back, the status bar reads a step like any other.
    window.transport.show_point(3)
    window.redraw()
    assert window.status.position.text().startswith("iteration 3  ·")
