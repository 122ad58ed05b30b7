"""The training's own bookkeeping and its thread count.

After every update the full-data loss is the point evaluator's value (``module_losses``) bit for bit, without its
set-up on every call; each run trains at the torch thread count its experiment records (chosen from the model's
size unless given), the caller's count stays its own, and a saved session replays at the recorded count.
"""
import numpy as np
import pytest
import torch
from torch import nn

import landscape_app as la
from landscape_app.core import module_points, surface_parallel
from landscape_app.core.errors import ConfigError
from landscape_app.core.surface_parallel import torch_threads

MOONS = la.make_dataset("moons", n_samples=120, noise=0.2, seed=1)
DIGITS = la.make_dataset("digits", n_samples=150, seed=2)

NETWORKS = {
    "mlp, BatchNorm and dropout, bce-logits": dict(
        data=MOONS, model="mlp", model_options={"hidden": (12, 8), "activation": "relu", "batchnorm": True,
                                                "dropout": 0.3}, optimizer_options={"momentum": 0.9}),
    "mlp, mse": dict(data=MOONS, model="mlp", criterion="mse", model_options={"hidden": (8,)}),
    "cnn with BatchNorm, cross-entropy": dict(data=DIGITS, model="cnn",
                                              model_options={"channels": (3, 4), "batchnorm": True}),
    "softmax, cross-entropy": dict(data=DIGITS, model="softmax"),
}


@pytest.mark.parametrize("name", NETWORKS)
def test_the_full_data_loss_is_the_evaluators_value_bit_for_bit(name):
    exp = la.Experiment(**NETWORKS[name], lr=0.1, batch_size=25, shuffle=True, epochs=2, seed=4)
    steps = list(la.train(exp))
    assert len(steps) == 1 + exp.epochs * exp.steps_per_epoch
    for step in steps:
        # In eval mode (dropout off, BatchNorm's running statistics), in float64, as the surface is drawn.
        assert step.loss == module_points.module_losses(exp, step.params, buffers=step.buffers)[0]
    assert steps[-1].loss < steps[0].loss


def test_the_loop_keeps_its_own_evaluator_instead_of_setting_one_up_per_step(monkeypatch):
    exp = la.Experiment(**NETWORKS["mlp, mse"], lr=0.1, batch_size=30, epochs=1)
    expected = [module_points.module_losses(exp, s.params)[0] for s in la.train(exp)]

    def general(*args, **kwargs):
        raise AssertionError("the general point evaluator ran inside the training loop")
    monkeypatch.setattr(module_points, "module_losses", general)
    assert [s.loss for s in la.train(exp)] == expected


def test_a_small_model_trains_on_one_thread_and_a_large_step_on_the_process_default(monkeypatch):
    monkeypatch.setattr(surface_parallel, "DEFAULT_THREADS", 3)
    small = la.Experiment(**NETWORKS["mlp, mse"], batch_size=32)
    assert small.threads == 1
    many = la.make_dataset("moons", n_samples=2000, seed=0)
    large = la.Experiment(data=many, model="mlp", model_options={"hidden": (512, 512)})    # 265k weights x 2000
    assert large.param_count * len(many) >= surface_parallel.SERIAL_TRAINING_WORK
    assert large.threads == 3
    assert large.replace(batch_size=8).threads == 1            # chosen again for the new settings
    given = large.replace(threads=2)
    assert given.replace(batch_size=8).threads == 2            # a count given stays
    assert la.Experiment(threads=4).threads == 4               # the closed-form models too


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2", 10_000])
def test_a_bad_thread_count_is_refused(threads):
    with pytest.raises(ConfigError, match="threads: must be a whole number from 1 to 256"):
        la.Experiment(data=MOONS, model="mlp", threads=threads)


SEEN = []


class Probe(nn.Module):
    """A network that notes the thread count it trains at (its training-mode forward passes)."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def forward(self, x):
        if self.training:
            SEEN.append(torch.get_num_threads())
        return self.layer(x)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_run_trains_at_its_count_and_the_caller_keeps_its_own(threads):
    exp = la.Experiment(data=MOONS, model=Probe(), lr=0.1, batch_size=40, epochs=2, threads=threads)
    SEEN.clear()
    with torch_threads(3):
        for _ in la.train(exp):
            assert torch.get_num_threads() == 3      # between steps the caller's count, not the run's
        la.run(exp)
        assert torch.get_num_threads() == 3
    assert SEEN == [threads] * (2 * 2 * exp.steps_per_epoch)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_saved_session_replays_at_its_thread_count_bit_for_bit(tmp_path, threads):
    exp = la.Experiment(**NETWORKS["mlp, BatchNorm and dropout, bce-logits"], lr=0.1, batch_size=25, shuffle=True,
                        epochs=2, seed=4, threads=threads)
    la.save(la.Session((exp, exp.replace(optimizer="adam", lr=0.01))), tmp_path / "s.toml")
    text = (tmp_path / "s.toml").read_text()
    assert text.count(f"threads = {threads}") == 3             # the [experiment] and each of the two [[runs]]
    back = la.load_session(tmp_path / "s.toml")
    assert [r.threads for r in back.runs] == [threads, threads]
    with torch_threads(2 if threads == 1 else 1):              # whatever the caller's count
        again = la.run(back.runs[0])
    assert again.equals(la.run(exp))


def test_a_session_without_threads_chooses_and_saving_writes_the_choice(tmp_path):
    from landscape_app.core.presets import load_preset
    session = load_preset("mlp-moons")
    assert [r.threads for r in session.runs] == [1, 1]         # two small MLPs: one thread each
    la.save(session, tmp_path / "s.toml")
    assert "threads = 1" in (tmp_path / "s.toml").read_text()
    table = (tmp_path / "s.toml").read_text().replace("threads = 1", 'threads = "auto"')
    (tmp_path / "auto.toml").write_text(table)
    assert [r.threads for r in la.load_session(tmp_path / "auto.toml").runs] == [1, 1]
