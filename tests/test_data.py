"""Datasets: generators, arrays and CSV files, and every DataError naming the problem and where it is."""
import os

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import landscape_app as la
from landscape_app.core import data as data_module
from landscape_app.core.data import GENERATORS


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_seeded_and_reproducible(name):
    a = la.make_dataset(name, n_samples=40, seed=3)
    b = la.make_dataset(name, n_samples=40, seed=3)
    c = la.make_dataset(name, n_samples=40, seed=4)
    assert a == b and torch.equal(a.y, b.y)
    assert not torch.equal(a.y, c.y)
    n_features = GENERATORS[name][0]
    assert a.x.shape == (40, n_features) and a.y.shape == (40, 1)
    assert a.x.dtype == a.y.dtype == torch.float32
    assert len(a) == 40 and a.n_features == n_features
    x, y = a[5]                       # the course's MyDS shape, usable with a plain DataLoader
    assert torch.equal(x, a.x[5]) and torch.equal(y, a.y[5])
    xb, yb = next(iter(DataLoader(a, batch_size=8)))
    assert torch.equal(xb, a.x[:8]) and torch.equal(yb, a.y[:8])


def test_generator_knobs_shape_the_data():
    d = la.make_dataset("linear", n_samples=200, noise=0.0, slope=-2.0, intercept=3.0, x_min=-1, x_max=4)
    x, y = d.numpy()
    np.testing.assert_allclose(y, -2.0 * x[:, 0] + 3.0, atol=1e-5)
    assert x.min() == -1 and x.max() == 4
    noisy = la.make_dataset("linear", n_samples=200, noise=1.0, seed=1).numpy()
    assert 0.7 < np.std(noisy[1] - noisy[0][:, 0]) < 1.3

    out = la.make_dataset("linear-outliers", n_samples=100, noise=0.0, outlier_fraction=0.2, outlier_scale=8.0)
    x, y = out.numpy()
    residual = np.abs(y - x[:, 0])
    assert np.sum(residual > 4) == 20 and np.all((residual < 1e-5) | (np.abs(residual - 8) < 1e-5))

    clean = la.make_dataset("logistic", n_samples=100, overlap=0.0, threshold=0.5)
    x, y = clean.numpy()
    assert set(np.unique(y)) == {0.0, 1.0}
    np.testing.assert_array_equal(y, (x[:, 0] > 0.5).astype(float))
    mixed = la.make_dataset("logistic", n_samples=100, overlap=2.0, seed=0).numpy()
    assert np.any(mixed[1] != (mixed[0][:, 0] > 0))        # overlap mixes the classes near the threshold

    plane = la.make_dataset("plane", n_samples=100, noise=0.0, slope1=2.0, slope2=-3.0, intercept=1.0)
    x, y = plane.numpy()
    np.testing.assert_allclose(y, 2 * x[:, 0] - 3 * x[:, 1] + 1, atol=1e-5)


@pytest.mark.parametrize("name, knobs, message", [
    ("spiral", {}, "unknown dataset generator 'spiral'"),
    ("linear", {"slopes": 2}, "has no knob 'slopes'"),
    ("linear", {"noise": "a lot"}, "'noise' must be a number"),
    ("linear", {"n_samples": 2.5}, "'n_samples' must be a whole number"),
    ("linear", {"n_samples": 1}, "n_samples must be between 2"),
    ("linear", {"noise": -1.0}, "'noise' must be >= 0"),
    ("linear", {"slope": float("nan")}, "'slope' must be finite"),
    ("linear-outliers", {"outlier_fraction": 1.5}, "outlier_fraction must be between 0 and 1"),
    ("logistic", {"x_min": 3.0, "x_max": 3.0}, "x_min (3.0) must be less than x_max (3.0)"),
])
def test_bad_generator_knobs(name, knobs, message):
    with pytest.raises(la.DataError) as err:
        la.make_dataset(name, **knobs)
    assert message in str(err.value)


def test_arrays():
    d = la.dataset_from_arrays([0, 1, 2], np.array([[1.0], [3.0], [5.0]]))
    assert d.x.shape == (3, 1) and d.y[:, 0].tolist() == [1.0, 3.0, 5.0] and d.source.kind == "arrays"
    d2 = la.dataset_from_arrays(np.arange(8.0).reshape(4, 2), [1, 2, 3, 4])
    assert d2.n_features == 2
    assert la.dataset_from_arrays(torch.arange(3.0), torch.ones(3)).x.shape == (3, 1)


@pytest.mark.parametrize("x, y, message", [
    ([1, 2, 3], [1, 2], "x has 3 samples but y has 2"),
    ([[[1, 2], [3, 4]]] * 3, [1, 2, 3], "x must have shape (n,) or (n, features)"),
    ([1, 2, 3], [[1, 2]] * 3, "y must have shape (n,) or (n, 1)"),
    (["a", "b"], [1, 2], "x and y must be numeric"),
    ([1.0], [2.0], "a single sample"),
    ([], [], "no samples"),
    ([1, 2, float("nan")], [1, 2, 3], "x has a non-finite value (NaN or inf) at sample 2"),
    ([1, 2, 3], [1, float("inf"), 3], "y has a non-finite value (NaN or inf) at sample 1"),
])
def test_bad_arrays(x, y, message):
    with pytest.raises(la.DataError) as err:
        la.dataset_from_arrays(x, y)
    assert message in str(err.value)


@pytest.mark.parametrize("text, x, y", [
    ("x,y\n0,1\n1,3\n2,5\n", [[0], [1], [2]], [1, 3, 5]),
    ("0,1\n1,3\n2,5\n", [[0], [1], [2]], [1, 3, 5]),
    ("hours, score\n0.5, 1e1\n\n-1 , -2.5\n", [[0.5], [-1]], [10, -2.5]),
    ("x1,x2,y\n0,1,2\n3,4,5\n", [[0, 1], [3, 4]], [2, 5]),
    ("0,1,2\r\n3,4,5\r\n", [[0, 1], [3, 4]], [2, 5]),
    ("\ufeffx,y\n1,2\n3,4\n", [[1], [3]], [2, 4]),
])
def test_csv_with_and_without_header(tmp_path, text, x, y):
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode("utf-8"))
    d = la.dataset_from_csv(path)
    assert d.x.tolist() == x and d.y[:, 0].tolist() == y
    assert d.source.kind == "csv" and d.source.path == str(path.resolve())


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty"),
    ("\n  \n,\n", "the file is empty"),
    ("x,y\n", "the file has a header but no data rows"),
    ("x,y\n1,2\n", "a single sample"),
    ("1\n2\n", "line 1: 1 column; expected 2"),
    ("x,y\n1,2\n3,4,5\n", "line 3: 3 columns; expected 2 like the first row"),
    ("x,y\n1,2\n3,four\n", "line 3, column 2: 'four' is not a number"),
    ("1,2x\n3,4\n", "line 1, column 2: '2x' is not a number"),
    ("x1,x2,y\n1,2,3\n\n4,,6\n", "line 4, column 2: '' is not a number"),
    ("x,y\n1,2\nnan,4\n", "line 3, column 1: 'nan' is not finite"),
    ("x,y\n1,2\n3,-inf\n", "line 3, column 2: '-inf' is not finite"),
])
def test_bad_csv_names_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(la.DataError) as err:
        la.dataset_from_csv(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_unreadable_csv(tmp_path):
    with pytest.raises(la.DataError, match="no such file"):
        la.dataset_from_csv(tmp_path / "missing.csv")
    (tmp_path / "latin.csv").write_bytes(b"x,y\n1,\xe9\n")
    with pytest.raises(la.DataError, match="latin.csv: cannot read"):
        la.dataset_from_csv(tmp_path / "latin.csv")


# -- a CSV file is read row by row, never whole -------------------------------------------------------------

def test_csv_beyond_the_sample_cap_is_refused_before_the_rest_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "MAX_SAMPLES", 10)
    path = tmp_path / "many.csv"
    # Row 12 on is no data at all: a reader that read the whole file would stop there instead.
    path.write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(11)) + "not,numbers,here\n" * 5)
    with pytest.raises(la.DataError, match=r"many.csv: more than 10 samples \(data rows\); at most 10 are supported"):
        la.dataset_from_csv(path)
    path.write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(10)))
    assert len(la.dataset_from_csv(path)) == 10


def test_csv_beyond_the_cap_holds_little_memory(tmp_path, monkeypatch):
    # numpy's and Python's allocations are traced: what the reader held at its peak, not the file's size.
    import tracemalloc
    monkeypatch.setattr(data_module, "MAX_SAMPLES", 1000)
    path = tmp_path / "big.csv"
    path.write_text("x1,x2,y\n" + "0.123456789,0.987654321,1.5\n" * 200_000)        # 5.6 MB
    tracemalloc.start()
    try:
        with pytest.raises(la.DataError, match="more than 1,000 samples"):
            la.dataset_from_csv(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, peak


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_csv_from_a_device_a_pipe_or_a_folder(tmp_path):
    with pytest.raises(la.DataError, match="/dev/zero: not a regular file"):
        la.dataset_from_csv("/dev/zero")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)            # nothing writes to it: opening it would wait for ever
    with pytest.raises(la.DataError, match="pipe.csv: not a regular file"):
        la.dataset_from_csv(fifo)
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(la.DataError, match="folder.csv: is a folder"):
        la.dataset_from_csv(tmp_path / "folder.csv")


def test_csv_with_a_line_too_long(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "MAX_CSV_LINE", 100)
    path = tmp_path / "long.csv"
    path.write_text("x,y\n1,2\n" + "3," * 60 + "4\n")
    with pytest.raises(la.DataError, match="long.csv, line 3: longer than 100 characters"):
        la.dataset_from_csv(path)
    path.write_bytes(b"\0" * 500)
    with pytest.raises(la.DataError, match="long.csv, line 1: longer than 100 characters"):
        la.dataset_from_csv(path)


def test_csv_that_cannot_fit_in_memory(tmp_path, monkeypatch):
    path = tmp_path / "wide.csv"
    path.write_text("".join(",".join(["0.5"] * 50) + "\n" for _ in range(2000)))
    monkeypatch.setenv("LANDSCAPE_APP_MEMORY_LIMIT", "200K")
    with pytest.raises(la.DataError) as err:
        la.dataset_from_csv(path)
    message = str(err.value)
    # Estimated from the file's size once a row is read: about 2,000 rows of 50 values, 20 bytes each.
    assert message.startswith(f"{path} (about 2,000 rows of 50 values) needs about 2.0 MB of memory, more than the "
                              "204.8 kB available (LANDSCAPE_APP_MEMORY_LIMIT)"), message
    monkeypatch.setenv("LANDSCAPE_APP_MEMORY_LIMIT", "8M")
    assert la.dataset_from_csv(path).x.shape == (2000, 49)


def test_csv_quoted_cells_and_line_endings(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes(b'"x","y"\r\n"1","2"\r"3",4\n')
    d = la.dataset_from_csv(path)
    assert d.x[:, 0].tolist() == [1, 3] and d.y[:, 0].tolist() == [2, 4]


@pytest.mark.parametrize("criterion", ["bce", "bce-logits"])
def test_labels_outside_0_1_for_bce(tmp_path, criterion):
    path = tmp_path / "labels.csv"
    path.write_text("x,y\n0,0\n1,1\n2,2\n")
    with pytest.raises(la.DataError) as err:
        la.Experiment(data=la.dataset_from_csv(path), model="logistic", criterion=criterion)
    assert str(path.resolve()) in str(err.value) and "sample 2 has y = 2" in str(err.value)
    with pytest.raises(la.DataError, match="the data: .* sample 1 has y = 0.5"):
        la.Experiment(data=la.dataset_from_arrays([0, 1, 2], [0, 0.5, 1]), model="logistic", criterion=criterion)
    # The same data is fine for a criterion that takes any target.
    la.Experiment(data=la.dataset_from_csv(path), model="logistic", criterion="mse")


def test_networks_take_any_number_of_features(tmp_path):
    path = tmp_path / "four.csv"
    path.write_text("a,b,c,d,label\n1,2,3,4,0\n5,6,7,8,1\n0,1,0,1,1\n")
    data = la.dataset_from_csv(path)
    assert data.x.shape == (3, 4) and data.y[:, 0].tolist() == [0, 1, 1]
    assert la.Experiment(data=data, model="mlp").build_module()[0].in_features == 4
    with pytest.raises(la.ConfigError, match="needs 1 input feature"):
        la.Experiment(data=data, model="linear")
