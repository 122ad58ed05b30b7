"""The views' pure helpers: iso-lines, nice levels, path decimation (no Qt needed)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landscape_app.gui.views.decimate import SegmentCache, clip_segments, marker_indices, peak_decimate
from landscape_app.gui.views.isolines import isolines, nice_levels


def test_isolines_of_a_paraboloid_are_circles():
    x = np.linspace(-3, 3, 121)
    y = np.linspace(-2, 2.5, 91)            # not square, not symmetric: catches swapped axes
    z = x[None, :] ** 2 + y[:, None] ** 2
    for r in (0.5, 1.0, 1.7):
        seg = isolines(z, x, y, [r * r])
        assert len(seg) > 20 and len(seg) % 2 == 0
        # Linear interpolation on a 0.05 grid: within a small fraction of the radius.
        assert np.abs(np.hypot(seg[:, 0], seg[:, 1]) - r).max() < 0.01
        # The circle is closed and complete: points all around it.
        angles = np.arctan2(seg[:, 1], seg[:, 0])
        assert np.histogram(angles, bins=12, range=(-np.pi, np.pi))[0].min() > 0


def test_isolines_of_a_fine_grid_are_traced_on_fewer_nodes_and_stay_on_the_level():
    x = np.linspace(-3, 3, 1201)
    y = np.linspace(-2, 2.5, 901)
    z = x[None, :] ** 2 + y[:, None] ** 2
    full = isolines(z, x, y, [1.0])
    coarse = isolines(z, x, y, [1.0], max_nodes=151)
    assert 20 < len(coarse) < len(full) / 4           # far fewer segments: far less work
    assert np.abs(np.hypot(coarse[:, 0], coarse[:, 1]) - 1.0).max() < 0.01
    small = z[::10, ::10]                              # 121 x 91 nodes: within the limit, traced as it is
    within = isolines(small, x[::10], y[::10], [1.0], max_nodes=151)
    assert len(within) > 20 and np.array_equal(within, isolines(small, x[::10], y[::10], [1.0]))


def test_isolines_ignore_nan_and_handle_saddles():
    x = y = np.linspace(-1, 1, 41)
    z = x[None, :] * y[:, None]             # a saddle: level 0 is the two axes
    seg = isolines(z, x, y, [0.0])
    assert np.isfinite(seg).all()
    on_axis = np.minimum(np.abs(seg[:, 0]), np.abs(seg[:, 1]))
    assert on_axis.max() < 1e-9
    z2 = z.copy()
    z2[10:15, 10:15] = np.nan
    assert np.isfinite(isolines(z2, x, y, [0.3])).all()


def test_nice_levels_linear_and_log():
    lv = nice_levels(0.3, 1768.0)
    assert 5 <= len(lv) <= 20 and (lv > 0.3).all() and (lv < 1768).all()
    steps = np.diff(lv)
    assert np.allclose(steps, steps[0])
    assert steps[0] in (100.0, 200.0, 250.0, 500.0)
    lg = nice_levels(0.01, 1768.0, log=True)
    mant = lg / 10.0 ** np.floor(np.log10(lg) + 1e-9)
    assert set(np.round(mant, 6)) <= {1.0, 2.0, 5.0}
    assert len(nice_levels(5.0, 5.0)) == 0 and len(nice_levels(np.nan, 1.0)) == 0


def walk(n, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    p = np.stack([-15 * np.exp(-t / 40) + 0.05 * rng.standard_normal(n),
                  -10 * np.exp(-t / 70) + 0.05 * rng.standard_normal(n), np.zeros(n)], axis=1)
    return p


def cell_pairs(points, cell, origin):
    q = np.floor((points - origin) / cell).astype(np.int64)
    pairs = set()
    for i in range(1, len(q)):
        a, b = tuple(q[i - 1]), tuple(q[i])
        if a != b:
            pairs.add(frozenset((a, b)))
    return pairs


def test_segment_cache_keeps_every_distinct_cell_move_once():
    p = walk(3000)
    cell, origin = np.array([0.1, 0.1]), np.array([-20.0, -20.0])
    cache = SegmentCache(cell, origin)
    segs, idx = cache.update(p, len(p), (0, 1))
    assert len(segs) == 2 * len(idx) and len(idx) < len(p)
    def cell_of(q):
        return tuple(np.floor((q - origin) / cell).astype(int))

    got = {frozenset((cell_of(a), cell_of(b))) for a, b in segs.reshape(-1, 2, 2)}
    assert got == cell_pairs(p[:, :2], cell, origin)
    assert (np.diff(idx) > 0).all()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=8), st.integers(0, 5))
def test_incremental_and_prefix_updates_match_a_fresh_computation(sizes, seed):
    p = walk(2000, seed)
    cell, origin = (0.2, 0.2), (-20.0, -20.0)
    cache = SegmentCache(cell, origin)
    n = 0
    for k in sizes:                      # grow, or scrub back when the sum wraps
        n = (n + k) % 2000 or 1
        segs, idx = cache.update(p, n, (0, 1))
        fresh_segs, fresh_idx = SegmentCache(cell, origin).update(p, n, (0, 1))
        assert np.array_equal(idx, fresh_idx)
        assert np.array_equal(segs, fresh_segs)


def test_segment_cache_notices_a_different_path_and_clips_far_points():
    cache = SegmentCache((0.1, 0.1), (-20, -20))
    a = walk(500, 1)
    cache.update(a, 500, (0, 1))
    b = walk(500, 2)
    segs, idx = cache.update(b, 300, (0, 1))
    assert np.array_equal(idx, SegmentCache((0.1, 0.1), (-20, -20)).update(b, 300, (0, 1))[1])
    far = np.array([[0.0, 0.0], [1e30, 1e30], [np.inf, 0.0], [1.0, 1.0]])
    segs, idx = SegmentCache((0.1, 0.1), (-20, -20)).update(far, 4, (0, 1))
    assert np.isfinite(segs).all() and np.abs(segs).max() < 1e4


def test_clip_segments():
    lo, hi = np.array([0.0, 0.0]), np.array([1.0, 1.0])
    p0 = np.array([[-1.0, 0.5], [0.2, 0.2], [2.0, 2.0], [0.5, -1.0]])
    p1 = np.array([[2.0, 0.5], [0.8, 0.8], [3.0, 3.0], [0.5, 0.5]])
    q0, q1, ok = clip_segments(p0, p1, lo, hi)
    assert ok.tolist() == [True, True, False, True]
    assert q0[0].tolist() == [0.0, 0.5] and q1[0].tolist() == [1.0, 0.5]
    assert q0[1].tolist() == [0.2, 0.2] and q1[1].tolist() == [0.8, 0.8]
    assert q0[3].tolist() == [0.5, 0.0] and q1[3].tolist() == [0.5, 0.5]


def test_markers_every_step_when_short_thinned_when_long():
    assert marker_indices(np.array([3, 5]), 10, 150).tolist() == list(range(10))
    idx = marker_indices(np.arange(1, 10_000), 100_000, 150)
    assert len(idx) <= 150 and idx[0] == 1


def test_peak_decimate_keeps_extremes_and_the_end():
    rng = np.random.default_rng(0)
    x = np.arange(100_000, dtype=float)
    y = rng.random(100_000)
    y[12345] = 7.0
    y[54321] = -3.0
    y[0] = np.nan
    xs, ys = peak_decimate(x, y, 500)
    assert len(xs) <= 1100
    assert np.nanmax(ys) == 7.0 and np.nanmin(ys) == -3.0
    assert ys[-1] == y[-1] and xs[-1] == x[-1]
    assert (np.diff(xs) >= 0).all()
    short = peak_decimate(x[:50], y[:50], 500)
    assert short[0] is not None and len(short[0]) == 50


def test_a_slow_path_is_drawn_without_gaps():
    """Steps far smaller than a cell: the drawn segments join end to end and pass within a cell of every point."""
    n = 20_000
    t = np.linspace(0, 1, n)
    p = np.stack([-15 + 16 * t, -10 + 10 * t ** 2], axis=1)        # a smooth curve in tiny steps
    cell = np.array([0.05, 0.05])
    segs, idx = SegmentCache(cell, (-20.0, -20.0)).update(p, n, (0, 1))
    pairs = segs.reshape(-1, 2, 2)
    assert len(pairs) < n / 10
    assert np.array_equal(pairs[1:, 0], pairs[:-1, 1])              # continuous: each starts where the last ended
    assert np.array_equal(pairs[0, 0], p[0])
    # Every point of the path lies within a cell of the drawn polyline.
    a, b = pairs[:, 0], pairs[:, 1]
    d = b - a
    sample = p[::97]
    tt = np.clip(np.einsum("pij,ij->pi", sample[:, None] - a[None], d) / (d * d).sum(1), 0, 1)
    dist = np.hypot(*(sample[:, None] - (a[None] + tt[..., None] * d[None])).transpose(2, 0, 1)).min(axis=1)
    assert dist.max() < 1.5 * cell[0]


def test_snapped_bounds_move_in_steps_of_a_tenth_of_the_decade():
    from landscape_app.gui.views.layers import _snapped
    assert _snapped(0.0078, 880.0) == (0.0, 880.0)
    lo, hi = _snapped(1.23, 4.56)
    assert (lo, hi) == pytest.approx((1.2, 4.6))
    assert _snapped(2.0, 2.0) == (2.0, 2.0)
    # A loss creeping down near its minimum leaves the range as it was: no re-tick each frame.
    assert _snapped(0.0051, 880.0) == _snapped(0.0049, 880.0)
