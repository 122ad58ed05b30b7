"""Ready experiments for lectures: Session TOML files under ``assets/presets/``, each with a title and a line.

The folder is found relative to the package: ``landscape_app/presets``, the files themselves in an installed
wheel and a link to ``assets/presets`` in a checkout, else ``assets/presets`` itself (a checkout made where links
are not, as git on Windows by default).
"""
from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .errors import ConfigError, DataError

DEFAULT_PRESET = "course-linear-regression"


@dataclass(frozen=True)
class Preset:
    name: str            # the file's stem, used on the command line: --preset NAME
    title: str
    description: str
    path: Path


def presets_dir() -> Path:
    """The folder that holds the preset files."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "presets", package.parent / "assets" / "presets"):
        if candidate.is_dir() and any(candidate.glob("*.toml")):
            return candidate
    return package.parent / "assets" / "presets"


def _order(path: Path) -> tuple:
    # The course's own example first, then alphabetical: the menu reads like a lecture plan.
    return (path.stem != DEFAULT_PRESET, path.stem)


def list_presets() -> list[Preset]:
    """Every preset, with its title and one-line description (read without building the experiments)."""
    out = []
    for path in sorted(presets_dir().glob("*.toml"), key=_order):
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            table = {}
        out.append(Preset(path.stem, str(table.get("title", path.stem)), str(table.get("description", "")), path))
    return out


def preset_path(name: str) -> Path:
    """The file of preset ``name``; ``ConfigError`` lists the known names when there is none, and suggests the
    closest one to a typo ("mlp-moon": did you mean 'mlp-moons'?)."""
    known = {p.name: p.path for p in list_presets()}
    if name in known:          # only a preset's own name: "../x" is no way to another file
        return known[name]
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    names = ", ".join(known) or "none found"
    raise ConfigError("--preset", f"no preset named {name!r}{hint}; the presets are: {names}")


def load_preset(name: str):
    """The preset's Session (validated)."""
    path = preset_path(name)
    from .tomlio import load_session  # imports torch: only once the name is known to be good
    # Shipped with the package, as its own code is: trusted (a preset that names a model file runs it).
    return load_session(path, trust=True)


def default_session():
    """What the app opens with: the course's linear regression, or the default experiment without presets."""
    from .experiment import Experiment
    from .session import Session
    try:
        return load_preset(DEFAULT_PRESET)
    except (ConfigError, DataError):
        return Session((Experiment(),))
