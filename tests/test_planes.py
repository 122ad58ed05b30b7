"""Planes through parameter space: point/project round trips, planes through three points, Li et al.'s random
directions (filter and layer normalisation, ignored biases and BatchNorm, seeding) and PCA planes of paths."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn.datasets import make_moons
from torch import nn

import landscape_app as la
from landscape_app.core.plane_directions import parameter_layout


def moons(n=60, seed=0):
    x, y = make_moons(n, noise=0.15, random_state=seed)
    return la.dataset_from_arrays(x, y)


@pytest.fixture(scope="module")
def bn_exp():
    return la.Experiment(model="mlp", data=moons(), model_options={"hidden": (6, 5), "batchnorm": True},
                         optimizer="adam", lr=0.05, epochs=3, batch_size=20, seed=3)


@pytest.fixture(scope="module")
def bn_run(bn_exp):
    return la.run(bn_exp)


def slices(exp):
    """(name, role, slice of the flat vector, shape) per parameter."""
    out, i = [], 0
    for name, shape, role in parameter_layout(exp.build_module()):
        n = int(np.prod(shape))
        out.append((name, role, slice(i, i + n), tuple(shape)))
        i += n
    return out


# -- point and project -------------------------------------------------------------------------------------------

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@given(st.integers(2, 7).flatmap(lambda k: st.tuples(*[st.lists(finite, min_size=k, max_size=k)] * 4)),
       finite, finite, finite)
def test_project_inverts_point_and_measures_the_distance_off_the_plane(vectors, alpha, beta, off):
    origin, d1, d2, extra = (np.array(v) for v in vectors)
    n1, n2, cross = d1 @ d1, d2 @ d2, d1 @ d2
    if not (n1 > 0.1 and n2 > 0.1 and n1 * n2 - cross * cross > 0.05 * n1 * n2):
        return    # nearly parallel directions: the plane exists but the round trip is ill-conditioned
    plane = la.Plane(origin, d1, d2)
    p = plane.point(alpha, beta)
    a, b, dist = plane.project(p)
    scale = 1 + abs(alpha) + abs(beta) + np.abs(origin).max()
    assert a == pytest.approx(alpha, abs=1e-9 * scale) and b == pytest.approx(beta, abs=1e-9 * scale)
    assert dist == pytest.approx(0, abs=1e-9 * scale * np.sqrt(max(n1, n2)))
    # A step out of the plane along a normal moves it by exactly that far and leaves (alpha, beta) alone.
    basis = np.linalg.qr(np.stack([d1, d2], axis=1))[0]
    normal = extra - basis @ (basis.T @ extra)
    if normal @ normal < 0.01:
        return
    normal /= np.linalg.norm(normal)
    a2, b2, dist2 = plane.project(p + off * normal)
    assert dist2 == pytest.approx(abs(off), abs=1e-8 * scale)
    assert a2 == pytest.approx(alpha, abs=1e-8 * scale) and b2 == pytest.approx(beta, abs=1e-8 * scale)


def test_project_many_points_at_once_agrees_with_one_at_a_time():
    rng = np.random.default_rng(0)
    plane = la.Plane(rng.normal(size=5), rng.normal(size=5), rng.normal(size=5))
    pts = rng.normal(size=(7, 5))
    a, b, d = plane.project(pts)
    for i in range(7):
        assert (a[i], b[i], d[i]) == pytest.approx(plane.project(pts[i]), rel=1e-12, abs=1e-12)


def test_plane_through_three_points_puts_them_at_the_unit_corners():
    rng = np.random.default_rng(1)
    p0, p1, p2 = rng.normal(size=(3, 9))
    plane = la.Plane.through(p0, p1, p2)
    assert plane.kind == "through"
    for p, (alpha, beta) in ((p0, (0, 0)), (p1, (1, 0)), (p2, (0, 1))):
        a, b, d = plane.project(p)
        assert (a, b) == pytest.approx((alpha, beta), abs=1e-12) and d == pytest.approx(0, abs=1e-12)
    np.testing.assert_array_equal(plane.point(0, 0), p0)
    assert plane.axes is None and la.Plane(p0, p1, p2).axes is None
    with pytest.raises(la.ConfigError, match="parallel"):
        la.Plane.through(p0, p1, p0 + 2 * (p1 - p0))


# -- random planes -------------------------------------------------------------------------------------------------

def test_parameter_roles_come_from_the_owning_module(bn_exp):
    roles = {name: role for name, _, role in parameter_layout(bn_exp.build_module())}
    assert roles == {"0.weight": "weight", "0.bias": "bias", "1.weight": "bn", "1.bias": "bn",
                     "3.weight": "weight", "3.bias": "bias", "4.weight": "bn", "4.bias": "bn",
                     "6.weight": "weight", "6.bias": "bias"}


def test_filter_normalised_directions_match_each_filters_norm_and_ignore_biases_and_bn(bn_exp):
    theta = bn_exp.start_vector()
    plane = la.Plane.random(bn_exp, seed=5)
    assert plane.labels == ("random 1 (filter-normalised)", "random 2 (filter-normalised)")
    assert plane.kind == "random" and plane.info == {"seed": 5, "normalization": "filter", "ignore": ("bias", "bn")}
    np.testing.assert_array_equal(plane.origin, theta)
    for d in (plane.d1, plane.d2):
        for name, role, sl, shape in slices(bn_exp):
            part, own = d[sl].reshape(shape), theta[sl].reshape(shape)
            if role == "weight":
                for i in range(shape[0]):        # each filter (output unit) has its own filter's norm
                    assert np.linalg.norm(part[i]) == pytest.approx(np.linalg.norm(own[i]), rel=1e-9)
            else:
                assert not part.any(), name
    assert abs(plane.d1 @ plane.d2) < 0.9 * np.linalg.norm(plane.d1) * np.linalg.norm(plane.d2)


def test_layer_normalisation_scales_whole_tensors_and_kept_one_d_parameters_are_the_points_own(bn_exp):
    theta = bn_exp.start_vector()
    plane = la.Plane.random(bn_exp, normalization="layer", ignore="bn")
    assert plane.labels[0] == "random 1 (layer-normalised)"
    filter_plane = la.Plane.random(bn_exp, ignore="bn")
    for name, role, sl, shape in slices(bn_exp):
        if role == "weight":
            assert np.linalg.norm(plane.d1[sl]) == pytest.approx(np.linalg.norm(theta[sl]), rel=1e-9)
            # the same draws, scaled per tensor rather than per filter: parallel within each filter
            for f_layer, f_filter in zip(plane.d1[sl].reshape(shape), filter_plane.d1[sl].reshape(shape)):
                cos = f_layer @ f_filter / (np.linalg.norm(f_layer) * np.linalg.norm(f_filter))
                assert cos == pytest.approx(1, abs=1e-12)
        elif role == "bias":       # not ignored: Li et al. copy the point's own values
            np.testing.assert_array_equal(plane.d1[sl], theta[sl])
            np.testing.assert_array_equal(plane.d2[sl], theta[sl])
        else:
            assert not plane.d1[sl].any() and not plane.d2[sl].any()


def test_no_normalisation_leaves_the_seeded_gaussian_draws():
    exp = la.Experiment(model="mlp", data=moons(), model_options={"hidden": (4,)})
    plane = la.Plane.random(exp, seed=11, normalization="none", ignore=())
    gen = torch.Generator().manual_seed(11)
    expected = []
    for _ in range(2):
        parts = []
        for name, role, sl, shape in slices(exp):
            draw = torch.randn(shape, generator=gen, dtype=torch.float64).reshape(-1).numpy()
            parts.append(draw if role == "weight" else exp.start_vector()[sl])
        expected.append(np.concatenate(parts))
    np.testing.assert_array_equal(plane.d1, expected[0])
    np.testing.assert_array_equal(plane.d2, expected[1])
    assert plane.labels == ("random 1", "random 2")


def test_seeding_repeats_differs_and_leaves_the_global_random_state_alone(bn_exp):
    state = torch.get_rng_state()
    a, b = la.Plane.random(bn_exp, seed=2), la.Plane.random(bn_exp, seed=2)
    assert torch.equal(state, torch.get_rng_state())
    np.testing.assert_array_equal(a.d1, b.d1)
    np.testing.assert_array_equal(a.d2, b.d2)
    c = la.Plane.random(bn_exp, seed=3)
    assert not np.array_equal(a.d1, c.d1)
    assert not np.array_equal(a.d1, a.d2)      # d2 follows d1 in one stream, not a restart of it


def test_a_random_plane_through_a_runs_end_normalises_to_that_point_and_keeps_its_statistics(bn_exp, bn_run):
    plane = la.Plane.random(bn_exp, origin=bn_run)
    end = bn_run.params[-1]
    np.testing.assert_array_equal(plane.origin, end)
    assert set(plane.buffers) == set(bn_run.buffers)
    for key, value in bn_run.buffers.items():
        np.testing.assert_array_equal(plane.buffers[key], value)
    weight = next(s for name, role, s, _ in slices(bn_exp) if name == "3.weight")
    rows = plane.d1[weight].reshape(5, 6)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), np.linalg.norm(end[weight].reshape(5, 6), axis=1),
                               rtol=1e-9)
    surface = la.compute_surface(bn_exp, plane=plane, resolution=3, span=0.5)
    # the centre is the run's end (a network's surface is evaluated in float32, the path's loss in float64)
    assert surface.loss[1, 1] == pytest.approx(bn_run.loss[-1], rel=1e-5)


def test_the_linear_family_gets_random_planes_where_they_exist():
    plane_model = la.Experiment(data=la.make_dataset("plane", n_samples=20), model="plane")
    p = la.Plane.random(plane_model)          # one filter of two weights; the bias ignored
    assert p.d1[2] == 0 and np.linalg.norm(p.d1[:2]) == pytest.approx(np.linalg.norm(plane_model.start[:2]))
    linear = la.Experiment()
    with pytest.raises(la.ConfigError, match="parallel.*normalization='none' with ignore=()"):
        la.Plane.random(linear)               # one weight, a filter of one parameter: +-|w| in both directions
    p = la.Plane.random(linear, normalization="none", ignore=())
    assert p.d1[1] == p.d2[1] == linear.start[1]
    surface = la.compute_surface(linear, plane=p, resolution=3)
    assert surface.loss[1, 1] == pytest.approx(la.loss_at(linear, linear.start_vector()), rel=1e-9)


def test_random_planes_work_for_any_module():
    module = nn.Sequential(nn.Unflatten(1, (1, 2)), nn.Conv1d(1, 3, 2, padding=1), nn.ReLU(), nn.MaxPool1d(3),
                           nn.Flatten(), nn.Linear(3, 1))
    exp = la.Experiment(model=module, data=moons())
    plane = la.Plane.random(exp)
    conv = next(s for name, role, s, _ in slices(exp) if name == "1.weight")
    theta = exp.start_vector()[conv].reshape(3, 1, 2)
    np.testing.assert_allclose(np.linalg.norm(plane.d1[conv].reshape(3, -1), axis=1),
                               np.linalg.norm(theta.reshape(3, -1), axis=1), rtol=1e-9)


@pytest.mark.parametrize("kwargs, field, text", [
    (dict(normalization="unit"), "normalization", "must be one of filter, layer, none, not 'unit'"),
    (dict(ignore=("bias", "weights")), "ignore", "can hold 'bias' and 'bn'"),
    (dict(seed=-1), "seed", "must be a whole number >= 0"),
    (dict(origin=[1.0, 2.0]), "origin", "must have"),
])
def test_random_plane_refuses_bad_settings(bn_exp, kwargs, field, text):
    with pytest.raises(la.ConfigError) as info:
        la.Plane.random(bn_exp, **kwargs)
    assert info.value.field == field and text in str(info.value)


def test_an_origin_of_zeros_has_nothing_to_normalise_by(bn_exp):
    with pytest.raises(la.ConfigError, match="all zeros"):
        la.Plane.random(bn_exp, origin=np.zeros(bn_exp.param_count))


# -- PCA planes ----------------------------------------------------------------------------------------------------

def synthetic_path(n=40, k=12, seed=0):
    """A path along u (large steps), a wiggle along v uncorrelated with it (an even function of s), a little noise."""
    rng = np.random.default_rng(seed)
    u, v = np.linalg.qr(rng.normal(size=(k, 2)))[0].T
    s = np.linspace(-3, 3, n)
    points = 5.0 + np.outer(s, u) + np.outer(np.cos(2 * s), v) + 1e-3 * rng.normal(size=(n, k))
    return points, u, v


def test_pca_finds_the_dominant_directions_of_a_synthetic_path():
    points, u, v = synthetic_path()
    plane = la.Plane.pca(points)
    assert plane.kind == "pca"
    np.testing.assert_array_equal(plane.origin, points[-1])     # centred on the final point, as Li et al.
    assert abs(plane.d1 @ u) > 0.9999 and abs(plane.d2 @ v) > 0.999
    assert np.linalg.norm(plane.d1) == pytest.approx(1) and abs(plane.d1 @ plane.d2) < 1e-12
    assert plane.d1 @ (points[-1] - points[0]) > 0               # oriented along the run
    ratios = plane.info["explained_variance_ratio"]
    assert ratios[0] > 0.8 and ratios[0] + ratios[1] > 0.999
    assert plane.labels == (f"PCA 1 ({ratios[0]:.0%})", f"PCA 2 ({ratios[1]:.0%})")
    assert plane.info["distance_max"] < 0.01
    (a0, a1), (b0, b1) = plane.info["span"]
    a, b, _ = plane.project(points)
    assert a0 < a.min() and a.max() < a1 and b0 < b.min() and b.max() < b1


def test_one_pca_over_several_runs_centred_on_the_chosen_runs_end():
    points, u, v = synthetic_path()
    other = points[::-1] + 0.5 * v          # a second run, back along the same line and a little aside
    plane = la.Plane.pca([points, other])
    assert plane.info["runs"] == 2 and plane.info["points"] == 80 and plane.info["run"] == 0
    np.testing.assert_array_equal(plane.origin, points[-1])
    second = la.Plane.pca([points, other], run=1)
    np.testing.assert_array_equal(second.origin, other[-1])
    assert abs(plane.d1 @ second.d1) == pytest.approx(1, abs=1e-9)   # one PCA of all the points either way
    mean = la.Plane.pca([points, other], center="mean")
    np.testing.assert_allclose(mean.origin, np.concatenate([points, other]).mean(axis=0), rtol=1e-12)
    start = la.Plane.pca([points, other], center="start")
    np.testing.assert_array_equal(start.origin, points[0])


def test_pca_of_a_real_mlp_run(bn_exp, bn_run):
    plane = la.Plane.pca(bn_run)
    np.testing.assert_array_equal(plane.origin, bn_run.params[-1])
    for key, value in bn_run.buffers.items():
        np.testing.assert_array_equal(plane.buffers[key], value)
    ratios = plane.info["explained_variance_ratio"]
    assert 0 < ratios[1] <= ratios[0] and ratios[0] + ratios[1] <= 1 + 1e-12
    _, _, dist = plane.project(bn_run.params)
    assert plane.info["distance_max"] == pytest.approx(dist.max(), rel=1e-12)
    assert dist[-1] == pytest.approx(0, abs=1e-12)
    surface = la.compute_surface(bn_exp, plane=plane, resolution=3)     # the span of the path, by default
    assert surface.loss.shape == (3, 3) and np.isfinite(surface.loss).all()
    (a0, a1), (b0, b1) = plane.info["span"]
    assert (surface.alpha[0], surface.alpha[-1], surface.beta[0], surface.beta[-1]) == (a0, a1, b0, b1)


@pytest.mark.parametrize("paths, field, text", [
    (np.zeros((2, 4)), "trajectories", "at least 3 points"),
    (np.outer(np.arange(5.0), np.ones(4)), "trajectories", "lie on a line"),
    ([np.ones((3, 4)), np.ones((3, 5))], "trajectories[1]", "has 5 parameters but run 0 has 4"),
    ([], "trajectories", "no path given"),
])
def test_pca_refuses_what_has_no_plane(paths, field, text):
    with pytest.raises(la.ConfigError) as info:
        la.Plane.pca(paths)
    assert info.value.field == field and text in str(info.value)


def test_pca_refuses_an_unknown_centre_or_run():
    points, _, _ = synthetic_path()
    with pytest.raises(la.ConfigError, match="must be one of end, start, mean"):
        la.Plane.pca(points, center="middle")
    with pytest.raises(la.ConfigError, match="one of the 1 run"):
        la.Plane.pca(points, run=1)
