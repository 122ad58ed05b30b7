"""Surfaces on a local Ray cluster of two workers: the same numbers as one process, a run stopped midway that
resumes with the missing blocks only, a worker that raises or dies named by its block, and the CLI."""
import functools
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

import landscape_app as la
from landscape_app.core.distributed import compute_surface_blocks
from landscape_app.core.surface_job import block_function

ray = pytest.importorskip("ray", reason="the Ray engine's tests need Ray: pip install 'landscape-app[distributed]'")
pytestmark = pytest.mark.ray

# The block functions below run on Ray's workers, which cannot import this test module: send them by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One local Ray of two CPUs for the module (starting one costs seconds); shut down at the end."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             _temp_dir=str(tmp_path_factory.mktemp("ray")))
    yield
    ray.shutdown()


def experiment(**changes):
    kw = dict(data=la.make_dataset("linear", n_samples=40, noise=0.2, seed=5), grid=la.Grid(resolution=(31, 20)))
    kw.update(changes)
    return la.Experiment(**kw)


def counted(log, exp, plane, alpha, beta_rows, **options):
    with open(log, "a") as f:
        f.write(f"{os.getpid()} {float(beta_rows[0])!r}\n")
    return block_function(exp, plane, alpha, beta_rows, **options)


def lines(path):
    return path.read_text().splitlines() if path.exists() else []


def test_the_cli_computes_on_ray_and_writes_loss_landscapes_file(tmp_path):
    """A whole command: its own local Ray of two workers, started and shut down by the command (first in this
    module, before the module's own cluster starts)."""
    exp = experiment(grid=la.Grid(resolution=(25, 15)))
    la.save(exp, tmp_path / "exp.toml")
    out, store = tmp_path / "surface.h5", tmp_path / "store.h5"
    run = subprocess.run([sys.executable, "-m", "landscape_app", "surface", str(tmp_path / "exp.toml"), "-o",
                          str(out), "--engine", "ray", "--workers", "2", "--store", str(store), "--block-rows", "4"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"wrote {out}: 25x15 grid over (w, b)")
    whole = la.compute_surface(exp)
    assert np.array_equal(la.load_surface(out).loss, whole.loss)
    assert np.array_equal(la.load_surface(store).loss, whole.loss)


def test_two_workers_give_exactly_the_single_process_surface(cluster, tmp_path):
    for exp in (experiment(), experiment(criterion="l1"),
                experiment(model="plane", data=la.make_dataset("plane", n_samples=25, seed=2),
                           grid=la.Grid(resolution=(17, 13), axes=("w2", "b"), held=-1.0))):
        whole = la.compute_surface(exp)
        log = tmp_path / f"{exp.model}-{exp.criterion}.log"
        ours = compute_surface_blocks(exp, engine="ray", workers=2, block_rows=3,
                                      block_function=functools.partial(counted, log))
        assert np.array_equal(ours.loss, whole.loss)
        assert (ours.axes, ours.held, ours.criterion) == (whole.axes, whole.held, whole.criterion)
        blocks = lines(log)
        assert len(blocks) == -(-len(whole.b) // 3)
        assert os.getpid() not in {int(b.split()[0]) for b in blocks}     # computed on the workers
    # A network on a plane through its parameters, rebuilt on the workers from its TOML table.
    from test_distributed_store import network_on_a_plane
    exp, plane = network_on_a_plane()
    whole = la.compute_surface(exp, plane=plane, span=1.5, resolution=(13, 10))
    ours = la.compute_surface(exp, plane=plane, span=1.5, resolution=(13, 10), engine="ray", workers=2, block_rows=3)
    assert np.array_equal(ours.loss, whole.loss) and ours.plane is plane and ours.axes == plane.labels
    # The sigmoid kernel's sums depend on the rows it is given: Ray gives the same blocks as this process does.
    exp = experiment(model="logistic", criterion="bce", data=la.make_dataset("logistic", n_samples=40, seed=1))
    local = la.compute_surface(exp, store=tmp_path / "local.h5", block_rows=4)
    assert np.array_equal(la.compute_surface(exp, engine="ray", workers=2, block_rows=4).loss, local.loss)


def test_stopped_midway_and_resumed_it_computes_only_the_missing_blocks(cluster, tmp_path):
    exp = experiment()
    store = tmp_path / "store.h5"
    fn = functools.partial(counted, tmp_path / "blocks.log")

    def ctrl_c_after_three(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        compute_surface_blocks(exp, engine="ray", workers=2, block_rows=2, store=store, block_function=fn,
                               progress=ctrl_c_after_three)
    with h5py.File(store, "r") as f:
        done = f["landscape_app/blocks_done"][()]
    assert done.sum() == 3
    # A new log: a block cut off by the interrupt may still be writing to the first.
    again = tmp_path / "resumed.log"
    resumed = compute_surface_blocks(exp, engine="ray", workers=2, store=store,
                                     block_function=functools.partial(counted, again))
    recomputed = sorted(float(line.split()[1]) for line in lines(again))
    y = exp.grid_axes_values()[1]
    assert recomputed == sorted(float(y[2 * k]) for k in np.flatnonzero(~done))
    assert np.array_equal(resumed.loss, la.compute_surface(exp).loss)


def raises_at(value, exp, plane, alpha, beta_rows, **options):
    if value in beta_rows:
        raise FloatingPointError("the model overflowed")
    return block_function(exp, plane, alpha, beta_rows, **options)


def test_a_worker_that_raises_ends_the_run_naming_its_block(cluster, tmp_path):
    exp = experiment()
    y = exp.grid_axes_values()[1]
    store = tmp_path / "store.h5"
    with pytest.raises(la.ComputeError) as caught:
        compute_surface_blocks(exp, engine="ray", workers=2, block_rows=4, store=store,
                               block_function=functools.partial(raises_at, y[13]))
    assert str(caught.value) == (f"block 3 (rows 12-15 of 20, b {y[12]:g}..{y[15]:g}) failed on a worker: "
                                 f"FloatingPointError: the model overflowed")
    # Every other block is stored: the ones before it and the ones in flight alike.
    with h5py.File(store, "r") as f:
        assert f["landscape_app/blocks_done"][()].tolist() == [True, True, True, False, True]
    assert np.array_equal(la.compute_surface(exp, store=store).loss, la.compute_surface(exp).loss)


def dies_once(marker, value, exp, plane, alpha, beta_rows, **options):
    """A worker lost while it computes the block holding ``value`` (the first time only, or always)."""
    if value in beta_rows and (marker is None or not os.path.exists(marker)):
        if marker is not None:
            open(marker, "w").close()
        os._exit(1)
    return block_function(exp, plane, alpha, beta_rows, **options)


def test_a_lost_worker_is_retried_and_a_block_that_keeps_failing_is_named(cluster, tmp_path):
    exp = experiment()
    y = exp.grid_axes_values()[1]
    once = compute_surface_blocks(exp, engine="ray", workers=2, block_rows=5, max_retries=1,
                                  block_function=functools.partial(dies_once, str(tmp_path / "died"), y[7]))
    assert (tmp_path / "died").exists()
    assert np.array_equal(once.loss, la.compute_surface(exp).loss)
    store = tmp_path / "store.h5"
    with pytest.raises(la.ComputeError, match=r"^block 1 \(rows 5-9 of 20, .*\) was lost: its worker died 2 time"):
        compute_surface_blocks(exp, engine="ray", workers=2, block_rows=5, max_retries=1, store=store,
                               block_function=functools.partial(dies_once, None, y[7]))
    with h5py.File(store, "r") as f:
        assert f["landscape_app/blocks_done"][()].tolist() == [True, False, True, True]
