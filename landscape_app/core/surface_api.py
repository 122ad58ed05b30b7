"""``la.compute_surface``: the surface in one call here (``surface.compute_surface``), or in blocks of rows as Ray
tasks or into a resumable store (``distributed``). This module sits above both, so the core has no import circle.
"""
from __future__ import annotations

import inspect

from . import surface as _surface
from .errors import ConfigError

# The keywords that choose how the blocks run; the rest are the surface's own.
BLOCK_OPTIONS = ("workers", "address", "store", "block_rows", "gpus_per_task", "max_retries")
_SURFACE_OPTIONS = set(inspect.signature(_surface.compute_surface).parameters) - {"exp", "w", "b"}


def compute_surface(exp, w=None, b=None, *, engine: str = "local", **kwargs):
    """The loss surface of ``exp`` over a plane of its parameters.

    Without ``plane``: the experiment's (w, b) grid (or explicit x-axis values ``w`` and y-axis values ``b``);
    ``held`` overrides the plane model's held parameter (a number, or ``{name: value}``).
    With ``plane``: ``loss[i, j]`` at ``plane.point(alpha[j], beta[i])``; ``alpha``/``beta`` give the coordinates,
    else ``span`` (a half-width, ``(low, high)``, or one pair per axis) and ``resolution`` (points per axis, or a
    pair) do, else the plane's own span (a PCA plane's covers its paths) or the experiment's grid. ``batch`` gives
    sample indices for the surface of one mini-batch. ``metric="accuracy"``: the fraction classified right
    (networks). ``bn``: BatchNorm with its running statistics ("eval") or with the statistics of the data at each
    point ("recompute"). ``device``: where a network's batched evaluation runs ("cuda" where present).
    ``chunk_bytes`` bounds the working memory of one chunk; ``progress`` (``progress(done, total)``) and ``stop`` (a
    callable or ``threading.Event``) serve long computations.

    ``engine="ray"`` (with ``workers``, ``address``, ``gpus_per_task``, ``max_retries``), or ``store=`` (and
    ``block_rows``): computed in blocks of rows, as Ray tasks or here, each block kept in a resumable HDF5 store
    as it lands (``progress`` then counts blocks); see ``distributed.compute_surface_blocks``.
    """
    if engine == "local" and not any(k in kwargs for k in BLOCK_OPTIONS):
        return _surface.compute_surface(exp, w, b, **kwargs)
    from .distributed import compute_surface_blocks
    unknown = sorted(set(kwargs) - _SURFACE_OPTIONS - set(BLOCK_OPTIONS))
    if unknown:
        raise TypeError(f"compute_surface() got an unexpected keyword argument {unknown[0]!r}")
    plane = kwargs.pop("plane", None)
    alpha, beta = kwargs.pop("alpha", None), kwargs.pop("beta", None)
    if plane is None:
        if alpha is not None or beta is not None:
            raise ConfigError("alpha", "alpha= and beta= are a plane's coordinates; without a plane give w= and b=")
        alpha, beta = w, b
    elif w is not None or b is not None:
        raise ConfigError("w", "w= and b= give the (w, b) grid's axes; with a plane give alpha= and beta=")
    if kwargs.pop("stop", None) is not None:
        raise ConfigError("stop", "a surface computed in blocks stops with Ctrl-C (KeyboardInterrupt)")
    if kwargs.get("bn") == "eval":
        del kwargs["bn"]
    kwargs = {k: v for k, v in kwargs.items() if v is not None or k in BLOCK_OPTIONS}
    return compute_surface_blocks(exp, plane, alpha, beta, engine=engine, **kwargs)


# The docstring above is written out (not copied from the core's at import) so that tools that read the source,
# mkdocstrings among them, show it; the signature is the core's keywords and the engines', for help() and IDEs.
_plain = inspect.signature(_surface.compute_surface)
compute_surface.__signature__ = _plain.replace(parameters=[
    *_plain.parameters.values(),
    *(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
      for name, default in (("engine", "local"), ("workers", None), ("address", None), ("store", None),
                            ("block_rows", None), ("gpus_per_task", None), ("max_retries", 3)))])

__all__ = ["compute_surface", "BLOCK_OPTIONS"]
