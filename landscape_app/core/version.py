"""The version of landscape-app: ``la.__version__`` and ``landscape-app --version``."""
from __future__ import annotations

import sys
from pathlib import Path

DISTRIBUTION = "landscape-app"


def package_version() -> str:
    """The installed distribution's version (its metadata); in a source tree that was never installed, its
    pyproject.toml's (else "0+unknown")."""
    # Imported here: importlib.metadata took ~0.1 s on a busy machine, which most commands never need.
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        pass
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
        project = tomllib.loads(text).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "0+unknown"
    return str(project["version"]) if project.get("name") == DISTRIBUTION and "version" in project else "0+unknown"
