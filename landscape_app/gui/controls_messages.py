"""Messages in the control panel's words: a field is named as the panel labels it, not as the API names it.

The core's errors name fields for the API and TOML (``grid.x_range: is empty``, ``n_samples must be ...``);
the panel shows the same message with the row's label (``w range is empty``, ``samples must be ...``).
"""
from __future__ import annotations

import re

# Messages that read on from the field's name ("epochs must be ...", "w range is empty ...").
_CONTINUES = ("must ", "is ", "has ", "needs ")


def panel_message(field: str, message: str, label: str, data: bool = False) -> str:
    """``message`` about ``field``, with the field named by its panel ``label``.

    ``message`` is a ``ConfigError``'s text after its field (``data=False``) or a ``DataError``'s whole text
    (``data=True``), which names a dataset knob in its own words (``dataset knob 'noise'``, ``n_samples``).
    """
    label = label or field.replace(".", " ").replace("_", " ")
    if data:
        key = field.rpartition(".")[2]
        if field.startswith("data.") and key:
            knob = f"dataset knob {key!r}"
            if knob in message:
                message = message.replace(knob, label)
            else:
                message = re.sub(rf"\b{re.escape(key)}\b", label, message, count=1)
        return message
    joiner = " " if message.startswith(_CONTINUES) else ": "
    return f"{label}{joiner}{message}"
