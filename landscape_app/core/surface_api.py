"""``la.compute_surface``: the surface in one call here (``surface.compute_surface``), or in blocks of rows as Ray
tasks or into a resumable store (``distributed``). This module sits above both, so the core has no import circle.
"""
from __future__ import annotations

import functools
import inspect

from . import surface as _surface
from .errors import ConfigError

# The keywords that choose how the blocks run; the rest are the surface's own.
BLOCK_OPTIONS = ("workers", "address", "store", "block_rows", "gpus_per_task", "max_retries")
_SURFACE_OPTIONS = set(inspect.signature(_surface.compute_surface).parameters) - {"exp", "w", "b"}


@functools.wraps(_surface.compute_surface)
def compute_surface(exp, w=None, b=None, *, engine: str = "local", **kwargs):
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


compute_surface.__doc__ = _surface.compute_surface.__doc__.rstrip() + """

    ``engine="ray"`` (with ``workers``, ``address``, ``gpus_per_task``, ``max_retries``), or ``store=`` (and
    ``block_rows``): computed in blocks of rows, as Ray tasks or here, each block kept in a resumable HDF5 store
    as it lands (``progress`` then counts blocks); see ``distributed.compute_surface_blocks``.
    """
del compute_surface.__wrapped__
_plain = inspect.signature(_surface.compute_surface)
compute_surface.__signature__ = _plain.replace(parameters=[
    *_plain.parameters.values(),
    *(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
      for name, default in (("engine", "local"), ("workers", None), ("address", None), ("store", None),
                            ("block_rows", None), ("gpus_per_task", None), ("max_retries", 3)))])

__all__ = ["compute_surface", "BLOCK_OPTIONS"]
