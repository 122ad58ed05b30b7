"""landscape-app: watch a PyTorch optimizer walk across the exact loss surface of a small model.

The public API (``la.Experiment``, ``la.compute_surface``, ``la.train``, ...) lives in ``landscape_app.core``
and loads on first use, so the command line can refuse a mistake before importing torch. ``la.LossSurface``, the
course's helper, draws, so it lives above the core, in ``landscape_app.course``.

``la.__version__`` is the installed distribution's version (its metadata), read on first use.
"""
from . import core

__all__ = sorted([*core.__all__, "LossSurface"])


def __getattr__(name):
    if name == "__version__":       # read on first use (see core.version)
        from .core.version import package_version
        globals()[name] = value = package_version()
        return value
    if name == "LossSurface":
        from .course import LossSurface
        globals()[name] = LossSurface
        return LossSurface
    return getattr(core, name)


def __dir__():
    return sorted(set(__all__) | {"core", "__version__"})
