"""The code files the user trusted in the app (*Trust and run*), remembered by content so an unchanged file is not
asked about again and a changed one is.

A small TOML file in the user's config folder (platformdirs' ``user_config_dir("landscape-app")``, or the folder
``LANDSCAPE_APP_CONFIG_DIR`` names: tests point it into a temporary folder so they never touch the real one)::

    [files]
    "/home/me/lessons/lesson.py" = "9f86d081884c7d65..."    # SHA-256 of the content trusted

No Qt here: the dialog (``trust_dialog``) asks, this module remembers.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_ENV = "LANDSCAPE_APP_CONFIG_DIR"
FILE_NAME = "trusted-code.toml"
HEADER = ("# Code files trusted in landscape-app (Trust and run): path = SHA-256 of the content trusted.\n"
          "# A file whose content changed is asked about again; delete its line to be asked again anyway.\n")


def config_dir() -> Path:
    """The user's config folder for landscape-app (``LANDSCAPE_APP_CONFIG_DIR`` when set)."""
    given = os.environ.get(CONFIG_ENV)
    if given:
        return Path(given)
    import platformdirs
    return Path(platformdirs.user_config_dir("landscape-app", appauthor=False))


def store_path() -> Path:
    return config_dir() / FILE_NAME


def _key(path) -> str:
    return os.path.abspath(path)


def trusted() -> dict[str, str]:
    """path -> SHA-256 of every file trusted; an unreadable or damaged store trusts nothing (the app asks)."""
    try:
        table = tomllib.loads(store_path().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    files = table.get("files", {})
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items() if isinstance(v, str)}


def is_trusted(path, sha256: str | None) -> bool:
    """Whether ``path`` was trusted with exactly this content."""
    return sha256 is not None and trusted().get(_key(path)) == sha256


def remember(hashes: Mapping[object, str]) -> None:
    """Trust each path with its content's SHA-256 from now on (written through a temporary file)."""
    import tomli_w
    from ..core.files import write_text_atomic
    files = trusted()
    files.update({_key(path): sha for path, sha in hashes.items() if sha})
    path = store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, HEADER + tomli_w.dumps({"files": dict(sorted(files.items()))}))


__all__ = ["CONFIG_ENV", "config_dir", "store_path", "trusted", "is_trusted", "remember"]
