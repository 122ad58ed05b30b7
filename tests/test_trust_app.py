"""The app asks once before a file's code runs: File > Open (and recent files) of a session or a surface file naming
a model file shows the code file, whether it lies outside the file's folder and its SHA-256; Cancel keeps the session
shown and runs nothing, *Trust and run* opens it and remembers the file's content, so an unchanged file is not asked
about again and a changed one is. Presets and the panel's *Load model…* never ask."""
import hashlib
import os
from pathlib import Path

import platformdirs
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog

import landscape_app as la
from landscape_app.core.errors import UntrustedCodeError
from landscape_app.gui import app as app_main, trusted_files
from landscape_app.gui.main_menus import recent_sessions
from landscape_app.gui.trust_dialog import TRUST_TEXT, TrustDialog, confirm_trust

from app_window import settle
from trust_files import write_model, write_session, write_surface_files

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

ACCEPT, REJECT = QDialog.DialogCode.Accepted.value, QDialog.DialogCode.Rejected.value


class Answers:
    """The trust dialog's answers, given without showing it: each ``exec`` takes the next one and records what the
    dialog showed. An ``exec`` with no answer left fails the test (it asked when it should not)."""

    def __init__(self):
        self.queue: list[int] = []
        self.shown: list[dict] = []

    def exec(self, dialog) -> int:
        self.shown.append({"hashes": dict(dialog.hashes), "text": " ".join(w.text() for w in dialog.file_labels),
                           "trust": dialog.trust_button.text()})
        assert self.queue, "the trust dialog asked when it should not"
        return self.queue.pop(0)


@pytest.fixture
def answers(monkeypatch):
    a = Answers()
    monkeypatch.setattr(TrustDialog, "exec", lambda dialog: a.exec(dialog))
    return a


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "ran.txt"


@pytest.fixture
def model(tmp_path, marker):
    return write_model(tmp_path / "elsewhere", marker)


@pytest.fixture
def session_file(tmp_path, model, marker):
    (tmp_path / "lessons").mkdir()
    path = write_session(tmp_path / "lessons" / "s.toml", model)
    marker.unlink()
    return path


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_cancel_keeps_the_session_and_runs_nothing(window, answers, session_file, model, marker):
    before, path = window.session, window.path
    answers.queue = [REJECT]
    assert not window.open_path(str(session_file))
    assert window.session is before and window.path == path
    assert not marker.exists()
    assert str(session_file.resolve()) not in recent_sessions()
    assert trusted_files.trusted() == {}
    (shown,) = answers.shown
    assert str(model) in shown["text"] and "Outside the folder of s.toml" in shown["text"]
    assert shown["hashes"] == {model: _sha(model)} and shown["trust"] == TRUST_TEXT


def test_trust_runs_and_is_remembered_until_the_file_changes(window, qtbot, answers, session_file, model, marker):
    answers.queue = [ACCEPT]
    assert window.open_path(str(session_file))
    settle(qtbot, window)
    assert marker.exists() and window.path == str(session_file) and window.session.title == "Lesson"
    assert trusted_files.trusted() == {str(model): _sha(model)}
    assert str(session_file.resolve()) in recent_sessions()

    # Unchanged: opened again (as from the recent files) without asking.
    marker.unlink()
    assert window.open_path(str(session_file))
    settle(qtbot, window)
    assert marker.exists() and len(answers.shown) == 1

    # Changed: asked again; Cancel keeps what is shown, Trust opens it and remembers the new content.
    model.write_text(model.read_text() + "\n# changed\n")
    marker.unlink()
    opened = window.session
    answers.queue = [REJECT]
    assert not window.open_path(str(session_file))
    assert window.session is opened and not marker.exists() and len(answers.shown) == 2
    answers.queue = [ACCEPT]
    assert window.open_path(str(session_file))
    settle(qtbot, window)
    assert marker.exists() and trusted_files.trusted() == {str(model): _sha(model)}


@pytest.mark.parametrize("suffix", [".npz", ".h5", ".csv"])
def test_a_surface_file_naming_code_asks_too(window, qtbot, answers, tmp_path, model, marker, suffix):
    (tmp_path / "files").mkdir()
    path = write_surface_files(tmp_path / "files", model, (suffix,))[suffix]
    marker.unlink()
    before = window.session
    answers.queue = [REJECT]
    assert not window.open_path(str(path))
    assert window.session is before and window.controller.static is None and not marker.exists()
    assert f"Outside the folder of {path.name}" in answers.shown[0]["text"]
    answers.queue = [ACCEPT]
    assert window.open_path(str(path))
    settle(qtbot, window)
    assert marker.exists() and window.controller.static is not None      # a network's plane: the surface alone


def test_the_dialogs_buttons(window, qtbot, session_file, model, marker):
    """The real dialog, clicked: Cancel is the default (Enter runs nothing), Trust and run trusts."""
    with pytest.raises(UntrustedCodeError) as info:
        la.load_session(session_file)
    clicked = []

    def click(name):
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, TrustDialog):      # not shown yet: look again
            QTimer.singleShot(10, lambda: click(name))
            return
        assert dialog.cancel_button.isDefault() and not dialog.trust_button.isDefault()
        clicked.append(name)
        getattr(dialog, name).click()

    QTimer.singleShot(0, lambda: click("cancel_button"))
    assert not confirm_trust(info.value, window)
    QTimer.singleShot(0, lambda: click("trust_button"))
    assert confirm_trust(info.value, window)
    assert clicked == ["cancel_button", "trust_button"]
    assert trusted_files.trusted() == {str(model): _sha(model)}
    assert confirm_trust(info.value, window)            # remembered: no dialog (none would be answered)
    assert not marker.exists()                          # asking runs nothing


def test_presets_and_load_model_never_ask(window, qtbot, answers, model, marker):
    window.open_preset("mlp-moons")
    settle(qtbot, window)
    assert window.session.title and not answers.shown
    window.panel.load_model(str(model), "make")
    settle(qtbot, window)
    assert marker.exists() and window.experiment.model == f"{model}:make" and not answers.shown


def test_the_command_lines_file_asks_once_unless_trusted(qapp, answers, session_file, model, marker):
    args = app_main.build_parser().parse_args([str(session_file)])
    answers.queue = [REJECT]
    with pytest.raises(UntrustedCodeError):
        app_main._load_trusting(args)
    assert not marker.exists()
    answers.queue = [ACCEPT]
    session, path, _ = app_main._load_trusting(args)
    assert marker.exists() and path == str(session_file) and session.title == "Lesson"
    marker.unlink()
    assert app_main._load_trusting(args)[0].title == "Lesson" and marker.exists() and len(answers.shown) == 2
    # --trust: no dialog, nothing remembered for it.
    model.write_text(model.read_text() + "\n# changed\n")
    args = app_main.build_parser().parse_args([str(session_file), "--trust"])
    assert app_main._load_trusting(args)[0].title == "Lesson" and len(answers.shown) == 2


def test_the_store_lives_in_the_config_folder_and_a_damaged_one_trusts_nothing(tmp_path, monkeypatch, model):
    real = Path(platformdirs.user_config_dir("landscape-app", appauthor=False))
    assert trusted_files.store_path().parent == Path(os.environ[trusted_files.CONFIG_ENV]) != real   # conftest's
    trusted_files.remember({model: _sha(model)})
    assert trusted_files.is_trusted(model, _sha(model)) and not trusted_files.is_trusted(model, "0" * 64)
    trusted_files.store_path().write_text("files = [not toml")
    assert trusted_files.trusted() == {} and not trusted_files.is_trusted(model, _sha(model))
    monkeypatch.delenv(trusted_files.CONFIG_ENV)
    assert trusted_files.config_dir() == real
