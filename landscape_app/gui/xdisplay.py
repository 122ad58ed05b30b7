"""Which X display Qt draws on when there may be no screen: decided before the QApplication exists.

2-D views draw with Qt's offscreen platform, anywhere. The 3-D view needs OpenGL, which Qt gives a widget only
through a real display: the session's own X display when it has one, else a private virtual X server (Xvfb,
with Mesa's software OpenGL) when one is installed, else explain in one line what to install.
"""
from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import time

from ..core.errors import ExportError

INSTALL_HINT = ("the 3-D view needs OpenGL through an X display and none is available: install Xvfb and Mesa "
                "(Debian/Ubuntu: sudo apt-get install xvfb libgl1-mesa-dri libglx-mesa0 libegl1 "
                "libxkbcommon-x11-0 libxcb-cursor0), or leave 'surface' out of --views")
XVFB_SCREEN = "2048x2048x24"     # 24-bit depth: Mesa's GLX visuals want it
XVFB_TIMEOUT = 20.0


class Display:
    """The platform chosen for this process, and the Xvfb we started (if any); ``close()`` stops it."""

    def __init__(self, platform: str, display: str | None = None, process: subprocess.Popen | None = None):
        self.platform = platform
        self.display = display
        self.process = process

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def display_reachable(display: str | None) -> bool:
    """Whether an X server answers at ``display`` (":1", "host:0.0", "unix:2"), without loading any X library."""
    if not display:
        return False
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    if host in ("", "unix"):
        # As libxcb does on Linux: the abstract socket first (a container may share the server's network but
        # not its /tmp), then the socket file.
        path = f"/tmp/.X11-unix/X{number}"
        return any(_unix_socket_answers(address) for address in ("\0" + path, path))
    try:
        with socket.create_connection((host, 6000 + int(number)), timeout=2.0):
            pass
    except OSError:
        return False
    return True


def _unix_socket_answers(address: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2.0)
            s.connect(address)
    except OSError:
        return False
    return True


def start_xvfb(executable: str) -> tuple[subprocess.Popen, str]:
    """Start Xvfb on a free display number (it picks one and tells us through ``-displayfd``)."""
    read_fd, write_fd = os.pipe()
    # Its own session (Ctrl-C must not stop it under the frames still being drawn), and -terminate: when our
    # process ends however it ends, its connection closes, the server resets, and so exits.
    try:
        proc = subprocess.Popen([executable, "-displayfd", str(write_fd), "-screen", "0", XVFB_SCREEN,
                                 "-nolisten", "tcp", "+extension", "GLX", "-terminate"],
                                pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        os.close(read_fd)
        os.close(write_fd)
        raise ExportError(f"cannot start Xvfb ({exc}); {INSTALL_HINT}") from None
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + XVFB_TIMEOUT
    try:
        while not number.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([read_fd], [], [], max(remaining, 0))
            chunk = os.read(read_fd, 16) if ready else b""
            if not chunk:
                break
            number += chunk
    finally:
        os.close(read_fd)
    if not number.strip().isdigit():
        proc.kill()
        proc.wait()
        raise ExportError(f"Xvfb did not start; {INSTALL_HINT}")
    return proc, f":{number.strip().decode()}"


def prepare_display(needs_gl: bool, environ=os.environ) -> Display:
    """Choose the Qt platform for a headless export and set it in ``environ``; call before any QApplication.

    Without the 3-D view: ``offscreen``. With it: the session's X display if one answers, else a private Xvfb
    if installed, else ``ExportError`` saying what to install.
    """
    if not needs_gl:
        environ["QT_QPA_PLATFORM"] = "offscreen"
        return Display("offscreen")
    if display_reachable(environ.get("DISPLAY")):
        environ["QT_QPA_PLATFORM"] = "xcb"
        return Display("xcb", environ["DISPLAY"])
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        raise ExportError(INSTALL_HINT)
    proc, display = start_xvfb(xvfb)
    environ["DISPLAY"] = display
    environ["QT_QPA_PLATFORM"] = "xcb"
    environ.pop("WAYLAND_DISPLAY", None)
    return Display("xcb", display, proc)


__all__ = ["Display", "prepare_display", "display_reachable", "start_xvfb", "INSTALL_HINT", "XVFB_SCREEN"]
