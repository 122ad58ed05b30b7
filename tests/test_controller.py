"""The controller: surfaces computed off the GUI thread, stale ones dropped, grid edits that never retrain."""
import threading

import numpy as np
import pytest

import landscape_app as la
from landscape_app.gui.jobs import Jobs
from landscape_app.gui.scene_controller import SceneController
from landscape_app.gui.scene_settings import training_differs

from app_window import WAIT, lengths, play_to_end, ready, settle

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def test_a_superseded_job_is_dropped_and_stopped(qtbot):
    jobs = Jobs()
    release = threading.Event()
    seen_stop = []

    def slow(stop, progress):
        release.wait(WAIT / 1000)
        seen_stop.append(stop.is_set())
        return "old"

    done = []
    jobs.done.connect(lambda channel, context, result: done.append((channel, context, result)))
    jobs.submit("surface", slow, "first")
    jobs.submit("surface", lambda stop, progress: "new", "second")
    release.set()
    qtbot.waitUntil(lambda: not jobs.busy, timeout=WAIT)
    jobs.shutdown()
    qtbot.wait(10)
    assert done == [("surface", "second", "new")]       # the first one's result never arrived
    assert seen_stop == [True]                          # and it was told to stop


def test_a_failing_job_reports_and_leaves_the_pool_working(qtbot):
    jobs = Jobs()
    failed, done = [], []
    jobs.failed.connect(lambda channel, context, message: failed.append(message))
    jobs.done.connect(lambda channel, context, result: done.append(result))

    def boom(stop, progress):
        raise ValueError("no such surface")

    with qtbot.waitSignal(jobs.failed, timeout=WAIT):
        jobs.submit("surface", boom)
    with qtbot.waitSignal(jobs.done, timeout=WAIT):
        jobs.submit("surface", lambda stop, progress: 42)
    jobs.shutdown()
    assert failed == ["ValueError: no such surface"] and done == [42]


def test_the_surface_is_computed_off_the_gui_thread(qtbot, monkeypatch):
    from landscape_app.gui import scene_controller
    threads = []
    real = scene_controller.compute_surface

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(scene_controller, "compute_surface", spy)
    scene = SceneController()
    exp = la.Experiment(grid=la.Grid(resolution=(31, 21)))
    with qtbot.waitSignal(scene.surface_ready, timeout=WAIT) as ready_signal:
        scene.show(exp)
    scene.shutdown()
    shown_exp, surface = ready_signal.args
    assert shown_exp is exp and surface.loss.shape == (21, 31)
    assert threads and threading.main_thread() not in threads


def test_only_the_last_of_quick_edits_is_shown(qtbot):
    scene = SceneController()
    shown = []
    scene.surface_ready.connect(lambda exp, surface: shown.append(surface.loss.shape))
    base = la.Experiment()
    for n in (41, 51, 61, 71):
        scene.show(base.replace(grid=la.Grid(resolution=(n, n))))
    assert scene.wait(WAIT / 1000)
    scene.shutdown()
    assert shown[-1] == (71, 71) and set(shown) <= {(41, 41), (71, 71)}   # a superseded edit never lands last


def test_grid_edits_are_scene_settings_and_the_rest_trains():
    exp = la.Experiment()
    assert not training_differs(exp, exp.replace(grid=la.Grid(resolution=(11, 11), x_range=(-3.0, 3.0))))
    assert training_differs(exp, exp.replace(lr=0.05))
    assert training_differs(exp, exp.replace(model="plane", data=la.make_dataset("plane"), start=None, grid=la.Grid()))


def test_a_grid_edit_recomputes_the_surface_and_keeps_the_runs(window, qtbot):
    play_to_end(qtbot, window)
    before = dict(window.playback.paths())
    generation = window.playback.generation
    exp = window.experiment
    window.experiment_edited(exp.replace(grid=la.Grid(x_range=(-30.0, 10.0), y_range=(-12.0, 12.0),
                                                      resolution=(81, 61))))
    settle(qtbot, window)
    surface = window.views.contour.surface
    assert surface.loss.shape == (61, 81) and surface.w[0] == -30.0
    assert window.playback.generation == generation               # not retrained
    after = window.playback.paths()
    assert all(after[rid].equals(before[rid]) for rid in before)
    assert window.session.runs[0].grid.resolution == (81, 61)      # saved with the session


def test_a_training_edit_retrains(window, qtbot):
    ready(qtbot, window)
    generation = window.playback.generation
    window.experiment_edited(window.experiment.replace(lr=0.05))
    assert window.playback.generation == generation + 1
    qtbot.waitUntil(lambda: lengths(window) and lengths(window)[0] >= 1, timeout=WAIT)


def test_the_window_draws_while_a_big_surface_computes(window, qtbot):
    """The edit returns before the surface exists; the old surface stays on screen until the new one lands."""
    settle(qtbot, window)
    old = window.views.contour.surface
    exp = window.experiment
    window.experiment_edited(exp.replace(grid=la.Grid(resolution=(801, 801))))
    assert window.views.contour.surface is old and window.scene.busy
    assert window.status._busy_timer.isActive()          # the status bar's progress shows if it takes a moment
    settle(qtbot, window)
    assert window.views.contour.surface.loss.shape == (801, 801)
    assert not window.status.busy.isVisible() and not window.status._busy_timer.isActive()
    assert np.isfinite(window.views.contour.surface.loss).all()
