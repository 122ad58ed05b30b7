"""LossView and DataView offscreen: what they draw for real runs, the timeline, log-y, lecture mode, pixels."""
import numpy as np
import pytest
import torch

from landscape_app.core.data import make_dataset
from landscape_app.core.experiment import Experiment
from landscape_app.core.training import run
from landscape_app.gui import style
from landscape_app.gui.views import RUN_COLORS, DataView, LossView, RunStyle

SIZE = (700, 480)
RUNS = [RunStyle(0, "SGD", RUN_COLORS[0]), RunStyle(1, "Adam", RUN_COLORS[1])]


@pytest.fixture(scope="module")
def minibatch_runs():
    exp = Experiment(epochs=3, batch_size=6, shuffle=True)
    adam = exp.replace(optimizer="adam", lr=0.8)
    return exp, {0: run(exp), 1: run(adam)}


def pixels(view) -> np.ndarray:
    img = view.render_image(*SIZE).convertToFormat(view.grab().toImage().Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : 3 * img.width()].reshape(img.height(), img.width(), 3).astype(int).copy()


def colour_count(arr, color, tol=30) -> int:
    c = style.qcolor(color)
    return int((np.abs(arr - np.array([c.red(), c.green(), c.blue()])).sum(axis=2) < tol).sum())


# -- loss view -------------------------------------------------------------------------------------------
@pytest.fixture
def loss_view(qtbot, minibatch_runs):
    exp, paths = minibatch_runs
    v = LossView()
    qtbot.addWidget(v)
    v.resize(*SIZE)
    v.set_scene(exp, None)
    v.set_runs(RUNS)
    v.show_paths(paths)
    return v


def test_loss_view_draws_full_and_batch_loss_per_run(loss_view, minibatch_runs):
    _, paths = minibatch_runs
    for run_id, traj in paths.items():
        x, y = loss_view.curves[run_id].full.data()
        assert np.array_equal(x, traj.iteration) and np.array_equal(y, traj.loss)
        xb, yb = loss_view.curves[run_id].batch.data()
        assert np.isnan(yb[0]) and np.array_equal(yb[1:], traj.batch_loss[1:])
    assert "MSE" in loss_view.plot.getAxis("left").labelText
    assert loss_view.legend_names()[:2] == ["SGD", "Adam"]
    arr = pixels(loss_view)
    assert colour_count(arr, RUN_COLORS[0]) > 50 and colour_count(arr, RUN_COLORS[1]) > 50


def test_loss_view_timeline_and_ghost(loss_view, minibatch_runs):
    _, paths = minibatch_runs
    loss_view.show_paths(paths, upto=10)
    x, y = loss_view.curves[0].full.data()
    assert len(x) == 10 and x[-1] == paths[0].iteration[9]
    assert loss_view.timeline.isVisible() and loss_view.timeline.value() == paths[0].iteration[9]
    gx, _ = loss_view.curves[0].ghost.data()          # the rest of the run, faint
    assert gx[0] == paths[0].iteration[9] and gx[-1] == paths[0].iteration[-1]
    loss_view.show_paths(paths)
    assert len(loss_view.curves[0].ghost.data()[0]) == 0


def test_loss_view_log_y(loss_view, minibatch_runs):
    _, paths = minibatch_runs
    loss_view.set_log_y(True)
    _, y = loss_view.curves[1].full.data()
    assert np.allclose(y, np.log10(paths[1].loss))
    assert loss_view.plot.getAxis("left").logMode
    assert not loss_view.render_image().isNull()
    loss_view.set_log_y(False)
    assert np.allclose(loss_view.curves[1].full.data()[1], paths[1].loss)


def test_loss_view_decimates_long_curves_keeping_the_extremes(loss_view):
    from landscape_app.core.trajectory import Trajectory
    n = 100_000
    rng = np.random.default_rng(3)
    loss = np.exp(-np.arange(n) / 2e4) + 0.01 * rng.random(n)
    loss[777] = 5.0
    traj = Trajectory(("w", "b"), np.arange(n), np.zeros(n, np.int64), np.zeros((n, 2)), loss * 1.1, loss,
                      np.full(n, 0.1))
    loss_view.show_paths({0: traj})
    x, y = loss_view.curves[0].full.data()
    assert len(x) < 5000 and y.max() == 5.0 and y[-1] == loss[-1]
    # The long mini-batch loss becomes a min..max band spanning its whole range.
    assert len(loss_view.curves[0].batch.data()[0]) == 0
    bx, by = loss_view.curves[0].band.data()
    assert len(bx) < 5000
    assert by.min() == pytest.approx((loss * 1.1).min()) and by.max() == pytest.approx(5.5)
    # Step i's batch loss belongs to step i-1's parameters, so the band spans iterations -1 .. n-2.
    assert bx.min() == -1 and bx.max() == n - 2


def test_full_batch_loss_curves_coincide(qtbot):
    """With the full batch, step i's batch loss is the full loss at step i-1: drawn there, the curves agree."""
    import landscape_app as la
    from landscape_app.gui.views.loss_curve import LossView
    view = LossView()
    qtbot.addWidget(view)
    view.resize(640, 400)
    exp = la.Experiment(epochs=15)
    traj = la.run(exp)
    view.set_scene(exp, None)
    view.set_runs(RUNS[:1])
    view.show_paths({0: traj})
    bx, by = view.curves[0].batch.data()
    fx, fy = view.curves[0].full.data()
    at = dict(zip(fx.tolist(), fy.tolist()))
    pairs = [(y, at[x]) for x, y in zip(bx.tolist(), by.tolist()) if np.isfinite(y)]
    assert len(pairs) == exp.epochs
    assert all(y == pytest.approx(full, rel=1e-5) for y, full in pairs)


def test_a_single_point_sits_on_a_sensible_axis(loss_view):
    from landscape_app.core.trajectory import Trajectory
    one = Trajectory(("w", "b"), np.array([0]), np.array([0]), np.zeros((1, 2)), np.array([np.nan]),
                     np.array([3.0]), np.array([np.nan]))
    loss_view.show_paths({0: one})
    (x0, x1), _ = loss_view.vb.viewRange()
    assert x0 <= 0 and x1 >= 10


def _path(losses) -> "Trajectory":
    from landscape_app.core.trajectory import Trajectory
    n = len(losses)
    return Trajectory(("w", "b"), np.arange(n), np.zeros(n, int), np.zeros((n, 2)), np.full(n, np.nan),
                      np.asarray(losses, dtype=float), np.full(n, np.nan))


def test_a_start_alone_is_a_dot_on_an_axis_of_its_own_scale(loss_view):
    """After Reset (or a model change) the runs show their start alone: one point, the start's loss. It is drawn
    (a dot: one point is no line), and the axis fits it, not the height the last race's losses gave it."""
    loss_view.legend.setVisible(False)
    loss_view.show_paths({0: _path(np.geomspace(20000.0, 1.0, 50))})
    loss_view.render_image(*SIZE)
    assert loss_view.vb.viewRange()[1][1] > 15000
    loss_view.show_paths({0: _path([0.68]), 1: _path([0.68])})
    arr = pixels(loss_view)
    y0, y1 = loss_view.vb.viewRange()[1]
    assert y0 < 0.68 < y1 and y1 - y0 < 2.0
    x, y = loss_view.curves[1].point.data()
    assert list(x) == [0] and list(y) == [0.68]
    assert colour_count(arr, RUN_COLORS[1]) > 10
    loss_view.show_paths({0: _path([0.68, 0.6]), 1: _path([0.68, 0.5])})
    assert len(loss_view.curves[1].point) == 0 and len(loss_view.curves[1].full) == 1


def test_loss_view_lecture_mode(loss_view):
    w = loss_view.curves[0].full.pen.widthF()
    loss_view.set_lecture_mode(True)
    assert loss_view.curves[0].full.pen.widthF() > w
    loss_view.set_runs(RUNS[:1])
    assert 1 not in loss_view.curves


# -- data view -------------------------------------------------------------------------------------------
def make_data_view(qtbot, exp, paths, upto=None):
    v = DataView()
    qtbot.addWidget(v)
    v.resize(*SIZE)
    v.set_runs(RUNS[: len(paths)])
    v.set_scene(exp, None)
    v.show_paths(paths, upto)
    return v


def test_data_view_line_is_the_current_prediction(qtbot, minibatch_runs):
    exp, paths = minibatch_runs
    v = make_data_view(qtbot, exp, paths, upto=7)
    assert v.mode == "2d"
    x, y = v.plot2d.points.data()
    dx, dy = exp.data.numpy()
    assert np.array_equal(x, dx[:, 0]) and np.array_equal(y, dy)
    for run_id, traj in paths.items():
        w, b = traj.params[6]
        lx, ly = v.plot2d.items[run_id]["line"].data()
        assert np.allclose(ly, w * lx + b)
        # The current mini-batch (step 6's) is ringed.
        bx, by = v.plot2d.items[run_id]["batch"].data()
        batch = traj.batches[6]
        assert len(batch) == 6
        assert np.array_equal(bx, dx[batch, 0]) and np.array_equal(by, dy[batch])
    # The line's colour is drawn.
    assert colour_count(pixels(v), RUN_COLORS[0]) > 30


def test_data_view_full_batch_rings_nothing(qtbot):
    exp = Experiment(epochs=3)
    v = make_data_view(qtbot, exp, {0: run(exp)})
    assert len(v.plot2d.items[0]["batch"].data()[0]) == 0
    assert len(v.plot2d.items[0]["line"].data()[0]) == 2


def test_data_view_sigmoid_for_the_logistic_model(qtbot):
    exp = Experiment(data=make_dataset("logistic"), model="logistic", criterion="bce-logits", lr=1.0, epochs=15)
    traj = run(exp)
    v = make_data_view(qtbot, exp, {0: traj})
    lx, ly = v.plot2d.items[0]["line"].data()
    w, b = traj.params[-1]
    assert len(lx) > 50
    assert np.allclose(ly, torch.sigmoid(torch.tensor(w * lx + b)).numpy())
    assert ((ly > 0) & (ly < 1)).all()


def test_plane_model_without_opengl_projects_prediction_against_target(qtbot):
    exp = Experiment(data=make_dataset("plane"), model="plane", epochs=3, batch_size=10)
    traj = run(exp)
    v = make_data_view(qtbot, exp, {0: traj}, upto=4)
    assert v.mode == "projection"          # the offscreen platform has no OpenGL
    px, py = v.plot2d.items[0]["proj"].data()
    x, y = exp.data.numpy()
    assert np.allclose(px, x @ traj.params[3][:2] + traj.params[3][2])
    assert np.array_equal(py, y)
    assert len(v.plot2d.items[0]["batch"].data()[0]) == 10
    assert colour_count(pixels(v), RUN_COLORS[0]) > 20


def test_data_view_survives_a_diverged_run(qtbot):
    exp = Experiment(lr=1.5, epochs=60)
    traj = run(exp)
    assert traj.outcome == "diverged"
    v = make_data_view(qtbot, exp, {0: traj})
    assert not v.render_image().isNull()
    x, y = v.plot2d.items[0]["line"].data()
    assert len(x) == 2           # the near-vertical line crosses the view: drawn, clipped to finite size
    assert np.isfinite(x).all() and np.isfinite(y).all() and (np.abs(y) < 1e6).all()


def test_data_view_lecture_mode_thickens_lines_and_rings(qtbot, minibatch_runs):
    exp, paths = minibatch_runs
    v = make_data_view(qtbot, exp, paths, upto=5)
    line, ring = v.plot2d.items[0]["line"].pen.widthF(), v.plot2d.items[0]["batch"].size
    v.set_lecture_mode(True)
    assert v.plot2d.items[0]["line"].pen.widthF() > line
    assert v.plot2d.items[0]["batch"].size > ring
    assert v.plot2d.plot.getAxis("left").style["tickFont"].pointSize() >= 14


def test_a_planned_length_fixes_the_x_axis(loss_view):
    """With the run's planned length the axis spans the whole run and does not follow the growing curve."""
    from landscape_app.core.trajectory import Trajectory
    n = 30
    traj = Trajectory(("w", "b"), np.arange(n), np.zeros(n, np.int64), np.zeros((n, 2)), np.full(n, 2.0),
                      np.linspace(3.0, 1.0, n), np.full(n, 0.1))
    loss_view.set_planned_length(400)
    for upto in (1, 10, 30):
        loss_view.show_paths({0: traj}, upto=upto)
        (x0, x1), _ = loss_view.vb.viewRange()
        assert x0 <= 0 and 400 <= x1 < 420
    loss_view.set_planned_length(None)
    loss_view.show_paths({0: traj})
    loss_view.vb.updateAutoRange()   # pyqtgraph applies an auto range lazily, at the next paint
    (x0, x1), _ = loss_view.vb.viewRange()
    assert x1 < 100


# -- units and runs that leave ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def too_large():
    """The learning-rate-too-large race: lr 0.1 and 0.3 converge, lr 0.4 diverges (to a loss near 1e20)."""
    from landscape_app.core.presets import load_preset
    from landscape_app.core.surface import compute_surface
    session = load_preset("learning-rate-too-large")
    paths = {i: run(e) for i, e in enumerate(session.runs)}
    assert [t.outcome for t in paths.values()] == ["finished", "finished", "diverged"]
    return session.runs[0], compute_surface(session.runs[0]), paths


def make_race_view(qtbot, exp, surface, paths, upto=None):
    v = LossView()
    qtbot.addWidget(v)
    v.resize(*SIZE)
    v.set_scene(exp, surface)
    v.set_runs([RunStyle(i, f"run {i}", RUN_COLORS[i]) for i in paths])
    v.show_paths(paths, upto)
    v.render_image(*SIZE)
    return v


def test_a_diverging_run_leaves_through_the_top_and_the_others_stay_readable(qtbot, too_large):
    exp, surface, paths = too_large
    start = paths[0].loss[0]
    assert np.nanmax(paths[2].loss) > 1e15
    v = make_race_view(qtbot, exp, surface, paths)
    y0, y1 = v.vb.viewRange()[1]
    # The axis is the converging runs' (from ~0 to the start loss), not the diverged run's 1e20.
    assert y0 <= 0 and start <= y1 < 1.3 * start
    assert v.mark_texts() == {2: "↑ diverged"}
    mark = v.marks[2]
    assert 0 <= mark.pos().x() <= 1 and mark.pos().y() == pytest.approx(y1)   # it leaves after its first step
    # The converging runs' curves fill the plot: their colours reach its upper half (left of the legend).
    v.legend.setVisible(False)
    arr = pixels(v)
    upper = arr[: arr.shape[0] // 2, : arr.shape[1] // 3]
    assert colour_count(upper, RUN_COLORS[0]) > 20 and colour_count(upper, RUN_COLORS[1]) > 20
    # Log scale: still the converging runs' range (decades), the diverged run still leaves.
    v.set_log_y(True)
    v.render_image(*SIZE)
    assert np.log10(start) <= v.vb.viewRange()[1][1] < np.log10(start) + 1     # not the 20 decades to 1e20
    assert v.mark_texts() == {2: "↑ diverged"}


def test_before_its_end_a_leaving_run_is_marked_off_the_scale(qtbot, too_large):
    import dataclasses
    exp, surface, paths = too_large
    partial = {i: dataclasses.replace(t.upto(30), outcome="running") for i, t in paths.items()}
    v = make_race_view(qtbot, exp, surface, partial)
    assert v.mark_texts() == {2: "↑ off the scale"}
    assert v.vb.viewRange()[1][1] < 1.3 * paths[0].loss[0]
    # Scrubbed back in the finished race: the end is not shown yet, so neither is "diverged".
    v.show_paths(paths, upto=30)
    v.render_image(*SIZE)
    assert v.mark_texts() == {2: "↑ off the scale"}


def test_the_axis_names_its_unit(loss_view):
    from landscape_app.gui.views.loss_curve import OWN_LOSSES_LABEL
    axis = loss_view.plot.getAxis("left")
    assert axis.labelText == "MSE loss"
    loss_view.set_own_losses(True, mixed=True)          # each run's own criterion, and they differ
    assert axis.labelText == OWN_LOSSES_LABEL
    loss_view.set_own_losses(True, mixed=False)         # one criterion: its name
    assert axis.labelText == "MSE loss"
