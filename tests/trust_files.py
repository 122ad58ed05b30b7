"""What the trust tests share: a model file that leaves a marker when its code runs, and files naming it (a session
TOML, surface files carrying that session, runs files)."""
from pathlib import Path

import landscape_app as la
from landscape_app.core.session import Session

MODEL = """
from pathlib import Path
Path({marker!r}).write_text("ran")      # what any code could do once imported
import torch.nn as nn

def make(width=3):
    return nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, 1))
"""


def write_model(folder: Path, marker: Path, name: str = "lesson.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(MODEL.format(marker=str(marker)))
    return path


def session_naming(model: Path, epochs: int = 2) -> Session:
    """A small network's session on ``model``'s ``make`` (building it runs the file: the marker is written)."""
    exp = la.Experiment(data=la.make_dataset("moons", n_samples=24, noise=0.2), model=f"{model}:make", lr=0.1,
                        epochs=epochs, grid=la.Grid(resolution=(5, 5)))
    return Session((exp,), title="Lesson")


def write_session(path: Path, model: Path) -> Path:
    la.save(session_naming(model), path)
    return path


def write_surface_files(folder: Path, model: Path, suffixes=(".npz", ".h5", ".csv")) -> dict[str, Path]:
    """Our surface files, each carrying a session that names ``model``."""
    from landscape_app.export.data import save_surface
    session = session_naming(model)
    exp = session.experiment
    surface = la.compute_surface(exp, plane=la.Plane.random(exp), resolution=(4, 3))
    out = {}
    for suffix in suffixes:
        out[suffix] = folder / f"surface{suffix}"
        save_surface(out[suffix], session, surface)
    return out


def write_runs_files(folder: Path, model: Path) -> dict[str, Path]:
    from landscape_app.export.data import save_runs
    session = session_naming(model, epochs=1)
    trajectories = [la.run(exp) for exp in session.runs]
    out = {}
    for suffix in (".csv", ".json"):
        out[suffix] = folder / f"runs{suffix}"
        save_runs(out[suffix], session, trajectories)
    return out
