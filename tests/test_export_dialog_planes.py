"""An export draws on the plane the window would show after training: a plane fitted to the runs (PCA, through
the start and two runs' ends) is fitted to the runs the export draws, never the random plane shown meanwhile."""
import numpy as np
import pytest

import landscape_app as la
from landscape_app.gui.export_dialog import ExportDialog
from test_export_networks import moons_session

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

THROUGH = la.PlaneSettings("through", points=(1, 2))


def _npz(dialog, out):
    formats = [dialog.format.itemData(i) for i in range(dialog.format.count())]
    dialog.format.setCurrentIndex(formats.index(".npz"))
    dialog.path.setText(str(out))


def test_runs_trained_in_the_dialog_get_the_plane_fitted_to_them(qtbot, tmp_path):
    session = moons_session().replace(plane=THROUGH)
    meanwhile = la.compute_surface(session.experiment, plane=la.Plane.random(session.experiment, seed=0),
                                   resolution=5)
    partial = [la.run(exp.replace(epochs=1)) for exp in session.runs]       # the window got this far
    dialog = ExportDialog(session, partial, surface=meanwhile)
    qtbot.addWidget(dialog)
    dialog.paths_choice.setCurrentIndex(dialog.paths_choice.findData("train"))    # "each run trained to its end"
    out = tmp_path / "through.npz"
    _npz(dialog, out)
    with qtbot.waitSignal(dialog.exported, timeout=60000):
        dialog.start_export()
    with np.load(out) as z:
        assert str(z["plane_kind"]) == "through"
        # the plane passes through both runs' ends: their projections lie on it
        ends = [np.flatnonzero(z["path_run"] == run)[-1] for run in np.unique(z["path_run"])]
        assert np.all(np.abs(z["path_distance"][ends]) < 1e-6)
    dialog.done(0)


def test_the_window_hands_over_no_surface_of_the_plane_shown_meanwhile(window, qtbot):
    # A long race: its runs are still training ahead for their plane while the window shows the random one.
    session = moons_session(epochs=5000).replace(plane=THROUGH)
    window.set_session(session)
    qtbot.waitUntil(lambda: window.scene.surface is not None and window.scene.surface.plane is not None
                    and window.scene.surface.plane.kind != "axes", timeout=60000)     # the network's surface
    assert window.scene.surface.plane.kind == "random" and window.controller.fitting.training_ahead
    assert window._export_scene()["surface"] is None
