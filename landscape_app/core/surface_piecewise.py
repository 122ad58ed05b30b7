"""L1 and Huber of a linear model, exactly, from sorted breakpoints and prefix sums.

Along one grid row the residual of sample k is ``u_k X + s_k`` (s_k fixed by the row), so its loss is a
function of ``a_k |X - t_k|`` with ``a_k = |u_k|`` and breakpoint ``t_k = -s_k / u_k``. L1 is linear on each
side of t_k; Huber is quadratic inside ``t_k -+ delta / a_k`` and linear outside. With the breakpoints sorted and
prefix sums of a, a t, a^2, a^2 t, a^2 t^2 in that order, each grid point costs one binary search: a row costs
O(n log n + G log n) instead of O(n G). Samples with u_k = 0 add a constant per row, evaluated directly.
Breakpoints are centred on the row's middle breakpoint so the prefix sums stay small where it matters.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .surface_direct import EPS
from .surface_parallel import run_tasks

# float64 arrays of one row's length live at once: ~24 of the samples' length and ~12 of the grid's.
_SAMPLE_ARRAYS, _GRID_ARRAYS = 24, 12


def _prefix(values: torch.Tensor) -> torch.Tensor:
    """Cumulative sums along rows with a leading zero column: ``out[:, k]`` sums the first k entries."""
    out = torch.zeros(values.shape[0], values.shape[1] + 1, dtype=values.dtype)
    torch.cumsum(values, dim=1, out=out[:, 1:])
    return out


def _l1_rows(t: torch.Tensor, a: torch.Tensor, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sums of a |X - t| per row and grid point, and each row's rounding scale."""
    ts, order = torch.sort(t, dim=1)
    a_s = a.expand_as(t).gather(1, order)
    o = ts[:, ts.shape[1] // 2:ts.shape[1] // 2 + 1]
    w = _prefix(a_s)
    wt = _prefix(a_s * (ts - o))
    xq = X.expand(t.shape[0], -1).contiguous()
    idx = torch.searchsorted(ts, xq, side="left")           # samples with t < X
    xc = xq - o
    w_left, wt_left = w.gather(1, idx), wt.gather(1, idx)
    w_tot, wt_tot = w[:, -1:], wt[:, -1:]
    # rounding scale of the row's prefix sums (the column part, |X| sum a, is added by the caller)
    scale = o[:, 0].abs() * w_tot[:, 0] + (a_s * (ts - o).abs()).sum(1)
    # sum_left a (X - t) + sum_right a (t - X)
    return (xc * w_left - wt_left) + ((wt_tot - wt_left) - xc * (w_tot - w_left)), scale


def _huber_rows(t: torch.Tensor, a: torch.Tensor, X: torch.Tensor,
                delta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Sums of Huber(a |X - t|) per row and grid point, and each row's rounding scale."""
    half = delta / a                                          # |X - t| < half: quadratic
    hi = t + half
    lo = t - half
    hs, oh = torch.sort(hi, dim=1)
    ls, ol = torch.sort(lo, dim=1)
    o = hs[:, hs.shape[1] // 2:hs.shape[1] // 2 + 1]
    tc = t - o
    xq = X.expand(t.shape[0], -1).contiguous()
    xc = xq - o
    n1 = t.shape[1]

    def prefix_at(order, idx):
        """Sums of a, a t, a^2, a^2 t, a^2 t^2 over the first ``idx`` samples in ``order``."""
        ao = a.expand_as(t).gather(1, order)
        to = tc.gather(1, order)
        a2 = ao * ao
        return [_prefix(p).gather(1, idx) for p in (ao, ao * to, a2, a2 * to, a2 * to * to)]

    k_hi = torch.searchsorted(hs, xq, side="left")           # samples with t + half < X: linear, right side
    k_lo = torch.searchsorted(ls, xq, side="right")          # samples with t - half <= X; the rest: linear, left
    a_h, at_h, q0_h, q1_h, q2_h = prefix_at(oh, k_hi)
    lo_prefix = prefix_at(ol, k_lo)
    ao_all = a.expand_as(t)
    a2_all = ao_all * ao_all
    tot = [v.sum(1, keepdim=True) for v in (ao_all, ao_all * tc, a2_all, a2_all * tc, a2_all * tc * tc)]
    a_l, at_l, q0_l, q1_l, q2_l = (tt - p for tt, p in zip(tot, lo_prefix))
    n_h = k_hi.to(torch.float64)
    n_l = (n1 - k_lo).to(torch.float64)
    lin = delta * ((xc * a_h - at_h) + (at_l - xc * a_l)) - (0.5 * delta * delta) * (n_h + n_l)
    q0 = tot[2] - q0_h - q0_l
    q1 = tot[3] - q1_h - q1_l
    q2 = tot[4] - q2_h - q2_l
    # rounding scale of the row's prefix sums (the column part, |X| delta sum a + 4 X^2 sum a^2, by the caller)
    o1 = o[:, 0].abs()
    scale = (delta * (o1 * tot[0][:, 0] + (ao_all * tc.abs()).sum(1)) + 0.5 * delta * delta * n1
             + 4.0 * o1 * o1 * tot[2][:, 0] + 2.0 * tot[4][:, 0])
    return lin + 0.5 * ((q0 * xc - 2.0 * q1) * xc + q2), scale


def piecewise_sums(u: np.ndarray, v: np.ndarray, e: np.ndarray, X: np.ndarray, Y: np.ndarray, criterion: str,
                   delta: float, block_bytes: int = 32 << 20):
    """``S[i, j] = sum_k phi(u_k X_j + v_k Y_i + e_k)`` for phi = |r| (l1) or Huber(delta), float64 (R, G).

    Returns ``(S, col, row)``: S's rounding error at (i, j) is below ``col[j] + row[i]``.
    """
    R, G = len(Y), len(X)
    out = torch.zeros(R, G, dtype=torch.float64)
    row_bound = torch.zeros(R, dtype=torch.float64)
    Xt, Yt = torch.from_numpy(np.asarray(X, np.float64)), torch.from_numpy(np.asarray(Y, np.float64))
    flat = u == 0
    if flat.any():      # these samples do not depend on X: one value per row
        v0, e0 = torch.from_numpy(v[flat]), torch.from_numpy(e[flat])
        r = Yt[:, None] * v0 + e0
        zero = torch.zeros((), dtype=torch.float64).expand_as(r)
        const = (F.l1_loss(r, zero, reduction="none") if criterion == "l1"
                 else F.huber_loss(r, zero, reduction="none", delta=delta)).sum(1)
        out += const[:, None]
        row_bound += 4.0 * EPS * const
    keep = ~flat
    if not keep.any():
        return out, torch.zeros(G, dtype=torch.float64), row_bound
    u1, v1, e1 = (torch.from_numpy(np.ascontiguousarray(arr[keep])) for arr in (u, v, e))
    a = u1.abs()
    n1 = u1.shape[0]
    rows = max(1, block_bytes // (8 * (_SAMPLE_ARRAYS * n1 + _GRID_ARRAYS * G)))
    # cumulative sums round sequentially: allow their error to grow like sqrt(n)
    c = (8.0 + 2.0 * math.sqrt(n1)) * EPS

    def task(i0: int) -> None:
        yy = Yt[i0:i0 + rows, None]
        t = -(yy * v1 + e1) / u1                             # u (X - t) = u X + v Y + e
        if criterion == "l1":
            sums, scale = _l1_rows(t, a, Xt)
        else:
            sums, scale = _huber_rows(t, a, Xt, delta)
        out[i0:i0 + rows] += sums
        row_bound[i0:i0 + rows] += c * scale

    run_tasks(task, range(0, R, rows), terms=float(R) * n1 * 64)
    a_sum = float(a.sum())
    if criterion == "l1":
        col = (c * a_sum) * Xt.abs()
    else:
        col = c * (delta * a_sum * Xt.abs() + 4.0 * float((a * a).sum()) * Xt * Xt)
    return out, col, row_bound
