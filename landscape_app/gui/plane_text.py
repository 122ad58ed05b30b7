"""A network's plane in words, for the line above the views: which plane, and what the app is doing to get it.

A PCA plane or a plane through runs' ends needs finished runs: the runs are trained to their end, the plane is
fitted, and the race replays on it. The line says which of these is happening (``phase``), first, so that an
elided line still says it; then which plane the surface lies on.
"""
from __future__ import annotations

from ..core.plane_settings import PlaneSettings

# What the controller is doing for a plane fitted to finished runs.
TRAINING, FITTING, REPLAYING, FITTED, NEEDS_RUNS, FAILED = ("training", "fitting", "replaying", "fitted",
                                                            "needs runs", "failed")
WAITING = "waiting"         # to train, paused: Play starts it


def _percent(plane) -> str:
    ratios = plane.info.get("explained_variance_ratio", ())
    return ", ".join(f"PCA {i + 1} {r:.0%}" for i, r in enumerate(ratios[:2]))


def _eigen(plane) -> str:
    values = plane.info.get("eigenvalues", ())
    return ", ".join(f"λ{i + 1}={v:.3g}" for i, v in enumerate(values[:2]))


def random_words(settings: PlaneSettings) -> str:
    norm = {"filter": "filter-normalised", "layer": "layer-normalised", "none": "not normalised"}
    return f"a random plane through the start ({norm[settings.normalization]}, seed {settings.seed})"


def plane_words(settings: PlaneSettings, plane) -> str:
    """Which plane the surface lies on (``plane``: the one shown, or None while it is computed)."""
    shown = plane if plane is not None and plane.kind == settings.kind else None
    if settings.kind == "random":
        return random_words(settings)
    if settings.kind == "hessian":
        where = "the start" if settings.at == "start" else "the shown step"
        if shown is not None and shown.info.get("at", "start") != "start":
            where = shown.info["at"]            # "iteration 120": the step it was computed at
        text = f"the plane of the Hessian's top two eigenvectors at {where}"
        return f"{text} ({_eigen(shown)})" if shown is not None else text
    if settings.kind == "pca":
        text = "the PCA plane of the runs' own paths"
        if shown is None:
            return text
        return f"{text} ({_percent(shown)}: the plane that holds most of their motion)"
    a, b = settings.points
    return f"the plane through the start and the ends of runs {a} and {b}"


def phase_words(settings: PlaneSettings, phase: str, runs: int) -> str:
    """What is being done to get a plane fitted to finished runs (empty: nothing, it is shown)."""
    what = "the PCA plane" if settings.kind == "pca" else "the plane through the start and two runs' ends"
    if phase == NEEDS_RUNS:
        a, b = settings.points
        if runs < 2:
            return "A plane through three points needs two runs: add a run (+ Add run)"
        return f"A plane through three points names runs {a} and {b}; the race has {runs}: choose two of its runs"
    if phase == WAITING:
        return f"Press Play: the runs train to their end, then {what} is fitted to them and the race replays on it"
    if phase == TRAINING:
        return f"Training the runs ahead to fit {what} (seconds): then the race replays on it"
    if phase == FITTING:
        return f"Fitting {what} to the finished runs…"
    if phase == REPLAYING:
        return f"Replaying on {what} of the finished runs"
    if phase == FAILED:
        return f"{what[0].upper()}{what[1:]} could not be fitted (see the status bar)"
    return ""


def scene_words(settings: PlaneSettings, plane, phase: str, runs: int, loss: str) -> str:
    """The whole line for a network: the phase first, then the surface and its plane."""
    phase_text = phase_words(settings, phase, runs) if settings.needs_finished_runs else ""
    waiting = settings.needs_finished_runs and (plane is None or plane.kind != settings.kind)
    where = random_words(settings) + ", meanwhile" if waiting else plane_words(settings, plane)
    text = f"Surface: {loss} on {where}  ·  the paths are projections onto it"
    return f"{phase_text}  ·  {text}" if phase_text else text
