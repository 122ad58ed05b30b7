"""A path projected from its start begins with its first points alone, so that a race replayed on a plane fitted to
it moves on screen at once; the rest follows in the next job, and the whole equals the plane's projection."""
import numpy as np
import pytest

import landscape_app as la
from landscape_app.core.projection import plane_losses
from landscape_app.gui.scene_controller import FIRST_POINTS, SceneController

WAIT = 60_000


@pytest.fixture
def scene(qapp):
    s = SceneController(follow_every_s=0)
    yield s
    s.shutdown()


def test_a_new_path_is_projected_first_points_first(qtbot, scene):
    exp = la.Experiment(data=la.make_dataset("moons", n_samples=60, noise=0.2), model="mlp",
                        model_options={"hidden": (5,)}, optimizer="adam", lr=0.05, batch_size=10, epochs=4)
    path = la.run(exp)
    assert len(path) > 2 * FIRST_POINTS
    scene.set_plane(la.PlaneSettings("random"), show=False)
    with qtbot.waitSignal(scene.surface_ready, timeout=WAIT):
        scene.show(exp)
    assert scene.wait(WAIT / 1000)
    assert scene.projected_paths({0: path}) == {}           # asked for: the first points only
    with qtbot.waitSignal(scene.projected_changed, timeout=WAIT):
        pass
    first = scene.projected_paths({0: path})[0]             # and now the rest is asked for
    assert len(first.distance) == FIRST_POINTS
    with qtbot.waitSignal(scene.projected_changed, timeout=WAIT):
        pass
    whole = scene.projected_paths({0: path})[0]
    assert len(whole.distance) == len(path)
    alpha, beta, distance = scene.plane.project(path.params)
    np.testing.assert_array_equal(whole.distance, distance)
    np.testing.assert_allclose(whole.surface_loss, plane_losses(exp, scene.plane, scene.plane.point(alpha, beta)),
                               rtol=1e-6)
