"""The Qt-free core: datasets, experiments, exact loss surfaces and the training loop.

Names load on first use (PEP 562), so ``import landscape_app.core.errors`` (the CLI's refusals) does not pay
for importing torch.
"""
import importlib

_EXPORTS = {
    "data": ("DataSource", "LandscapeDataset", "dataset_from_arrays", "dataset_from_csv", "make_dataset"),
    "errors": ("ComputeError", "ConfigError", "DataError", "ExportError", "LandscapeError", "UntrustedCodeError",
               "WriteError"),
    "experiment": ("Experiment", "Grid"),
    "modelspec": ("UserCodeError",),
    "plane": ("Plane",),
    "plane_build": ("build_plane",),
    "plane_settings": ("PlaneSettings",),
    "interpolation": ("Interpolation", "interpolate"),
    "projection": ("ProjectedPath", "project_path"),
    "session": ("Session",),
    "surface": ("Surface", "loss_at"),
    "surface_api": ("compute_surface",),
    "surface_h5": ("load_surface", "save_surface"),
    "tomlio": ("load_experiment", "load_session", "save"),
    "training": ("Outcome", "Training", "run", "train"),
    "trajectory": ("Step", "Trajectory", "TrajectoryBuilder"),
}
# The first release's names that were renamed: they work and warn (CHANGELOG.md), but are not offered (__all__, dir).
DEPRECATED = {"covering_span": "projection"}
# tomlio attaches Experiment's and Session's deprecated TOML methods (Experiment.load, ...): it loads with them.
_WITH = {"experiment": "tomlio", "session": "tomlio"}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name):
    module = _WHERE.get(name) or DEPRECATED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    if module in _WITH:
        importlib.import_module(f".{_WITH[module]}", __name__)
    globals()[name] = value
    return value


def __dir__():
    return __all__
