"""How much the project reads from a user's file at most, checked against what the file declares before reading.

A file is not trusted to be what its name says: an HDF5 dataset or an NPZ member declares its shape, and a chunked or
compressed one may declare far more than the file holds (an .h5 of 1.6 MB declaring a 100,000 x 100,000 loss, an .npz
of a few MB that inflates to 7 GB). Each reader compares the declared size with these limits first, so what cannot be
read ends in a ``DataError`` naming the file and the limit, never in ``MemoryError``. The limits are generous for the
files the project writes: its largest surface (``MAX_RESOLUTION`` squared, 128 MB) and the plane of a network of a
hundred million parameters fit.
"""
from __future__ import annotations

import math
import os
import stat
from pathlib import Path

from .errors import DataError

MAX_TEXT_BYTES = 2 << 30            # a text file (a session, runs, a trajectory, a CSV surface): 2 GiB
MAX_SESSION_BYTES = 256 << 20       # a session's TOML (its data may be inline): 256 MiB
MAX_ARRAY_BYTES = 1 << 30           # one array read from a file: 1 GiB
MAX_FILE_BYTES = 4 << 30            # every array of one file together: 4 GiB
MAX_SURFACE_VALUES = 1 << 26        # a surface read from a file: 67,108,864 grid points (512 MiB as float64)
MAX_ATTRIBUTE_BYTES = 256 << 20     # one HDF5 attribute (the session's text)


def size_text(n_bytes: int) -> str:
    """``7.0 GiB``, ``512 MiB``, ``800 bytes``: a size as people read it."""
    n = float(n_bytes)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{int(n)} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n_bytes} bytes"     # pragma: no cover


def count_text(n: int) -> str:
    return f"{int(n):,}"


def declared_values(shape) -> int:
    """The number of values a declared shape holds (Python ints: a hostile shape must not overflow)."""
    return math.prod(int(s) for s in shape)


def regular_file(path) -> os.stat_result:
    """The ``stat`` of a regular file; a folder, a device (``/dev/zero``), a pipe or a missing file is a
    ``DataError`` naming it (reading a device or a pipe may never end)."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"{path}: is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise DataError(f"{path}: not a regular file (a device or a pipe); only files are read")
    return info


def check_file_size(path, size: int, limit: int, what: str = "file") -> None:
    if size > limit:
        raise DataError(f"{path}: the {what} is {size_text(size)}; at most {size_text(limit)} is read")


def read_bytes(path, limit: int = MAX_TEXT_BYTES, what: str = "file") -> bytes:
    """A regular file's bytes, refused (``DataError``) when it is larger than ``limit``; never more than ``limit``
    bytes are read, even from a file that grows meanwhile."""
    info = regular_file(path)
    check_file_size(path, info.st_size, limit, what)
    # What the file's size says, in one read (``read(limit)`` would set aside the whole limit first), then in
    # pieces for what it may have grown by since, never past the limit.
    parts, total = [], 0
    try:
        with open(path, "rb") as fh:
            want = info.st_size + 1
            while total <= limit:
                part = fh.read(want)
                parts.append(part)
                total += len(part)
                if len(part) < want:        # the end of the file
                    break
                want = min(1 << 24, limit + 1 - total)
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    check_file_size(path, total, limit, what)
    return b"".join(parts)


def read_text(path, limit: int = MAX_TEXT_BYTES, encoding: str = "utf-8", what: str = "file") -> str:
    """A regular text file, as ``read_bytes`` (the limit checked first), decoded; ``DataError`` names the file."""
    data = read_bytes(path, limit, what)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a text file in {encoding.upper().removesuffix('-SIG')} "
                        f"(byte {exc.start}: {exc.reason})") from None


class ReadBudget:
    """What one file may still make the reader hold: each array's declared size is taken from it before the
    array is read, and refused (``DataError`` naming the file, the array and the limit) past the limit."""

    def __init__(self, path, total: int = MAX_FILE_BYTES, each: int = MAX_ARRAY_BYTES):
        self.path = path
        self.left = total
        self.total = total
        self.each = each

    def take(self, where: str, shape, itemsize: int, most_values: int | None = None) -> None:
        """Take the bytes of an array of ``shape`` and ``itemsize``; ``most_values``: a tighter limit on its
        number of values (a surface's grid points)."""
        n = declared_values(shape)
        if most_values is not None and n > most_values:
            raise DataError(f"{self.path}: {where} declares {count_text(n)} values (shape "
                            f"{_shape_text(shape)}); at most {count_text(most_values)} are read")
        nbytes = n * int(itemsize)
        if nbytes > self.each:
            raise DataError(f"{self.path}: {where} declares {count_text(n)} values (shape {_shape_text(shape)}, "
                            f"{size_text(nbytes)}); at most {size_text(self.each)} is read for one array")
        if nbytes > self.left:
            raise DataError(f"{self.path}: {where} would bring what is read from the file past "
                            f"{size_text(self.total)}; at most {size_text(self.total)} is read from one file")
        self.left -= nbytes


def _shape_text(shape) -> str:
    shape = tuple(int(s) for s in shape)
    return "(" + " x ".join(f"{s:,}" for s in shape) + ")" if shape else "(a single value)"


__all__ = ["MAX_TEXT_BYTES", "MAX_SESSION_BYTES", "MAX_ARRAY_BYTES", "MAX_FILE_BYTES", "MAX_SURFACE_VALUES",
           "MAX_ATTRIBUTE_BYTES", "ReadBudget", "read_bytes", "read_text", "regular_file", "size_text",
           "count_text", "declared_values", "check_file_size"]
