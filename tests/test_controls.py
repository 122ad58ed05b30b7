"""The control panel: widgets bound to one Experiment, errors shown in place on the widget that caused them."""
import pytest

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
    assert "lr" in entry.toolTip() and "positive" in entry.toolTip()
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
    assert "n_samples" in panel.error


def test_empty_grid_range_marks_both_ends(panel):
    lo, hi, _ = panel.grid.ranges[0]
    _type(lo, "30")
    assert not panel.valid and "grid.x_range" in panel.error
    assert lo.property("invalid") is True and hi.property("invalid") is True


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
    assert "betas[0]" in panel.error_label.text()
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
    assert not panel.valid and "line 3" in panel.error
    plane = tmp_path / "plane.csv"
    plane.write_text("x1,x2,y\n0,0,1\n1,0,2\n0,1,3\n1,1,4\n")
    panel.load_csv(str(plane))
    assert panel.valid and panel.experiment.model == "plane"
