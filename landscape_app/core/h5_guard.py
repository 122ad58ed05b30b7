"""HDF5 files read so that nothing outside them is read, and nothing past the limits (``file_limits``).

HDF5 follows links on its own: an external link or a virtual dataset shows the contents of another file the user
can read (and writing a store through one would write that file), a soft link may loop, and a chunked dataset may
declare 74 GiB in a file of 1.6 MB. ``H5Reader`` reaches each object by a hard link only, refuses virtual datasets
and datasets whose values live in an outside file, checks the declared type and size before reading, and says
what is wrong in a ``DataError`` naming the file and the object. ``open_h5`` tells apart a file that is not HDF5,
a damaged (cut short) one and one that another program holds locked.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import ConfigError, DataError
from .file_limits import MAX_ATTRIBUTE_BYTES, ReadBudget, regular_file, size_text
from .surface_checks import NUMBER_KINDS, real_numbers, text


def require_h5py():
    try:
        import h5py
    except ImportError:
        raise ConfigError("h5py", "HDF5 surface files need the h5py package: pip install h5py") from None
    return h5py


def open_error(path, exc: OSError, what: str = "HDF5 file") -> str:
    """Why ``h5py.File`` could not open ``path``, in words."""
    detail = str(exc)
    if isinstance(exc, BlockingIOError) or "unable to lock file" in detail:
        return (f"{path}: in use by another program (HDF5 locks a file while it is written; another run may be "
                f"writing it); try again once it has finished")
    if isinstance(exc, PermissionError):
        return f"{path}: permission denied"
    if "truncated file" in detail:
        cut = detail[detail.find("truncated file"):].rstrip(")")
        return f"{path}: not a readable {what}: it is damaged ({cut}: the file is cut short)"
    if "file signature not found" in detail:
        return f"{path}: not a readable {what} (no HDF5 signature: not an HDF5 file)"
    return f"{path}: not a readable {what}: it is damaged ({detail})"


def open_h5(path, mode: str = "r", what: str = "HDF5 file"):
    """``h5py.File(path, mode)`` of a regular file, its failures as ``DataError`` (``open_error``)."""
    h5py = require_h5py()
    regular_file(path)
    try:
        return h5py.File(path, mode)
    except OSError as exc:
        raise DataError(open_error(path, exc, what)) from None


class H5Reader:
    """Reads the objects of one open HDF5 file ``f`` (named ``path`` in messages) defensively; ``budget``: what
    the file's arrays may take together."""

    def __init__(self, path, f, budget: ReadBudget | None = None):
        self.path = Path(path)
        self.f = f
        self.budget = budget or ReadBudget(self.path)

    @staticmethod
    def where(parent, name: str) -> str:
        return f"{parent.name.rstrip('/')}/{name}".lstrip("/")

    def damaged(self, where: str, exc: Exception) -> DataError:
        return DataError(f"{self.path}: {where} cannot be read; the file is damaged ({exc})")

    def _linked(self, parent, name: str):
        """The object ``name`` in ``parent`` reached by a hard link (None: no such name); links refused."""
        from h5py import h5l
        where = self.where(parent, name)
        key = name.encode("utf-8")
        try:
            if not parent.id.links.exists(key):
                return None
            kind = parent.id.links.get_info(key).type
            if kind == h5l.TYPE_EXTERNAL:
                filename, target = (v.decode("utf-8", "replace") for v in parent.id.links.get_val(key))
                raise DataError(f"{self.path}: {where} is an external link (to {target} in {filename}); links to "
                                f"other files are not followed")
            if kind == h5l.TYPE_SOFT:
                target = parent.id.links.get_val(key).decode("utf-8", "replace")
                raise DataError(f"{self.path}: {where} is a soft link (to {target}); only the file's own objects "
                                f"are read, not links (a link may loop)")
            if kind != h5l.TYPE_HARD:
                raise DataError(f"{self.path}: {where} is a user-defined link; only the file's own objects are read")
            return parent[name]
        except DataError:
            raise
        except (OSError, RuntimeError, KeyError, ValueError) as exc:
            raise self.damaged(where, exc) from None

    def _member(self, parent, name: str, required: bool, kind: type, noun: str):
        """``parent[name]`` reached by a hard link and of ``kind`` (a DataError naming ``noun`` otherwise), or None
        where it is absent and not ``required``."""
        obj = self._linked(parent, name)
        where = self.where(parent, name)
        if obj is None:
            if required:
                raise DataError(f"{self.path}: no {where} in the file")
            return None
        if not isinstance(obj, kind):
            raise DataError(f"{self.path}: {where} is {_what(obj)}, not {noun}")
        return obj

    def group(self, parent, name: str, required: bool = False):
        import h5py
        return self._member(parent, name, required, h5py.Group, "a group")

    def dataset(self, parent, name: str, required: bool = False):
        import h5py
        obj = self._member(parent, name, required, h5py.Dataset, "a dataset")
        if obj is None:
            return None
        where = self.where(parent, name)
        try:
            virtual, external = obj.is_virtual, obj.external
        except (OSError, RuntimeError, ValueError) as exc:
            raise self.damaged(where, exc) from None
        if virtual:
            raise DataError(f"{self.path}: {where} is a virtual dataset (its values live in other files); "
                            f"only values stored in the file are read")
        if external:
            raise DataError(f"{self.path}: {where} keeps its values in an outside file ({external[0][0]}); only "
                            f"values stored in the file are read")
        if obj.shape is None:
            raise DataError(f"{self.path}: {where} holds nothing (an empty dataspace)")
        return obj

    def read(self, ds, kinds: str = NUMBER_KINDS, most_values: int | None = None) -> np.ndarray:
        """A checked dataset's values: real numbers (``kinds``), its declared size taken from the budget first."""
        where = ds.name.lstrip("/")
        real_numbers(self.path, where, ds.dtype, kinds)
        self.budget.take(where, ds.shape, ds.dtype.itemsize, most_values)
        try:
            return np.asarray(ds[()])
        except (OSError, RuntimeError, ValueError, TypeError) as exc:
            raise self.damaged(where, exc) from None

    def array(self, parent, name: str, required: bool = False, kinds: str = NUMBER_KINDS,
              most_values: int | None = None) -> np.ndarray | None:
        ds = self.dataset(parent, name, required)
        return None if ds is None else self.read(ds, kinds, most_values)

    def arrays(self, group, kinds: str = NUMBER_KINDS) -> dict[str, np.ndarray]:
        """Every dataset of ``group``, by name (a member that is not a dataset is refused)."""
        try:
            names = list(group.keys())
        except (OSError, RuntimeError, ValueError) as exc:
            raise self.damaged(group.name.lstrip("/"), exc) from None
        return {name: self.array(group, name, True, kinds) for name in names}

    def text(self, obj, name: str, default: str | None = None) -> str | None:
        """The text attribute ``name`` of ``obj`` (``default`` where it has none)."""
        import h5py
        where = f"{obj.name.rstrip('/')}/@{name}".lstrip("/")
        try:
            if name not in obj.attrs:
                return default
            aid = obj.attrs.get_id(name)
            dtype, shape, stored = aid.dtype, aid.shape, aid.get_storage_size()
        except (OSError, RuntimeError, KeyError, ValueError) as exc:
            raise self.damaged(where, exc) from None
        if stored > MAX_ATTRIBUTE_BYTES:
            raise DataError(f"{self.path}: {where} is {size_text(stored)}; at most {size_text(MAX_ATTRIBUTE_BYTES)} "
                            f"is read for one attribute")
        if shape != () or not (dtype.kind in "SU" or h5py.check_string_dtype(dtype) is not None):
            raise DataError(f"{self.path}: {where} must be one text value")
        try:
            value = obj.attrs[name]
        except (OSError, RuntimeError, ValueError, TypeError, UnicodeDecodeError) as exc:
            raise self.damaged(where, exc) from None
        return text(self.path, where, value)

    def integer(self, obj, name: str) -> int:
        """The whole-number attribute ``name`` of ``obj``."""
        where = f"{obj.name.rstrip('/')}/@{name}".lstrip("/")
        try:
            value = obj.attrs.get(name)
        except (OSError, RuntimeError, ValueError, TypeError) as exc:
            raise self.damaged(where, exc) from None
        if value is None:
            raise DataError(f"{self.path}: no {where} in the file")
        arr = np.asarray(value)
        if arr.shape != () or arr.dtype.kind not in "iu":
            raise DataError(f"{self.path}: {where} must be one whole number")
        return int(arr)


def _what(obj) -> str:
    import h5py
    if isinstance(obj, h5py.Group):
        return "a group"
    if isinstance(obj, h5py.Dataset):
        return "a dataset"
    return "a named type"


__all__ = ["H5Reader", "open_h5", "open_error", "require_h5py"]
