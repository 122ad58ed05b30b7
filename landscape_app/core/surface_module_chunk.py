"""A chunk of parameter points for the module evaluator's fast path, and the buffers its products write into."""
from __future__ import annotations

import os
import threading

import torch
from torch import Tensor


class Chunk:
    """The points of one chunk: flat parameter vectors ``points`` (P, k), or on a plane their (1, alpha, beta)
    coefficients (P, 3) on ``plane`` (3, k), origin, d1 and d2; both float64, so that a point's parameters are
    rounded to the evaluation ``dtype`` once, as a module holding them would have them."""

    def __init__(self, points: Tensor, dtype: torch.dtype, plane: Tensor | None = None):
        self.points, self.dtype, self.plane = points, dtype, plane
        self.size = len(points)
        self._theta = None
        self.weights = {}       # layer -> its weights at the chunk's points (the same for every block of samples)
        self.coef = None if plane is None else points.to(dtype)        # (P, 3) for mixing a plane's terms

    @property
    def theta(self) -> Tensor:
        """(P, k) each point's flat parameters in the evaluation dtype (made when a layer first asks)."""
        if self._theta is None:
            self._theta = self.points.to(self.dtype) if self.plane is None else self.combine(self.plane)
        return self._theta

    def combine(self, basis: Tensor, out=None) -> Tensor:
        """(P, m) in the evaluation dtype: the points' values of a float64 ``(3, m)`` origin-and-directions basis
        (on a plane only). One product for the chunk instead of slicing, transposing and joining each layer's
        parameters out of ``theta``. ``out(shape, like, dtype)`` gives buffers to write into (see Workspace)."""
        if out is None:
            return (self.points @ basis).to(self.dtype)
        shape = (self.size, basis.shape[1])
        values = torch.mm(self.points, basis, out=out(shape, basis, torch.float64))
        return values if self.dtype == torch.float64 else out(shape, basis, self.dtype).copy_(values)


class Workspace(dict):
    """Output buffers of one thread's chunks, reused from chunk to chunk: a fresh multi-megabyte tensor comes from
    the system as untouched pages, and the first product written into one paid for every page (the MLP's matmul
    ran 4-5x slower into a new tensor than into a reused one). Keyed by layer, sample block and shape, so a chunk's
    blocks never share one; a chunk's values are read before the thread's next chunk starts."""

    def buffer(self, key, shape: tuple[int, ...], like: Tensor, dtype: torch.dtype | None = None) -> Tensor:
        dtype = like.dtype if dtype is None else dtype
        key = (key, shape, dtype, like.device)
        out = self.get(key)
        if out is None:
            out = self[key] = torch.empty(shape, dtype=dtype, device=like.device)
        return out

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.values())


# Workspaces of finished evaluations, taken by the next ones: a surface evaluated again (each grid or plane edit)
# then writes into pages it already has. First writes into fresh pages had cost a tenth of an MLP surface (50 MB of
# page faults for 0.14 s of work). Only buffers in the computer's memory are kept (a GPU's memory is the user's),
# at most one workspace per core and KEEP_BYTES in all: a workspace that would pass it is emptied.
KEEP_BYTES = 64 * 2**20
_spare: list[Workspace] = []
_spare_lock = threading.Lock()


def take_workspace() -> Workspace:
    """A spare workspace, or a new one."""
    with _spare_lock:
        return _spare.pop() if _spare else Workspace()


def give_back(workspaces) -> None:
    """Keep these workspaces for later evaluations (within the limits above)."""
    with _spare_lock:
        kept = sum(w.nbytes() for w in _spare)
        for workspace in workspaces:
            if any(t.device.type != "cpu" for t in workspace.values()):
                workspace.clear()
            size = workspace.nbytes()
            if kept + size > KEEP_BYTES:
                workspace.clear()
                size = 0
            if len(_spare) < (os.cpu_count() or 1):
                _spare.append(workspace)
                kept += size
