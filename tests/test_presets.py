"""The presets teach what they say: every run's loss is the loss the surface draws, at the same parameters."""
import numpy as np
import pytest

from landscape_app.core.models import loss_unit
from landscape_app.core.presets import list_presets, load_preset
from landscape_app.core.training import run


@pytest.mark.parametrize("name", [p.name for p in list_presets()])
def test_a_full_batch_run_trains_on_the_loss_the_surface_draws(name):
    """A full batch's loss at step i was taken at step i-1's parameters: it must equal the surface's loss
    there (up to float32), or the loss view's two curves and the status bar disagree for no visible reason.
    (The logistic preset once trained on BCELoss of a float32 sigmoid, which saturates and clamps: 36.7 where
    the surface said 12.9.)"""
    session = load_preset(name)
    for exp in session.runs:
        if exp.batch_size not in (None, len(exp.data)):      # None: the full batch
            continue
        t = run(exp.replace(epochs=min(exp.epochs, 30)))
        k = np.isfinite(t.loss[:-1]) & np.isfinite(t.batch_loss[1:]) & (t.loss[:-1] < 1e6)
        np.testing.assert_allclose(t.batch_loss[1:][k], t.loss[:-1][k], rtol=1e-4, atol=1e-6)


def test_loss_units_name_bce_once():
    assert loss_unit("bce-logits") == loss_unit("bce") == "BCE" and loss_unit("mse") == "MSE"
    assert loss_unit("") == ""


def test_only_a_presets_own_name_opens_it():
    """A name is a preset's, never a path: "../presets/mlp-moons" reached the file before."""
    import pytest as _pytest
    from landscape_app.core.errors import ConfigError
    from landscape_app.core.presets import preset_path
    assert preset_path("mlp-moons").name == "mlp-moons.toml"
    for name in ("../presets/mlp-moons", "../../assets/presets/mlp-moons", "mlp-moons.toml"):
        with _pytest.raises(ConfigError, match="no preset named"):
            preset_path(name)
    with _pytest.raises(ConfigError, match=r"did you mean 'adam-vs-sgd'\?"):
        preset_path("adam-vs-sdg")
