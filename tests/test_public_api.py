"""The public API holds still: every public name, signature and command-line option matches tests/public_api.txt.

A name removed, added or changed fails here, saying what changed. A deliberate change updates the snapshot with
``python -m tests.update_public_api`` (or ``UPDATE_PUBLIC_API=1 pytest tests/test_public_api.py``) and goes in
CHANGELOG.md; a removed or renamed name stays as a deprecated alias instead.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from update_public_api import SNAPSHOT, UPDATE_COMMAND, changes, read_snapshot, stable_repr, write_snapshot

ROOT = Path(__file__).resolve().parents[1]


def _live_api(hash_seed: str) -> list[str]:
    """The live API, described by the update command itself in a fresh interpreter (no other test's imports)."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-m", "tests.update_public_api", "--print"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_the_public_api_matches_its_snapshot():
    live = _live_api("1")
    if os.environ.get("UPDATE_PUBLIC_API") == "1":
        write_snapshot(live)
    report = changes(read_snapshot(), live)
    assert not report, report


def test_the_description_is_the_same_whatever_the_hash_seed_and_names_no_machine():
    """Set order, memory addresses and this checkout's or this user's folders would differ elsewhere."""
    first, second = _live_api("2"), _live_api("3")
    assert first == second
    text = "\n".join(first)
    assert " at 0x" not in text and "object at" not in text
    for place in {str(ROOT), str(Path.home()), os.getcwd()}:
        assert place not in text
    assert "PosixPath" not in text and "WindowsPath" not in text


def test_the_snapshot_is_sorted_and_names_each_name_once():
    lines = read_snapshot()
    assert lines == sorted(lines) and len(lines) > 300
    names = [line.split("(", 1)[0].split("  ", 1)[0] for line in lines]
    assert len(names) == len(set(names))
    assert SNAPSHOT.read_text(encoding="utf-8").startswith("# The public API")


def test_the_restored_aliases_are_held_and_marked_deprecated():
    lines = read_snapshot()
    for name in ("Experiment.save", "Experiment.load", "Experiment.to_dict", "Experiment.from_dict", "Session.save",
                 "Session.load", "Session.to_dict", "Session.from_dict", "Surface.x", "Surface.y", "covering_span"):
        held = [line for line in lines if line.startswith(f"landscape_app.{name}")
                and line[len(f"landscape_app.{name}")] in " ("]
        assert len(held) == 1 and held[0].endswith("[deprecated]"), (name, held)


def test_a_removed_added_or_changed_name_is_named_with_the_way_to_update():
    old = ["landscape_app.Experiment.load  classmethod(path)", "landscape_app.run(exp, stop=None)  function",
           "landscape_app.save(value, path)  function"]
    assert changes(old, old) == ""
    removed = changes(old, old[1:])
    assert "removed: landscape_app.Experiment.load  classmethod(path)" in removed
    assert UPDATE_COMMAND in removed and "CHANGELOG.md" in removed and "deprecated alias" in removed
    added = changes(old, [*old, "landscape_app.trust(path)  function"])
    assert "added:   landscape_app.trust(path)  function" in added and "removed:" not in added
    changed = changes(old, [old[0], "landscape_app.run(exp, stop=None, run_id=0)  function", old[2]])
    assert "changed: landscape_app.run(exp, stop=None)  function" in changed
    assert "now: landscape_app.run(exp, stop=None, run_id=0)  function" in changed
    assert "added:" not in changed and "removed:" not in changed


def test_the_update_command_writes_what_the_test_reads(tmp_path):
    lines = ["landscape_app.b  int = 2", "landscape_app.a(x)  function"]
    write_snapshot(lines, tmp_path / "api.txt")
    assert read_snapshot(tmp_path / "api.txt") == lines
    assert read_snapshot(tmp_path / "none.txt") == []


class _Thing:
    pass


@pytest.mark.parametrize("value, text", [
    (frozenset({"b", "a", "c"}), "frozenset({'a', 'b', 'c'})"),
    ({"b": 1, "a": (2,)}, "{'a': (2,), 'b': 1}"),
    (Path("/tmp/x"), "Path('/tmp/x')"),
    (_Thing(), "<_Thing>"),
    (_Thing, "<class _Thing>"),
    (len, "<function len>"),
    (float("nan"), "nan"),
    ((1, "a", None), "(1, 'a', None)"),
])
def test_values_are_written_without_addresses_or_platform_classes(value, text):
    assert stable_repr(value) == text
