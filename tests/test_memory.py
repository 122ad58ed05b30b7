"""Memory is estimated before it is spent: a model (counted on the meta device before it is built), a run's
path, a surface and a CSV file that cannot fit are refused with the estimate and the limit in the message.

The limit is the machine's available memory, or ``LANDSCAPE_APP_MEMORY_LIMIT`` where a test sets it."""
import subprocess
import sys
import textwrap

import pytest

import landscape_app as la
from landscape_app import commands
from landscape_app.core import memory

LIMIT = memory.ENV_LIMIT


def test_the_limit(monkeypatch):
    monkeypatch.delenv(LIMIT, raising=False)
    found = memory.available()
    if found is not None:        # Linux: MemAvailable (or a cgroup's room); elsewhere the available pages
        assert found.bytes > 0 and found.source
    monkeypatch.setenv(LIMIT, "1.5G")
    assert memory.available() == memory.Limit(int(1.5 * 2**30), LIMIT)
    monkeypatch.setenv(LIMIT, "123456")
    assert memory.available().bytes == 123456
    assert memory.parse_bytes("512 MiB") == 512 * 2**20 and memory.parse_bytes("lots") is None


def test_the_check_says_the_estimate_and_the_limit(monkeypatch):
    monkeypatch.setenv(LIMIT, "1G")
    memory.check(2**30, "this", la.DataError)           # exactly what there is: fits
    with pytest.raises(la.DataError) as err:
        memory.check(20e9, "the thing", la.DataError, "make it smaller")
    assert str(err.value) == ("the thing needs about 20.0 GB of memory, more than the 1.1 GB available "
                              f"({LIMIT}); make it smaller")


# -- models ----------------------------------------------------------------------------------------------------

def test_five_billion_parameters_are_refused_before_they_exist():
    # The case: 300 layers of 4096 (each within the per-layer cap), about 20 GB a copy. Counted on the meta
    # device: the refusal comes before any of it is allocated, whatever the machine (its memory is far below).
    script = textwrap.dedent("""
        import resource
        import landscape_app as la
        data = la.make_dataset("moons")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            la.Experiment(data=data, model="mlp", model_options={"hidden": [4096] * 300})
        except la.ConfigError as exc:
            print(exc)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(grown * 1024)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    message, grown = done.stdout.strip().splitlines()
    assert message.startswith("model: the model (5.0 G parameters, 1,000 samples) needs about ")
    assert "GB of memory, more than the " in message and "available" in message
    assert int(grown) < 2e9           # one copy alone would be 20 GB


def test_a_model_too_large_for_the_limit(monkeypatch):
    monkeypatch.setenv(LIMIT, "200M")
    data = la.make_dataset("digits")
    with pytest.raises(la.ConfigError) as err:
        la.Experiment(data=data, model="cnn", model_options={"channels": [256, 256]})
    assert err.value.field == "model"
    assert "the model (603 k parameters, 1,797 samples) needs about " in str(err.value)
    assert f"more than the 209.7 MB available ({LIMIT})" in str(err.value)
    # What fits is built as ever, and the same with or without the check (the meta build draws no random numbers).
    small = la.Experiment(data=data, model="cnn")
    monkeypatch.setenv(LIMIT, "1T")
    assert (la.Experiment(data=data, model="cnn").start_vector() == small.start_vector()).all()


def test_a_module_that_cannot_be_built_on_the_meta_device_is_measured_once_built(tmp_path, monkeypatch):
    model = tmp_path / "net.py"
    model.write_text(textwrap.dedent("""
        import torch

        def make(width=8):
            net = torch.nn.Sequential(torch.nn.Linear(2, width), torch.nn.Tanh(), torch.nn.Linear(width, 1))
            float(net[0].weight.detach().sum())         # a value: impossible on the meta device
            return net
    """))
    data = la.make_dataset("moons")
    exp = la.Experiment(data=data, model=f"{model}:make")
    assert exp._fitted.size == memory.Profile(33, (8 + 8 + 1) * 4, 8 * 4)
    monkeypatch.setenv(LIMIT, "8M")
    with pytest.raises(la.ConfigError, match=r"the model \(1.0 M parameters, 1,000 samples\) needs about"):
        la.Experiment(data=data, model=f"{model}:make", model_options={"width": 2**18})


def test_the_command_line_refuses_in_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(LIMIT, "32M")
    code = commands.main(["run", "--model", "mlp", "--data", "moons", "--hidden", "1024,1024", "-o",
                          str(tmp_path / "p.csv"), "-q"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("landscape-app run: error: --model: the model (1.1 M parameters, 1,000 samples) needs "
                          "about ") and err.endswith("choose fewer or narrower layers")
    assert len(err.splitlines()) == 1


# -- paths -------------------------------------------------------------------------------------------------------

def test_a_whole_path_that_cannot_fit_is_refused_before_training(monkeypatch):
    exp = la.Experiment(epochs=100_000, batch_size=1)          # 6 M steps of (w, b), kept to the end
    need = memory.path_bytes(2, 6_000_000, 1)
    monkeypatch.setenv(LIMIT, str(need - 1))
    with pytest.raises(la.ConfigError) as err:
        la.run(exp)
    assert err.value.field == "epochs"
    assert "the path (6,000,000 steps of 2 parameters) needs about" in str(err.value)
    monkeypatch.setenv(LIMIT, str(need))
    from landscape_app.core.training import check_path_memory
    check_path_memory([exp])          # fits exactly: allowed
    # The generator streams its steps: the consumer decides what it keeps (the window stops a run when it likes).
    monkeypatch.setenv(LIMIT, "1")
    assert next(la.train(exp)).iteration == 0


# -- surfaces ----------------------------------------------------------------------------------------------------

def test_a_surface_that_cannot_fit_is_refused_before_it_is_computed(monkeypatch):
    exp = la.Experiment(data=la.make_dataset("moons", n_samples=100), model="mlp",
                        model_options={"hidden": [64, 64]})
    plane = la.Plane.random(exp)
    need = memory.surface_bytes(4001 * 4001, exp._fitted.size, 100, memory.evaluation_workers())
    assert need > 4001 * 4001 * 8          # at least the values themselves
    monkeypatch.setenv(LIMIT, str(need - 1))
    with pytest.raises(la.ConfigError) as err:
        la.compute_surface(exp, plane=plane, resolution=4001)
    assert err.value.field == "resolution"
    assert str(err.value).startswith("resolution: the surface (4001x4001 points, 4.4 k parameters) needs about ")
    assert str(err.value).endswith(f"({LIMIT}); choose a coarser grid")
    # An experiment's own grid (what the app draws) is checked when it is made: the panel shows it there.
    with pytest.raises(la.ConfigError) as err:
        exp.replace(grid=la.Grid(resolution=(4001, 4001)))
    assert err.value.field == "grid.resolution"
    # A coarse one goes on as ever.
    assert la.compute_surface(exp, plane=plane, resolution=11).loss.shape == (11, 11)


def test_the_surface_estimate_follows_the_evaluator():
    size = memory.Profile(params=1_000_000, sample_bytes=8_000, widest_bytes=4_000)
    one = memory.surface_bytes(1, size, 100, workers=2)
    many = memory.surface_bytes(10_000, size, 100, workers=2)
    # One point: its copies; many: chunks of points up to the evaluator's budget (512 MB in all), and the grid.
    assert 1_000_000 * memory.SURFACE_PER_PARAM < one < many <= 10_000 * memory.NETWORK_PER_POINT + 2 * 2**29 + \
        1_000_000 * memory.SURFACE_PER_PARAM
    assert memory.surface_bytes(10_000, None, 100) == 10_000 * memory.LINEAR_PER_POINT
