"""`landscape-app` on a machine where Qt could not open a window says why in one line and exits 2, instead of
Qt's abort: a missing library of Qt's X11 platform (named with its Debian package), or no display at all."""
import ctypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from landscape_app.gui.qt_platform import XCB_LIBRARIES, window_problem

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = Path("/qt/plugins/platforms/libqxcb.so")


def loader(*missing):
    """A loader's test that finds every library but those named (sonames, or the plugin's path)."""
    tried = []

    def load(name):
        tried.append(name)
        return f"{name}: cannot open shared object file: No such file or directory" if name in missing else None
    load.tried = tried
    return load


def problem(environ, *missing, answers=True):
    return window_problem(environ, load=loader(*missing), plugin=lambda: PLUGIN, answers=lambda display: answers)


X11 = {"DISPLAY": ":0"}


def test_a_missing_xcb_cursor_names_its_debian_package():
    line = problem(X11, "libxcb-cursor.so.0")
    assert line == ("Qt cannot open a window, for want of libxcb-cursor.so.0: install the Debian package "
                    "libxcb-cursor0 (sudo apt-get install libxcb-cursor0)")


def test_everything_present_says_nothing():
    load = loader()
    assert window_problem(X11, load=load, plugin=lambda: PLUGIN, answers=lambda d: True) is None
    assert set(load.tried) == set(XCB_LIBRARIES) | {str(PLUGIN)}


def test_several_missing_are_named_together_on_one_line():
    line = problem(X11, "libxcb-icccm.so.4", "libxkbcommon-x11.so.0", "libxcb-cursor.so.0")
    assert "\n" not in line
    assert line.endswith("install the Debian packages libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 "
                         "(sudo apt-get install libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4)")


def test_a_library_the_list_does_not_know_is_named_by_the_loader():
    line = window_problem(X11, load=lambda name: "libfoo.so.1: cannot open shared object file" if name ==
                          str(PLUGIN) else None, plugin=lambda: PLUGIN, answers=lambda d: True)
    assert line == "Qt cannot open a window: its X11 platform plugin does not load (libfoo.so.1: cannot open " \
                   "shared object file)"


@pytest.mark.parametrize("environ", [{}, {"QT_QPA_PLATFORM": "xcb"}, {"QT_QPA_PLATFORM": "xcb:nograb"},
                                     {"WAYLAND_DISPLAY": "wayland-9", "XDG_RUNTIME_DIR": "/nonexistent"}])
def test_no_display_is_one_line_and_no_library_is_tried(environ):
    load = loader(*XCB_LIBRARIES)
    line = window_problem(environ, load=load, plugin=lambda: PLUGIN, answers=lambda d: True)
    assert line.startswith("no display to open the window on (") and "headless commands" in line
    assert "WAYLAND_DISPLAY=wayland-9" in line if environ.get("WAYLAND_DISPLAY") else "neither DISPLAY" in line
    assert load.tried == []


def test_an_x_server_that_does_not_answer_is_named():
    line = problem({"DISPLAY": ":77"}, answers=False)
    assert line.startswith("no X server answers at DISPLAY=:77")
    assert problem({"DISPLAY": "odd/form:0"}, answers=False) is None     # a form we cannot ask is left to Qt


@pytest.mark.parametrize("platform", ["offscreen", "minimal", "eglfs", "vnc", "wayland"])
def test_another_platform_chosen_is_not_judged(platform):
    assert problem({"QT_QPA_PLATFORM": platform}, *XCB_LIBRARIES) is None


def test_a_wayland_session_is_trusted_and_falls_back_to_x11_like_qt(tmp_path):
    (tmp_path / "wayland-1").touch()
    session = {"WAYLAND_DISPLAY": "wayland-1", "XDG_RUNTIME_DIR": str(tmp_path), "DISPLAY": ":0"}
    assert problem(session, "libxcb-cursor.so.0") is None
    by_type = {"XDG_SESSION_TYPE": "wayland", "XDG_RUNTIME_DIR": str(tmp_path), "DISPLAY": ":0"}
    assert "libxcb-cursor0" in problem(by_type, "libxcb-cursor.so.0")      # its default socket is not there
    (tmp_path / "wayland-0").touch()
    assert problem(by_type, "libxcb-cursor.so.0") is None
    gone = {**session, "WAYLAND_DISPLAY": "wayland-2"}      # no compositor there: Qt goes on to X11
    assert "libxcb-cursor0" in problem(gone, "libxcb-cursor.so.0")
    assert "libxcb-cursor0" in problem({**session, "QT_QPA_PLATFORM": "xcb"}, "libxcb-cursor.so.0")


def test_the_packages_named_are_those_make_installs():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    listed = set(re.search(r"^DEBIAN_PACKAGES\s*=(.*)$", makefile, re.M).group(1).split())
    assert set(XCB_LIBRARIES.values()) <= listed


def test_the_real_libraries_and_plugin_load_here(gl_env):
    """Where `make test` installed the packages, the real loader finds every library named (the sonames are
    right) and the plugin, and an X server answers: nothing to say."""
    assert window_problem(gl_env) is None


def _app(env, *wrapper):
    # --quit-after: were a window to open after all, the test would still end.
    return subprocess.run([*wrapper, sys.executable, "-m", "landscape_app", "--quit-after", "5"], env=env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def _without_display():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def test_the_app_without_a_display_says_so_in_one_line():
    out = _app(_without_display())
    assert out.returncode == 2, out.stderr
    assert out.stderr.splitlines() == [
        "landscape-app: error: no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set): "
        "start it in a desktop session, or use the headless commands (landscape-app export, surface, run)"]


def test_the_app_with_the_lookup_missing_xcb_cursor_says_so_in_one_line():
    script = ("import sys\nfrom landscape_app.gui import qt_platform\n"
              "real = qt_platform.load_error\n"
              "qt_platform.load_error = lambda name: 'missing' if 'xcb-cursor' in name else real(name)\n"
              "from landscape_app.cli import main\nsys.exit(main(['--quit-after', '5']))\n")
    env = {**_without_display(), "DISPLAY": ":65001"}     # no server there: were Qt to start, it would abort
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert out.stderr.splitlines() == [
        "landscape-app: error: Qt cannot open a window, for want of libxcb-cursor.so.0: install the Debian "
        "package libxcb-cursor0 (sudo apt-get install libxcb-cursor0)"]


def _loaded_path(soname: str) -> str:
    """The file the dynamic loader takes for ``soname`` (read from this process's mappings once loaded)."""
    ctypes.CDLL(soname)
    stem = soname.split(".so")[0] + ".so"
    for line in Path("/proc/self/maps").read_text().splitlines():
        path = line.split(maxsplit=5)[-1]
        if Path(path).name.startswith(stem):
            return path
    raise AssertionError(f"{soname} is not mapped")


def test_a_really_missing_xcb_cursor_gives_the_line_not_qts_abort(gl_env):
    """libxcb-cursor.so.0 hidden (an empty file mounted over it, in a mount namespace of the app's own), on a
    live X display: Qt would abort there; the app says what to install. Needs root (CI is)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("hiding a library needs root and unshare (CI runs as root)")
    target = _loaded_path("libxcb-cursor.so.0")
    hide = ["unshare", "-m", "--propagation", "private", "sh", "-c",
            f'mount --bind /dev/null "{target}" && exec "$@"', "hide"]
    env = {**gl_env, "PYTHONPATH": _without_display()["PYTHONPATH"]}
    env.pop("QT_QPA_PLATFORM")
    out = _app(env, *hide)
    assert out.returncode == 2, out.stderr
    assert out.stderr.splitlines() == [
        "landscape-app: error: Qt cannot open a window, for want of libxcb-cursor.so.0: install the Debian "
        "package libxcb-cursor0 (sudo apt-get install libxcb-cursor0)"]


def test_an_x_server_on_the_abstract_socket_alone_answers():
    """As libxcb does, the abstract socket counts (a container may share the server's network, not its /tmp)."""
    import socket
    from landscape_app.gui.xdisplay import display_reachable
    number = 65002
    assert not Path(f"/tmp/.X11-unix/X{number}").exists() and not display_reachable(f":{number}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(f"\0/tmp/.X11-unix/X{number}")
        server.listen(1)
        assert display_reachable(f":{number}") and display_reachable(f"unix:{number}.0")
