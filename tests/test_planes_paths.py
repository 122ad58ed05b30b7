"""Paths and lines: the loss along a segment (endpoints equal loss_at), a run projected on a plane (distance 0 on
the plane; the true loss beside the surface's value under each step), and the span that shows the paths."""
import numpy as np
import pytest
from sklearn.datasets import make_moons

import landscape_app as la


def moons(n=60, seed=2):
    x, y = make_moons(n, noise=0.15, random_state=seed)
    return la.dataset_from_arrays(x, y)


@pytest.fixture(scope="module")
def mlp():
    return la.Experiment(model="mlp", data=moons(), model_options={"hidden": (6,)}, optimizer="adam", lr=0.05,
                         epochs=4, batch_size=15, seed=4)


@pytest.fixture(scope="module")
def mlp_run(mlp):
    return la.run(mlp)


# -- interpolation ---------------------------------------------------------------------------------------------------

def test_interpolation_endpoints_are_the_points_themselves(mlp, mlp_run):
    p0, p1 = mlp.start_vector(), mlp_run.params[-1]
    line = la.interpolate(mlp, p0, p1, steps=9)
    np.testing.assert_array_equal(line.t, np.linspace(0, 1, 9))
    assert line.loss[0] == pytest.approx(la.loss_at(mlp, p0), rel=1e-12)
    assert line.loss[-1] == pytest.approx(la.loss_at(mlp, p1), rel=1e-12)
    assert line.loss[-1] == pytest.approx(mlp_run.loss[-1], rel=1e-12)    # the run's own record at its end
    np.testing.assert_array_equal(line.params(0), p0)
    np.testing.assert_array_equal(line.params(1), p1)
    mid = la.loss_at(mlp, 0.5 * p0 + 0.5 * p1)
    assert line.loss[4] == pytest.approx(mid, rel=1e-12)
    assert line.accuracy is not None and ((0 <= line.accuracy) & (line.accuracy <= 1)).all()
    assert line.accuracy[-1] > line.accuracy[0]       # trained: more samples right at the end than at the start
    assert line.criterion == "bce-logits" and len(line) == 9


def test_interpolation_beyond_the_ends_and_from_trajectories(mlp, mlp_run):
    line = la.interpolate(mlp, mlp.start_vector(), mlp_run, steps=5, t_range=(-0.5, 1.5))
    np.testing.assert_array_equal(line.t, [-0.5, 0.0, 0.5, 1.0, 1.5])
    p0, p1 = mlp.start_vector(), mlp_run.params[-1]
    assert line.loss[0] == pytest.approx(la.loss_at(mlp, 1.5 * p0 - 0.5 * p1), rel=1e-9)
    assert line.loss[3] == pytest.approx(mlp_run.loss[-1], rel=1e-12)
    t, low = line.argmin()
    assert low == line.loss.min() and t in line.t


def test_interpolation_on_a_mini_batch_and_for_the_linear_family(mlp, mlp_run):
    batch = np.arange(10)
    line = la.interpolate(mlp, mlp.start_vector(), mlp_run, steps=3, batch=batch)
    assert line.loss[0] == pytest.approx(la.loss_at(mlp, mlp.start_vector(), batch=batch), rel=1e-12)
    linear = la.Experiment()
    run = la.run(linear)
    line = la.interpolate(linear, linear.start_vector(), run.params[-1], steps=4)
    assert line.accuracy is None
    assert line.loss[0] == pytest.approx(la.loss_at(linear, linear.start_vector()), rel=1e-9)
    assert line.loss[-1] == pytest.approx(run.loss[-1], rel=1e-9)


@pytest.mark.parametrize("kwargs, field, text", [
    (dict(steps=1), "steps", "must be a whole number from 2"),
    (dict(t_range=(1.0, 0.0)), "t_range", "low < high"),
    (dict(t_range="wide"), "t_range", "two numbers"),
    (dict(p1="same"), "p1", "equals p0"),
    (dict(batch=[999]), "batch", "indices must lie in 0..59"),
])
def test_interpolation_refuses_bad_settings(mlp, kwargs, field, text):
    p0 = mlp.start_vector()
    p1 = p0 if kwargs.pop("p1", None) == "same" else p0 + 1
    with pytest.raises(la.ConfigError) as info:
        la.interpolate(mlp, p0, p1, **kwargs)
    assert info.value.field == field and text in str(info.value)


# -- projected paths -----------------------------------------------------------------------------------------------

def test_steps_on_the_plane_have_no_distance_and_the_surface_there_is_their_loss(mlp, mlp_run):
    middle = len(mlp_run) // 2
    plane = la.Plane.through(mlp_run.params[0], mlp_run.params[middle], mlp_run.params[-1])
    path = la.project_path(mlp, mlp_run, plane)
    assert len(path) == len(mlp_run)
    np.testing.assert_array_equal(path.iteration, mlp_run.iteration)
    np.testing.assert_array_equal(path.loss, mlp_run.loss)
    for i, (alpha, beta) in ((0, (0, 0)), (middle, (1, 0)), (len(mlp_run) - 1, (0, 1))):
        assert (path.alpha[i], path.beta[i]) == pytest.approx((alpha, beta), abs=1e-9)
        assert path.distance[i] == pytest.approx(0, abs=1e-9)
        assert path.surface_loss[i] == pytest.approx(mlp_run.loss[i], rel=1e-9)
        assert path.gap[i] == pytest.approx(0, abs=1e-9)
    others = np.setdiff1d(np.arange(len(mlp_run)), [0, middle, len(mlp_run) - 1])
    assert (path.distance[others] > 0).all()
    # Elsewhere the surface's value is the loss at the projected point, not the run's.
    i = int(others[0])
    expected = la.loss_at(mlp, plane.point(path.alpha[i], path.beta[i]))
    assert path.surface_loss[i] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError):
        path.alpha[0] = 1.0


def test_the_surface_values_are_the_drawn_surfaces(mlp, mlp_run):
    plane = la.Plane.pca(mlp_run)
    path = la.project_path(mlp, mlp_run, plane)
    alpha, beta = path.alpha[:2], path.beta[:2]
    surface = la.compute_surface(mlp, plane=plane, alpha=alpha, beta=beta)
    # a network's surface is evaluated in float32 (the dtype it trains in), the path in float64
    assert path.surface_loss[0] == pytest.approx(surface.loss[0, 0], rel=1e-5)
    assert path.surface_loss[1] == pytest.approx(surface.loss[1, 1], rel=1e-5)


def test_a_linear_run_on_its_axes_plane_lies_on_it():
    exp = la.Experiment()
    run = la.run(exp)
    path = la.project_path(exp, run, la.Plane.axes(exp, "w", "b"))
    np.testing.assert_allclose(path.alpha, run.params[:, 0], rtol=1e-12)
    np.testing.assert_allclose(path.beta, run.params[:, 1], rtol=1e-12)
    np.testing.assert_allclose(path.distance, 0, atol=1e-12)
    np.testing.assert_allclose(path.surface_loss, run.loss, rtol=1e-9)


def test_project_path_refuses_a_plane_of_another_model(mlp, mlp_run):
    linear = la.Experiment()
    with pytest.raises(la.ConfigError, match="lies among 2 parameters but the model has"):
        la.project_path(mlp, mlp_run, la.Plane.axes(linear, "w", "b"))
    with pytest.raises(la.ConfigError, match="must be a Trajectory"):
        la.project_path(mlp, mlp_run.params, la.Plane.pca(mlp_run))


# -- spans -----------------------------------------------------------------------------------------------------------

def test_covering_span_shows_every_path_and_the_origin(mlp, mlp_run):
    plane = la.Plane.random(mlp, seed=1)
    path = la.project_path(mlp, mlp_run, plane)
    (a0, a1), (b0, b1) = plane.covering_span([mlp_run, path], margin=0.1)
    assert a0 < min(path.alpha.min(), 0) and a1 > max(path.alpha.max(), 0)
    assert b0 < min(path.beta.min(), 0) and b1 > max(path.beta.max(), 0)
    extent = max(max(path.alpha.max(), 0) - min(path.alpha.min(), 0), max(path.beta.max(), 0) - min(path.beta.min(), 0))
    assert a1 - max(path.alpha.max(), 0) == pytest.approx(0.1 * extent, rel=1e-9)
    tight = plane.covering_span(mlp_run, margin=0.0, origin=False)
    assert tight[0] == pytest.approx((path.alpha.min(), path.alpha.max()), abs=1e-8)
    span = plane.covering_span(mlp_run)
    surface = la.compute_surface(mlp, plane=plane, span=span, resolution=3)
    assert (surface.alpha[0], surface.alpha[-1]) == span[0] and (surface.beta[0], surface.beta[-1]) == span[1]


def test_covering_span_of_one_point_is_a_unit_around_it():
    plane = la.Plane(np.zeros(3), [1, 0, 0], [0, 1, 0])
    assert plane.covering_span(np.zeros((1, 3))) == ((-1.0, 1.0), (-1.0, 1.0))
    with pytest.raises(la.ConfigError, match="margin"):
        plane.covering_span(np.zeros((1, 3)), margin=-1)
    with pytest.raises(la.ConfigError, match="3 parameters per point"):
        plane.covering_span([np.zeros((2, 3)), np.zeros((2, 4))])
