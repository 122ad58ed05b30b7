"""Frames rendered offscreen from the app's own views: the path's colour lies on the trajectory, frames change
as it advances, the same scene gives the same pixels, and an export stopped midway leaves nothing."""
import numpy as np
import pytest
from PIL import Image

import landscape_app as la
from landscape_app.core.session import Session
from landscape_app.export.frames import FrameRenderer, grid_cells, iter_frames
from landscape_app.export.job import export_steps
from landscape_app.export.plan import make_plan
from landscape_app.export.scene import prepare_scene

ORANGE = np.array([0xE6, 0x9F, 0x00])
BLUE = np.array([0x56, 0xB4, 0xE9])


@pytest.fixture(scope="module")
def scene():
    exp = la.Experiment(data=la.make_dataset("linear", n_samples=30, noise=0.2, seed=1), lr=0.05, epochs=12,
                        batch_size=10, start=(-12.0, 8.0))
    session = Session((exp, exp.replace(optimizer="adam", lr=0.8)), title="Export test",
                      description="two runs")
    return prepare_scene(session)


def near(image: np.ndarray, px: float, py: float, color, radius: int = 3, tol: int = 40) -> bool:
    """Whether a pixel within ``radius`` of (px, py) has ``color`` (each channel within ``tol``)."""
    x, y = int(round(px)), int(round(py))
    patch = image[max(0, y - radius):y + radius + 1, max(0, x - radius):x + radius + 1].reshape(-1, 3)
    return bool((np.abs(patch.astype(int) - color).max(axis=1) <= tol).any())


def count(image: np.ndarray, color, tol: int = 30) -> int:
    return int((np.abs(image.reshape(-1, 3).astype(int) - color).max(axis=1) <= tol).sum())


def test_path_colour_lies_on_the_trajectory(qapp, tmp_path, scene):
    plan = make_plan(str(tmp_path / "x.png"), views="contour", size=(480, 360), title="")
    with FrameRenderer(scene, plan) as renderer:
        frame = renderer.render(scene.n_points)
        Image.fromarray(frame).save(tmp_path / "frame.png")
        for run, color in ((0, ORANGE), (1, BLUE)):
            params = scene.trajectories[run].params
            # Midpoints of the first steps (long ones, clear of the markers' outlines).
            for i in range(1, 4):
                x, y = (params[i - 1] + params[i]) / 2
                assert near(frame, *renderer.pixel_of("contour", x, y), color), (run, i)
        # Far from both paths (the top-right corner of the surface) neither colour appears.
        px, py = renderer.pixel_of("contour", 18.0, 18.0)
        assert not near(frame, px, py, ORANGE, radius=6) and not near(frame, px, py, BLUE, radius=6)
    assert frame.shape == (360, 480, 3)


def test_frames_advance_and_repeat_exactly(qapp, tmp_path, scene):
    plan = make_plan(str(tmp_path / "x.mp4"), views="contour,loss,data", size=(640, 360), every=4, hold=0.2)
    schedule = plan.schedule(scene.n_points)
    with FrameRenderer(scene, plan) as renderer:
        frames = list(iter_frames(renderer, schedule))
        again = renderer.render(int(schedule[3]))
        params = scene.trajectories[0].params
        x, y = (params[2] + params[3]) / 2
        mid = renderer.pixel_of("contour", x, y)
    assert len(frames) == len(schedule)
    assert all(f.shape == (360, 640, 3) for f in frames)
    assert not np.array_equal(frames[0], frames[-1])
    # The path grows: its third step is drawn in the last frame, not in the first.
    assert not near(frames[0], *mid, ORANGE) and near(frames[-1], *mid, ORANGE)
    # The hold repeats the final frame; rendering a point again gives the same pixels.
    assert all(np.array_equal(f, frames[-1]) for f in frames[-plan.hold_frames():])
    assert np.array_equal(again, frames[3])
    with FrameRenderer(scene, plan) as renderer:      # a fresh renderer: the same pixels
        assert np.array_equal(renderer.render(int(schedule[3])), frames[3])


def test_qt32_frames_are_the_rgb_frames_unconverted(qapp, tmp_path, scene):
    from landscape_app.export.writers import QT32_PIXEL_FORMAT
    plan = make_plan(str(tmp_path / "x.mp4"), views="contour,loss", size=(640, 360))
    with FrameRenderer(scene, plan) as renderer:
        rgb = renderer.render(scene.n_points // 2)
        raw = renderer.render(scene.n_points // 2, layout="qt32")
    assert raw.shape == (360, 640, 4) and raw.dtype == np.uint8
    # The bytes ffmpeg is told they are: 0, R, G, B words, in memory order.
    order = {"bgr0": [2, 1, 0], "0rgb": [1, 2, 3]}[QT32_PIXEL_FORMAT]
    assert np.array_equal(raw[..., order], rgb)


def test_caption_follows_the_iteration(qapp, tmp_path, scene):
    plan = make_plan(str(tmp_path / "x.mp4"), views="contour", size=(640, 360))
    with FrameRenderer(scene, plan) as renderer:
        renderer.update(5)
        texts = [label.text() for label in renderer.caption.labels]
        assert "iteration <b>4</b>" in texts[0]
        assert f"{scene.trajectories[1].loss[4]:.4g}" in texts[2]
        renderer.update(scene.n_points)
        assert f"iteration <b>{int(scene.trajectories[0].iteration[-1])}</b>" in renderer.caption.labels[0].text()


def test_high_resolution_frames_are_the_same_picture(qapp, tmp_path, scene):
    small = make_plan(str(tmp_path / "a.png"), views="contour", size=(1280, 720))
    large = make_plan(str(tmp_path / "b.png"), views="contour", size=(1920, 1080))
    with FrameRenderer(scene, small) as renderer:
        a = renderer.render(scene.n_points)
    with FrameRenderer(scene, large) as renderer:
        b = renderer.render(scene.n_points)
    assert b.shape == (1080, 1920, 3)
    # Laid out at 720 logical pixels and painted at 1.5x: scaled down, the large frame matches the small one.
    shrunk = np.asarray(Image.fromarray(b).resize((1280, 720), Image.Resampling.BOX)).astype(int)
    assert np.abs(shrunk - a).mean() < 6


@pytest.mark.parametrize("n, wide, cells", [
    (1, True, [(0, 0, 1, 1)]),
    (2, True, [(0, 0, 1, 1), (0, 1, 1, 1)]),
    (2, False, [(0, 0, 1, 1), (1, 0, 1, 1)]),
    (3, True, [(0, 0, 2, 1), (0, 1, 1, 1), (1, 1, 1, 1)]),
    (4, True, [(0, 0, 1, 1), (0, 1, 1, 1), (1, 0, 1, 1), (1, 1, 1, 1)]),
])
def test_grid_layout(n, wide, cells):
    assert grid_cells(n, 1600 if wide else 900, 900 if wide else 1600) == cells


def test_gif_export_keeps_run_colours_exact(qapp, tmp_path, scene):
    import imageio.v3 as iio
    plan = make_plan(str(tmp_path / "race.gif"), views="contour", size=(320, 240), every=3, hold=0.5, fps=10)
    done = list(export_steps(scene, plan))
    assert done[-1] == (plan.frame_count(scene.n_points),) * 2
    frames = iio.imread(tmp_path / "race.gif", index=None)
    assert frames.shape[1:] == (240, 320, 3)
    assert not np.array_equal(frames[0], frames[-1])
    with FrameRenderer(scene, plan) as renderer:
        final = renderer.render(scene.n_points)
    # Every pixel drawn in a run's colour is exactly that colour in the GIF too (its palette keeps them).
    for color in (ORANGE, BLUE):
        assert count(frames[-1], color, tol=0) >= count(final, color, tol=0) > 20
    assert [p.name for p in tmp_path.iterdir()] == ["race.gif"]


def test_svg_still_of_a_2d_view(qapp, tmp_path, scene):
    plan = make_plan(str(tmp_path / "loss.svg"), views="loss", size=(640, 480))
    list(export_steps(scene, plan))
    text = (tmp_path / "loss.svg").read_text()
    assert "<svg" in text and "</svg>" in text
    assert [p.name for p in tmp_path.iterdir()] == ["loss.svg"]


def test_png_still_is_the_final_frame(qapp, tmp_path, scene):
    plan = make_plan(str(tmp_path / "final.png"), views="contour", size=(400, 300))
    list(export_steps(scene, plan))
    with FrameRenderer(scene, plan) as renderer:
        expected = renderer.render(scene.n_points)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "final.png").convert("RGB")), expected)


@pytest.mark.parametrize("name", ["old.mp4", "old.gif", "frames/"])
def test_stopping_midway_leaves_the_target_untouched(qapp, tmp_path, scene, name):
    target = tmp_path / name.rstrip("/")
    if name.endswith("/"):
        target.mkdir()
        (target / "frame_00000.png").write_bytes(b"before")
    else:
        target.write_bytes(b"before")
    plan = make_plan(str(tmp_path / name) + ("/" if name.endswith("/") else ""), views="contour",
                     size=(320, 240), every=1)
    steps = export_steps(scene, plan)
    for _ in range(5):
        next(steps)
    steps.close()        # what Cancel does
    if name.endswith("/"):
        assert [p.read_bytes() for p in target.iterdir()] == [b"before"]
    else:
        assert target.read_bytes() == b"before"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_png_frames_are_deterministic(qapp, tmp_path, scene):
    for name in ("a", "b"):
        list(export_steps(scene, make_plan(f"{tmp_path / name}/", views="contour,loss", size=(320, 180),
                                           every=6, hold=0)))
    a, b = sorted((tmp_path / "a").iterdir()), sorted((tmp_path / "b").iterdir())
    assert len(a) == len(b) == make_plan(f"{tmp_path / 'c'}/", every=6, hold=0).frame_count(scene.n_points)
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))


def test_plane_slice_follows_the_held_parameter(qapp, tmp_path):
    exp = la.Experiment(data=la.make_dataset("plane", n_samples=30, seed=3), model="plane", lr=0.1, epochs=15,
                        start=(-4.0, 4.0, 3.0), grid=la.Grid(resolution=(41, 41)))
    scene = prepare_scene(Session((exp,)))
    assert scene.follows_held
    held = [p for p in exp.param_names if p not in exp.grid.axes][0]
    plan = make_plan(str(tmp_path / "x.mp4"), views="contour", size=(320, 240), caption=False, title="")
    with FrameRenderer(scene, plan) as renderer:
        first = renderer.render(1)
        assert renderer._surface.held == {held: 3.0}
        last = renderer.render(scene.n_points)
        assert renderer._surface.held == {held: float(scene.trajectories[0].column(held)[-1])}
    # The heat map itself changed (not only the path): compare a corner far from the path.
    assert not np.array_equal(first[20:60, 30:80], last[20:60, 30:80])


def test_log_option_reaches_the_views(qapp, tmp_path, scene):
    plan = make_plan(str(tmp_path / "x.mp4"), views="contour,loss", size=(320, 240), log=True)
    with FrameRenderer(scene, plan) as renderer:
        assert renderer.views["contour"].log_scale and renderer.views["loss"].log_y
        frame = renderer.render(scene.n_points)
    assert frame.shape == (240, 320, 3)


def test_loss_axis_spans_the_whole_run_from_the_first_frame(qapp, tmp_path, scene):
    plan = make_plan(str(tmp_path / "x.mp4"), views="loss", size=(480, 270), every=1)
    last = max(int(t.iteration[-1]) for t in scene.trajectories)
    with FrameRenderer(scene, plan) as renderer:
        vb = renderer.views["loss"].vb
        for upto in (1, 5, scene.n_points // 2, scene.n_points):
            renderer.render(upto)
            x0, x1 = vb.viewRange()[0]
            assert x0 <= 0 and last <= x1 <= last * 1.1, (upto, x0, x1)


def test_3d_paths_of_runs_on_other_losses_lie_on_the_shown_surface(qapp, tmp_path, monkeypatch):
    """In a race of MSE, L1 and Huber, the 3-D view shows MSE: the other runs' points are drawn at their MSE,
    on the surface, as in the window (not at their own losses' heights, floating above or sunk below it)."""
    from landscape_app.core.presets import load_preset
    from landscape_app.core.surface import loss_at
    from landscape_app.gui.views.surface3d import SurfaceView
    scene = prepare_scene(load_preset("outliers-mse-l1-huber").replace(
        runs=tuple(r.replace(epochs=20) for r in load_preset("outliers-mse-l1-huber").runs)))
    shown = []
    monkeypatch.setattr(SurfaceView, "show_paths", lambda self, paths, upto=None: shown.append(paths))
    plan = make_plan(str(tmp_path / "x.png"), views="contour,surface", size=(480, 360), title="")
    with FrameRenderer(scene, plan) as renderer:
        renderer.update(10)
    paths = shown[-1]
    mse = scene.experiment
    assert {scene.session.runs[i].criterion for i in paths} == {"mse", "l1", "huber"}
    for i, traj in paths.items():
        assert len(traj) == 10
        assert np.allclose(traj.loss, loss_at(mse, traj.params), rtol=1e-9), scene.session.runs[i].criterion


def test_caption_and_loss_curve_give_every_run_in_the_shown_unit(qapp, tmp_path):
    """The exported loss axis says "MSE loss", so the L1 and Huber runs' curves and caption numbers are their MSE."""
    from landscape_app.core.presets import load_preset
    from landscape_app.core.surface import loss_at
    preset = load_preset("outliers-mse-l1-huber")
    scene = prepare_scene(preset.replace(runs=tuple(r.replace(epochs=20) for r in preset.runs)))
    mse = scene.experiment
    plan = make_plan(str(tmp_path / "x.png"), views="loss", size=(960, 540), title="")
    with FrameRenderer(scene, plan) as renderer:
        renderer.update(8)
        view = renderer.views["loss"]
        assert view.y_label() == "MSE loss"
        for i in (1, 2):
            params = scene.trajectories[i].params
            x, y = view.curves[i].full.data()
            np.testing.assert_allclose(y, loss_at(mse, params[x.astype(int)]), rtol=1e-12)
            text = renderer.caption.labels[i + 1].text()
            assert "MSE loss" in text and f"{loss_at(mse, params[7]):.4g}" in text
            assert f"{scene.trajectories[i].loss[7]:.4g}" not in text      # not the run's own L1/Huber value


def test_a_diverged_run_leaves_the_exported_loss_axis(qapp, tmp_path):
    from landscape_app.core.presets import load_preset
    scene = prepare_scene(load_preset("learning-rate-too-large"))
    assert scene.trajectories[2].outcome == "diverged"
    plan = make_plan(str(tmp_path / "x.png"), views="loss", size=(640, 360), title="")
    start = scene.trajectories[0].loss[0]
    with FrameRenderer(scene, plan) as renderer:
        view = renderer.views["loss"]
        for upto in (10, scene.n_points):
            renderer.render(upto)
            assert start <= view.vb.viewRange()[1][1] < 1.3 * start, upto
        assert view.mark_texts() == {2: "↑ diverged"}
        renderer.render(30)
        assert view.mark_texts() == {2: "↑ off the scale"}
