"""The main window's menus and keyboard shortcuts, and the recent-sessions list kept in QSettings.

Settings live in the user's normal place, unless ``LANDSCAPE_APP_SETTINGS`` names an ini file (tests point it
into a temporary folder so they never touch the user's real settings).
"""
from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence

from ..core.presets import list_presets

MAX_RECENT = 8
SETTINGS_ENV = "LANDSCAPE_APP_SETTINGS"


def settings() -> QSettings:
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("landscape-app", "landscape-app")


def recent_sessions() -> list[str]:
    value = settings().value("recent_sessions", [])
    if isinstance(value, str):       # QSettings returns a lone string for a one-item list (ini format)
        value = [value]
    return [str(v) for v in (value or []) if str(v)]


def remember_session(path) -> None:
    path = str(Path(path).resolve())
    items = [path] + [p for p in recent_sessions() if p != path]
    s = settings()
    s.setValue("recent_sessions", items[:MAX_RECENT])
    s.sync()


def _action(window, text: str, slot, shortcut=None, checkable: bool = False, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setCheckable(checkable)
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(slot)
    window.addAction(action)     # shortcuts work in full screen too, where the menu bar may be hidden
    return action


def build_menus(window) -> dict[str, QAction]:
    """Create the File, Run, View and Presets menus; returns the actions by name."""
    bar = window.menuBar()
    a: dict[str, QAction] = {}

    file = bar.addMenu("&File")
    a["new"] = _action(window, "&New", window.new_session, QKeySequence.StandardKey.New,
                       tip="The default experiment")
    a["open"] = _action(window, "&Open session…", window.open_session_dialog, QKeySequence.StandardKey.Open)
    a["open_surface"] = _action(window, "Open s&urface…", window.open_surface_dialog, "Ctrl+Shift+O",
                                tip="Draw a surface file: HDF5 (ours or loss-landscape's), or our NPZ or CSV")
    window.recent_menu = file.addMenu("Open &recent")
    a["save"] = _action(window, "&Save session", window.save_session, QKeySequence.StandardKey.Save)
    a["save_as"] = _action(window, "Save session &as…", window.save_session_as, QKeySequence.StandardKey.SaveAs)
    a["load_csv"] = _action(window, "Load &CSV data…", window.panel.choose_csv,
                            tip="Fit your own data: columns x,y or x1,x2,y")
    a["export"] = _action(window, "&Export animation…", window.open_export_dialog, "Ctrl+E",
                          tip="MP4, GIF or PNG frames of the run")
    a["quit"] = _action(window, "&Quit", window.close, QKeySequence.StandardKey.Quit)
    file.addAction(a["new"])
    file.addAction(a["open"])
    file.addAction(a["open_surface"])
    file.addMenu(window.recent_menu)
    file.addSeparator()
    for key in ("save", "save_as"):
        file.addAction(a[key])
    file.addSeparator()
    file.addAction(a["load_csv"])
    file.addAction(a["export"])
    file.addSeparator()
    file.addAction(a["quit"])
    window.recent_menu.aboutToShow.connect(lambda: fill_recent(window))

    run = bar.addMenu("&Run")
    a["play"] = _action(window, "Play / Pause", window.toggle_play, Qt.Key.Key_Space)
    a["step"] = _action(window, "Step one iteration", window.step, Qt.Key.Key_Right)
    a["reset"] = _action(window, "Reset", window.reset, Qt.Key.Key_R)
    a["add_run"] = _action(window, "Add a run to the race", window.add_run, "Ctrl+Shift+N")
    for key in ("play", "step", "reset"):
        run.addAction(a[key])
    run.addSeparator()
    run.addAction(a["add_run"])

    view = bar.addMenu("&View")
    a["lecture"] = _action(window, "&Lecture mode (large text, thick lines)", window.set_lecture_mode,
                           "Ctrl+L", checkable=True)
    a["log_scale"] = _action(window, "Log colour scale", window.set_log_scale, checkable=True)
    a["gradient"] = _action(window, "Gradient field", window.set_gradient_field, checkable=True,
                            tip="Arrows of the negative gradient: where plain gradient descent would go")
    a["minibatch"] = _action(window, "Mini-batch view", window.set_minibatch_view, "Ctrl+B", checkable=True,
                             tip="Beside the full surface, the surface of the batch the current step descends")
    a["accuracy"] = _action(window, "Accuracy surface", window.set_accuracy_surface, checkable=True,
                            tip="A classifying network's surface shows the fraction classified right instead of "
                                "its loss (recomputed; the runs go on)")
    a["log_loss"] = _action(window, "Log scale for the loss curve", window.set_log_loss, checkable=True)
    a["own_losses"] = _action(window, "Loss curve: each run's own loss", window.set_own_losses, checkable=True,
                              tip="Each run's curve in its own training loss (the axis then mixes units) instead "
                                  "of every run's loss on the shown surface's criterion")
    a["fullscreen"] = _action(window, "&Full screen", window.toggle_full_screen, Qt.Key.Key_F, checkable=True)
    a["panel"] = _action(window, "&Control panel", window.set_panel_visible, Qt.Key.Key_P, checkable=True,
                         tip="The runs and their settings on the left; lecture mode hides them for the views")
    a["panel"].setChecked(True)
    for key in ("lecture", "panel", "log_scale", "gradient", "minibatch", "accuracy", "log_loss", "own_losses",
                "fullscreen"):
        view.addAction(a[key])

    presets = bar.addMenu("&Presets")
    for preset in list_presets():
        action = QAction(preset.title, window)
        action.setStatusTip(preset.description)
        action.setToolTip(preset.description)
        action.triggered.connect(partial(window.open_preset, preset.name))
        presets.addAction(action)
    presets.setToolTipsVisible(True)
    return a


def fill_recent(window) -> None:
    menu = window.recent_menu
    menu.clear()
    paths = recent_sessions()
    if not paths:
        empty = menu.addAction("(none yet)")
        empty.setEnabled(False)
        return
    for path in paths:
        action = menu.addAction(Path(path).name)
        action.setToolTip(path)
        action.triggered.connect(partial(window.open_path, path))
