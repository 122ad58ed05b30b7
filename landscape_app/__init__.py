"""landscape-app: watch a PyTorch optimizer walk across the exact loss surface of a small model."""
from .core import (ConfigError, DataError, DataSource, Experiment, ExportError, Grid, LandscapeDataset,
                   LandscapeError, Session, dataset_from_arrays, dataset_from_csv, make_dataset)
from .core import LossSurface, Step, Trajectory, run, train
from .core import Surface, compute_surface, loss_at

__version__ = "0.1.0"
