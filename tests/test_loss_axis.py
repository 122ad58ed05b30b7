"""The loss axis's rule for runs that leave the picture, and the core's mini-batch losses under another
criterion (no Qt needed)."""
import numpy as np
import pytest

import landscape_app as la
from landscape_app.core.errors import ConfigError
from landscape_app.core.surface import batch_losses_at, loss_at
from landscape_app.core.loss_axis import LEAVE_FACTOR, exit_point, plan_axis


def test_runs_that_stay_set_the_whole_range():
    axis = plan_axis({0: np.array([500.0, 120.0, 3.0]), 1: np.array([500.0, 800.0, 40.0, 2.0])})
    assert (axis.lo, axis.hi) == (2.0, 800.0)
    assert axis.leaving == frozenset() and axis.threshold == LEAVE_FACTOR * 500.0


def test_a_diverging_run_counts_only_up_to_the_highest_start_loss():
    diverging = 500.0 * 3.0 ** np.arange(40)          # to ~6e21: far beyond ten times the start
    axis = plan_axis({0: np.array([500.0, 60.0, 1.0]), 1: diverging})
    assert axis.leaving == frozenset({1})
    assert (axis.lo, axis.hi) == (1.0, 500.0)          # the other run fills the axis


def test_a_run_whose_loss_stops_being_finite_leaves():
    axis = plan_axis({0: np.array([50.0, 5.0]), 1: np.array([50.0, 70.0, np.inf, np.nan])})
    assert axis.leaving == frozenset({1}) and axis.hi == 50.0


def test_the_surface_top_raises_the_threshold():
    """A run starting near the minimum may rise tenfold without leaving what the surface shows."""
    climbing = np.array([0.01, 0.5, 0.2])
    assert plan_axis({0: climbing}).leaving == frozenset({0})
    axis = plan_axis({0: climbing}, surface_top=900.0)
    assert axis.leaving == frozenset() and axis.hi == 0.5 and axis.threshold == 900.0


def test_a_log_axis_counts_positive_values_only():
    axis = plan_axis({0: np.array([10.0, 0.0, 1e-3])}, positive=True)
    assert (axis.lo, axis.hi) == (1e-3, 10.0)
    assert plan_axis({0: np.array([np.nan])}) is None


def test_exit_point_is_where_the_curve_crosses_the_top():
    x = np.arange(5.0)
    assert exit_point(x, np.array([4.0, 2.0, 6.0, 30.0, 90.0]), top=10.0) == (2.0 + 4.0 / 24.0, 10.0)
    assert exit_point(x, np.array([4.0, 2.0, 6.0, np.nan, np.nan]), top=10.0) == (2.0, 6.0)
    assert exit_point(x, np.array([4.0, 2.0, 6.0, 7.0, 8.0]), top=10.0) is None


@pytest.mark.parametrize("criterion, model, dataset", [("mse", "linear", "linear-outliers"),
                                                       ("huber", "linear", "linear-outliers"),
                                                       ("bce-logits", "logistic", "logistic")])
def test_batch_losses_are_each_points_batch_mean(criterion, model, dataset):
    exp = la.Experiment(data=la.make_dataset(dataset, n_samples=40, seed=2), model=model, criterion=criterion)
    rng = np.random.default_rng(0)
    params = rng.normal(size=(25, 2)) * 3
    batches = [rng.choice(40, size=rng.integers(1, 12), replace=False) for _ in range(24)] + [np.arange(40)]
    batches[3] = np.empty(0, np.int64)               # a start point: no batch
    got = batch_losses_at(exp, params, batches)
    assert np.isnan(got[3])
    for i in range(25):
        if i != 3:
            assert got[i] == pytest.approx(loss_at(exp, params[i], batch=batches[i]), rel=1e-12)
    with pytest.raises(ConfigError, match="batches"):
        batch_losses_at(exp, params, batches[:3])
    with pytest.raises(ConfigError, match="0..39"):
        batch_losses_at(exp, params[:1], [np.array([40])])
