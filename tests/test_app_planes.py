"""The plane chooser in the panel: a plane change recomputes the surface off the GUI thread and never retrains;
planes fitted to finished runs (PCA, three points) train the runs to their end, fit, then replay the race."""

import numpy as np
import pytest

import landscape_app as la
from app_window import WAIT, lengths, play_to_end, ready, settle
from landscape_app.core.data import make_dataset
from landscape_app.core.plane_settings import PlaneSettings
from landscape_app.core.presets import load_preset
from landscape_app.core.tomlio import load_session
from landscape_app.gui import plane_text, scene_controller

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def small_race(runs: int = 2, epochs: int = 3, plane: PlaneSettings | None = PlaneSettings()):
    """mlp-moons, shortened: two runs of 48 steps (SGD and Adam), on the random plane unless ``plane`` says."""
    session = load_preset("mlp-moons")
    chosen = tuple(r.replace(epochs=epochs) for r in session.runs[:runs])
    return session.replace(runs=chosen, names=session.names[:runs], colors=session.colors[:runs], plane=plane)


@pytest.fixture
def computed_on(thread_spy):
    """Records, for every plane built and every surface computed, whether it ran on the GUI thread."""
    thread_spy.watch(scene_controller, "build_plane", "plane")
    thread_spy.watch(scene_controller, "compute_surface", "surface")
    return thread_spy.seen


def _step(qtbot, window, n):
    ready(qtbot, window)
    for _ in range(n):
        with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
            window.step()
    settle(qtbot, window)


def _surface_plane(window):
    return window.views.contour.surface.plane


def _choose(window, kind: str) -> None:
    combo = window.panel.plane.choice
    combo.setCurrentIndex(combo.findData(kind))


def test_the_chooser_recomputes_the_surface_and_never_retrains(window, qtbot, computed_on):
    window.set_session(small_race())
    _step(qtbot, window, 3)
    before, generation = lengths(window), window.playback.generation
    plane = window.panel.plane
    assert plane.choice.isVisibleTo(window) and not plane.kind.isVisibleTo(window)

    combo = plane.normalization
    combo.setCurrentIndex(combo.findData("none"))
    settle(qtbot, window)
    shown = _surface_plane(window)
    assert shown.kind == "random" and shown.info["normalization"] == "none"
    assert "not normalised" in window.scene_label.text()

    _choose(window, "hessian")
    settle(qtbot, window)
    shown = _surface_plane(window)
    assert shown.kind == "hessian" and window.views.contour.surface.axes[0].startswith("Hessian 1 (λ=")
    np.testing.assert_allclose(shown.origin, window.experiment.start_vector())     # at the start
    assert "λ1=" in window.scene_label.text()
    assert not plane.seed.isVisibleTo(window) and plane.at.isVisibleTo(window)

    assert lengths(window) == before and window.playback.generation == generation     # nothing retrained
    assert window.session.plane == PlaneSettings("hessian", normalization="none")
    assert window.controller.unsaved                                                  # saved with the session
    assert {name for name, _ in computed_on} == {"plane", "surface"}
    assert not any(on_gui for _, on_gui in computed_on), computed_on


def test_a_hessian_at_the_shown_step_is_taken_there(window, qtbot):
    window.set_session(small_race(runs=1))
    _step(qtbot, window, 4)
    window.panel.plane.choice.setCurrentIndex(window.panel.plane.choice.findData("hessian"))
    settle(qtbot, window)
    at = window.panel.plane.at
    at.setCurrentIndex(at.findData("current"))
    settle(qtbot, window)
    path = window.playback.paths()[window.run_ids[0]]
    shown = _surface_plane(window)
    assert shown.info["at"] == f"iteration {int(path.iteration[-1])}"
    np.testing.assert_allclose(shown.origin, path.params[-1])
    assert window.panel.plane.here.isVisibleTo(window)
    # Scrubbed back to the first step, "Here" takes the Hessian there.
    window.transport.show_point(0)
    window.panel.plane.here.click()
    settle(qtbot, window)
    assert _surface_plane(window).info["at"] == f"iteration {int(path.iteration[0])}"


def test_the_pca_plane_trains_the_runs_to_the_end_fits_and_replays(window, qtbot, computed_on):
    window.set_session(small_race())
    _step(qtbot, window, 2)
    generation, speed = window.playback.generation, window.playback.speed
    window.playback.set_speed(5.0)          # a lecture's pace: the runs still train to their end flat out
    replays = []
    window.controller.plane_replay.connect(lambda play: replays.append((play, window.transport.upto)))
    messages = []
    window.controller.scene_text_changed.connect(lambda: messages.append(window.scene_label.text()))
    _choose(window, "pca")
    assert window.controller.fit_phase == plane_text.TRAINING
    assert window.scene_label.text().startswith("Training the runs ahead to fit the PCA plane")
    assert window.playback.speed is None
    qtbot.waitUntil(lambda: window.controller.fit_phase in (plane_text.REPLAYING, plane_text.FITTED), timeout=WAIT)
    assert replays == [(True, 1)]           # chosen in the panel: the replay starts at the first point
    assert any(m.startswith("Replaying on the PCA plane of the finished runs") for m in messages)
    assert window.playback.speed == 5.0     # the speed control's pace is back for the replay
    # The plane is the PCA of the finished paths, every run's, and the same race: nothing was retrained.
    assert window.playback.generation == generation
    paths = [window.playback.paths()[rid] for rid in window.run_ids]
    assert all(len(p) == 49 for p in paths)
    expected = la.Plane.pca(paths)
    shown = _surface_plane(window)
    assert shown.kind == "pca" and shown.labels == expected.labels and shown.labels[0].startswith("PCA 1 (")
    np.testing.assert_allclose(np.abs(shown.d1 @ expected.d1), 1.0, rtol=1e-6)
    assert window.views.contour.plot.getAxis("bottom").labelText == shown.labels[0]
    window.replay.stop()
    assert window.controller.fit_phase == plane_text.FITTED
    assert "PCA plane of the runs' own paths (PCA 1" in window.scene_label.text()
    assert not any(on_gui for _, on_gui in computed_on), computed_on
    window.playback.set_speed(speed)


def test_a_pca_session_trains_ahead_at_once_then_waits_on_its_plane_for_play(window, qtbot):
    window.set_session(small_race(plane=PlaneSettings("pca")))
    # No Play pressed: the runs train ahead at once, and meanwhile the line says so and no path is drawn.
    assert window.controller.fit_phase == plane_text.TRAINING and window.controller.fitting.training_ahead
    assert window.panel.plane.choice.currentData() == "pca"
    assert window.scene_label.text().startswith("Training the runs ahead to fit the PCA plane")
    assert window.transport.play_button.text().endswith("Play")
    qtbot.waitUntil(lambda: window.controller.fit_phase == plane_text.FITTED, timeout=WAIT)
    settle(qtbot, window)
    assert _surface_plane(window).kind == "pca" and not window.replay.active
    assert window.transport.upto == 1                     # at the start, on the fitted plane
    assert "PCA plane of the runs' own paths (PCA 1" in window.scene_label.text()
    window.toggle_play()                                   # Play replays the race on it
    assert window.replay.active
    window.replay.stop()
    # Reset: the same plane stays shown until the new runs are fitted (they train ahead again).
    window.reset()
    assert window.controller.fit_phase == plane_text.TRAINING and _surface_plane(window).kind == "pca"
    qtbot.waitUntil(lambda: window.controller.fit_phase == plane_text.FITTED, timeout=WAIT)


def test_play_pressed_while_the_runs_train_ahead_replays_once_the_plane_is_fitted(window, qtbot):
    window.set_session(small_race(epochs=60, plane=PlaneSettings("pca")))      # ~2,000 steps: still training
    assert window.controller.fitting.training_ahead
    window.toggle_play()
    assert window.controller.fitting.watch and window.transport.play_button.text().endswith("Pause")
    assert window.playback.state == "playing"                                 # Play did not pause the training
    assert window.scene_label.text().startswith("Training the runs ahead")
    qtbot.waitUntil(lambda: window.controller.fit_phase == plane_text.REPLAYING, timeout=WAIT * 4)
    assert window.replay.active and _surface_plane(window).kind == "pca"
    window.replay.stop()


def test_three_points_need_two_runs_and_go_through_their_ends(window, qtbot):
    window.set_session(small_race(runs=1))
    _choose(window, "through")
    assert window.controller.fit_phase == plane_text.NEEDS_RUNS
    assert "needs two runs" in window.scene_label.text()
    window.set_session(small_race(runs=2))
    _choose(window, "through")
    qtbot.waitUntil(lambda: window.controller.fit_phase in (plane_text.REPLAYING, plane_text.FITTED), timeout=WAIT)
    settle(qtbot, window)
    shown = _surface_plane(window)
    paths = [window.playback.paths()[rid] for rid in window.run_ids]
    assert shown.kind == "through"
    for point, expected in ((paths[0].params[0], (0, 0)), (paths[0].params[-1], (1, 0)),
                            (paths[1].params[-1], (0, 1))):
        a, b, d = shown.project(point)
        assert (a, b) == pytest.approx(expected, abs=1e-6) and d == pytest.approx(0, abs=1e-6)
    surface = window.views.contour.surface          # drawn over the three points, not the grid's [-1, 1]
    assert surface.alpha.min() < 0 < 1 < surface.alpha.max() and surface.beta.min() < 0 < 1 < surface.beta.max()


def test_the_plane_is_saved_with_the_session(window, qtbot, tmp_path):
    window.set_session(small_race())
    settle(qtbot, window)
    window.panel.plane.button.click()                       # New directions: seed 1
    combo = window.panel.plane.normalization
    combo.setCurrentIndex(combo.findData("layer"))
    settle(qtbot, window)
    path = tmp_path / "planes.toml"
    la.save(window.session, path)
    loaded = load_session(path)
    assert loaded.plane == PlaneSettings(seed=1, normalization="layer")
    window.set_session(small_race())
    settle(qtbot, window)
    assert window.panel.plane.seed.text() == "0"
    window.load_session_file(path)
    settle(qtbot, window)
    assert window.panel.plane.seed.text() == "1" and window.panel.plane.normalization.currentData() == "layer"
    shown = _surface_plane(window)
    assert shown.info["seed"] == 1 and shown.info["normalization"] == "layer"


@pytest.mark.parametrize("name, kind", [("pca-trajectory", "pca"), ("filter-normalisation", "pca")])
def test_the_plane_presets_play_on_their_plane(window, qtbot, name, kind):
    window.apply_preset(name)
    session = window.session
    window.set_session(session.replace(runs=tuple(r.replace(epochs=2) for r in session.runs)))
    play_to_end(qtbot, window)
    if kind == "pca":
        qtbot.waitUntil(lambda: window.controller.fit_phase in (plane_text.REPLAYING, plane_text.FITTED),
                        timeout=WAIT)
    settle(qtbot, window)
    shown = _surface_plane(window)
    assert shown.kind == kind
    if name == "filter-normalisation":
        # The paths travel on their own plane; beside it, the random slice through the start, not normalised.
        qtbot.waitUntil(lambda: window.views.beside.surface is not None, timeout=WAIT)
        beside = window.views.beside.surface.plane
        assert beside.kind == "random" and beside.info["normalization"] == "none"
        assert "not normalised" in window.views.beside.title_label.text()
    # Honest about the projection: under the loss curve each run reads its distance off the plane.
    assert "off the plane" in window.views.projection_note.text()


def test_a_data_edit_drops_the_fitted_plane_until_the_new_runs_end(window, qtbot):
    window.set_session(small_race(plane=PlaneSettings("pca")))
    play_to_end(qtbot, window)
    qtbot.waitUntil(lambda: window.controller.fit_phase in (plane_text.REPLAYING, plane_text.FITTED), timeout=WAIT)
    window.replay.stop()
    settle(qtbot, window)
    assert _surface_plane(window).kind == "pca"
    exp = window.experiment
    window.experiment_edited(exp.replace(data=make_dataset("moons", n_samples=200, noise=0.2, seed=1)))
    assert len(window.experiment.data) == 200
    # The old paths were fitted to other data: the random plane, meanwhile, until the new runs end.
    assert window.controller.fit_phase == plane_text.TRAINING and window.status.alert.text() == ""
    meanwhile, _, _ = window.scene.planes.inputs(window.experiment)
    assert meanwhile.kind == "random"
    play_to_end(qtbot, window)
    qtbot.waitUntil(lambda: window.controller.fit_phase in (plane_text.REPLAYING, plane_text.FITTED), timeout=WAIT)
    settle(qtbot, window)
    assert _surface_plane(window).kind == "pca" and _surface_plane(window).dim == window.experiment.param_count


def test_a_runaway_run_leaves_the_three_point_view_and_the_loss_axis(window, qtbot):
    """RMSprop at lr 1000 beside two sane runs: the plane through the start and their ends spans the sane paths
    (the loss axis's rule for runs that leave), so the contour is not stretched to the runaway's far end; the loss
    axis keeps to the sane losses, and marks the runaway off the scale."""
    race = small_race(plane=PlaneSettings("through", points=(1, 2)))
    runaway = race.runs[0].replace(optimizer="rmsprop", optimizer_options={}, lr=1000.0)
    window.set_session(race.replace(runs=(*race.runs, runaway), names=(*race.names, "RMSprop, lr 1000"),
                                    colors=(*race.colors, None)))
    play_to_end(qtbot, window)
    qtbot.waitUntil(lambda: window.controller.fit_phase == plane_text.FITTED, timeout=WAIT)
    window.transport.follow()               # the race to its end on the fitted plane, as Play would replay it
    window.playback.dirty = True
    settle(qtbot, window)
    shown = window.views.contour.surface
    assert shown.plane.kind == "through"
    paths = [window.playback.paths()[rid] for rid in window.run_ids]
    assert paths[2].loss.max() > 1000 * paths[2].loss[0]            # it did run away
    width = shown.alpha.max() - shown.alpha.min()
    assert width < 3.0                                             # the sane runs' ends sit at 0 and 1
    far, _, _ = shown.plane.project(paths[2].params[-1])
    assert abs(far) > 100 * width
    loss = window.views.loss
    assert loss.vb.viewRange()[1][1] < 10.0
    assert loss.mark_texts() == {window.run_ids[2]: "↑ off the scale"}
