"""What a benchmark that opens the window sets up before Qt and torch load, as the app's entry point does."""
import os


def prepare() -> None:
    """Offscreen Qt without a display; torch's idle OpenMP threads asleep (older versions of the app had no
    ``passive_openmp``: those run as they were)."""
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from landscape_app.gui.app import passive_openmp
    except ImportError:
        return
    passive_openmp()
