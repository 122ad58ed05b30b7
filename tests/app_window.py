"""What the window tests share: opening the main window offscreen, typing into a field, waiting for paths."""
from landscape_app.gui.main_window import MainWindow
from landscape_app.gui.playback import FINISHED

WAIT = 30_000     # ms: generous; tests never assert on time


def open_window(qtbot, tmp_path, monkeypatch, session=None, fast: bool = True) -> MainWindow:
    """A shown main window with its own settings file; ``fast``: training and playback at full speed."""
    monkeypatch.setenv("LANDSCAPE_APP_SETTINGS", str(tmp_path / "settings.ini"))
    w = MainWindow() if session is None else MainWindow(session)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    if fast:
        w.transport.set_speed(None)
        w.playback.set_speed(None)
    settle(qtbot, w)
    return w


def close_window(w: MainWindow) -> None:
    if w.message_box is not None:
        w.message_box.close()
    w.confirm_discard = False
    w.close()


def settle(qtbot, w) -> None:
    """Wait until the surfaces and lifted losses the window asked for (off the GUI thread) arrived, and draw."""
    def settled():
        w.redraw()
        return not w.scene.busy
    qtbot.waitUntil(settled, timeout=WAIT)
    w.playback.dirty = True
    w.redraw()


def type_into(field, text) -> None:
    """Type a whole entry and finish it, as Enter does."""
    field.setText(text)
    field.edited.emit()


def lengths(w) -> list[int]:
    return [len(p) for p in w.playback.paths().values()]


def ready(qtbot, w) -> None:
    qtbot.waitUntil(lambda: bool(lengths(w)) and all(n >= 1 for n in lengths(w)), timeout=WAIT)


def play_to_end(qtbot, w) -> None:
    """Train every run to its end: Play, or, where the runs train ahead for a plane fitted to them (a network's
    default), wait for them."""
    ready(qtbot, w)
    if w.controller.fitting.training_ahead or w.playback.state == FINISHED:
        qtbot.waitUntil(lambda: w.playback.state == FINISHED, timeout=WAIT)
    else:
        with qtbot.waitSignal(w.playback.state_changed, timeout=WAIT, check_params_cb=lambda s: s == FINISHED):
            w.toggle_play()
    settle(qtbot, w)
