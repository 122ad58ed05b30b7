"""Datasets: the course's ``MyDS(Dataset)`` shape over tensors ``x`` and ``y``, with where they came from.

A dataset remembers its source (a generator with its knobs, arrays, or a CSV path) so that an experiment
saved to TOML reproduces it exactly.
"""
from __future__ import annotations

import csv
import itertools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch.utils.data import Dataset

from .data_classify import DIGITS_COUNT, DIGITS_IMAGE_SHAPE, MAKERS
from .errors import ConfigError, DataError
from .file_limits import regular_file

# Generator name -> (number of input features, default knobs). Knob names are the TOML keys.
# The 2-D classification sets default to 1,000 samples with a lecture's noise: moons as scikit-learn's
# make_moons(1000, noise=0.1, random_state=0) at seed 0; circles a clear gap (radii 1 and 0.5, noise 0.1); xor and
# spirals clean, as TensorFlow Playground opens them (its noise slider goes to 0.5).
GENERATORS: dict[str, tuple[int, dict[str, Any]]] = {
    "linear": (1, {"n_samples": 60, "noise": 0.1, "slope": 1.0, "intercept": 0.0, "x_min": -3.0, "x_max": 3.0}),
    "linear-outliers": (1, {"n_samples": 60, "noise": 0.1, "slope": 1.0, "intercept": 0.0, "x_min": -3.0,
                            "x_max": 3.0, "outlier_fraction": 0.1, "outlier_scale": 8.0}),
    "logistic": (1, {"n_samples": 60, "threshold": 0.0, "overlap": 0.5, "x_min": -3.0, "x_max": 3.0}),
    "plane": (2, {"n_samples": 60, "noise": 0.1, "slope1": 1.0, "slope2": -1.0, "intercept": 0.0,
                  "x_min": -2.0, "x_max": 2.0}),
    "moons": (2, {"n_samples": 1000, "noise": 0.1}),
    "circles": (2, {"n_samples": 1000, "noise": 0.1, "factor": 0.5}),
    "xor": (2, {"n_samples": 1000, "noise": 0.0}),
    "spirals": (2, {"n_samples": 1000, "noise": 0.0}),
    "digits": (64, {"n_samples": DIGITS_COUNT}),
}
# How many classes a generator's labels name (absent: regression targets), and the image shape of a sample.
GENERATOR_CLASSES = {"logistic": 2, "moons": 2, "circles": 2, "xor": 2, "spirals": 2, "digits": 10}
GENERATOR_IMAGE_SHAPES = {"digits": DIGITS_IMAGE_SHAPE}

# Knobs that take whole numbers; the rest are floats.
_INT_KNOBS = {"n_samples"}
MAX_SAMPLES = 1_000_000
_MAX_GENERATOR_SAMPLES = {"digits": DIGITS_COUNT}
# numpy's and scikit-learn's seeds: numpy refuses negative ones, scikit-learn's RandomState those of 2**32 and up.
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class DataSource:
    """Where a dataset came from: ``kind`` is "generator", "arrays" or "csv"."""

    kind: str
    name: str = ""                                   # generator name
    params: Mapping[str, Any] = field(default_factory=dict)  # generator knobs, with the seed
    path: str = ""                                   # csv path


class LandscapeDataset(Dataset):
    """Samples ``(x[i], y[i])``; ``x`` is (n, features) float32, ``y`` is (n, 1) float32."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, source: DataSource | None = None):
        self.x = x
        self.y = y
        self.source = source or DataSource("arrays")

    def __getitem__(self, index):
        return self.x[index], self.y[index]

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def n_features(self) -> int:
        return self.x.shape[1]

    @property
    def n_classes(self) -> int | None:
        """How many classes the labels name: None for regression targets. A generator declares it (2 for the
        binary sets, 10 for digits, even in a subset that misses some digit); for arrays and CSV files it is C
        when the labels are exactly the whole numbers 0..C-1 (C >= 2, each present), and None otherwise."""
        src = self.source
        if src.kind == "generator":
            return GENERATOR_CLASSES.get(src.name)
        labels = torch.unique(self.y)
        count = len(labels)
        if count >= 2 and torch.equal(labels, torch.arange(count, dtype=labels.dtype)):
            return count
        return None

    @property
    def image_shape(self) -> tuple[int, int, int] | None:
        """(channels, height, width) of one sample's image (``x[i].reshape(image_shape)``), or None."""
        src = self.source
        return GENERATOR_IMAGE_SHAPES.get(src.name) if src.kind == "generator" else None

    def numpy(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` as float64 arrays of shape (n, features) and (n,)."""
        return self.x.double().numpy(), self.y.double().numpy()[:, 0]

    def __eq__(self, other) -> bool:
        if not isinstance(other, LandscapeDataset):
            return NotImplemented
        return (self.source == other.source and torch.equal(self.x, other.x) and torch.equal(self.y, other.y))

    def __hash__(self) -> int:
        return hash((self.source.kind, self.source.name, self.source.path, len(self)))

    def __repr__(self) -> str:
        src = self.source
        what = src.name or src.path or src.kind
        return f"LandscapeDataset({what}, n={len(self)}, features={self.n_features})"


def _checked_knobs(name: str, knobs: Mapping[str, Any]) -> dict[str, Any]:
    if name not in GENERATORS:
        raise DataError(f"unknown dataset generator {name!r}; choose one of {', '.join(GENERATORS)}")
    defaults = GENERATORS[name][1]
    unknown = set(knobs) - set(defaults) - {"seed"}
    if unknown:
        raise DataError(f"dataset {name!r} has no knob {sorted(unknown)[0]!r}; "
                        f"its knobs are {', '.join(sorted(defaults))}, seed")
    out = dict(defaults)
    out["seed"] = 0
    for key, value in knobs.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DataError(f"dataset knob {key!r} must be a number, not {value!r}")
        if key in _INT_KNOBS or key == "seed":
            if float(value) != int(value):
                raise DataError(f"dataset knob {key!r} must be a whole number, not {value!r}")
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise DataError(f"dataset knob {key!r} must be finite, not {value!r}")
        out[key] = value
    most = _MAX_GENERATOR_SAMPLES.get(name, MAX_SAMPLES)
    if not 2 <= out["n_samples"] <= most:
        raise DataError(f"n_samples must be between 2 and {most:,}, not {out['n_samples']}")
    if not 0 <= out["seed"] <= MAX_SEED:
        raise DataError(f"dataset knob 'seed' must be between 0 and {MAX_SEED:,}, not {out['seed']}")
    for key in ("noise", "overlap", "outlier_scale"):
        if out.get(key, 0.0) < 0:
            raise DataError(f"dataset knob {key!r} must be >= 0, not {out[key]}")
    if not 0.0 <= out.get("outlier_fraction", 0.0) <= 1.0:
        raise DataError(f"outlier_fraction must be between 0 and 1, not {out['outlier_fraction']}")
    if not 0.0 <= out.get("factor", 0.0) < 1.0:
        raise DataError(f"factor (the inner circle's radius) must be at least 0 and less than 1, "
                        f"not {out['factor']}")
    if "x_min" in out and out["x_min"] >= out["x_max"]:
        raise DataError(f"x_min ({out['x_min']}) must be less than x_max ({out['x_max']})")
    return out


def make_dataset(name: str = "linear", **knobs) -> LandscapeDataset:
    """A seeded, reproducible built-in dataset: ``linear``, ``linear-outliers``, ``logistic`` or ``plane``
    (regression and 1-D classification), ``moons``, ``circles``, ``xor`` or ``spirals`` (2-D, labels 0/1), or
    ``digits`` (64 pixels in [0, 1], labels 0..9). ``GENERATORS`` lists each one's knobs and defaults."""
    k = _checked_knobs(name, knobs)
    source = DataSource("generator", name=name, params=k)
    if name in MAKERS:
        features, y = MAKERS[name](k)
        return _from_numpy(features, y, source)
    rng = np.random.default_rng(k["seed"])
    n = k["n_samples"]
    # Evenly spaced inputs, like the course's torch.arange data, so the surface is the same on every machine.
    x = np.linspace(k["x_min"], k["x_max"], n)
    if name in ("linear", "linear-outliers"):
        y = k["slope"] * x + k["intercept"] + k["noise"] * rng.standard_normal(n)
        if name == "linear-outliers":
            n_out = int(round(k["outlier_fraction"] * n))
            idx = rng.choice(n, size=n_out, replace=False)
            y[idx] += k["outlier_scale"] * np.where(rng.random(n_out) < 0.5, -1.0, 1.0)
        features = x[:, None]
    elif name == "logistic":
        # Labels from a threshold; 'overlap' is the width of the fuzzy zone where classes mix.
        z = x - k["threshold"]
        if k["overlap"] > 0:
            z = z + k["overlap"] * rng.standard_normal(n)
        y = (z > 0).astype(np.float64)
        features = x[:, None]
    else:  # plane
        x1 = rng.uniform(k["x_min"], k["x_max"], n)
        x2 = rng.uniform(k["x_min"], k["x_max"], n)
        y = k["slope1"] * x1 + k["slope2"] * x2 + k["intercept"] + k["noise"] * rng.standard_normal(n)
        features = np.stack([x1, x2], axis=1)
    return _from_numpy(features, y, source)


def _from_numpy(x: np.ndarray, y: np.ndarray, source: DataSource) -> LandscapeDataset:
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    yt = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32).reshape(-1, 1))
    return LandscapeDataset(xt, yt, source)


def dataset_from_arrays(x, y) -> LandscapeDataset:
    """A dataset from array-likes: ``x`` of shape (n,) or (n, features), ``y`` of shape (n,) or (n, 1).

    The closed-form models take 1 (line, sigmoid) or 2 (plane) features; networks take any number.
    """
    try:
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"x and y must be numeric arrays ({exc})") from None
    if xa.ndim == 1:
        xa = xa[:, None]
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]
    if xa.ndim != 2 or xa.shape[1] < 1:
        raise DataError(f"x must have shape (n,) or (n, features), not {xa.shape}")
    if ya.ndim != 1:
        raise DataError(f"y must have shape (n,) or (n, 1), not {np.shape(y)}")
    if xa.shape[0] != ya.shape[0]:
        raise DataError(f"x has {xa.shape[0]} samples but y has {ya.shape[0]}")
    _check_values(xa, ya, where="arrays")
    return _from_numpy(xa, ya, DataSource("arrays"))


def _check_values(x: np.ndarray, y: np.ndarray, where: str) -> None:
    n = x.shape[0]
    if n == 0:
        raise DataError(f"{where}: no samples")
    if n == 1:
        raise DataError(f"{where}: a single sample; a loss surface needs at least 2")
    if n > MAX_SAMPLES:
        raise DataError(f"{where}: {n:,} samples; at most {MAX_SAMPLES:,} are supported")
    for name, arr in (("x", x), ("y", y)):
        bad = ~np.isfinite(arr)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise DataError(f"{where}: {name} has a non-finite value (NaN or inf) at sample {row}")


def read_user_text(path: Path, encoding: str = "utf-8-sig") -> str:
    """A user's text file, or a ``DataError`` naming it and why it cannot be read."""
    try:
        return Path(path).read_text(encoding=encoding)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None


def dataset_from_csv(path) -> LandscapeDataset:
    """A dataset from a CSV file with columns ``x,y``, ``x1,x2,y`` or more features (the last column is the target);
    a header row is optional.

    Read row by row, never whole: past ``MAX_SAMPLES`` data rows, a line longer than ``MAX_CSV_LINE`` characters,
    or more values than there is memory for (``memory.CSV_PER_VALUE`` bytes each, estimated from the file's size
    once its first rows are read, and checked as it grows), it is refused before the rest is read. Only a regular
    file is read (not a device such as /dev/zero, a pipe or a folder)."""
    path = Path(path)
    regular_file(path)       # /dev/zero never ends, and a pipe with no writer blocks the open itself
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = _CsvRows(path, f)
            values = reader.read()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    x, y = values[:, :-1], values[:, -1]
    _check_values(x, y, where=str(path))
    # An absolute path: the dataset stays the same file whatever the working directory later becomes.
    return _from_numpy(x, y, DataSource("csv", path=os.path.abspath(path)))


# A CSV line longer than this is no data row: a binary file, or one line of many megabytes (a 3,072-pixel image with
# 25 characters a value is 77 kB). Reading stops there instead of holding the line.
MAX_CSV_LINE = 4 * 2**20
# Data rows are parsed into blocks of about this many values (8 MB); the memory estimate is checked before each.
_CSV_BLOCK_VALUES = 2**20


class _CsvRows:
    """The rows of an open CSV file as float64 blocks, with the file's checks (see ``dataset_from_csv``)."""

    def __init__(self, path: Path, f):
        self.path, self.f = path, f
        self.chars = 0               # characters read so far (for the estimate of the rows to come)
        self.line = 0

    def _lines(self):
        while True:
            line = self.f.readline(MAX_CSV_LINE + 1)
            if not line:
                return
            self.line += 1
            if len(line) > MAX_CSV_LINE:
                raise DataError(f"{self.path}, line {self.line}: longer than {MAX_CSV_LINE:,} characters; not a "
                                "CSV data row")
            self.chars += len(line)
            yield line

    def _rows(self):
        """(row number, cells) of every row with something in it, as the csv module splits them."""
        reader = csv.reader(self._lines())
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DataError(f"{self.path}, line {reader.line_num}: not CSV ({exc})") from None
            number += 1
            if any(c.strip() for c in cells):
                yield number, cells

    def read(self) -> np.ndarray:
        path = self.path
        rows = self._rows()
        first = next(rows, None)
        if first is None:
            raise DataError(f"{path}: the file is empty")
        width = len(first[1])
        # A header has no number in it; a first row with some numbers is data with a bad cell, reported below.
        if not any(_all_numeric([cell]) for cell in first[1]):  # a header row
            # Column names are a courtesy: the last column is always the target.
            first = next(rows, None)
            if first is None:
                raise DataError(f"{path}: the file has a header but no data rows")
        if width < 2:
            raise DataError(f"{path}, line {first[0]}: {width} column; expected 2 (x,y), 3 (x1,x2,y) or more "
                            "(features, then the target)")
        block_rows = max(1, min(MAX_SAMPLES, _CSV_BLOCK_VALUES // width))
        blocks, pending, count = [], [], 0
        for line, cells in itertools.chain([first], rows):
            if count >= MAX_SAMPLES:
                raise DataError(f"{path}: more than {MAX_SAMPLES:,} samples (data rows); at most {MAX_SAMPLES:,} "
                                "are supported")
            if count % block_rows == 0:
                self._check_memory(count, width)
                if pending:
                    blocks.append(np.array(pending, dtype=np.float64))
                    pending = []
            if len(cells) != width:
                raise DataError(f"{path}, line {line}: {len(cells)} columns; expected {width} like the first row")
            try:
                values = list(map(float, cells))
            except ValueError:
                values = None
            if values is None or not all(map(math.isfinite, values)):
                self._refuse_cell(line, cells)
            pending.append(values)
            count += 1
        blocks.append(np.array(pending, dtype=np.float64).reshape(-1, width))
        return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]

    def _refuse_cell(self, line: int, cells) -> None:
        """The first cell of the row that is not a finite number, named by line and column."""
        for c, cell in enumerate(cells):
            try:
                v = float(cell)
            except ValueError:
                raise DataError(f"{self.path}, line {line}, column {c + 1}: {cell.strip()!r} is not a number") \
                    from None
            if not math.isfinite(v):
                raise DataError(f"{self.path}, line {line}, column {c + 1}: {cell.strip()!r} is not finite")

    def _check_memory(self, count: int, width: int) -> None:
        """Before each block: the memory the file's rows need, the rows estimated from the file's size and the
        characters each row read so far took (the row being read included)."""
        from . import memory
        try:
            size = os.fstat(self.f.fileno()).st_size
        except OSError:
            size = 0
        per_row = max(1.0, self.chars / (count + 1))
        rows = max(count + 1, min(MAX_SAMPLES, round(size / per_row)))
        need = rows * width * memory.CSV_PER_VALUE
        memory.check(need, f"{self.path} (about {rows:,} rows of {width} values)", DataError)


def _all_numeric(cells) -> bool:
    try:
        [float(c) for c in cells]
    except ValueError:
        return False
    return True


def check_binary_labels(dataset: LandscapeDataset, criterion: str) -> None:
    """BCE needs labels in {0, 1}: name the first sample that is not."""
    y = dataset.y[:, 0]
    bad = ~((y == 0) | (y == 1))
    if bool(bad.any()):
        i = int(torch.nonzero(bad)[0][0])
        where = dataset.source.path or "the data"
        raise DataError(f"{where}: criterion {criterion!r} needs labels 0 or 1, but sample {i} "
                        f"has y = {float(y[i]):g}")


def check_class_labels(dataset: LandscapeDataset, n_classes: int | None = None,
                       criterion: str = "cross-entropy") -> int:
    """Cross-entropy needs class indices, whole numbers 0..C-1: name the first sample that is not one. C is
    ``n_classes`` (a model's outputs) when given, else the dataset's own ``n_classes``, else the largest label + 1.
    Returns C."""
    y = dataset.y[:, 0]
    where = _where(dataset)
    bad = (y != torch.floor(y)) | (y < 0)
    if bool(bad.any()):
        i = int(torch.nonzero(bad)[0][0])
        raise DataError(f"{where}: criterion {criterion!r} needs class labels 0, 1, 2, ... (whole numbers), "
                        f"but sample {i} has y = {float(y[i]):g}")
    if n_classes is not None and n_classes < 2:
        raise ConfigError("criterion", f"{criterion!r} needs at least 2 classes (outputs), not {n_classes}")
    classes = n_classes or dataset.n_classes or int(y.max()) + 1
    if classes < 2:
        raise DataError(f"{where}: criterion {criterion!r} needs at least 2 classes, but every label is 0")
    over = y >= classes
    if bool(over.any()):
        i = int(torch.nonzero(over)[0][0])
        raise DataError(f"{where}: criterion {criterion!r} with {classes} classes needs labels 0 to "
                        f"{classes - 1}, but sample {i} has y = {float(y[i]):g}")
    return classes


def _where(dataset: LandscapeDataset) -> str:
    src = dataset.source
    if src.kind == "csv":
        return src.path
    return f"dataset {src.name!r}" if src.kind == "generator" else "the data"
