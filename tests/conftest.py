"""Shared fixtures. 2-D GUI tests render offscreen; the 3-D view runs in subprocesses on pytest-xvfb's display."""
import os
import threading

# Before any Qt import: the test process renders offscreen. Tests that need OpenGL start a subprocess with
# the xcb platform on the Xvfb display that pytest-xvfb provides (see the ``gl_env`` fixture).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# Property tests draw the same examples on every machine and every run (a failure is reproducible, not luck),
# and nothing in them is limited by time: a slow or shared machine must not fail a property that holds.
settings.register_profile("landscape", derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("landscape")


@pytest.fixture
def gl_env(xvfb):
    """Environment for a subprocess that needs OpenGL: xcb on the Xvfb display of this test session."""
    if xvfb is None:
        pytest.skip("the 3-D view needs Xvfb (make test installs it)")
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "xcb"
    env["DISPLAY"] = f":{xvfb.display}"
    return env


@pytest.fixture(autouse=True)
def _own_config_dir(tmp_path_factory, monkeypatch):
    """Every test keeps the app's config (the code files trusted) in a folder of its own, never the user's."""
    monkeypatch.setenv("LANDSCAPE_APP_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture(autouse=True)
def _no_leftovers(request):
    """Fail a test that leaves a Python thread, a running QThread or a top-level window behind."""
    threads_before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    assert not leaked, f"test left threads running: {leaked}"
    import sys
    worker = sys.modules.get("landscape_app.gui.worker")
    if worker is not None:   # training threads have no QObject parent: the worker module keeps a registry
        assert not worker.live_threads(), f"test left training threads running: {worker.live_threads()}"
    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QThread
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    if app is None:
        return
    app.processEvents()
    windows = [w for w in app.topLevelWidgets() if w.isVisible()]
    for w in windows:
        w.close()
    assert not windows, f"test left top-level windows open: {windows}"
    running = [obj for obj in app.findChildren(QThread) if obj.isRunning()]
    assert not running, f"test left QThreads running: {running}"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """The main window at full speed (modules that want another override this fixture)."""
    from app_window import close_window, open_window
    w = open_window(qtbot, tmp_path, monkeypatch)
    yield w
    close_window(w)


class ThreadSpy:
    """Records, for each call of the functions it watches, its label and whether it ran on the GUI thread."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.seen: list[tuple[str, bool]] = []

    def watch(self, module, name: str, label: str) -> None:
        fn = getattr(module, name)

        def wrapped(*args, **kwargs):
            self.seen.append((label, threading.current_thread() is threading.main_thread()))
            return fn(*args, **kwargs)
        self.monkeypatch.setattr(module, name, wrapped)


@pytest.fixture
def thread_spy(monkeypatch):
    return ThreadSpy(monkeypatch)
