"""Training in a process of its own: what goes there, what stays in a thread, a child that dies, the pool."""
import importlib.util
import os
import signal
import sys

import numpy as np
import pytest
import torch
from torch import nn

import landscape_app as la
from landscape_app.core import race_process
from landscape_app.core.training import run
from landscape_app.gui.playback import FINISHED, Playback

WAIT = 30_000   # ms: generous, never a timing assertion


@pytest.fixture
def playback(qtbot, monkeypatch):
    monkeypatch.delenv(race_process.MODE_VARIABLE, raising=False)
    pb = Playback()
    yield pb
    pb.shutdown()


def _moons(**kw):
    base = dict(data=la.make_dataset("moons", n_samples=40, noise=0.2, seed=1), model="mlp", lr=0.3, batch_size=10,
                epochs=3)
    base.update(kw)
    return la.Experiment(**base)


def _to_end(qtbot, pb, experiments):
    with qtbot.waitSignal(pb.state_changed, timeout=WAIT, check_params_cb=lambda s: s == FINISHED):
        pb.load(experiments, play=True)


def _child_pid(pb) -> int:
    return pb._training._child.process.pid


def test_a_race_trains_in_the_child_and_equals_the_core_loop(qtbot, playback):
    exps = {0: _moons(model="mlp"), 4: _moons(model="mlp", optimizer="adam", lr=0.05)}
    _to_end(qtbot, playback, exps)
    assert playback.trains_apart and _child_pid(playback) != os.getpid()
    for run_id, exp in exps.items():
        expected = run(exp)
        np.testing.assert_array_equal(playback.path(run_id).params, expected.params)
        np.testing.assert_array_equal(playback.path(run_id).loss, expected.loss)
        assert playback.outcome(run_id)[0] == "finished"


def test_a_users_model_file_is_run_in_the_child_too(qtbot, playback, tmp_path):
    (tmp_path / "net.py").write_text("from torch import nn\n\n\ndef make(width=3):\n"
                                     "    return nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, 1))\n")
    exp = _moons(model=f"{tmp_path}/net.py:make", model_options={"width": 4})
    _to_end(qtbot, playback, {0: exp})
    assert playback.trains_apart
    np.testing.assert_array_equal(playback.path(0).params, run(exp).params)
    assert not (tmp_path / "__pycache__").exists()     # the user's folder is left as it was


class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)

    def forward(self, x):
        return self.lin(x)


def test_a_class_no_fresh_interpreter_can_import_trains_here(qtbot, playback, monkeypatch):
    monkeypatch.setattr(_Tiny, "__module__", "__main__")     # as if defined in a notebook
    torch.manual_seed(0)
    exp = _moons(model=_Tiny())
    assert race_process.portable({0: exp}) is None
    _to_end(qtbot, playback, {0: exp})
    assert not playback.trains_apart
    np.testing.assert_array_equal(playback.path(0).params, run(exp).params)
    # The next runs that can go to the child go there again.
    _to_end(qtbot, playback, {0: _moons(model="mlp")})
    assert playback.trains_apart


def test_runs_the_child_cannot_rebuild_train_here(qtbot, playback, tmp_path, monkeypatch):
    """A module the window imported from a path the child does not have: the child says so, the window trains."""
    (tmp_path / "elsewhere_net.py").write_text("from torch import nn\n\n\nclass Net(nn.Module):\n"
                                               "    def __init__(self):\n        super().__init__()\n"
                                               "        self.lin = nn.Linear(2, 1)\n\n"
                                               "    def forward(self, x):\n        return self.lin(x)\n")
    spec = importlib.util.spec_from_file_location("elsewhere_net", tmp_path / "elsewhere_net.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "elsewhere_net", module)
    spec.loader.exec_module(module)
    exp = _moons(model=module.Net())
    assert race_process.portable({0: exp}) is not None    # it pickles: only the child finds out
    _to_end(qtbot, playback, {0: exp})
    assert not playback.trains_apart
    np.testing.assert_array_equal(playback.path(0).params, run(exp).params)


def test_a_child_that_dies_ends_its_runs_and_a_fresh_one_trains_on(qtbot, playback):
    exp = _moons(model="mlp", epochs=1_000_000, batch_size=1)
    playback.load({0: exp, 1: exp.replace(optimizer="adam", lr=0.01)}, play=True)
    qtbot.waitUntil(lambda: len(playback.path(0)) > 5, timeout=WAIT)
    dead = _child_pid(playback)
    with qtbot.waitSignal(playback.state_changed, timeout=WAIT, check_params_cb=lambda s: s == FINISHED):
        os.kill(dead, signal.SIGKILL)
    for run_id in (0, 1):
        outcome, message = playback.outcome(run_id)
        assert outcome == "failed" and "training process ended unexpectedly" in message
    # The next race trains in a process of its own again (in the window's, a run that crashed the child would
    # take the window with it).
    _to_end(qtbot, playback, {0: _moons(model="mlp")})
    assert playback.trains_apart and _child_pid(playback) != dead and len(playback.path(0)) == 13


def test_a_closed_windows_child_serves_the_next_one(qtbot, monkeypatch):
    monkeypatch.delenv(race_process.MODE_VARIABLE, raising=False)
    first = Playback()
    first.load({0: _moons(model="mlp", epochs=1_000_000, batch_size=1)}, play=True)
    qtbot.waitUntil(lambda: len(first.path(0)) > 5, timeout=WAIT)
    pid = _child_pid(first)
    first.shutdown()
    second = Playback()
    try:
        assert _child_pid(second) == pid
        # None of the first window's steps reach the second: it starts from its own start point.
        _to_end(qtbot, second, {0: _moons(epochs=2)})
        assert len(second.path(0)) == 9 and second.trains_apart
    finally:
        second.shutdown()


def test_thread_mode_keeps_training_in_this_process(qtbot, monkeypatch):
    monkeypatch.setenv(race_process.MODE_VARIABLE, "thread")
    pb = Playback()
    try:
        _to_end(qtbot, pb, {0: _moons()})
        assert not pb.trains_apart and len(pb.path(0)) == 13
    finally:
        pb.shutdown()


def test_ctrl_c_in_the_terminal_leaves_the_training_to_the_window(qtbot, playback):
    """SIGINT reaches the whole process group: the child ignores it (no traceback) and trains on."""
    exp = _moons(epochs=1_000_000, batch_size=1)
    playback.load({0: exp}, play=True)
    qtbot.waitUntil(lambda: len(playback.path(0)) > 5, timeout=WAIT)
    os.kill(_child_pid(playback), signal.SIGINT)
    reached = len(playback.path(0))
    qtbot.waitUntil(lambda: len(playback.path(0)) > reached + 20, timeout=WAIT)
    assert playback.trains_apart and playback._training._child.alive()
