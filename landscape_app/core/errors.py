"""Typed errors for a user's mistakes: the GUI shows them in a dialog, the CLI prints one line and exits 2."""


class LandscapeError(Exception):
    """Base of every error caused by the user's input rather than by a bug."""


class ConfigError(LandscapeError, ValueError):
    """An experiment field is invalid; the message names the field and what is allowed."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class DataError(LandscapeError, ValueError):
    """A dataset is unusable; the message names the problem and where (file, line, column)."""


class ExportError(LandscapeError):
    """An export cannot be made as asked (bad path, format, view, size, or no OpenGL)."""


class WriteError(ExportError, OSError):
    """A file could not be written (a full disk, the file-size limit, a folder that refuses it, a folder in the
    file's place). The message is one line naming the target and the reason; ``path`` is the target, ``errno`` and
    ``strerror`` are the system's. Nothing is left half-written: the target stays as it was and the temporary file
    is removed. An ``OSError`` too, so code that catches those keeps working."""

    def __init__(self, path, reason: str, errno: int | None = None):
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
        self.errno = errno
        self.strerror = reason
        self.filename = str(path)

    def __str__(self) -> str:
        return str(self.args[0])        # the one line above, not OSError's "[Errno N] reason: file"


class ComputeError(LandscapeError):
    """A part of a computation failed where it ran (a block of a surface on a worker); the message names the part
    and the cause. What was finished before it is kept (a surface store keeps its blocks)."""


class UntrustedCodeError(LandscapeError):
    """A file names code that loading it would run (its session's model file), and the caller did not trust it.

    Raised before any of that code runs. ``files``: the code files (``core.codefiles.CodeFile``: the path, what it
    is, whether it lies outside the file's folder, its SHA-256); ``source``: the file that names them (None: a
    session given as a table). The message is one line: which code, named by which file, and how to trust it.
    """

    def __init__(self, message: str, files=(), source=None):
        super().__init__(message)
        self.files = tuple(files)
        self.source = source
