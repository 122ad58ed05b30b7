"""The export dialog on a network: a surface it cannot take from the window is computed off the GUI thread (the
dialog never waits for it), on the plane the window would show, and closing the dialog meanwhile stops it."""
import threading

import numpy as np
import pytest

import landscape_app as la
from landscape_app.core.surface_module import EvaluationStopped
from landscape_app.export import scene_plane
from landscape_app.export.scene import prepare_scene
from landscape_app.gui.export_dialog import ExportDialog
from test_export_networks import moons_session, same_plane

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def no_blocking_surface(monkeypatch):
    """The exporter's blocking path (``scene_surface`` waits for a headless controller) must not run in the
    dialog; the threads that computed surfaces are noted."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("the dialog waited for a surface on the GUI thread")
    monkeypatch.setattr(scene_plane, "scene_surface", refuse)
    computed = []
    from landscape_app.core import surface_network
    original = surface_network.network_surface

    def noting(*args, **kwargs):
        computed.append(threading.current_thread() is threading.main_thread())
        return original(*args, **kwargs)
    monkeypatch.setattr(surface_network, "network_surface", noting)
    return computed


@pytest.fixture
def gate(monkeypatch, no_blocking_surface):
    """The surface computes until ``release`` is set, or ends early when its job is stopped (as the evaluator
    does between chunks); ``computing`` is set once one has started."""
    from landscape_app.core import surface_network
    release, computing = threading.Event(), threading.Event()
    slow = surface_network.network_surface

    def held(*args, **kwargs):
        computing.set()
        stop = kwargs.get("stop")
        while not release.wait(0.01):
            if stop is not None and (stop.is_set() if isinstance(stop, threading.Event) else stop()):
                raise EvaluationStopped("stopped")
        return slow(*args, **kwargs)
    monkeypatch.setattr(surface_network, "network_surface", held)
    return release, computing


def _shown(dialog) -> bool:
    pixmap = dialog.preview.pixmap()
    return pixmap is not None and not pixmap.isNull()


def test_preview_of_a_network_computes_its_surface_off_the_gui_thread(qtbot, no_blocking_surface):
    session = moons_session().replace(plane=la.PlaneSettings("pca"))
    dialog = ExportDialog(session)          # no window paths: the runs are trained here, the PCA fitted to them
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: _shown(dialog), timeout=60000)
    assert no_blocking_surface and not any(no_blocking_surface)
    surface = dialog.surfaces.get(dialog.paths_choice.currentData())
    expected = la.build_plane(la.PlaneSettings("pca"), session.experiment, dialog.trained)
    assert surface.plane.kind == "pca" and same_plane(surface.plane, expected)
    assert dialog.message.text() == ""
    dialog.done(0)


def test_export_of_a_network_writes_the_surface_computed_off_thread(qtbot, tmp_path, no_blocking_surface,
                                                                    monkeypatch):
    session = moons_session()
    dialog = ExportDialog(session)
    qtbot.addWidget(dialog)
    dialog.show()
    out = tmp_path / "moons.npz"
    dialog.format.setCurrentIndex([dialog.format.itemData(i) for i in range(dialog.format.count())].index(".npz"))
    dialog.path.setText(str(out))
    with qtbot.waitSignal(dialog.exported, timeout=60000):
        dialog.start_export()
    assert not any(no_blocking_surface)
    # the same surface as the exporter's own (headless, blocking) path computes for these runs
    monkeypatch.undo()
    headless = prepare_scene(session, dialog.trained)
    with np.load(out) as z:
        np.testing.assert_allclose(z["loss"], headless.surface.loss, rtol=1e-12)
    dialog.done(0)


def test_closing_the_dialog_while_the_surface_computes_stops_it(qtbot, gate):
    release, computing = gate
    dialog = ExportDialog(moons_session())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(computing.is_set, timeout=60000)
    assert dialog.surfaces.busy and dialog.message.text().startswith("computing the surface")
    dialog.done(0)
    assert not dialog.surfaces.busy
    release.set()
    qtbot.wait(300)                          # what the stopped job still returns is dropped
    assert not _shown(dialog)
    assert dialog.surfaces.get(dialog.paths_choice.currentData()) is None


def test_a_preview_asked_for_while_the_surface_computes_does_not_drop_the_export(qtbot, tmp_path, gate):
    """Export pressed, then a preview asked for while the export's surface computes: both go on when it arrives."""
    release, computing = gate
    dialog = ExportDialog(moons_session())
    qtbot.addWidget(dialog)
    out = tmp_path / "moons.npz"
    dialog.format.setCurrentIndex([dialog.format.itemData(i) for i in range(dialog.format.count())].index(".npz"))
    dialog.path.setText(str(out))
    dialog.start_export()
    qtbot.waitUntil(computing.is_set, timeout=60000)
    dialog.update_preview()                  # e.g. the size changed meanwhile
    release.set()
    with qtbot.waitSignal(dialog.exported, timeout=60000):
        pass
    assert out.exists()
    qtbot.waitUntil(lambda: _shown(dialog), timeout=30000)
    dialog.done(0)


def test_an_export_asked_for_stays_asked_for_when_the_paths_choice_changes(qtbot, gate):
    """Export pressed while one choice's surface computes, then another choice's surface asked for: the export
    still goes on (on the surface of the choice in force when it runs)."""
    from landscape_app.export.scene import train_session
    release, computing = gate
    session = moons_session()
    dialog = ExportDialog(session)
    qtbot.addWidget(dialog)
    paths = list(train_session(session))
    exported = []
    dialog.surfaces.then("first", session, paths, "loss", lambda: exported.append("export"))
    qtbot.waitUntil(computing.is_set, timeout=60000)
    dialog.surfaces.then("second", session, paths, "loss", lambda: exported.append("preview"))
    release.set()
    qtbot.waitUntil(lambda: len(exported) == 2, timeout=60000)
    assert sorted(exported) == ["export", "preview"]
    assert dialog.surfaces.get("second") is not None and dialog.surfaces.get("first") is None
    dialog.done(0)


def test_export_pressed_while_the_preview_trains_goes_on_after_it(qtbot, tmp_path):
    """The preview's training (the runs to their end, in slices) is under way when Export is pressed: the export
    waits for it instead of being dropped."""
    session = moons_session()
    dialog = ExportDialog(session)
    qtbot.addWidget(dialog)
    out = tmp_path / "moons.npz"
    dialog.format.setCurrentIndex([dialog.format.itemData(i) for i in range(dialog.format.count())].index(".npz"))
    dialog.path.setText(str(out))
    dialog.update_preview()                  # starts training the runs for the preview
    assert dialog.job is not None and dialog.trained is None
    with qtbot.waitSignal(dialog.exported, timeout=60000):
        dialog.start_export()
    assert out.exists()
    dialog.done(0)
