"""Exporting a network's race (an MLP on moons, a CNN on digits, a user's module from a file): the surface on the
plane the window's scene controller computes, the paths projected on it with their distance off it under the
loss curve, the data view's predictions, and every format (MP4, GIF, PNG frames and stills, SVG, NPZ, CSV)."""
import json

import numpy as np
import pytest
from PIL import Image

import landscape_app as la
from landscape_app import commands
from landscape_app.core.plane import Plane
from landscape_app.core.presets import load_preset
from landscape_app.core.session import Session
from landscape_app.export.data import load_surface
from landscape_app.export.frames import FrameRenderer, iter_frames
from landscape_app.export.job import export_steps
from landscape_app.export.plan import make_plan
from landscape_app.export.scene import prepare_scene
from landscape_app.gui.projection_note import _num

ORANGE = np.array([0xE6, 0x9F, 0x00])
BLUE = np.array([0x56, 0xB4, 0xE9])

USER_FILE = '''
import torch.nn as nn


def make(width=3):
    return nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, 1))
'''


def moons_session(**changes):
    kw = dict(data=la.make_dataset("moons", n_samples=60, noise=0.2), model="mlp",
              model_options={"hidden": (6,), "activation": "tanh"}, lr=0.3, batch_size=20, epochs=4,
              grid=la.Grid(resolution=(15, 15)))
    kw.update(changes)
    exp = la.Experiment(**kw)
    # On the random plane through the start (a network's default is the PCA plane of its paths)
    return Session((exp, exp.replace(optimizer="adam", lr=0.05)), title="Moons export", plane=la.PlaneSettings())


def digits_session():
    exp = la.Experiment(data=la.make_dataset("digits", n_samples=120), model="cnn",
                        model_options={"channels": (2, 3)}, lr=0.05, batch_size=30, epochs=2,
                        grid=la.Grid(resolution=(7, 7)))
    return Session((exp, exp.replace(optimizer="adam", lr=0.01)), title="Digits export", plane=la.PlaneSettings())


@pytest.fixture(scope="module")
def moons(qapp):
    return prepare_scene(moons_session())


@pytest.fixture(scope="module")
def digits(qapp):
    return prepare_scene(digits_session())


def count(image: np.ndarray, color, tol: int = 30) -> int:
    return int((np.abs(image.reshape(-1, 3).astype(int) - color).max(axis=1) <= tol).sum())


def near(image: np.ndarray, px: float, py: float, color, radius: int = 4, tol: int = 40) -> bool:
    x, y = int(round(px)), int(round(py))
    patch = image[max(0, y - radius):y + radius + 1, max(0, x - radius):x + radius + 1].reshape(-1, 3)
    return bool((np.abs(patch.astype(int) - color).max(axis=1) <= tol).any())


def view_part(renderer, image: np.ndarray, name: str) -> np.ndarray:
    """The pixels of view ``name`` in a frame."""
    from PySide6.QtCore import QPoint
    view = renderer.views[name]
    top_left = view.mapTo(renderer.window, QPoint(0, 0))
    s = renderer.scale
    x0, y0 = int(top_left.x() * s), int(top_left.y() * s)
    return image[y0:y0 + int(view.height() * s), x0:x0 + int(view.width() * s)]


def same_plane(a, b) -> bool:
    return (a is not None and b is not None and tuple(a.labels) == tuple(b.labels) and a.kind == b.kind
            and all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("origin", "d1", "d2")))


def not_blank(image: np.ndarray) -> bool:
    colours = np.unique(image.reshape(-1, 3), axis=0)
    return len(colours) > 200 and float(image.std()) > 10


def test_the_plane_is_the_scene_controllers(qapp, moons):
    """The exporter makes no plane of its own: the window's scene controller's, for the plane's seed in use."""
    exp = moons.experiment
    expected = Plane.random(exp, seed=0)        # what the window shows for a session opened as it is
    assert moons.plane is not None and same_plane(moons.plane, expected)
    assert moons.surface.axes == tuple(expected.labels) and moons.surface.loss.shape == (15, 15)
    seeded = moons.session.replace(plane=la.PlaneSettings(seed=3, normalization="layer"))
    other = prepare_scene(seeded, moons.trajectories)
    assert same_plane(other.plane, Plane.random(exp, seed=3, normalization="layer"))
    assert not same_plane(other.plane, expected)
    # The window's own surface is taken as it is, on whatever plane it lies.
    given = la.compute_surface(exp, plane=Plane.random(exp, seed=5), resolution=(9, 9))
    assert prepare_scene(moons.session, moons.trajectories, surface=given).surface is given


def test_a_surface_off_the_networks_parameters_is_refused(qapp, moons):
    linear = la.Experiment(data=la.make_dataset("linear", n_samples=10, seed=1))
    with pytest.raises(la.ExportError, match="does not lie on a plane among the network's"):
        prepare_scene(moons.session, moons.trajectories, surface=la.compute_surface(linear))


def test_frames_draw_the_projected_paths_and_the_note(qapp, tmp_path, moons):
    plan = make_plan(str(tmp_path / "x.png"), views="contour,loss,data", size=(854, 480), title="")
    with FrameRenderer(moons, plan) as renderer:
        frame = renderer.render(moons.n_points)
        Image.fromarray(frame).save(tmp_path / "frame.png")
        assert not_blank(frame)
        contour = view_part(renderer, frame, "contour")
        for run, color in ((0, ORANGE), (1, BLUE)):
            p = renderer.projected.projections[run]
            # The contour draws the projection: the run's marker sits at its last projected point.
            alpha, beta = p.flat.params[-1]
            assert near(frame, *renderer.pixel_of("contour", alpha, beta), color), run
            assert count(contour, color) > 20, run
            # The projection is what the core computes for the path on the scene's plane.
            mine = la.project_path(moons.experiment, moons.trajectories[run], moons.plane)
            np.testing.assert_allclose(p.distance, mine.distance, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(p.flat.params[:, 0], mine.alpha, rtol=1e-9, atol=1e-12)
        # The note under the loss curve: per run, the true loss, the surface's value, the distance off the plane.
        upto = 5
        renderer.render(upto)
        lines = dict(renderer.projected.note.lines)
        for run in (0, 1):
            p = renderer.projected.projections[run]
            assert lines[run] == (f"loss {_num(float(p.flat.loss[upto - 1]))} · surface "
                                  f"{_num(float(p.surface_loss[upto - 1]))} · {_num(float(p.distance[upto - 1]))} "
                                  f"off the plane")
        note = renderer.projected.note
        assert note.isVisibleTo(renderer.window) and note.parentWidget() is renderer.views["loss"].parentWidget()
        # The data view shows the decision regions of the first run at the shown step.
        decision = renderer.views["data"].decision
        assert decision is not None and decision.decision is not None
        assert decision.decision.iteration == int(moons.trajectories[0].iteration[upto - 1])


def test_without_a_loss_curve_the_note_is_under_the_views(qapp, tmp_path, moons):
    plan = make_plan(str(tmp_path / "x.png"), views="contour", size=(640, 360))
    with FrameRenderer(moons, plan) as renderer:
        renderer.render(moons.n_points)
        note = renderer.projected.note
        assert note.isVisibleTo(renderer.window) and note.parentWidget() is renderer.window
        assert "off the plane" in note.text()


def test_note_keeps_its_height_and_the_views_do_not_move(qapp, tmp_path, moons):
    plan = make_plan(str(tmp_path / "x.png"), views="contour,loss,data", size=(640, 360))
    with FrameRenderer(moons, plan) as renderer:
        places = set()
        for upto in (1, 3, moons.n_points):
            renderer.render(upto)
            places.add(tuple((v.geometry().getRect(), v.parentWidget().geometry().getRect())
                             for v in renderer.views.values()) + (renderer.projected.note.geometry().getRect(),))
        assert len(places) == 1
        # The cells share the frame: the data view is as tall as the loss curve with its note.
        loss_cell = renderer.views["loss"].parentWidget()
        assert abs(loss_cell.height() - renderer.views["data"].height()) <= 1


def test_mp4_of_a_network_race(qapp, tmp_path, moons):
    from test_export_writers import read_video
    plan = make_plan(str(tmp_path / "race.mp4"), views="contour,loss", size=(480, 270), every=3, hold=0.2, fps=10)
    for _ in export_steps(moons, plan):
        pass
    frames = read_video(tmp_path / "race.mp4")
    assert frames.shape == (plan.frame_count(moons.n_points), 270, 480, 3)
    assert not np.array_equal(frames[0], frames[-1])
    assert not_blank(frames[-1])
    with FrameRenderer(moons, plan) as renderer:
        for run, color in ((0, ORANGE), (1, BLUE)):
            alpha, beta = renderer.projected.projections[run].flat.params[-1]
            assert near(frames[-1], *renderer.pixel_of("contour", alpha, beta), color, radius=5, tol=50), run


def test_gif_and_png_frames_of_a_network_race(qapp, tmp_path, moons):
    import imageio.v3 as iio
    gif = make_plan(str(tmp_path / "race.gif"), views="contour", size=(320, 180), every=4, hold=0)
    for _ in export_steps(moons, gif):
        pass
    frames = iio.imread(tmp_path / "race.gif", index=None)[..., :3]
    assert len(frames) == gif.frame_count(moons.n_points)
    assert count(frames[-1], ORANGE, tol=0) > 0 and count(frames[-1], BLUE, tol=0) > 0
    folder = make_plan(str(tmp_path / "frames") + "/", views="contour,data", size=(320, 180), every=8, hold=0)
    for _ in export_steps(moons, folder):
        pass
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert len(names) == folder.frame_count(moons.n_points)
    first, last = (np.asarray(Image.open(tmp_path / "frames" / n).convert("RGB")) for n in (names[0], names[-1]))
    assert not_blank(last) and not np.array_equal(first, last)


def test_svg_still_of_a_network_race(qapp, tmp_path, moons):
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer
    from landscape_app.export.frames import qimage_to_rgb
    out = tmp_path / "final.svg"
    plan = make_plan(str(out), views="contour,loss", size=(640, 360))
    for _ in export_steps(moons, plan):
        pass
    text = out.read_text()
    assert "off the plane" in text          # the note's words (kept in aria-labels) are in the file
    assert "random 1 (filter-normalised)" in text       # the directions named on the axes
    image = QImage(640, 360, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    QSvgRenderer(str(out)).render(painter)
    painter.end()
    drawn = qimage_to_rgb(image)
    Image.fromarray(drawn).save(tmp_path / "final-svg.png")
    assert not_blank(drawn) and count(drawn, ORANGE) > 20 and count(drawn, BLUE) > 20


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_surface_data_carries_the_scenes_plane(qapp, tmp_path, moons, suffix):
    out = tmp_path / f"surface{suffix}"
    for _ in export_steps(moons, make_plan(str(out))):
        pass
    session, surface = load_surface(out)
    plane = moons.plane
    assert surface.plane is not None and same_plane(surface.plane, plane)
    for name in ("origin", "d1", "d2"):
        np.testing.assert_array_equal(getattr(surface.plane, name), getattr(plane, name))
    np.testing.assert_array_equal(surface.loss, moons.surface.loss)
    assert session == moons.session
    if suffix == ".npz":
        with np.load(out) as z:
            np.testing.assert_array_equal(z["plane_d1"], plane.d1)
            np.testing.assert_array_equal(z["plane_d2"], plane.d2)
            np.testing.assert_array_equal(z["plane_origin"], plane.origin)
            assert list(z["plane_labels"]) == list(plane.labels) and str(z["plane_kind"]) == "random"
            # Each run's path on the plane: its distance off it, its true loss and the surface's value there.
            for run, traj in enumerate(moons.trajectories):
                mine = z["path_run"] == run
                p = la.project_path(moons.experiment, traj, plane)
                np.testing.assert_array_equal(z["path_distance"][mine], p.distance)
                np.testing.assert_array_equal(z["path_loss"][mine], traj.loss)
                np.testing.assert_array_equal(z["path_surface"][mine], p.surface_loss)
    else:
        header = next(line for line in out.read_text().splitlines() if line.startswith("# plane:"))
        meta = json.loads(header.split(":", 1)[1])
        assert meta["d1"] == [float(v) for v in plane.d1] and meta["kind"] == "random"


def test_cnn_on_digits_frames_show_the_digits_at_the_shown_step(qapp, tmp_path, digits):
    plan = make_plan(str(tmp_path / "x.mp4"), views="contour,loss,data", size=(854, 480), every=2, hold=0)
    schedule = plan.schedule(digits.n_points)
    with FrameRenderer(digits, plan) as renderer:
        frames = list(iter_frames(renderer, schedule))
        view = renderer.views["data"].digits
        assert view is not None and view.predictions is not None
        assert view.predictions.iteration == int(digits.trajectories[0].iteration[-1])
        assert not_blank(view_part(renderer, frames[-1], "data"))
        Image.fromarray(frames[-1]).save(tmp_path / "last.png")
        # Both paths leave a random plane at once: their projections stay by the start, the later run's marker
        # drawn over the earlier's.
        alpha, beta = renderer.projected.projections[1].flat.params[-1]
        assert near(frames[-1], *renderer.pixel_of("contour", alpha, beta), BLUE)
        assert count(view_part(renderer, frames[-1], "loss"), ORANGE) > 20
    assert not np.array_equal(frames[0], frames[-1])
    assert same_plane(digits.plane, Plane.random(digits.experiment, seed=0))


def test_cnn_on_digits_surface_npz(qapp, tmp_path, digits):
    out = tmp_path / "digits.npz"
    for _ in export_steps(digits, make_plan(str(out))):
        pass
    with np.load(out) as z:
        np.testing.assert_array_equal(z["plane_d1"], digits.plane.d1)
        assert z["loss"].shape == (7, 7) and z["plane_d1"].shape == (digits.experiment.param_count,)


def test_cli_exports_a_users_module_from_a_file(qapp, tmp_path, capsys):
    (tmp_path / "my_net.py").write_text(USER_FILE)
    exp = la.Experiment(data=la.make_dataset("moons", n_samples=40, noise=0.2), model=f"{tmp_path}/my_net.py:make",
                        model_options={"width": 3}, lr=0.3, batch_size=20, epochs=3, grid=la.Grid(resolution=(9, 9)))
    path = tmp_path / "mine.toml"
    la.save(Session((exp, exp.replace(optimizer="adam", lr=0.05)), title="Mine"), path)
    png, npz = tmp_path / "final.png", tmp_path / "mine.npz"
    # The session names its model file: exporting it runs that file's code, trusted here.
    assert commands.main(["export", str(path), "--trust", "-o", str(png), "--views", "contour,loss", "--size",
                          "480x270", "-q"]) == 0, capsys.readouterr().err
    frame = np.asarray(Image.open(png).convert("RGB"))
    assert frame.shape == (270, 480, 3) and not_blank(frame)
    assert count(frame, ORANGE) > 20 and count(frame, BLUE) > 20
    assert commands.main(["export", str(path), "--trust", "-o", str(npz)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {npz} (the surface and its plane, NPZ")
    _, surface = load_surface(npz, trust=True)
    # A session without a [plane]: the default, the PCA plane of the runs' own paths
    runs = [la.run(exp) for exp in la.load_session(path, trust=True).runs]
    assert surface.plane.kind == "pca"
    np.testing.assert_allclose(np.abs(surface.plane.d1 @ Plane.pca(runs).d1), 1.0, rtol=1e-6)


def test_3d_view_of_a_network_race_on_xvfb(tmp_path, gl_env):
    """The 3-D view over the plane's coordinates, the projected points at the surface's height (a subprocess:
    OpenGL needs the X display)."""
    import subprocess
    import sys
    from test_export_writers import read_video
    path = tmp_path / "moons.toml"
    la.save(moons_session(), path)
    out = tmp_path / "moons.mp4"
    done = subprocess.run([sys.executable, "-m", "landscape_app", "export", str(path), "-o", str(out), "--views",
                           "surface,contour", "--size", "480x270", "--every", "4", "--hold", "0", "-q"],
                          capture_output=True, text=True, env=gl_env, timeout=300)
    assert done.returncode == 0, done.stderr
    frames = read_video(out)
    assert frames.shape[1:] == (270, 480, 3) and len(frames) >= 3
    left = frames[-1][:, :240].astype(int)
    # The surface in the colour map (viridis' teals and greens), and both runs' markers on it.
    assert ((left[:, :, 1] > left[:, :, 0] + 30) & (left[:, :, 1] > 100)).sum() > 1000
    assert count(frames[-1][:, :240], ORANGE, tol=50) > 5 and count(frames[-1][:, :240], BLUE, tol=50) > 5


def test_a_sessions_pca_plane_is_exported(qapp, tmp_path):
    """A session whose [plane] is a PCA of the finished runs: the exporter's scene controller fits it to the
    runs it trained, as the window does, and the files carry that plane."""
    session = moons_session().replace(plane=la.PlaneSettings("pca"))
    scene = prepare_scene(session)
    expected = la.build_plane(la.PlaneSettings("pca"), scene.experiment, scene.trajectories)
    assert scene.plane.kind == "pca" and same_plane(scene.plane, expected)
    assert scene.surface.axes == tuple(expected.labels) and scene.surface.axes[0].startswith("PCA 1")
    out = tmp_path / "pca.npz"
    for _ in export_steps(scene, make_plan(str(out))):
        pass
    with np.load(out) as z:
        assert str(z["plane_kind"]) == "pca"
        np.testing.assert_array_equal(z["plane_d1"], expected.d1)
    plan = make_plan(str(tmp_path / "pca.png"), views="contour,loss", size=(640, 360))
    with FrameRenderer(scene, plan) as renderer:
        frame = renderer.render(scene.n_points)
        for run, color in ((0, ORANGE), (1, BLUE)):
            alpha, beta = renderer.projected.projections[run].flat.params[-1]
            assert near(frame, *renderer.pixel_of("contour", alpha, beta), color), run


def test_a_run_with_other_parameters_is_named_not_drawn(qapp, tmp_path):
    """A race whose second run learns BatchNorm's scale and shift: its parameters are not the plane's, so no path
    of it is drawn there; its loss is on the curve and the note says where it is, as in the window."""
    from landscape_app.gui.projection_note import ELSEWHERE
    base = moons_session().runs[0]
    other = base.replace(model_options={**base.model_options, "batchnorm": True, "bn_affine": True})
    assert other.param_count != base.param_count
    scene = prepare_scene(Session((base, other), title="Other parameters"))
    plan = make_plan(str(tmp_path / "x.png"), views="contour,loss,data", size=(854, 480))
    with FrameRenderer(scene, plan) as renderer:
        frame = renderer.render(scene.n_points)
        assert sorted(renderer.projected.projections) == [0] and renderer.projected.elsewhere == [1]
        assert dict(renderer.projected.note.lines)[1] == ELSEWHERE
        assert count(view_part(renderer, frame, "contour"), BLUE) == 0
        assert count(view_part(renderer, frame, "contour"), ORANGE) > 20
        assert count(view_part(renderer, frame, "loss"), BLUE) > 20


def test_the_windows_accuracy_surface_is_exported_as_such(qapp, tmp_path, moons):
    """The window shows a classifier's accuracy surface: so does the export, and the note reads the surface's
    accuracy under each projected point."""
    scene = prepare_scene(moons.session, moons.trajectories, metric="accuracy")
    assert scene.surface.metric == "accuracy" and same_plane(scene.plane, moons.plane)
    assert 0.0 <= np.nanmin(scene.surface.loss) and np.nanmax(scene.surface.loss) <= 100.0
    plan = make_plan(str(tmp_path / "x.png"), views="contour,loss", size=(640, 360))
    with FrameRenderer(scene, plan) as renderer:
        renderer.render(scene.n_points)
        assert renderer.views["contour"].colorbar.axis.labelText.startswith("accuracy")
        assert all(" · surface accuracy " in text for _, text in renderer.projected.note.lines)



# -- a surface beside the main one -------------------------------------------------------------------------------
def _pixels_of(renderer, image: np.ndarray, view) -> np.ndarray:
    from PySide6.QtCore import QPoint
    top_left = view.mapTo(renderer.window, QPoint(0, 0))
    s = renderer.scale
    x0, y0 = int(top_left.x() * s), int(top_left.y() * s)
    return image[y0:y0 + int(view.height() * s), x0:x0 + int(view.width() * s)]


def _within(z, run: int, share: float = 0.15) -> float:
    """How far run ``run``'s end reads off its true loss on its own network's surface, as a share of its range."""
    end = np.flatnonzero(z["path_run"] == run)[-1]
    own = z["loss_beside"] if z["path_network"][end] == 1 else z["loss"]
    return abs(z["path_surface"][end] - z["path_loss"][end]) / (np.nanmax(own) - np.nanmin(own))


def test_the_batchnorm_preset_reads_each_run_on_its_own_networks_surface(qapp, tmp_path):
    """The batchnorm race: two networks on one plane. Each network has its own surface (the main one the first
    run's, the one beside the other's, with its own run's BatchNorm statistics); each run's projected end lies
    within 15% of its surface's range of its true loss, in the NPZ and in the frames' note, and each run is drawn
    on its own network's contour."""
    session = load_preset("batchnorm")
    scene = prepare_scene(session)
    spec, beside = scene.beside
    assert spec.kind == "network" and spec.runs == (1,) and spec.title == "with BatchNorm: run 2"
    assert beside.plane.buffers and not scene.surface.plane.buffers        # each network its own statistics
    out = tmp_path / "bn.npz"
    for _ in export_steps(scene, make_plan(str(out))):
        pass
    with np.load(out) as z:
        assert str(z["beside_kind"]) == "network" and str(z["beside_title"]) == spec.title
        assert z["loss_beside"].shape == z["loss"].shape
        np.testing.assert_array_equal(z["alpha_beside"], z["alpha"])
        assert list(np.unique(z["path_network"][z["path_run"] == 1])) == [1]
        assert list(np.unique(z["path_network"][z["path_run"] == 0])) == [0]
        for run in (0, 1):
            assert _within(z, run) < 0.15, run
            mine = z["path_run"] == run
            span = np.ptp(z["path_alpha"][mine]) / np.ptp(z["alpha"]), np.ptp(z["path_beta"][mine]) / np.ptp(z["beta"])
            assert max(span) >= 0.15, run               # the paths travel on the plane
    plan = make_plan(str(tmp_path / "bn.png"), views="contour,loss", size=(1280, 720))
    with FrameRenderer(scene, plan) as renderer:
        frame = renderer.render(scene.n_points)
        Image.fromarray(frame).save(tmp_path / "bn-frame.png")
        assert renderer.beside_view is not None and renderer.beside_view.title_label.text() == spec.title
        assert count(_pixels_of(renderer, frame, renderer.views["contour"]), BLUE) == 0
        assert count(_pixels_of(renderer, frame, renderer.views["contour"]), ORANGE) > 20
        assert count(_pixels_of(renderer, frame, renderer.beside_view), BLUE) > 20
        lines = dict(renderer.projected.note.lines)
        with np.load(out) as z:
            end = np.flatnonzero(z["path_run"] == 1)[-1]
            assert f"surface {_num(float(z['path_surface'][end]))}" in lines[1]


def test_the_filter_normalisation_preset_exports_the_random_slice_beside(qapp, tmp_path):
    """The paths' plane, and beside it the random slice through the start, not normalised, with each run's
    projection on it (near the start: a random slice holds almost nothing of a trajectory)."""
    session = load_preset("filter-normalisation")
    session = session.replace(runs=tuple(r.replace(epochs=3) for r in session.runs))
    scene = prepare_scene(session)
    spec, beside = scene.beside
    assert scene.plane.kind == "pca" and spec.kind == "random" and "not normalised" in spec.title
    assert beside.plane.kind == "random" and beside.plane.info["normalization"] == "none"
    out = tmp_path / "fn.npz"
    for _ in export_steps(scene, make_plan(str(out))):
        pass
    with np.load(out) as z:
        assert str(z["beside_kind"]) == "random" and z["loss_beside"].shape == beside.loss.shape
        np.testing.assert_array_equal(z["beside_plane_d1"], beside.plane.d1)
        first = z["path_run"] == 0
        p = la.project_path(scene.experiment, scene.trajectories[0], beside.plane)
        np.testing.assert_allclose(z["path_alpha_beside"][first], p.alpha)
        np.testing.assert_allclose(z["path_surface_beside"][first], p.surface_loss)
    plan = make_plan(str(tmp_path / "fn.png"), views="contour,loss", size=(1280, 720))
    with FrameRenderer(scene, plan) as renderer:
        frame = renderer.render(scene.n_points)
        Image.fromarray(frame).save(tmp_path / "fn-frame.png")
        assert "not normalised" in renderer.beside_view.title_label.text()
        assert sorted(renderer.projected.beside) == [0, 1]
        # Both runs sit at the start of the slice (the second drawn over the first).
        assert count(_pixels_of(renderer, frame, renderer.beside_view), BLUE) > 5
