"""Networks in the window: a random plane through the start, projected paths told apart from the paths, decision
regions and digits, all computed off the GUI thread; the panel's networks, data and plane."""

import numpy as np
import pytest

import landscape_app as la
from app_window import WAIT, lengths, ready, settle, type_into
from landscape_app.core.presets import load_preset
from landscape_app.core.projection import plane_losses
from landscape_app.gui import projected as projecting
from landscape_app.gui import scene_controller
from landscape_app.gui.projection_note import HEADER, note_lines

# The offscreen platform says so whenever a window is shown.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _mlp(**kw):
    data = la.make_dataset("moons", n_samples=120, noise=0.2, seed=0)
    return la.Experiment(data=data, model="mlp", model_options={"hidden": (6,)}, optimizer="adam", lr=0.02,
                         batch_size=30, shuffle=True, epochs=2, seed=0, **kw)


# -- the projection, without a window -------------------------------------------------------------------------
def test_projected_paths_are_the_planes_projection_with_both_losses():
    exp = _mlp()
    path = la.run(exp)
    plane = la.Plane.random(exp, seed=3)
    proj = projecting.ProjectedPaths()
    proj.reset(exp, plane)
    half = {7: path.upto(4)}
    proj.compute(half)
    assert len(proj.paths(half)[7].distance) == 4
    proj.compute({7: path})             # only the points still missing are projected
    shown = proj.paths({7: path})[7]
    alpha, beta, distance = plane.project(path.params)
    np.testing.assert_array_equal(shown.flat.params, np.stack([alpha, beta], axis=1))
    np.testing.assert_array_equal(shown.distance, distance)
    assert shown.flat.param_names == plane.labels
    np.testing.assert_array_equal(shown.flat.loss, path.loss)              # the run's true loss
    np.testing.assert_allclose(shown.surface_loss, plane_losses(exp, plane, plane.point(alpha, beta)))
    assert distance[0] == pytest.approx(0, abs=1e-9) and distance[-1] > 0   # through the start, then off it
    assert not np.allclose(shown.surface_loss[1:], path.loss[1:])           # a projection is not the path


def test_a_path_that_starts_over_is_projected_anew():
    exp = _mlp()
    path = la.run(exp)
    proj = projecting.ProjectedPaths()
    proj.reset(exp, la.Plane.random(exp))
    proj.compute({0: path})
    assert proj.missing({0: path.upto(2)})[0].start == 0        # shorter than cached: a restarted run
    proj.compute({0: path.upto(2)})
    assert len(proj.paths({0: path})[0].distance) == 2


def test_the_note_gives_true_loss_surface_value_and_distance():
    exp = _mlp()
    path = la.run(exp)
    proj = projecting.ProjectedPaths()
    proj.reset(exp, la.Plane.random(exp))
    proj.compute({1: path})
    p = proj.paths({1: path})[1]
    [(rid, text)] = note_lines({1: p}, {1: "Adam"}, upto=3)
    assert rid == 1 and text == (f"loss {p.flat.loss[2]:.3g} · surface {p.surface_loss[2]:.3g} · "
                                 f"{p.distance[2]:.3g} off the plane")
    # Still projecting beyond the timeline's step (or the live end): the note names the step it shows.
    [(_, late)] = note_lines({1: p}, {1: "Adam"}, upto=len(p.distance) + 5)
    assert late.endswith(f"(step {p.flat.iteration[-1]})")
    behind = proj.paths({1: path.upto(5)})[1]
    assert behind.total == 5 and not note_lines({1: behind}, {}, None)[0][1].endswith(")")
    proj.reset(exp, proj.plane)
    proj.compute({1: path.upto(3)})
    lagging = proj.paths({1: path})[1]
    assert lagging.total == len(path) and len(lagging.distance) == 3
    assert note_lines({1: lagging}, {}, None)[0][1].endswith(f"(step {path.iteration[2]})")


# -- the window -------------------------------------------------------------------------------------------------
@pytest.fixture
def gui_threads(thread_spy):
    """Records the thread of every surface, projection and prediction the window computes."""
    thread_spy.watch(scene_controller, "compute_surface", "surface")
    thread_spy.watch(scene_controller, "predictions", "predictions")
    thread_spy.watch(projecting, "plane_losses", "projection")
    return thread_spy.seen


def _on_random_plane(window, name):
    """A network preset on the random plane through its start (its default is the plane of its paths)."""
    window.set_session(load_preset(name).replace(plane=la.PlaneSettings()))


def _step(qtbot, window, n=3):
    ready(qtbot, window)
    for _ in range(n):
        with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
            window.step()
    settle(qtbot, window)


def test_an_mlp_race_draws_on_a_random_plane_off_the_gui_thread(window, qtbot, gui_threads):
    _on_random_plane(window, "mlp-moons")
    _step(qtbot, window)
    qtbot.waitUntil(lambda: window.views.contour.surface is not None
                    and window.views.contour.surface.plane is not None, timeout=WAIT)
    surface = window.views.contour.surface
    assert surface.plane.kind == "random" and surface.plane.info["seed"] == 0
    assert surface.axes == ("random 1 (filter-normalised)", "random 2 (filter-normalised)")
    assert window.views.contour.plot.getAxis("bottom").labelText == surface.axes[0]
    # The plane goes through the start: every run's first point lies at (0, 0), on the plane.
    settle(qtbot, window)
    projected = window.scene.projected_paths(window.playback.paths())
    assert sorted(projected) == window.run_ids
    for p in projected.values():
        assert p.flat.params[0] == pytest.approx([0, 0], abs=1e-9) and p.distance[0] == pytest.approx(0, abs=1e-9)
    # Said on screen: the paths are projections, with each run's true loss beside the surface's value.
    note = window.views.projection_note
    assert note.isVisible() and HEADER in note.text() and "off the plane" in note.text()
    assert "projections" in window.scene_label.text()
    # The data view draws the decision regions of the selected run at its shown step.
    assert window.views.data.mode == "decision"
    qtbot.waitUntil(lambda: window.views.data.decision.decision is not None, timeout=WAIT)
    decision = window.views.data.decision.decision
    assert decision.run_id == window.run_ids[window.row] and decision.iteration == 3
    kinds = {name for name, _ in gui_threads}
    assert kinds == {"surface", "predictions", "projection"}
    assert not any(on_gui for _, on_gui in gui_threads), gui_threads


def test_new_directions_recompute_the_surface_and_keep_the_runs(window, qtbot):
    _on_random_plane(window, "mlp-moons")
    _step(qtbot, window, 2)
    before = lengths(window)
    generation = window.playback.generation if hasattr(window.playback, "generation") else None
    window.panel.plane.button.click()
    settle(qtbot, window)
    assert window.views.contour.surface.plane.info["seed"] == 1
    assert window.panel.plane.seed.text() == "1" and "seed 1" in window.scene_label.text()
    assert lengths(window) == before                      # a scene edit: nothing retrained
    if generation is not None:
        assert window.playback.generation == generation
    type_into(window.panel.plane.seed, "7")
    settle(qtbot, window)
    assert window.views.contour.surface.plane.info["seed"] == 7 and lengths(window) == before


def test_a_cnn_on_digits_shows_its_digits(window, qtbot, gui_threads):
    _on_random_plane(window, "cnn-digits")
    assert window.session.runs[0].criterion == "cross-entropy"
    _step(qtbot, window, 1)
    assert window.views.data.mode == "digits"
    qtbot.waitUntil(lambda: window.views.data.digits.predictions is not None, timeout=WAIT)
    assert window.views.data.digits.predictions.n_classes == 10
    assert not any(on_gui for _, on_gui in gui_threads)


def test_the_linear_presets_keep_their_parameter_axes(window, qtbot):
    window.apply_preset("mlp-moons")
    settle(qtbot, window)
    window.apply_preset("adam-vs-sgd")
    settle(qtbot, window)
    assert window.views.contour.surface.axes == ("w", "b") and window.scene.plane is None
    assert not window.views.projection_note.isVisible()
    assert window.views.data.mode == "2d" and window.panel.start.isVisibleTo(window.panel)


# -- the panel --------------------------------------------------------------------------------------------------
def _choose(combo, key):
    combo.setCurrentIndex(combo.findData(key))


def test_the_panel_offers_networks_their_data_and_loss(window, qtbot):
    panel = window.panel
    _choose(panel.model.model, "mlp")
    exp = window.experiment
    assert exp.model == "mlp" and exp.data.source.name == "moons" and exp.criterion == "bce-logits"
    assert not panel.start.isVisibleTo(panel) and panel.model.form.isRowVisible(panel.model.hidden)
    # A network's default plane: the PCA plane of its runs' paths, one choice of the panel's plane section
    assert panel.plane.form.isRowVisible(panel.plane.choice) and panel.plane.choice.currentData() == "pca"
    panel.model.hidden.setText("8, 4")
    panel.model.hidden.editingFinished.emit()
    assert window.experiment.model_options["hidden"] == (8, 4)
    _choose(panel.model.activation, "relu")
    assert window.experiment.model_options["activation"] == "relu"
    _choose(panel.data.dataset, "spirals")
    assert window.experiment.data.source.name == "spirals" and window.experiment.model_options["hidden"] == (8, 4)
    _choose(panel.model.model, "cnn")
    exp = window.experiment
    assert exp.data.source.name == "digits" and exp.criterion == "cross-entropy"
    _choose(panel.model.model, "softmax")
    assert window.experiment.criterion == "cross-entropy"
    _choose(panel.model.model, "linear")
    exp = window.experiment
    assert exp.data.source.name == "linear" and exp.criterion == "mse" and exp.grid.axes == ("w", "b")
    assert panel.start.isVisibleTo(panel) and not panel.plane.form.isRowVisible(panel.plane.choice)


def test_a_hidden_layer_that_is_not_a_number_is_named(window, qtbot):
    panel = window.panel
    _choose(panel.model.model, "mlp")
    panel.model.hidden.setText("8, many")
    panel.model.hidden.editingFinished.emit()
    assert not panel.valid and "hidden" in panel.error and "8, many" in panel.error
    assert window.experiment.model_options["hidden"] != (8,)


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_the_export_dialog_draws_on_the_windows_plane(window, qtbot, tmp_path):
    from landscape_app.export.data import load_surface
    from landscape_app.gui.export_dialog import ExportDialog
    _on_random_plane(window, "mlp-moons")
    _step(qtbot, window, 2)
    window.panel.plane.button.click()           # New directions: the plane of seed 1, a scene setting
    settle(qtbot, window)
    shown = window.views.contour.surface
    assert shown.plane.info["seed"] == 1
    scene = window._export_scene()
    assert scene["surface"] is shown and scene["metric"] == "loss" and window.session.plane.seed == 1
    dialog = ExportDialog(window.session, window.playback.paths(), window, **scene)
    qtbot.addWidget(dialog)
    dialog.paths_choice.setCurrentIndex(dialog.paths_choice.findData("window"))
    dialog.path.setText(str(tmp_path / "surface.npz"))
    assert dialog.format.currentData() == ".npz"
    with qtbot.waitSignal(dialog.exported, timeout=WAIT):
        dialog.start_export()
    dialog.done(0)
    _, surface = load_surface(tmp_path / "surface.npz")
    np.testing.assert_array_equal(surface.loss, shown.loss)
    for name in ("origin", "d1", "d2"):
        np.testing.assert_array_equal(getattr(surface.plane, name), getattr(shown.plane, name))
    with np.load(tmp_path / "surface.npz") as z:
        # The window's paths as far as they got (start point and two steps), projected on its plane.
        assert sorted(z["path_iteration"].tolist()) == [0, 0, 1, 1, 2, 2]


def test_a_saved_network_session_opens_and_its_minibatch_surface_lies_on_the_plane(window, qtbot, tmp_path):
    path = tmp_path / "mlp.toml"
    la.save(load_preset("mlp-moons").replace(plane=la.PlaneSettings()), path)
    assert window.open_path(str(path))
    assert window.experiment.model == "mlp" and window.views.data.mode == "decision"
    window.set_minibatch_view(True)
    _step(qtbot, window, 2)
    qtbot.waitUntil(lambda: window.views.minibatch.surface is not None
                    and window.views.minibatch.surface.batch is not None, timeout=WAIT)
    mini, full = window.views.minibatch.surface, window.views.contour.surface
    assert mini.plane is full.plane and mini.axes == full.axes
    np.testing.assert_array_equal(mini.alpha, full.alpha)
    assert len(mini.batch) == window.experiment.batch_size
    assert "batch of 32" in window.views.minibatch.title()
