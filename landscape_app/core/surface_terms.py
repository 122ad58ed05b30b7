"""The per-chunk arithmetic of the surface kernel: sums over one block of samples for a block of grid points.

Each function fills the worker's buffer ``f`` (rows, columns, samples) in place from a column table and a
row table and returns the (rows, columns) sums. Padding samples (beyond ``nk``) are made neutral.
"""
from __future__ import annotations

import math

import torch

LOG_E100 = 100.0              # BCELoss clamps log(p) at -100
PRODUCT_LOG_MAX = 700.0       # a block product of m factors stays within e^(+-700)


def log_product_sum(f: torch.Tensor, m: int, products: torch.Tensor) -> torch.Tensor:
    """Sum over the last axis of log(f), as logs of products of m consecutive factors."""
    r, g, nb = f.shape
    prods = products[:r * g * (nb // m)].view(r, g, nb // m)
    return torch.prod(f.view(r, g, nb // m, m), -1, out=prods).log_().sum(-1)


def block_size(divisors: list[int], half_range: float) -> int:
    """The most factors whose product stays finite when each log-factor lies within +-half_range."""
    return next(d for d in divisors if d * half_range <= PRODUCT_LOG_MAX)


def log1p_exp_terms(f, ta, rb, clamp, nk, m, products) -> torch.Tensor:
    """sum_k log(e^(A_k - ref) + e^(B - ref)) from tables ta = e^(A - ref) and rb = e^(B - ref).

    That is sum_k log(1 + e^(A_k - B)) minus sum_k (B - ref): the caller adds that back. ``clamp``: the
    per-row cap e^(100 + B - ref) of BCELoss (1 + q <= e^100), or None.
    """
    torch.add(ta, rb, out=f)
    if clamp is not None:
        torch.minimum(f, clamp, out=f)
    if nk < f.shape[-1]:
        f[..., nk:] = 1.0
    return log_product_sum(f, m, products)


def bce_rounded_terms(f, te, re, nk, divisors, products) -> torch.Tensor:
    """BCE terms of y = 0 samples as torch rounds them: -log(1 - fl(1/fl(1 + E))), clamped at 100.

    ``te * re`` is E = exp(-z) (column and row tables, unscaled: the rounding of 1 + E is the point).
    """
    torch.mul(te, re, out=f)
    f.add_(1.0).sub_(1.0)                       # D = fl(1 + E) - 1, the rounding torch's sigmoid makes
    f.reciprocal_().add_(1.0).clamp_max_(math.exp(LOG_E100))   # 1/(1 - p) = 1 + 1/D; D = 0 -> log = 100
    if nk < f.shape[-1]:
        f[..., nk:] = 1.0
    return log_product_sum(f, block_size(divisors, LOG_E100), products)


def sigmoid_terms(f, ta, rb, target, criterion, delta, nk, regime=None) -> torch.Tensor:
    """sum_k phi(p_k - target_k), p = e^(B - ref) / (e^(A - ref) + e^(B - ref)) = 1 / (1 + e^(A - B)).

    ``target`` None means 0 (labels 0/1 are folded into the sign of z by the caller). ``regime`` for Huber
    without target: "quadratic" or "linear" when every term of the chunk is known to be in that piece.
    """
    torch.add(ta, rb, out=f)
    p = torch.div(rb, f, out=f)
    if nk < p.shape[-1]:
        p[..., nk:] = 0.0
    if target is not None:
        p.sub_(target).abs_()
    if criterion == "mse" or regime == "quadratic":
        s = torch.linalg.vector_norm(p, dim=-1).square_()
        return s if criterion == "mse" else 0.5 * s
    if criterion == "l1":
        return p.sum(-1)
    if regime == "linear":
        return delta * p.sum(-1) - (0.5 * delta * delta * nk)
    # Huber of r >= 0: 0.5 min(r, delta)^2 + delta (r - min(r, delta)), in place
    total = p.sum(-1)
    inner = p.clamp_max_(delta)
    return 0.5 * torch.linalg.vector_norm(inner, dim=-1).square_() + delta * (total - inner.sum(-1))
