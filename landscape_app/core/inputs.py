"""An output never replaces an input of the same work: the files a session reads (its data, its model file), the
options' files, and the check that a target is none of them.

``landscape-app run --data data.csv -o data.csv`` once replaced the user's data with the trajectory; a file is the
same file under another name through a symbolic or a hard link too, so paths are compared resolved and, where
both exist, by what they point to (``os.path.samefile``).
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import ExportError


def same_file(a, b) -> bool:
    """Whether paths ``a`` and ``b`` name one file: the same resolved path, or (both existing) the same file on
    disk, so that symbolic and hard links count."""
    try:
        if Path(a).resolve() == Path(b).resolve():
            return True
        return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)
    except (OSError, ValueError, RuntimeError):      # RuntimeError: a link loop (Python < 3.13)
        return False


def session_inputs(session) -> tuple[tuple[str, Path], ...]:
    """``(what, path)`` of each file the session's runs read: a CSV dataset, a model file (``file.py:function``)."""
    out: list[tuple[str, Path]] = []
    for k, run in enumerate(session.runs):
        whose = "the session's" if len(session.runs) == 1 else f"run {k + 1}'s"
        source = run.data.source
        if source.kind == "csv" and source.path:
            out.append((f"{whose} data", Path(source.path)))
        model_file = run.source_file
        if model_file is not None:
            out.append((f"{whose} model file", Path(model_file)))
    return tuple(dict.fromkeys(out))


def check_not_input(output, inputs, output_name: str | None = None) -> None:
    """Refuse to write ``output`` over one of ``inputs`` (``(what, path)`` pairs: ``("--data", "d.csv")``, ...):
    ``ExportError`` naming both, before any work. ``output_name``: how the output is named (``-o out.csv``)."""
    shown = output_name or str(output)
    for what, path in inputs:
        if path is not None and str(path) and same_file(output, path):
            raise ExportError(f"{shown} is the same file as {what} ({path}): writing it would replace an input of "
                              "this work; write to another file")


__all__ = ["same_file", "session_inputs", "check_not_input"]
