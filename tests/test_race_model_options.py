"""Runs of one race that differ in BatchNorm or dropout: the session, its TOML, the race's edits, the panel's
checkbox, and how the window draws a run whose network is not the shown one's."""
import numpy as np
import pytest

import landscape_app as la
from app_window import WAIT, close_window, open_window, settle
from landscape_app.core.errors import ConfigError
from landscape_app.core.presets import load_preset
from landscape_app.core.session import Session
from landscape_app.core.surface import loss_at
from landscape_app.core.tomlio import load_session, save, session_from_dict, session_to_dict
from landscape_app.gui import lifted as lifting
from landscape_app.gui import race
from landscape_app.gui.projection_note import ELSEWHERE

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _mlp(criterion=None, **options):
    data = la.make_dataset("moons", n_samples=80, noise=0.2, seed=0)
    return la.Experiment(data=data, model="mlp", model_options={"hidden": (5,), **options}, criterion=criterion,
                         optimizer="sgd", lr=0.1, batch_size=20, shuffle=True, epochs=1, seed=0)


# -- the session and its file ---------------------------------------------------------------------------------
def test_runs_may_differ_in_batchnorm_and_dropout_but_not_in_layers():
    plain = _mlp()
    session = Session((plain, _mlp(batchnorm=True), _mlp(dropout=0.2)))
    assert [r.model_options["batchnorm"] for r in session.runs] == [False, True, False]
    with pytest.raises(ConfigError) as info:
        Session((plain, _mlp(hidden=(6,))))
    assert info.value.field == "runs[2].model_options.hidden" and "batchnorm" in str(info.value)


def test_batchnorm_without_scale_and_shift_keeps_the_weights_and_the_plane():
    plain, normed, affine = _mlp(), _mlp(batchnorm=True, bn_affine=False), _mlp(batchnorm=True)
    assert normed.param_count == plain.param_count
    assert affine.param_count == plain.param_count + 2 * 5       # a scale and a shift per hidden unit
    # The same seed draws the same linear layers: both runs start at one point, on one plane.
    np.testing.assert_array_equal(normed.start_vector(), plain.start_vector())
    a, b = la.Plane.random(plain, seed=4), la.Plane.random(normed, seed=4)
    np.testing.assert_array_equal(a.d1, b.d1)
    np.testing.assert_array_equal(a.d2, b.d2)


def test_per_run_model_options_round_trip_through_toml(tmp_path):
    session = Session((_mlp(), _mlp(batchnorm=True, dropout=0.1)), names=("plain", "normed"))
    table = session_to_dict(session)
    assert "model_options" not in table["runs"][0]
    assert table["runs"][1]["model_options"] == {"batchnorm": True, "dropout": 0.1}
    path = tmp_path / "race.toml"
    save(session, path)
    assert load_session(path) == session
    table["runs"][1]["model_options"] = {"hidden": [7]}
    with pytest.raises(ConfigError) as info:
        session_from_dict(table)
    assert info.value.field == "runs[2].model_options.hidden"
    table["runs"][1]["model_options"] = "batchnorm"
    with pytest.raises(ConfigError, match="must be a table"):
        session_from_dict(table)


def test_the_batchnorm_preset_races_the_same_network_with_and_without_it():
    session = load_preset("batchnorm")
    plain, normed = session.runs
    assert not plain.model_options["batchnorm"] and normed.model_options["batchnorm"]
    assert plain.replace(model_options=normed.model_options) == normed       # nothing else differs
    assert plain.param_count == normed.param_count
    # Its lesson: at the same learning rate, BatchNorm's loss falls faster and ends lower.
    a, b = la.run(plain), la.run(normed)
    quarter = len(a) // 4
    assert b.loss[quarter] < a.loss[quarter] - 0.05 and b.loss[-1] < a.loss[-1] - 0.05


# -- the race's edits ---------------------------------------------------------------------------------------------
def test_a_runs_batchnorm_is_its_own_and_the_layers_are_the_races():
    session = Session((_mlp(), _mlp()))
    session = race.replace_run(session, 1, session.runs[1].replace(
        model_options={**session.runs[1].model_options, "batchnorm": True}))
    assert [r.model_options["batchnorm"] for r in session.runs] == [False, True]
    wider = {**session.runs[0].model_options, "hidden": (9,)}
    session = race.replace_run(session, 0, session.runs[0].replace(model_options=wider))
    assert [r.model_options["hidden"] for r in session.runs] == [(9,), (9,)]
    assert [r.model_options["batchnorm"] for r in session.runs] == [False, True]


def test_a_run_on_another_loss_is_lifted_only_where_the_shown_network_is_its_own():
    shown, dropped, normed = _mlp(), _mlp("mse", dropout=0.3), _mlp("mse", batchnorm=True, bn_affine=False)
    lifted = lifting.LiftedPaths()
    lifted.reset(shown, {0: shown, 1: dropped, 2: normed})
    # Dropout is off in evaluation: the shown network is the dropout run's function, evaluated on the shown loss.
    path = la.run(dropped)
    assert lifted.evaluator(1) is shown
    lifted.compute({1: path})
    np.testing.assert_allclose(lifted.paths({1: path})[1].loss, loss_at(shown, path.params))
    # BatchNorm: the run's loss depends on running statistics its path does not keep; no value is made up.
    assert lifted.evaluator(2) is None
    other = la.run(normed)
    assert not lifted.missing({2: other}) and 2 not in lifted.paths({2: other})


# -- the window ---------------------------------------------------------------------------------------------------
@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, tmp_path, monkeypatch)
    yield w
    close_window(w)


def _steps(qtbot, window, n=3):
    qtbot.waitUntil(lambda: all(len(t) >= 1 for t in window.playback.paths().values())
                    and len(window.playback.paths()) == len(window.session.runs), timeout=WAIT)
    for _ in range(n):
        with qtbot.waitSignal(window.playback.idle, timeout=WAIT):
            window.step()
    settle(qtbot, window)


def test_the_panels_batchnorm_changes_the_selected_run_only(window, qtbot):
    window.set_session(Session((_mlp(), _mlp()), names=("a", "b")))
    settle(qtbot, window)
    window.select_run(1)
    box = window.panel.model.batchnorm
    assert box.isVisibleTo(window.panel) and not box.isChecked()
    box.setChecked(True)
    assert [r.model_options["batchnorm"] for r in window.session.runs] == [False, True]
    window.select_run(0)
    assert not window.panel.model.batchnorm.isChecked()


def test_the_panels_dropout_changes_the_selected_run_only_and_refuses_a_non_probability(window, qtbot):
    window.set_session(Session((_mlp(), _mlp()), names=("a", "b")))
    settle(qtbot, window)
    window.select_run(1)
    entry = window.panel.model.dropout
    assert entry.isVisibleTo(window.panel) and entry.value() == 0.0
    entry.clear()
    qtbot.keyClicks(entry, "0.25")         # typed, as a user does
    entry.finish()
    assert [r.model_options["dropout"] for r in window.session.runs] == [0.0, 0.25]
    assert [r.model_options["hidden"] for r in window.session.runs] == [(5,), (5,)]
    window.select_run(0)
    assert window.panel.model.dropout.value() == 0.0
    window.select_run(1)
    entry = window.panel.model.dropout
    entry.clear()
    qtbot.keyClicks(entry, "1.5")
    entry.finish()
    assert not window.panel.valid and "dropout" in window.panel.error_label.text()
    assert "probability" in window.panel.error_label.text()
    assert window.session.runs[1].model_options["dropout"] == 0.25       # nothing half-applied


def test_a_run_with_other_parameters_keeps_its_loss_curve_and_is_named_in_the_note(window, qtbot):
    window.set_session(Session((_mlp(), _mlp(batchnorm=True)), names=("plain", "scaled"),
                               plane=la.PlaneSettings()))              # a live plane: stepped
    _steps(qtbot, window)
    plain, scaled = window.run_ids
    qtbot.waitUntil(lambda: plain in window.views.loss.curves and scaled in window.views.loss.curves, timeout=WAIT)
    assert len(window.views.loss.curves[scaled].full.data()[0]) > 1     # its true loss, on the curve
    projected = window.scene.projected_paths(window.playback.paths())
    assert plain in projected and scaled not in projected            # no projection made up for it
    lines = dict(window.views.projection_note.lines)
    assert lines[scaled] == ELSEWHERE and "off the plane" in lines[plain]


def test_each_thread_evaluates_on_its_own_copy_of_the_network():
    """The training thread (a step's loss at its BatchNorm statistics) and the scene's projection of the same run
    evaluate one experiment at once: ``functional_call`` puts each one's parameters and buffers into the module it
    runs, so a shared module mixed them (a BatchNorm run's 'surface under its point' read 0.89 on a 0.70 slice)."""
    import threading
    from landscape_app.core.module_points import float64_module

    exp = _mlp(batchnorm=True)
    here = float64_module(exp)
    assert float64_module(exp) is here
    other = []
    worker = threading.Thread(target=lambda: other.append(float64_module(exp)))
    worker.start()
    worker.join()
    assert other[0] is not here and type(other[0]) is type(here)
    import pickle
    assert pickle.loads(pickle.dumps(exp)) == exp            # the cache keeps the experiment picklable
