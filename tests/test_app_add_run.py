"""*+ Add run* and *− Remove* on a race that has ended: the runs that ended keep their paths; a new run trains."""
import numpy as np
import pytest

import landscape_app as la
from landscape_app.core.session import Session
from landscape_app.gui.playback import FINISHED, PAUSED

from app_window import WAIT, close_window, open_window, play_to_end, ready

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    exp = la.Experiment(data=la.make_dataset("linear", n_samples=30, seed=1), epochs=12, lr=0.1)
    w = open_window(qtbot, tmp_path, monkeypatch, Session((exp,), names=("SGD, lr 0.1",)))
    yield w
    close_window(w)


def _snapshot(path):
    return len(path), path.params.copy(), path.outcome


def test_adding_a_run_to_a_finished_race_keeps_its_paths_and_trains_the_new_one(window, qtbot):
    """Adding a run used to retrain the race from step 0: the finished paths vanished without a word."""
    play_to_end(qtbot, window)
    before = _snapshot(window.playback.path(0))
    assert before[0] == 13 and before[2] == "finished"
    window.add_run()
    assert len(window.session.runs) == 2 and window.run_ids == [0, 1]
    kept = window.playback.path(0)
    assert len(kept) == before[0] and np.array_equal(kept.params, before[1]) and kept.outcome == "finished"
    assert window.runs_panel.list.item(0).text().endswith("✓")          # the list still says it finished
    assert window.playback.state == PAUSED                                  # the new run waits for Play
    ready(qtbot, window)
    assert len(window.playback.path(1)) == 1
    play_to_end(qtbot, window)
    assert window.playback.state == FINISHED
    assert len(window.playback.path(1)) == 13 and window.playback.path(1).outcome == "finished"
    kept = window.playback.path(0)
    assert len(kept) == before[0] and np.array_equal(kept.params, before[1])
    # Removing a run leaves the others' paths too: nothing is left to train, the race stays finished.
    after_two = _snapshot(window.playback.path(1))
    window.remove_run(0)
    assert window.run_ids == [1] and window.playback.state == FINISHED
    assert len(window.playback.path(1)) == after_two[0]
    assert np.array_equal(window.playback.path(1).params, after_two[1])


def test_reset_and_edits_still_retrain_every_run(window, qtbot):
    play_to_end(qtbot, window)
    window.add_run()
    window.reset()
    qtbot.waitUntil(lambda: [len(p) for p in window.playback.paths().values()] == [1, 1], timeout=WAIT)
    play_to_end(qtbot, window)
    window.runs_panel.list.setCurrentRow(0)
    window.add_run()                         # a third run: the two finished ones are kept ...
    ready(qtbot, window)
    assert [len(window.playback.path(r)) for r in window.run_ids] == [13, 13, 1]
    from app_window import type_into
    type_into(window.panel.data.knobs["noise"], "0.4")      # ... a shared edit changes every run: all retrain
    qtbot.waitUntil(lambda: [len(p) for p in window.playback.paths().values()] == [1, 1, 1], timeout=WAIT)
