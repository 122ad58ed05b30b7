"""Writing files so that nothing is ever half-written: a temporary file beside the target, renamed at the end."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_mode(executable: bool = False) -> int:
    """The permissions a plain new file (or folder) gets under the current umask."""
    return (0o777 if executable else 0o666) & ~_umask()


def temp_file_beside(path, suffix: str = "") -> Path:
    """A new empty hidden file beside ``path``, with the permissions a plain new file would get.

    (``mkstemp`` makes files only their owner can read; a saved session or export should not stay that way.)
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".partial{suffix}", dir=path.absolute().parent)
    try:
        os.close(fd)
        os.chmod(tmp, default_mode())
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def unlink_quietly(path: Path | None) -> None:
    if path is not None:
        try:
            Path(path).unlink()
        except FileNotFoundError:
            pass


def write_bytes_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place."""
    path = Path(path)
    tmp = temp_file_beside(path, path.suffix)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        unlink_quietly(tmp)
        raise


def write_text_atomic(path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
