"""landscape-app: watch a PyTorch optimizer walk across the exact loss surface of a small model.

The public API (``la.Experiment``, ``la.compute_surface``, ``la.train``, ...) lives in ``landscape_app.core``
and loads on first use, so the command line can refuse a mistake before importing torch.
"""
from . import core

__version__ = "0.1.0"
__all__ = core.__all__


def __getattr__(name):
    return getattr(core, name)


def __dir__():
    return sorted(set(__all__) | {"core", "__version__"})
