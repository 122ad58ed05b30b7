"""The views: drawing only, shared by the main window and the exporter (see ``base.View``).

Import this package before creating the QApplication: it switches on OpenGL context sharing, which the 3-D
views need (see ``gl.py``). ``pyqtgraph.opengl`` itself is imported only when a 3-D view is built.
"""
from .base import RUN_COLORS, RunStyle, View
from .contour import ContourView
from .data_view import DataView
from .decision_view import DecisionView
from .digits_view import DigitsView
from .gl import gl_available
from .loss_curve import LossView
from .surface3d import SurfaceView

__all__ = ["View", "RunStyle", "RUN_COLORS", "ContourView", "LossView", "DataView", "DecisionView", "DigitsView",
           "SurfaceView", "gl_available"]
