"""The classifier pictures' values (core.predictions) against a direct torch evaluation of the module."""
import numpy as np
import pytest
import torch

import landscape_app as la
from landscape_app.core.errors import ConfigError
from landscape_app.core.predictions import (DecisionMap, DigitPredictions, decision_map, digit_predictions,
                                            prediction_kind, predictions, sample_indices)

UNSURE = 1e-4      # grid points this close to a tie may fall either way between float32 and float64


def direct_outputs(exp, params, x, buffers=None) -> torch.Tensor:
    """The module as the user would run it: built, parameters loaded, buffers copied, eval mode, float64."""
    module = exp.build_module().double().eval()
    torch.nn.utils.vector_to_parameters(torch.as_tensor(np.asarray(params), dtype=torch.float64),
                                        module.parameters())
    own = dict(module.named_buffers())
    for name, value in (buffers or {}).items():
        own[name].copy_(torch.as_tensor(np.asarray(value)).reshape(own[name].shape))
    with torch.no_grad():
        return module(torch.as_tensor(np.asarray(x), dtype=torch.float64))


def grid_points(m: DecisionMap) -> np.ndarray:
    g1, g2 = np.meshgrid(m.x1, m.x2)
    return np.column_stack([g1.ravel(), g2.ravel()])


@pytest.fixture(scope="module")
def moons():
    """An MLP on moons after a few Adam steps (a boundary that is neither the start's nor trivial)."""
    exp = la.Experiment(data=la.make_dataset("moons", n_samples=300), model="mlp", model_options={"hidden": [16]},
                        optimizer="adam", lr=0.05, batch_size=30, epochs=2)
    return exp, la.run(exp)


def test_a_binary_map_is_the_networks_probability_on_the_datas_box(moons):
    exp, traj = moons
    params = traj.params[-1]
    m = decision_map(exp, params, run_id=3, iteration=int(traj.iteration[-1]))
    assert (m.run_id, m.iteration, m.n_classes, m.binary) == (3, len(traj) - 1, 2, True)
    x, y = exp.data.numpy()
    np.testing.assert_array_equal(m.points, x)
    np.testing.assert_array_equal(m.labels, y.astype(np.int64))
    # The box holds every sample with a margin, in square cells, 100 points along its longer side.
    assert m.x1[0] < x[:, 0].min() and m.x1[-1] > x[:, 0].max()
    assert m.x2[0] < x[:, 1].min() and m.x2[-1] > x[:, 1].max()
    assert max(len(m.x1), len(m.x2)) == 100 and m.prob.shape == m.classes.shape == (len(m.x2), len(m.x1))
    np.testing.assert_allclose(np.diff(m.x1).mean(), np.diff(m.x2).mean(), rtol=1e-9)
    # Rows follow x2, columns x1: the grid node (i, j) is (x1[j], x2[i]).
    ref = torch.sigmoid(direct_outputs(exp, params, grid_points(m))[:, 0]).numpy().reshape(m.prob.shape)
    np.testing.assert_allclose(m.prob, ref, atol=1e-5)
    np.testing.assert_allclose(m.margin, np.abs(2 * ref - 1), atol=2e-5)
    sure = np.abs(ref - 0.5) > UNSURE
    np.testing.assert_array_equal(m.classes[sure], (ref > 0.5)[sure])
    on_data = torch.sigmoid(direct_outputs(exp, params, x)[:, 0]).numpy()
    np.testing.assert_array_equal(m.predicted, (on_data > 0.5).astype(np.int64))
    assert m.accuracy == pytest.approx(np.mean((on_data > 0.5) == y))
    # Both classes show: the map is not a constant picture.
    assert 0 < m.classes.mean() < 1


def test_training_moves_the_boundary_and_raises_the_accuracy(moons):
    exp, traj = moons
    start, end = decision_map(exp, traj.params[0]), decision_map(exp, traj.params[-1])
    assert end.accuracy > start.accuracy
    assert not np.array_equal(start.classes, end.classes)


def test_two_outputs_with_cross_entropy_draw_class_ones_probability():
    exp = la.Experiment(data=la.make_dataset("circles", n_samples=200), model="mlp", criterion="cross-entropy",
                        model_options={"hidden": [8]}, epochs=1)
    params = exp.start_vector()
    m = decision_map(exp, params, resolution=30)
    ref = torch.softmax(direct_outputs(exp, params, grid_points(m)), dim=1)[:, 1].numpy().reshape(m.prob.shape)
    assert m.binary and max(m.prob.shape) == 30
    np.testing.assert_allclose(m.prob, ref, atol=1e-5)


def test_more_classes_give_the_winners_class_and_probability():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    y = np.repeat(np.arange(3), 40).astype(float)
    x = centres[y.astype(int)] + rng.normal(0, 0.5, (120, 2))
    exp = la.Experiment(data=la.dataset_from_arrays(x, y), model="mlp", model_options={"hidden": [8]},
                        optimizer="adam", lr=0.05, epochs=20)
    assert exp.criterion == "cross-entropy" and prediction_kind(exp) == "decision"
    params = la.run(exp).params[-1]
    m = decision_map(exp, params, resolution=40)
    soft = torch.softmax(direct_outputs(exp, params, grid_points(m)), dim=1).numpy()
    assert m.n_classes == 3 and not m.binary
    np.testing.assert_allclose(m.prob, soft.max(axis=1).reshape(m.prob.shape), atol=1e-5)
    ranked = np.sort(soft, axis=1)
    np.testing.assert_allclose(m.margin, (ranked[:, -1] - ranked[:, -2]).reshape(m.prob.shape), atol=2e-5)
    sure = (ranked[:, -1] - ranked[:, -2] > UNSURE).reshape(m.prob.shape)
    np.testing.assert_array_equal(m.classes[sure], soft.argmax(axis=1).reshape(m.prob.shape)[sure])
    assert set(np.unique(m.classes)) == {0, 1, 2}
    assert m.accuracy > 0.9


def test_batchnorm_maps_use_the_running_statistics_given():
    exp = la.Experiment(data=la.make_dataset("moons", n_samples=200), model="mlp",
                        model_options={"hidden": [8], "batchnorm": True}, optimizer="adam", lr=0.05,
                        batch_size=20, epochs=3)
    traj = la.run(exp)
    assert traj.buffers
    params = traj.params[-1]
    with_stats = decision_map(exp, params, traj.buffers, resolution=25)
    without = decision_map(exp, params, resolution=25)
    ref = torch.sigmoid(direct_outputs(exp, params, grid_points(with_stats), traj.buffers)[:, 0]).numpy()
    np.testing.assert_allclose(with_stats.prob, ref.reshape(with_stats.prob.shape), atol=1e-5)
    assert np.abs(with_stats.prob - without.prob).max() > 1e-3


@pytest.fixture(scope="module", params=["softmax", "cnn"])
def digits(request):
    exp = la.Experiment(data=la.make_dataset("digits", n_samples=400), model=request.param, optimizer="adam",
                        lr=0.01, batch_size=50, epochs=2)
    return exp, la.run(exp)


def test_digit_predictions_match_the_module_on_every_image(digits):
    exp, traj = digits
    params = traj.params[-1]
    p = digit_predictions(exp, params, run_id=1, iteration=7)
    assert isinstance(p, DigitPredictions) and (p.run_id, p.iteration, p.n_classes) == (1, 7, 10)
    x, y = exp.data.numpy()
    labels = y.astype(np.int64)
    soft = torch.softmax(direct_outputs(exp, params, x), dim=1).numpy()
    ranked = np.sort(soft, axis=1)
    assert (ranked[:, -1] - ranked[:, -2]).min() > UNSURE      # no tie in this data: predictions are exact
    predicted = soft.argmax(axis=1)
    # Rows: the true class; columns: the predicted one; every sample counted once.
    for true in range(10):
        for guess in range(10):
            assert p.confusion[true, guess] == np.sum((labels == true) & (predicted == guess))
    assert p.accuracy == pytest.approx(np.mean(predicted == labels))
    assert 0.3 < p.accuracy < 1.0     # trained a little: some right, some wrong
    np.testing.assert_array_equal(p.labels, labels[p.indices])
    np.testing.assert_array_equal(p.predicted, predicted[p.indices])
    np.testing.assert_allclose(p.confidence, soft.max(axis=1)[p.indices], atol=1e-5)
    np.testing.assert_array_equal(p.correct, p.predicted == p.labels)
    np.testing.assert_array_equal(p.images, x[p.indices].reshape(-1, 8, 8).astype(np.float32))


def test_the_image_sample_shows_every_digit_and_stays_put(digits):
    exp, traj = digits
    a = digit_predictions(exp, traj.params[0])
    b = digit_predictions(exp, traj.params[-1])
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.images is b.images          # the same arrays: a view converts the pictures once
    assert len(a.indices) == 24
    np.testing.assert_array_equal(a.labels[:10], np.arange(10))
    np.testing.assert_array_equal(a.labels[10:20], np.arange(10))


def test_sample_indices_take_the_classes_in_turn_in_data_order():
    labels = np.array([2, 0, 0, 1, 2, 0, 2])
    np.testing.assert_array_equal(sample_indices(labels, 6, 3), [1, 3, 0, 2, 4, 5])
    # A class that runs out is skipped; never more than the data has.
    np.testing.assert_array_equal(sample_indices(labels, 50, 3), [1, 3, 0, 2, 4, 5, 6])


def test_which_picture_each_experiment_gets():
    assert prediction_kind(la.Experiment()) is None                                    # the course's line
    assert prediction_kind(la.Experiment(data=la.make_dataset("plane"), model="plane")) is None
    regression = la.Experiment(data=la.make_dataset("plane"), model="mlp")
    assert prediction_kind(regression) is None and predictions(regression, regression.start_vector()) is None
    moons = la.Experiment(data=la.make_dataset("moons", n_samples=50), model="mlp")
    assert prediction_kind(moons) == "decision"
    assert isinstance(predictions(moons, moons.start_vector()), DecisionMap)
    digits = la.Experiment(data=la.make_dataset("digits", n_samples=50), model="softmax")
    assert prediction_kind(digits) == "images"
    assert isinstance(predictions(digits, digits.start_vector()), DigitPredictions)


def test_mistakes_name_what_is_wrong():
    moons = la.Experiment(data=la.make_dataset("moons", n_samples=50), model="mlp")
    with pytest.raises(ConfigError, match="params"):
        decision_map(moons, np.zeros(3))
    with pytest.raises(ConfigError, match="resolution"):
        decision_map(moons, moons.start_vector(), resolution=1)
    with pytest.raises(ConfigError, match="buffers"):
        decision_map(moons, moons.start_vector(), {"no.such": np.zeros(1)})
    with pytest.raises(ConfigError, match="image data"):
        digit_predictions(moons, moons.start_vector())
    digits = la.Experiment(data=la.make_dataset("digits", n_samples=50), model="softmax")
    with pytest.raises(ConfigError, match="two input features"):
        decision_map(digits, digits.start_vector())
