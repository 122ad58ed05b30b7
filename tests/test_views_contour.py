"""ContourView drawn offscreen on a real surface and real training paths: pixels, hover, click, options."""
import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from landscape_app.core.experiment import Experiment
from landscape_app.core.surface import compute_surface
from landscape_app.core.training import run
from landscape_app.core.trajectory import Trajectory
from landscape_app.gui import style
from landscape_app.gui.views import RUN_COLORS, ContourView, RunStyle

SIZE = (800, 600)


@pytest.fixture(scope="module")
def course():
    """The course's regression (start w=-15, b=-10) with plain SGD and with momentum."""
    exp = Experiment(epochs=8)
    momentum = exp.replace(optimizer_options={"momentum": 0.9}, lr=0.02)
    return exp, compute_surface(exp), {0: run(exp), 1: run(momentum)}


@pytest.fixture
def view(qtbot, course):
    exp, surface, paths = course
    v = ContourView()
    qtbot.addWidget(v)
    v.resize(*SIZE)
    v.set_scene(exp, surface)
    v.set_runs([RunStyle(0, "SGD", RUN_COLORS[0]), RunStyle(1, "Momentum", RUN_COLORS[1])])
    v.show_paths(paths)
    v.render_image(*SIZE)
    return v


def to_viewport(view, x, y) -> QPointF:
    """Data coordinates -> position in the plot widget's viewport (where mouse events go)."""
    return view.widget.viewportTransform().map(view.vb.mapViewToScene(QPointF(x, y)))


def to_pixel(view, x, y) -> QPointF:
    """Data coordinates -> pixel in the view's rendered image (through the ViewBox)."""
    return to_viewport(view, x, y) + QPointF(view.widget.viewport().mapTo(view, QPoint(0, 0)))


def image_array(view) -> np.ndarray:
    img = view.render_image(*SIZE).convertToFormat(view.render_image().Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : 3 * img.width()].reshape(img.height(), img.width(), 3).astype(int).copy()


def rgb(color: str) -> np.ndarray:
    c = style.qcolor(color)
    return np.array([c.red(), c.green(), c.blue()])


def near_color(arr, color, tol=40) -> np.ndarray:
    return np.abs(arr - rgb(color)).sum(axis=2) < tol


def segment_pixels(view, traj, upto=None, samples=9):
    """Pixels along the drawn straight segments between consecutive points (interiors, not the ends)."""
    n = len(traj) if upto is None else upto
    out = []
    for i in range(1, n):
        a, b = traj.params[i - 1], traj.params[i]
        pa, pb = to_pixel(view, *a), to_pixel(view, *b)
        if math.hypot(pb.x() - pa.x(), pb.y() - pa.y()) < 12:
            continue
        for t in np.linspace(0.3, 0.7, samples):
            out.append((pa.x() + t * (pb.x() - pa.x()), pa.y() + t * (pb.y() - pa.y())))
    return np.array(out)


def polyline_distance(view, traj, pts) -> np.ndarray:
    """Pixel distance from each of ``pts`` to the drawn path of ``traj``."""
    poly = np.array([[p.x(), p.y()] for p in (to_pixel(view, *q) for q in traj.params)])
    a, b = poly[:-1], poly[1:]
    d = b - a
    t = np.clip(np.einsum("pij,ij->pi", pts[:, None, :] - a[None], d) / np.maximum((d * d).sum(1), 1e-9), 0, 1)
    closest = a[None] + t[..., None] * d[None]
    return np.hypot(*(pts[:, None, :] - closest).transpose(2, 0, 1)).min(axis=1)


def test_path_colour_lies_on_the_trajectory_and_nowhere_else(view, course):
    _, _, paths = course
    arr = image_array(view)
    for run_id in (0, 1):
        color = RUN_COLORS[run_id]
        pts = segment_pixels(view, paths[run_id])
        # Where the other run's path passes over this one (both start at the same point), it hides it.
        pts = pts[polyline_distance(view, paths[1 - run_id], pts) > 8]
        assert len(pts) > 5
        hits = 0
        for x, y in pts:
            r, c = int(round(y)), int(round(x))
            window = near_color(arr[r - 1: r + 2, c - 1: c + 2], color)
            hits += bool(window.any())
        assert hits >= 0.9 * len(pts), f"run {run_id}: colour found at {hits} of {len(pts)} path pixels"
    # Nowhere else: mask a band around both paths and the legend; the runs' colours must not appear.
    mask = np.zeros(arr.shape[:2], bool)
    yy, xx = np.mgrid[0: arr.shape[0], 0: arr.shape[1]]
    for traj in paths.values():
        for i in range(len(traj)):
            p = to_pixel(view, *traj.params[i])
            q = to_pixel(view, *traj.params[max(i - 1, 0)])
            for t in np.linspace(0, 1, 40):
                cx, cy = q.x() + t * (p.x() - q.x()), q.y() + t * (p.y() - q.y())
                mask[max(0, int(cy) - 12): int(cy) + 13, max(0, int(cx) - 12): int(cx) + 13] = True
    legend = view.legend.mapRectToScene(view.legend.boundingRect())
    top_left = view.widget.mapFromScene(legend.topLeft()) + view.widget.viewport().mapTo(view, QPoint(0, 0))
    mask[max(0, top_left.y() - 4): top_left.y() + int(legend.height()) + 4,
         max(0, top_left.x() - 4): top_left.x() + int(legend.width()) + 4] = True
    for run_id in (0, 1):
        stray = near_color(arr, RUN_COLORS[run_id], tol=30) & ~mask
        assert stray.sum() == 0, f"run {run_id} colour at {np.argwhere(stray)[:5]}"


def test_timeline_draws_only_up_to_the_index(view, course):
    _, _, paths = course
    traj = paths[1]                    # momentum overshoots: its late points lie far from its early ones
    upto = 4
    early = [to_pixel(view, *traj.params[i]) for i in range(upto)]
    far = None
    for j in range(upto + 2, len(traj)):
        p = to_pixel(view, *traj.params[j])
        if min(math.hypot(p.x() - e.x(), p.y() - e.y()) for e in early) > 60:
            far = p
            break
    assert far is not None
    arr = image_array(view)
    r, c = int(far.y()), int(far.x())
    assert near_color(arr[r - 3: r + 4, c - 3: c + 4], RUN_COLORS[1]).any()
    view.show_paths(paths, upto=upto)
    arr = image_array(view)
    assert not near_color(arr[r - 3: r + 4, c - 3: c + 4], RUN_COLORS[1]).any()
    # The current point is the last drawn one.
    cur = view.paths[1].current.data()
    assert (cur[0][0], cur[1][0]) == pytest.approx(tuple(traj.params[upto - 1]))


def test_hover_shows_the_loss_under_the_cursor(view, qtbot, course):
    _, surface, _ = course
    view.show()
    qtbot.waitExposed(view)
    j, i = 137, 61
    x, y = surface.w[j], surface.b[i]
    viewport_pos = to_viewport(view, x, y).toPoint()
    with qtbot.waitSignal(view.hovered, timeout=5000) as blocker:
        qtbot.mouseMove(view.widget.viewport(), viewport_pos)
    hx, hy, loss = blocker.args
    assert (hx, hy) == (pytest.approx(x), pytest.approx(y))
    assert loss == surface.loss[i, j]
    assert f"MSE loss = {surface.loss[i, j]:.5g}" in view.hover_label()
    assert "w = " in view.hover_label() and "b = " in view.hover_label()


def test_hover_clears_when_the_cursor_leaves_and_follows_a_new_surface(view, qtbot, course):
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication
    exp, surface, _ = course
    view.show()
    qtbot.waitExposed(view)
    j, i = 40, 150
    pos = to_viewport(view, surface.w[j], surface.b[i]).toPoint()
    with qtbot.waitSignal(view.hovered, timeout=5000):
        qtbot.mouseMove(view.widget.viewport(), pos)
    assert f"MSE loss = {surface.loss[i, j]:.5g}" in view.hover_label()
    # Beside the cursor (not pinned in a corner), and under the paths: it never hides one.
    cursor = view.widget.mapToScene(pos)
    box = view.hover_text.sceneBoundingRect()
    assert box.left() > cursor.x() or box.right() < cursor.x()
    assert abs(box.center().y() - cursor.y()) < box.height() + 40
    assert view.image.zValue() < view.hover_text.zValue() < view.path_layers.zValue()

    # Another loss while the cursor stays: the reading is the new surface's.
    l1 = exp.replace(criterion="l1")
    l1_surface = compute_surface(l1)
    with qtbot.waitSignal(view.hovered, timeout=5000) as blocker:
        view.set_scene(l1, l1_surface)
    assert blocker.args[2] == l1_surface.loss[i, j] != surface.loss[i, j]
    assert f"L1 loss = {l1_surface.loss[i, j]:.5g}" in view.hover_label()

    # The cursor leaves the plot: no reading, and listeners hear it.
    with qtbot.waitSignal(view.hover_left, timeout=5000):
        QApplication.sendEvent(view, QEvent(QEvent.Type.Leave))
    assert view.hover_label() == ""
    # A scene change after it left shows nothing (no stale reading comes back).
    with qtbot.assertNotEmitted(view.hovered):
        view.set_scene(exp, surface)
    assert view.hover_label() == ""


def test_click_emits_start_clicked_with_the_clicked_coordinates(view, qtbot):
    view.show()
    qtbot.waitExposed(view)
    target = (6.5, -12.25)
    pos = to_viewport(view, *target).toPoint()
    with qtbot.waitSignal(view.start_clicked, timeout=5000) as blocker:
        qtbot.mouseClick(view.widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    px, py = view.vb.viewPixelSize()
    assert blocker.args[0] == pytest.approx(target[0], abs=1.5 * px)
    assert blocker.args[1] == pytest.approx(target[1], abs=1.5 * py)


def test_start_marker_shows_and_hides(view):
    view.set_start_marker(3.0, 4.0)
    assert [list(a) for a in view.start_marker.getData()] == [[3.0], [4.0]]
    view.set_start_marker(None)
    assert len(view.start_marker.getData()[0]) == 0


def test_log_scale_colours_log10_of_the_loss(view, course):
    _, surface, _ = course
    linear = view.image.image.copy()
    assert np.allclose(linear, surface.loss.T)
    view.set_log_scale(True)
    assert np.allclose(view.image.image, np.log10(surface.loss.T))
    assert view.colorbar.axis.logMode
    assert view.colorbar.levels() == pytest.approx((math.log10(surface.loss.min()), math.log10(surface.loss.max())))
    view.set_log_scale(False)
    assert np.allclose(view.image.image, surface.loss.T)


def test_image_is_placed_on_the_grid(view, course):
    """Columns are w (x), rows are b (y): the pixel over a grid node has that node's colour level."""
    _, surface, _ = course
    rect = view.image.mapRectToView(view.image.boundingRect())
    dx = surface.w[1] - surface.w[0]
    assert rect.left() == pytest.approx(surface.w[0] - dx / 2)
    assert rect.right() == pytest.approx(surface.w[-1] + dx / 2)
    # An asymmetric check: the loss at (w=20, b=-20) differs from (w=-20, b=20); the image must not transpose.
    img = view.image.image
    assert img[-1, 0] == surface.loss[0, -1]
    assert img[0, -1] == surface.loss[-1, 0]


def test_gradient_arrows_point_downhill(view, course):
    _, surface, _ = course
    view.set_gradient_field(True)
    assert view.arrows.isVisible()
    x, y = view.arrows.getData()
    seg = np.stack([x, y], axis=1).reshape(-1, 3, 2, 2)[:, 0]   # shafts: (tail, tip)
    mid = seg.mean(axis=1)
    step = seg[:, 1] - seg[:, 0]
    i_min, j_min = np.unravel_index(np.argmin(surface.loss), surface.loss.shape)
    to_min = np.array([surface.w[j_min], surface.b[i_min]]) - mid
    far = np.hypot(*to_min.T) > 4
    # MSE of a line is a convex bowl: downhill is towards the minimum (within 90 degrees) everywhere.
    assert (np.einsum("ij,ij->i", step[far], to_min[far]) > 0).all()
    view.set_gradient_field(False)
    assert not view.arrows.isVisible()


def test_lecture_mode_thickens_lines_and_enlarges_text(view):
    before = view.paths[0].line.pen.widthF(), view.paths[0].current.size
    font_before = view.plot.getAxis("bottom").style["tickFont"].pointSize()
    view.set_lecture_mode(True)
    after = view.paths[0].line.pen.widthF(), view.paths[0].current.size
    assert after[0] > before[0] and after[1] > before[1]
    assert view.plot.getAxis("bottom").style["tickFont"].pointSize() > font_before
    view.set_lecture_mode(False)
    assert view.paths[0].line.pen.widthF() == before[0]


def test_removed_runs_disappear_and_the_legend_follows(view):
    assert view.legend_names() == ["SGD", "Momentum"]
    items = view.paths[1].items
    view.set_runs([RunStyle(0, "SGD", RUN_COLORS[0])])
    assert 1 not in view.paths
    assert all(item.item is None for item in items)     # no longer drawn
    assert view.legend_names() == ["SGD"]


def test_long_path_is_decimated_and_ends_at_its_last_point(view, course):
    exp, _, _ = course
    n = 100_000
    rng = np.random.default_rng(1)
    t = np.arange(n)
    params = np.stack([-15 * np.exp(-t / 300) + 1 + 0.01 * rng.standard_normal(n),
                       -10 * np.exp(-t / 500) + 0.01 * rng.standard_normal(n)], axis=1)
    traj = Trajectory(("w", "b"), t, np.zeros(n, np.int64), params, np.full(n, np.nan), np.ones(n),
                      np.full(n, 0.1))
    view.show_paths({0: traj})
    x, _ = view.paths[0].line.data()
    assert 0 < len(x) < 5_000
    assert len(view.paths[0].markers.data()[0]) <= 200
    cur = view.paths[0].current.data()
    assert (cur[0][0], cur[1][0]) == (params[-1, 0], params[-1, 1])
    assert len(view.paths[1].line.data()[0]) == 0        # run 1 has no path in this call


def test_diverged_path_draws_without_error(view, course):
    exp, _, _ = course
    traj = run(exp.replace(lr=1.5, epochs=50))
    assert traj.outcome == "diverged"
    view.show_paths({0: traj})
    img = view.render_image()
    assert not img.isNull()
    assert view.paths[0].current.symbol == "x"


def test_a_diverging_path_ends_where_it_leaves_instead_of_striping_the_plot(view, course):
    exp, surface, _ = course
    traj = run(exp.replace(lr=1.5, epochs=50))
    view.show_paths({0: traj})
    x, y = view.paths[0].line.data()
    x0, x1, y0, y1 = view._path_bounds()
    # the extent (the grid plus half a cell) widened by its size on each side
    assert x1 - x0 == pytest.approx(3 * (surface.w[-1] - surface.w[0]) * 201 / 200, rel=0.02)
    # Every drawn point lies within those bounds ...
    assert x.min() >= x0 - 1e-9 and x.max() <= x1 + 1e-9 and y.min() >= y0 - 1e-9 and y.max() <= y1 + 1e-9
    # ... and the path ends on their edge, towards the first point outside, marked as diverged.
    params = traj.params
    outside = (params[:, 0] < x0) | (params[:, 0] > x1) | (params[:, 1] < y0) | (params[:, 1] > y1)
    k = int(np.argmax(outside))
    assert outside.any() and k >= 1
    cx, cy = (a[0] for a in view.paths[0].current.data())
    on_edge = any(math.isclose(c, e) for c, e in ((cx, x0), (cx, x1), (cy, y0), (cy, y1)))
    assert on_edge and view.paths[0].current.symbol == "x"
    a, d = params[k - 1], params[k] - params[k - 1]
    t = (cx - a[0]) / d[0]
    assert 0 < t < 1 and cy == pytest.approx(a[1] + t * d[1])
    # A path that stays inside is drawn whole.
    inside = course[2][0]
    view.show_paths({0: inside})
    assert view.paths[0].current.data()[0][0] == inside.params[-1, 0]


def test_batch_surface_with_a_title(qtbot, course):
    exp, _, paths = course
    v = ContourView()
    qtbot.addWidget(v)
    surface = compute_surface(exp, batch=np.arange(0, 60, 7))
    v.set_scene(exp, surface)
    v.set_title("Step 3: batch of 9")
    v.set_runs([RunStyle(0, "SGD", RUN_COLORS[0])])
    v.show_paths(paths, upto=3)
    assert v.title() == "Step 3: batch of 9"
    assert np.allclose(v.image.image, surface.loss.T)


def _scene_rect(item):
    return item.mapRectToScene(item.boundingRect())


def test_the_legend_sits_above_the_plot_never_over_it(view):
    """The legend lies outside the plot (it once covered half of a lecture-mode contour), in one row while the
    names fit; long names in lecture mode on a narrow view wrap into one column, still above the plot."""
    legend, plot = _scene_rect(view.legend), _scene_rect(view.vb)
    assert legend.bottom() <= plot.top() + 0.5 and legend.height() > 0
    assert view.legend.columnCount == 2                        # both names in one row at 800 px
    view.set_runs([RunStyle(0, "plain SGD with a learning rate of 0.1", RUN_COLORS[0]),
                   RunStyle(1, "momentum 0.9 with a learning rate of 0.02", RUN_COLORS[1])])
    view.set_lecture_mode(True)
    view.render_image(420, 360)
    legend, plot = _scene_rect(view.legend), _scene_rect(view.vb)
    assert view.legend.columnCount == 1
    assert legend.bottom() <= plot.top() + 0.5
    assert legend.left() >= 0 and legend.right() <= view.widget.viewport().width()
    assert view.plot.geometry().width() <= view.widget.viewport().width()      # the plot still fits its view


def test_a_view_without_a_run_legend_gives_the_plot_its_row(view):
    """Inside the window the views leave the runs out of their legends: the plot gets the legend's row."""
    top = _scene_rect(view.vb).top()
    view.set_run_legend(False)
    view.render_image(*SIZE)
    assert not view.legend.isVisible() and view.legend_names() == []
    assert _scene_rect(view.vb).top() < top
    view.set_run_legend(True)
    assert view.legend_names() == ["SGD", "Momentum"]


def test_a_long_title_is_cut_to_the_view_not_the_plot(qtbot, course):
    """The mini-batch title ("Step 5: batch of 10 (samples 21, 54, ...") once made the plot wider than its
    view, whose right part (the colour bar, the w axis) then lay behind the 3-D view."""
    exp, surface, _ = course
    v = ContourView()
    qtbot.addWidget(v)
    title = "Step 5: batch of 10 (samples 21, 54, 3, 17, 40, 8, …)"
    v.set_scene(exp, surface)
    v.set_title(title)
    v.render_image(260, 400)
    assert v.title() == title and v.title_label.text() == title
    assert v.title_label.is_elided() and v.title_label.toolTip() == title
    assert v.plot.geometry().width() <= v.widget.viewport().width()
    bar = _scene_rect(v.colorbar)
    assert bar.right() <= v.widget.viewport().width()


def test_a_random_planes_left_title_leaves_out_the_normalisation_the_bottom_one_says(qtbot, course):
    """In lecture mode the rotated left title of a random plane ran off the plot's left edge."""
    import dataclasses
    exp, surface, _ = course
    plane = dataclasses.replace(surface, axes=("random 1 (filter-normalised)", "random 2 (filter-normalised)"))
    v = ContourView()
    qtbot.addWidget(v)
    v.set_lecture_mode(True)
    v.resize(560, 260)
    v.set_scene(exp, plane)
    v.render_image(560, 260)
    left, bottom = v.plot.getAxis("left"), v.plot.getAxis("bottom")
    assert (bottom.labelText, left.labelText) == ("random 1 (filter-normalised)", "random 2")
    # the rotated title fits the plot's height (its width before rotation)
    assert left.label.boundingRect().width() <= left.height()
    v.set_scene(exp, dataclasses.replace(surface, axes=("PCA 1 (92%)", "PCA 2 (5%)")))
    assert (bottom.labelText, left.labelText) == ("PCA 1 (92%)", "PCA 2 (5%)")


def test_the_axes_read_the_values_themselves_never_an_si_prefix(qtbot):
    """A PCA plane's alpha of -0.7..0.1 read "-700 ... 100" with "(x0.001)" after the title, while the 3-D view and
    the hover said -0.6: every 2-D axis of the app gives the values as they are."""
    import pyqtgraph as pg

    from landscape_app.gui.views import DataView, LossView
    from landscape_app.gui.views.decision_view import DecisionView
    exp = Experiment(epochs=1)
    small = compute_surface(exp, w=np.linspace(-0.7, 0.1, 21), b=np.linspace(-0.0007, 0.0001, 21))
    v = ContourView()
    qtbot.addWidget(v)
    v.resize(*SIZE)
    v.set_scene(exp, small)
    v.render_image(*SIZE)
    for name, (lo, hi) in (("bottom", (-0.7, 0.1)), ("left", (-0.0007, 0.0001))):
        axis = v.plot.getAxis(name)
        assert axis.autoSIPrefixScale == 1.0 and "(x" not in axis.labelString()
        ticks = [x for level in axis.tickValues(lo, hi, 600) for x in level[1]]
        assert ticks and all(lo - 1e-12 <= x <= hi + 1e-12 for x in ticks)
    for view in (v, LossView(), DataView(), DecisionView()):
        qtbot.addWidget(view)
        items = [i for w in view.findChildren(pg.GraphicsView) for i in w.scene().items()]
        axes = [i for i in items if isinstance(i, pg.AxisItem)]
        assert axes and not any(a.autoSIPrefix for a in axes), type(view).__name__
