"""The Qt-free core: datasets, experiments, exact loss surfaces and the training loop."""
from .data import DataSource, LandscapeDataset, dataset_from_arrays, dataset_from_csv, make_dataset
from .errors import ConfigError, DataError, ExportError, LandscapeError
from .experiment import Experiment, Grid
from .helper import LossSurface
from .session import Session
from .surface import Surface, compute_surface, loss_at
from .training import Outcome, Training, run, train
from .trajectory import Step, Trajectory, TrajectoryBuilder
