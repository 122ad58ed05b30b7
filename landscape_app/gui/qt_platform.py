"""Whether Qt can open the app's window here, asked before the QApplication exists.

Where it cannot, Qt aborts the process after a page of messages that send users the wrong way ("Reinstalling the
application may fix this problem"; without any display it blames libxcb-cursor0 all the same). Asked first, the
app says in one line what is missing: a library of Qt's X11 (xcb) platform, and the Debian package that holds it
(libxcb-cursor0 is missing on many fresh Ubuntu installs, and Qt needs it from 6.5 on), or a display.

Qt 6 takes the platforms listed in ``QT_QPA_PLATFORM`` in order; without it, Wayland first in a Wayland session,
then X11. Only X11 is judged here: a Wayland compositor that answers is trusted (Qt falls back to X11 where
it fails), and any other platform named (offscreen, eglfs, vnc, ...) is the user's informed choice.
"""
from __future__ import annotations

import ctypes
import os
import re
import sys
from pathlib import Path

from .xdisplay import display_reachable

# The libraries Qt's xcb platform plugin needs beyond Qt's own, glib and the C/C++ runtime (`readelf -d` on
# PySide6 6.11's plugins/platforms/libqxcb.so, lib/libQt6XcbQpa.so.6 and lib/libQt6Gui.so.6), and the Debian and
# Ubuntu packages that hold them (the Makefile's DEBIAN_PACKAGES install them all). The likeliest missing first.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}
HEADLESS_HINT = "or use the headless commands (landscape-app export, surface, run)"
# The DISPLAY values whose server we know how to ask (":0", ":1.0", "unix:0", "localhost:10.0", "host:0");
# any other form is left to Qt.
_KNOWN_DISPLAY = re.compile(r"[A-Za-z0-9.\-]*:\d+(\.\d+)?")


def load_error(library: str) -> str | None:
    """Why the dynamic loader cannot load ``library`` (a soname or a path), or None when it can.

    Loading is the test Qt itself will make, with the same search path; a library loaded here stays loaded,
    as it would have been for Qt a moment later.
    """
    try:
        ctypes.CDLL(library)
    except OSError as exc:
        return str(exc)
    return None


def xcb_plugin() -> Path | None:
    """Qt's xcb platform plugin, where this Qt has one."""
    try:
        from PySide6.QtCore import QLibraryInfo
    except ImportError:          # no Qt to ask: the import of the window's modules will say why
        return None
    path = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath), "platforms", "libqxcb.so")
    return path if path.exists() else None


def _wayland_answers(environ) -> bool:
    """Whether a Wayland compositor's socket is there (Qt's wayland plugin looks where libwayland-client does)."""
    socket = Path(environ.get("WAYLAND_DISPLAY") or "wayland-0")
    runtime = environ.get("XDG_RUNTIME_DIR")
    if not socket.is_absolute():
        if not runtime:
            return False
        socket = Path(runtime, socket)
    return socket.exists()


def _platforms(environ) -> list[str]:
    """The platforms Qt will try, in its order (the names without their options)."""
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return [name.split(":")[0].strip() for name in chosen.split(";") if name.strip()]
    wayland = bool(environ.get("WAYLAND_DISPLAY")) or environ.get("XDG_SESSION_TYPE") == "wayland"
    return ["wayland", "xcb"] if wayland else ["xcb"]


def _xcb_problem(environ, load, plugin, answers) -> str | None:
    if not environ.get("DISPLAY"):
        wayland = environ.get("WAYLAND_DISPLAY")
        why = (f"DISPLAY is not set and no Wayland compositor answers at WAYLAND_DISPLAY={wayland}" if wayland
               else "neither DISPLAY nor WAYLAND_DISPLAY is set")
        return f"no display to open the window on ({why}): start it in a desktop session, {HEADLESS_HINT}"
    missing = [name for name in XCB_LIBRARIES if load(name) is not None]
    if missing:
        packages = list(dict.fromkeys(XCB_LIBRARIES[name] for name in missing))
        some = "s" if len(packages) > 1 else ""
        return (f"Qt cannot open a window, for want of {', '.join(missing)}: install the Debian package{some} "
                f"{' '.join(packages)} (sudo apt-get install {' '.join(packages)})")
    path = plugin()
    error = load(str(path)) if path is not None else None
    if error is not None:        # a library the list above does not know: the loader's own words name it
        return f"Qt cannot open a window: its X11 platform plugin does not load ({error.splitlines()[0]})"
    display = environ["DISPLAY"]
    if _KNOWN_DISPLAY.fullmatch(display) and not answers(display):
        return (f"no X server answers at DISPLAY={display} (a terminal kept from an older session?): start it in "
                f"a desktop session, {HEADLESS_HINT}")
    return None


def window_problem(environ=None, load=None, plugin=None, answers=None) -> str | None:
    """One line saying why Qt could not open a window here (a missing display or library), or None.

    Call before the QApplication exists. ``load``, ``plugin`` and ``answers`` stand for ``load_error``,
    ``xcb_plugin`` and ``display_reachable`` (tests replace them, or this module's names).
    """
    environ = os.environ if environ is None else environ
    load, plugin, answers = load or load_error, plugin or xcb_plugin, answers or display_reachable
    if not sys.platform.startswith("linux"):
        return None
    for name in _platforms(environ):
        if name.startswith("wayland"):
            if _wayland_answers(environ):
                return None
            continue                      # Qt goes on to the next platform, as we do
        if name == "xcb":
            return _xcb_problem(environ, load, plugin, answers)
        return None
    return None


__all__ = ["window_problem", "load_error", "xcb_plugin", "XCB_LIBRARIES"]
