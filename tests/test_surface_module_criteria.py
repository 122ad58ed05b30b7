"""Each point's loss split out of one unreduced call equals the criterion called at that point alone."""
import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import parameters_to_vector

from landscape_app.core.surface_module import module_surface
from landscape_app.core.surface_module_criteria import per_sample_criterion
from landscape_app.core.surface_module_layers import compile_layers
from test_surface_module import REL, assert_close, reference

P, N = 5, 7


def _outputs(shape, seed=0):
    return torch.randn(P, *shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


ELEMENTWISE = [
    (nn.MSELoss(), lambda g: torch.randn(N, 2, generator=g, dtype=torch.float64)),
    (nn.MSELoss(reduction="sum"), lambda g: torch.randn(N, 2, generator=g, dtype=torch.float64)),
    (nn.L1Loss(), lambda g: torch.randn(N, 2, generator=g, dtype=torch.float64)),
    (nn.HuberLoss(delta=0.5), lambda g: torch.randn(N, 2, generator=g, dtype=torch.float64)),
    (nn.SmoothL1Loss(beta=0.3), lambda g: torch.randn(N, 2, generator=g, dtype=torch.float64)),
    (nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 0.5], dtype=torch.float64)),
     lambda g: torch.randint(0, 2, (N, 2), generator=g).double()),
]


@pytest.mark.parametrize("criterion, make_target", ELEMENTWISE)
def test_elementwise_losses_split_per_point(criterion, make_target):
    target = make_target(torch.Generator().manual_seed(1))
    out = _outputs((N, 2))
    values = per_sample_criterion(criterion)(out, target)
    expected = torch.stack([criterion(o, target) for o in out])
    torch.testing.assert_close(values, expected, rtol=1e-12, atol=0)


def test_bce_on_probabilities_splits_per_point():
    criterion = nn.BCELoss()
    target = torch.rand(N, 1, dtype=torch.float64)
    out = torch.sigmoid(_outputs((N, 1)))
    values = per_sample_criterion(criterion)(out, target)
    torch.testing.assert_close(values, torch.stack([criterion(o, target) for o in out]), rtol=1e-12, atol=0)


@pytest.mark.parametrize("criterion", [nn.CrossEntropyLoss(), nn.CrossEntropyLoss(label_smoothing=0.2),
                                       nn.CrossEntropyLoss(reduction="sum")])
def test_cross_entropy_splits_per_point_on_labels_and_probabilities(criterion):
    labels = torch.randint(0, 3, (N,), generator=torch.Generator().manual_seed(2))
    probabilities = torch.softmax(torch.randn(N, 3, dtype=torch.float64), dim=1)
    out = _outputs((N, 3))
    for target in (labels, probabilities):
        values = per_sample_criterion(criterion)(out, target)
        torch.testing.assert_close(values, torch.stack([criterion(o, target) for o in out]), rtol=1e-12, atol=0)


def test_weighted_means_and_ignored_labels_are_left_to_vmap():
    assert per_sample_criterion(nn.CrossEntropyLoss(weight=torch.ones(3))) is None
    assert per_sample_criterion(nn.MSELoss(reduction="none")) is None
    assert per_sample_criterion(nn.KLDivLoss()) is None
    split = per_sample_criterion(nn.CrossEntropyLoss(ignore_index=1))
    assert split(_outputs((N, 3)), torch.tensor([0, 1, 2, 0, 0, 2, 1])) is None          # the mean skips label 1
    assert split(_outputs((N, 3)), torch.tensor([0, 2, 2, 0, 0, 2, 0])) is not None
    # shapes torch would broadcast: not split
    assert per_sample_criterion(nn.MSELoss())(_outputs((N, 1)), torch.randn(N, dtype=torch.float64)) is None


@pytest.mark.parametrize("criterion", [nn.CrossEntropyLoss(weight=torch.tensor([1.0, 3.0, 0.5])),
                                       nn.CrossEntropyLoss(ignore_index=2), nn.CrossEntropyLoss()])
def test_surfaces_with_any_cross_entropy_equal_torch(criterion):
    """Split or through vmap, the surface is torch's own loss at every point."""
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3))
    x, target = torch.randn(40, 2), torch.randint(0, 3, (40,))
    origin = parameters_to_vector(module.parameters()).detach().double()
    d1, d2 = torch.randn(len(origin), dtype=torch.float64), torch.randn(len(origin), dtype=torch.float64)
    alpha, beta = np.linspace(-1, 1, 3), np.linspace(-1, 1, 4)
    surface = module_surface(module, criterion, x, target, origin, d1, d2, alpha, beta, dtype=torch.float64)
    for i, b in enumerate(beta):
        for j, a in enumerate(alpha):
            assert_close(surface[i, j], reference(module, criterion, x, target, origin + a * d1 + b * d2))


# -- a Linear's bias as a weight column on a constant input --------------------------------------------------------

def _offsets(module):
    offsets, start = {}, 0
    for p in module.parameters():
        offsets[id(p)] = (start, start + p.numel())
        start += p.numel()
    return offsets


@pytest.mark.parametrize("activation", [nn.Tanh, nn.ReLU, nn.Sigmoid, nn.LogSigmoid, nn.GELU, nn.Softsign])
@pytest.mark.parametrize("still", [0, 1])
def test_a_folded_bias_gives_torchs_values(activation, still):
    """Linear, activation, Linear: the second's bias rides on a constant column of the first's plane terms. With
    ``still`` the first layer does not move (the fold starts at the second)."""
    torch.manual_seed(3)
    module = nn.Sequential(nn.Linear(3, 5), activation(), nn.Dropout(0.4), nn.Linear(5, 4), activation(),
                           nn.Linear(4, 2))
    layers = compile_layers(module, _offsets(module), None)
    assert [layer.widen for layer in layers] == [True, False, False, True, False, False]
    assert layers[3].bias_column is module[1] and layers[5].bias_column is module[4]
    x, target = torch.randn(30, 3), torch.randn(30, 2)
    origin = parameters_to_vector(module.parameters()).detach().double()
    gen = torch.Generator().manual_seed(4)
    d1, d2 = (torch.randn(len(origin), generator=gen, dtype=torch.float64) for _ in range(2))
    if still:
        d1[:20], d2[:20] = 0, 0                       # the first Linear's 15 weights and 5 biases stay
    alpha, beta = np.linspace(-1.5, 1.5, 4), np.linspace(-1, 1, 3)
    for dtype in (torch.float64, torch.float32):
        surface = module_surface(module, nn.MSELoss(), x, target, origin, d1, d2, alpha, beta, dtype=dtype)
        for i, b in enumerate(beta):
            for j, a in enumerate(alpha):
                ref = reference(module, nn.MSELoss(), x, target, origin + a * d1 + b * d2, dtype=dtype)
                assert abs(surface[i, j] - ref) <= REL * abs(ref) + 1e-7
