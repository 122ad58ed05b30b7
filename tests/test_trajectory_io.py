"""Trajectory files: exact CSV and JSON round trips, the experiment stored beside the path, bad files named."""
import json

import numpy as np
import pytest

import landscape_app as la
from landscape_app.core.trajectory import Trajectory, load_json


@pytest.fixture(scope="module")
def shuffled():
    exp = la.Experiment(data=la.make_dataset("linear", n_samples=23, noise=0.7, seed=2), optimizer="adam",
                        lr=0.37, batch_size=5, shuffle=True, epochs=4, seed=9, start=(-0.1, 1 / 3))
    return exp, la.run(exp)


@pytest.fixture(scope="module")
def diverged():
    exp = la.Experiment(data=la.make_dataset("plane", n_samples=20, seed=1), model="plane", lr=3.0, epochs=100)
    return exp, la.run(exp)


def test_csv_round_trip_is_exact(tmp_path, shuffled, diverged):
    for _, trajectory in (shuffled, diverged):
        path = tmp_path / "path.csv"
        trajectory.to_csv(path)
        back = Trajectory.from_csv(path)
        assert back.equals(trajectory)
        # Exact floats, not close ones; NaN at iteration 0 survives.
        assert back.params.tobytes() == trajectory.params.tobytes()
        assert np.isnan(back.batch_loss[0]) and np.isnan(back.lr[0])
    assert diverged[1].outcome == "diverged" and back.outcome == "diverged"
    assert back.message == diverged[1].message and back.param_names == ("w1", "w2", "b")


def test_csv_layout(tmp_path, shuffled):
    _, trajectory = shuffled
    path = tmp_path / "path.csv"
    trajectory.to_csv(path)
    lines = path.read_text().splitlines()
    assert lines[0] == "# outcome: finished"
    assert lines[2] == "iteration,epoch,w,b,batch_loss,loss,lr,batch"
    first, second = lines[3].split(","), lines[4].split(",")
    assert first[:2] == ["0", "0"] and first[4] == "nan" and first[-1] == ""
    assert float(second[2]) == trajectory.params[1, 0]
    assert [int(v) for v in second[-1].split(" ")] == trajectory.batches[1].tolist()
    assert len(lines) == 3 + len(trajectory)


def test_csv_leaves_a_full_batchs_indices_out(tmp_path, diverged):
    _, trajectory = diverged                  # every update on the full batch of 20 samples
    path = tmp_path / "path.csv"
    trajectory.to_csv(path)
    lines = path.read_text().splitlines()
    assert lines[2] == "# full batch: 20 samples, left out of the batch column (empty after iteration 0)"
    rows = [line for line in lines if not line.startswith("#")][1:]
    assert len(rows) == len(trajectory) and all(row.endswith(",") for row in rows)
    back = Trajectory.from_csv(path)
    assert back.equals(trajectory)
    assert back.batches[0].size == 0 and back.batches[1].tolist() == list(range(20))


def test_json_round_trip_with_experiment(tmp_path, shuffled):
    exp, trajectory = shuffled
    path = tmp_path / "path.json"
    trajectory.to_json(path, experiment=exp)
    table = json.loads(path.read_text())      # strict JSON: NaN written as null
    assert table["batch_loss"][0] is None and "NaN" not in path.read_text()
    assert table["experiment"]["optimizer"] == "adam"
    back, back_exp = load_json(path)
    assert back.equals(trajectory)
    assert back_exp == exp
    assert la.run(back_exp).equals(trajectory)        # the file alone reproduces the path
    assert Trajectory.from_json(path).equals(trajectory)
    trajectory.to_json(path)
    assert load_json(path)[1] is None


def test_json_keeps_infinities_and_csv_data_paths(tmp_path):
    csv_path = tmp_path / "data" / "points.csv"
    csv_path.parent.mkdir()
    csv_path.write_text("x,y\n0,1\n1,3\n2,5.5\n")
    exp = la.Experiment(data=la.dataset_from_csv(csv_path), epochs=2)
    trajectory = la.run(exp)
    odd = Trajectory(trajectory.param_names, trajectory.iteration, trajectory.epoch, trajectory.params,
                     trajectory.batch_loss, np.array([np.inf, -np.inf, 1.5]), trajectory.lr, trajectory.batches,
                     "stopped", 'said "stop"\nthen, stopped')
    out = tmp_path / "runs" / "odd.json"
    out.parent.mkdir()
    odd.to_json(out, experiment=exp)
    table = json.loads(out.read_text())
    assert table["experiment"]["data"] == {"kind": "csv", "path": "../data/points.csv"}
    back, back_exp = load_json(out)
    assert back.equals(odd) and back_exp.data == exp.data
    odd.to_csv(tmp_path / "odd.csv")
    assert Trajectory.from_csv(tmp_path / "odd.csv").equals(odd)


def test_csv_without_batch_column_or_comments(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("iteration,epoch,w,b,batch_loss,loss,lr\n0,0,1.0,2.0,nan,3.5,nan\n1,1,0.5,1.5,3.5,2.0,0.1\n")
    t = Trajectory.from_csv(path)
    assert t.outcome == "finished" and t.batches == () and t.params.tolist() == [[1.0, 2.0], [0.5, 1.5]]


@pytest.mark.parametrize("text, where", [
    ("", "line 1: no header row"),
    ("# outcome: exploded\n", "line 1: outcome must be one of"),
    ("iteration,epoch,batch_loss,loss,lr,batch\n", "line 1: the header must be"),
    ("step,epoch,w,b,batch_loss,loss,lr,batch\n", "line 1: the header must be"),
    ("iteration,epoch,w,b,batch_loss,loss,lr,batch\n", "no steps after the header"),
    ("# outcome: finished\niteration,epoch,w,b,batch_loss,loss,lr,batch\n0,0,1,2,nan,3,nan\n",
     "line 3: 7 columns; the header has 8"),
    ("iteration,epoch,w,b,batch_loss,loss,lr,batch\n0,0,1,2,nan,3,nan,\n1.5,1,1,2,3,3,0.1,0\n",
     "line 3, column 1 (iteration): '1.5' is not a whole number"),
    ("iteration,epoch,w,b,batch_loss,loss,lr,batch\n0,0,1,2,nan,3,nan,\n\n1,1,abc,2,3,3,0.1,0\n",
     "line 4, column 3 (w): 'abc' is not a number"),
    ("iteration,epoch,w,b,batch_loss,loss,lr,batch\n0,0,1,2,nan,3,nan,\n1,1,1,2,3,3,0.1,0 x\n",
     "line 3, column 8 (batch): '0 x' is not a list"),
])
def test_bad_csv_names_file_and_line(tmp_path, text, where):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(la.DataError, match="bad.csv") as err:
        Trajectory.from_csv(path)
    assert where in str(err.value)


def test_missing_files(tmp_path):
    for reader in (Trajectory.from_csv, Trajectory.from_json):
        with pytest.raises(la.DataError, match="nope.*no such file"):
            reader(tmp_path / "nope")


@pytest.mark.parametrize("text, message", [
    ('{"format": "landscape-app trajectory",\n "param_names": [}', "line 2, column 18: not valid JSON"),
    ('[1, 2]', "not a landscape-app trajectory"),
    ('{"format": "landscape-app trajectory", "param_names": ["w", "b"]}', "missing 'iteration'"),
    ('{"format": "landscape-app trajectory", "param_names": ["w", "b"], "iteration": [0, 1], "epoch": [0],'
     ' "params": [[1, 2]], "batch_loss": [null], "loss": [1], "lr": [null]}', "'epoch' has 1 entries"),
    ('{"format": "landscape-app trajectory", "param_names": ["w", "b"], "iteration": [0], "epoch": [0],'
     ' "params": [[1]], "batch_loss": [null], "loss": [1], "lr": [null]}', "every row of 'params' must hold 2"),
    ('{"format": "landscape-app trajectory", "param_names": ["w", "b"], "iteration": [0], "epoch": [0],'
     ' "params": [[1, "x"]], "batch_loss": [null], "loss": [1], "lr": [null]}', "'params' holds 'x'"),
    ('{"format": "landscape-app trajectory", "param_names": ["w", "b"], "iteration": [0], "epoch": [0],'
     ' "params": [[1, 2]], "batch_loss": [null], "loss": [1], "lr": [null], "outcome": "won"}',
     "'outcome' must be one of"),
])
def test_bad_json_names_file_and_problem(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(la.DataError, match="bad.json") as err:
        Trajectory.from_json(path)
    assert message in str(err.value)


def test_json_with_a_bad_experiment_names_the_field(tmp_path, shuffled):
    exp, trajectory = shuffled
    path = tmp_path / "t.json"
    trajectory.to_json(path, experiment=exp)
    table = json.loads(path.read_text())
    table["experiment"]["lr"] = -1.0
    path.write_text(json.dumps(table))
    with pytest.raises(la.ConfigError) as err:
        load_json(path)
    assert err.value.field == "experiment.lr"


@pytest.mark.parametrize("chunks", [[1, 2, 3], [300], [5, 700, 1, 9]])
def test_builder_extend_equals_step_by_step_append(chunks):
    """The GUI receives steps in batches; extending by a batch (across buffer growth) equals appending each."""
    from landscape_app.core.trajectory import TrajectoryBuilder
    steps = list(la.core.training.train(la.Experiment(epochs=400, batch_size=7, shuffle=True)))
    one, many = TrajectoryBuilder(("w", "b")), TrajectoryBuilder(("w", "b"))
    start = 0
    for size in chunks:
        part = steps[start: start + size]
        for step in part:
            one.append(step)
        many.extend(part)
        start += size
    a, b = one.trajectory(), many.trajectory()
    assert len(b) == start
    for name in ("iteration", "epoch", "params", "batch_loss", "loss", "lr"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    assert all(np.array_equal(x, y) for x, y in zip(a.batches, b.batches))
