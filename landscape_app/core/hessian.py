"""The top eigenvectors of the full-data Hessian, from Hessian-vector products (torch.func, float64); the
directions of ``Plane.hessian``.

Three ways to the eigenpairs: Lanczos (scipy's ``eigsh``, ARPACK), power iteration with deflation (PyHessian's
``hessian.eigenvalues``: orthogonalise against the pairs found, multiply, normalise), or for small models the dense
Hessian assembled from products with the unit vectors. "Top" means largest in magnitude, as in PyHessian: a
negative eigenvalue among them marks a direction in which the point is a saddle.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch.func import functional_call, grad, vmap

from .errors import ConfigError
from .models import build_criterion
from .surface_module import EvaluationStopped, is_stopped
from .surface_parallel import serial_torch

HESSIAN_METHODS = ("auto", "lanczos", "power", "dense")
DENSE_LIMIT = 200     # "auto" assembles the whole Hessian up to this many parameters (one product per parameter)


def _module64(exp) -> torch.nn.Module:
    if exp.is_module:
        from .module_points import float64_module
        return float64_module(exp)
    return exp.build_module().double().eval()


def loss_function(exp, buffers=None):
    """``f(flat) -> loss``: the full-data loss of a float64 flat parameter tensor (k,), differentiable by torch.func.

    The module runs in eval mode (dropout off, BatchNorm with ``buffers``' running statistics, else its own).
    """
    from .module_points import _buffers, split_params
    module = _module64(exp)
    state = _buffers(module, buffers)
    x = exp.data.x.to(torch.float64)
    target = exp.targets()
    if target.dtype.is_floating_point:
        target = target.to(torch.float64)
    criterion = build_criterion(exp.criterion, exp.criterion_options)

    def f(flat: torch.Tensor) -> torch.Tensor:
        return criterion(functional_call(module, {**state, **split_params(module, flat)}, (x,)), target)
    return f


class HessianProducts:
    """``H @ v`` at a fixed point, numpy in and out, counting the products.

    Reverse over reverse, the gradient of ``grad(f) . v`` (PyHessian's way). Forward over reverse (the jvp of the
    gradient) was ~20% faster on the CNN but fails on a ``Linear(1, 1)`` ("ZeroTensors are immutable", torch
    2.13) and, on first use, loads decompositions through the deprecated ``torch.jit.script``.
    """

    def __init__(self, exp, params: np.ndarray, buffers=None, stop=None):
        self._stop = stop          # checked before each product: EvaluationStopped when set
        self._f = loss_function(exp, buffers)
        self._p = torch.from_numpy(np.array(params, dtype=np.float64))
        self.dim = int(self._p.shape[0])
        self.count = 0

    def _hvp(self, v: torch.Tensor) -> torch.Tensor:
        grad_f = grad(self._f)
        return grad(lambda p: torch.dot(grad_f(p), v))(self._p)

    def _check(self) -> None:
        if is_stopped(self._stop):
            raise EvaluationStopped(f"stopped after {self.count} Hessian-vector products")

    def __call__(self, v: np.ndarray) -> np.ndarray:
        self._check()
        self.count += 1
        vt = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(-1))
        with serial_torch():    # small operations: torch's thread barrier costs more than it gives (surface_parallel)
            return self._hvp(vt).detach().numpy().copy()

    def dense(self) -> np.ndarray:
        """The whole Hessian (k, k), one product per unit vector (batched), symmetrised."""
        self._check()
        eye = torch.eye(self.dim, dtype=torch.float64)
        self.count += self.dim
        with serial_torch():
            h = vmap(self._hvp, chunk_size=32)(eye).detach().numpy()
        return 0.5 * (h + h.T)


def _by_magnitude(values: np.ndarray, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-np.abs(values), kind="stable")[:k]
    return values[order], vectors[:, order]


def _lanczos(products: HessianProducts, k: int, rng: np.random.Generator, tol: float, max_iter: int):
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
    n = products.dim
    op = LinearOperator((n, n), matvec=products, dtype=np.float64)
    try:
        values, vectors = eigsh(op, k=k, which="LM", v0=rng.standard_normal(n), tol=tol, maxiter=max_iter)
    except ArpackNoConvergence:
        raise ConfigError("method", f"Lanczos found no {k} eigenpairs within {max_iter} restarts "
                                    f"({products.count} Hessian-vector products); try method='power', a larger "
                                    "max_iter or a looser tol") from None
    return _by_magnitude(values, vectors, k)


def _power(products: HessianProducts, k: int, rng: np.random.Generator, tol: float, max_iter: int):
    """Power iteration with deflation (PyHessian): each vector kept orthogonal to the eigenvectors found."""
    n = products.dim
    values, vectors = [], []
    for _ in range(k):
        v = rng.standard_normal(n)
        value = 0.0
        for _ in range(max_iter):
            for u in vectors:                # Gram-Schmidt against the pairs already found
                v -= (u @ v) * u
            v /= np.linalg.norm(v)
            hv = products(v)
            for u in vectors:                # keeps rounding from leaking the found directions back in
                hv -= (u @ hv) * u
            value = float(v @ hv)
            residual = float(np.linalg.norm(hv - value * v))
            norm = float(np.linalg.norm(hv))
            if norm == 0 or residual <= tol * abs(value):
                break
            v = hv / norm
        values.append(value)
        vectors.append(v)
    return np.array(values), np.stack(vectors, axis=1)


def top_eigenpairs(exp, params=None, k: int = 2, buffers=None, method: str = "auto", seed: int = 0,
                   tol: float = 1e-8, max_iter: int = 1000, stop=None) -> tuple[np.ndarray, np.ndarray, dict]:
    """The ``k`` eigenvalues of the full-data Hessian largest in magnitude, their unit eigenvectors (k_params, k)
    as columns, and what the computation did (method, products, residuals). ``stop`` (a callable or a
    ``threading.Event``), once set, ends it with ``EvaluationStopped`` at the next Hessian-vector product."""
    if method not in HESSIAN_METHODS:
        raise ConfigError("method", f"must be one of {', '.join(HESSIAN_METHODS)}, not {method!r}")
    n = exp.param_count
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise ConfigError("k", f"must be a whole number from 2 (a plane's two directions) to {n} (the model's "
                               f"parameters), not {k!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("seed", f"must be a whole number >= 0, not {seed!r}")
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol < 1:
        raise ConfigError("tol", f"must be a number between 0 and 1, not {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ConfigError("max_iter", f"must be a whole number >= 1, not {max_iter!r}")
    point = exp.start_vector() if params is None else np.asarray(params, dtype=np.float64).reshape(-1)
    if point.shape[0] != n or not np.isfinite(point).all():
        raise ConfigError("params", f"must be {n} finite values (the model's parameters), not shape "
                                    f"{np.shape(params)}")
    products = HessianProducts(exp, point, buffers, stop)
    rng = np.random.default_rng(int(seed))
    if method == "auto":
        # ARPACK needs k < n and gains nothing on a few hundred parameters; the dense Hessian is exact there.
        method = "dense" if n <= DENSE_LIMIT or k >= n - 1 else "lanczos"
    if method == "lanczos" and k >= n:
        raise ConfigError("k", f"Lanczos finds at most {n - 1} eigenpairs of {n} parameters; use method='dense'")
    if method == "dense":
        values, vectors = np.linalg.eigh(products.dense())
        values, vectors = _by_magnitude(values, vectors, k)
    elif method == "lanczos":
        values, vectors = _lanczos(products, int(k), rng, float(tol), int(max_iter))
    else:
        values, vectors = _power(products, int(k), rng, float(tol), int(max_iter))
    # Eigenvectors have no sign of their own: make each one's largest entry positive, so results repeat.
    for j in range(vectors.shape[1]):
        col = vectors[:, j]
        col /= np.linalg.norm(col)
        if col[int(np.argmax(np.abs(col)))] < 0:
            col *= -1
    counted = products.count
    residuals = tuple(float(np.linalg.norm(products(vectors[:, j]) - values[j] * vectors[:, j]))
                      for j in range(vectors.shape[1]))
    info = {"eigenvalues": tuple(float(v) for v in values), "method": method, "products": counted,
            "residuals": residuals}
    return np.asarray(values, dtype=np.float64), vectors, info


def eigen_labels(values) -> tuple[str, str]:
    """"Hessian 1 (λ=12.3)" for the plane's two directions."""
    return tuple(f"Hessian {i + 1} (λ={_short(float(values[i]))})" for i in range(2))


def _short(value: float) -> str:
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    return f"{value:.3g}" if 1e-3 <= abs(value) < 1e4 else f"{value:.2e}"


__all__ = ["DENSE_LIMIT", "HESSIAN_METHODS", "HessianProducts", "eigen_labels", "loss_function", "top_eigenpairs"]
