"""The module evaluator equals torch's own evaluation of the module at each point: random small modules (Linear
stacks, CNNs, with and without BatchNorm and Dropout, modules of any shape through vmap or point by point), random
planes and points, three criteria, BatchNorm in eval and recompute mode; and its chunks, progress, stop and device."""
import copy
import threading

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from landscape_app.core.errors import ConfigError
from landscape_app.core.surface_module import EvaluationStopped, module_losses, module_surface
from landscape_app.core.surface_module_layers import compile_layers

REL = 1e-5
CRITERIA = {"mse": nn.MSELoss, "bce-logits": nn.BCEWithLogitsLoss, "cross-entropy": nn.CrossEntropyLoss}
ACTIVATIONS = [nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.LeakyReLU, nn.ELU]


class Residual(nn.Module):
    """Not a Sequential: the evaluator runs it through vmap over functional_call."""

    def __init__(self, body: nn.Module, width: int):
        super().__init__()
        self.body = body
        self.skip = nn.Linear(width, self.out_features(body))

    @staticmethod
    def out_features(body):
        return [m for m in body.modules() if isinstance(m, nn.Linear)][-1].out_features

    def forward(self, x):
        return self.body(x) + 0.5 * self.skip(x.flatten(1))


class Branchy(Residual):
    """Python control flow on a tensor's value: vmap cannot run it, the evaluator goes point by point."""

    def forward(self, x):
        out = self.body(x)
        return out if float(out.mean()) > 0 else -out


def reference(module, criterion, x, target, theta, bn="eval", dtype=torch.float64, metric="loss",
              decision="logit"):
    """torch's own evaluation: the parameters loaded into a copy, eval mode (train mode for BatchNorm over all of x
    with bn="recompute"), dropout off."""
    m = copy.deepcopy(module).to(dtype)
    vector_to_parameters(torch.as_tensor(theta, dtype=torch.float64).to(dtype), m.parameters())
    m.eval()
    if bn == "recompute":
        for sub in m.modules():
            if isinstance(sub, nn.modules.batchnorm._BatchNorm):
                sub.train()
    x = x.to(dtype)
    target = target.to(dtype) if target.is_floating_point() else target
    with torch.no_grad():
        out = m(x)
        if metric == "accuracy":
            if out.shape[-1] > 1:
                return float((out.argmax(-1) == target).double().mean())
            threshold = 0.0 if decision == "logit" else 0.5
            return float(((out > threshold) == (target > 0.5)).double().mean())
        return float(criterion.to(dtype)(out, target))


def _targets(gen, n, outputs, criterion):
    if criterion == "cross-entropy":
        return torch.randint(0, outputs, (n,), generator=gen)
    if criterion == "bce-logits":
        return torch.randint(0, 2, (n, 1), generator=gen).float()
    return torch.randn(n, outputs, generator=gen)


def _set_running_stats(module, gen):
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen))
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.3)


@st.composite
def cases(draw):
    """(module, criterion name, x, target) for a random small module and data."""
    seed = draw(st.integers(0, 2 ** 31 - 1))
    kind = draw(st.sampled_from(["mlp", "cnn", "residual", "branchy"]))
    criterion = draw(st.sampled_from(sorted(CRITERIA)))
    outputs = {"bce-logits": 1, "cross-entropy": 3}.get(criterion) or draw(st.integers(1, 2))
    act = draw(st.sampled_from(ACTIVATIONS))
    batchnorm, dropout = draw(st.booleans()), draw(st.booleans())
    n = draw(st.integers(2, 24))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        if kind == "cnn":
            side = draw(st.sampled_from([4, 6, 8]))
            c1, c2 = draw(st.integers(1, 4)), draw(st.integers(1, 4))
            kernel = draw(st.sampled_from([(3, 1), (2, 0)]))
            pool = draw(st.sampled_from([nn.MaxPool2d, nn.AvgPool2d, nn.Identity]))
            layers = [nn.Conv2d(1, c1, kernel[0], padding=kernel[1])]
            layers += [nn.BatchNorm2d(c1)] if batchnorm else []
            layers += [act(), pool(2) if pool is not nn.Identity else nn.Identity(),
                       nn.Conv2d(c1, c2, 3, padding=1), act(), nn.Flatten()]
            layers += [nn.Dropout(0.5)] if dropout else []
            body = nn.Sequential(*layers)
            x = torch.randn(n, 1, side, side, generator=gen)
            features = body(x[:2]).shape[1]
            body.append(nn.Linear(features, outputs))
            module = body
        else:
            f_in = draw(st.integers(1, 4))
            widths = draw(st.lists(st.integers(1, 6), max_size=2))
            layers, width = [], f_in
            for w in widths:
                layers.append(nn.Linear(width, w))
                layers += [nn.BatchNorm1d(w)] if batchnorm else []
                layers.append(act())
                layers += [nn.Dropout(0.3)] if dropout else []
                width = w
            layers.append(nn.Linear(width, outputs))
            module = nn.Sequential(*layers)
            x = torch.randn(n, f_in, generator=gen)
        if kind == "residual":
            module = Residual(module, x[0].numel())
        elif kind == "branchy":
            module = Branchy(module, x[0].numel())
        _set_running_stats(module, gen)
        target = _targets(gen, n, outputs, criterion)
    return module, criterion, x, target


@st.composite
def planes(draw, k):
    """origin, d1, d2 (float64, (k,)): sometimes with directions zero on a leading block (an axis-like plane)."""
    seed = draw(st.integers(0, 2 ** 31 - 1))
    gen = torch.Generator().manual_seed(seed)
    origin = torch.randn(k, generator=gen, dtype=torch.float64)
    scale = draw(st.floats(0.01, 2.0))
    d1 = torch.randn(k, generator=gen, dtype=torch.float64) * scale
    d2 = torch.randn(k, generator=gen, dtype=torch.float64) * scale
    still = draw(st.integers(0, k - 1))
    if draw(st.booleans()):
        d1[:still] = 0
        d2[:still] = 0
    return origin, d1, d2


coords = st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=4).map(np.array)


def assert_close(value, ref):
    assert abs(value - ref) <= REL * abs(ref), (value, ref)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), data=st.data(), bn=st.sampled_from(["eval", "recompute"]))
def test_surface_equals_torch_at_every_point(case, data, bn):
    module, name, x, target = case
    criterion = CRITERIA[name]()
    k = sum(p.numel() for p in module.parameters())
    origin, d1, d2 = data.draw(planes(k))
    alpha, beta = data.draw(coords), data.draw(coords)
    surface = module_surface(module, criterion, x, target, origin, d1, d2, alpha, beta, bn=bn, dtype=torch.float64)
    assert surface.shape == (len(beta), len(alpha)) and surface.dtype == np.float64
    for i, b in enumerate(beta):
        for j, a in enumerate(alpha):
            assert_close(surface[i, j], reference(module, criterion, x, target, origin + a * d1 + b * d2, bn))
    # the same points one by one, through module_losses
    points = np.stack([(origin + a * d1 + b * d2).numpy() for b in beta for a in alpha])
    losses = module_losses(module, criterion, x, target, points, bn=bn, dtype=torch.float64)
    for value, theta in zip(losses, points):
        assert_close(value, reference(module, criterion, x, target, theta, bn))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), data=st.data())
def test_accuracy_equals_torch(case, data):
    module, _name, x, target = case
    decision = data.draw(st.sampled_from(["logit", "probability"]))
    k = sum(p.numel() for p in module.parameters())
    origin, d1, d2 = data.draw(planes(k))
    alpha, beta = data.draw(coords), data.draw(coords)
    outputs = Residual.out_features(module)
    gen = torch.Generator().manual_seed(len(x))
    if outputs == 1:
        target = torch.randint(0, 2, (len(x), 1), generator=gen).float()
        if decision == "probability":
            module = nn.Sequential(module, nn.Sigmoid())
    else:
        target = torch.randint(0, outputs, (len(x),), generator=gen)
    acc = module_surface(module, None, x, target, origin, d1, d2, alpha, beta, metric="accuracy",
                         decision=decision, dtype=torch.float64)
    for i, b in enumerate(beta):
        for j, a in enumerate(alpha):
            ref = reference(module, None, x, target, origin + a * d1 + b * d2, metric="accuracy",
                            decision=decision)
            assert acc[i, j] == ref


# -- float32, the default -----------------------------------------------------------------------------------------

def mlp_and_moons():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
    x = torch.randn(300, 2)
    return module, nn.BCEWithLogitsLoss(), x, (x[:, :1] * x[:, 1:] > 0).float()


def cnn_and_images():
    torch.manual_seed(1)
    module = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Dropout(0.2), nn.Linear(64, 10))
    _set_running_stats(module, torch.Generator().manual_seed(2))
    return module, nn.CrossEntropyLoss(), torch.rand(200, 1, 8, 8), torch.randint(0, 10, (200,))


@pytest.mark.parametrize("make", [mlp_and_moons, cnn_and_images])
@pytest.mark.parametrize("bn", ["eval", "recompute"])
def test_float32_equals_torch_float32(make, bn):
    """The default dtype against torch's float32 evaluation of the same points (each rounded to float32 once)."""
    module, criterion, x, target = make()
    origin = parameters_to_vector(module.parameters()).detach().double()
    gen = torch.Generator().manual_seed(3)
    d1, d2 = (torch.randn(len(origin), generator=gen, dtype=torch.float64) * 0.3 for _ in range(2))
    alpha, beta = np.linspace(-1, 1, 7), np.linspace(-1, 1, 5)
    surface = module_surface(module, criterion, x, target, origin, d1, d2, alpha, beta, bn=bn)
    for i, b in enumerate(beta):
        for j, a in enumerate(alpha):
            ref = reference(module, criterion, x, target, origin + a * d1 + b * d2, bn, dtype=torch.float32)
            assert_close(surface[i, j], ref)


def test_sequential_stacks_take_the_batched_path_and_others_vmap():
    offsets, start = {}, 0
    for make in (mlp_and_moons, cnn_and_images):
        module = make()[0]
        offsets, start = {}, 0
        for p in module.parameters():
            offsets[id(p)] = (start, start + p.numel())
            start += p.numel()
        assert compile_layers(module, offsets, None) is not None
    module = Residual(nn.Sequential(nn.Linear(2, 3)), 2)
    assert compile_layers(module, {}, None) is None
    assert compile_layers(nn.Sequential(nn.Flatten(0)), {}, None) is None


# -- chunks, progress, stop, the caller's module ---------------------------------------------------------------------

def _plane(module):
    origin = parameters_to_vector(module.parameters()).detach().double()
    gen = torch.Generator().manual_seed(5)
    return origin, torch.randn(len(origin), generator=gen, dtype=torch.float64), \
        torch.randn(len(origin), generator=gen, dtype=torch.float64)


@pytest.mark.parametrize("make", [mlp_and_moons, cnn_and_images])
def test_chunk_size_does_not_change_the_values(make):
    module, criterion, x, target = make()
    plane = _plane(module)
    alpha, beta = np.linspace(-1, 1, 9), np.linspace(-2, 2, 4)
    whole = module_surface(module, criterion, x, target, *plane, alpha, beta, dtype=torch.float64)
    calls = []
    one_by_one = module_surface(module, criterion, x, target, *plane, alpha, beta, dtype=torch.float64,
                                chunk_bytes=1, progress=lambda done, total: calls.append((done, total)))
    np.testing.assert_allclose(one_by_one, whole, rtol=1e-12)
    assert calls == [(i, 36) for i in range(1, 37)]


def test_progress_counts_every_point_once():
    module, criterion, x, target = mlp_and_moons()
    calls = []
    module_surface(module, criterion, x, target, *_plane(module), np.zeros(40), np.zeros(30), chunk_bytes=2 ** 20,
                   progress=lambda done, total: calls.append((done, total)))
    assert len(calls) > 1 and calls[-1] == (1200, 1200)
    assert all(b[0] > a[0] for a, b in zip(calls, calls[1:]))


def test_stop_raises_and_stops_early():
    module, criterion, x, target = mlp_and_moons()
    plane = _plane(module)
    event = threading.Event()
    event.set()
    with pytest.raises(EvaluationStopped):
        module_surface(module, criterion, x, target, *plane, np.zeros(10), np.zeros(10), stop=event)
    calls = []
    with pytest.raises(EvaluationStopped):
        module_surface(module, criterion, x, target, *plane, np.zeros(50), np.zeros(50), chunk_bytes=1,
                       progress=lambda done, total: calls.append(done), stop=lambda: len(calls) >= 3)
    assert 3 <= len(calls) < 2500


def test_the_callers_module_is_left_as_it_was():
    module, criterion, x, target = cnn_and_images()
    module.train()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    module_surface(module, criterion, x, target, *_plane(module), np.array([0.5]), np.array([1.0]),
                   bn="recompute")
    assert module.training and all(m.training for m in module.modules())
    after = module.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.requires_grad for p in module.parameters())


def test_buffers_replace_the_running_statistics():
    module, criterion, x, target = cnn_and_images()
    theta = parameters_to_vector(module.parameters()).detach().double()
    zero = torch.zeros_like(theta)
    stats = {"4.running_mean": torch.full((16,), 0.7), "4.running_var": torch.full((16,), 2.5)}
    value = module_surface(module, criterion, x, target, theta, zero, zero, [0.0], [0.0], buffers=stats,
                           dtype=torch.float64)[0, 0]
    other = copy.deepcopy(module)
    other[4].running_mean.fill_(0.7)
    other[4].running_var.fill_(2.5)
    assert_close(value, reference(other, criterion, x, target, theta))
    assert abs(value - reference(module, criterion, x, target, theta)) > 1e-3


def test_recompute_uses_each_points_statistics():
    module, criterion, x, target = cnn_and_images()
    plane = _plane(module)
    eval_mode = module_surface(module, criterion, x, target, *plane, [0.1], [0.2], dtype=torch.float64)
    recompute = module_surface(module, criterion, x, target, *plane, [0.1], [0.2], bn="recompute",
                               dtype=torch.float64)
    assert abs(eval_mode[0, 0] - recompute[0, 0]) > 1e-3


def test_explicit_cpu_device():
    module, criterion, x, target = mlp_and_moons()
    plane = _plane(module)
    here = module_surface(module, criterion, x, target, *plane, [0.0, 1.0], [0.5], device="cpu")
    default = module_surface(module, criterion, x, target, *plane, [0.0, 1.0], [0.5])
    np.testing.assert_array_equal(here, default)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_device_equals_cpu():
    module, criterion, x, target = cnn_and_images()
    plane = _plane(module)
    gpu = module_surface(module, criterion, x, target, *plane, [0.0, 1.0], [0.5], device="cuda",
                         dtype=torch.float64)
    cpu = module_surface(module, criterion, x, target, *plane, [0.0, 1.0], [0.5], dtype=torch.float64)
    np.testing.assert_allclose(gpu, cpu, rtol=REL)


@pytest.mark.parametrize("kwargs, field", [
    (dict(metric="error"), "metric"), (dict(bn="train"), "bn"), (dict(decision="sign"), "decision"),
    (dict(dtype=torch.int32), "dtype"), (dict(buffers={"nope": torch.zeros(1)}), "buffers"),
])
def test_bad_options_are_config_errors(kwargs, field):
    module, criterion, x, target = mlp_and_moons()
    with pytest.raises(ConfigError, match=f"^{field}: "):
        module_surface(module, criterion, x, target, *_plane(module), [0.0], [0.0], **kwargs)


def test_wrong_lengths_are_config_errors():
    module, criterion, x, target = mlp_and_moons()
    origin, d1, d2 = _plane(module)
    with pytest.raises(ConfigError, match="^d2: has 3 values, the module has 1185 parameters"):
        module_surface(module, criterion, x, target, origin, d1, d2[:3], [0.0], [0.0])
    with pytest.raises(ConfigError, match="^points: "):
        module_losses(module, criterion, x, target, np.zeros((2, 5)))
    with pytest.raises(ConfigError, match="^criterion: "):
        module_losses(module, None, x, target, np.zeros((2, 1185)))


@pytest.mark.parametrize("make", [mlp_and_moons, cnn_and_images])
def test_samples_in_blocks_give_the_same_values(make, monkeypatch):
    from landscape_app.core import surface_module
    module, criterion, x, target = make()
    plane = _plane(module)
    alpha, beta = np.linspace(-1, 1, 3), np.linspace(-2, 2, 2)
    whole = module_surface(module, criterion, x, target, *plane, alpha, beta, dtype=torch.float64)
    monkeypatch.setattr(surface_module, "BLOCK_BYTES", 1)        # one sample a block
    blocks = module_surface(module, criterion, x, target, *plane, alpha, beta, dtype=torch.float64)
    np.testing.assert_allclose(blocks, whole, rtol=1e-12)
    for i, b in enumerate(beta):
        for j, a in enumerate(alpha):
            theta = plane[0] + a * plane[1] + b * plane[2]
            assert_close(blocks[i, j], reference(module, criterion, x, target, theta))
