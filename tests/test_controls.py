"""The control panel: widgets bound to one Experiment, errors shown in place on the widget that caused them."""
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QApplication

import landscape_app as la
from landscape_app.gui.controls import ControlPanel


@pytest.fixture
def panel(qtbot):
    p = ControlPanel(la.Experiment(lr=0.1, epochs=20))
    qtbot.addWidget(p)
    return p


def _type(field, text):
    field.setText(text)
    field.edited.emit()


def test_editing_rebuilds_the_experiment(panel, qtbot):
    with qtbot.waitSignal(panel.experiment_changed, timeout=1000) as blocker:
        _type(panel.optimizer.lr.entry, "0.025")
    assert blocker.args[0].lr == 0.025
    assert panel.experiment.lr == 0.025
    _type(panel.training.epochs, "7")
    assert panel.experiment.epochs == 7 and panel.experiment.lr == 0.025   # one object, every field kept


def test_log_slider_and_entry_agree(panel):
    panel.optimizer.lr.slider.setValue(panel.optimizer.lr.slider.maximum())
    assert panel.experiment.lr == pytest.approx(10.0)
    assert panel.optimizer.lr.entry.text() == "10"
    _type(panel.optimizer.lr.entry, "0.001")
    pos = panel.optimizer.lr.slider.value()
    assert 0 < pos < panel.optimizer.lr.slider.maximum() // 2


def test_invalid_value_is_marked_in_place(panel, qtbot):
    with qtbot.waitSignal(panel.validity_changed, timeout=1000) as blocker:
        _type(panel.optimizer.lr.entry, "-1")
    assert blocker.args == [False]
    entry = panel.optimizer.lr.entry
    assert entry.property("invalid") is True
    assert entry.toolTip().startswith("learning rate must be a positive number")   # the panel's label, not "lr"
    assert panel.error_label.isVisibleTo(panel) and "positive" in panel.error_label.text()
    assert panel.experiment.lr == 0.1        # the last valid experiment stands
    with qtbot.waitSignal(panel.validity_changed, timeout=1000) as blocker:
        _type(entry, "0.2")
    assert blocker.args == [True]
    assert entry.property("invalid") is False and not panel.error_label.isVisibleTo(panel)


def test_text_that_is_not_a_number(panel):
    _type(panel.training.epochs, "many")
    assert not panel.valid
    assert panel.training.epochs.property("invalid") is True
    assert "'many' is not a number" in panel.error


def test_data_error_marks_the_knob(panel):
    _type(panel.data.knobs["n_samples"], "1")
    assert not panel.valid
    assert panel.data.knobs["n_samples"].property("invalid") is True
    assert panel.error.startswith("samples must be between 2 and") and "n_samples" not in panel.error


def test_empty_grid_range_marks_both_ends(panel):
    lo, hi, _ = panel.grid.ranges[0]
    _type(lo, "30")
    assert not panel.valid
    assert panel.error == "w range is empty: low (30) must be less than high (20)"
    assert lo.property("invalid") is True and hi.property("invalid") is True


@pytest.mark.parametrize("field, text, message", [
    (lambda p: p.data.knobs["noise"], "-1", "noise must be >= 0, not -1.0"),
    (lambda p: p.data.knobs["seed"], "2.5", "data seed must be a whole number, not '2.5'"),
    (lambda p: p.grid.ranges[1][1], "abc", "b range: 'abc' is not a number"),
    (lambda p: p.grid.resolution, "1", "resolution must be a whole number from 2 to 4001, not 1"),
    (lambda p: p.training.epochs, "0", "epochs must be a whole number from 1 to 1,000,000, not 0"),
    (lambda p: p.training.seed, "-1", "shuffle seed must be a whole number >= 0, not -1"),
    (lambda p: p.start.entries["w"], "nan", "start w must be a finite number, not nan"),
    (lambda p: p.optimizer.hypers.widgets["momentum"], "2", "momentum must be between 0 and 0.999999, not 2"),
])
def test_messages_name_fields_as_the_panel_labels_them(panel, field, text, message):
    widget = field(panel)
    _type(widget, text)
    assert panel.error == message
    assert widget.toolTip() == message and panel.error_label.text() == f"⚠ {message}"


def test_messages_of_rows_shown_on_demand(panel):
    panel.data.dataset.setCurrentIndex(panel.data.dataset.findData("logistic"))
    _type(panel.data.knobs["overlap"], "-1")
    assert panel.error == "class overlap must be >= 0, not -1.0"
    panel.set_experiment(panel.experiment)
    panel.model.criterion.setCurrentIndex(panel.model.criterion.findData("huber"))
    _type(panel.model.delta, "-1")
    assert panel.error == "huber delta must be a positive finite number, not -1.0"


def test_the_api_keeps_its_own_field_names():
    with pytest.raises(la.ConfigError, match=r"^grid\.x_range: is empty"):
        la.Experiment(grid=la.Grid(x_range=(30, 20)))
    with pytest.raises(la.DataError, match="^n_samples must be"):
        la.make_dataset("linear", n_samples=1)


def _key_in(qtbot, field, text):
    """Type ``text`` key by key, as a user does."""
    qtbot.keyClicks(field, text)


def test_a_value_typed_digit_by_digit_applies_when_finished(panel, qtbot):
    lo, hi, _ = panel.grid.ranges[0]
    seen = []
    panel.experiment_changed.connect(seen.append)
    lo.clear()
    _key_in(qtbot, lo, "-30")         # "-", "-3": a half-typed value that must not redraw anything
    assert seen == [] and panel.valid and panel.experiment.grid.x_range == (-20.0, 20.0)
    qtbot.keyClick(lo, Qt.Key.Key_Return)
    assert [e.grid.x_range for e in seen] == [(-30.0, 20.0)]
    hi.selectAll()
    hi.del_()
    _key_in(qtbot, hi, "35")
    assert len(seen) == 1
    QApplication.sendEvent(hi, QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.TabFocusReason))
    assert [e.grid.x_range for e in seen] == [(-30.0, 20.0), (-30.0, 35.0)]


@pytest.mark.parametrize("field, text", [
    (lambda p: p.data.knobs["n_samples"], "30"), (lambda p: p.optimizer.lr.entry, "0.3"),
    (lambda p: p.training.epochs, "30"), (lambda p: p.start.entries["b"], "-3"), (lambda p: p.grid.resolution, "31"),
    (lambda p: p.optimizer.hypers.widgets["momentum"], "0.5"),
])
def test_every_entry_waits_for_the_end_of_typing(panel, qtbot, field, text):
    widget = field(panel)
    seen = []
    panel.experiment_changed.connect(seen.append)
    before = panel.experiment
    widget.clear()
    _key_in(qtbot, widget, text)
    assert seen == [] and panel.experiment == before and widget.pending
    panel.commit()             # what Play and Step do first
    assert len(seen) == 1 and not widget.pending and panel.experiment is seen[0]


def test_finishing_an_unchanged_entry_restarts_nothing(panel, qtbot):
    seen = []
    panel.experiment_changed.connect(seen.append)
    entry = panel.training.epochs
    entry.clear()
    _key_in(qtbot, entry, "20")       # the value it had
    entry.finish()
    assert seen == [] and panel.valid


def test_switching_model_brings_valid_defaults(panel):
    panel.model.model.setCurrentIndex(panel.model.model.findData("plane"))
    exp = panel.experiment
    assert panel.valid
    assert exp.model == "plane" and exp.data.n_features == 2 and len(exp.start) == 3
    assert list(panel.start.entries) == ["w1", "w2", "b"]
    assert panel.grid.form.isRowVisible(panel.grid.axes)
    panel.grid.axes.setCurrentIndex(panel.grid.axes.findData("w1,b"))
    assert panel.experiment.grid.axes == ("w1", "b")
    panel.model.model.setCurrentIndex(panel.model.model.findData("logistic"))
    assert panel.experiment.criterion == "bce" and set(panel.experiment.data.y.unique().tolist()) <= {0.0, 1.0}


def test_optimizer_hyperparameters_come_from_the_core(panel):
    panel.optimizer.optimizer.setCurrentIndex(panel.optimizer.optimizer.findData("adam"))
    exp = panel.experiment
    assert exp.optimizer == "adam" and exp.lr == la.core.optimizers.OPTIMIZERS["adam"].default_lr
    widgets = panel.optimizer.hypers.widgets
    # torch's betas pair is shown as two fields, beta1 and beta2
    assert set(widgets) == {"betas[0]", "betas[1]", "eps", "weight_decay", "amsgrad"}
    _type(widgets["betas[0]"], "0.5")
    assert panel.experiment.optimizer_options["betas"] == (0.5, 0.999)
    _type(widgets["betas[0]"], "2")
    assert not panel.valid and widgets["betas[0]"].property("invalid") is True
    assert not widgets["betas[1]"].property("invalid")      # the error is on the field that caused it
    assert "beta1" in panel.error_label.text()      # named as the panel labels it
    widgets["amsgrad"].setChecked(True)   # still invalid beta1: the error stays on it
    assert not panel.valid and widgets["betas[0]"].property("invalid") is True
    _type(widgets["betas[0]"], "0.8")
    _type(widgets["betas[1]"], "0.99")
    assert panel.valid and panel.experiment.optimizer_options["betas"] == (0.8, 0.99)


def test_rprop_pairs_and_its_full_batch_note(panel):
    panel.optimizer.optimizer.setCurrentIndex(panel.optimizer.optimizer.findData("rprop"))
    assert panel.experiment.optimizer == "rprop"
    assert "full batch" in panel.optimizer.optimizer.toolTip()
    widgets = panel.optimizer.hypers.widgets
    _type(widgets["etas[1]"], "1")            # eta plus must exceed 1: both fields of the pair are marked
    assert not panel.valid and "0 < eta minus < 1 < eta plus" in panel.error_label.text()
    assert widgets["etas[0]"].property("invalid") is True and widgets["etas[1]"].property("invalid") is True
    _type(widgets["etas[1]"], "1.5")
    assert panel.valid and panel.experiment.optimizer_options["etas"] == (0.5, 1.5)


@pytest.mark.skipif("adafactor" not in la.core.optimizers.OPTIMIZERS, reason="torch < 2.5 has no Adafactor")
def test_adafactor_eps1_left_blank_is_torchs_none(panel):
    panel.optimizer.optimizer.setCurrentIndex(panel.optimizer.optimizer.findData("adafactor"))
    widgets = panel.optimizer.hypers.widgets
    assert panel.experiment.optimizer_options["eps"] == (None, 1e-3) and widgets["eps[0]"].text() == ""
    _type(widgets["eps[0]"], "1e-30")
    assert panel.experiment.optimizer_options["eps"] == (1e-30, 1e-3)
    _type(widgets["eps[0]"], " ")
    assert panel.experiment.optimizer_options["eps"] == (None, 1e-3)


def test_the_optimizer_list_is_the_cores(panel):
    combo = panel.optimizer.optimizer
    assert [combo.itemData(i) for i in range(combo.count())] == list(la.core.optimizers.OPTIMIZERS)


def test_scheduler_options_and_huber_delta(panel):
    panel.optimizer.scheduler.setCurrentIndex(panel.optimizer.scheduler.findData("step"))
    assert panel.experiment.scheduler == "step"
    _type(panel.optimizer.scheduler_hypers.widgets["step_size"], "3")
    assert panel.experiment.scheduler_options["step_size"] == 3
    assert not panel.model.form.isRowVisible(panel.model.delta)
    panel.model.criterion.setCurrentIndex(panel.model.criterion.findData("huber"))
    assert panel.model.form.isRowVisible(panel.model.delta)
    _type(panel.model.delta, "0.5")
    assert panel.experiment.criterion_options == {"delta": 0.5}


def test_batch_modes(panel):
    t = panel.training
    t.mode.setCurrentIndex(t.mode.findData("mini"))
    _type(t.batch_size, "12")
    assert panel.experiment.batch_size == 12
    t.shuffle.setChecked(True)
    assert panel.experiment.shuffle
    t.mode.setCurrentIndex(t.mode.findData("one"))
    assert panel.experiment.batch_size == 1
    t.mode.setCurrentIndex(t.mode.findData("full"))
    assert panel.experiment.batch_size is None


def test_start_point_entries(panel):
    _type(panel.start.entries["w"], "3.5")
    assert panel.experiment.start == (3.5, -10.0) or panel.experiment.start[0] == 3.5
    _type(panel.start.entries["b"], "nan")
    assert not panel.valid and panel.start.entries["b"].property("invalid") is True


def test_load_csv_good_and_bad(panel, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("x,y\n0,1\n1,3\n2,5\n3,7\n")
    panel.load_csv(str(good))
    assert panel.experiment.data.source.kind == "csv" and len(panel.experiment.data) == 4
    assert panel.data.dataset.currentText() == "CSV: good.csv"
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n0,1\n1,oops\n")
    with pytest.raises(la.DataError):
        panel.load_csv(str(bad))
    assert panel.valid and "line 3" in panel.notice      # the good data is still loaded: Play stays
    assert len(panel.experiment.data) == 4
    plane = tmp_path / "plane.csv"
    plane.write_text("x1,x2,y\n0,0,1\n1,0,2\n0,1,3\n1,1,4\n")
    panel.load_csv(str(plane))
    assert panel.valid and panel.experiment.model == "plane"


def test_a_bad_csv_keeps_the_good_one_and_choosing_it_again_clears_the_message(panel, qtbot, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("x,y\n0,1\n1,3\n2,5\n3,7\n")
    panel.load_csv(str(good))
    loaded = panel.experiment
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n0,1\n1,3\nabc,5\n3,7\n")
    validity = []
    panel.validity_changed.connect(validity.append)
    with pytest.raises(la.DataError):
        panel.load_csv(str(bad))
    assert validity == [] and panel.valid and panel.error == ""
    assert panel.notice == (f"Not loaded: {bad}, line 4, column 1: 'abc' is not a number. "
                            "Still using CSV: good.csv.")
    assert panel.error_label.isVisibleTo(panel) and "line 4" in panel.error_label.text()
    assert panel.data.csv_button.property("invalid") is True
    assert panel.experiment is loaded
    # Choosing the CSV in use again from the list (it is already the current item) clears the message ...
    panel.data.dataset.activated.emit(panel.data.dataset.currentIndex())
    assert panel.notice == "" and not panel.error_label.isVisibleTo(panel)
    assert panel.data.csv_button.property("invalid") is False and panel.experiment is loaded
    # ... and so does loading the good file again.
    with pytest.raises(la.DataError):
        panel.load_csv(str(bad))
    panel.load_csv(str(good))
    assert panel.notice == "" and panel.valid and panel.experiment.data == loaded.data


def test_a_plane_fitted_to_the_paths_greys_out_the_ranges(panel):
    """PCA and three-point planes span the runs' paths: the alpha/beta ranges do not apply and say so."""
    from landscape_app.core.plane_settings import PlaneSettings
    rows = [row for _lo, _hi, row in panel.grid.ranges]
    assert all(row.isEnabled() for row in rows)
    panel.show_plane(PlaneSettings(kind="pca"))         # a linear model's surface spans its parameters: no plane
    assert all(row.isEnabled() for row in rows)
    panel.set_experiment(la.Experiment(data=la.make_dataset("moons", n_samples=40), model="mlp",
                                       model_options={"hidden": (4,)}))
    panel.show_plane(PlaneSettings(kind="pca"))
    assert not any(row.isEnabled() for row in rows)
    assert all("fitted to the runs' paths" in row.toolTip() for row in rows)
    assert panel.plane.settings.kind == "pca"
    panel.show_plane(PlaneSettings(kind="hessian"))
    assert all(row.isEnabled() and row.toolTip() == "" for row in rows)
