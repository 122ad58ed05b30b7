"""The training (in a process of its own, and in a thread): batches tagged by generation, exact stepping,
pause/stop, clean shutdown. Every test runs with both trainers."""
import numpy as np
import pytest

import landscape_app as la
from landscape_app.core.training import run
from landscape_app.gui.playback import FINISHED, PAUSED, PLAYING, Playback
from landscape_app.gui.worker import live_threads

WAIT = 20_000   # ms: generous, never a timing assertion


def _exp(**kw):
    base = dict(epochs=5, lr=0.1, start=(-15.0, -10.0))
    base.update(kw)
    return la.Experiment(**base)


@pytest.fixture(autouse=True, params=["process", "thread"])
def trainer(request, monkeypatch):
    """Which trainer the Playbacks of a test use (the variable is read when one is made)."""
    monkeypatch.setenv("LANDSCAPE_APP_TRAINING", request.param)
    return request.param


@pytest.fixture
def playback(qtbot, trainer):
    pb = Playback()
    yield pb
    assert pb.trains_apart == (trainer == "process" and bool(pb.experiments))
    pb.shutdown()


def _loaded(qtbot, pb, experiments, play=False):
    pb.load(experiments, play=play)
    qtbot.waitUntil(lambda: all(len(p) >= 1 for p in pb.paths().values()), timeout=WAIT)


def test_start_points_arrive_on_load(qtbot, playback):
    _loaded(qtbot, playback, {0: _exp(), 1: _exp(optimizer="adam", lr=0.5)})
    paths = playback.paths()
    assert [len(p) for p in paths.values()] == [1, 1]
    np.testing.assert_array_equal(paths[0].params[0], [-15.0, -10.0])
    assert playback.state == PAUSED


def test_step_advances_exactly_one_iteration(qtbot, playback):
    _loaded(qtbot, playback, {0: _exp(batch_size=10), 3: _exp(optimizer="adam", lr=0.5)})
    for expected in (2, 3, 4):
        with qtbot.waitSignal(playback.idle, timeout=WAIT):
            playback.step()
        qtbot.waitUntil(lambda: all(len(p) == expected for p in playback.paths().values()), timeout=WAIT)
        assert [p.iteration[-1] for p in playback.paths().values()] == [expected - 1] * 2


def test_play_to_the_end_matches_core_run(qtbot, playback):
    exp = _exp(batch_size=7, shuffle=True, optimizer="sgd", optimizer_options={"momentum": 0.9}, lr=0.02)
    with qtbot.waitSignal(playback.state_changed, timeout=WAIT, check_params_cb=lambda s: s == FINISHED):
        playback.load({5: exp}, play=True)
    path, expected = playback.path(5), run(exp)
    assert len(path) == len(expected)
    np.testing.assert_array_equal(path.params, expected.params)
    assert playback.outcome(5)[0] == "finished"


def test_divergence_is_reported_and_path_kept(qtbot, playback):
    exp = _exp(lr=5.0, epochs=200)
    with qtbot.waitSignal(playback.run_ended, timeout=WAIT) as blocker:
        playback.load({0: exp}, play=True)
    run_id, outcome, message = blocker.args
    assert (run_id, outcome) == (0, "diverged")
    assert "diverged" in message
    assert len(playback.path(0)) >= 2
    assert playback.state == FINISHED


def test_pause_stops_advancing_and_reset_drops_stale_batches(qtbot, playback):
    exp = _exp(epochs=1_000_000, batch_size=1)
    _loaded(qtbot, playback, {0: exp}, play=True)
    qtbot.waitUntil(lambda: len(playback.path(0)) > 50, timeout=WAIT)
    with qtbot.waitSignal(playback.idle, timeout=WAIT, raising=False):
        playback.pause()
    assert playback.state == PAUSED
    playback.reset()
    # Whatever the worker had in flight belonged to the old generation: only the start point is kept.
    qtbot.waitUntil(lambda: len(playback.path(0)) == 1, timeout=WAIT)
    qtbot.wait(50)
    assert len(playback.path(0)) == 1


def test_paced_speed_and_pause_respond(qtbot, playback):
    playback.set_speed(1.0)      # one step a second: pause must not wait for the next step
    _loaded(qtbot, playback, {0: _exp(epochs=100)}, play=True)
    assert playback.state == PLAYING
    playback.pause()
    playback.set_speed(None)
    with qtbot.waitSignal(playback.idle, timeout=WAIT):
        playback.step()
    assert playback.path(0).iteration[-1] >= 1


def test_shutdown_mid_run_leaves_no_thread(qtbot):
    pb = Playback()
    pb.load({0: _exp(epochs=1_000_000, batch_size=1)}, play=True)
    qtbot.waitUntil(lambda: len(pb.path(0)) > 10, timeout=WAIT)
    pb.shutdown()
    assert live_threads() == []


def test_hundred_quick_start_stop_cycles(qtbot):
    exp = {0: _exp(epochs=1_000_000, batch_size=1), 1: _exp(optimizer="adam", lr=0.5, epochs=1_000_000)}
    for i in range(100):
        pb = Playback()
        pb.load(exp, play=True)
        if i % 10 == 0:
            qtbot.waitUntil(lambda: len(pb.path(0)) > 1, timeout=WAIT)
        pb.shutdown()
        pb.deleteLater()
    assert live_threads() == []
