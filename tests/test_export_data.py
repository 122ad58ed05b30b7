"""Data files for people who plot elsewhere: runs (CSV, JSON) and surfaces (NPZ, CSV) round-trip exactly,
each with the session that made it."""
import csv
import json

import numpy as np
import pytest

import landscape_app as la
from landscape_app.core.errors import DataError, ExportError
from landscape_app.core.session import Session
from landscape_app.core.surface import compute_surface
from landscape_app.core.tomlio import session_to_dict
from landscape_app.export.data import (RUN_SUFFIXES, check_data_output, load_runs, load_surface, save_runs,
                                       save_surface)
from landscape_app.export.scene import train_session


@pytest.fixture(scope="module")
def race():
    base = la.Experiment(data=la.make_dataset("linear", n_samples=17, noise=0.4, seed=3), lr=0.05, epochs=3,
                         batch_size=4, shuffle=True, seed=5)
    session = Session((base, base.replace(optimizer="adam", lr=0.4), base.replace(lr=40.0)),
                      names=("plain", "adam, fast", 'too "large"'), title="A race", description="three runs")
    return session, train_session(session)


def same(a, b) -> bool:
    return a.equals(b) if hasattr(a, "equals") else a == b


@pytest.mark.parametrize("suffix", RUN_SUFFIXES)
def test_runs_round_trip_exactly(tmp_path, race, suffix):
    session, trajectories = race
    assert trajectories[2].outcome == "diverged"
    path = tmp_path / f"runs{suffix}"
    save_runs(path, session, trajectories)
    back_session, back = load_runs(path)
    assert session_to_dict(back_session) == session_to_dict(session)
    assert back_session.names == session.names
    assert len(back) == 3
    for a, b in zip(trajectories, back):
        assert a.equals(b), (a.outcome, b.outcome)
        assert a.params.tobytes() == b.params.tobytes()


def test_runs_csv_is_plain_for_other_tools(tmp_path, race):
    session, trajectories = race
    path = tmp_path / "runs.csv"
    save_runs(path, session, trajectories)
    rows = [r for r in csv.reader(line for line in path.read_text().splitlines() if not line.startswith("#"))]
    assert rows[0] == ["run", "iteration", "epoch", "w", "b", "batch_loss", "loss", "lr", "batch"]
    assert len(rows) - 1 == sum(len(t) for t in trajectories)
    first = rows[1]
    assert first[0] == "0" and first[1] == "0" and float(first[3]) == trajectories[0].params[0, 0]
    # numpy reads the numbers directly: comments skipped, then the header row.
    table = np.loadtxt([line for line in path.read_text().splitlines() if not line.startswith("#")],
                       delimiter=",", skiprows=1, usecols=range(8))
    assert table[len(trajectories[0]), 6] == trajectories[1].loss[0]


def test_runs_csv_leaves_full_batches_out(tmp_path):
    data = la.make_dataset("linear", n_samples=300, noise=0.4, seed=1)
    full = la.Experiment(data=data, epochs=4)
    session = Session((full, full.replace(batch_size=100, shuffle=True)), names=("full", "mini"))
    trajectories = train_session(session)
    path = tmp_path / "runs.csv"
    save_runs(path, session, trajectories)
    text = path.read_text()
    assert "# full batch: 300 samples, left out of the batch column (empty after iteration 0)\n" in text
    rows = list(csv.reader(line for line in text.splitlines() if not line.startswith("#")))[1:]
    cells = {(r[0], r[1]): r[-1] for r in rows}
    assert all(cells[("0", str(i))] == "" for i in range(5))                 # the full batch: no indices
    assert [len(cells[("1", str(i))].split()) for i in range(1, 13)] == [100] * 12
    assert cells[("1", "0")] == ""                                           # a start point has no batch
    _, back = load_runs(path)
    assert all(a.equals(b) for a, b in zip(trajectories, back))
    assert back[0].batches[2].tolist() == list(range(300))


def test_runs_json_layout(tmp_path, race):
    session, trajectories = race
    path = tmp_path / "runs.json"
    save_runs(path, session, trajectories)
    table = json.loads(path.read_text())
    assert table["format"] == "landscape-app runs"
    assert [r["name"] for r in table["runs"]] == list(session.names)
    assert table["runs"][2]["trajectory"]["outcome"] == "diverged"
    assert table["session"]["title"] == "A race"


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_surface_round_trips_with_its_session(tmp_path, race, suffix):
    session, _ = race
    exp = session.experiment.replace(grid=la.Grid(resolution=(7, 5)))
    session = session.replace(runs=tuple(r.replace(grid=exp.grid) for r in session.runs))
    surface = compute_surface(exp)
    path = tmp_path / f"surface{suffix}"
    save_surface(path, session, surface)
    back_session, back = load_surface(path)
    assert session_to_dict(back_session) == session_to_dict(session)
    assert np.array_equal(back.w, surface.w) and np.array_equal(back.b, surface.b)
    assert back.loss.shape == (5, 7)
    assert np.array_equal(back.loss, surface.loss)
    assert tuple(back.axes) == tuple(surface.axes) and back.criterion == surface.criterion


def test_surface_npz_names_the_axes(tmp_path, race):
    session, _ = race
    surface = compute_surface(session.experiment)
    path = tmp_path / "s.npz"
    save_surface(path, session, surface)
    with np.load(path) as z:
        assert np.array_equal(z["w"], surface.w) and np.array_equal(z["b"], surface.b)
        assert z["loss"].shape == (len(surface.b), len(surface.w))
        assert "[experiment]" in str(z["session"])


def test_plane_slice_keeps_its_held_value(tmp_path):
    exp = la.Experiment(data=la.make_dataset("plane", n_samples=12, seed=1), model="plane",
                        grid=la.Grid(resolution=(4, 6), axes=("w1", "b")))
    surface = compute_surface(exp, held={"w2": 0.75})
    for suffix in (".npz", ".csv"):
        path = tmp_path / f"plane{suffix}"
        save_surface(path, Session((exp,)), surface)
        _, back = load_surface(path)
        assert back.held == {"w2": 0.75} and tuple(back.axes) == ("w1", "b")
        assert np.array_equal(back.loss, surface.loss)


def test_refusals_before_work(tmp_path):
    with pytest.raises(ExportError, match=r"\.csv or \.json"):
        check_data_output(tmp_path / "x.txt", RUN_SUFFIXES, "runs")
    with pytest.raises(ExportError, match="does not exist"):
        check_data_output(tmp_path / "no" / "x.csv", RUN_SUFFIXES, "runs")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(ExportError, match="folder"):
        check_data_output(tmp_path / "d.csv", RUN_SUFFIXES, "runs")


def test_bad_files_are_data_errors(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="x.csv"):
        load_runs(path)
    with pytest.raises(DataError, match="x.csv"):
        load_surface(path)
    with pytest.raises(DataError, match="no such file"):
        load_runs(tmp_path / "missing.json")
