"""The loss (or accuracy) of any ``nn.Module`` at many points of parameter space, in batches of points.

``module_surface`` evaluates a grid on a plane ``origin + alpha * d1 + beta * d2`` through the flat parameter vector
(``torch.nn.utils.parameters_to_vector`` order); ``module_losses`` evaluates arbitrary points (a trajectory).
Each value is ``criterion(module(x), target)`` over all of ``x``, as torch computes it with the module's parameters
at that point, dropout off, BatchNorm with its running statistics (``bn="eval"``) or with each point's own batch
statistics over all of ``x`` (``bn="recompute"``, how torch normalises in training).

Points go through in chunks: a ``Sequential`` of Linear/Conv/BatchNorm/activation/pooling layers takes a fast path
of batched matmuls and grouped convolutions (``surface_module_layers``); any other module runs through
``torch.func.vmap`` over ``functional_call``, and one that vmap cannot run (data-dependent Python control flow,
``.item()``) point by point. A chunk holds as many points as fit in ``chunk_bytes`` of activations, and on the CPU
no more than keep its largest activation within ``SPEED_BYTES``: bigger chunks were slower here (the temporaries
leave the cache), and inside a chunk the samples go through the layers in blocks of ``BLOCK_BYTES``. On the CPU the
fast path's chunks run on worker threads, torch single-threaded in each (see ``surface_parallel``: torch's own
threads stall each other on shared cores). ``progress(done, total)`` is called in the calling thread after each
chunk; ``stop`` raises ``EvaluationStopped`` before the next one.

The default evaluation dtype is float32, the dtype the modules train in: on this machine's two cores float64 took
about twice as long (sgemm ~230 vs dgemm ~140 GFLOP/s, and twice the memory traffic for the activations), which
broke the speed targets; ``dtype=torch.float64`` is there for an exact reference.
"""
from __future__ import annotations

import copy
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, replace_all_batch_norm_modules_
from torch.nn.utils import vector_to_parameters

from .errors import ConfigError
from .surface_module_criteria import per_sample_criterion
from .surface_module_chunk import Chunk, give_back, take_workspace
from .surface_module_layers import batch_statistics, compile_layers, run_layers
from .surface_parallel import torch_threads

# Largest single activation of a CPU chunk (bytes): with two workers the MLP benchmark ran fastest near 8 MB (65
# points of 1,000 x 33 floats; 2 MB 0.20 s, 4 MB 0.14 s, 8 MB 0.12 s, 16 MB 0.16 s): smaller chunks pay per-call
# overheads and wait for the interpreter lock more often, larger ones leave too few chunks to share out.
SPEED_BYTES = 8 * 2**20
# Within a chunk on the CPU, samples go through the layers in blocks of about this many bytes of activation.
# Measured on a quiet machine (the MLP benchmark, two workers): 1 MB 0.23 s, 2 MB 0.20 s, 8 MB 0.14 s: smaller
# blocks pay more per-call overhead than the cache gives back.
BLOCK_BYTES = 8 * 2**20
# The criterion runs on pieces of a chunk's outputs of at most this many bytes: its temporaries then come from
# memory the allocator keeps, while larger ones came as fresh pages every time (page faults cost a tenth of an MLP
# surface).
SCORE_BYTES = 64 * 2**10
METRICS = ("loss", "accuracy")
BN_MODES = ("eval", "recompute")
DECISIONS = ("logit", "probability")

Progress = Callable[[int, int], None]
Stop = Callable[[], bool] | threading.Event


class EvaluationStopped(Exception):
    """Raised when ``stop`` is set between chunks: the evaluation was abandoned, nothing is returned."""


def module_surface(module: nn.Module, criterion: nn.Module | None, x: Tensor, target: Tensor,
                   origin: Tensor, d1: Tensor, d2: Tensor, alpha: np.ndarray, beta: np.ndarray, *,
                   metric: str = "loss", decision: str = "logit", bn: str = "eval",
                   buffers: dict[str, Tensor] | None = None, device=None, dtype: torch.dtype = torch.float32,
                   chunk_bytes: int = 512 * 2**20, progress: Progress | None = None,
                   stop: Stop | None = None) -> np.ndarray:
    """``(len(beta), len(alpha))`` float64: ``[i, j]`` at parameters ``origin + alpha[j] * d1 + beta[i] * d2``.

    ``metric="accuracy"`` gives the fraction classified right instead of the loss: the argmax of several outputs
    against class indices, and for one output ``decision="logit"`` (positive when the output is > 0) or
    ``"probability"`` (> 0.5) against 0/1 targets. ``buffers`` replaces the module's buffers (BatchNorm's running
    statistics) by name. ``progress(done, total)`` is called after each chunk; ``stop`` (a callable returning True
    or a ``threading.Event``) is checked before each chunk and raises ``EvaluationStopped`` when set.
    """
    alpha = np.asarray(alpha, dtype=np.float64).reshape(-1)
    beta = np.asarray(beta, dtype=np.float64).reshape(-1)
    evaluator = _Evaluator(module, criterion, x, target, metric, decision, bn, buffers, device, dtype)
    basis = torch.stack([evaluator.vector(origin, "origin"), evaluator.vector(d1, "d1"), evaluator.vector(d2, "d2")])
    aa, bb = np.meshgrid(alpha, beta)
    coef = torch.from_numpy(np.stack([np.ones(aa.size), aa.ravel(), bb.ravel()], axis=1))
    out = evaluator.run(coef, basis, chunk_bytes, progress, stop)
    return out.reshape(len(beta), len(alpha))


def module_losses(module: nn.Module, criterion: nn.Module | None, x: Tensor, target: Tensor, points, *,
                  metric: str = "loss", decision: str = "logit", bn: str = "eval",
                  buffers: dict[str, Tensor] | None = None, device=None, dtype: torch.dtype = torch.float32,
                  chunk_bytes: int = 512 * 2**20, progress: Progress | None = None,
                  stop: Stop | None = None) -> np.ndarray:
    """``(m,)`` float64: the loss (or accuracy) at each row of ``points`` (m, k), flat parameter vectors.

    The keywords mean what they mean for ``module_surface``.
    """
    evaluator = _Evaluator(module, criterion, x, target, metric, decision, bn, buffers, device, dtype)
    points = torch.as_tensor(np.asarray(points, dtype=np.float64) if not isinstance(points, Tensor) else points)
    if points.ndim != 2 or points.shape[1] != evaluator.k:
        raise ConfigError("points", f"shape {tuple(points.shape)}, expected (m, {evaluator.k}): one flat "
                                    f"parameter vector of the module per row")
    return evaluator.run(points, None, chunk_bytes, progress, stop)


class _Evaluator:
    """The module, data and criterion on the evaluation device and dtype, and the chunked loop over points."""

    def __init__(self, module, criterion, x, target, metric, decision, bn, buffers, device, dtype):
        if metric not in METRICS:
            raise ConfigError("metric", f"must be one of {', '.join(METRICS)}, not {metric!r}")
        if bn not in BN_MODES:
            raise ConfigError("bn", f"must be one of {', '.join(BN_MODES)}, not {bn!r}")
        if decision not in DECISIONS:
            raise ConfigError("decision", f"must be one of {', '.join(DECISIONS)}, not {decision!r}")
        if metric == "loss" and criterion is None:
            raise ConfigError("criterion", "the loss needs a criterion (None is only for metric='accuracy')")
        if not dtype.is_floating_point:
            raise ConfigError("dtype", f"must be a floating-point dtype, not {dtype}")
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.dtype = dtype
        self.metric, self.decision, self.recompute = metric, decision, bn == "recompute"
        # A private copy: the caller's module keeps its parameters, buffers and train/eval mode.
        self.module = copy.deepcopy(module).to(device=self.device, dtype=dtype).eval()
        if buffers:
            own = dict(self.module.named_buffers())
            unknown = sorted(set(buffers) - set(own))
            if unknown:
                raise ConfigError("buffers", f"{unknown} are not buffers of the module (it has {sorted(own)})")
            with torch.no_grad():
                for name, value in buffers.items():
                    own[name].copy_(torch.as_tensor(value))
        self.criterion = None if criterion is None else copy.deepcopy(criterion).to(device=self.device, dtype=dtype)
        self._per_sample = None if criterion is None else per_sample_criterion(self.criterion)
        self.x = self._cast(x)
        self.target = self._cast(target)
        self.names, self.shapes, self.offsets = [], [], {}
        start = 0
        for name, p in self.module.named_parameters():
            self.names.append(name)
            self.shapes.append(tuple(p.shape))
            self.offsets[id(p)] = (start, start + p.numel())
            start += p.numel()
        self.k = start
        self._by_point = None
        self._local = threading.local()         # each thread's Workspace for the fast path
        self._workspaces = []                    # all of them, handed back when the evaluation ends
        self._bare = False                       # evaluate without a workspace (new tensors)
        # For functional_call: in "recompute" mode a copy whose BatchNorms keep no running statistics, so torch
        # normalises with the statistics of the data it is given even in eval mode (dropout stays off).
        self._functional = self.module
        if self.recompute:
            self._functional = copy.deepcopy(self.module)
            replace_all_batch_norm_modules_(self._functional)
        self._buffers = dict(self._functional.named_buffers())

    def _cast(self, t) -> Tensor:
        t = torch.as_tensor(t)
        return t.to(device=self.device, dtype=self.dtype if t.is_floating_point() else t.dtype)

    def vector(self, v, name: str) -> Tensor:
        v = torch.as_tensor(v).to(device=self.device, dtype=torch.float64).reshape(-1)
        if v.numel() != self.k:
            raise ConfigError(name, f"has {v.numel()} values, the module has {self.k} parameters")
        return v

    # -- the loop -----------------------------------------------------------------------------------------------

    def run(self, rows: Tensor, basis: Tensor | None, chunk_bytes: int, progress, stop) -> np.ndarray:
        """The value at each row: ``rows`` are (1, alpha, beta) coefficients on ``basis`` (3, k), or flat points.

        ``rows`` and ``basis`` are float64: a point's parameters are rounded to the evaluation dtype once.
        """
        try:
            return self._run(rows, basis, chunk_bytes, progress, stop)
        finally:
            give_back(self._workspaces)
            self._workspaces, self._local = [], threading.local()

    def _run(self, rows, basis, chunk_bytes, progress, stop) -> np.ndarray:
        total = len(rows)
        out = np.empty(total, dtype=np.float64)
        if total == 0:
            return out
        rows = rows.to(device=self.device, dtype=torch.float64)
        moving = None
        if basis is not None:
            moving = (basis[1] != 0) | (basis[2] != 0)
            # layers no point moves run with the module's own parameters: make them the origin's
            with torch.no_grad():
                vector_to_parameters(basis[0].to(self.dtype), self.module.parameters())
        layers = compile_layers(self.module, self.offsets, moving)
        evaluate = self._fast if layers is not None else self._vmapped
        terms_basis = None if basis is None else basis.to(self.dtype)
        workers = 1
        if self.device.type == "cpu" and layers is not None:
            # (not through functional_call, which swaps the parameters of the one module it is given)
            workers = max(1, min(torch.get_num_threads(), os.cpu_count() or 1))
        size = self._size = self._chunk_points(chunk_bytes // workers, total)
        # The first chunk runs alone in this thread: it computes what later chunks share (the plane terms of the
        # first layer and the later layers' weight bases, whether vmap can run the module) before they run side
        # by side. With workers waiting it is a small one.
        first = min(size, 2) if workers > 1 else size
        bounds = _bounds(total, first, size, workers)

        def chunk_value(bound: tuple[int, int]) -> np.ndarray | None:
            if is_stopped(stop):
                return None
            chunk = Chunk(rows[bound[0]:bound[1]], self.dtype, basis)
            with torch.no_grad():
                return evaluate(chunk, layers, terms_basis).to(torch.float64).cpu().numpy()

        def finish(start: int, values) -> None:
            if values is None:
                raise EvaluationStopped(f"stopped after {start} of {total} points")
            out[start:start + len(values)] = values
            if progress is not None:
                progress(start + len(values), total)

        with _single_threaded(workers > 1):
            # (the small first chunk without a workspace: the spares are for the workers' chunks)
            self._bare = workers > 1
            try:
                finish(0, chunk_value(bounds[0]))
            finally:
                self._bare = False
            rest = bounds[1:]
            if workers == 1 or len(rest) < 2:
                for bound in rest:
                    finish(bound[0], chunk_value(bound))
                return out
            # Whole chunks on worker threads, torch single-threaded in each: torch's own threads meet at a
            # barrier after every operation, and on shared cores one descheduled thread stalls them all.
            with ThreadPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(1,)) as pool:
                futures = [pool.submit(chunk_value, bound) for bound in rest]
                try:
                    for bound, future in zip(rest, futures):
                        finish(bound[0], future.result())
                finally:
                    for future in futures:
                        future.cancel()
        return out

    def _chunk_points(self, chunk_bytes: int, total: int) -> int:
        """Points per chunk: activations within ``chunk_bytes``, and on the CPU the largest within SPEED_BYTES."""
        sizes = []
        hooks = [m.register_forward_hook(lambda _m, _i, o: sizes.append(_nbytes(o)))
                 for m in self.module.modules() if not list(m.children())]
        n = len(self.x)
        probe = min(n, 2)                 # two samples: BatchNorm without running statistics refuses one
        try:
            with torch.no_grad():
                self.module(self.x[:probe])
        finally:
            for h in hooks:
                h.remove()
        item = torch.finfo(self.dtype).bits // 8
        # per point: every activation over all samples (twice: a temporary beside each), and the parameters
        per_point = 2 * n * sum(sizes) // probe + 3 * self.k * item + 1
        size = max(1, chunk_bytes // per_point)
        self._widest = max(sizes, default=0) // probe
        if self.device.type == "cpu" and sizes:
            size = min(size, max(1, SPEED_BYTES // (n * max(sizes) // probe + 1)))
        return int(min(size, total))

    def _fast(self, chunk: Chunk, layers, basis) -> Tensor:
        n = len(self.x)
        block = n
        if self.device.type == "cpu" and not batch_statistics(layers, self.recompute):
            # the samples in blocks whose activations stay in the core's cache (BLOCK_BYTES) through all layers;
            # from the usual chunk's size, so that every chunk's blocks (and their cached plane terms) are the same
            block = max(1, min(n, BLOCK_BYTES // (self._size * self._widest + 1)))
        workspace = getattr(self._local, "workspace", None)
        if workspace is None and not self._bare:
            workspace = self._local.workspace = take_workspace()
            self._workspaces.append(workspace)
        if block >= n:
            return self._score(run_layers(layers, self.x, chunk, basis, self.recompute, workspace=workspace))
        outs = [run_layers(layers, self.x, chunk, basis, self.recompute, (start, min(n, start + block)), workspace)
                for start in range(0, n, block)]
        return self._score(torch.cat(outs, dim=1))

    def _vmapped(self, chunk: Chunk, layers, basis) -> Tensor:
        if self._by_point is None:
            try:
                values = torch.vmap(self._one)(chunk.theta)
                self._by_point = False
                return values
            except RuntimeError:
                # vmap cannot run this module (data-dependent control flow, .item(), an op without a batching
                # rule): evaluate point by point, still without touching the caller's module
                self._by_point = True
        if self._by_point:
            return torch.stack([self._one(theta) for theta in chunk.theta])
        return torch.vmap(self._one)(chunk.theta)

    def _one(self, theta: Tensor) -> Tensor:
        """The score at one flat parameter vector (k,), through ``functional_call``."""
        params, start = {}, 0
        for name, shape in zip(self.names, self.shapes):
            size = math.prod(shape)
            params[name] = theta[start:start + size].reshape(shape)
            start += size
        out = functional_call(self._functional, (params, self._buffers), (self.x,), tie_weights=True)
        return self._score(out[None])[0]

    def _score(self, out: Tensor) -> Tensor:
        """(P,) the criterion (or accuracy) of each point's output (P, n, ...) against the target."""
        if self.metric == "accuracy":
            return _accuracy(out, self.target, self.decision)
        if len(out) == 1:
            return self.criterion(out[0], self.target)[None]
        if self._per_sample is not None:
            step = max(1, SCORE_BYTES // (out[0].numel() * out.element_size()))
            pieces = out.split(step)
            first = self._per_sample(pieces[0], self.target)
            if first is not None:       # (whether it can split depends on shapes every piece shares)
                return torch.cat([first] + [self._per_sample(p, self.target) for p in pieces[1:]])
        return torch.vmap(self.criterion, in_dims=(0, None))(out, self.target)


def _bounds(total: int, first: int, size: int, workers: int) -> list[tuple[int, int]]:
    """(start, stop) of each chunk: ``first`` points, then ``size`` each, and with several workers halves of it at
    the end, so that the workers finish closer together (one had waited a whole chunk for the other)."""
    bounds, start = [(0, min(first, total))], min(first, total)
    while start < total:
        step = size if workers == 1 or total - start > 2 * workers * size else max(1, size // 2)
        bounds.append((start, min(total, start + step)))
        start += step
    return bounds


def _accuracy(out: Tensor, target: Tensor, decision: str) -> Tensor:
    """(P,) fraction of samples classified right; ``out`` (P, n, C) or (P, n) / (P, n, 1) for one output."""
    n = target.shape[0]
    many = out.ndim >= 3 and out.shape[2] > 1
    if many:
        predicted = out.argmax(dim=2)
        truth = target.argmax(dim=1) if target.ndim == 2 else target
    else:
        threshold = 0.0 if decision == "logit" else 0.5
        predicted = (out.reshape(len(out), n) > threshold)
        truth = target.reshape(n) > 0.5
    return (predicted == truth).sum(dim=1).to(torch.float64) / n


def _nbytes(output) -> int:
    if isinstance(output, Tensor):
        return output.numel() * output.element_size()
    if isinstance(output, (tuple, list)):
        return sum(_nbytes(o) for o in output)
    return 0


def is_stopped(stop) -> bool:
    """Whether ``stop`` (None, a callable returning True, or a ``threading.Event``) says to stop."""
    if stop is None:
        return False
    if isinstance(stop, threading.Event):
        return stop.is_set()
    return bool(stop())


@contextmanager
def _single_threaded(active: bool) -> Iterator[None]:
    """torch single-threaded in this thread for the block, and the thread count put back after (worker threads
    that set theirs also change the default that threads started later inherit)."""
    with torch_threads(1 if active else torch.get_num_threads()):
        yield
