"""A network's surface over a plane: the batched evaluator's grid, checked and assembled."""
from __future__ import annotations

import numpy as np

from .module_points import check_bn, module_losses


def network_surface(exp, plane, alpha: np.ndarray, beta: np.ndarray, *, batch=None, metric="loss", bn="eval",
                    device=None, chunk_bytes=None, progress=None, stop=None) -> np.ndarray:
    """``out[i, j]`` at ``plane.point(alpha[j], beta[i])``, float64."""
    check_bn(bn)
    pts = plane.point(alpha[None, :], beta[:, None]).reshape(-1, plane.dim)
    out = module_losses(exp, pts, batch, plane.buffers, bn, metric)
    return out.reshape(len(beta), len(alpha))
