"""A training process that stops answering (a model whose forward never returns) is reported, can be stopped, and
never holds up closing: the window terminates it. The limits are tiny here or the hang is certain (the model writes
a marker, then sleeps for good); no assertion is on a duration."""
import signal

import pytest

import landscape_app as la
from landscape_app.core import race_process
from landscape_app.core.session import Session
from landscape_app.gui import worker_process
from landscape_app.gui.playback import FINISHED, Playback

from app_window import close_window, open_window

WAIT = 30_000   # ms: generous, never a timing assertion

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

# Hangs in the training process only (the window's own checks and surfaces call the same forward), after saying
# so in a marker file.
HANGS = """import time
from pathlib import Path

import __main__
import torch.nn as nn

TRAINING_PROCESS = getattr(getattr(__main__, "__spec__", None), "name", "") == "landscape_app.core.race_server"


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)

    def forward(self, x):
        if TRAINING_PROCESS:
            Path({marker!r}).write_text("hanging")
            time.sleep(10 ** 6)
        return self.lin(x)


def make():
    return Net()
"""


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "hanging.txt"


@pytest.fixture
def hanging(tmp_path, marker):
    path = tmp_path / "hangs.py"
    path.write_text(HANGS.format(marker=str(marker)))
    return la.Experiment(data=la.make_dataset("moons", n_samples=20, seed=1), model=f"{path}:make", epochs=50,
                         batch_size=5, grid=la.Grid(resolution=(5, 5)))


def _moons():
    return la.Experiment(data=la.make_dataset("moons", n_samples=40, noise=0.2, seed=1), model="mlp", lr=0.3,
                         batch_size=10, epochs=3)


@pytest.fixture
def quick(monkeypatch):
    """Silence is reported after a moment, and looked at often."""
    monkeypatch.delenv(race_process.MODE_VARIABLE, raising=False)
    monkeypatch.setattr(worker_process, "SILENCE_S", 0.2)
    monkeypatch.setattr(worker_process, "CHECK_MS", 20)
    monkeypatch.setattr(worker_process, "CLOSE_WAIT_S", 0.2)


def test_a_hung_training_process_is_reported_and_stopped(qtbot, quick, hanging, marker):
    pb = Playback()
    try:
        pb.load({0: hanging}, play=True)
        qtbot.waitUntil(lambda: marker.exists() and pb.silent_s > 0, timeout=WAIT)     # hung in the forward
        assert pb.steps_per_second == 0
        child = pb._training._child
        with qtbot.waitSignal(pb.state_changed, timeout=WAIT, check_params_cb=lambda s: s == FINISHED):
            with qtbot.waitSignal(pb.unresponsive, timeout=WAIT, check_params_cb=lambda s: s == 0):
                pb.stop_training_process()
        assert child.process.returncode == -signal.SIGTERM
        outcome, message = pb.outcome(0)
        assert outcome == "failed" and "stopped: the training process had not answered for" in message
        # The next race trains in a fresh process.
        with qtbot.waitSignal(pb.state_changed, timeout=WAIT, check_params_cb=lambda s: s == FINISHED):
            pb.load({0: _moons()}, play=True)
        assert pb.trains_apart and pb._training._child is not child and len(pb.path(0)) == 13
        assert pb.outcome(0)[0] == "finished"
    finally:
        pb.shutdown()


def test_a_process_that_answers_is_not_reported(qtbot, quick):
    """Every answer owed has come (Idle): nothing is reported, however long it took to come."""
    pb = Playback()
    try:
        with qtbot.waitSignal(pb.state_changed, timeout=WAIT, check_params_cb=lambda s: s == FINISHED):
            pb.load({0: _moons()}, play=True)
        qtbot.waitUntil(lambda: not pb._training._awaiting, timeout=WAIT)
        assert pb.silent_s == 0
    finally:
        pb.shutdown()


def test_closing_terminates_a_process_that_does_not_drop_its_runs(qtbot, monkeypatch, hanging, marker):
    """Not yet reported as silent: the window asks it to drop the runs, waits a moment, then terminates it."""
    monkeypatch.delenv(race_process.MODE_VARIABLE, raising=False)
    monkeypatch.setattr(worker_process, "CLOSE_WAIT_S", 0.2)
    pb = Playback()
    pb.load({0: hanging}, play=True)
    qtbot.waitUntil(marker.exists, timeout=WAIT)
    child = pb._training._child
    pb.shutdown()
    assert child.process.returncode == -signal.SIGTERM       # ended, not given back to the pool hanging
    assert child not in race_process._IDLE


def test_the_window_shows_the_silence_and_its_stop_button(qtbot, tmp_path, monkeypatch, quick, hanging, marker):
    w = open_window(qtbot, tmp_path, monkeypatch, session=Session((hanging,)), fast=True)
    try:
        stop = w.status.stop_training
        assert not stop.isVisible()
        w.toggle_play()
        qtbot.waitUntil(lambda: marker.exists() and "has not answered for" in w.status.alert.text(), timeout=WAIT)
        assert stop.isVisible()
        w.playback.dirty = True
        w.redraw()
        assert "steps/s" not in w.status.position.text()
        child = w.playback._training._child
        stop.click()
        qtbot.waitUntil(lambda: w.playback.outcome(w.run_ids[0])[0] == "failed", timeout=WAIT)
        assert child.process.returncode == -signal.SIGTERM and not stop.isVisible()
        assert "stopped: the training process had not answered" in w.playback.outcome(w.run_ids[0])[1]
        assert w.status.alert.text()        # what became of the run (or of the plane fitted to it)
    finally:
        close_window(w)


def test_closing_the_window_on_a_hung_process_terminates_it(qtbot, tmp_path, monkeypatch, quick, hanging, marker):
    w = open_window(qtbot, tmp_path, monkeypatch, session=Session((hanging,)), fast=True)
    w.toggle_play()
    qtbot.waitUntil(lambda: marker.exists() and w.status.stop_training.isVisible(), timeout=WAIT)
    child = w.playback._training._child
    close_window(w)
    assert child.process.returncode == -signal.SIGTERM
