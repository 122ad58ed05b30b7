"""MSE of a linear model in closed form: exact to rounding, near the minimum too.

The summed squared residual ``sum_k (u_k X + v_k Y + e_k)^2`` is a quadratic in the two axis parameters.
The naive expansion into five sums of the data cancels catastrophically near the minimum, so it is written
around the least-squares point p* with its residuals r* computed directly:

    S(p* + d) = sum r*^2 + 2 d.(sum r* u, sum r* v) + n (mean(u) dX + mean(v) dY)^2 + sum_t lam_t (q_t . d)^2

where lam_t, q_t are the eigenpairs of the centred 2x2 scatter matrix. Every piece is a sum of non-negative
squares except the gradient term, which is (near) zero at p*, so no large terms cancel.
"""
from __future__ import annotations

import numpy as np
import torch

from .surface_direct import EPS


def mse_sums(u: np.ndarray, v: np.ndarray, e: np.ndarray, X: np.ndarray, Y: np.ndarray,
             row_block: int = 1 << 18):
    """``S[i, j] = sum_k (u_k X_j + v_k Y_i + e_k)^2`` for all grid points, float64 tensor (len(Y), len(X)).

    Returns ``(S, col, row)``: S's rounding error at (i, j) (and torch's) is below ``col[j] + row[i]``.
    """
    n = u.shape[0]
    design = np.stack([u, v], axis=1)
    p_star = np.linalg.lstsq(design, -e, rcond=None)[0]
    r_star = u * p_star[0] + v * p_star[1] + e
    s0 = float(np.dot(r_star, r_star))
    gx, gy = float(np.dot(r_star, u)), float(np.dot(r_star, v))
    mu, mv = float(u.mean()), float(v.mean())
    uc, vc = u - mu, v - mv
    scatter = np.array([[np.dot(uc, uc), np.dot(uc, vc)], [np.dot(uc, vc), np.dot(vc, vc)]])
    lam, q = np.linalg.eigh(scatter)
    lam = np.clip(lam, 0.0, None)
    # Each square as (a dX + b dY): (sqrt(n) * mean part) and (sqrt(lam_t) * eigvec part).
    coeffs = [(np.sqrt(n) * mu, np.sqrt(n) * mv)]
    coeffs += [(np.sqrt(lam[t]) * q[0, t], np.sqrt(lam[t]) * q[1, t]) for t in range(2) if lam[t] > 0]
    dx = torch.from_numpy(np.asarray(X, dtype=np.float64) - p_star[0])
    dy = torch.from_numpy(np.asarray(Y, dtype=np.float64) - p_star[1])
    out = torch.empty(len(dy), len(dx), dtype=torch.float64)
    rows = max(1, row_block // max(len(dx), 1))
    lin_x = (2.0 * gx) * dx + s0
    scaled_x = [a * dx for a, _ in coeffs]
    buffer = torch.empty(min(rows, len(dy)), len(dx), dtype=torch.float64)   # reused: fresh MBs fault pages
    for i in range(0, len(dy), rows):
        dyi = dy[i:i + rows, None]
        block, sq = out[i:i + rows], buffer[:len(dyi)]
        torch.add(lin_x, (2.0 * gy) * dyi, out=block)
        for ax, (_, b) in zip(scaled_x, coeffs):
            torch.add(ax, b * dyi, out=sq)
            block.addcmul_(sq, sq)
    # each residual rounds to a few eps of |u X| + |v Y| + |e|; (p + q + r)^2 <= 3 (p^2 + q^2 + r^2)
    c = 48.0 * EPS
    col = (c * float(np.dot(u, u))) * torch.from_numpy(np.square(np.asarray(X, dtype=np.float64)))
    row = c * (float(np.dot(v, v)) * torch.from_numpy(np.square(np.asarray(Y, dtype=np.float64)))
               + float(np.dot(e, e)))
    return out, col, row
