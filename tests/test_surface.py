"""The surface equals torch's own criterion in float64 (the reference), everywhere: random data, models, criteria,
axes and deltas; near the minimum; in saturated sigmoids; on mini-batches; across chunk boundaries."""
import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import landscape_app as la
from landscape_app.core import surface_parallel
from landscape_app.core.models import MODELS, build_criterion, output_is_probability

REL = 1e-5


def reference(exp, params, batch=None):
    """The loss as the course computes it: an nn.Linear in float64, its criterion module, mean reduction."""
    x, y = exp.data.x.double(), exp.data.y.double()
    if batch is not None:
        x, y = x[torch.as_tensor(batch)], y[torch.as_tensor(batch)]
    linear = torch.nn.Linear(x.shape[1], 1).double()
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(np.asarray(params[:-1], dtype=np.float64)[None, :]))
        linear.bias.copy_(torch.tensor([float(params[-1])], dtype=torch.float64))
        out = linear(x)
        if output_is_probability(exp.model, exp.criterion):
            out = torch.sigmoid(out)
        return float(build_criterion(exp.criterion, exp.criterion_options).double()(out, y))


def point(exp, surface, i, j):
    """The full parameter vector at grid cell (row i, column j)."""
    names = exp.param_names
    p = np.array(exp.start, dtype=np.float64)
    for name, value in surface.held.items():
        p[names.index(name)] = value
    p[names.index(surface.axes[0])] = surface.w[j]
    p[names.index(surface.axes[1])] = surface.b[i]
    return p


def assert_matches_reference(exp, surface, batch=None, cells=None):
    rows, cols = surface.loss.shape
    cells = cells if cells is not None else [(i, j) for i in range(rows) for j in range(cols)]
    for i, j in cells:
        expected = reference(exp, point(exp, surface, i, j), batch)
        got = surface.loss[i, j]
        assert abs(got - expected) <= REL * abs(expected), \
            f"cell ({i}, {j}) w={surface.w[j]!r} b={surface.b[i]!r}: {got!r} != torch {expected!r}"


# -- property tests ---------------------------------------------------------------------------------------------

PAIRINGS = [(m, c) for m in MODELS for c in ("mse", "l1", "huber", "bce", "bce-logits")
            if not (c == "bce" and not output_is_probability(m, c))]


@st.composite
def experiments(draw):
    model, criterion = draw(st.sampled_from(PAIRINGS))
    n = draw(st.integers(2, 40))
    f = MODELS[model][0]
    scale = draw(st.sampled_from([0.1, 1.0, 3.0, 30.0]))
    xs = draw(st.lists(st.floats(-1, 1), min_size=n * f, max_size=n * f))
    x = np.array(xs).reshape(n, f) * scale
    if criterion.startswith("bce") or (model == "logistic" and draw(st.booleans())):
        y = np.array(draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)))
    else:
        y = np.array(draw(st.lists(st.floats(-5, 5), min_size=n, max_size=n)))
    options = {"delta": draw(st.floats(0.05, 5.0))} if criterion == "huber" else {}
    names = MODELS[model][1]
    axes = tuple(draw(st.permutations(names))[:2])
    held = draw(st.floats(-3, 3))
    exp = la.Experiment(data=la.dataset_from_arrays(x, y), model=model, criterion=criterion,
                        criterion_options=options, grid=la.Grid(axes=axes, held=held if model == "plane" else None))
    span = draw(st.sampled_from([1.0, 10.0, 60.0]))

    def axis():
        values = draw(st.lists(st.floats(-span, span), min_size=1, max_size=5, unique=True))
        return np.array(values)

    return exp, axis(), axis()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(experiments())
def test_surface_equals_torch_at_every_grid_point(case):
    exp, w, b = case
    surface = la.compute_surface(exp, w=w, b=b)
    assert surface.loss.shape == (len(b), len(w))
    assert_matches_reference(exp, surface)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PAIRINGS), st.integers(100, 700), st.integers(0, 2**32 - 1), st.data())
def test_many_samples_span_several_sample_blocks(pairing, n, seed, data):
    model, criterion = pairing
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, MODELS[model][0])) * data.draw(st.sampled_from([0.1, 1.0, 4.0]))
    binary = criterion.startswith("bce") or data.draw(st.booleans())
    y = (rng.random(n) < 0.5).astype(float) if binary else x.sum(1) + rng.standard_normal(n)
    options = {"delta": data.draw(st.floats(0.05, 3.0))} if criterion == "huber" else {}
    exp = la.Experiment(data=la.dataset_from_arrays(x, y), model=model, criterion=criterion,
                        criterion_options=options)
    span = data.draw(st.sampled_from([2.0, 15.0, 80.0]))
    w, b = rng.uniform(-span, span, 9), rng.uniform(-span, span, 7)
    surface = la.compute_surface(exp, w=w, b=b, chunk_bytes=data.draw(st.sampled_from([20_000, None])))
    assert_matches_reference(exp, surface, cells=[(int(rng.integers(7)), int(rng.integers(9))) for _ in range(6)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(experiments(), st.data())
def test_batch_surface_equals_torch_over_the_subset(case, data):
    exp, w, b = case
    n = len(exp.data)
    batch = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True)))
    surface = la.compute_surface(exp, w=w, b=b, batch=batch)
    np.testing.assert_array_equal(surface.batch, batch)
    assert_matches_reference(exp, surface, batch)


@settings(max_examples=40, deadline=None)
@given(experiments(), st.data())
def test_loss_at_is_torch_exactly(case, data):
    exp, _, _ = case
    k = len(exp.param_names)
    pts = np.array(data.draw(st.lists(st.lists(st.floats(-50, 50), min_size=k, max_size=k), min_size=1,
                                      max_size=4)))
    many = la.loss_at(exp, pts)
    assert many.shape == (len(pts),)
    for p, value in zip(pts, many):
        single = la.loss_at(exp, p)
        assert isinstance(single, float)
        assert single == value          # one point or many: the same arithmetic
        expected = reference(exp, p)
        assert abs(single - expected) <= 1e-12 * abs(expected)


# -- the hard places ---------------------------------------------------------------------------------------------

def test_mse_near_the_minimum_where_five_sums_cancel():
    # Far from the origin with little noise, the loss at the minimum is tiny next to the data's squares.
    rng = np.random.default_rng(3)
    x = 1000.0 + rng.uniform(-1, 1, 200)
    y = 2.5 * x - 700.0 + 1e-3 * rng.standard_normal(200)
    data = la.dataset_from_arrays(x, y)
    exp = la.Experiment(data=data, model="linear", criterion="mse")
    xs, ys = data.x.double().numpy()[:, 0], data.y.double().numpy()[:, 0]
    # The least-squares point in exact rational arithmetic, so that nothing below depends on the processor.
    n, fx, fy = len(xs), [Fraction(v) for v in xs], [Fraction(v) for v in ys]
    sxx, sx, sy = sum(v * v for v in fx), sum(fx), sum(fy)
    sxy, syy = sum(a * b for a, b in zip(fx, fy)), sum(v * v for v in fy)
    w_star = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    w0, b0 = float(w_star), float((sy - w_star * sx) / n)
    w = w0 + np.linspace(-1e-6, 1e-6, 5)
    b = b0 + np.linspace(-1e-3, 1e-3, 5)
    surface = la.compute_surface(exp, w=w, b=b)
    assert_matches_reference(exp, surface)

    # The test can tell: this data defeats the naive expansion into five sums however they are summed.
    exact = float(sum((Fraction(w0) * a + Fraction(b0) - c) ** 2 for a, c in zip(fx, fy)) / n)
    # Analytically: the sum of y^2 alone, rounded to float64 (half a unit in the last place), moves the result
    # by more than REL (the cancellation leaves ~4 of float64's ~16 digits).
    assert math.ulp(float(syy)) / 2 / n > 10 * REL * exact
    # And concretely, with every sum correctly rounded (float32 data: each product is exact in float64, and
    # math.fsum rounds only once) and the formula in IEEE double (Python floats round every operation the same
    # on every processor), the naive formula is off by far more than the surface may be.
    sxx, sx, sy, sxy, syy = (math.fsum(v) for v in (xs * xs, xs, ys, xs * ys, ys * ys))
    naive = (w0 * w0 * sxx + 2 * w0 * b0 * sx + n * b0 * b0 - 2 * w0 * sxy - 2 * b0 * sy + syy) / n
    assert abs(naive - exact) > 50 * REL * exact


@pytest.mark.parametrize("criterion", ["mse", "l1", "huber"])
def test_a_perfect_fit_is_zero_like_torch(criterion):
    # y = 2 x - 1 exactly in float32 and float64: torch's loss at (2, -1) is exactly 0, rounding noise nearby
    x = np.arange(-8, 9) / 4.0
    exp = la.Experiment(data=la.dataset_from_arrays(x, 2 * x - 1), criterion=criterion)
    w = np.array([2.0 - 1e-12, 2.0, 2.0 + 1e-9])
    b = np.array([-1.0 - 1e-12, -1.0, -1.0 + 1e-13])
    surface = la.compute_surface(exp, w=w, b=b)
    assert surface.loss[1, 1] == 0.0
    assert_matches_reference(exp, surface)


def test_rows_are_b_and_columns_are_w():
    data = la.make_dataset("linear", n_samples=30, intercept=2.0)
    exp = la.Experiment(data=data, model="linear", criterion="mse")
    w, b = np.array([-3.0, 0.5, 2.0]), np.array([-1.0, 4.0])
    surface = la.compute_surface(exp, w=w, b=b)
    assert surface.loss.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            assert surface.loss[i, j] == pytest.approx(reference(exp, (w[j], b[i])), rel=1e-12)
    # and never the course helper's sign error: b enters as + b
    assert surface.loss[0, 0] != pytest.approx(reference(exp, (w[0], -b[0])), rel=1e-3)
    np.testing.assert_array_equal(surface.alpha, w)
    np.testing.assert_array_equal(surface.beta, b)


def separable():
    x = np.concatenate([np.linspace(-3, -0.5, 20), np.linspace(0.5, 3, 20)])
    return la.dataset_from_arrays(x, (x > 0).astype(float))


def test_saturated_bce_costs_100_per_wrong_side_sample():
    # w = -80: every sample is on the wrong side with |z| >= 40: p rounds to exactly 0 or 1.
    exp = la.Experiment(data=separable(), model="logistic", criterion="bce")
    w = np.array([-80.0, -30.0, -12.0, -8.0])
    b = np.linspace(-5, 5, 11)
    surface = la.compute_surface(exp, w=w, b=b)
    assert_matches_reference(exp, surface)
    x = exp.data.x.double().numpy()[:, 0]
    assert np.all(np.abs(-80.0 * x) > 37)            # every sample saturated at w = -80, b = 0
    # y = 0: sigmoid(z) rounds to 1, log(1 - p) = -inf, clamped: 100. y = 1: -log(p) = -z, clamped at 100.
    y = exp.data.y.double().numpy()[:, 0]
    expected = np.where(y == 0, 100.0, np.minimum(80.0 * x, 100.0)).mean()
    assert surface.loss[5, 0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("chunk_bytes", [30_000, None])
def test_bce_clamp_when_every_positive_is_far_on_the_wrong_side(chunk_bytes):
    # z ~ -127 for every sample: each y = 1 costs exactly 100 (log clamped), each y = 0 almost nothing
    x = np.linspace(-0.03, 0.03, 61)
    y = (np.arange(61) % 3 == 0).astype(float)
    exp = la.Experiment(data=la.dataset_from_arrays(x, y), model="logistic", criterion="bce",
                        grid=la.Grid(axes=("b", "w")))
    surface = la.compute_surface(exp, w=np.linspace(-200, -100, 9), b=np.linspace(-80, 80, 7),
                                 chunk_bytes=chunk_bytes)
    assert_matches_reference(exp, surface)
    assert surface.loss[0, 3] == pytest.approx(100 * y.mean(), rel=1e-14)


def test_bce_where_torch_rounds_one_minus_sigmoid():
    # Wrong-side samples with z between 22 and 37: torch's 1 - sigmoid(z) is rounded on the grid of 1 + e^-z
    x = np.array([1.0, 1.1, 1.2, 1.3, 2.0, -1.0])
    data = la.dataset_from_arrays(x, np.array([0, 0, 0, 0, 0, 1.0]))
    exp = la.Experiment(data=data, model="logistic", criterion="bce")
    w = np.linspace(20, 30, 21)
    b = np.linspace(0, 8, 9)
    surface = la.compute_surface(exp, w=w, b=b)
    assert_matches_reference(exp, surface)
    exact = np.mean([np.logaddexp(0, 30.0 * xi) if yi == 0 else np.logaddexp(0, -30.0 * xi)
                     for xi, yi in zip(x, data.y.numpy()[:, 0])])
    assert abs(surface.loss[0, -1] - exact) > 1e-5 * exact       # torch's value, not the textbook one


@pytest.mark.parametrize("criterion", ["bce-logits", "bce", "mse", "l1", "huber"])
def test_confidently_right_logistic_losses_tiny_but_torch_exact(criterion):
    exp = la.Experiment(data=separable(), model="logistic", criterion=criterion)
    w = np.array([8.0, 15.0, 25.0, 60.0, 200.0])
    b = np.array([-1.0, 0.0, 0.5])
    surface = la.compute_surface(exp, w=w, b=b)
    assert surface.loss.min() < 1e-10
    assert_matches_reference(exp, surface)


def test_wide_grid_exponents_fall_back_to_torch():
    exp = la.Experiment(data=la.make_dataset("logistic", n_samples=50), model="logistic", criterion="bce-logits")
    surface = la.compute_surface(exp, w=np.linspace(-900, 900, 7), b=np.linspace(-800, 800, 5))
    assert_matches_reference(exp, surface)


def test_swapped_axes_transpose_correctly():
    exp = la.Experiment(data=la.make_dataset("logistic", n_samples=40), model="logistic", criterion="bce",
                        grid=la.Grid(axes=("b", "w")))
    surface = la.compute_surface(exp, w=np.linspace(-4, 4, 5), b=np.linspace(-2, 3, 3))
    assert surface.axes == ("b", "w")
    assert_matches_reference(exp, surface)


# -- the plane's slice ---------------------------------------------------------------------------------------

def test_plane_held_parameter_defaults_and_overrides():
    data = la.make_dataset("plane", n_samples=30)
    exp = la.Experiment(data=data, model="plane", criterion="huber", start=(1.0, -2.0, 0.25),
                        grid=la.Grid(axes=("w1", "b"), resolution=(5, 4)))
    assert la.compute_surface(exp).held == {"w2": -2.0}                  # the start point's value
    assert la.compute_surface(exp.replace(grid=la.Grid(axes=("w1", "b"), held=0.5, resolution=(5, 4)))
                              ).held == {"w2": 0.5}
    for held in ({"w2": 1.5}, 1.5):
        surface = la.compute_surface(exp, held=held)
        assert surface.held == {"w2": 1.5}
        assert_matches_reference(exp, surface)
    with pytest.raises(la.ConfigError, match="held"):
        la.compute_surface(exp, held={"b": 1.0})
    with pytest.raises(la.ConfigError, match="held"):
        la.compute_surface(la.Experiment(), held={"w": 1.0})


def test_argmin_finds_the_lowest_grid_point():
    data = la.make_dataset("linear", n_samples=40, slope=2.0, intercept=-1.0, noise=0.0)
    exp = la.Experiment(data=data, grid=la.Grid(x_range=(-4, 4), y_range=(-4, 4), resolution=(81, 81)))
    w, b, loss = la.compute_surface(exp).argmin()
    assert (w, b) == (pytest.approx(2.0), pytest.approx(-1.0))
    assert loss == pytest.approx(0.0, abs=1e-12)


def test_default_grid_comes_from_the_experiment():
    exp = la.Experiment(grid=la.Grid(x_range=(-2, 3), y_range=(-1, 1), resolution=(6, 4)))
    surface = la.compute_surface(exp)
    np.testing.assert_array_equal(surface.w, np.linspace(-2, 3, 6))
    np.testing.assert_array_equal(surface.b, np.linspace(-1, 1, 4))
    assert surface.criterion == "mse" and surface.batch is None and surface.axes == ("w", "b")
    assert not surface.loss.flags.writeable


# -- chunks and threads ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("model,criterion", [("logistic", "bce"), ("logistic", "mse"), ("logistic", "huber"),
                                             ("linear", "huber"), ("linear", "l1"), ("plane", "bce-logits")])
def test_chunk_boundaries_change_nothing(model, criterion):
    name = {"linear": "linear-outliers"}.get(model, model)
    data = la.make_dataset(name, n_samples=290, seed=2)
    if criterion == "bce-logits":
        data = la.dataset_from_arrays(data.x.numpy(), (data.y.numpy() > 0).astype(float))
    axes = ("w1", "w2") if model == "plane" else None
    exp = la.Experiment(data=data, model=model, criterion=criterion, grid=la.Grid(axes=axes))
    w, b = np.linspace(-9, 7, 45), np.linspace(-6, 8, 23)
    whole = la.compute_surface(exp, w=w, b=b, chunk_bytes=1 << 30).loss
    small = la.compute_surface(exp, w=w, b=b, chunk_bytes=30_000).loss
    # Chunks decide which confidently wrong BCE terms follow torch's rounding of 1 - sigmoid exactly (the
    # others are within 2e-8 of it), so the answers agree to rounding, not to the last bit.
    np.testing.assert_allclose(small, whole, rtol=1e-9, atol=0)
    rng = np.random.default_rng(0)
    cells = [(int(rng.integers(23)), int(rng.integers(45))) for _ in range(8)]
    assert_matches_reference(exp, la.compute_surface(exp, w=w, b=b, chunk_bytes=20_000), cells=cells)


def test_worker_threads_give_the_same_surface(monkeypatch):
    exp = la.Experiment(data=la.make_dataset("logistic", n_samples=300), model="logistic", criterion="bce")
    w, b = np.linspace(-10, 10, 41), np.linspace(-10, 10, 33)
    threads = torch.get_num_threads()
    monkeypatch.setattr(surface_parallel, "MIN_PARALLEL_TERMS", math.inf)
    inline = la.compute_surface(exp, w=w, b=b, chunk_bytes=50_000).loss
    monkeypatch.setattr(surface_parallel, "MIN_PARALLEL_TERMS", 0)
    monkeypatch.setattr(surface_parallel, "MAX_WORKERS", 2)    # two workers even on a one-core runner
    threaded = la.compute_surface(exp, w=w, b=b, chunk_bytes=50_000).loss
    monkeypatch.undo()
    np.testing.assert_array_equal(threaded, inline)
    assert torch.get_num_threads() == threads


# -- mistakes ------------------------------------------------------------------------------------------------------

def test_bad_inputs_raise_config_errors_naming_the_field():
    exp = la.Experiment()
    with pytest.raises(la.ConfigError, match="^w:"):
        la.compute_surface(exp, w=np.array([[1.0, 2.0]]))
    with pytest.raises(la.ConfigError, match="^b:"):
        la.compute_surface(exp, b=[0.0, math.nan])
    with pytest.raises(la.ConfigError, match="^w:"):
        la.compute_surface(exp, w=np.zeros(5000))
    with pytest.raises(la.ConfigError, match="^batch:"):
        la.compute_surface(exp, batch=[0, 999])
    with pytest.raises(la.ConfigError, match="^batch:"):
        la.compute_surface(exp, batch=[])
    with pytest.raises(la.ConfigError, match="^params:"):
        la.loss_at(exp, [1.0, 2.0, 3.0])
