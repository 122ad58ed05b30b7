"""What the import contracts (tests/test_layers.py) do not say: the runs' palette is defined once."""
import inspect
from pathlib import Path

import landscape_app


def test_the_palette_is_defined_once():
    root = Path(inspect.getfile(landscape_app)).parent
    defining = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
                if "RUN_COLORS = (" in p.read_text(encoding="utf-8")]
    assert defining == ["core/palette.py"]
