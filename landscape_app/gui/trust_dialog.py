"""Asking once before a file's code runs: a session (or a surface file's session) that names a model file is
opened only after the user trusts that file, or already did with its content unchanged (``trusted_files``).

The dialog shows each code file's path, whether it lies outside the opened file's folder, and its SHA-256, with
*Trust and run* and *Cancel* (the default: Enter does not run code).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from ..core.errors import UntrustedCodeError
from . import trusted_files

TRUST_TEXT = "Trust and run"


class TrustDialog(QDialog):
    """Shows the code files ``error`` names (path, outside the folder or not, SHA-256); ``hashes``: what was shown,
    so that what is remembered is the content the user saw."""

    def __init__(self, error: UntrustedCodeError, files, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Run this file's code?")
        source = error.source
        name = Path(source).name if source is not None else "This session"
        self.hashes = {f.path: f.sha256() for f in files}
        layout = QVBoxLayout(self)
        intro = QLabel(f"<b>{_html(name)}</b> names Python code that opening it runs, with your permissions, as "
                       "running a script would. Open it only if you trust that code.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.file_labels: list[QLabel] = []
        for f in files:
            where = (f"<br><b>Outside the folder of {_html(name)}</b> (the session writes "
                     f"<code>{_html(f.written)}</code>)") if f.outside else ""
            label = QLabel(f"The {f.role} file:<br><code>{_html(str(f.path))}</code>{where}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            digest = QLabel(f"SHA-256 {self.hashes[f.path] or '(cannot be read)'}")
            digest.setFont(mono)
            # The whole digest on one line, to compare and copy (the wrapped text above would narrow it).
            digest.setMinimumWidth(digest.fontMetrics().horizontalAdvance(digest.text()) + 8)
            digest.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(label)
            layout.addWidget(digest)
            self.file_labels += [label, digest]
        buttons = QDialogButtonBox()
        self.trust_button = buttons.addButton(TRUST_TEXT, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.trust_button.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def confirm_trust(error: UntrustedCodeError, parent: QWidget | None = None, ask: bool = True) -> bool:
    """Whether the code ``error`` names may run: every file trusted before with its content unchanged, or (``ask``)
    the user chose *Trust and run* in the dialog, which is then remembered. Cancel: False, nothing remembered."""
    pending = [f for f in error.files if not trusted_files.is_trusted(f.path, f.sha256())]
    if not pending:
        return True
    if not ask:
        return False
    dialog = TrustDialog(error, pending, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted.value:
            return False
        try:
            trusted_files.remember(dialog.hashes)
        except OSError:
            pass        # a config folder that cannot be written: trusted for this opening, asked again next time
        return True
    finally:
        dialog.deleteLater()


__all__ = ["TrustDialog", "confirm_trust", "TRUST_TEXT"]
