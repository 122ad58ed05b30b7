"""The views: drawing only, shared by the main window and the exporter (see ``base.View``)."""
from .base import RUN_COLORS, RunStyle, View
from .contour import ContourView
from .loss_curve import LossView

__all__ = ["View", "RunStyle", "RUN_COLORS", "ContourView", "LossView"]
