"""Networks as experiments: built-in specs, a user's file, a given module; their checks, TOML and surfaces."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

import landscape_app as la
from landscape_app.core.errors import ConfigError


def blobs(n=64, classes=2, features=2, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.standard_normal((n, features)) + y[:, None]
    return la.dataset_from_arrays(x, y.astype(float))


def test_mlp_spec_builds_the_described_network_seeded():
    exp = la.Experiment(data=blobs(), model="mlp", model_options={"hidden": [5, 3], "activation": "relu"})
    module = exp.build_module()
    linears = [m for m in module if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(2, 5), (5, 3), (3, 1)]
    assert any(isinstance(m, nn.ReLU) for m in module)
    assert exp.param_count == 2 * 5 + 5 + 5 * 3 + 3 + 3 + 1
    assert exp.criterion == "bce-logits"            # 0/1 labels: the natural loss of one logit
    same = la.Experiment(data=blobs(), model="mlp", model_options={"hidden": [5, 3], "activation": "relu"})
    np.testing.assert_array_equal(exp.start_vector(), same.start_vector())
    other = same.replace(seed=1)
    assert not np.array_equal(exp.start_vector(), other.start_vector())
    # building did not touch the global random state
    state = torch.random.get_rng_state()
    la.Experiment(data=blobs(), model="mlp")
    assert torch.equal(state, torch.random.get_rng_state())


def test_class_labels_get_cross_entropy_and_one_output_per_class():
    exp = la.Experiment(data=blobs(classes=4), model="softmax")
    assert exp.criterion == "cross-entropy"
    assert exp.build_module()[0].out_features == 4
    assert exp.targets().dtype == torch.int64 and exp.targets().shape == (64,)


@pytest.mark.parametrize("kwargs, field, text", [
    (dict(model="softmax", criterion="mse"), "criterion", "compares one output per sample"),
    (dict(model="mlp", model_options={"hidden": [0]}), "model_options.hidden", "whole numbers from 1"),
    (dict(model="mlp", model_options={"width": 3}), "model_options.width", "no such option"),
    (dict(model="mlp", model_options={"activation": "swish"}), "model_options.activation", "must be one of"),
    (dict(model="mlp", model_options={"dropout": 1.0}), "model_options.dropout", "probability"),
    (dict(model="cnn"), "model", "not a square image"),
    (dict(model=nn.Linear(3, 1)), "model", "cannot take the data's input (2 feature(s)"),
    (dict(model="mlp", criterion="bce"), "criterion", "'bce' needs a probability"),
    (dict(model=nn.Linear(2, 1), model_options={"x": 1}), "model_options", "takes no options"),
    (dict(model="mlp", start=[0.0, 1.0]), "start", "must give 1185 values"),
])
def test_mismatches_name_both_sides(kwargs, field, text):
    data = blobs(classes=4) if kwargs.get("model") == "softmax" else blobs()
    with pytest.raises(ConfigError) as err:
        la.Experiment(data=data, **kwargs)
    assert err.value.field == field
    assert text in str(err.value)


def test_a_given_module_is_copied_and_trains_but_cannot_be_saved(tmp_path):
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    exp = la.Experiment(data=blobs(), model=net, epochs=3)
    assert exp.model == "module" and exp.module is not net
    with torch.no_grad():
        net[0].weight.add_(1.0)                      # the user's later edits do not reach the experiment
    assert not np.array_equal(exp.start_vector()[:8], net[0].weight.detach().double().numpy().reshape(-1))
    assert exp.replace(lr=0.5).module is exp.module  # runs of a race share one module
    la.Session(runs=(exp, exp.replace(lr=0.5)))
    path = la.run(exp)
    assert path.outcome == "finished" and len(path) == 4
    with pytest.raises(ConfigError, match="cannot be saved.*file.py:function"):
        la.save(exp, tmp_path / "x.toml")
    assert not (tmp_path / "x.toml").exists()


USER_FILE = '''\
import math
import torch
from torch import nn


def make_model(width=6):
    return nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, 1))


def raises():
    values = []
    return values[3]


class Flat(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)

    def forward(self, x):
        return self.lin(x).reshape(-1)


def flat():
    return Flat()


class Nan(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)

    def forward(self, x):
        return self.lin(x) * math.nan


def nan():
    return Nan()


def not_a_module():
    return 3
'''


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "mynet.py"
    path.write_text(USER_FILE)
    return path


def test_a_users_file_builds_trains_and_round_trips(user_file, tmp_path):
    exp = la.Experiment(data=blobs(), model=f"{user_file}:make_model", model_options={"width": 3}, epochs=2)
    assert exp.param_count == 2 * 3 + 3 + 3 + 1
    assert exp.source_file == user_file.resolve()
    assert la.run(exp).outcome == "finished"
    la.save(exp, tmp_path / "s.toml")
    assert 'model = "mynet.py:make_model"' in (tmp_path / "s.toml").read_text()   # relative to the file
    back = la.load_experiment(tmp_path / "s.toml", trust=True)       # it names code: loading it runs it
    np.testing.assert_array_equal(back.start_vector(), exp.start_vector())


@pytest.mark.parametrize("func, line, text", [
    ("raises", 12, "IndexError: list index out of range"),
    ("flat", 20, "returned shape (64,) for 64 samples"),
    ("nan", 33, "the loss at the start is nan"),
    ("not_a_module", 41, "must return a torch.nn.Module, not int"),
])
def test_a_users_failing_code_is_named_by_file_and_line(user_file, func, line, text):
    with pytest.raises(la.UserCodeError) as err:
        la.Experiment(data=blobs(), model=f"{user_file}:{func}")
    message = str(err.value)
    assert f"{user_file} line {line}" in message
    assert text in message
    assert "\n" not in message


def test_training_a_network_records_its_full_data_loss_and_batchnorm_statistics():
    exp = la.Experiment(data=blobs(n=80), model="mlp", model_options={"hidden": [8], "batchnorm": True},
                        optimizer="adam", lr=0.05, batch_size=16, shuffle=True, epochs=2)
    path = la.run(exp)
    assert len(path) == 11
    assert set(path.buffers) >= {"1.running_mean", "1.running_var"}
    assert not np.allclose(path.buffers["1.running_mean"], 0)
    module = exp.build_module()
    torch.nn.utils.vector_to_parameters(torch.tensor(path.params[-1], dtype=torch.float32), module.parameters())
    module.load_state_dict({**module.state_dict(), **{k: torch.tensor(v, dtype=torch.float32)
                                                     for k, v in path.buffers.items()}})
    module.eval()
    with torch.no_grad():
        ref = nn.functional.binary_cross_entropy_with_logits(module(exp.data.x), exp.data.y)
    assert path.loss[-1] == pytest.approx(float(ref), rel=1e-5)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([("linear", "mse"), ("linear", "huber"), ("linear", "l1"), ("logistic", "bce"),
                        ("logistic", "bce-logits"), ("plane", "mse"), ("plane", "bce-logits")]),
       st.integers(0, 2**31), st.integers(2, 5))
def test_the_linear_family_on_any_plane_equals_torch_at_each_point(pairing, seed, n):
    """The affine fast path: a linear model's slice along any plane is still affine in the inputs."""
    model, criterion = pairing
    rng = np.random.default_rng(seed)
    features = 2 if model == "plane" else 1
    x = rng.standard_normal((40, features))
    y = (rng.random(40) < 0.5).astype(float) if criterion.startswith("bce") else x.sum(1) + rng.normal(size=40)
    exp = la.Experiment(data=la.dataset_from_arrays(x, y), model=model, criterion=criterion)
    k = exp.param_count
    plane = la.Plane(rng.normal(size=k), rng.normal(size=k), rng.normal(size=k))
    alpha, beta = np.sort(rng.uniform(-3, 3, n)), np.sort(rng.uniform(-3, 3, n + 1))
    surface = la.compute_surface(exp, plane=plane, alpha=alpha, beta=beta)
    assert surface.loss.shape == (n + 1, n) and surface.plane is plane
    for i in range(n + 1):
        for j in range(n):
            ref = la.loss_at(exp, plane.point(alpha[j], beta[i]))
            assert surface.loss[i, j] == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_the_axes_plane_is_todays_grid_exactly():
    exp = la.Experiment(model="plane", data=la.make_dataset("plane"))
    today = la.compute_surface(exp)
    on_plane = la.compute_surface(exp, plane=la.Plane.axes(exp, "w1", "w2", {"b": exp.start[2]}),
                                  alpha=today.alpha, beta=today.beta)
    np.testing.assert_array_equal(today.loss, on_plane.loss)
    assert today.plane.axes == ("w1", "w2") and today.held == {"b": exp.start[2]}


def test_a_networks_surface_needs_a_plane_and_equals_torch():
    exp = la.Experiment(data=blobs(), model="mlp", model_options={"hidden": [4]})
    with pytest.raises(ConfigError, match="plane"):
        la.compute_surface(exp)
    start = exp.start_vector()
    rng = np.random.default_rng(0)
    plane = la.Plane(start, rng.normal(size=start.size), rng.normal(size=start.size))
    surface = la.compute_surface(exp, plane=plane, span=0.5, resolution=(3, 4))
    assert surface.loss.shape == (4, 3)
    module = exp.build_module().double().eval()
    x, y = exp.data.x.double(), exp.data.y.double()
    for i, b in enumerate(surface.beta):
        for j, a in enumerate(surface.alpha):
            torch.nn.utils.vector_to_parameters(torch.tensor(plane.point(a, b)), module.parameters())
            with torch.no_grad():
                ref = float(nn.functional.binary_cross_entropy_with_logits(module(x), y))
            assert surface.loss[i, j] == pytest.approx(ref, rel=1e-5)    # evaluated in float32
    accuracy = la.compute_surface(exp, plane=plane, span=0.5, resolution=3, metric="accuracy")
    assert ((accuracy.loss >= 0) & (accuracy.loss <= 1)).all() and accuracy.metric == "accuracy"


def test_plane_point_and_project_round_trip():
    rng = np.random.default_rng(3)
    plane = la.Plane(rng.normal(size=7), rng.normal(size=7), rng.normal(size=7))
    a, b, d = plane.project(plane.point(0.3, -1.2))
    assert (a, b) == (pytest.approx(0.3), pytest.approx(-1.2)) and d == pytest.approx(0, abs=1e-12)
    normal = np.linalg.svd(np.stack([plane.d1, plane.d2]))[2][2]   # orthogonal to both directions
    a, b, d = plane.project(plane.point(1.0, 2.0) + 0.5 * normal)
    assert (a, b, d) == (pytest.approx(1.0), pytest.approx(2.0), pytest.approx(0.5))
    with pytest.raises(ConfigError, match="parallel"):
        la.Plane(np.zeros(3), np.ones(3), 2 * np.ones(3))
    assert math.isclose(np.linalg.norm(plane.point(0, 0) - plane.origin), 0)


def test_the_grid_is_not_a_training_setting():
    exp = la.Experiment()
    regridded = exp.replace(grid=la.Grid(resolution=(31, 41), x_range=(-3.0, 3.0)))
    assert regridded != exp and exp.same_training(regridded)
    assert not exp.same_training(exp.replace(lr=0.5))
    assert "grid" not in exp.training_settings()


def test_the_builtin_cnn_takes_the_evaluators_fast_path():
    """The cnn's first layer shapes the flat digits into images (Unflatten): the batched path must know it, or
    every grid point would go through vmap (measured 2-3x slower)."""
    from landscape_app.core.surface_module_layers import compile_layers
    exp = la.Experiment(data=la.make_dataset("digits", n_samples=50), model="cnn")
    module = exp.build_module()
    offsets, start = {}, 0
    for p in module.parameters():
        offsets[id(p)] = (start, start + p.numel())
        start += p.numel()
    layers = compile_layers(module, offsets, None)
    assert layers is not None and type(layers[0].module) is nn.Unflatten


def test_a_networks_grid_takes_any_resolution_asked_for():
    """51 x 51 is a network's default; 201 x 201 (the linear models' default) asked for is kept, not taken for unset."""
    data = blobs()
    assert la.Experiment(data=data, model="mlp").grid.resolution == (51, 51)
    assert la.Experiment(data=data, model="mlp", grid=la.Grid(resolution=(201, 201))).grid.resolution == (201, 201)
    assert la.Experiment().grid.resolution == (201, 201)
