"""Neural-network models: the built-in specs (``mlp``, ``softmax``, ``cnn``), a user's ``file.py:function``, and
the checks that a module, its data and its criterion fit together.

The three closed-form models (``linear``, ``logistic``, ``plane``) stay in ``models.py``: their surfaces have exact
kernels. Everything here is an ``nn.Module`` whose surface is evaluated point by point (in batches).
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import math
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from torch import nn

from .codefiles import is_file_spec
from .errors import ConfigError
from .usercode import ESCAPES, describe_escape, watching_signals

ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid,
                                           "gelu": nn.GELU, "elu": nn.ELU, "leaky-relu": nn.LeakyReLU}

# Built-in module specs -> their options with defaults (the TOML keys of [experiment.model_options]).
MODULE_SPECS: dict[str, dict[str, Any]] = {
    "mlp": {"hidden": (32, 32), "activation": "tanh", "batchnorm": False, "bn_affine": True, "dropout": 0.0},
    "softmax": {},
    "cnn": {"channels": (8, 16), "activation": "relu", "batchnorm": False, "bn_affine": True},
}

# Options that runs of one race may set each their own: they change how the layers train, not which weights
# there are (BatchNorm without its affine scale and shift adds no parameter; with them, the run's parameters
# are not the others' and its path cannot be drawn on their plane).
PER_RUN_OPTIONS = ("batchnorm", "bn_affine", "dropout")

MODULE_LABELS = {
    "mlp": "MLP",
    "softmax": "Softmax regression",
    "cnn": "Small CNN",
}

GIVEN = "module"   # the model name of an Experiment made from an nn.Module object
MAX_WIDTH = 4096
# The names users' model files are imported under (the training process imports them again under the same).
USER_MODULE_PREFIX = "landscape_user_"


class UserCodeError(ConfigError):
    """The user's own model code failed; the message names its file and line."""

    def __init__(self, message: str):
        super().__init__("model", message)


def check_model_options(model: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The built-in spec's options with defaults filled in, validated; a file spec's options pass as keywords."""
    if is_file_spec(model):
        return dict(options)
    defaults = MODULE_SPECS.get(model, {})
    unknown = set(options) - set(defaults)
    if unknown:
        allowed = ", ".join(defaults) or "none"
        raise ConfigError(f"model_options.{sorted(unknown)[0]}", f"the {model!r} model has no such option "
                                                                 f"(its options: {allowed})")
    out = dict(defaults)
    for key, value in options.items():
        where = f"model_options.{key}"
        if key in ("hidden", "channels"):
            if isinstance(value, int) and not isinstance(value, bool):
                value = (value,)
            if (isinstance(value, (str, bytes)) or not hasattr(value, "__iter__")
                    or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_WIDTH
                               for v in value)):
                raise ConfigError(where, f"must be a list of whole numbers from 1 to {MAX_WIDTH}, not {value!r}")
            value = tuple(value)
            if key == "channels" and len(value) != 2:
                raise ConfigError(where, f"must give the two convolutions' channels, not {value!r}")
        elif key == "activation":
            if value not in ACTIVATIONS:
                raise ConfigError(where, f"must be one of {', '.join(ACTIVATIONS)}, not {value!r}")
        elif key in ("batchnorm", "bn_affine"):
            if not isinstance(value, bool):
                raise ConfigError(where, f"must be true or false, not {value!r}")
        elif key == "dropout":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ConfigError(where, f"must be a probability from 0 to below 1, not {value!r}")
            value = float(value)
        out[key] = value
    return out


def build_builtin(model: str, options: Mapping[str, Any], n_in: int, n_out: int,
                  image_shape: tuple[int, ...] | None) -> nn.Module:
    """A fresh built-in module (initialised from torch's current random state)."""
    if model == "softmax":
        return nn.Sequential(nn.Linear(n_in, n_out))
    act = ACTIVATIONS[options["activation"]]
    if model == "mlp":
        layers: list[nn.Module] = []
        width = n_in
        for h in options["hidden"]:
            layers.append(nn.Linear(width, h))
            if options["batchnorm"]:
                layers.append(nn.BatchNorm1d(h, affine=options["bn_affine"]))
            layers.append(act())
            if options["dropout"]:
                layers.append(nn.Dropout(options["dropout"]))
            width = h
        layers.append(nn.Linear(width, n_out))
        return nn.Sequential(*layers)
    if model == "cnn":
        shape = image_shape or _square_image(n_in)
        c1, c2 = options["channels"]
        bn, affine = options["batchnorm"], options["bn_affine"]
        side_h, side_w = shape[1] // 4, shape[2] // 4
        if side_h < 1 or side_w < 1:
            raise ConfigError("model", f"the 'cnn' model pools twice by 2 and needs images of at least 4x4, "
                                       f"not {shape[1]}x{shape[2]}")
        layers = [nn.Unflatten(1, shape),
                  nn.Conv2d(shape[0], c1, 3, padding=1), *([nn.BatchNorm2d(c1, affine=affine)] if bn else []), act(),
                  nn.MaxPool2d(2),
                  nn.Conv2d(c1, c2, 3, padding=1), *([nn.BatchNorm2d(c2, affine=affine)] if bn else []), act(),
                  nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(c2 * side_h * side_w, n_out)]
        return nn.Sequential(*layers)
    raise ConfigError("model", f"unknown model {model!r}")


def _square_image(n_in: int) -> tuple[int, int, int]:
    side = math.isqrt(n_in)
    if side * side != n_in:
        raise ConfigError("model", f"the 'cnn' model needs image data (e.g. digits); {n_in} features are not "
                                   "a square image")
    return (1, side, side)


# -- a user's file ----------------------------------------------------------------------------------------------

def split_file_spec(spec: str) -> tuple[Path, str]:
    path, _, func = spec.rpartition(":")
    if not func.isidentifier():
        raise ConfigError("model", f"{spec!r}: after the colon comes the name of a function, not {func!r}")
    return Path(path).expanduser(), func


def user_frame(exc: BaseException, path: Path) -> str:
    """``file line N`` of the deepest frame of ``exc`` in the user's file (else the deepest frame at all)."""
    frames = traceback.extract_tb(exc.__traceback__)
    target = str(path.resolve())
    mine = [f for f in frames if _same_file(f.filename, target)]
    frame = (mine or frames or [None])[-1]
    if frame is None:
        return str(path)
    return f"{frame.filename if not mine else path} line {frame.lineno}"


def _same_file(name: str, target: str) -> bool:
    try:
        return str(Path(name).resolve()) == target
    except OSError:
        return False


def describe_failure(exc: BaseException) -> str:
    if isinstance(exc, ESCAPES):
        return describe_escape(exc)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def factory_names(path: str | Path) -> list[str]:
    """The public top-level functions of a model file, in their order, read without running it (``ast``): what
    "file.py:function" may name."""
    path = Path(path).expanduser()
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("model", f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise UserCodeError(f"{path} line {exc.lineno}: SyntaxError: {exc.msg}") from None
    names = [node.name for node in tree.body
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_")]
    if not names:
        raise ConfigError("model", f"{path} defines no function; write one that returns the nn.Module "
                                   f"(e.g. def make_model(): ...)")
    return names


def load_factory(spec: str, base_dir: Path | None = None) -> tuple[Callable[..., nn.Module], Path]:
    """Import the user's file (running its code, as any script would) and return its function."""
    path, func = split_file_spec(spec)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise ConfigError("model", f"{path}: no such file (the model is given as file.py:function)")
    resolved = path.resolve()
    name = USER_MODULE_PREFIX + hashlib.sha1(str(resolved).encode()).hexdigest()[:12]
    module_spec = importlib.util.spec_from_file_location(name, resolved)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError("model", f"{path}: cannot be imported as Python")
    module = importlib.util.module_from_spec(module_spec)
    before = sys.modules.get(name)
    sys.modules[name] = module          # dataclasses and pickling look the module up by name
    # Reading a model must leave the user's folder as it was: no __pycache__ beside their file.
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        with watching_signals() as signals:
            module_spec.loader.exec_module(module)
    except SyntaxError as exc:
        _forget(name, module, before)
        raise UserCodeError(f"{path} line {exc.lineno}: SyntaxError: {exc.msg}") from None
    except (Exception, *ESCAPES) as exc:  # noqa: BLE001 (the user's code may raise anything, sys.exit too)
        _forget(name, module, before)
        if signals.interrupted(exc):     # a real Ctrl-C: the user stops the program
            raise
        raise UserCodeError(f"{user_frame(exc, resolved)}: {describe_failure(exc)} "
                            f"(while importing {path.name})") from None
    finally:
        sys.dont_write_bytecode = saved
    factory = getattr(module, func, None)
    if not callable(factory):
        raise ConfigError("model", f"{path} has no function {func!r}")
    return factory, resolved


def _forget(name: str, module, before) -> None:
    """Undo a failed import's entry in ``sys.modules``: the module imported before it (a session in use holds its
    classes) comes back. Only if the entry is still this import's: an import abandoned for taking too long (see
    ``gui.user_code``) may end after a newer import of the same file took the name."""
    if sys.modules.get(name) is module:
        if before is None:
            del sys.modules[name]
        else:
            sys.modules[name] = before


def call_factory(factory: Callable[..., nn.Module], path: Path, options: Mapping[str, Any]) -> nn.Module:
    try:
        with watching_signals() as signals:
            module = factory(**options)
    except (Exception, *ESCAPES) as exc:  # noqa: BLE001
        if signals.interrupted(exc):
            raise
        raise UserCodeError(f"{user_frame(exc, path)}: {describe_failure(exc)} "
                            f"(in {getattr(factory, '__name__', 'the function')}())") from None
    if not isinstance(module, nn.Module):
        raise UserCodeError(f"{path} line {_def_line(factory)}: {factory.__name__}() must return a "
                            f"torch.nn.Module, not {type(module).__name__}")
    return module


def _def_line(fn) -> int | str:
    try:
        return inspect.getsourcelines(fn)[1]
    except (OSError, TypeError):
        return "?"


def where_defined(module: nn.Module, factory=None, path: Path | None = None) -> str:
    """``file line N`` where the module's forward (else the factory) is written, for errors about its output."""
    forward = type(module).forward
    try:
        file = inspect.getsourcefile(forward)
        line = inspect.getsourcelines(forward)[1]
        if path is not None and file and _same_file(file, str(path)):
            return f"{path} line {line}"
    except (OSError, TypeError):
        pass
    if factory is not None and path is not None:
        return f"{path} line {_def_line(factory)}"
    return f"{type(module).__name__}.forward"


def n_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def coordinate_names(module: nn.Module) -> tuple[str, ...]:
    """A name per entry of the flat parameter vector: ``0.weight[3,1]``, ``2.bias[0]``."""
    names: list[str] = []
    for name, p in module.named_parameters():
        if p.numel() == 1 and p.dim() <= 1:
            names.append(name if p.dim() == 0 else f"{name}[0]")
            continue
        for idx in torch.cartesian_prod(*[torch.arange(s) for s in p.shape]).reshape(p.numel(), -1).tolist():
            names.append(f"{name}[{','.join(map(str, idx))}]")
    return tuple(names)


__all__ = ["ACTIVATIONS", "GIVEN", "MODULE_SPECS", "PER_RUN_OPTIONS", "UserCodeError", "build_builtin",
           "call_factory", "check_model_options", "coordinate_names", "factory_names", "is_file_spec", "load_factory",
           "n_parameters"]
