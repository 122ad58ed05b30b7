"""The app imports a model file off the GUI thread: a file that loops while importing leaves the window responsive
and is refused on Cancel or after the time limit, with the session in use kept; one that calls sys.exit is a
message, never a closed window. Covers the panel's *Load model…*, *File > Open* of a session naming a model file
(once trusted) and the command line's file. The time limits are tiny here; no assertion is on a duration."""
import threading

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QProgressDialog, QPushButton

import landscape_app as la
from landscape_app.core.modelspec import UserCodeError
from landscape_app.gui import app as app_main, user_code
from landscape_app.gui.trust_dialog import TrustDialog
from landscape_app.gui.user_code import UnfinishedImport, run_user_code

from trust_files import write_session

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

# Loops (pure Python, as `while True: pass` does) until the test lets it go, so that its thread can end.
LOOPS = """import os
while not os.path.exists({release!r}):
    pass
import torch.nn as nn


def make(width=3):
    return nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, 1))
"""

EXITS = """import sys
import torch.nn as nn
sys.exit(0)


def make(width=3):
    return nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, 1))
"""


@pytest.fixture
def release(tmp_path):
    """The file whose existence ends the looping imports; made at teardown, and their threads joined."""
    path = tmp_path / "release"
    yield path
    path.write_text("go")
    for thread in threading.enumerate():
        if thread.name == "landscape-user-code":
            thread.join(60)


@pytest.fixture
def looping(tmp_path, release):
    path = tmp_path / "lesson.py"
    path.write_text(LOOPS.format(release=str(release)))
    return path


@pytest.fixture
def exiting(tmp_path):
    path = tmp_path / "exits.py"
    path.write_text(EXITS)
    return path


@pytest.fixture
def trusting(monkeypatch):
    """The trust dialog answers Trust and run, unseen."""
    monkeypatch.setattr(TrustDialog, "exec", lambda dialog: QDialog.DialogCode.Accepted.value)


class Ticks:
    """A timer of the GUI thread, counting its ticks: it fires only while the thread handles events. From the
    ``after``-th tick on it calls ``then`` on every tick until that returns True."""

    def __init__(self, then, after: int = 3):
        self.count, self.then, self.after, self.done = 0, then, after, False
        self.timer = QTimer()
        self.timer.timeout.connect(self._tick)
        self.timer.start(10)

    def _tick(self):
        self.count += 1
        if self.count >= self.after and not self.done:
            self.done = self.then()

    def stop(self):
        self.timer.stop()


def _shown_progress() -> list[QProgressDialog]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QProgressDialog) and w.isVisible()]


def _cancel_the_dialog() -> bool:
    """Cancel the import's dialog, once it shows (False: not yet)."""
    shown = _shown_progress()
    if not shown:
        return False
    (dialog,) = shown
    assert dialog.labelText() == "Importing lesson.py…"
    dialog.findChild(QPushButton).click()
    return True


def test_the_work_runs_off_the_gui_thread_and_gives_its_value_or_error(qapp):
    assert run_user_code(lambda: threading.current_thread() is threading.main_thread(), "x.py") is False
    with pytest.raises(UserCodeError, match="boom"):
        run_user_code(lambda: (_ for _ in ()).throw(UserCodeError("boom")), "x.py")
    with pytest.raises(UserCodeError, match=r"sys\.exit\(4\) \(SystemExit\).*\(while importing x\.py\)"):
        run_user_code(lambda: exec("import sys; sys.exit(4)"), "x.py")


def test_a_looping_import_is_cancelled_and_the_window_answers_meanwhile(qapp, monkeypatch, looping):
    monkeypatch.setattr(user_code, "SHOW_AFTER_MS", 0)
    monkeypatch.setattr(user_code, "IMPORT_TIMEOUT_S", 120.0)     # only Cancel ends it (a failure: not in time)
    ticks = Ticks(then=_cancel_the_dialog)
    try:
        with pytest.raises(UnfinishedImport, match=r"lesson\.py did not finish importing within \d+ s \(cancelled\)"):
            run_user_code(lambda: la.Experiment(data=la.make_dataset("moons", n_samples=20),
                                                model=f"{looping}:make"), "lesson.py")
    finally:
        ticks.stop()
    assert ticks.done and ticks.count >= 3      # the GUI thread's timers fired while the file looped
    assert not _shown_progress()


def test_load_model_refuses_a_looping_file_after_the_limit_and_keeps_the_model(window, qtbot, monkeypatch, looping):
    monkeypatch.setattr(user_code, "IMPORT_TIMEOUT_S", 0.05)
    before, session = window.panel.experiment, window.session
    with pytest.raises(UnfinishedImport):
        window.panel.load_model(str(looping), "make")
    assert window.panel.experiment is before and window.session is session
    notice = window.panel.error_label.text()
    assert "lesson.py did not finish importing within 0.05 s" in notice and "Still using" in notice


def test_load_model_of_a_file_that_exits_is_a_message(window, qtbot, exiting):
    before, session = window.panel.experiment, window.session
    with pytest.raises(UserCodeError):
        window.panel.load_model(str(exiting), "make")
    assert window.isVisible() and window.panel.experiment is before and window.session is session
    assert f"{exiting} line 3: sys.exit(0) (SystemExit)" in window.panel.error_label.text()


def _opened_error(window) -> str:
    box = window.message_box
    assert box is not None and box.isVisible()
    return box.text()


def test_opening_a_session_whose_model_loops_keeps_the_session(window, qtbot, monkeypatch, trusting, tmp_path,
                                                               looping):
    monkeypatch.setattr(user_code, "IMPORT_TIMEOUT_S", 0.05)
    path = tmp_path / "s.toml"
    looping_text = looping.read_text()
    looping.write_text(EXITS.replace("sys.exit(0)", ""))     # a good file to write the session with
    write_session(path, looping)
    looping.write_text(looping_text)
    before = window.session
    assert not window.open_path(str(path))
    assert window.session is before and window.path != str(path)
    assert "lesson.py did not finish importing within 0.05 s" in _opened_error(window)


def test_opening_a_session_whose_model_exits_is_a_dialog(window, qtbot, trusting, tmp_path, exiting):
    path = tmp_path / "s.toml"
    good = exiting.read_text()
    exiting.write_text(good.replace("sys.exit(0)", ""))
    write_session(path, exiting)
    exiting.write_text(good)
    before = window.session
    assert not window.open_path(str(path))
    assert window.isVisible() and window.session is before
    assert f"{exiting} line 3: sys.exit(0) (SystemExit)" in _opened_error(window)


def test_the_command_lines_file_that_loops_is_refused(qapp, monkeypatch, tmp_path, looping, capsys):
    monkeypatch.setattr(user_code, "IMPORT_TIMEOUT_S", 0.05)
    path = tmp_path / "s.toml"
    looping_text = looping.read_text()
    looping.write_text(EXITS.replace("sys.exit(0)", ""))
    write_session(path, looping)
    looping.write_text(looping_text)
    args = app_main.build_parser().parse_args([str(path), "--trust"])
    with pytest.raises(UnfinishedImport, match="lesson.py did not finish importing"):
        app_main._load_trusting(args)


def test_the_command_lines_file_that_exits_is_one_line_and_exit_2(qapp, monkeypatch, tmp_path, exiting, capsys):
    monkeypatch.setattr(app_main, "_preload_opengl", lambda: None)     # no helper thread: nothing draws here
    path = tmp_path / "s.toml"
    good = exiting.read_text()
    exiting.write_text(good.replace("sys.exit(0)", ""))
    write_session(path, exiting)
    exiting.write_text(good)
    assert app_main.main([str(path), "--trust", "--quit-after", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{exiting} line 3: sys.exit(0) (SystemExit)" in err
