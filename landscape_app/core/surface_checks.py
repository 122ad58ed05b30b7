"""What a surface read from a file must be, whatever the format (HDF5, NPZ, CSV): checked before it is used.

Coordinates are 1-D, real, finite and strictly increasing; a surface's values are real and finite or NaN (a point
not computed yet), in a grid the coordinates span; names are text and numbers numbers. Each check raises a
``DataError`` naming the file and what is wrong; nothing is cast silently (a complex loss is refused, not cut to
its real part).
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from .errors import DataError

NUMBER_KINDS = "iuf"


def _kind_text(dtype: np.dtype) -> str:
    kind = dtype.kind
    if kind == "c":
        return "complex numbers"
    if kind in "SUO":
        return "text"
    if kind == "b":
        return "true/false values"
    if kind == "V":
        return "records (a compound type)"
    return f"values of type {dtype}"


def real_numbers(path, where: str, dtype, kinds: str = NUMBER_KINDS) -> None:
    """Refuse a dtype that is not real numbers (complex, text, records...)."""
    dtype = np.dtype(dtype)
    if dtype.kind not in kinds:
        only = ("only real values are read" if dtype.kind == "c" else
                "whole numbers are expected" if kinds == "iu" else "numbers are expected")
        raise DataError(f"{path}: {where} holds {_kind_text(dtype)}; {only}")


def coordinates(path, where: str, values) -> np.ndarray:
    """``values`` as float64 coordinates: 1-D, at least one, finite, strictly increasing."""
    arr = np.asarray(values)
    real_numbers(path, where, arr.dtype)
    if arr.ndim != 1:
        shape = "a single value" if arr.ndim == 0 else f"shape {arr.shape}"
        raise DataError(f"{path}: {where} must be a 1-D list of coordinates, not {shape}")
    if arr.size == 0:
        raise DataError(f"{path}: {where} holds no coordinates")
    arr = arr.astype(np.float64, copy=False)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{path}: {where}[{i}] is {float(arr[i])}; coordinates must be finite")
    steps = np.flatnonzero(~(np.diff(arr) > 0))
    if steps.size:
        i = int(steps[0])
        raise DataError(f"{path}: {where} must increase strictly; {where}[{i}] = {float(arr[i])!r} is followed "
                        f"by {float(arr[i + 1])!r}")
    return arr


def grid(path, where: str, values, nx: int, ny: int, transposed_ok: bool = False) -> np.ndarray:
    """``values`` as a float64 (ny, nx) grid of real, finite or NaN values. ``transposed_ok``: the flat order is
    kept and a declared (nx, ny) shape accepted too (loss-landscape's writer declares it)."""
    arr = np.asarray(values)
    real_numbers(path, where, arr.dtype)
    shapes = {(ny, nx), (nx, ny)} if transposed_ok else {(ny, nx)}
    if arr.shape not in shapes:
        raise DataError(f"{path}: {where} has shape {arr.shape}; the coordinates make a grid of "
                        f"(len(y), len(x)) = ({ny}, {nx})")
    out = arr.astype(np.float64, copy=False).reshape(ny, nx)      # no copy: a surface may be 128 MB
    infinite = np.isinf(out)
    if infinite.any():
        n = int(infinite.sum())
        raise DataError(f"{path}: {where} holds {n:,} infinite value(s); a surface's values are finite "
                        f"(or NaN where not computed)")
    return out


def vector(path, where: str, values, length: int | None = None, kinds: str = NUMBER_KINDS) -> np.ndarray:
    """A 1-D array of real numbers (finite or not), of ``length`` where given."""
    arr = np.asarray(values)
    real_numbers(path, where, arr.dtype, kinds)
    if arr.ndim != 1:
        raise DataError(f"{path}: {where} must be a 1-D list, not {'a single value' if arr.ndim == 0 else arr.shape}")
    if length is not None and arr.size != length:
        raise DataError(f"{path}: {where} holds {arr.size} values; {length} are expected")
    return arr


def indices(path, where: str, values) -> np.ndarray:
    """Sample indices: a 1-D array of whole numbers, none negative."""
    arr = vector(path, where, values, kinds="iu")
    if arr.size and int(arr.min()) < 0:
        raise DataError(f"{path}: {where} holds a negative sample index")
    return arr.astype(np.int64)


def text(path, where: str, value) -> str:
    """A single text value (a 0-d numpy string, str or bytes)."""
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or value.dtype.kind not in "SU":
            raise DataError(f"{path}: {where} must be one text value, not {_kind_text(value.dtype)} of shape "
                            f"{value.shape}")
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{path}: {where} is not UTF-8 text") from None
    if isinstance(value, str):
        return str(value)
    raise DataError(f"{path}: {where} must be text, not {type(value).__name__}")


def texts(path, where: str, value, length: int | None = None) -> tuple[str, ...]:
    """A 1-D list of text values (of ``length`` where given)."""
    arr = np.asarray(value)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "SU"):
        raise DataError(f"{path}: {where} must be a list of names")
    out = tuple(text(path, where, np.asarray(v)) for v in arr)
    if length is not None and len(out) != length:
        raise DataError(f"{path}: {where} holds {len(out)} names; {length} are expected")
    return out


def json_value(path, where: str, raw, kind: type | None = None) -> Any:
    """A JSON text parsed (``kind``: the type it must be: dict, list)."""
    try:
        value = json.loads(raw)
    except (TypeError, ValueError, RecursionError) as exc:
        raise DataError(f"{path}: {where} is not valid JSON ({exc})") from None
    if kind is not None and not isinstance(value, kind):
        raise DataError(f"{path}: {where} must be a JSON {'object' if kind is dict else 'list'}")
    return value


def names_pair(path, where: str, value) -> tuple[str, str]:
    """Two names (the axes): a list of two strings."""
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise DataError(f"{path}: {where} must name the two axes (two names), not {value!r:.80}")
    return str(value[0]), str(value[1])


def held_values(path, where: str, value) -> dict[str, float]:
    """The held parameters' values: names to real numbers."""
    if not isinstance(value, dict):
        raise DataError(f"{path}: {where} must map parameter names to numbers")
    out = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise DataError(f"{path}: {where}[{k!r}] must be a finite number, not {v!r:.40}")
        out[str(k)] = float(v)
    return out


def metric(path, where: str, value: str) -> str:
    if value not in ("loss", "accuracy"):
        raise DataError(f"{path}: {where} must be 'loss' or 'accuracy', not {value!r:.40}")
    return value


__all__ = ["real_numbers", "coordinates", "grid", "vector", "indices", "text", "texts", "json_value", "names_pair",
           "held_values", "metric"]
