"""Every network preset shows its runs travelling on the surface (read from the exporter's NPZ, as a user would
measure it): each run's projected path spans at least 15% of the view on one axis, and at each run's end the
surface under its projection is within 15% of the surface's range of the run's true loss."""
import numpy as np
import pytest

from landscape_app import commands
from landscape_app.core.presets import list_presets, load_preset
from landscape_app.export.data import load_surface

SPAN, END = 0.15, 0.15

NETWORK_PRESETS = [p.name for p in list_presets() if load_preset(p.name).experiment.is_module]


def test_the_network_presets_are_the_ones_named_in_the_readme():
    assert {"mlp-moons", "cnn-digits", "sharp-vs-flat", "batchnorm", "filter-normalisation",
            "pca-trajectory"} <= set(NETWORK_PRESETS)


def _runs(npz):
    with np.load(npz, allow_pickle=False) as d:
        data = {k: d[k] for k in d.files}
    for run in np.unique(data["path_run"]):
        mine = data["path_run"] == run
        yield run, {k[5:]: data[k][mine] for k in data if k.startswith("path_")}, data


@pytest.mark.parametrize("name", NETWORK_PRESETS)
def test_each_run_travels_to_where_its_loss_is(name, tmp_path, capsys):
    out = tmp_path / f"{name}.npz"
    assert commands.main(["export", "--preset", name, "-o", str(out)]) == 0
    capsys.readouterr()
    _, surface = load_surface(out)
    assert surface.plane is not None
    seen = 0
    for run, path, data in _runs(out):
        alpha, beta, loss = data["alpha"], data["beta"], data["loss"]
        width, height = np.ptp(alpha), np.ptp(beta)
        span = max(np.ptp(path["alpha"]) / width, np.ptp(path["beta"]) / height)
        assert span >= SPAN, f"{name}, run {run}: its path spans {span:.0%} of the view"
        surface_loss = path["surface"][-1]
        off = abs(surface_loss - path["loss"][-1]) / np.ptp(loss[np.isfinite(loss)])
        assert off <= END, (f"{name}, run {run}: the surface under its end reads {surface_loss:.3g} where its "
                            f"loss is {path['loss'][-1]:.3g} ({off:.0%} of the surface's range)")
        seen += 1
    assert seen == len(load_preset(name).runs)
