"""Writing files so that nothing is ever half-written: a temporary file beside the target, renamed at the end.

A write that fails (a full disk, the file-size limit, a folder that refuses it) is one ``WriteError`` naming the
target and the reason (``writing``).
"""
from __future__ import annotations

import contextlib
import errno as errnos
import os
import tempfile
from pathlib import Path

from .errors import WriteError

# What a reason alone does not say: where the limit comes from.
_HINTS = {errnos.EFBIG: "the file-size limit (ulimit -f) or the file system's largest file",
          errnos.ENOSPC: "the disk is full", errnos.EDQUOT: "the disk quota is used up",
          errnos.EROFS: "the file system is read-only"}


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


def write_error(path, exc: OSError) -> WriteError:
    """``exc`` (raised while writing ``path``) as one line naming the target and the reason."""
    if isinstance(exc, WriteError):
        return exc
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = _HINTS.get(exc.errno)
    if hint and hint not in reason:
        reason = f"{reason} ({hint})"
    if isinstance(exc, IsADirectoryError):
        reason = "it is a folder"
    elif isinstance(exc, NotADirectoryError):
        reason = f"{reason} (a part of the path is a file, not a folder)"
    return WriteError(path, reason, exc.errno)


@contextlib.contextmanager
def writing(path):
    """Inside: an ``OSError`` (h5py's and Pillow's included) becomes a ``WriteError`` naming ``path``.

    Put it outside the code that removes the temporary file, so that the cleanup has run when it is raised."""
    try:
        yield
    except WriteError:
        raise
    except OSError as exc:
        raise write_error(path, exc) from exc


def write_bytes_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place (``WriteError`` if it cannot be)."""
    path = Path(path)
    with writing(path):
        tmp = temp_file_beside(path, path.suffix)
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except BaseException:
            unlink_quietly(tmp)
            raise


def write_text_atomic(path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))

