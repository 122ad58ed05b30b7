"""Eager torch without importing ``torch._dynamo`` until something needs it.

torch.optim's eager code touches the compiler twice: methods decorated with ``torch._disable_dynamo`` (every
optimizer's ``__init__`` calls ``add_param_group``, every step ``zero_grad``) import ``torch._dynamo`` on their
first call to wrap themselves in ``torch._dynamo.disable``, and ``step`` calls ``torch._dynamo.graph_break()``.
Outside ``torch.compile`` both are no-ops, yet the import costs ~1 s (sympy, torch.fx, torch.distributed, ...)
and ~0.35 s more when the interpreter tears it down: more than the whole training of an export.

``defer_dynamo()`` puts a stand-in module in ``sys.modules["torch._dynamo"]`` that answers those two calls
itself and loads the real ``torch._dynamo`` (taking its place) the moment anything else is asked of it: any
other attribute, or an import of one of its submodules. The arithmetic is torch's own either way, so the
parameters stay bit-identical to the plain loop. It is meant for processes that only run eager code, such as
the headless commands; a library never installs it behind its caller's back.
"""
from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.util
import sys
import threading
import types

NAME = "torch._dynamo"
_lock = threading.RLock()


class _DeferredDynamo(types.ModuleType):
    """Stands in for ``torch._dynamo``: the two no-ops of eager mode here, everything else from the real one."""

    def disable(self, fn=None, recursive=True, **options):
        if fn is None:                  # used as @disable(recursive=False)
            return functools.partial(self.disable, recursive=recursive, **options)

        exempt = []

        @functools.wraps(fn)
        def call(*args, **kwargs):
            real = sys.modules.get(NAME)
            if real is not None and real is not self:
                # The compiler has been loaded since: from now on really exempt ``fn`` from it.
                if not exempt:
                    exempt.append(real.disable(fn, recursive))
                return exempt[0](*args, **kwargs)
            return fn(*args, **kwargs)
        return call

    def graph_break(self, msg: str = "") -> None:
        """A marker for the compiler's tracer; nothing to do in eager code."""

    def __getattr__(self, name: str):
        return getattr(load_real(), name)


class _SubmoduleFinder(importlib.abc.MetaPathFinder):
    """``import torch._dynamo.x`` while the stand-in is installed: load the real package first, so that ``x``
    is imported by it (once), not a second time beside it."""

    def find_spec(self, name, path=None, target=None):
        if not name.startswith(NAME + ".") or not isinstance(sys.modules.get(NAME), _DeferredDynamo):
            return None
        load_real()
        module = sys.modules.get(name)
        if module is None:
            return None                 # the real package did not import it: the ordinary finders will
        return importlib.util.spec_from_loader(name, _Loaded(module))


class _Loaded(importlib.abc.Loader):
    """Hands the import system a module that is already loaded, leaving it as it was."""

    def __init__(self, module):
        self.module, self.spec = module, module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        module.__spec__ = self.spec     # the import system set ours; keep the module's own


_finder = _SubmoduleFinder()


def load_real():
    """The real ``torch._dynamo``, imported now if the stand-in is still in its place."""
    with _lock:
        current = sys.modules.get(NAME)
        if isinstance(current, _DeferredDynamo):
            del sys.modules[NAME]
            try:
                real = importlib.import_module(NAME)     # also sets torch._dynamo to it
            except BaseException:
                sys.modules[NAME] = current
                raise
            if _finder in sys.meta_path:
                sys.meta_path.remove(_finder)
            return real
        return current if current is not None else importlib.import_module(NAME)


def defer_dynamo() -> bool:
    """Install the stand-in unless ``torch._dynamo`` is already imported; returns whether it is in place."""
    import torch
    with _lock:
        current = sys.modules.get(NAME)
        if current is not None:
            return isinstance(current, _DeferredDynamo)
        spec = importlib.util.find_spec(NAME)         # finds the package without running it
        if spec is None:
            return False
        stand_in = _DeferredDynamo(NAME, __doc__)
        # What tools probe every module for (inspect.getmodule reads __file__ of all of sys.modules) is answered
        # here, so probing does not load the compiler.
        stand_in.__spec__, stand_in.__loader__, stand_in.__file__ = spec, spec.loader, spec.origin
        stand_in.__path__ = list(spec.submodule_search_locations or ())
        stand_in.__package__ = NAME
        sys.modules[NAME] = stand_in
        torch._dynamo = stand_in
        sys.meta_path.insert(0, _finder)
        return True


def dynamo_loaded() -> bool:
    """Whether the real ``torch._dynamo`` has been imported in this process."""
    module = sys.modules.get(NAME)
    return module is not None and not isinstance(module, _DeferredDynamo)


__all__ = ["defer_dynamo", "dynamo_loaded", "load_real"]
