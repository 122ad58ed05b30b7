"""The panel's "Load model…": a user's network from a Python file, on data it fits; a bad file changes nothing."""
import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog

import landscape_app as la
from landscape_app.core.errors import ConfigError
from landscape_app.core.modelspec import UserCodeError, factory_names
from landscape_app.gui.controls import ControlPanel

MOONS_NET = """
import torch.nn as nn

def _helper():
    return 3

def make_model(width=5):
    return nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, 1))

def wide():
    return nn.Sequential(nn.Linear(2, 12), nn.ReLU(), nn.Linear(12, 1))
"""

DIGITS_NET = """
import torch.nn as nn

def digits_net():
    return nn.Sequential(nn.Linear(64, 10))
"""

BROKEN = """
import torch.nn as nn

def make_model():
    layers = [nn.Linear(2, 4)]
    return nn.Sequential(*layers, nn.Linear(5, 1), undefined_name)
"""


@pytest.fixture
def panel(qtbot):
    p = ControlPanel(la.Experiment(data=la.make_dataset("moons", n_samples=60), model="mlp", epochs=2))
    qtbot.addWidget(p)
    return p


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_factory_names_reads_the_file_without_running_it(tmp_path):
    assert factory_names(_write(tmp_path, "net.py", MOONS_NET)) == ["make_model", "wide"]
    with pytest.raises(UserCodeError, match=r"bad\.py line 2: SyntaxError"):
        factory_names(_write(tmp_path, "bad.py", "x = 1\ndef broken(:\n"))
    with pytest.raises(ConfigError, match="defines no function"):
        factory_names(_write(tmp_path, "empty.py", "import torch\n"))
    with pytest.raises(ConfigError, match="cannot be read"):
        factory_names(tmp_path / "missing.py")


def test_a_loaded_model_becomes_the_experiments(panel, qtbot, tmp_path):
    path = _write(tmp_path, "net.py", MOONS_NET)
    with qtbot.waitSignal(panel.experiment_changed, timeout=5000) as blocker:
        panel.load_model(path)
    exp = blocker.args[0]
    assert exp.model == f"{path}:make_model" and exp.is_module
    assert exp.data.source.name == "moons"                   # the data in use fits it: kept
    assert panel.model.model.currentData() == exp.model
    assert panel.model.model.currentText() == "net.py:make_model"
    panel.load_model(path, "wide")
    assert panel.experiment.model.endswith("net.py:wide")


def test_a_model_for_other_data_brings_data_it_fits(panel, tmp_path):
    panel.load_model(_write(tmp_path, "digits_net.py", DIGITS_NET))
    exp = panel.experiment
    assert exp.model.endswith(":digits_net") and exp.data.source.name == "digits"
    assert exp.criterion == "cross-entropy"


def test_a_failing_model_changes_nothing_and_names_its_line(panel, qtbot, tmp_path):
    before = panel.experiment
    path = _write(tmp_path, "broken.py", BROKEN)
    with qtbot.assertNotEmitted(panel.experiment_changed), pytest.raises(UserCodeError):
        panel.load_model(path)
    assert panel.experiment is before
    assert "broken.py line 6" in panel.notice and "NameError" in panel.notice and "Still using" in panel.notice
    with pytest.raises(ConfigError, match="no function 'other'"):
        panel.load_model(_write(tmp_path, "net.py", MOONS_NET), "other")
    assert panel.experiment is before


def test_the_button_asks_for_the_file_and_the_function(panel, tmp_path, monkeypatch):
    path = _write(tmp_path, "net.py", MOONS_NET)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (path, "")))
    asked = []

    def get_item(parent, title, label, items, current, editable):
        asked.append((list(items), current))
        return "wide", True
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(get_item))
    panel.model.file_button.click()
    assert asked == [(["make_model", "wide"], 0)]
    assert panel.experiment.model == f"{path}:wide"



def _activate(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)


def _focus(qtbot, widget):
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=5000)


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_a_failed_load_outlines_its_own_button_until_the_focus_moves_on(panel, qtbot, tmp_path, monkeypatch):
    """A model file that cannot be used outlined *Load CSV…* (the wrong button), and the outline stayed however
    the user moved on. Now the button that failed is outlined; moving to another control clears the outline (the
    message under the panel stays until the next edit), a dialog closing or the window coming back does not."""
    from PySide6.QtWidgets import QLineEdit
    panel.show()
    _activate(qtbot, panel)
    csv, button = panel.data.csv_button, panel.model.file_button
    broken = _write(tmp_path, "broken.py", BROKEN)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (broken, "")))
    _focus(qtbot, button)
    button.click()
    assert "broken.py line 6" in panel.notice
    assert button.property("invalid") is True and "broken.py line 6" in button.toolTip()
    assert csv.property("invalid") is not True
    # Another window taking the focus and giving it back (a dialog) leaves the outline ...
    other = QLineEdit()
    qtbot.addWidget(other)
    other.show()
    _activate(qtbot, other)
    _focus(qtbot, other)
    other.close()
    _activate(qtbot, panel)
    _focus(qtbot, button)
    assert button.property("invalid") is True
    # ... the user moving on to another control clears it; the message stays.
    _focus(qtbot, panel.training.epochs)
    assert button.property("invalid") is False and button.toolTip().startswith("A network of your own")
    assert "broken.py line 6" in panel.notice and panel.error_label.isVisibleTo(panel)
    # A bad CSV outlines Load CSV… only.
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n0,1\nabc,5\n")
    with pytest.raises(la.DataError):
        panel.load_csv(str(bad))
    assert csv.property("invalid") is True and button.property("invalid") is False
    panel.close()
