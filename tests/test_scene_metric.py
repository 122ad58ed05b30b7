"""A network's scene: the accuracy surface as a display setting (recomputed, never retrained), and the mini-batch
surface of the shown step on the network's plane, both computed off the GUI thread."""
import threading

import numpy as np
import pytest

import landscape_app as la
from app_window import WAIT, close_window, lengths, open_window, settle
from landscape_app.core.presets import load_preset
from landscape_app.core.projection import plane_losses
from landscape_app.gui import projected as projecting
from landscape_app.gui import scene_controller
from landscape_app.gui.projection_note import note_lines
from landscape_app.gui.scene_controller import SceneController
from landscape_app.gui.scene_settings import has_accuracy

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _mlp(**kw):
    data = la.make_dataset("moons", n_samples=90, noise=0.2, seed=0)
    return la.Experiment(data=data, model="mlp", model_options={"hidden": (6,)}, optimizer="adam", lr=0.02,
                         batch_size=30, shuffle=True, epochs=2, seed=0, grid=la.Grid(resolution=(9, 7)), **kw)


@pytest.fixture
def threads(monkeypatch):
    """The thread of every surface the scene computes (True: the GUI thread)."""
    seen = []
    real = scene_controller.compute_surface

    def spy(*args, **kwargs):
        seen.append((kwargs.get("metric", "loss"), kwargs.get("batch") is not None,
                     threading.current_thread() is threading.main_thread()))
        return real(*args, **kwargs)

    monkeypatch.setattr(scene_controller, "compute_surface", spy)
    return seen


@pytest.fixture
def scene():
    s = SceneController(follow_every_s=0)
    yield s
    s.shutdown()


def _shown(qtbot, scene, exp):
    with qtbot.waitSignal(scene.surface_ready, timeout=WAIT) as ready:
        scene.show(exp)
    assert scene.wait(WAIT / 1000)
    return ready.args[1]


# -- accuracy -------------------------------------------------------------------------------------------------
def test_accuracy_is_offered_for_classifying_networks_only():
    assert has_accuracy(_mlp())
    assert not has_accuracy(la.Experiment())                                   # the closed-form line
    assert not has_accuracy(la.Experiment(model="logistic"))                   # an exact kernel of losses
    regression = la.Experiment(model="mlp", data=la.make_dataset("linear"), model_options={"hidden": (3,)})
    assert not has_accuracy(regression)


def test_the_accuracy_surface_is_the_cores_on_the_same_plane(qtbot, scene, threads):
    exp = _mlp()
    loss = _shown(qtbot, scene, exp)
    with qtbot.waitSignal(scene.surface_ready, timeout=WAIT) as ready:
        scene.set_metric("accuracy")
    accuracy = ready.args[1]
    assert accuracy.metric == "accuracy" and scene.settings.metric == "accuracy"
    np.testing.assert_array_equal(accuracy.plane.d1, loss.plane.d1)
    expected = la.compute_surface(exp, plane=accuracy.plane, metric="accuracy")
    np.testing.assert_array_equal(accuracy.loss, expected.loss)
    assert set(np.unique(accuracy.loss * 90).round(9)) <= set(np.arange(91.0))   # fractions of 90 samples
    assert [t[0] for t in threads] == ["loss", "accuracy"] and not any(t[2] for t in threads)
    # Paths on it: the surface's value under each projected point is its accuracy there, the note says so.
    path = la.run(exp)
    scene.projected_paths({0: path})
    assert scene.wait(WAIT / 1000)
    p = scene.projected_paths({0: path})[0]
    alpha, beta, _ = accuracy.plane.project(path.params)
    points = accuracy.plane.point(alpha, beta)
    np.testing.assert_allclose(p.surface_loss, plane_losses(exp, accuracy.plane, points, metric="accuracy"))
    np.testing.assert_array_equal(p.flat.loss, path.loss)          # the run's own loss stays its loss
    assert "surface accuracy" in note_lines({0: p}, {}, None)[0][1]
    # A linear model asked for accuracy keeps showing its loss.
    line = _shown(qtbot, scene, la.Experiment())
    assert line.metric == "loss" and scene.shown_metric == "loss"


def test_projections_evaluate_the_metric_they_are_given():
    exp = _mlp()
    path = la.run(exp)
    plane = la.Plane.random(exp)
    proj = projecting.ProjectedPaths()
    proj.reset(exp, plane, "accuracy")
    proj.compute({3: path})
    got = proj.paths({3: path})[3]
    assert got.metric == "accuracy" and np.all((got.surface_loss >= 0) & (got.surface_loss <= 1))


# -- the mini-batch surface on a network's plane ----------------------------------------------------------------
def test_the_minibatch_surface_is_the_shown_steps_batch_on_the_plane(qtbot, scene, threads):
    exp = _mlp()
    full = _shown(qtbot, scene, exp)
    path = la.run(exp)
    scene.set_minibatch(True)
    with qtbot.waitSignal(scene.minibatch_ready, timeout=WAIT) as ready:
        assert scene.update_minibatch(path, 3)
    shown_exp, mini, title = ready.args
    batch = path.batches[2]             # the batch step 2 descended (the shown step, the timeline's third point)
    assert shown_exp is exp and mini.plane is full.plane and len(batch) == 30
    np.testing.assert_array_equal(mini.batch, batch)
    expected = la.compute_surface(exp, plane=full.plane, alpha=full.alpha, beta=full.beta, batch=batch)
    np.testing.assert_array_equal(mini.loss, expected.loss)
    assert not np.allclose(mini.loss, full.loss)
    assert f"Step {path.iteration[2]}: batch of 30" in title
    # Its metric follows the scene's.
    scene.set_metric("accuracy")
    assert scene.wait(WAIT / 1000)
    with qtbot.waitSignal(scene.minibatch_ready, timeout=WAIT) as ready:
        scene.update_minibatch(path, 3)
    assert ready.args[1].metric == "accuracy"
    assert [t[:2] for t in threads] == [("loss", False), ("loss", True), ("accuracy", False), ("accuracy", True)]
    assert not any(t[2] for t in threads)


# -- the window -----------------------------------------------------------------------------------------------------
@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, tmp_path, monkeypatch)
    yield w
    close_window(w)


def test_the_view_menus_accuracy_recomputes_and_never_retrains(window, qtbot):
    action = window.actions_by_name["accuracy"]
    assert not action.isEnabled()                       # the course's line: a loss only
    window.set_session(load_preset("mlp-moons").replace(plane=la.PlaneSettings()))     # a live plane: stepped
    settle(qtbot, window)
    assert action.isEnabled()
    qtbot.waitUntil(lambda: all(n >= 1 for n in lengths(window)) and len(lengths(window)) == 2, timeout=WAIT)
    for _ in range(2):
        with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
            window.step()
    before = lengths(window)
    action.trigger()
    settle(qtbot, window)
    assert window.views.contour.surface.metric == "accuracy" and lengths(window) == before
    assert window.scene_label.text().startswith("Surface: accuracy")
    assert window.views.loss.surface_top is None       # accuracies say nothing of how high a loss goes
    action.trigger()
    settle(qtbot, window)
    assert window.views.contour.surface.metric == "loss" and lengths(window) == before
