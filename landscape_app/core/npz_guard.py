"""NPZ files read defensively: every member's declared size checked before anything is inflated.

An NPZ is a zip of ``.npy`` members. A member of a few MB may inflate to 7 GB (a zero array compressed), and an
``.npy`` header may declare 1e12 values that ``np.load`` allocates before it finds the data missing. Here the zip's
directory (each member's declared inflated size) is held to the limits of ``file_limits`` first, then each
member's ``.npy`` header (its shape and type) before its values are read, and the values are read into an array of
exactly the declared size, never more: zip's own check (CRC) still catches a member whose data lie. Pickled
objects are never loaded. Failures are ``DataError`` naming the file and the member.
"""
from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from .errors import DataError
from .file_limits import ReadBudget, count_text, declared_values, regular_file, size_text

MAX_MEMBERS = 10_000
MAX_HEADER = 10_000         # bytes of a member's .npy header (numpy's own default limit)
CHUNK = 1 << 18          # bytes read at a time (numpy's own buffer size)


def read_npz(path, budget: ReadBudget | None = None) -> dict[str, np.ndarray]:
    """Every array of the NPZ file ``path``, by name; ``DataError`` names the file and what is wrong."""
    path = Path(path)
    regular_file(path)
    budget = budget or ReadBudget(path)
    try:
        with open(path, "rb") as fh, zipfile.ZipFile(fh) as z:
            members = _checked_members(path, z, budget)
            return {name: _read_member(path, z, info, budget) for name, info in members}
    except DataError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise DataError(f"{path}: not a readable NPZ file ({exc or type(exc).__name__})") from None


def _checked_members(path: Path, z: zipfile.ZipFile, budget: ReadBudget) -> list[tuple[str, zipfile.ZipInfo]]:
    """The members as (array name, info), their declared inflated sizes checked against the limits together."""
    infos = z.infolist()
    if len(infos) > MAX_MEMBERS:
        raise DataError(f"{path}: {len(infos):,} members; at most {MAX_MEMBERS:,} are read from an NPZ file")
    total = 0
    out = []
    for info in infos:
        if not info.filename.endswith(".npy"):
            raise DataError(f"{path}: the member {info.filename!r} is not a numpy array (.npy)")
        name = info.filename[:-len(".npy")]
        if info.file_size > budget.each:
            raise DataError(f"{path}: {name!r} inflates to {size_text(info.file_size)} (from "
                            f"{size_text(info.compress_size)} in the file); at most {size_text(budget.each)} is "
                            f"read for one array")
        total += info.file_size
        if total > budget.total:
            raise DataError(f"{path}: the arrays inflate to more than {size_text(budget.total)}; at most "
                            f"{size_text(budget.total)} is read from one file")
        out.append((name, info))
    return out


def _read_member(path: Path, z: zipfile.ZipFile, info: zipfile.ZipInfo, budget: ReadBudget) -> np.ndarray:
    name = info.filename[:-len(".npy")]
    fmt = np.lib.format
    with z.open(info) as member:
        version = fmt.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(member, max_header_size=MAX_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(member, max_header_size=MAX_HEADER)
        else:
            raise DataError(f"{path}: {name!r} is a .npy of version {version}; versions 1.0 and 2.0 are read")
        if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
            raise DataError(f"{path}: {name!r} holds Python objects or records ({dtype}); only plain arrays are "
                            f"read (pickled objects never are)")
        budget.take(repr(name), shape, dtype.itemsize)
        n = declared_values(shape)
        nbytes = n * dtype.itemsize
        header = member.tell()
        if header + nbytes != info.file_size:
            raise DataError(f"{path}: {name!r} declares {count_text(n)} values (shape {tuple(shape)}), "
                            f"{size_text(nbytes)}, but the member holds {size_text(info.file_size - header)}; "
                            f"the file is damaged")
        flat = np.empty(n, dtype=dtype)
        view = memoryview(flat.view(np.uint8)) if nbytes else memoryview(b"")
        got = 0
        while got < nbytes:
            k = member.readinto(view[got:got + CHUNK])      # in chunks: read() would copy it all at once
            if not k:
                raise DataError(f"{path}: {name!r} is cut short ({got:,} of {nbytes:,} bytes); the file is damaged")
            got += k
        member.read(1)      # at the end: zip checks the member's CRC
    if fortran:
        return flat.reshape(tuple(shape)[::-1]).T
    return flat.reshape(shape)


__all__ = ["read_npz", "MAX_MEMBERS"]
