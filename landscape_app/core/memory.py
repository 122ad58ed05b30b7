"""Memory a piece of work will take, estimated before any of it is spent, and the memory there is to take it.

A model is measured before it is built: on torch's ``meta`` device a module has shapes and no storage, so its
parameter count and its activations per sample cost nothing (``profile``). The estimates count the copies the work
keeps, in bytes per parameter, per sample and per grid point (the constants below say which); they are meant to
refuse what cannot fit, with the estimate and the limit in the message, not to predict the peak to the byte.

The limit is the memory available now: ``/proc/meminfo``'s MemAvailable (within a cgroup's ``memory.max``, where
one is set), else ``os.sysconf``'s available pages; ``LANDSCAPE_APP_MEMORY_LIMIT`` (bytes, or with a unit: 512M,
8G) overrides it, for tests and for machines whose numbers mislead. Where nothing says, nothing is refused.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Callable

ENV_LIMIT = "LANDSCAPE_APP_MEMORY_LIMIT"

# -- bytes per parameter -------------------------------------------------------------------------------------------
# Building an experiment's module: the module (float32), its float64 start, the float64 pieces joined into it, and
# the copy that checks its output on the data (float32).
BUILD_PER_PARAM = 4 + 8 + 8 + 4
# What a run keeps beside them: the live module (float32) and its gradients, the full-data loss's float64 copy (a
# flat vector the module's parameters view), each step's float64 record and its copy, and a name per parameter
# ("0.weight[3,1]": a Python string and its slot in a tuple, about 80 bytes).
RUN_PER_PARAM = 4 + 4 + 8 + 8 + 8
NAME_PER_PARAM = 80
# A surface over a plane: the plane's three float64 vectors copied for the evaluator and stacked there, the same
# in the evaluation's float32, and the evaluator's own module; each worker's chunk then holds its points'
# parameters (float64 from the product, then float32), the layers' weights at them, and the workspace's buffers.
SURFACE_PER_PARAM = 3 * 8 + 3 * 8 + 3 * 4 + 4
CHUNK_PER_PARAM = 8 + 4 + 4 + 4
# The optimizers' state, in float32 copies of the parameters (SGD without momentum keeps none; L-BFGS two per
# remembered step, see ``optimizer_copies``).
OPTIMIZER_COPIES = {"sgd": 0, "adam": 2, "adamw": 2, "rmsprop": 1, "adagrad": 1, "adadelta": 2, "adamax": 2,
                    "nadam": 2, "radam": 2, "asgd": 1, "lbfgs": 4, "rprop": 2, "adafactor": 1}
# -- bytes per grid point ------------------------------------------------------------------------------------------
# A network's surface: the values (float64), each point's (1, alpha, beta) coefficients (float64) and the meshgrid
# and stack they are made from. A linear model's: the values and its kernels' float64 temporaries.
NETWORK_PER_POINT = 8 + 3 * 8 + 2 * 8 + 3 * 8
LINEAR_PER_POINT = 4 * 8
# A step of a path beside its parameters: iteration, epoch, losses and learning rate (three copies, as the
# parameters), and the numpy array of its batch's indices.
STEP_BYTES = 3 * 5 * 8 + 112
# A CSV dataset: each value parsed (float64), joined (float64) and kept as the dataset's float32.
CSV_PER_VALUE = 8 + 8 + 4


@dataclass(frozen=True)
class Limit:
    """The memory work may take (bytes) and where that number comes from, for messages."""

    bytes: int
    source: str


@dataclass(frozen=True)
class Profile:
    """A module's size: ``params`` entries, ``sample_bytes`` of activations per sample through all its layers
    (float32), and ``widest_bytes``, the largest single layer's output per sample."""

    params: int
    sample_bytes: int
    widest_bytes: int


def human(n: float) -> str:
    """Bytes for people: ``512 MB``, ``20.1 GB`` (powers of 1000, as disks and the issue's numbers count)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} bytes"       # pragma: no cover


_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20, "mib": 2**20,
          "g": 2**30, "gb": 2**30, "gib": 2**30, "t": 2**40, "tb": 2**40, "tib": 2**40}


def parse_bytes(text: str) -> int | None:
    """``"8G"``, ``"512 MiB"``, ``"1000000"`` as bytes (units in powers of 1024), None when it is none of these."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([a-zA-Z]*)\s*", str(text))
    if m is None or m.group(2).lower() not in _UNITS:
        return None
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def _meminfo_available() -> int | None:
    text = _read("/proc/meminfo")
    m = re.search(r"^MemAvailable:\s+([0-9]+)\s*kB", text or "", re.MULTILINE)
    return int(m.group(1)) * 1024 if m else None


def _cgroup_room() -> int | None:
    """What a cgroup v2 ``memory.max`` leaves (None without one)."""
    most, used = _read("/sys/fs/cgroup/memory.max"), _read("/sys/fs/cgroup/memory.current")
    if most is None or used is None or most.strip() == "max":
        return None
    try:
        return max(0, int(most) - int(used))
    except ValueError:
        return None


def available() -> Limit | None:
    """The memory there is for work now (see the module's text); None where the system does not say."""
    given = os.environ.get(ENV_LIMIT)
    if given:
        value = parse_bytes(given)
        if value is not None:
            return Limit(value, ENV_LIMIT)
    free = _meminfo_available()
    source = "MemAvailable"
    if free is None:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            source = "available pages"
        except (AttributeError, ValueError, OSError):
            free = None
    room = _cgroup_room()
    if room is not None and (free is None or room < free):
        free, source = room, "the cgroup's memory.max"
    return None if free is None else Limit(int(free), source)


def check(need: float, what: str, error: Callable[[str], Exception], hint: str = "") -> None:
    """Raise ``error(message)`` when ``what`` (a phrase: "the model (5.0 G parameters)") needs more than there is;
    the message gives the estimate, the limit and where the limit comes from."""
    limit = available()
    if limit is None or need <= limit.bytes:
        return
    advice = f"; {hint}" if hint else ""
    raise error(f"{what} needs about {human(need)} of memory, more than the {human(limit.bytes)} available "
                f"({limit.source}){advice}")


def count(n: float) -> str:
    """A count for people: ``151 M``, ``5.0 G``."""
    for unit in ("", " k", " M", " G", " T"):
        if abs(n) < 1000 or unit == " T":
            return f"{n:.0f}{unit}" if not unit or n >= 100 else f"{n:.1f}{unit}"
        n /= 1000
    return str(n)       # pragma: no cover


# -- a module's size -----------------------------------------------------------------------------------------------

def profile(module, n_features: int, probe=None) -> Profile:
    """Parameters and activations per sample of ``module`` (on the meta device or a real one), from a forward
    pass over two samples (BatchNorm refuses one): zeros of ``n_features`` each on the module's device, or
    ``probe`` (real samples). Leaf modules' outputs are summed."""
    import torch
    params = sum(p.numel() for p in module.parameters())
    try:
        device = next(module.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    x = probe if probe is not None else torch.zeros((2, n_features), device=device)
    sizes: list[int] = []

    def hook(_module, _inputs, output):
        sizes.append(_nbytes(output))
    hooks = [m.register_forward_hook(hook) for m in module.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            module(x)
    finally:
        for h in hooks:
            h.remove()
    n = max(1, len(x))
    # float32 whatever the probe's dtype: the dtype networks are built, trained and drawn in
    scale = 4 / max(1, x.element_size()) if x.is_floating_point() else 1
    return Profile(int(params), int(sum(sizes) * scale) // n, int(max(sizes, default=0) * scale) // n)


def _nbytes(output) -> int:
    import torch
    if isinstance(output, torch.Tensor):
        return output.numel() * output.element_size()
    if isinstance(output, (tuple, list)):
        return sum(_nbytes(o) for o in output)
    return 0


def optimizer_copies(name: str, options) -> int:
    """The float32 copies of the parameters ``name``'s state keeps with ``options``."""
    options = dict(options or {})
    copies = OPTIMIZER_COPIES.get(name, 2)
    if name == "sgd" and options.get("momentum"):
        copies = 1
    if name in ("adam", "adamw") and options.get("amsgrad"):
        copies += 1
    if name == "rmsprop":
        copies += bool(options.get("momentum")) + bool(options.get("centered"))
    if name == "lbfgs":
        copies += 2 * int(options.get("history_size", 100))
    return copies


# -- the estimates -------------------------------------------------------------------------------------------------

def model_bytes(size: Profile, n_samples: int, batch: int, optimizer: str, options) -> int:
    """Building the module and running it: its copies (``BUILD_PER_PARAM``, ``RUN_PER_PARAM``, the optimizer's
    state, a name per parameter), and the activations of the larger of the check on all the data (float32) and a
    training step (a mini-batch forward kept for the backward pass and its gradients, beside the full-data loss in
    float64). The path is counted apart (``path_bytes``): it grows with the steps."""
    per_param = BUILD_PER_PARAM + RUN_PER_PARAM + NAME_PER_PARAM + 4 * optimizer_copies(optimizer, options)
    check_all = n_samples * size.sample_bytes
    step = 3 * batch * size.sample_bytes + 2 * n_samples * size.sample_bytes
    return size.params * per_param + max(check_all, step)


def path_bytes(params: int, steps: int, batch: int = 0) -> int:
    """A run's whole path: each step's float64 parameters, in a buffer that doubles as it grows (twice its size
    while it does) and the path's own copy, with the step's numbers and its batch's sample indices."""
    return (steps + 1) * (3 * 8 * params + STEP_BYTES + 8 * batch)


def evaluation_workers(device=None) -> int:
    """The threads a network's surface is evaluated on (as ``surface_module`` chooses them): one on a GPU."""
    import torch
    if device is not None and torch.device(device).type != "cpu":
        return 1
    return max(1, min(torch.get_num_threads(), os.cpu_count() or 1))


def check_surface(columns: int, rows: int, size: Profile | None, samples: int, error: Callable[[str], Exception],
                  device=None, chunk_bytes: int | None = None) -> None:
    """Refuse a surface of ``columns`` x ``rows`` points (a network of ``size``, or a linear model's: None) that
    cannot fit in memory (``surface_bytes``; ``chunk_bytes`` as the evaluator is given it, None: its default)."""
    on_cpu = device is None or str(device).split(":")[0] == "cpu"
    chunks = {} if chunk_bytes is None else {"chunk_bytes": int(chunk_bytes)}
    need = surface_bytes(rows * columns, size, samples, evaluation_workers(device), blocked=on_cpu, **chunks)
    what = f"the surface ({columns}x{rows} points" + (f", {count(size.params)} parameters)" if size else ")")
    check(need, what, error, "choose a coarser grid")


def surface_bytes(points: int, size: Profile | None, n_samples: int, workers: int = 1, blocked: bool = True,
                  chunk_bytes: int = 512 * 2**20) -> int:
    """A surface of ``points`` grid points: a linear model's (``size`` None) or a network's, evaluated by
    ``workers`` threads in chunks of points as ``surface_module`` sizes them (within ``chunk_bytes`` in all, each
    chunk's widest activation within its ``SPEED_BYTES`` on the CPU, at least one point). ``blocked``: a chunk's
    samples go through the layers in blocks of about ``BLOCK_BYTES`` (the CPU), else all at once (a GPU)."""
    if size is None:
        return points * LINEAR_PER_POINT
    from .surface_module import BLOCK_BYTES, SPEED_BYTES
    workers = max(1, workers)
    n, k = max(1, n_samples), size.params
    per_point = 2 * n * size.sample_bytes + 3 * k * 4 + 1         # the evaluator's own measure of a point
    chunk = max(1, (chunk_bytes // workers) // per_point)
    if blocked:
        chunk = min(chunk, max(1, SPEED_BYTES // (n * size.widest_bytes + 1)))
    chunk = max(1, min(chunk, points))
    samples = n
    if blocked:
        samples = max(1, min(n, BLOCK_BYTES // (chunk * size.widest_bytes + 1)))
    in_chunk = chunk * (k * CHUNK_PER_PARAM + 2 * samples * size.sample_bytes)
    return points * NETWORK_PER_POINT + k * SURFACE_PER_PARAM + workers * in_chunk


__all__ = ["ENV_LIMIT", "Limit", "Profile", "available", "check", "check_surface", "count", "evaluation_workers",
           "human", "model_bytes", "optimizer_copies", "parse_bytes", "path_bytes", "profile", "surface_bytes"]
