"""What the window says stays true after edits: a title and description that no longer describe the runs are
marked edited (in the window, the saved TOML and exported frames), run names keep one format and follow their
learning rate, a bad CSV leaves the good data playable, and closing an edited session asks first."""
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QMessageBox

import landscape_app as la
from landscape_app.core.session import Session, default_run_name
from landscape_app.core.tomlio import load_session, session_from_dict
from landscape_app.export.frames import FrameRenderer
from landscape_app.export.plan import make_plan
from landscape_app.export.scene import prepare_scene
from landscape_app.gui import race
from landscape_app.gui.formula_text import keep_formulas_whole

from app_window import close_window, open_window, settle, type_into as _type

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

COURSE_TEXT = "from w = -15, b = -10 with lr 0.1"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, tmp_path, monkeypatch, fast=False)
    yield w
    close_window(w)


# -- descriptions that no longer hold ------------------------------------------------------------------------
def test_moving_the_start_marks_the_description_and_moving_it_back_unmarks(window):
    title, description = window.session.title, window.session.description
    assert COURSE_TEXT in description and not window.session.edited
    shown = keep_formulas_whole(description)        # shown with its formulas whole ("y = x - 1" on one line)
    assert window.title_label.text() == title and window.description_label.text() == shown
    window.set_start_point(5.0, 7.0)
    assert window.session.edited
    assert window.title_label.text() == f"{title} (edited)"
    assert window.description_label.text() == f"Originally: {shown}"
    assert window.description_label.isVisibleTo(window) and "describe the original" in window.title_label.toolTip()
    window.set_start_point(-15.0, -10.0)          # the runs the description was written for, again
    assert not window.session.edited and window.title_label.text() == title
    assert window.description_label.text() == shown and window.title_label.toolTip() == ""


@pytest.mark.parametrize("edit", ["add run", "learning rate", "data"])
def test_other_edits_mark_it_too(window, edit):
    if edit == "add run":
        window.add_run()
    elif edit == "learning rate":
        _type(window.panel.optimizer.lr.entry, "0.3")
    else:
        _type(window.panel.data.knobs["noise"], "0.5")
    assert window.session.edited and window.title_label.text().endswith("(edited)")
    assert window.description_label.text().startswith("Originally: ")


def test_renaming_a_run_changes_no_description(window):
    window.rename_run(0, "my run")
    assert not window.session.edited and window.session.names == ("my run",)


def test_saved_toml_and_exported_frames_say_edited(window, qtbot, tmp_path):
    window.set_start_point(4.0, 3.0)
    path = tmp_path / "moved.toml"
    assert window.save_to(path)
    text = path.read_text()
    assert "edited = true" in text and COURSE_TEXT in text      # the original's words, marked as such
    back = load_session(path)
    assert back.edited and back.runs[0].start == (4.0, 3.0)
    assert back.shown_title.endswith(" (edited)") and back.shown_description.startswith("Originally: ")
    window.new_session()
    assert window.open_path(str(path))
    assert window.title_label.text().endswith("(edited)")
    window.set_start_point(-15.0, -10.0)        # the original is not known any more: the mark stays
    assert window.session.edited

    short = Session(back.runs, title="Moved", description="A short line.", edited=True)
    plan = make_plan(str(tmp_path / "still.png"), views="contour", size=(640, 360))
    with FrameRenderer(prepare_scene(short), plan) as renderer:
        texts = [label.text() for label in renderer.window.findChildren(QLabel)]
    assert renderer.title.text() == "Moved (edited)"
    assert "Originally: A short line." in texts


def test_export_dialog_takes_the_marked_title(qtbot):
    from landscape_app.gui.export_dialog import ExportDialog
    exp = la.Experiment(grid=la.Grid(resolution=(31, 31)), epochs=2)
    dialog = ExportDialog(Session((exp,), title="Race", description="d", edited=True))
    qtbot.addWidget(dialog)
    try:
        assert dialog.title.text() == "Race (edited)"
    finally:
        dialog.done(0)


def test_session_edited_flag_is_checked():
    exp = la.Experiment()
    with pytest.raises(la.ConfigError, match="^edited: must be true or false"):
        Session((exp,), edited="yes")
    with pytest.raises(la.ConfigError, match="^edited: must be true or false"):
        session_from_dict({"experiment": {}, "edited": 1})
    assert not session_from_dict({"experiment": {}}).edited
    assert Session((exp,), edited=True).shown_title == ""       # nothing to mark


# -- run names --------------------------------------------------------------------------------------------
def test_run_names_have_one_format():
    exp = la.Experiment()
    assert default_run_name(exp) == "SGD, lr 0.1"
    assert default_run_name(exp.replace(optimizer="adam", lr=1.0)) == "Adam, lr 1"
    assert default_run_name(exp.replace(optimizer_options={"momentum": 0.9}, lr=0.02)) == "SGD momentum 0.9, lr 0.02"
    session = race.add_run(Session((exp,), names=("SGD, lr 0.1",)), 0)
    assert session.names[1] == default_run_name(session.runs[1])
    assert all(", lr " in name for name in session.names)


def test_names_in_that_format_follow_their_learning_rate():
    exp = la.Experiment()
    session = Session((exp, exp, exp), names=("SGD, lr 0.1", "MSE, lr 0.1", "lr 0.1: walks down"))
    for row in range(3):
        session = race.replace_run(session, row, session.runs[row].replace(lr=0.3))
    assert session.names == ("SGD, lr 0.3", "MSE, lr 0.3", "lr 0.1: walks down")   # the last is the user's own
    session = race.replace_run(session, 1, session.runs[1].replace(epochs=3))
    assert session.names[1] == "MSE, lr 0.3"


def test_preset_names_follow_an_edit(window):
    window.apply_preset("adam-vs-sgd")
    assert window.session.names[0] == "SGD, lr 0.1" == default_run_name(window.session.runs[0])
    _type(window.panel.optimizer.lr.entry, "0.05")
    assert window.session.names[0] == "SGD, lr 0.05"
    assert window.runs_panel.list.item(0).text().startswith("SGD, lr 0.05")


# -- typed entries in the window ---------------------------------------------------------------------------------
def test_the_surface_waits_for_a_finished_range_and_play_takes_what_is_typed(window, qtbot):
    from PySide6.QtCore import Qt
    lo = window.panel.grid.ranges[0][0]
    lo.clear()
    qtbot.keyClicks(lo, "-3")                    # on the way to "-30"
    assert window.views.contour.experiment.grid.x_range == (-20.0, 20.0) and not window.session.edited
    qtbot.keyClicks(lo, "0")
    qtbot.keyClick(lo, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert window.views.contour.experiment.grid.x_range == (-30.0, 20.0)
    epochs = window.panel.training.epochs
    epochs.clear()
    qtbot.keyClicks(epochs, "5")                  # still in the entry when Play is clicked (it takes no focus)
    window.toggle_play()
    assert window.session.runs[0].epochs == 5 and window.playback.experiments[0].epochs == 5
    window.playback.pause()


# -- a bad CSV in the window --------------------------------------------------------------------------------
def test_a_bad_csv_leaves_play_enabled(window, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("x,y\n0,1\n1,3\n2,5\n3,7\n")
    bad.write_text("x,y\n0,1\n1,3\nabc,5\n3,7\n")
    window.panel.load_csv(str(good))
    with pytest.raises(la.DataError):
        window.panel.load_csv(str(bad))
    assert window.transport.play_button.isEnabled() and window.actions_by_name["play"].isEnabled()
    assert "line 4" in window.panel.error_label.text()
    assert window.session.runs[0].data.source.path == str(good)
    window.panel.load_csv(str(good))
    assert not window.panel.error_label.isVisibleTo(window) and window.transport.play_button.isEnabled()


def test_loading_smaller_data_after_steps_draws_no_stale_batch(window, qtbot, tmp_path):
    window.playback.set_speed(None)
    window.apply_preset("batch-sizes")            # mini-batches of the 60 samples, highlighted in the data view
    qtbot.waitUntil(lambda: all(len(p) >= 1 for p in window.playback.paths().values()), timeout=30_000)
    for _ in range(3):
        with qtbot.waitSignal(window.playback.idle, timeout=30_000):
            window.step()
    window.redraw()
    small = tmp_path / "small.csv"
    small.write_text("x,y\n0,1\n1,3\n2,5\n3,7\n")
    window.panel.load_csv(str(small))             # the old paths' batches index samples 4..59: none are drawn
    qtbot.wait(50)
    window.redraw()
    assert len(window.session.runs[0].data) == 4


# -- closing an edited session --------------------------------------------------------------------------------
def _answer(window, button, seen):
    """Press ``button`` in the close question as soon as it is shown (it runs its own event loop)."""
    def press():
        if window.discard_box is None:
            QTimer.singleShot(10, press)
            return
        seen.append(window.discard_box.text())
        window.discard_box.button(button).click()
    QTimer.singleShot(0, press)


def test_closing_unchanged_does_not_ask(window):
    window.confirm_discard = True
    window.set_start_point(5.0, 7.0)
    window.set_start_point(-15.0, -10.0)       # back as it was opened
    assert not window.unsaved
    assert window.close() and not window.isVisible()


def test_closing_edited_asks_and_cancel_keeps_the_window(window):
    window.confirm_discard = True
    window.add_run()
    assert window.unsaved and window.isWindowModified()
    seen = []
    _answer(window, QMessageBox.StandardButton.Cancel, seen)
    assert not window.close()
    assert window.isVisible() and len(seen) == 1 and "Save the edited session" in seen[0]
    _answer(window, QMessageBox.StandardButton.Discard, seen)
    assert window.close() and not window.isVisible() and len(seen) == 2


def test_closing_edited_can_save_first(window, tmp_path):
    path = tmp_path / "race.toml"
    assert window.save_to(path)
    window.confirm_discard = True
    window.add_run()
    seen = []
    _answer(window, QMessageBox.StandardButton.Save, seen)
    assert window.close() and len(seen) == 1 and "race.toml" in seen[0]
    assert len(load_session(path).runs) == 2 and load_session(path).edited


def test_saving_clears_unsaved(window, tmp_path):
    window.set_start_point(1.0, 1.0)
    assert window.unsaved and window.isWindowModified()
    window.save_to(tmp_path / "s.toml")
    assert not window.unsaved and not window.isWindowModified() and window.session.edited


def test_a_window_not_told_to_confirm_never_asks(window):
    window.add_run()                    # tests and --quit-after screenshots: confirm_discard stays off
    assert window.unsaved and not window.confirm_discard
    assert window.close() and window.discard_box is None


def test_opening_a_preset_or_new_over_edits_asks_too(window):
    window.confirm_discard = True
    window.set_start_point(2.0, 2.0)
    seen = []
    _answer(window, QMessageBox.StandardButton.Cancel, seen)
    window.open_preset("adam-vs-sgd")
    assert len(seen) == 1 and "before opening the preset" in seen[0]
    assert len(window.session.runs) == 1 and window.session.runs[0].start == (2.0, 2.0)     # kept
    _answer(window, QMessageBox.StandardButton.Discard, seen)
    window.open_preset("adam-vs-sgd")
    assert len(seen) == 2 and len(window.session.runs) == 4 and not window.unsaved
    window.new_session()                          # nothing edited since: no question
    assert len(seen) == 2 and len(window.session.runs) == 1
