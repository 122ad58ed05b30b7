"""The loss evaluated term by term exactly as torch computes it in float64: the reference every fast path meets.

``z = (x1*w1 + x2*w2) + b`` in that order (nn.Linear's float64 rounding for one point), then torch's own
sigmoid and criterion functions with ``reduction="none"``, summed per point. Used by ``loss_at``, by the
surface for grid regions no fast path covers, and to settle cells where a fast path's rounding could show.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

# Elements of the (points x samples) block evaluated at once: ~3 live float64 blocks of 8 MB.
DIRECT_BLOCK = 1 << 20


def terms(z: torch.Tensor, y: torch.Tensor, criterion: str, delta: float, prob: bool) -> torch.Tensor:
    """The per-sample losses of outputs ``z`` (logits or linear outputs) against targets ``y`` (broadcast)."""
    pred = torch.sigmoid(z) if prob else z
    target = y.expand_as(pred)
    if criterion == "mse":
        return F.mse_loss(pred, target, reduction="none")
    if criterion == "l1":
        return F.l1_loss(pred, target, reduction="none")
    if criterion == "huber":
        return F.huber_loss(pred, target, reduction="none", delta=delta)
    if criterion == "bce":
        return F.binary_cross_entropy(pred, target, reduction="none")
    if criterion == "bce-logits":
        return F.binary_cross_entropy_with_logits(pred, target, reduction="none")
    raise ValueError(f"unknown criterion {criterion!r}")


def outputs(x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """``z[i, k]`` for parameter rows ``params[i] = (w..., b)`` and samples ``x[k]``, rounded like nn.Linear."""
    z = params[:, 0:1] * x[:, 0]
    for f in range(1, x.shape[1]):
        z.add_(params[:, f:f + 1] * x[:, f])
    return z.add_(params[:, -1:])


def point_sum(x_rows: list[torch.Tensor], y: torch.Tensor, params, criterion: str, delta: float,
              prob: bool) -> float:
    """``direct_sums`` for one point, with less overhead (training asks every step). ``x_rows[f]``: feature f
    as a (1, n) tensor. The same operations on the same shapes: bit for bit the same value."""
    z = x_rows[0] * float(params[0])
    for f in range(1, len(x_rows)):
        z.add_(x_rows[f] * float(params[f]))
    z.add_(float(params[-1]))
    return float(terms(z, y, criterion, delta, prob).sum(-1))


def direct_sums(x: torch.Tensor, y: torch.Tensor, params: torch.Tensor, criterion: str, delta: float,
                prob: bool, block: int = DIRECT_BLOCK) -> torch.Tensor:
    """The summed loss over the samples ``(x, y)`` at each parameter row of ``params`` (m, k): shape (m,)."""
    n = x.shape[0]
    m = params.shape[0]
    out = torch.empty(m, dtype=torch.float64)
    step = max(1, block // max(n, 1))
    for i in range(0, m, step):
        out[i:i + step] = terms(outputs(x, params[i:i + step]), y, criterion, delta, prob).sum(-1)
    return out


# A fast path's value within this factor of its rounding bound could be off by more than 1e-6: torch decides.
FLAG_MARGIN = 1e6
EPS = 2.220446049250313e-16


def settle_cells(out: torch.Tensor, col_bound: torch.Tensor, row_bound: torch.Tensor, recompute) -> int:
    """Recompute the cells of ``out`` that lie within FLAG_MARGIN x their rounding bound of zero.

    The bound of cell (i, j) is ``col_bound[j] + row_bound[i]`` (absolute, on the summed loss); such cells are
    (near-)perfect fits, where the loss is rounding noise and only torch's own arithmetic reproduces torch.
    ``recompute(rows, cols)`` returns the exact sums for those cells. Returns how many cells were recomputed.
    """
    if out.numel() == 0 or float(out.min()) >= FLAG_MARGIN * (float(col_bound.max()) + float(row_bound.max())):
        return 0            # the usual case, settled by one look
    count = 0
    for i0 in range(0, out.shape[0], 256):
        block = out[i0:i0 + 256]
        lim = FLAG_MARGIN * (col_bound[None, :] + row_bound[i0:i0 + 256, None])
        ii, jj = torch.nonzero(~(block >= lim), as_tuple=True)     # NaN included
        for c0 in range(0, ii.numel(), 1 << 16):
            i, j = ii[c0:c0 + (1 << 16)], jj[c0:c0 + (1 << 16)]
            block[i, j] = recompute(i + i0, j)
        count += ii.numel()
    return count
