"""The surface beside the main one in the window: a race of two networks on one plane shows each network's surface,
each run on its own; the random slice through the start beside the paths' plane. Computed off the GUI thread."""
import numpy as np
import pytest

from app_window import WAIT, play_to_end, settle
from landscape_app.core import surface as core_surface
from landscape_app.core.presets import load_preset
from landscape_app.gui import plane_text
from landscape_app.gui.projection_note import _num

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def shortened(name: str, epochs: int):
    session = load_preset(name)
    return session.replace(runs=tuple(r.replace(epochs=epochs) for r in session.runs))


def fitted_and_beside(qtbot, window) -> None:
    """Play the race to its end, wait for the paths' plane and the surface beside it."""
    play_to_end(qtbot, window)
    qtbot.waitUntil(lambda: window.controller.fit_phase in (plane_text.REPLAYING, plane_text.FITTED), timeout=WAIT)
    window.replay.stop()
    window.transport.follow()               # the note reads the runs' ends
    window._scrub_dirty = True
    qtbot.waitUntil(lambda: window.scene.beside_shown is not None and not window.views.beside.isHidden(),
                    timeout=WAIT)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: len(window.views.projection_note.lines) == len(window.session.runs), timeout=WAIT)


def test_each_network_of_the_batchnorm_race_has_its_own_surface_and_its_runs_read_it(window, qtbot, thread_spy):
    # Every surface computed for the view beside (and any other late import) says on which thread it ran.
    thread_spy.watch(core_surface, "compute_surface", "surface")
    window.set_session(shortened("batchnorm", epochs=4))
    fitted_and_beside(qtbot, window)
    assert thread_spy.seen and not any(on_gui for _, on_gui in thread_spy.seen), thread_spy.seen
    views, scene = window.views, window.scene
    assert views.beside.title_label.text() == "with BatchNorm: run 2"
    assert views.contour.title_label.text() == "without BatchNorm: run 1"
    # The main contour draws the selected run's network's run only; the other's is on the view beside.
    run1, run2 = window.run_ids
    paths = window.playback.paths()
    assert set(views._paths) == {run1}
    beside = scene.beside_paths(paths)
    assert set(beside) == {run2} and set(scene.projected_paths(paths)) == {run1}
    # Each run's projected end reads its own network's surface, within 15% of that surface's range of its true
    # loss; the note under the loss curve gives those values.
    lines = dict(views.projection_note.lines)
    for rid, projection, surface in ((run1, scene.projected_paths(paths)[run1], views.contour.surface),
                                     (run2, beside[run2], views.beside.surface)):
        loss, under = float(projection.flat.loss[-1]), float(projection.surface_loss[-1])
        assert abs(loss - under) / np.ptp(surface.loss) < 0.15, rid
        assert f"loss {_num(loss)} · surface {_num(under)}" in lines[rid]
    # Selecting the other run puts its network in the main view, and the first beside it.
    window.select_run(1)
    qtbot.waitUntil(lambda: views.beside.title_label.text() == "without BatchNorm: run 1", timeout=WAIT)
    assert views.contour.title_label.text() == "with BatchNorm: run 2"
    assert views.contour.surface.plane.kind == "pca"         # the same fitted plane, not a random stand-in


def test_the_filter_normalisation_window_shows_the_random_slice_beside(window, qtbot, thread_spy):
    thread_spy.watch(core_surface, "compute_surface", "surface")
    window.set_session(shortened("filter-normalisation", epochs=2))
    assert window.panel.plane.beside.currentData() == "random"
    assert window.panel.plane.normalization.currentData() == "none"
    fitted_and_beside(qtbot, window)
    assert not any(on_gui for _, on_gui in thread_spy.seen), thread_spy.seen
    views, scene = window.views, window.scene
    assert views.contour.surface.plane.kind == "pca"          # the main plane: the paths' own
    slice_ = views.beside.surface.plane
    assert slice_.kind == "random" and slice_.info["normalization"] == "none"
    assert views.beside.title_label.text() == "Random slice (not normalised)"
    assert set(scene.beside_paths(window.playback.paths())) == set(window.run_ids)
    # The slice beside is a scene setting of its own: filter-normalised, it is drawn anew; the runs and the main
    # plane stay as they are.
    generation, plane = window.playback.generation, views.contour.surface.plane
    combo = window.panel.plane.normalization
    combo.setCurrentIndex(combo.findData("filter"))
    qtbot.waitUntil(lambda: views.beside.title_label.text() == "Random slice (filter-normalised)", timeout=WAIT)
    settle(qtbot, window)
    assert views.beside.surface.plane.info["normalization"] == "filter"
    assert window.playback.generation == generation and views.contour.surface.plane is plane
    assert window.session.plane.beside == "random" and window.session.plane.normalization == "filter"
    # Nothing beside: the view goes.
    combo = window.panel.plane.beside
    combo.setCurrentIndex(combo.findData("none"))
    qtbot.waitUntil(lambda: views.beside.isHidden(), timeout=WAIT)
    assert window.session.plane.beside == "none"
