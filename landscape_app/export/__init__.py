"""Exporting what the app shows: animations (MP4, WebM, GIF, PNG frames), stills (PNG, SVG) and data files.

The public API, for the window's export dialog and for scripts::

    from landscape_app.export import export_animation
    export_animation("session.toml", "race.mp4", views="contour,loss", size=(1280, 720))

Names are imported on first use, so the headless commands validate their arguments before loading torch or Qt
(``save_picture`` saves a view or the whole window as PNG/SVG).
"""
import importlib

# Every name loads on first use (PEP 562): the headless commands refuse a mistake before importing torch or Qt.
_LAZY = {
    **dict.fromkeys(("load_runs", "load_surface", "save_runs", "save_surface"), ".data"),
    **dict.fromkeys(("ExportResult", "export_animation", "export_steps", "result_of"), ".job"),
    **dict.fromkeys(("ANIMATIONS", "KINDS", "STILLS", "VIEWS", "ExportPlan", "check_frame_count", "make_plan"),
                    ".plan"),
    **dict.fromkeys(("ExportCancelled", "ExportScene", "max_points", "prepare_scene", "train_steps"), ".scene"),
    "FrameRenderer": ".frames", "preview_image": ".frames", "SlicedJob": ".qt_job", "tagged": ".qt_job",
    "configure_scene": ".scene_plane", "save_picture": ".picture",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["export_animation", "export_steps", "ExportResult", "result_of", "make_plan", "ExportPlan",
           "check_frame_count", "VIEWS", "KINDS", "ANIMATIONS", "STILLS", "prepare_scene", "ExportScene",
           "ExportCancelled", "train_steps", "max_points", "save_runs", "load_runs", "save_surface", "load_surface",
           *_LAZY]
