"""The code a session names, found without running it, and the trust a caller gives before it runs.

A session (a TOML file, or the session a surface or runs file carries) may name Python code: today its model,
``model = "lesson.py:make"``, a file whose import runs whatever it holds, as any script would. Loading a file is
not running a program, so the rule, kept here in one place: a file whose session names code is refused with
``UntrustedCodeError`` unless its caller trusts it (``trust=True`` in the API, ``--trust`` on the command line, the
app's dialog), before anything of that code runs. Code the user gives directly (``Experiment(model="my.py:f")``,
``--model my.py:f``, the panel's *Load model…*) and the built-in presets need no such word.

``named_code`` is the one place that knows which entries of a session name code; a data or loss file that names
code later adds its entry there.
"""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .errors import UntrustedCodeError

FILE_SUFFIX = ".py"


def is_file_spec(model: Any) -> bool:
    """Whether ``model`` names a user's file, ``path/to/file.py:function``."""
    return isinstance(model, str) and ":" in model and model.rsplit(":", 1)[0].endswith(FILE_SUFFIX)


@dataclass(frozen=True)
class CodeFile:
    """A code file a session names: ``path`` absolute (as loading would import it), ``role`` what it is ("model"),
    ``written`` the entry as the session writes it, ``outside``: the path leaves the session file's folder
    (``..``, an absolute path, or a link to elsewhere)."""

    path: Path
    role: str
    written: str
    outside: bool

    def sha256(self) -> str | None:
        """The file's SHA-256 (hex), None if it cannot be read: what the app remembers as trusted."""
        try:
            if not stat.S_ISREG(os.stat(self.path).st_mode):
                return None         # a device (a link to /dev/zero) or a pipe: reading it may never end
            digest = hashlib.sha256()
            with open(self.path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            return digest.hexdigest()
        except OSError:
            return None

    def describe(self, source=None) -> str:
        """``the model file /path/x.py``, said to lie outside the folder of ``source`` where it does."""
        folder = f"the folder of {Path(source).name}" if source is not None else "the session's folder"
        return f"the {self.role} file {self.path}" + (f" (outside {folder})" if self.outside else "")


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:      # another drive on Windows
        return False


def code_file(spec: str, base_dir: Path | None, role: str = "model") -> CodeFile:
    """The file of ``spec`` (``file.py:function``) as loading resolves it: relative to ``base_dir`` (the session
    file's folder; the working folder without one)."""
    written = spec.rpartition(":")[0]
    folder = os.path.abspath(base_dir if base_dir is not None else os.getcwd())
    given = Path(written).expanduser()
    path = os.path.abspath(given if given.is_absolute() else Path(folder) / given)
    # Lexically inside, and still inside once links are followed: a link in the folder may point anywhere.
    outside = not (_inside(path, folder) and _inside(os.path.realpath(path), os.path.realpath(folder)))
    return CodeFile(Path(path), role, written, outside)


def named_code(experiment: Mapping[str, Any], base_dir: Path | None) -> tuple[CodeFile, ...]:
    """The code files an experiment's TOML table names (its model file), whether or not they exist."""
    model = experiment.get("model") if isinstance(experiment, Mapping) else None
    return (code_file(model, base_dir),) if is_file_spec(model) else ()


def require_trust(files: tuple[CodeFile, ...], source, trust: bool) -> None:
    """Refuse ``files`` (named by the file ``source``, None: a table) unless ``trust``.

    A file that does not exist is left to the loader, which says so: nothing of it can run.
    """
    if trust:
        return
    present = tuple(f for f in files if f.path.is_file())
    if not present:
        return
    named_by = f"{source}" if source is not None else "the session"
    code = "; ".join(f.describe(source) for f in present)
    raise UntrustedCodeError(f"{named_by} names code that runs when it is loaded: {code}; load it only if you "
                             f"trust that code (trust=True in the API, --trust on the command line)", present, source)


__all__ = ["CodeFile", "code_file", "is_file_spec", "named_code", "require_trust"]
