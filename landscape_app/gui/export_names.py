"""The export dialog's file names and formats (the name's ending chooses the format), the exporter's messages
in the dialog's words, and the window's paths as the dialog takes them."""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Mapping

from PySide6.QtCore import QStandardPaths

from .. import export

FORMATS = (("MP4 video (H.264)", ".mp4"), ("GIF animation", ".gif"), ("WebM video (VP9)", ".webm"),
           ("PNG frames (a folder)", "/"), ("PNG picture of the final frame", ".png"),
           ("SVG picture of the final frame (3-D views as images)", ".svg"),
           ("Surface data, NPZ (with its plane; a network's paths projected on it)", ".npz"),
           ("Surface data, CSV (its plane in the header)", ".csv"))
# The exporter's messages name the command line's options; the dialog names its own rows instead.
OPTION_LABELS = {"-o": "Save to", "--size": "Size", "--fps": "Frame rate", "--views": "Views",
                 "--every": "Pacing", "--duration": "Pacing", "--hold": "Hold the last frame", "--orbit": "Orbit"}
_OPTION = re.compile(r"(?<![\w-])(-o|--[a-z]+)(?![\w-])")


def dialog_message(exc: Exception) -> str:
    """``exc``'s message with the command line's options named as the dialog's rows ("Size: ..." for "--size")."""
    return _OPTION.sub(lambda m: OPTION_LABELS.get(m.group(1), m.group(1)), str(exc))


def format_of(text: str) -> str | None:
    """The FORMATS suffix a typed output name means: its known ending, "/" for a folder, else None."""
    text = text.strip()
    if text.endswith(("/", os.sep)):
        return "/"
    suffix = {".m4v": ".mp4"}.get(Path(text).suffix.lower(), Path(text).suffix.lower())
    if suffix in {s for _, s in FORMATS}:
        return suffix
    if not suffix and text and Path(text).is_dir():
        return "/"
    return None


def frames_note(suffix: str | None) -> str:
    """Why a format has no use for the animation's frame rate, pacing, hold and orbit ("" when it has)."""
    kind = (suffix or "").lstrip(".")       # the exporter's kinds are its suffixes; "/" (PNG frames) is none
    if kind in export.STILLS:
        return "A still of the final frame: no frame rate, pacing, hold or orbit"
    if kind in export.KINDS and kind not in export.ANIMATIONS:
        return "Surface data, not pictures: no frame rate, pacing, hold or orbit"
    return ""


def default_folder() -> Path:
    movies = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
    return Path(movies) if movies and Path(movies).is_dir() else Path.home()


def slug(title: str) -> str:
    keep = "".join(c.lower() if c.isalnum() else "-" for c in title).strip("-")
    while "--" in keep:
        keep = keep.replace("--", "-")
    return keep or "landscape"


def window_paths(trajectories, n_runs: int):
    """The window's paths as a list in run order, or None when they do not match the session."""
    if trajectories is None:
        return None
    paths = list(trajectories.values()) if isinstance(trajectories, Mapping) else list(trajectories)
    if len(paths) != n_runs or any(p is None or len(p) == 0 for p in paths):
        return None
    # Own the arrays: a growing path's arrays are views that the window's next steps may replace.
    return [dataclasses.replace(t, iteration=t.iteration.copy(), epoch=t.epoch.copy(), params=t.params.copy(),
                                batch_loss=t.batch_loss.copy(), loss=t.loss.copy(), lr=t.lr.copy(),
                                batches=tuple(t.batches)) for t in paths]


__all__ = ["FORMATS", "default_folder", "dialog_message", "format_of", "frames_note", "slug", "window_paths"]
