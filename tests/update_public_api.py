"""The public API as text, one line per name, and the command that rewrites its snapshot (tests/public_api.txt).

    python -m tests.update_public_api            # rewrite tests/public_api.txt from the live API
    python -m tests.update_public_api --print    # print the live API (tests/test_public_api.py compares it)

Covered: ``landscape_app``'s names (``__all__``, ``dir()``, and the deprecated aliases of ``core.DEPRECATED``),
``landscape_app.export``'s ``__all__``, the public members of their classes (methods, properties, dataclass
fields, class attributes; inherited ones from the package's own bases), each with its signature, and the
``landscape-app`` command's options and their choices. A change to any of them is a change to the API: deliberate,
and noted in CHANGELOG.md.

The text is the same on every machine and on Python 3.10 to 3.13: no annotations (their reprs differ between
versions), defaults written by ``stable_repr`` (no memory addresses, no platform's path class, sets sorted), and
members of classes outside the package (``Exception``, ``QObject``, ``Dataset``) left out.
"""
from __future__ import annotations

import argparse
import dataclasses
import enum
import functools
import inspect
import os
import re
import sys
from pathlib import Path, PurePath

SNAPSHOT = Path(__file__).with_name("public_api.txt")
PACKAGE = "landscape_app"
UPDATE_COMMAND = "python -m tests.update_public_api"
HEADER = ("# The public API of landscape-app, one line per name: tests/test_public_api.py compares it with the live\n"
          f"# API. After a deliberate change run `{UPDATE_COMMAND}` and note it in CHANGELOG.md.\n")


# -- values and signatures, written the same everywhere -------------------------------------------------------------

def stable_repr(value) -> str:
    """``repr`` without what differs between runs, machines or Python versions (addresses, path classes, set order)."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)) and not isinstance(value, enum.Enum):
        return repr(value)
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, PurePath):          # PosixPath or WindowsPath: the same path either way
        return f"Path({value.as_posix()!r})"
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        items = [stable_repr(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(stable_repr(v) for v in value)}]"
    if isinstance(value, (set, frozenset)):
        items = ", ".join(sorted(stable_repr(v) for v in value))
        return f"{type(value).__name__}({{{items}}})" if value else f"{type(value).__name__}()"
    if isinstance(value, dict) or type(value).__name__ == "mappingproxy":
        items = sorted((stable_repr(k), stable_repr(v)) for k, v in value.items())
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f for f in dataclasses.fields(value) if f.repr]
        return f"{type(value).__name__}({', '.join(f'{f.name}={stable_repr(getattr(value, f.name))}' for f in fields)})"
    if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return stable_repr(value.item())   # numpy 2 writes np.float64(0.1), numpy 1 writes 0.1
    if callable(value) and hasattr(value, "__qualname__"):
        return f"<{'class' if isinstance(value, type) else 'function'} {value.__qualname__}>"
    text = repr(value)
    if re.search(r" at 0x[0-9a-fA-F]+|object at ", text):
        return f"<{type(value).__name__}>"
    return text


def format_signature(obj, *, drop_first: bool = False) -> str:
    """``(a, b=1, *args, c, **kwargs)``: the parameters' names, kinds and defaults, without annotations."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):          # a builtin without a text signature
        return "(...)"
    params = list(signature.parameters.values())
    if drop_first and params:
        params = params[1:]
    parts, star_done = [], False
    for i, p in enumerate(params):
        if p.kind is p.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"*{p.name}")
            star_done = True
        elif p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
        else:
            parts.append(p.name if p.default is p.empty else f"{p.name}={_default(p.default)}")
        if p.kind is p.POSITIONAL_ONLY and (i + 1 == len(params) or params[i + 1].kind is not p.POSITIONAL_ONLY):
            parts.append("/")
    return f"({', '.join(parts)})"


def _default(value) -> str:
    # A dataclass's default_factory shows as inspect's <factory> sentinel: its repr is the same everywhere.
    return "<factory>" if type(value).__name__ == "_HAS_DEFAULT_FACTORY_CLASS" else stable_repr(value)


def _deprecated(obj) -> str:
    target = obj.fget if isinstance(obj, property) else getattr(obj, "__func__", obj)
    return "  [deprecated]" if getattr(target, "__deprecated__", None) else ""


# -- names ----------------------------------------------------------------------------------------------------------

def _ours(cls) -> bool:
    return (cls.__module__ or "").split(".")[0] == PACKAGE


def describe_value(qualname: str, value) -> list[str]:
    """Lines for one public name: a function, a class with its members, a module or a constant."""
    if inspect.ismodule(value):
        return [f"{qualname}  module"]
    if isinstance(value, type):
        return describe_class(qualname, value)
    if callable(value):
        return [f"{qualname}{format_signature(value)}  function{_deprecated(value)}"]
    if isinstance(value, str) and qualname.endswith(".__version__"):
        return [f"{qualname}  str"]         # the version moves with each release, not with the API
    return [f"{qualname}  {type(value).__name__} = {stable_repr(value)}"]


def describe_class(qualname: str, cls: type) -> list[str]:
    bases = ", ".join(b.__name__ for b in cls.__bases__ if b is not object)
    kind = "dataclass" if dataclasses.is_dataclass(cls) else "class"
    if dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen:
        kind = "frozen dataclass"
    lines = [f"{qualname}{_constructor(cls)}  {kind}" + (f"({bases})" if bases else "")]
    fields = {f.name: f for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}
    for name, f in fields.items():
        if name.startswith("_"):
            continue
        if f.default is not dataclasses.MISSING:
            default = f" = {stable_repr(f.default)}"
        elif f.default_factory is not dataclasses.MISSING:
            factory = f.default_factory
            default = f" = {factory.__qualname__}()" if factory.__name__ != "<lambda>" else " = <factory>"
        else:
            default = ""
        lines.append(f"{qualname}.{name}  field{default}" + ("" if f.init else "  (not in __init__)"))
    seen = set(fields)
    for klass in cls.__mro__:
        if not _ours(klass):
            continue
        for name, member in vars(klass).items():
            if name.startswith("_") or name in seen or name == "staticMetaObject":   # Qt's, on every QObject
                continue
            seen.add(name)
            lines.append(f"{qualname}.{name}  {_member(member)}")
    return lines


def _constructor(cls: type) -> str:
    # A constructor inherited from outside (Exception's, Enum's) has a signature that differs between versions.
    if issubclass(cls, enum.Enum):
        return "(value)"
    maker = next(k for k in cls.__mro__ if "__init__" in vars(k) or "__new__" in vars(k))
    return format_signature(cls) if _ours(maker) else "(...)"


def _member(member) -> str:
    if isinstance(member, classmethod):
        return f"classmethod{format_signature(member.__func__, drop_first=True)}{_deprecated(member)}"
    if isinstance(member, staticmethod):
        return f"staticmethod{format_signature(member.__func__)}{_deprecated(member)}"
    if isinstance(member, property):
        return f"property{'' if member.fset is None else ' (settable)'}{_deprecated(member)}"
    if isinstance(member, functools.cached_property):
        return "cached property"
    if inspect.isfunction(member):
        return f"method{format_signature(member)}{_deprecated(member)}"
    if isinstance(member, type):
        return f"class {member.__qualname__}"
    if isinstance(member, (bool, int, float, str, tuple, frozenset, enum.Enum)) or member is None:
        return f"attribute = {stable_repr(member)}"
    return f"attribute {type(member).__name__}"


def package_lines() -> list[str]:
    import landscape_app as la
    import landscape_app.export as export
    names = set(la.__all__) | set(dir(la)) | set(la.core.DEPRECATED)
    lines = []
    for name in sorted(names):
        lines += describe_value(f"{PACKAGE}.{name}", getattr(la, name))
    for name in sorted(set(export.__all__)):
        lines += describe_value(f"{PACKAGE}.export.{name}", getattr(export, name))
    return lines


# -- the command line -----------------------------------------------------------------------------------------------

def cli_lines() -> list[str]:
    from landscape_app.commands import build_parser as headless_parser
    from landscape_app.gui.app import build_parser as window_parser
    lines = _parser_lines("landscape-app", window_parser())
    for action in headless_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                lines += _parser_lines(f"landscape-app {name}", sub)
    return lines


def _parser_lines(prog: str, parser: argparse.ArgumentParser) -> list[str]:
    lines = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        name = ", ".join(action.option_strings) if action.option_strings else action.dest.upper()
        takes = "" if action.nargs == 0 else f"  nargs={action.nargs}" if action.nargs is not None else "  value"
        choices = f"  choices={','.join(map(str, action.choices))}" if action.choices is not None else ""
        lines.append(f"cli: {prog} {name}{takes}{choices}")
    return lines


def describe() -> list[str]:
    """Every line of the public API, sorted."""
    return sorted(set(package_lines() + cli_lines()))


def read_snapshot(path: Path = SNAPSHOT) -> list[str]:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def write_snapshot(lines: list[str], path: Path = SNAPSHOT) -> None:
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8")


def changes(old: list[str], new: list[str]) -> str:
    """What differs between the snapshot ``old`` and the live API ``new``, for people; "" when nothing does."""
    key = lambda line: line.split("(", 1)[0].split("  ", 1)[0]   # noqa: E731 (the name a line is about)
    old_by, new_by = {key(x): x for x in old}, {key(x): x for x in new}
    removed = [old_by[k] for k in sorted(old_by.keys() - new_by.keys())]
    added = [new_by[k] for k in sorted(new_by.keys() - old_by.keys())]
    changed = [(old_by[k], new_by[k]) for k in sorted(old_by.keys() & new_by.keys()) if old_by[k] != new_by[k]]
    if not (removed or added or changed):
        return ""
    out = ["The public API differs from its snapshot, tests/public_api.txt:"]
    out += [f"  removed: {x}" for x in removed]
    out += [f"  added:   {x}" for x in added]
    for before, after in changed:
        out += [f"  changed: {before}", f"      now: {after}"]
    out += ["A removed or renamed name breaks users' code: keep it as a deprecated alias that warns (CHANGELOG.md).",
            f"If the change is deliberate, update the snapshot with `{UPDATE_COMMAND}` (or UPDATE_PUBLIC_API=1 "
            "pytest tests/test_public_api.py) and note it in CHANGELOG.md under ## Unreleased."]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    lines = describe()
    if argv == ["--print"]:
        sys.stdout.write("".join(f"{line}\n" for line in lines))
        return 0
    if argv:
        print(f"usage: {UPDATE_COMMAND} [--print]", file=sys.stderr)
        return 2
    report = changes(read_snapshot(), lines) if SNAPSHOT.exists() else ""
    write_snapshot(lines)
    print(report.split("\nA removed")[0] if report else "The snapshot was up to date." if SNAPSHOT.exists() else "")
    print(f"wrote {SNAPSHOT} ({len(lines)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
