"""Training records: a ``Step`` per optimizer update, a ``Trajectory`` of many, and a builder that grows one.

These are what cross threads and what the views draw: plain numpy, never live tensors.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError
from .file_limits import read_text

OUTCOMES = ("running", "finished", "stopped", "diverged")
JSON_FORMAT = "landscape-app trajectory"
JSON_VERSION = 1


@dataclass(frozen=True)
class Step:
    """One point of the path. Iteration 0 is the start point (no batch: ``batch_loss`` is NaN, ``batch`` empty)."""

    iteration: int
    epoch: int
    params: np.ndarray        # float64 (k,): the model's parameters after the update, in order w..., b
    batch_loss: float         # the mini-batch loss that drove the update (at the parameters before it)
    loss: float               # the full-data loss at ``params``: the point lies on the drawn surface
    batch: np.ndarray         # int64 sample indices of that mini-batch
    lr: float = float("nan")  # the learning rate used for the update
    run_id: int = 0
    buffers: Any = None       # a network's BatchNorm running statistics after the update ({name: array}), or None


@dataclass(frozen=True)
class Trajectory:
    """A path as arrays of equal length ``n``; ``batches[i]`` holds step i's sample indices."""

    param_names: tuple[str, ...]
    iteration: np.ndarray     # int64 (n,)
    epoch: np.ndarray         # int64 (n,)
    params: np.ndarray        # float64 (n, k)
    batch_loss: np.ndarray    # float64 (n,)
    loss: np.ndarray          # float64 (n,)
    lr: np.ndarray            # float64 (n,)
    batches: tuple[np.ndarray, ...] = ()
    outcome: str = "finished"
    message: str = ""         # why it ended, for people (e.g. where it diverged)
    buffers: Any = None       # a network's BatchNorm running statistics at the last point, or None

    def __len__(self) -> int:
        return int(self.iteration.shape[0])

    def column(self, name: str) -> np.ndarray:
        """The values of one parameter along the path."""
        return self.params[:, self.param_names.index(name)]

    def upto(self, n: int) -> "Trajectory":
        """The first ``n`` points (views of the same arrays)."""
        return Trajectory(self.param_names, self.iteration[:n], self.epoch[:n], self.params[:n],
                          self.batch_loss[:n], self.loss[:n], self.lr[:n], self.batches[:n],
                          self.outcome, self.message, self.buffers if n >= len(self) else None)

    def equals(self, other: "Trajectory") -> bool:
        """Same names, outcome, message and values (NaN equal to NaN), batches included."""
        if not isinstance(other, Trajectory) or len(self) != len(other):
            return False
        if (self.param_names, self.outcome, self.message) != (other.param_names, other.outcome, other.message):
            return False
        arrays = ("iteration", "epoch", "params", "batch_loss", "loss", "lr")
        if not all(np.array_equal(getattr(self, a), getattr(other, a), equal_nan=a not in ("iteration", "epoch"))
                   for a in arrays):
            return False
        return (len(self.batches) == len(other.batches)
                and all(np.array_equal(a, b) for a, b in zip(self.batches, other.batches)))

    # -- files ---------------------------------------------------------------------------------------------
    def to_csv(self, path) -> None:
        """Write one row per step: iteration, epoch, each parameter by name, batch_loss, loss, lr, batch.

        ``batch`` holds the sample indices separated by spaces, or nothing where the step used all of the samples
        (a full batch: a ``# full batch: N`` line says how many). Two ``#`` lines before the header keep the
        outcome and message. Floats are written with ``repr``, so ``from_csv`` gives back the same values.
        """
        from .files import write_text_atomic
        out = io.StringIO()
        out.write(f"# outcome: {self.outcome}\n# message: {json.dumps(self.message, ensure_ascii=False)}\n")
        full = full_batch_size(self.batches)
        out.write(full_batch_line(self.batches, full))
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["iteration", "epoch", *self.param_names, "batch_loss", "loss", "lr", "batch"])
        for i in range(len(self)):
            batch = batch_cell(self.batches[i], full) if i < len(self.batches) else ""
            writer.writerow([int(self.iteration[i]), int(self.epoch[i]), *map(_float_text, self.params[i]),
                             _float_text(self.batch_loss[i]), _float_text(self.loss[i]), _float_text(self.lr[i]),
                             batch])
        write_text_atomic(Path(path), out.getvalue())

    @classmethod
    def from_csv(cls, path) -> "Trajectory":
        """Read a file written by ``to_csv``; ``DataError`` names the file and line of a problem."""
        return _read_csv(Path(path))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready lists; NaN becomes null and infinities the strings "inf"/"-inf" (strict JSON)."""
        batches = [[int(v) for v in b] for b in self.batches]
        return {"format": JSON_FORMAT, "version": JSON_VERSION, "param_names": list(self.param_names),
                "outcome": self.outcome, "message": self.message,
                "iteration": [int(v) for v in self.iteration], "epoch": [int(v) for v in self.epoch],
                "params": [[_json_float(v) for v in row] for row in self.params],
                "batch_loss": [_json_float(v) for v in self.batch_loss], "loss": [_json_float(v) for v in self.loss],
                "lr": [_json_float(v) for v in self.lr], "batches": batches}

    def to_json(self, path, experiment=None) -> None:
        """Write the path as JSON, with ``experiment``'s TOML table (CSV data paths relative to the file)."""
        from .files import write_text_atomic
        path = Path(path)
        table = self.to_dict()
        if experiment is not None:
            from .tomlio import experiment_to_dict
            table["experiment"] = experiment_to_dict(experiment, path.resolve().parent)
        write_text_atomic(path, json.dumps(table, allow_nan=False) + "\n")

    @classmethod
    def from_json(cls, path) -> "Trajectory":
        """Read a file written by ``to_json`` (see ``load_json`` for the experiment stored with it, which is not
        built here: its model file's code does not run)."""
        path = Path(path)
        return trajectory_from_dict(_json_table(path), where=str(path))


@dataclass
class TrajectoryBuilder:
    """Grows a path step by step with amortised doubling, so a 100,000-point path costs no quadratic copying."""

    param_names: tuple[str, ...]
    _n: int = 0
    _cap: int = 0
    _arrays: dict = field(default_factory=dict)
    _batches: list = field(default_factory=list)
    outcome: str = "running"
    message: str = ""
    buffers: Any = None

    def __post_init__(self):
        self._grow(256)

    def _grow(self, cap: int) -> None:
        k = len(self.param_names)
        new = {"iteration": np.empty(cap, np.int64), "epoch": np.empty(cap, np.int64),
               "params": np.empty((cap, k)), "batch_loss": np.empty(cap), "loss": np.empty(cap),
               "lr": np.empty(cap)}
        for key, arr in self._arrays.items():
            new[key][: self._n] = arr[: self._n]
        self._arrays, self._cap = new, cap

    def __len__(self) -> int:
        return self._n

    def append(self, step: Step) -> None:
        if self._n == self._cap:
            self._grow(2 * self._cap)
        a, i = self._arrays, self._n
        a["iteration"][i] = step.iteration
        a["epoch"][i] = step.epoch
        a["params"][i] = step.params
        a["batch_loss"][i] = step.batch_loss
        a["loss"][i] = step.loss
        a["lr"][i] = step.lr
        self._batches.append(step.batch)
        self.buffers = step.buffers
        self._n += 1

    def extend(self, steps) -> None:
        """Append many steps at once: one array write per field instead of one per step and field."""
        steps = list(steps)
        m = len(steps)
        if m < 4:
            for step in steps:
                self.append(step)
            return
        cap = self._cap
        while self._n + m > cap:
            cap *= 2
        if cap != self._cap:
            self._grow(cap)
        a, i = self._arrays, self._n
        a["iteration"][i: i + m] = [s.iteration for s in steps]
        a["epoch"][i: i + m] = [s.epoch for s in steps]
        a["params"][i: i + m] = [s.params for s in steps]
        a["batch_loss"][i: i + m] = [s.batch_loss for s in steps]
        a["loss"][i: i + m] = [s.loss for s in steps]
        a["lr"][i: i + m] = [s.lr for s in steps]
        self._batches.extend(s.batch for s in steps)
        self.buffers = steps[-1].buffers
        self._n += m

    def trajectory(self) -> Trajectory:
        """The path so far; its arrays are views, valid until the next append that grows the buffer."""
        a, n = self._arrays, self._n
        return Trajectory(self.param_names, a["iteration"][:n], a["epoch"][:n], a["params"][:n],
                          a["batch_loss"][:n], a["loss"][:n], a["lr"][:n], tuple(self._batches),
                          self.outcome, self.message, self.buffers)


# -- file helpers --------------------------------------------------------------------------------------------
FULL_BATCH = "full batch"      # the CSV comment that says how many samples an empty batch cell stands for


def full_batch_size(batches) -> int:
    """The samples a full batch of these steps holds: one more than the largest index any batch has (0: none)."""
    return max((int(b.max()) + 1 for b in batches if len(b)), default=0)


def batch_cell(batch: np.ndarray, full: int) -> str:
    """A step's sample indices for a CSV cell, separated by spaces; empty for a full batch (all ``full`` samples,
    in whatever order), which would repeat every index on every row."""
    if full and len(batch) == full:
        return ""
    return " ".join(map(str, np.asarray(batch).tolist()))


def full_batch_line(batches, full: int) -> str:
    """The ``# full batch: N`` comment, where some step's batch cell is left empty for a full batch."""
    if full and any(len(b) == full for b in batches):
        return f"# {FULL_BATCH}: {full} samples, left out of the batch column (empty after iteration 0)\n"
    return ""


def read_full_batch(value: str) -> int:
    """N from the ``# full batch`` comment's value (0 when it does not start with a whole number)."""
    head = value.split()[0] if value.split() else ""
    return int(head) if head.isdigit() else 0


def cell_batch(text: str, iteration: int, full: int) -> np.ndarray:
    """The inverse of ``batch_cell``: an empty cell after the start point is the full batch, 0 to ``full`` - 1.
    ``ValueError`` for a cell that is not whole numbers."""
    if not text.strip() and iteration > 0 and full:
        return np.arange(full, dtype=np.int64)
    return np.array([int(v) for v in text.split()], dtype=np.int64)


def _float_text(value) -> str:
    return repr(float(value))


def _json_float(value):
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


_CSV_TAIL = ("batch_loss", "loss", "lr", "batch")


def _read_csv(path: Path) -> Trajectory:
    text = read_text(path, encoding="utf-8-sig")
    outcome, message, full = "finished", "", 0
    lines = text.splitlines()
    start = 0
    while start < len(lines) and lines[start].startswith("#"):
        key, _, value = lines[start][1:].partition(":")
        key, value = key.strip(), value.strip()
        if key == "outcome":
            if value not in OUTCOMES:
                raise DataError(f"{path}, line {start + 1}: outcome must be one of {', '.join(OUTCOMES)}, "
                                f"not {value!r}")
            outcome = value
        elif key == "message":
            try:
                message = json.loads(value)
            except ValueError:
                message = value
            if not isinstance(message, str):
                message = value
        elif key == FULL_BATCH:
            full = read_full_batch(value)
        start += 1
    rows = list(csv.reader(lines[start:]))
    if not rows or not rows[0]:
        raise DataError(f"{path}, line {start + 1}: no header row (iteration, epoch, parameters..., "
                        f"{', '.join(_CSV_TAIL)})")
    header = [h.strip() for h in rows[0]]
    has_batch = header[-1:] == ["batch"]
    tail = _CSV_TAIL if has_batch else _CSV_TAIL[:-1]
    if header[:2] != ["iteration", "epoch"] or tuple(header[-len(tail):]) != tail or len(header) < 2 + 2 + len(tail):
        raise DataError(f"{path}, line {start + 1}: the header must be iteration, epoch, two or more parameter "
                        f"names, {', '.join(_CSV_TAIL)}; found {', '.join(header)}")
    names = tuple(header[2:len(header) - len(tail)])
    k, width = len(names), len(header)
    body = [(start + 2 + i, r) for i, r in enumerate(rows[1:]) if r]
    n = len(body)
    ints = np.empty((n, 2), np.int64)
    floats = np.empty((n, k + 3))
    batches = []
    for r, (line, cells) in enumerate(body):
        if len(cells) != width:
            raise DataError(f"{path}, line {line}: {len(cells)} columns; the header has {width}")
        for c in range(2):
            try:
                ints[r, c] = int(cells[c])
            except ValueError:
                raise DataError(f"{path}, line {line}, column {c + 1} ({header[c]}): {cells[c]!r} is not a "
                                f"whole number") from None
        for c in range(k + 3):
            cell = cells[2 + c]
            try:
                floats[r, c] = float(cell)
            except ValueError:
                raise DataError(f"{path}, line {line}, column {c + 3} ({header[2 + c]}): {cell!r} is not a "
                                f"number") from None
        if has_batch:
            try:
                batches.append(cell_batch(cells[-1], int(ints[r, 0]), full))
            except ValueError:
                raise DataError(f"{path}, line {line}, column {width} (batch): {cells[-1]!r} is not a list of "
                                f"sample indices separated by spaces") from None
    if n == 0:
        raise DataError(f"{path}: no steps after the header")
    return Trajectory(names, ints[:, 0].copy(), ints[:, 1].copy(), floats[:, :k].copy(), floats[:, k].copy(),
                      floats[:, k + 1].copy(), floats[:, k + 2].copy(), tuple(batches), outcome, message)


def _json_table(path: Path):
    text = read_text(path, encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise DataError(f"{path}: not valid JSON (nested too deeply)") from None


def load_json(path, trust: bool = False):
    """The ``Trajectory`` in a file written by ``Trajectory.to_json``, and its ``Experiment`` (or None).

    An experiment that names code (a model file) runs it when built: unless ``trust``, ``UntrustedCodeError``
    before any of it runs."""
    path = Path(path)
    table = _json_table(path)
    trajectory = trajectory_from_dict(table, where=str(path))
    experiment = None
    if "experiment" in table:
        from .tomlio import experiment_from_dict
        experiment = experiment_from_dict(table["experiment"], path.resolve().parent, where="experiment.",
                                          trust=trust, source=path)
    return trajectory, experiment


def _floats(values, key: str, where: str) -> np.ndarray:
    out = []
    for v in values:
        if v is None:
            out.append(math.nan)
        elif v in ("inf", "-inf"):
            out.append(float(v))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(float(v))
        else:
            raise DataError(f"{where}: {key!r} holds {v!r}, which is not a number")
    return np.array(out, dtype=np.float64)


def trajectory_from_dict(table, where: str = "trajectory") -> Trajectory:
    """The inverse of ``Trajectory.to_dict``; ``DataError`` names the key at fault."""
    if not isinstance(table, dict) or table.get("format") != JSON_FORMAT:
        raise DataError(f"{where}: not a landscape-app trajectory (no \"format\": \"{JSON_FORMAT}\")")
    required = ("param_names", "iteration", "epoch", "params", "batch_loss", "loss", "lr")
    missing = [key for key in required if key not in table]
    if missing:
        raise DataError(f"{where}: missing {missing[0]!r}")
    names = table["param_names"]
    if not isinstance(names, list) or len(names) < 2 or not all(isinstance(v, str) for v in names):
        raise DataError(f"{where}: 'param_names' must be a list of two or more names")
    for key in required[1:] + ("batches",):
        if not isinstance(table.get(key, []), list):
            raise DataError(f"{where}: {key!r} must be a list")
    n, k = len(table["iteration"]), len(names)
    for key in required[1:]:
        if len(table[key]) != n:
            raise DataError(f"{where}: {key!r} has {len(table[key])} entries but 'iteration' has {n}")
    if any(not isinstance(row, list) or len(row) != k for row in table["params"]):
        raise DataError(f"{where}: every row of 'params' must hold {k} values ({', '.join(names)})")
    ints = {}
    for key in ("iteration", "epoch"):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in table[key]):
            raise DataError(f"{where}: {key!r} must hold whole numbers")
        ints[key] = np.array(table[key], dtype=np.int64)
    params = np.array([_floats(row, "params", where) for row in table["params"]], dtype=np.float64).reshape(n, k)
    batches = table.get("batches", [])
    if batches and len(batches) != n:
        raise DataError(f"{where}: 'batches' has {len(batches)} entries but 'iteration' has {n}")
    if not all(isinstance(b, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in b)
               for b in batches):
        raise DataError(f"{where}: 'batches' must be lists of sample indices")
    outcome = table.get("outcome", "finished")
    if outcome not in OUTCOMES:
        raise DataError(f"{where}: 'outcome' must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    return Trajectory(tuple(names), ints["iteration"], ints["epoch"], params,
                      _floats(table["batch_loss"], "batch_loss", where), _floats(table["loss"], "loss", where),
                      _floats(table["lr"], "lr", where), tuple(np.array(b, dtype=np.int64) for b in batches),
                      outcome, str(table.get("message", "")))
