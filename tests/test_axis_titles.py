"""Plane directions' names as axes show them, and where the 3-D view puts an axis title beside its point."""
import pytest
from PySide6.QtCore import QPointF, QRectF

from landscape_app.gui.views.base import axis_name
from landscape_app.gui.views.gl_labels import placed


@pytest.mark.parametrize("label, shown", [
    ("random 1 (filter-normalised)", "random 1"),
    ("random 2 (layer-normalised)", "random 2"),
    ("random 1", "random 1"),                        # normalisation "none": nothing to take off
    ("PCA 2 (5%)", "PCA 2 (5%)"),                    # the variance share is the axis's meaning: kept
    ("toward run 2's end", "toward run 2's end"),
    ("w", "w"),
    (" (filter-normalised)", " (filter-normalised)"),   # nothing would be left: kept whole
])
def test_axis_name_drops_only_a_normalisation_note(label, shown):
    assert axis_name(label) == shown


VIEW = QRectF(0, 0, 400, 300)


def box(centre: QPointF, half_w: float, half_h: float) -> QRectF:
    return QRectF(centre.x() - half_w, centre.y() - half_h, 2 * half_w, 2 * half_h)


def test_without_away_a_label_is_centred_on_its_point():
    assert placed(QPointF(50, 60), None, 30, 8, VIEW) == QPointF(50, 60)


@pytest.mark.parametrize("away, side", [((300, 150), "left"), ((100, 150), "right"), ((200, 250), "above"),
                                        ((200, 50), "below"), ((300, 250), "above left")])
def test_a_title_lies_beyond_its_point_on_the_side_away_from_the_surface(away, side):
    at, clear = QPointF(200, 150), (12.0, 9.0)
    centre = placed(at, QPointF(*away), 40, 8, VIEW, clear)
    title, ticks = box(centre, 40, 8), box(at, *clear)
    assert not title.intersects(ticks)                 # clear of the tick label at its point
    assert VIEW.contains(title)
    dx, dy = centre.x() - at.x(), centre.y() - at.y()
    assert {"left": dx < 0, "right": dx > 0, "above": dy < 0, "below": dy > 0}[side.split()[0]]
    if side == "above left":
        assert dx < 0 and dy < 0
    # touching the tick box's edge along the way out, not thrown far off
    assert title.adjusted(-1, -1, 1, 1).intersects(ticks)


def test_a_title_near_the_frame_is_moved_inside_it():
    # the x axis's far end near the view's bottom right corner, read away from the axis's start
    centre = placed(QPointF(390, 295), QPointF(200, 200), 40, 8, VIEW, (12.0, 9.0))
    assert VIEW.contains(box(centre, 40, 8))


# -- tick labels the surface would hide ------------------------------------------------------------------------
def _wall():
    """A 2 x 2 footprint whose heights rise to 3 at its back (y = 1): a wall between the back edge and a camera
    in front, none between the front edge and it."""
    import numpy as np
    xs = ys = np.linspace(-1.0, 1.0, 21)
    z = np.tile(np.clip(ys, 0, None) * 3.0, (len(xs), 1))        # (len(xs), len(ys)), rising with y
    return xs, ys, z


def test_a_label_behind_the_surface_is_hidden_and_one_in_front_is_not():
    from landscape_app.gui.views.surface3d import behind_surface
    xs, ys, z = _wall()
    eye = (0.0, -6.0, 2.0)                             # in front, a little above the floor
    assert behind_surface((0.0, 1.1, 0.0), eye, xs, ys, z)         # beyond the wall, on the floor
    assert not behind_surface((0.0, -1.1, 0.0), eye, xs, ys, z)    # the front edge
    assert not behind_surface((0.0, 1.1, 0.0), (0.0, 1.5, 40.0), xs, ys, z)    # seen from above
    assert not behind_surface((0.0, 1.1, 0.0), (0.0, 6.0, 2.0), xs, ys, z)     # the camera behind the wall


def test_an_axis_tick_labels_show_on_one_edge():
    from landscape_app.gui.views.gl_labels import _one_place
    # two ticks of "y" (each first place followed by its other place), then a lone label
    alternates = ["y", None, "y", None, None]
    # none hidden on the first edge: all there
    assert _one_place([False] * 5, alternates) == [False, True, False, True, False]
    # one hidden on the first edge: all of the axis's ticks go to the other edge
    assert _one_place([False, False, True, False, False], alternates) == [True, False, True, False, False]
    # hidden on both edges somewhere: each shows where it is seen, one place at most
    assert _one_place([False, True, True, False, True], alternates) == [False, True, True, False, True]


def test_from_below_the_floor_nothing_is_hidden():
    """Orbited under the floor, the camera sees the sheet from underneath: every tick label stays."""
    from types import SimpleNamespace
    from landscape_app.gui.views.surface3d import SurfaceView
    view = SimpleNamespace(_mesh_grid=_wall())
    assert SurfaceView._behind_surface(view, (0.0, 1.1, 0.0), (0.0, -6.0, 2.0))
    assert not SurfaceView._behind_surface(view, (0.0, 1.1, 0.0), (0.0, -6.0, -2.0))
