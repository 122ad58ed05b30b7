"""Classification datasets: Playground's four 2-D sets and the 8x8 digits, their labels, seeds, knobs and TOML."""
import socket
import sys

import numpy as np
import pytest
import tomli_w
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits, make_moons

import landscape_app as la
from landscape_app.core.data import check_class_labels
from landscape_app.core.tomlio import data_from_dict, data_to_dict

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

PLANE_SETS = ["moons", "circles", "xor", "spirals"]


@pytest.mark.parametrize("name", PLANE_SETS)
def test_2d_sets_are_binary_float32_with_two_inputs(name):
    d = la.make_dataset(name)
    assert d.x.shape == (1000, 2) and d.y.shape == (1000, 1)
    assert d.x.dtype == d.y.dtype == torch.float32
    assert set(torch.unique(d.y).tolist()) == {0.0, 1.0}
    assert d.n_classes == 2 and d.image_shape is None
    # One output and BCE-with-logits, as with the logistic data.
    logits = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))(d.x)
    assert torch.isfinite(F.binary_cross_entropy_with_logits(logits, d.y))


def test_moons_default_is_the_benchmark_data():
    x, y = make_moons(1000, noise=0.1, random_state=0)
    d = la.make_dataset("moons", seed=0)
    assert torch.equal(d.x, torch.from_numpy(x).float()) and torch.equal(d.y[:, 0], torch.from_numpy(y).float())


@pytest.mark.parametrize("factor", [0.3, 0.5, 0.9])
def test_circles_without_noise_lie_on_two_circles(factor):
    x, y = la.make_dataset("circles", n_samples=200, noise=0.0, factor=factor, seed=2).numpy()
    radius = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-5)       # outer circle: class 0
    np.testing.assert_allclose(radius[y == 1], factor, atol=1e-5)    # inner circle: class 1
    assert np.sum(y == 1) == 100


def test_xor_labels_by_quadrant_and_noise_flips_only_near_the_axes():
    x, y = la.make_dataset("xor", n_samples=2000, noise=0.0, seed=5).numpy()
    assert np.all(np.abs(x) >= 0.3 - 1e-6) and np.all(np.abs(x) <= 5.3 + 1e-6)   # Playground's padding
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] >= 0).astype(float))
    # Noise moves where the label is read, by up to 5 * noise in each coordinate, not the points.
    xn, yn = la.make_dataset("xor", n_samples=2000, noise=0.5, seed=5).numpy()
    np.testing.assert_array_equal(xn, x)
    flipped = yn != y
    assert 0 < flipped.sum() < 1000
    assert np.all(np.min(np.abs(x[flipped]), axis=1) < 2.5)


def test_spirals_are_two_interleaved_arms():
    x, y = la.make_dataset("spirals", n_samples=501, noise=0.0, seed=1).numpy()
    assert np.sum(y == 1) == 251 and np.sum(y == 0) == 250
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.max() < 5.0
    # Each arm winds 1.75 turns out to radius 5; class 0's arm is class 1's turned by pi.
    t = 1.75 * 2 * np.pi * r / 5.0 + np.where(y == 1, 0.0, np.pi)
    np.testing.assert_allclose(x[:, 0], r * np.sin(t), atol=1e-4)
    np.testing.assert_allclose(x[:, 1], r * np.cos(t), atol=1e-4)
    # Shuffled like Playground's data: a mini-batch holds both classes.
    assert 0 < y[:20].sum() < 20
    # Noise adds uniform(-noise, noise) to each coordinate of the same points.
    xn, yn = la.make_dataset("spirals", n_samples=501, noise=0.2, seed=1).numpy()
    np.testing.assert_array_equal(yn, y)
    shift = np.abs(xn - x)
    assert shift.max() <= 0.2 + 1e-5 and shift.mean() > 0.05


def test_digits_all_images_scaled_to_unit_range():
    bundled = load_digits()
    d = la.make_dataset("digits")
    assert d.x.shape == (1797, 64) and d.y.shape == (1797, 1) and d.x.dtype == d.y.dtype == torch.float32
    assert d.n_features == 64 and d.n_classes == 10 and d.image_shape == (1, 8, 8)
    assert torch.equal(d.x, torch.from_numpy(bundled.data / 16).float())
    assert d.y[:, 0].long().tolist() == bundled.target.tolist()
    assert float(d.x.min()) == 0.0 and float(d.x.max()) == 1.0
    assert torch.equal(d.x[7].reshape(d.image_shape)[0], torch.from_numpy(bundled.images[7] / 16).float())
    # Class indices for cross-entropy over ten outputs.
    assert torch.isfinite(F.cross_entropy(torch.zeros(1797, 10), d.y[:, 0].long()))
    assert check_class_labels(d) == 10
    # The seed chooses a subset; with every image it changes nothing.
    assert la.make_dataset("digits", seed=7) == la.make_dataset("digits", seed=7)
    assert torch.equal(la.make_dataset("digits", seed=7).x, d.x)


def test_digits_subset_is_a_seeded_sample_in_the_bundled_order():
    full = la.make_dataset("digits").x
    d = la.make_dataset("digits", n_samples=100, seed=3)
    assert d.x.shape == (100, 64) and d.n_classes == 10
    rows = [int(torch.nonzero((full == row).all(dim=1))[0][0]) for row in d.x]
    assert rows == sorted(rows) and len(set(rows)) == 100 and rows != list(range(100))
    assert la.make_dataset("digits", n_samples=100, seed=3) == d
    assert not torch.equal(la.make_dataset("digits", n_samples=100, seed=4).x, d.x)
    assert la.make_dataset("digits", n_samples=5).n_classes == 10    # the source's classes, not the subset's


def test_digits_load_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("no network in this test")
    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert len(la.make_dataset("digits", n_samples=50)) == 50


@pytest.mark.parametrize("name, knobs, message", [
    ("moons", {"noise": -0.1}, "'noise' must be >= 0"),
    ("moons", {"factor": 0.5}, "dataset 'moons' has no knob 'factor'"),
    ("circles", {"factor": 1.0}, "factor (the inner circle's radius) must be at least 0 and less than 1, not 1.0"),
    ("circles", {"factor": -0.2}, "must be at least 0 and less than 1, not -0.2"),
    ("xor", {"n_samples": 1}, "n_samples must be between 2 and 1,000,000"),
    ("xor", {"seed": -1}, "'seed' must be between 0 and 4,294,967,295, not -1"),
    ("spirals", {"seed": 2**32}, "'seed' must be between 0 and 4,294,967,295"),
    ("spirals", {"turns": 3}, "has no knob 'turns'; its knobs are n_samples, noise, seed"),
    ("spirals", {"noise": float("inf")}, "'noise' must be finite"),
    ("digits", {"n_samples": 1798}, "n_samples must be between 2 and 1,797, not 1798"),
    ("digits", {"noise": 0.1}, "dataset 'digits' has no knob 'noise'"),
    ("digits", {"n_samples": 10.5}, "'n_samples' must be a whole number"),
])
def test_bad_knobs(name, knobs, message):
    with pytest.raises(la.DataError) as err:
        la.make_dataset(name, **knobs)
    assert message in str(err.value)


def test_seed_out_of_range_is_a_data_error_for_the_older_generators_too():
    with pytest.raises(la.DataError, match="'seed' must be between 0"):
        la.make_dataset("linear", seed=-3)


@pytest.mark.parametrize("name, knobs", [
    ("moons", {"n_samples": 300, "noise": 0.25, "seed": 11}),
    ("circles", {"n_samples": 301, "noise": 0.05, "factor": 0.3, "seed": 2}),
    ("xor", {"n_samples": 250, "noise": 0.2, "seed": 4}),
    ("spirals", {"n_samples": 400, "noise": 0.1, "seed": 9}),
    ("digits", {"n_samples": 500, "seed": 6}),
    ("digits", {}),
])
def test_toml_round_trip(name, knobs):
    d = la.make_dataset(name, **knobs)
    table = tomllib.loads(tomli_w.dumps({"data": data_to_dict(d, None)}))["data"]
    assert table["kind"] == "generator" and table["name"] == name
    back = data_from_dict(table, None, "")
    assert back == d and back.n_classes == d.n_classes and back.image_shape == d.image_shape


@pytest.mark.parametrize("name, n_classes", [("linear", None), ("linear-outliers", None), ("plane", None),
                                             ("logistic", 2)])
def test_n_classes_of_the_older_generators(name, n_classes):
    d = la.make_dataset(name)
    assert d.n_classes == n_classes and d.image_shape is None


@pytest.mark.parametrize("y, n_classes", [
    ([0, 1, 0, 1], 2), ([0, 1, 2, 1], 3), ([2, 0, 1, 3], 4),
    ([0, 0.5, 1, 1], None),     # a fraction: regression targets
    ([1, 2, 1, 2], None),       # no class 0
    ([0, 2, 0, 2], None),       # a class missing between
    ([0, 0, 0, 0], None),       # one class
    ([-1, 0, 1, 0], None),
])
def test_n_classes_of_arrays_comes_from_the_labels(y, n_classes):
    assert la.dataset_from_arrays([1.0, 2.0, 3.0, 4.0], y).n_classes == n_classes


def test_check_class_labels(tmp_path):
    assert check_class_labels(la.dataset_from_arrays([1, 2, 3], [0, 2, 1])) == 3
    assert check_class_labels(la.dataset_from_arrays([1, 2, 3], [0, 2, 2])) == 3     # largest label + 1
    assert check_class_labels(la.dataset_from_arrays([1, 2, 3], [0, 1, 1]), n_classes=5) == 5
    assert check_class_labels(la.make_dataset("moons", n_samples=20)) == 2
    with pytest.raises(la.DataError, match=r"^the data: criterion 'cross-entropy' needs class labels 0, 1, 2, "
                                           r"\.\.\. \(whole numbers\), but sample 1 has y = 0\.5$"):
        check_class_labels(la.dataset_from_arrays([1, 2, 3], [0, 0.5, 1]))
    with pytest.raises(la.DataError, match="but sample 2 has y = -1"):
        check_class_labels(la.dataset_from_arrays([1, 2, 3], [0, 1, -1]))
    with pytest.raises(la.DataError, match=r"^the data: criterion 'cross-entropy' with 2 classes needs labels 0 to 1"
                                           r", but sample 2 has y = 2$"):
        check_class_labels(la.dataset_from_arrays([1, 2, 3], [0, 1, 2]), n_classes=2)
    with pytest.raises(la.DataError, match="with 5 classes needs labels 0 to 4, but sample 0 has y = 7"):
        check_class_labels(la.dataset_from_arrays([1, 2, 3], [7, 1, 2]), n_classes=5)
    with pytest.raises(la.DataError, match="needs at least 2 classes, but every label is 0"):
        check_class_labels(la.dataset_from_arrays([1, 2, 3], [0, 0, 0]))
    with pytest.raises(la.ConfigError, match="^criterion: 'cross-entropy' needs at least 2 classes"):
        check_class_labels(la.make_dataset("moons"), n_classes=1)
    path = tmp_path / "labels.csv"
    path.write_text("x,y\n0,0\n1,1\n2,3.5\n")
    with pytest.raises(la.DataError) as err:
        check_class_labels(la.dataset_from_csv(path))
    assert str(err.value).startswith(f"{path.resolve()}: ") and "sample 2 has y = 3.5" in str(err.value)
    # Generated data is named by its generator.
    with pytest.raises(la.DataError, match="^dataset 'digits': criterion 'cross-entropy' with 5 classes"):
        check_class_labels(la.make_dataset("digits", n_samples=30, seed=1), n_classes=5)
