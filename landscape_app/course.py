"""The course's helper, ``plot_error_surfaces``, as a drop-in: the labs swap the class name and change nothing else::

    get_surface = la.LossSurface(15, 13, X, Y, 30, go=False)    # the course's arguments, in the course's order
    for epoch in range(epochs):
        for x, y in trainloader:
            yhat = model(x)
            loss = criterion(yhat, y)
            get_surface.set_para_loss(model, loss.tolist())      # or set_para_loss(w.data.tolist(), b..., loss)
            ...
        get_surface.plot_ps()       # data space beside the contour: inline in Jupyter, a live window on a desktop
    get_surface.final_plot()        # and the 3-D surface with the path on it; final_plot("path.png") writes a file

The surface is the core's exact one (the correct sign of b) of the loop's own model and loss, recorded by
``core.helper.SurfaceRecorder``. This module sits above the core and the gui: it adds the drawing, and loads Qt
(``gui.helper_show``) only when something is drawn, so a headless script that never draws never imports it.
"""
from __future__ import annotations

import sys
import warnings

from .core.errors import ConfigError
from .core.helper import SurfaceRecorder
from .core.helper_place import output_place

SHOW_CHOICES = ("auto", "inline", "window", "none")


class LossSurface(SurfaceRecorder):
    """The loss surface of a one-input model over a (w, b) grid, the path recorded by ``set_para_loss``, and
    the course's figures of both (``plot_ps``, ``final_plot``).

    The course's parameters, in its order: ``w_range``/``b_range`` (a half-width ``r`` for -r..r, or a pair
    (low, high)), the data ``X``, ``Y``, ``n_samples`` grid points per axis (or a pair), and ``go``: draw the
    surface at once (inline in a notebook, a window on a desktop, nothing in a headless script).

    Keyword-only: ``criterion`` (mse, l1, huber, bce, bce-logits) and ``model`` ("linear" or "logistic") when
    you would rather say than have them inferred; ``criterion_options`` (Huber's delta); ``show``: "auto",
    "inline", "window" or "none".
    """

    def __init__(self, w_range, b_range, X, Y, n_samples=30, go=True, *, criterion: str | None = None,
                 model: str | None = None, criterion_options=None, show: str = "auto"):
        if isinstance(go, str):
            # The first release's sixth argument was the criterion; the course's (and so ours since) is go.
            if criterion is not None:
                raise TypeError("LossSurface() got multiple values for argument 'criterion'")
            warnings.warn(f"LossSurface(..., n_samples, {go!r}) is deprecated; use LossSurface(..., "
                          f"criterion={go!r}) (the sixth argument is go)", DeprecationWarning, stacklevel=2)
            criterion, go = go, False        # the first release drew nothing until asked
        if show not in SHOW_CHOICES:
            raise ConfigError("show", f"must be one of {', '.join(SHOW_CHOICES)}, not {show!r}")
        self.show = show
        self._said_headless = False
        self._figures = {}           # drawing state kept by the gui side, per figure kind
        super().__init__(w_range, b_range, X, Y, n_samples, criterion=criterion, model=model,
                         criterion_options=criterion_options)
        if go:
            self._draw("surface", None, None, quiet=True)

    def plot_ps(self, path=None, *, size=None) -> None:
        """The data space (points, the fitted line or sigmoid, the current mini-batch) beside the contour with
        the path, titled with the iteration: inline in a notebook, in the live window on a desktop (without
        blocking), or into the image file ``path`` (PNG, JPEG, BMP)."""
        self._draw("plot_ps", path, size)

    def final_plot(self, path=None, *, size=None) -> None:
        """``plot_ps``'s panels with the 3-D surface and the path lifted onto it, and the loss per iteration.
        On a desktop the window stays until closed (like ``plt.show()``); in a notebook nothing blocks."""
        self._draw("final_plot", path, size)

    def _draw(self, kind: str, path, size, quiet: bool = False) -> None:
        self._warn_if_unsure()
        place = "file" if path is not None else output_place(self.show)
        if place == "none":
            if not quiet:
                self.say_headless(kind)
            return
        from .gui import helper_show     # Qt loads only when something is drawn
        if path is not None:
            helper_show.save(self, kind, path, size)
        else:
            helper_show.show(self, kind, place, size, quiet=quiet)

    def say_headless(self, call: str) -> None:
        """One line, once: there is no screen to show a figure on (a script on a server, say)."""
        if self._said_headless:
            return
        self._said_headless = True
        print(f"LossSurface.{call}: no display to show the figure on; pass a file name to save it, "
              f"e.g. {call}('surface.png')", file=sys.stderr)


__all__ = ["LossSurface"]
