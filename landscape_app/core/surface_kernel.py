"""The surface of criteria without a closed form (sigmoids and logits), in chunks, exact to torch in float64.

A transcendental function per loss term costs ~3-6 ns here; this kernel needs none. The output is
``z = u X + v Y + c``, so ``q = exp(-sign z)`` factors into a column table ``e^A = exp(-sign (u X + c))`` (one
exp per column and sample) and a row table ``e^-B = exp(-sign v Y)`` (one per row, or per row and sample).
Per term there remain one add and one multiply into a block product, since a sum of logs is the log of a
product:

    log(1 + e^(A - B)) = log(e^(A - ref) + e^(B - ref)) + ref - B

with ``ref`` in the middle of the chunk's range, so that blocks of m factors neither overflow nor underflow.
Sigmoids for MSE, L1 and Huber come from the same tables as ``e^B / (e^A + e^B)`` (one add, one divide).

torch's own formulas are matched where their rounding shows: BCELoss clamps log at -100 (a saturated
wrong-side sample costs exactly 100) and rounds ``1 - sigmoid(z)`` on the grid of 1 + exp(-z), which moves
the loss of confidently wrong samples (z > 22) by more than 1e-8; chunks holding such terms evaluate that
rounding (``1 + 1/(fl(1 + E) - 1)``). Chunks whose exponents span too much for the tables go to torch itself,
chunks whose every term is below e^-40 are skipped, and cells whose loss is within 1e6 x the rounding bound
of zero (near-perfect fits, where the loss is rounding noise) are recomputed by torch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .surface_direct import EPS, direct_sums, settle_cells
from .surface_parallel import run_tasks
from .surface_terms import LOG_E100, bce_rounded_terms, block_size, log1p_exp_terms, sigmoid_terms

LN2 = math.log(2.0)
Z_TORCH_ROUNDING = 22.0       # above this, torch's 1 - sigmoid(z) rounding moves a BCE term by > 1e-8
SPAN_MAX = 600.0              # widest exponent range a chunk's tables may span (doubles reach e^709)
NEGLIGIBLE_LOG = 40.0         # chunks whose every term is below e^-40 add nothing visible
SAMPLE_BLOCK = 240            # samples per chunk: many divisors, so block products fit any range
COLUMN_BLOCK = 128
CHUNK_BYTES = 16 << 20       # working memory of one chunk (per worker thread)


@dataclass
class _Group:
    """Samples sharing one formula: the term is a function of q = exp(-sign * z)."""

    sign: float
    route: str                 # "log" (log(1 + q)), "bce0" (BCE, y = 0), "p" (sigmoid-based)
    u: torch.Tensor            # padded to a multiple of the sample block (padding: zeros)
    v: torch.Tensor
    c: torch.Tensor
    target: torch.Tensor | None  # for route "p" with non-binary labels: subtracted from the sigmoid
    x: torch.Tensor            # the samples themselves (unpadded), for chunks handed to torch
    y: torch.Tensor
    n: int
    block: int
    ranges: list               # per sample block: (u_lo, u_hi, c_lo, c_hi, v_lo, v_hi, v_sum) of its samples
    divisors: list


def _divisors(n: int) -> list[int]:
    return sorted((d for d in range(1, n + 1) if n % d == 0), reverse=True)


def _span(lo_u, hi_u, lo_x, hi_x) -> tuple[float, float]:
    corners = (lo_u * lo_x, lo_u * hi_x, hi_u * lo_x, hi_u * hi_x)
    return min(corners), max(corners)


@dataclass
class _Chunk:
    """One chunk: rows ``Yi`` x columns ``Xj`` x one block of a group's samples, with its exponent ranges."""

    g: _Group
    Xj: torch.Tensor
    Yi: torch.Tensor
    i0: int                    # first row
    uk: torch.Tensor
    ck: torch.Tensor
    vk: torch.Tensor
    k0: int
    nk: int
    a_lo: float
    a_hi: float
    b_lo: float
    b_hi: float


class _Workspace:
    """One worker's buffers, reused by every chunk: fresh multi-MB tensors per chunk cost page faults."""

    def __init__(self, rows: int, cols: int, block: int):
        self.main = torch.empty(rows * cols * block, dtype=torch.float64)
        self.products = torch.empty(rows * cols * block, dtype=torch.float64)

    def terms(self, r: int, g: int, nb: int) -> torch.Tensor:
        return self.main[:r * g * nb].view(r, g, nb)


class _Kernel:
    def __init__(self, prob, X: np.ndarray, Y: np.ndarray, chunk_bytes: int | None):
        u, v, c = prob.u, prob.v, prob.c
        self.transposed = bool(np.all(u == u[0]) and not np.all(v == v[0]))
        if self.transposed:           # keep the sample-dependent coefficient on the column tables
            u, v, X, Y = v, u, Y, X
        self.prob, self.X, self.Y = prob, X, Y
        self.row_scalar = bool(np.all(v == v[0]))
        self.criterion, self.delta = prob.criterion, prob.delta
        self.groups = self._groups(u, v, c, prob.y.numpy(), prob.x, prob.y)
        per_chunk = max(1, (chunk_bytes or CHUNK_BYTES) // 16 // SAMPLE_BLOCK)     # two float64 buffers
        # at least ~8 column blocks, so that worker threads share the work evenly
        self.col_block = max(1, min(COLUMN_BLOCK, -(-len(X) // 8), per_chunk))
        self.row_block = max(1, min(len(Y), per_chunk // self.col_block))
        self.row_ranges = [(float(Y[i:i + self.row_block].min()), float(Y[i:i + self.row_block].max()))
                           for i in range(0, len(Y), self.row_block)]
        self.out = torch.zeros(len(Y), len(X), dtype=torch.float64)

    # -- setup ------------------------------------------------------------------------------------------
    def _groups(self, u, v, c, y, x_t, y_t) -> list[_Group]:
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
            idx = idx[np.lexsort((c[idx], u[idx]))]          # narrow coefficient ranges per sample block
            n = idx.size
            # equal blocks of at most SAMPLE_BLOCK, a multiple of 12 (many divisors for the block products)
            block = -(-n // -(-n // SAMPLE_BLOCK) // 12) * 12
            padded = -(-n // block) * block

            def pad(arr):
                out = torch.zeros(padded, dtype=torch.float64)
                out[:n] = torch.from_numpy(np.ascontiguousarray(arr[idx]))
                return out

            ranges = []
            for k0 in range(0, n, block):
                part = idx[k0:k0 + block]
                ranges.append(tuple(float(f(a[part])) for a in (u, c, v) for f in (np.min, np.max))
                              + (float(v[part].sum()),))
            target = pad(y) if (route == "p" and not binary) else None
            sel = torch.from_numpy(idx)
            groups.append(_Group(sign, route, pad(u), pad(v), pad(c), target, x_t[sel], y_t[sel], n, block,
                                 ranges, _divisors(block)))
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
        y_lo, y_hi = float(self.Y.min()), float(self.Y.max())
        ws = _Workspace(self.row_block, len(Xj), max(g.block for g in self.groups))
        blocks = list(enumerate(range(0, len(self.Y), self.row_block)))
        out = self.out[:, j0:j0 + len(Xj)]
        for g in self.groups:
            shift = [0.0] * len(blocks)       # log-route corrections: sum of nk * ref per row block ...
            v_sum = [0.0] * len(blocks)       # ... minus sign * Y * (sum of those samples' v)
            for kb, (u_lo, u_hi, c_lo, c_hi, v_lo, v_hi, v_block) in enumerate(g.ranges):
                k0 = kb * g.block
                nk = min(g.block, g.n - k0)
                uk, ck, vk = (t[k0:k0 + g.block] for t in (g.u, g.c, g.v))
                ux_lo, ux_hi = _span(u_lo, u_hi, x_lo, x_hi)
                # A = -sign (u X + c): the column part of log q; B = sign v Y: the row part
                a_lo, a_hi = sorted((-g.sign * (ux_lo + c_lo), -g.sign * (ux_hi + c_hi)))
                vy_lo, vy_hi = _span(v_lo, v_hi, y_lo, y_hi)
                b_all = sorted((g.sign * vy_lo, g.sign * vy_hi))
                # the tables' reference: the middle of log(e^A + e^B) over every row
                tables = {"ref": 0.5 * (max(a_lo, b_all[0]) + max(a_hi, b_all[1]))}
                for ib, i0 in blocks:
                    Yi = torch.from_numpy(self.Y[i0:i0 + self.row_block])
                    vy_lo, vy_hi = _span(v_lo, v_hi, *self.row_ranges[ib])
                    b_lo, b_hi = sorted((g.sign * vy_lo, g.sign * vy_hi))
                    ch = _Chunk(g, Xj, Yi, i0, uk, ck, vk, k0, nk, a_lo, a_hi, b_lo, b_hi)
                    s, ref = self._chunk(ch, tables, ws)
                    out[i0:i0 + len(Yi)] += s
                    if ref is not None:
                        shift[ib] += nk * ref
                        v_sum[ib] += v_block
            if g.route != "p":
                for ib, i0 in blocks:
                    Yi = torch.from_numpy(self.Y[i0:i0 + self.row_block])
                    out[i0:i0 + len(Yi)] += (shift[ib] - (g.sign * v_sum[ib]) * Yi)[:, None]

    def _chunk(self, ch, tables, ws) -> tuple[torch.Tensor, float | None]:
        """The chunk's summed terms, and for log terms the reference r: the true sum adds nk r - sum of B."""
        g = ch.g
        lo, hi = max(ch.a_lo, ch.b_lo), max(ch.a_hi, ch.b_hi) + LN2      # log(e^A + e^B) lies in [lo, hi]
        f = ws.terms(len(ch.Yi), len(ch.Xj), g.block)
        if self._negligible(ch):
            return torch.zeros(len(ch.Yi), len(ch.Xj), dtype=torch.float64), None
        if g.route == "bce0" and ch.a_hi - ch.b_lo > Z_TORCH_ROUNDING:     # some z = A - B is confidently wrong
            if max(abs(ch.a_lo), abs(ch.a_hi), abs(ch.b_lo), abs(ch.b_hi)) > 700.0:
                return self._torch(ch), None
            if "E" not in tables:    # E = exp(-z) = exp(-(u X + c)) * exp(-v Y)
                tables["E"] = torch.addcmul(ch.ck, ch.Xj[:, None], ch.uk).neg_().exp_()
            re = torch.exp(-ch.Yi[:, None, None] * (ch.vk[:1] if self.row_scalar else ch.vk))
            return bce_rounded_terms(f, tables["E"], re, ch.nk, g.divisors, ws.products), None
        clamped = g.route == "log" and g.sign > 0 and self.criterion == "bce" and ch.a_hi - ch.b_lo > LOG_E100 - 1
        if clamped:             # BCELoss caps 1 + q at e^100: log f can drop to 100 + B - ref
            lo = min(lo, LOG_E100 + ch.b_lo)
        if hi - lo > SPAN_MAX:
            return self._torch(ch), None
        ref = tables["ref"]
        if max(abs(lo - ref), abs(hi - ref)) > 0.5 * SPAN_MAX:    # this row block is far from the others
            ref = 0.5 * (lo + hi)
        if ref not in tables:       # e^(A - ref); entries below e^-700 vanish beside e^(B - ref) >= e^-300
            arg = torch.addcmul(ch.ck, ch.Xj[:, None], ch.uk).mul_(-g.sign).sub_(ref)
            tables[ref] = arg.clamp_(-700.0, 700.0).exp_()
        ta = tables[ref]
        rows = slice(ch.i0, ch.i0 + len(ch.Yi))
        if self.row_scalar:         # e^(B - ref) for every row at once, B = sign v Y: (R, 1, 1)
            key = ("rows", ref)
            if key not in tables:
                tables[key] = torch.exp((g.sign * float(ch.vk[0])) * torch.from_numpy(self.Y) - ref)[:, None, None]
            rb = tables[key][rows]
        else:                       # B depends on the sample too: (r, 1, nb)
            rb = torch.exp((g.sign * ch.Yi[:, None, None]) * ch.vk - ref)
        if g.route == "p":
            target = None if g.target is None else g.target[ch.k0:ch.k0 + g.block]
            return sigmoid_terms(f, ta, rb, target, self.criterion, self.delta, ch.nk, self._regime(ch)), None
        clamp = rb * math.exp(LOG_E100) if clamped else None
        m = block_size(g.divisors, max(abs(lo - ref), abs(hi - ref)))
        return log1p_exp_terms(f, ta, rb, clamp, ch.nk, m, ws.products), ref

    def _negligible(self, ch) -> bool:
        """Every term of the chunk below e^-40: skipped. A cell whose other terms are as small is settled by
        torch; any other cell's loss exceeds 1e-9 n, so skipped terms stay below 1e-8 of it."""
        if ch.g.route == "p":
            if ch.g.target is not None:
                return False
            power = 2.0 if self.criterion == "mse" or self._regime(ch) == "quadratic" else 1.0
            return ch.a_lo - ch.b_hi > NEGLIGIBLE_LOG / power      # p <= e^-(A - B)
        return ch.a_hi - ch.b_lo < -NEGLIGIBLE_LOG                # log(1 + q) <= q = e^(A - B)

    def _regime(self, ch) -> str | None:
        """For Huber against 0/1: r = 1 / (1 + e^(A - B)) < delta exactly where A - B > log(1/delta - 1)."""
        if self.criterion != "huber" or ch.g.target is not None:
            return None
        cut = math.log(1.0 / self.delta - 1.0) if self.delta < 1.0 else -math.inf
        if ch.a_lo - ch.b_hi > cut + 1e-9:
            return "quadratic"
        if ch.a_hi - ch.b_lo < cut - 1e-9:
            return "linear"
        return None

    def _torch(self, ch) -> torch.Tensor:
        """The chunk term by term through torch (exponents too wide for the tables)."""
        Xc, Yc = ch.Xj.repeat(len(ch.Yi)), ch.Yi.repeat_interleave(len(ch.Xj))
        if self.transposed:
            Xc, Yc = Yc, Xc
        pts = self.prob.params(Xc, Yc)
        g = ch.g
        s = direct_sums(g.x[ch.k0:ch.k0 + ch.nk], g.y[ch.k0:ch.k0 + ch.nk], pts, self.criterion, self.delta,
                        self.prob.prob)
        return s.view(len(ch.Yi), len(ch.Xj))

    # -- cells too close to zero for the fast path's rounding -----------------------------------------------
    def _settle_small_cells(self) -> None:
        u_max = max(float(g.u.abs().max()) for g in self.groups)
        v_max = max(float(g.v.abs().max()) for g in self.groups)
        c_max = max(float(g.c.abs().max()) for g in self.groups)
        n = sum(g.n for g in self.groups)
        ysq = float(((1.0 + self.prob.y.abs()) ** 2).sum())
        X, Y = torch.from_numpy(self.X), torch.from_numpy(self.Y)
        # per-term rounding (ours and torch's) is a few eps of (1 + |A| + |B|) or (1 + |y|)^2
        col = (8.0 * EPS * n) * (1.0 + c_max + X.abs() * u_max)
        row = (8.0 * EPS) * (n * Y.abs() * v_max + ysq)

        def recompute(i, j):
            return self.prob.exact(Y[i], X[j]) if self.transposed else self.prob.exact(X[j], Y[i])

        settle_cells(self.out, col, row, recompute)


def kernel_sums(prob, X: np.ndarray, Y: np.ndarray, chunk_bytes: int | None = None) -> torch.Tensor:
    """Summed loss over the samples at every grid point (len(Y), len(X)) for sigmoid and logit criteria."""
    return _Kernel(prob, X, Y, chunk_bytes).run()
