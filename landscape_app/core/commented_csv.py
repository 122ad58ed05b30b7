"""CSV files whose ``#`` lines before the table carry what made them: header lines and the session (TOML) block.

Written by ``export.data`` (a surface's and the runs' CSV), read by it and by ``surface_csv`` (``la.load_surface``).
"""
from __future__ import annotations

from pathlib import Path

from .errors import DataError

BEGIN, END = "# --- session (TOML) ---", "# --- end of session ---"


def comment_block(text: str) -> str:
    """The session's TOML ``text`` as ``#`` lines between BEGIN and END."""
    return "".join(f"# {line}\n" if line else "#\n" for line in [BEGIN[2:], *text.splitlines(), END[2:]])


def split_comments(path: Path, text: str) -> tuple[str | None, list[str], list[str]]:
    """(session TOML or None, other comment lines, data lines) of a CSV file with ``#`` header lines."""
    lines = text.splitlines()
    toml_lines, other, inside, i = [], [], False, 0
    while i < len(lines) and lines[i].startswith("#"):
        line = lines[i]
        if line == BEGIN:
            inside = True
        elif line == END:
            inside = False
        elif inside:
            toml_lines.append(line[2:] if line.startswith("# ") else line[1:])
        else:
            other.append(line[1:].strip())
        i += 1
    if inside:
        raise DataError(f"{path}: the session block is not closed ({END!r} missing)")
    return ("\n".join(toml_lines) + "\n" if toml_lines else None), other, lines[i:]


__all__ = ["BEGIN", "END", "comment_block", "split_comments"]
