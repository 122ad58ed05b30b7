"""The surface of criteria without a closed form (sigmoids and logits), in chunks, exact to torch in float64.

A transcendental function per loss term costs ~3-6 ns here; this kernel needs none. The output is
``z = u X + v Y + c``, so ``exp(-z)`` factors into a column table ``exp(-(u X + c))`` (one exp per column and
sample) and a row table ``exp(-v Y)`` (one per row, or per row and sample). Per term there remain one add and
one multiply into a block product, because a sum of logs is the log of a product:

    log(1 + e^(A - B)) = log(e^(A - mid) + e^(B - mid)) + mid - B

with ``mid`` centring each chunk so that blocks of m factors neither overflow nor underflow. Sigmoids for
MSE, L1 and Huber come out of the same tables as ``e^B / (e^A + e^B)``.

torch's own formulas are matched where their rounding shows: BCELoss clamps log at -100 (a saturated
wrong-side sample costs 100) and rounds ``1 - sigmoid(z)`` on the grid of 1 + exp(-z), which changes the loss
of confidently wrong samples (z > 22) by more than 1e-5; chunks holding such terms evaluate that rounding
(``1 + 1/(fl(1 + E) - 1)``). Chunks whose exponents span too much for the tables fall back to torch
itself, and so do cells whose loss is so small that rounding (torch's or ours) could reach 1e-6 of it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .surface_direct import direct_sums
from .surface_parallel import run_tasks

LN2 = math.log(2.0)
LOG_E100 = 100.0              # BCELoss clamps log(p) at -100
Z_TORCH_ROUNDING = 22.0       # above this, torch's 1 - sigmoid(z) rounding moves a BCE term by > 1e-8
SPAN_MAX = 600.0              # widest exponent range a chunk's tables may span (doubles reach e^709)
PRODUCT_LOG_MAX = 700.0       # a block product of m factors stays within e^(+-700)
SAMPLE_BLOCK = 240            # samples per chunk: many divisors, so block products fit any range
COLUMN_BLOCK = 64
FLAG_MARGIN = 1e6             # cells within FLAG_MARGIN x the rounding bound of zero are recomputed by torch
EPS = float(np.finfo(np.float64).eps)


@dataclass
class _Group:
    """Samples sharing one formula: the term is a function of q = exp(-sign * z)."""

    sign: float
    route: str                 # "log" (log(1 + q)), "bce0" (BCE, y = 0), "p" (sigmoid-based)
    u: torch.Tensor            # padded to a multiple of the sample block (padding: zeros)
    v: torch.Tensor
    c: torch.Tensor
    target: torch.Tensor       # for route "p": subtracted from the sigmoid (zeros for binary labels)
    x: torch.Tensor            # the samples themselves (unpadded), for chunks handed to torch
    y: torch.Tensor
    n: int
    block: int


def _divisors(n: int) -> list[int]:
    return sorted((d for d in range(1, n + 1) if n % d == 0), reverse=True)


def _span(lo_u, hi_u, lo_x, hi_x) -> tuple[float, float]:
    corners = (lo_u * lo_x, lo_u * hi_x, hi_u * lo_x, hi_u * hi_x)
    return min(corners), max(corners)


class _Kernel:
    def __init__(self, prob, X: np.ndarray, Y: np.ndarray, chunk_bytes: int | None):
        u, v, c = prob.u, prob.v, prob.c
        self.transposed = bool(np.all(u == u[0]) and not np.all(v == v[0]))
        if self.transposed:           # keep the sample-dependent coefficient on the column tables
            u, v, X, Y = v, u, Y, X
        self.prob, self.X, self.Y = prob, X, Y
        self.row_scalar = bool(np.all(v == v[0]))
        self.criterion, self.delta = prob.criterion, prob.delta
        elems = (chunk_bytes or (8 << 20)) // 16
        self.groups = self._groups(u, v, c, prob.y.numpy(), prob.x, prob.y, elems)
        self.out = torch.zeros(len(Y), len(X), dtype=torch.float64)

    # -- setup ------------------------------------------------------------------------------------------
    def _groups(self, u, v, c, y, x_t, y_t, elems) -> list[_Group]:
        crit = self.criterion
        binary = bool(np.all((y == 0) | (y == 1)))
        if crit == "bce-logits":
            specs = [(y == 1, 1.0, "log"), (y == 0, -1.0, "log")]
        elif crit == "bce":
            specs = [(y == 1, 1.0, "log"), (y == 0, -1.0, "bce0")]
        elif binary:    # sigmoid criteria against 0/1: the term is phi(p) for y = 0, phi(1 - p) for y = 1
            specs = [(y == 0, 1.0, "p"), (y == 1, -1.0, "p")]
        else:
            specs = [(np.ones_like(y, dtype=bool), 1.0, "p")]
        groups = []
        for mask, sign, route in specs:
            idx = np.flatnonzero(mask)
            if idx.size == 0:
                continue
            idx = idx[np.argsort(u[idx], kind="stable")]     # narrow coefficient ranges per sample block
            n = idx.size
            block = min(SAMPLE_BLOCK, -(-n // 12) * 12)
            block = max(block, 1)
            padded = -(-n // block) * block

            def pad(arr):
                out = torch.zeros(padded, dtype=torch.float64)
                out[:n] = torch.from_numpy(np.ascontiguousarray(arr[idx]))
                return out

            target = pad(y) if (route == "p" and not binary) else torch.zeros(padded, dtype=torch.float64)
            sel = torch.from_numpy(idx)
            groups.append(_Group(sign, route, pad(u), pad(v), pad(c), target, x_t[sel], y_t[sel], n, block))
        per_chunk = max(1, elems // SAMPLE_BLOCK)
        self.col_block = max(1, min(COLUMN_BLOCK, len(self.X), per_chunk))
        self.row_block = max(1, min(len(self.Y), per_chunk // self.col_block))
        return groups

    # -- the chunks ---------------------------------------------------------------------------------------
    def run(self) -> torch.Tensor:
        G = len(self.X)
        tasks = range(0, G, self.col_block)
        terms = float(len(self.Y)) * G * sum(g.n for g in self.groups)
        run_tasks(self._column_block, tasks, terms)
        self._settle_small_cells()
        return self.out.T.contiguous() if self.transposed else self.out

    def _column_block(self, j0: int) -> None:
        Xj = torch.from_numpy(self.X[j0:j0 + self.col_block])
        x_lo, x_hi = float(Xj.min()), float(Xj.max())
        for g in self.groups:
            for k0 in range(0, g.u.shape[0], g.block):
                nk = min(g.block, g.n - k0)
                uk, ck, vk = (t[k0:k0 + g.block] for t in (g.u, g.c, g.v))
                un, cn, vn = (t[:nk].numpy() for t in (uk, ck, vk))
                ux_lo, ux_hi = _span(un.min(), un.max(), x_lo, x_hi)
                # A = -sign (u X + c): the column part of log q
                a = (-g.sign * (ux_lo + cn.min()), -g.sign * (ux_hi + cn.max()))
                a_lo, a_hi = min(a), max(a)
                tables = {}
                for i0 in range(0, len(self.Y), self.row_block):
                    Yi = torch.from_numpy(self.Y[i0:i0 + self.row_block])
                    vy_lo, vy_hi = _span(vn.min(), vn.max(), float(Yi.min()), float(Yi.max()))
                    b_lo, b_hi = sorted((g.sign * vy_lo, g.sign * vy_hi))       # B = sign v Y
                    s = self._chunk(g, Xj, Yi, uk, ck, vk, nk, k0, (a_lo, a_hi), (b_lo, b_hi), tables)
                    self.out[i0:i0 + len(Yi), j0:j0 + len(Xj)] += s

    def _chunk(self, g, Xj, Yi, uk, ck, vk, nk, k0, a_rng, b_rng, tables) -> torch.Tensor:
        a_lo, a_hi = a_rng
        b_lo, b_hi = b_rng
        lo, hi = max(a_lo, b_lo), max(a_hi, b_hi) + LN2
        if g.route == "bce0" and a_hi - b_lo > Z_TORCH_ROUNDING:      # some z = A - B is confidently wrong
            if max(abs(a_lo), abs(a_hi), abs(b_lo), abs(b_hi)) <= 700.0:
                return self._bce0_rounded(g, Xj, Yi, uk, ck, vk, nk, tables)
            return self._torch(g, Xj, Yi, k0, nk)
        if hi - lo > SPAN_MAX or a_hi - a_lo > 2 * SPAN_MAX:
            return self._torch(g, Xj, Yi, k0, nk)
        mid = 0.5 * (lo + hi)
        if "A" not in tables:
            a_ref = 0.5 * (a_lo + a_hi)
            tables["A"] = (torch.exp((-g.sign) * torch.addcmul(ck, Xj[:, None], uk) - a_ref), a_ref)
        ta0, a_ref = tables["A"]
        f = ta0 * math.exp(a_ref - mid)                                   # e^(A - mid), (Gb, nb)
        if a_lo - mid < -700.0:
            f.clamp_min_(1e-300)        # keep denormals out; such entries are e^-100 of their partner
        brow = (g.sign * Yi[:, None, None]) * (vk[:1] if self.row_scalar else vk)   # B, (Rb, 1, 1|nb)
        rb = torch.exp(brow - mid)
        f = f + rb                                                        # (Rb, Gb, nb)
        if g.route == "p":
            return self._sigmoid_terms(g, torch.div(rb, f, out=f), nk, k0)
        if g.route == "log" and g.sign > 0 and self.criterion == "bce" and a_hi - b_lo > LOG_E100 - 1.0:
            torch.minimum(f, torch.exp(brow + (LOG_E100 - mid)), out=f)  # 1 + q <= e^100
        if nk < g.block:
            f[..., nk:] = 1.0
        # log f lies within +-(hi - lo)/2 of zero: blocks of m factors stay inside the doubles' range
        m = next(d for d in _divisors(g.block) if d * 0.5 * (hi - lo) <= PRODUCT_LOG_MAX)
        b_sum = brow[..., 0] * nk if self.row_scalar else brow.sum(-1)     # padding has v = 0
        return _log_product_sum(f, m) + (nk * mid - b_sum)

    def _bce0_rounded(self, g, Xj, Yi, uk, ck, vk, nk, tables) -> torch.Tensor:
        """BCE terms of y = 0 samples as torch rounds them: -log(1 - fl(1/fl(1 + E))), clamped at 100."""
        if "E" not in tables:   # E = exp(-z) = exp(-(u X + c)) * exp(-v Y)
            tables["E"] = torch.exp(-torch.addcmul(ck, Xj[:, None], uk))
        row = Yi[:, None, None] * (vk[:1] if self.row_scalar else vk)
        f = tables["E"] * torch.exp(-row)
        f.add_(1.0).sub_(1.0)                  # D = fl(1 + E) - 1, the rounding torch's sigmoid makes
        f.reciprocal_().add_(1.0).clamp_max_(math.exp(LOG_E100))     # 1/(1 - p) = 1 + 1/D; D = 0 -> 100
        if nk < g.block:
            f[..., nk:] = 1.0
        m = next(d for d in _divisors(g.block) if d * LOG_E100 <= PRODUCT_LOG_MAX)
        return _log_product_sum(f, m)

    def _sigmoid_terms(self, g, p: torch.Tensor, nk: int, k0: int) -> torch.Tensor:
        """p = sigmoid(sign z) per term: the criterion of (p - target)."""
        if nk < g.block:
            p[..., nk:] = 0.0
        crit, delta = self.criterion, self.delta
        binary = not bool(g.target.any())
        if not binary:
            p.sub_(g.target[k0:k0 + g.block])
        if crit == "mse" or (crit == "huber" and binary and delta >= 1.0):
            s = torch.linalg.vecdot(p, p)
            return 0.5 * s if crit == "huber" else s
        if crit == "l1":
            return (p if binary else p.abs_()).sum(-1)
        zero = torch.zeros((), dtype=torch.float64).expand_as(p)
        return F.huber_loss(p, zero, reduction="none", delta=delta).sum(-1)

    def _torch(self, g, Xj, Yi, k0, nk) -> torch.Tensor:
        """The chunk term by term through torch (exponents too wide for the tables)."""
        Xc, Yc = Xj.repeat(len(Yi)), Yi.repeat_interleave(len(Xj))
        if self.transposed:
            Xc, Yc = Yc, Xc
        pts = self.prob.params(Xc, Yc)
        s = direct_sums(g.x[k0:k0 + nk], g.y[k0:k0 + nk], pts, self.criterion, self.delta, self.prob.prob)
        return s.view(len(Yi), len(Xj))

    # -- cells too close to zero for the fast path's rounding -----------------------------------------------
    def _settle_small_cells(self) -> None:
        u_max = max(float(g.u.abs().max()) for g in self.groups)
        v_max = max(float(g.v.abs().max()) for g in self.groups)
        c_max = max(float(g.c.abs().max()) for g in self.groups)
        n = sum(g.n for g in self.groups)
        y = self.prob.y
        ysq = float(((1.0 + y.abs()) ** 2).sum())
        X, Y = torch.from_numpy(self.X), torch.from_numpy(self.Y)
        # per-term rounding (ours and torch's) is a few eps of (1 + |A| + |B|) or (1 + |y|)^2
        col = n * (1.0 + c_max + X.abs() * u_max)
        row = n * Y.abs() * v_max + ysq
        bound = 8.0 * EPS * FLAG_MARGIN
        cells = []
        for i0 in range(0, len(Y), 256):
            lim = bound * (col[None, :] + row[i0:i0 + 256, None])
            ii, jj = torch.nonzero(~(self.out[i0:i0 + 256] >= lim), as_tuple=True)
            cells.append((ii + i0, jj))
        ii = torch.cat([c[0] for c in cells])
        jj = torch.cat([c[1] for c in cells])
        if ii.numel() == 0:
            return
        Xc, Yc = X[jj], Y[ii]
        if self.transposed:
            Xc, Yc = Yc, Xc
        pts = self.prob.params(Xc, Yc)
        self.out[ii, jj] = direct_sums(self.prob.x, self.prob.y, pts, self.criterion, self.delta, self.prob.prob)


def _log_product_sum(f: torch.Tensor, m: int) -> torch.Tensor:
    """sum over the last axis of log(f), as logs of products of m consecutive factors."""
    r, g, nb = f.shape
    return f.view(r, g, nb // m, m).prod(-1).log_().sum(-1)


def kernel_sums(prob, X: np.ndarray, Y: np.ndarray, chunk_bytes: int | None = None) -> torch.Tensor:
    """Summed loss over the samples at every grid point (len(Y), len(X)) for sigmoid and logit criteria."""
    return _Kernel(prob, X, Y, chunk_bytes).run()
