"""Surfaces in blocks of rows without Ray: the resumable HDF5 store (a run killed midway resumes with the missing
blocks only; a store of another surface is refused), and HDF5 files in tomgoldstein/loss-landscape's layout,
theirs and ours."""
import functools
import os
import re
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import landscape_app as la
from landscape_app.core.distributed import compute_surface_blocks
from landscape_app.core.surface_job import block_function
from landscape_app.core.tomlio import experiment_from_dict


def small_experiment(**changes):
    kw = dict(data=la.make_dataset("linear", n_samples=30, noise=0.2, seed=3), grid=la.Grid(resolution=(23, 17)))
    kw.update(changes)
    return la.Experiment(**kw)


def counted(log, exp, plane, alpha, beta_rows, **options):
    """The real block function, leaving one line per block it computes in ``log``."""
    with open(log, "a") as f:
        f.write(f"{beta_rows[0]!r}\n")
    return block_function(exp, plane, alpha, beta_rows, **options)


def lines(path):
    return path.read_text().splitlines() if path.exists() else []


class Stop(Exception):
    pass


def test_blocks_in_this_process_equal_the_whole_surface(tmp_path):
    for exp in (small_experiment(), small_experiment(criterion="huber"),
                small_experiment(model="plane", data=la.make_dataset("plane", n_samples=20, seed=1),
                                 grid=la.Grid(resolution=(19, 11), axes=("w1", "b"), held=0.5))):
        whole = la.compute_surface(exp)
        blocks = la.compute_surface(exp, store=tmp_path / f"{exp.model}-{exp.criterion}.h5", block_rows=4)
        assert np.array_equal(blocks.loss, whole.loss)
        assert (blocks.axes, blocks.held, blocks.criterion) == (whole.axes, whole.held, whole.criterion)
        np.testing.assert_array_equal(blocks.w, whole.w)


def test_an_interrupted_run_resumes_with_the_missing_blocks_only(tmp_path):
    exp = small_experiment()
    store, log = tmp_path / "store.h5", tmp_path / "blocks.log"
    fn = functools.partial(counted, log)

    def stop_after_two(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        compute_surface_blocks(exp, block_rows=3, store=store, block_function=fn, progress=stop_after_two)
    assert len(lines(log)) == 2
    with h5py.File(store, "r") as f:
        done = f["landscape_app/blocks_done"][()]
        stored = f["train_loss"][()]
    assert done.tolist() == [True, True, False, False, False, False]
    whole = la.compute_surface(exp)
    assert np.array_equal(stored[:6], whole.loss[:6]) and np.isnan(stored[6:]).all()
    with pytest.raises(la.DataError, match="unfinished surface .2 of 6 blocks"):
        la.load_surface(store)

    log.unlink()
    seen = []
    resumed = compute_surface_blocks(exp, store=store, block_function=fn, progress=lambda d, t: seen.append(d))
    assert len(lines(log)) == 4 and seen == [3, 4, 5, 6]    # the block size comes from the store
    assert np.array_equal(resumed.loss, whole.loss)
    # Finished: the store is a surface file, and computing again computes nothing.
    assert np.array_equal(la.load_surface(store).loss, whole.loss)
    log.unlink()
    assert np.array_equal(compute_surface_blocks(exp, store=store, block_function=fn).loss, whole.loss)
    assert lines(log) == []


def test_a_failing_block_keeps_what_was_stored(tmp_path):
    exp = small_experiment()
    store = tmp_path / "store.h5"
    y = exp.grid_axes_values()[1]

    def fails_at_block_3(exp, plane, alpha, beta_rows, **options):
        if beta_rows[0] == y[9]:
            raise Stop("no")
        return block_function(exp, plane, alpha, beta_rows, **options)

    with pytest.raises(Stop):
        compute_surface_blocks(exp, block_rows=3, store=store, block_function=fails_at_block_3)
    with h5py.File(store, "r") as f:
        assert f["landscape_app/blocks_done"][()].tolist() == [True, True, True, False, False, False]
    assert np.array_equal(la.compute_surface(exp, store=store).loss, la.compute_surface(exp).loss)


KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    import landscape_app as la
    exp = la.load_experiment(sys.argv[1])

    def kill_after_three(done, total):
        if done == 3:
            os.kill(os.getpid(), signal.SIGKILL)

    la.compute_surface(exp, store=sys.argv[2], block_rows=2, progress=kill_after_three)
""")


def test_a_killed_process_leaves_a_store_that_resumes(tmp_path):
    exp = small_experiment(model="logistic", criterion="bce", data=la.make_dataset("logistic", n_samples=40, seed=2))
    la.save(exp, tmp_path / "exp.toml")
    store = tmp_path / "store.h5"
    run = subprocess.run([sys.executable, "-c", KILLED_RUN, str(tmp_path / "exp.toml"), str(store)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == -9, run.stderr
    with h5py.File(store, "r") as f:
        assert int(f["landscape_app/blocks_done"][()].sum()) == 3
    log = tmp_path / "blocks.log"
    resumed = compute_surface_blocks(exp, store=store, block_function=functools.partial(counted, log))
    assert len(lines(log)) == 9 - 3
    # The same blocks as an uninterrupted blocked run (the sigmoid kernel's sums depend on the rows it is given).
    assert np.array_equal(resumed.loss, la.compute_surface(exp, store=tmp_path / "whole.h5", block_rows=2).loss)
    assert not [p for p in os.listdir(tmp_path) if ".partial" in p]


def test_a_store_of_another_surface_is_refused(tmp_path):
    exp = small_experiment()
    store = tmp_path / "store.h5"
    la.compute_surface(exp, store=store, block_rows=4)
    before = store.read_bytes()
    x, y = exp.grid_axes_values()
    refusals = [
        (dict(), small_experiment(criterion="l1"), "the experiment's criterion differs"),
        (dict(), small_experiment(data=la.make_dataset("linear", n_samples=31, seed=3)), "the experiment's data"),
        (dict(w=x * 2), exp, "the w axis differs"),
        (dict(b=y[:-1]), exp, "the b axis differs"),
        (dict(block_rows=5), exp, "the block size .4 rows. differs"),
        (dict(batch=[0, 1, 2]), exp, "the options"),
    ]
    for kw, other, reason in refusals:
        with pytest.raises(la.ConfigError, match=f"store: .*store.h5 holds the blocks of another surface \\({reason}"):
            la.compute_surface(other, store=store, **kw)
    assert store.read_bytes() == before
    # Training settings do not change the surface: the store serves an experiment that differs only in them.
    trained_otherwise = exp.replace(optimizer="adam", lr=0.5, epochs=3, batch_size=5)
    assert np.array_equal(la.compute_surface(trained_otherwise, store=store).loss, la.compute_surface(exp).loss)
    finished = tmp_path / "finished.h5"
    la.save_surface(finished, la.compute_surface(exp), exp)
    with pytest.raises(la.ConfigError, match="not a landscape-app surface store"):
        la.compute_surface(exp, store=finished)


def test_bad_engine_settings_are_refused_before_any_work(tmp_path):
    exp = small_experiment()
    for kw, message in [(dict(engine="mpi"), "engine: must be one of local, ray"),
                        (dict(engine="ray", workers=0), "workers: must be a whole number >= 1"),
                        (dict(store=tmp_path / "s.h5", block_rows=0), "block_rows: must be a whole number"),
                        (dict(store=tmp_path / "s.txt"), "ends in .h5 or .hdf5"),
                        (dict(address="auto"), "address: a cluster address needs engine='ray'")]:
        with pytest.raises(la.ConfigError, match=message):
            la.compute_surface(exp, **kw)
    with pytest.raises(TypeError, match="unexpected keyword argument 'wokers'"):
        la.compute_surface(exp, engine="ray", wokers=2)
    assert os.listdir(tmp_path) == []


def test_without_ray_the_engine_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)     # import ray raises ImportError
    with pytest.raises(la.ConfigError, match=r"needs Ray.*pip install 'landscape-app\[distributed\]'"):
        la.compute_surface(small_experiment(), engine="ray", workers=2, store=tmp_path / "s.h5")
    assert not (tmp_path / "s.h5").exists()


# -- the file format ---------------------------------------------------------------------------------------------

def test_our_hdf5_file_reads_back_and_plots_as_loss_landscape_plots(tmp_path):
    exp = small_experiment(model="plane", data=la.make_dataset("plane", n_samples=20, seed=1),
                           grid=la.Grid(resolution=(19, 11), axes=("w1", "b"), held=0.5))
    surface = la.compute_surface(exp)
    path = tmp_path / "surface.h5"
    la.save_surface(path, surface, exp)
    back = la.load_surface(path)
    assert np.array_equal(back.loss, surface.loss) and np.array_equal(back.w, surface.w)
    assert (back.axes, back.held, back.criterion, back.batch) == (("w1", "b"), {"w2": 0.5}, "mse", None)
    from landscape_app.core.surface_h5 import read_surface_file
    read = read_surface_file(path)
    assert read.origin == "landscape-app" and experiment_from_dict(_toml(read.experiment)) == exp
    # plot_2D.plot_2d_contour: X, Y = np.meshgrid(x, y); contour(X, Y, Z) with Z = f['train_loss'][:]
    with h5py.File(path, "r") as f:
        x, y, z = f["xcoordinates"][:], f["ycoordinates"][:], f["train_loss"][:]
    X, Y = np.meshgrid(x, y)
    assert z.shape == X.shape
    i, j = 7, 3
    point = {"w1": X[i, j], "w2": 0.5, "b": Y[i, j]}
    assert z[i, j] == pytest.approx(la.loss_at(exp, [point[n] for n in exp.param_names]), rel=1e-12)


def test_our_npz_reads_into_a_surface(tmp_path):
    from landscape_app.export.data import save_surface as save_with_session
    exp = small_experiment(criterion="huber")
    surface = la.compute_surface(exp, batch=[1, 4, 9])
    save_with_session(tmp_path / "s.npz", la.Session((exp,)), surface)
    back = la.load_surface(tmp_path / "s.npz")
    assert np.array_equal(back.loss, surface.loss) and back.batch.tolist() == [1, 4, 9]
    assert (back.axes, back.criterion) == (("w", "b"), "huber")


def _toml(text):
    import tomllib
    return tomllib.loads(text)


def test_a_file_written_as_loss_landscape_writes_it_reads_into_a_surface(tmp_path):
    """plot_surface.py's setup_surface_file and crunch, step by step, on a grid that is not square."""
    path = tmp_path / "model_300.t7_weights.h5_[-1.0,1.0,5]x[-0.5,0.5,3].h5"
    f = h5py.File(path, "a")
    f["dir_file"] = "model_300.t7_weights.h5"
    xcoordinates = np.linspace(-1.0, 1.0, num=5)
    f["xcoordinates"] = xcoordinates
    ycoordinates = np.linspace(-0.5, 0.5, num=3)
    f["ycoordinates"] = ycoordinates
    f.close()

    def loss_and_acc(x, y):
        return 1.0 + x ** 2 + 3 * y, 90.0 - 10 * abs(x)

    f = h5py.File(path, "r+")
    shape = (len(xcoordinates), len(ycoordinates))
    losses, accuracies = -np.ones(shape=shape), -np.ones(shape=shape)
    f["train_loss"], f["train_acc"] = losses, accuracies
    inds = np.array(range(losses.size))[losses.ravel() <= 0]
    xcoord_mesh, ycoord_mesh = np.meshgrid(xcoordinates, ycoordinates)
    coords = np.c_[xcoord_mesh.ravel()[inds], ycoord_mesh.ravel()[inds]]
    for count, ind in enumerate(inds[:-2]):                      # the last two not computed yet
        losses.ravel()[ind], accuracies.ravel()[ind] = loss_and_acc(*coords[count])
        f["train_loss"][:] = losses
        f["train_acc"][:] = accuracies
        f.flush()
    f.close()

    surface = la.load_surface(path)
    assert surface.loss.shape == (3, 5) and surface.axes == ("x", "y")
    np.testing.assert_array_equal(surface.w, xcoordinates)
    np.testing.assert_array_equal(surface.b, ycoordinates)
    expected = np.array([[loss_and_acc(x, y)[0] for x in xcoordinates] for y in ycoordinates])
    expected[-1, -2:] = np.nan
    np.testing.assert_array_equal(surface.loss, expected)
    acc = la.load_surface(path, metric="accuracy").loss
    assert acc[0, 0] == pytest.approx(0.8) and acc[1, 2] == pytest.approx(0.9) and np.isnan(acc[-1, -1])


def test_unreadable_surface_files_are_refused_by_name(tmp_path):
    one_d = tmp_path / "1d.h5"
    with h5py.File(one_d, "w") as f:
        f["xcoordinates"] = np.linspace(-1, 1, 5)
        f["train_loss"] = np.ones(5)
    not_h5 = tmp_path / "text.h5"
    not_h5.write_text("hello")
    for path, message in [(one_d, "a 1-D surface"), (not_h5, "not a readable HDF5 file"),
                          (tmp_path / "none.h5", "no such file")]:
        with pytest.raises(la.DataError, match=message):
            la.load_surface(path)


# -- the command line ------------------------------------------------------------------------------------------

def test_the_cli_writes_hdf5_through_a_store_and_resumes_after_ctrl_c(tmp_path, monkeypatch, capsys):
    from landscape_app import commands
    from landscape_app.export.data import load_surface as load_with_session
    from landscape_app.export.progress import ProgressBar
    exp = small_experiment()
    la.save(la.Session((exp,), title="blocks"), tmp_path / "s.toml")
    out, store = tmp_path / "surface.h5", tmp_path / "store.h5"
    argv = ["surface", str(tmp_path / "s.toml"), "-o", str(out), "--store", str(store), "--block-rows", "3"]
    update = ProgressBar.update

    def ctrl_c_at_block_2(self, done, total):
        update(self, done, total)
        if done == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(ProgressBar, "update", ctrl_c_at_block_2)
    assert commands.main(argv) == commands.EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (f"landscape-app surface: interrupted; the finished blocks are kept in "
                                            f"{store}; the same command resumes")
    assert not out.exists()
    with h5py.File(store, "r") as f:
        assert f["landscape_app/blocks_done"][()].tolist() == [True, True, False, False, False, False]
    monkeypatch.setattr(ProgressBar, "update", update)
    assert commands.main(argv) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}: 23x17 grid over (w, b)")
    whole = la.compute_surface(exp)
    session, surface = load_with_session(out)
    assert session.title == "blocks" and np.array_equal(surface.loss, whole.loss)
    assert np.array_equal(la.load_surface(out).loss, whole.loss)


def test_the_cli_refuses_engine_mistakes_in_one_line(tmp_path, capsys):
    from landscape_app import commands
    la.save(small_experiment(), tmp_path / "s.toml")
    for extra, message in [(["--workers", "2"], "--workers: needs --engine ray"),
                           (["--store", str(tmp_path / "store.txt")], "--store: .*ends in .h5 or .hdf5"),
                           (["--engine", "mpi"], "argument --engine: invalid choice: 'mpi'")]:
        assert commands.main(["surface", str(tmp_path / "s.toml"), "-o", str(tmp_path / "s.h5"), *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        assert re.search(message, err), err
    assert sorted(os.listdir(tmp_path)) == ["s.toml"]


def test_a_plane_is_stored_as_its_arrays_and_a_store_knows_its_plane(tmp_path):
    from landscape_app.core.surface_h5 import read_surface_file
    exp = small_experiment()
    plane = la.Plane.through([-15.0, -10.0], [5.0, -8.0], [-12.0, 6.0])
    span = dict(alpha=np.linspace(-0.5, 1.5, 13), beta=np.linspace(-0.5, 1.5, 9))
    surface = la.compute_surface(exp, plane=plane, **span)
    la.save_surface(tmp_path / "plane.h5", surface, exp)
    read = read_surface_file(tmp_path / "plane.h5")
    back = read.loss.plane
    assert isinstance(back, la.Plane) and (back.labels, back.kind) == (plane.labels, plane.kind)
    assert all(np.array_equal(getattr(back, n), getattr(plane, n)) for n in ("origin", "d1", "d2"))
    assert np.array_equal(read.loss.loss, surface.loss) and read.loss.axes == plane.labels
    # In blocks, into a store: the same surface; the store then refuses another plane and the (w, b) grid.
    store = tmp_path / "store.h5"
    blocks = la.compute_surface(exp, plane=plane, store=store, block_rows=2, **span)
    assert np.array_equal(blocks.loss, surface.loss) and blocks.plane is plane
    other = la.Plane.through([-15.0, -10.0], [5.0, -8.0], [-12.0, 7.0])
    with pytest.raises(la.ConfigError, match=r"another surface \(the plane differs\)"):
        la.compute_surface(exp, plane=other, store=store, **span)
    with pytest.raises(la.ConfigError, match=r"another surface \(the (plane|w axis) differs\)"):
        la.compute_surface(exp, w=span["alpha"], b=span["beta"], store=store)


def network_on_a_plane():
    exp = la.Experiment(model="mlp", data=la.make_dataset("moons", n_samples=90, seed=0),
                        model_options={"hidden": (8,)})
    p0 = exp.start_vector()
    rng = np.random.default_rng(0)
    plane = la.Plane.through(p0, p0 + rng.normal(size=p0.size), p0 + rng.normal(size=p0.size))
    return exp, plane


def test_a_network_accuracy_surface_resumes_exactly_and_reads_back(tmp_path):
    exp, plane = network_on_a_plane()
    grid = dict(plane=plane, span=1.5, resolution=(13, 10), metric="accuracy")
    whole = la.compute_surface(exp, **grid)
    store = tmp_path / "store.h5"

    def stop_after_two(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        la.compute_surface(exp, store=store, block_rows=3, progress=stop_after_two, **grid)
    resumed = la.compute_surface(exp, store=store, **grid)
    assert np.array_equal(resumed.loss, whole.loss) and resumed.metric == "accuracy"
    back = la.load_surface(store, metric="accuracy")
    assert np.array_equal(back.loss, whole.loss) and back.plane.labels == plane.labels
    with h5py.File(store, "r") as f:                    # loss-landscape's unit: percent
        np.testing.assert_allclose(f["train_acc"][()], 100 * whole.loss, rtol=1e-15)
    with pytest.raises(la.DataError, match="no loss surface"):
        la.load_surface(store)
