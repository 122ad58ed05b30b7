"""The classifier views drawn offscreen: they draw the values they are given (pixels), at the window's sizes."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import QPoint, QPointF, QRectF
from PySide6.QtGui import QFontInfo, QFontMetricsF

import landscape_app as la
from landscape_app.core.predictions import DecisionMap, DigitPredictions, digit_predictions
from landscape_app.core.trajectory import Trajectory
from landscape_app.gui import style
from landscape_app.gui.views import RUN_COLORS, DecisionView, DigitsView, RunStyle
from landscape_app.gui.views.decision_view import BOUNDARY_COLOR, CLASS_COLORS, POINT_COLORS
from landscape_app.gui.views.digits_view import (MATRIX_EMPTY, RIGHT_COLOR, WRONG_COLOR, digits_layout,
                                                 pixel_font)

SIZE = (400, 300)        # the data pane at 1280x720


def pixels(view, size=SIZE) -> np.ndarray:
    img = view.render_image(*size).convertToFormat(view.render_image().Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : 3 * img.width()].reshape(img.height(), img.width(), 3).astype(int).copy()


def rgb(color) -> np.ndarray:
    c = style.qcolor(color)
    return np.array([c.red(), c.green(), c.blue()])


def near(arr, color, tol=60) -> np.ndarray:
    return np.abs(arr - rgb(color)).sum(axis=-1) < tol


def to_pixel(view, x, y) -> tuple[int, int]:
    """Data coordinates -> (column, row) of the view's rendered image."""
    p = view.widget.viewportTransform().map(view.vb.mapViewToScene(QPointF(x, y)))
    p += QPointF(view.widget.viewport().mapTo(view, QPoint(0, 0)))
    return int(round(p.x())), int(round(p.y()))


def hand_map(points=np.empty((0, 2)), labels=np.empty(0, np.int64), steep=8.0, **kw) -> DecisionMap:
    """Class 1 right of x1 = 0.1 (a vertical boundary), on [-1, 1] x [-0.8, 0.8]."""
    x1, x2 = np.linspace(-1, 1, 81), np.linspace(-0.8, 0.8, 65)
    prob = np.broadcast_to(1 / (1 + np.exp(-steep * (x1 - 0.1))), (len(x2), len(x1))).astype(np.float32)
    labels = np.asarray(labels, np.int64)
    return DecisionMap(x1=x1, x2=x2, prob=prob, classes=(prob > 0.5).astype(np.int16),
                       margin=np.abs(2 * prob - 1), n_classes=2,
                       points=np.asarray(points, float).reshape(-1, 2), labels=labels, predicted=labels,
                       accuracy=0.75, **kw)


@pytest.fixture
def decision(qtbot):
    v = DecisionView()
    qtbot.addWidget(v)
    v.set_runs([RunStyle(0, "Adam", RUN_COLORS[0])])
    v.set_run_legend(False)
    return v


def test_each_side_of_the_boundary_has_its_class_colour_and_the_boundary_its_line(decision):
    decision.show_predictions(hand_map())
    arr = pixels(decision)
    col, row = to_pixel(decision, 0.7, 0.0)
    right = arr[row, col]
    col, row = to_pixel(decision, -0.6, 0.0)
    left = arr[row, col]
    bg = rgb(style.BACKGROUND)
    # Class 1 (Playground's blue) on the right, class 0 (orange) on the left, both away from the background.
    assert right[2] > right[0] + 40 and np.abs(right - bg).sum() > 80
    assert left[0] > left[2] + 60 and np.abs(left - bg).sum() > 80
    # The 0.5 contour, at x1 = 0.1, is drawn as a light line, and only there along a row.
    col, row = to_pixel(decision, 0.1, 0.3)
    line = near(arr[row, col - 2:col + 3], BOUNDARY_COLOR)
    assert line.any()
    c0, _ = to_pixel(decision, -0.9, 0.3)
    c1, _ = to_pixel(decision, 0.9, 0.3)
    lit = np.flatnonzero(near(arr[row, c0:c1], BOUNDARY_COLOR)) + c0
    assert lit.size and abs(lit.mean() - col) <= 3
    # The picture grows paler towards the boundary: doubt fades to the background.
    near_col, _ = to_pixel(decision, 0.2, 0.0)
    assert np.abs(arr[row, near_col] - bg).sum() < np.abs(right - bg).sum()


def test_points_are_coloured_by_label_with_a_dark_edge(decision):
    # A class-0 point deep in class 1's region, and a class-1 point in class 0's.
    decision.show_predictions(hand_map(points=[[0.6, 0.4], [-0.6, -0.4]], labels=[0, 1]))
    arr = pixels(decision)
    col, row = to_pixel(decision, 0.6, 0.4)
    assert near(arr[row - 1:row + 2, col - 1:col + 2], POINT_COLORS[0]).any()
    radius = int(np.ceil((4 + 0.45 * style.sizes(False).marker) / 2)) + 1
    ring = arr[row, col - radius - 2:col - radius + 3]
    assert (ring.sum(axis=1) < 150).any(), "the point has a dark edge"
    col, row = to_pixel(decision, -0.6, -0.4)
    assert near(arr[row - 1:row + 2, col - 1:col + 2], POINT_COLORS[1]).any()


def test_more_classes_get_their_own_regions(decision):
    x1, x2 = np.linspace(0, 3, 61), np.linspace(0, 1, 21)
    classes = np.broadcast_to(np.minimum((x1 // 1).astype(np.int16), 2), (len(x2), len(x1)))
    d = DecisionMap(x1=x1, x2=x2, prob=np.full(classes.shape, 0.98, np.float32), classes=classes.copy(),
                    margin=np.full(classes.shape, 0.97, np.float32), n_classes=3, points=np.empty((0, 2)),
                    labels=np.empty(0, np.int64), predicted=np.empty(0, np.int64), accuracy=1.0)
    decision.show_predictions(d)
    arr = pixels(decision)
    palette = np.array([rgb(c) for c in CLASS_COLORS[:3]])
    bg = rgb(style.BACKGROUND)
    for k, x in enumerate((0.5, 1.5, 2.5)):
        col, row = to_pixel(decision, x, 0.5)
        seen = arr[row, col]
        # The region's colour lies on the way from the background to its class's colour.
        direction = (seen - bg) / np.linalg.norm(seen - bg)
        fits = [(direction @ (c - bg)) / np.linalg.norm(c - bg) for c in palette]
        assert int(np.argmax(fits)) == k
    assert decision.boundary.data()[0].size == 0       # colours part the classes; no boundary line


def test_the_current_mini_batch_is_ringed_in_the_runs_colour(decision):
    pts = np.array([[-0.5, 0.0], [0.5, 0.2], [0.6, -0.3], [-0.2, 0.5]])
    decision.show_predictions(hand_map(points=pts, labels=[0, 1, 1, 0], run_id=0, iteration=1))
    traj = Trajectory(("a", "b"), np.arange(2), np.zeros(2, int), np.zeros((2, 2)), np.full(2, np.nan),
                      np.ones(2), np.full(2, 0.1), batches=(np.empty(0, np.int64), np.array([1, 3])))
    decision.show_paths({0: traj})
    xs, ys = decision.batch.data()
    np.testing.assert_array_equal(np.column_stack([xs, ys]), pts[[1, 3]])
    arr = pixels(decision)
    col, row = to_pixel(decision, 0.5, 0.2)
    radius = int(round(style.sizes(False).marker * 2.4 / 2))
    around = arr[row - radius - 2:row + radius + 3, col - radius - 2:col + radius + 3]
    assert near(around, RUN_COLORS[0], tol=50).sum() > 8
    # The start point has no batch: nothing ringed; the title names accuracy, step and run.
    decision.show_paths({0: traj}, upto=1)
    assert decision.batch.data()[0].size == 0
    assert decision.title() == "accuracy 75.0% · step 1 · Adam"


def test_other_data_clears_the_map_and_lecture_mode_thickens(decision):
    decision.set_scene(la.Experiment(data=la.make_dataset("moons", n_samples=40), model="mlp"))
    decision.show_predictions(hand_map(points=[[0, 0]], labels=[1]))
    normal = decision.boundary.pen.widthF()
    decision.set_lecture_mode(True)
    assert decision.boundary.pen.widthF() > normal
    lecture_points = decision.class_points[1].size
    decision.set_lecture_mode(False)
    assert decision.class_points[1].size < lecture_points
    decision.set_scene(la.Experiment(data=la.make_dataset("circles", n_samples=40), model="mlp"))
    assert decision.decision is None and decision.title() == ""
    assert decision.class_points[1].data()[0].size == 0


# -- digits ----------------------------------------------------------------------------------------------------
def hand_predictions(wrong=(5,)) -> DigitPredictions:
    """24 images, image ``i`` labelled ``i % 10``; those in ``wrong`` predicted as the next class."""
    m = 24
    labels = np.arange(m) % 10
    predicted = labels.copy()
    for i in wrong:
        predicted[i] = (labels[i] + 1) % 10
    images = np.zeros((m, 8, 8), np.float32)
    images[:, 2:6, 3:5] = 1.0
    confusion = np.diag(np.full(10, 30))
    confusion[3, 8] = 4
    return DigitPredictions(images=images, indices=np.arange(m), labels=labels, predicted=predicted,
                            confidence=np.full(m, 0.9, np.float32), confusion=confusion,
                            accuracy=float(np.trace(confusion) / confusion.sum()), run_id=0, iteration=12)


@pytest.fixture
def digits(qtbot):
    v = DigitsView()
    qtbot.addWidget(v)
    v.set_runs([RunStyle(0, "Adam", RUN_COLORS[0])])
    return v


def inside(arr, rect: QRectF, inset=0) -> np.ndarray:
    r = rect.adjusted(inset, inset, -inset, -inset)
    return arr[int(np.ceil(r.top())):int(r.bottom()), int(np.ceil(r.left())):int(r.right())]


@pytest.mark.parametrize("size", [(400, 300), (600, 450), (300, 400)])
def test_a_wrong_prediction_is_captioned_red_and_the_right_ones_green(digits, size):
    digits.show_predictions(hand_predictions(wrong=(5, 17)))
    arr = pixels(digits, size)
    lay = digits.layout_now()
    assert len(lay.images) == 24
    for i, caption in enumerate(lay.captions):
        area = inside(arr, caption)
        red, green = near(area, WRONG_COLOR).sum(), near(area, RIGHT_COLOR).sum()
        if i in (5, 17):
            assert red > 3 and green == 0, f"caption {i}"
        else:
            assert green > 3 and red == 0, f"caption {i}"
    # The image itself: ink white where the digit is, black around it.
    img = lay.images[0]
    x0, y0 = img.left() + img.width() * 3.5 / 8, img.top() + img.height() * 4 / 8
    assert arr[int(y0), int(x0)].min() > 230
    assert arr[int(img.top() + img.height() / 16 + 1), int(img.left() + img.width() / 16 + 1)].max() < 25


def test_the_confusion_matrix_shows_the_diagonal_green_and_mistakes_red(digits):
    digits.show_predictions(hand_predictions())
    arr = pixels(digits)
    lay = digits.layout_now()
    corner = lambda r, c: inside(arr, lay.cell_rect(r, c), inset=1.5)[:2, :2].reshape(-1, 3)  # noqa: E731
    for k in range(10):
        seen = corner(k, k).mean(axis=0)
        assert seen[1] > seen[0] + 60, f"diagonal cell {k} is green"
    mistake = corner(3, 8).mean(axis=0)
    assert mistake[0] > mistake[1] + 15, "a nonzero mistake is tinted red"
    assert np.abs(corner(0, 5).mean(axis=0) - rgb(MATRIX_EMPTY)).sum() < 12, "an empty cell stays plain"
    # The counts are written where they fit (a diagonal cell holds dark text on green).
    diagonal = inside(arr, lay.cell_rect(2, 2), inset=1.5)
    assert (diagonal.sum(axis=-1) < 200).sum() > 3
    assert digits.header_text(1000) == "accuracy 98.7% (300 of 304) · step 12 · Adam"


def test_lecture_mode_enlarges_the_text_and_keeps_images_readable(digits):
    digits.show_predictions(hand_predictions())
    pixels(digits)
    normal = digits.layout_now()
    digits.set_lecture_mode(True)
    pixels(digits)
    lecture = digits.layout_now()
    assert lecture.header.height() > normal.header.height()
    assert min(r.width() for r in lecture.images) >= 34      # fewer, larger images rather than tiny ones
    assert len(lecture.images) <= len(normal.images)


@pytest.mark.parametrize("width,height,lecture", [(400, 300, False), (600, 450, False), (620, 320, False),
                                                   (640, 320, False), (680, 330, False), (713, 330, False),
                                                   (960, 400, True), (1280, 500, True)])
def test_no_caption_runs_into_its_neighbour(digits, width, height, lecture):
    """A 1920x1080 export read "0 · 100%1 · 100%": the captions were measured in the plain font, painted in bold."""
    digits.set_lecture_mode(lecture)
    digits.show_predictions(hand_predictions())
    pixels(digits, (width, height))
    lay = digits.layout_now()
    painted = QFontMetricsF(style.font(style.sizes(lecture).font_pt, bold=True))   # as _paint_images paints them
    spans = []
    for i, caption in enumerate(lay.captions):
        advance = painted.horizontalAdvance(digits.caption_text(i, caption.width()))
        spans.append((caption.center().x() - advance / 2, caption.center().x() + advance / 2, caption.top()))
    for (l0, r0, t0), (l1, r1, t1) in zip(spans, spans[1:]):
        if t0 == t1:                                     # neighbours on one row: a clear gap between their texts
            assert l1 - r0 >= 4, f"captions {spans}"
    # The long form (with the confidence) still appears where the images are wide enough for it.
    if width >= 700 and not lecture:
        assert any("%" in digits.caption_text(i, c.width()) for i, c in enumerate(lay.captions))


def test_lecture_mode_scales_the_confusion_matrix_s_counts(qapp):
    """In a full-screen lecture the counts stayed at ~10 pt in cells that had room for the lecture's 15 pt."""
    normal, lecture = digits_layout(960, 400, 24, 10, False), digits_layout(960, 400, 24, 10, True)
    lecture_px = QFontInfo(style.font(style.sizes(True).font_pt)).pixelSize()
    assert lecture.count_px >= 0.9 * lecture_px
    assert lecture.count_px > 1.4 * normal.count_px
    # Two digits still fit in a cell.
    two = QFontMetricsF(pixel_font(lecture.count_px)).horizontalAdvance("88")
    assert two <= lecture.cell - 1


@given(st.integers(120, 1920), st.integers(90, 1080), st.booleans())
def test_the_layout_fits_the_view_and_nothing_overlaps(qapp, width, height, lecture):
    lay = digits_layout(width, height, 24, 10, lecture)
    bounds = QRectF(0, 0, width, height).adjusted(-0.5, -0.5, 0.5, 0.5)
    matrix_area = lay.matrix.united(lay.row_labels).united(lay.column_labels)
    assert bounds.contains(matrix_area) and bounds.contains(lay.header)
    assert not lay.header.intersects(matrix_area)
    for img, caption in zip(lay.images, lay.captions):
        assert bounds.contains(img) and bounds.contains(caption)
        assert not img.intersects(matrix_area) and not caption.intersects(matrix_area)
        assert not img.intersects(lay.header)
    assert all(not a.intersects(b) for i, a in enumerate(lay.images) for b in lay.images[i + 1:])


def test_real_predictions_draw_and_other_data_clears_them(digits):
    exp = la.Experiment(data=la.make_dataset("digits", n_samples=200), model="softmax")
    digits.set_scene(exp)
    digits.show_predictions(digit_predictions(exp, exp.start_vector()))
    drawn = (pixels(digits, (600, 450)) != rgb(style.BACKGROUND)).any(axis=-1)
    assert len(digits.layout_now().images) == 24 and drawn.mean() > 0.3
    digits.set_scene(exp.replace(data=la.make_dataset("digits", n_samples=100)))
    assert digits.predictions is None and digits.layout_now() is None
    assert not (pixels(digits) != rgb(style.BACKGROUND)).any(), "nothing but the background"
