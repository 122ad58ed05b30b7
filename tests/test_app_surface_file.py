"""The app opens surface files: loss-landscape's HDF5 (drawn alone, no runs), ours with the session that made it
(the runs race on the file's surface, not a recomputed one), and a file that cannot be read (a dialog naming it)."""
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

import landscape_app as la
from landscape_app.export.data import save_surface as save_with_session
from landscape_app.gui import scene_controller, style
from landscape_app.gui.main_menus import recent_sessions
from landscape_app.gui.surface_file import read_surface_scene

from app_window import WAIT, ready, settle

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

X = np.linspace(-1.0, 1.0, num=7)
Y = np.linspace(-0.5, 0.5, num=4)      # not square: the file's declared (nx, ny) shape is not the drawn one


def their_loss(x, y):
    """Lowest at the grid's left end, highest at its top right: a transposed or flipped picture shows."""
    return 1.0 + (x + 1.0) ** 2 + 3.0 * (y + 0.5)


def write_like_plot_surface(path, missing: int = 0):
    """What loss-landscape's plot_surface.py does: setup_surface_file writes the coordinates, crunch fills
    train_loss and train_acc (declared (nx, ny), -1 where not computed) in np.meshgrid(x, y) order, flushing."""
    f = h5py.File(path, "a")
    f["dir_file"] = "model_300.t7_weights.h5"
    f["xcoordinates"] = X
    f["ycoordinates"] = Y
    f.close()
    f = h5py.File(path, "r+")
    shape = (len(X), len(Y))
    losses, accuracies = -np.ones(shape=shape), -np.ones(shape=shape)
    f["train_loss"], f["train_acc"] = losses, accuracies
    inds = np.array(range(losses.size))[losses.ravel() <= 0]
    xcoord_mesh, ycoord_mesh = np.meshgrid(X, Y)
    coords = np.c_[xcoord_mesh.ravel()[inds], ycoord_mesh.ravel()[inds]]
    for count, ind in enumerate(inds[:len(inds) - missing]):
        losses.ravel()[ind] = their_loss(*coords[count])
        accuracies.ravel()[ind] = 90.0 - 10.0 * abs(coords[count][0])
        f["train_loss"][:] = losses
        f["train_acc"][:] = accuracies
        f.flush()
    f.close()
    return np.array([[their_loss(x, y) for x in X] for y in Y])       # rows of y, as drawn


def pixel(view, image, x, y):
    from PySide6.QtCore import QPoint, QPointF
    p = view.widget.viewportTransform().map(view.vb.mapViewToScene(QPointF(x, y)))
    p += QPointF(view.widget.viewport().mapTo(view, QPoint(0, 0)))
    c = image.pixelColor(int(p.x()), int(p.y()))
    return np.array([c.red(), c.green(), c.blue()])


def colormap_rgb(fraction):
    c = style.colormap(style.DEFAULT_COLORMAP).map(fraction, mode="qcolor")
    return np.array([c.red(), c.green(), c.blue()])


def test_a_loss_landscape_file_is_drawn_alone(window, qtbot, tmp_path):
    path = tmp_path / "model_300.t7_weights.h5_[-1.0,1.0,7]x[-0.5,0.5,4].h5"
    expected = write_like_plot_surface(path)
    assert window.open_path(str(path))
    contour = window.views.contour

    # The file's values, over its coordinates, rows of y: exactly (the image is indexed [x, y]).
    assert np.array_equal(contour.surface.w, X) and np.array_equal(contour.surface.b, Y)
    assert np.array_equal(contour.image.image, expected.T)
    assert contour.grid_value(X[5], Y[2]) == (X[5], Y[2], expected[2, 5])
    assert contour._axis_labels == {"bottom": "x", "left": "y"}
    assert contour.colorbar.axis.labelText == "loss"
    # Pixels: the lowest node has the colour map's first colour, the highest its last (cells are large here).
    image = contour.render_image(700, 500)
    low, high = pixel(contour, image, X[0], Y[0]), pixel(contour, image, X[-1], Y[-1])
    assert np.abs(low - colormap_rgb(0.0)).max() <= 12
    assert np.abs(high - colormap_rgb(1.0)).max() <= 12

    # Their long file name (named by its settings) is cut in its middle, so the grid and the values stay in view.
    line = "loss-landscape file model_300.t7_weights…,7]x[-0.5,0.5,4].h5: 7 x 4, train_loss (the file also holds " \
           "train_acc) · the surface alone, no runs"
    assert window.scene_label.text() == line and window.status.position.text() == line
    assert window.title_label.text() == path.name and window.windowTitle().startswith(path.name)
    assert recent_sessions() == [str(path.resolve())]
    # No runs, nothing to train or edit: the panel, the runs and the transport bar are away, their commands off.
    assert window.playback.paths() == {} and window.controller.run_rows() == [] and window.legend.names() == []
    assert not window.transport.isVisible() and not window.panel_visible() and not window.views.bottom.isVisible()
    for name in ("play", "step", "add_run", "save", "export", "panel"):
        assert not window.actions_by_name[name].isEnabled(), name
    session = window.session
    window.set_start_point(0.0, 0.0)            # a click on the contour starts nothing
    window.toggle_play()
    assert window.session is session and window.playback.paths() == {}

    # Another session brings the runs and their controls back.
    window.apply_preset("adam-vs-sgd")
    settle(qtbot, window)
    assert window.controller.static is None and window.transport.isVisibleTo(window)
    assert window.panel_visible() and window.actions_by_name["play"].isEnabled()
    assert window.title_label.text().startswith("Adam vs SGD")


def test_file_open_surface_asks_for_a_surface_file(window, tmp_path, monkeypatch):
    from landscape_app.gui import main_actions
    path = tmp_path / "surface.h5"
    expected = write_like_plot_surface(path)
    asked = []

    def dialog(parent, caption, folder, filters):
        asked.append((caption, filters))
        return str(path), filters
    monkeypatch.setattr(main_actions.QFileDialog, "getOpenFileName", dialog)
    window.actions_by_name["open_surface"].trigger()
    assert asked and "*.h5" in asked[0][1] and "*.npz" in asked[0][1]
    assert window.controller.static is not None and np.array_equal(window.views.contour.surface.loss, expected)


def test_an_unfinished_file_and_an_accuracy_alone(window, tmp_path):
    """Entries loss-landscape has not computed yet (-1) are holes, not values; a file holding only the accuracy
    is drawn and named as accuracy."""
    path = tmp_path / "half.h5"
    write_like_plot_surface(path, missing=3)
    assert window.open_path(str(path))
    assert np.isnan(window.views.contour.surface.loss[-1, -3:]).all()
    assert np.isfinite(window.views.contour.surface.loss[:-1]).all()

    acc = tmp_path / "accuracy.h5"
    with h5py.File(acc, "w") as f:
        f["xcoordinates"], f["ycoordinates"] = X, Y
        f["train_acc"] = np.full((len(Y), len(X)), 80.0) + np.arange(len(X))
    assert window.open_path(str(acc))
    contour = window.views.contour
    assert contour.colorbar.axis.labelText == "accuracy"
    assert contour.grid_value(X[2], Y[1])[2] == pytest.approx(0.82)      # a fraction, as the app keeps it
    assert window.scene_label.text().startswith(f"loss-landscape file {acc.name}: 7 x 4, train_acc")


@pytest.mark.parametrize("suffix", [".npz", ".h5", ".csv"])
def test_our_file_opens_its_session_on_the_file_surface(window, qtbot, tmp_path, monkeypatch, suffix):
    exp = la.Experiment(epochs=6, grid=la.Grid(resolution=(41, 31)))
    session = la.Session((exp, exp.replace(optimizer="adam", lr=0.5)), title="Two runs")
    surface = la.compute_surface(exp)
    # Not what computing would give (the true surface doubled): what is drawn can only come from the file.
    marked = la.Surface(surface.w, surface.b, surface.loss * 2.0, surface.axes, surface.held, surface.criterion,
                        plane=surface.plane)
    path = tmp_path / f"race{suffix}"
    save_with_session(path, session, marked)
    computed = []
    real = scene_controller.compute_surface
    monkeypatch.setattr(scene_controller, "compute_surface", lambda *a, **k: computed.append(a) or real(*a, **k))

    assert window.open_path(str(path))
    settle(qtbot, window)
    assert computed == [] and window.controller.static is None
    contour = window.views.contour
    assert np.array_equal(contour.image.image, marked.loss.T)
    assert contour._axis_labels == {"bottom": "w", "left": "b"}
    assert contour.colorbar.axis.labelText == "MSE loss"
    assert window.title_label.text() == "Two runs"
    assert window.scene_label.text().endswith(f"read from {path.name}")
    assert [r[0] for r in window.controller.run_rows()] == list(session.names)
    assert window.path is None          # Save asks for a session file: it never writes TOML over the surface file

    # The runs race on it, and the start marker is where the session starts.
    window.toggle_play()
    ready(qtbot, window)
    qtbot.waitUntil(lambda: min(len(p) for p in window.playback.paths().values()) > 3, timeout=WAIT)
    assert np.array_equal(contour.image.image, marked.loss.T) and computed == []
    assert contour.start_marker.data["x"].tolist() == [exp.start[0]]

    # A grid edit computes the surface again: the line no longer says it was read from the file.
    window.experiment_edited(window.experiment.replace(grid=la.Grid(resolution=(21, 21))))
    settle(qtbot, window)
    assert computed and contour.surface.loss.shape == (21, 21)
    assert "read from" not in window.scene_label.text()


def test_a_network_plane_file_is_drawn_alone(window, tmp_path):
    """Our file of a network's surface on a random plane: its session is not one whose runs the app draws on
    that plane, so the surface is shown alone, with the plane's labels on its axes."""
    moons = la.make_dataset("moons", n_samples=60, seed=0)
    exp = la.Experiment(data=moons, model="mlp", model_options={"hidden": (4,)}, epochs=1)
    plane = la.Plane.random(exp, seed=0)
    surface = la.compute_surface(exp, plane=plane, span=1.0, resolution=9)
    path = tmp_path / "mlp.npz"
    save_with_session(path, la.Session((exp,)), surface)
    assert window.open_path(str(path))
    assert window.controller.static is not None and window.playback.paths() == {}
    # the left title leaves out the normalisation the bottom one says (its rotated text has only the height)
    assert plane.labels[1] == "random 2 (filter-normalised)"
    assert window.views.contour._axis_labels == {"bottom": plane.labels[0], "left": "random 2"}
    assert window.views.contour.colorbar.axis.labelText == "BCE loss"
    assert window.scene_label.text() == (f"landscape-app file mlp.npz: 9 x 9, loss, on a random plane · "
                                         f"the surface alone, no runs")
    assert np.array_equal(window.views.contour.image.image, surface.loss.T)


def test_a_file_that_cannot_be_read_is_a_dialog_naming_it(window, tmp_path):
    no_coordinates = tmp_path / "weights.h5"
    with h5py.File(no_coordinates, "w") as f:
        f["train_loss"] = np.ones((3, 3))
    truncated = tmp_path / "cut.npz"
    truncated.write_bytes(b"PK\x03\x04 not a whole zip file")
    text = tmp_path / "notes.h5"
    text.write_text("these are not numbers")
    before = window.session
    for path, why in [(text, "not a readable HDF5 file"), (no_coordinates, "not a surface file (no xcoordinates)"),
                      (truncated, "not a readable NPZ file"), (tmp_path / "gone.h5", "no such file")]:
        assert not window.open_path(str(path))
        box = window.message_box
        assert box is not None and box.windowTitle() == "Cannot open the surface"
        assert str(path) in box.text() and why in box.text(), box.text()
        box.close()
        window.message_box = None
        assert window.session is before and window.controller.static is None


def _run_app(args):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "landscape_app", *args], capture_output=True, text=True, env=env,
                          timeout=300)        # only so a hung child cannot hang the suite


def test_the_command_line_opens_a_surface_file_and_refuses_an_unreadable_one(tmp_path):
    path = tmp_path / "surface.h5"
    write_like_plot_surface(path)
    shot = tmp_path / "shot.png"
    r = _run_app([str(path), "--screenshot", str(shot), "--quit-after", "1"])
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    from PySide6.QtGui import QImage
    image = QImage(str(shot))
    colours = {(c.red(), c.green(), c.blue()) for c in (image.pixelColor(x, y) for x in range(0, image.width(), 4)
                                                        for y in range(0, image.height(), 4))}
    for end in (0.0, 1.0):      # the surface's lowest and highest colours are on screen
        assert min(np.abs(np.array(c) - colormap_rgb(end)).max() for c in colours) <= 12

    bad = tmp_path / "bad.h5"
    bad.write_text("no")
    r = _run_app([str(bad)])
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert lines[0].startswith(f"landscape-app: error: {bad}: not a readable HDF5 file")


def test_reading_decides_when_the_session_comes_along(tmp_path):
    """Qt-free: a linear model's loss over its own grid opens its session; another grid's axes, an accuracy or a
    mini-batch surface is shown alone."""
    data = la.make_dataset("plane", n_samples=20, seed=1)
    exp = la.Experiment(data=data, model="plane", grid=la.Grid(resolution=(11, 9), axes=("w1", "b"), held=0.5))
    session = la.Session((exp,))
    save_with_session(tmp_path / "own.npz", session, la.compute_surface(exp))
    assert read_surface_scene(tmp_path / "own.npz").session == session
    other_axes = la.compute_surface(exp.replace(grid=la.Grid(resolution=(11, 9), axes=("w1", "w2"), held=0.5)))
    save_with_session(tmp_path / "axes.npz", session, other_axes)
    save_with_session(tmp_path / "batch.npz", session, la.compute_surface(exp, batch=[0, 3, 5]))
    for name in ("axes.npz", "batch.npz"):
        read = read_surface_scene(tmp_path / name)
        assert read.session is None and read.line.endswith("the surface alone, no runs")
    assert "the mini-batch of 3 samples" in read_surface_scene(tmp_path / "batch.npz").line


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_a_pca_surface_keeps_the_paths_it_was_fitted_to_and_opens_with_them(window, tmp_path, capsys, suffix):
    """``landscape-app surface --plane pca`` fits the plane to the runs' paths: the file keeps them (NPZ and HDF5),
    and the app draws them on the surface it shows alone, not a bare slope."""
    from landscape_app import commands
    out = tmp_path / f"pca{suffix}"
    code = commands.main(["surface", "--model", "mlp", "--data", "moons", "--data-option", "n_samples=60",
                          "--hidden", "4", "--epochs", "2", "--plane", "pca", "--resolution", "7", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    opened = read_surface_scene(out)
    assert opened.surface.plane.kind == "pca" and sorted(opened.paths) == [0]
    path = opened.paths[0]
    assert len(path) > 2 and path.param_names == tuple(opened.surface.axes)
    assert opened.line.endswith("on a pca plane · the surface and the 1 path in the file")
    assert window.open_path(str(out))
    contour = window.views.contour
    assert contour.surface is opened.surface or np.array_equal(contour.surface.loss, opened.surface.loss)
    drawn = contour.paths[0].line.data()
    assert len(drawn[0]) > 2
    np.testing.assert_allclose(drawn[0][[0, -1]], path.params[[0, -1], 0])
