"""A chunk's weights from one product, the chunks' bounds, the criterion on pieces, and spare workspaces."""
import os

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import parameters_to_vector

from landscape_app.core import surface_module, surface_module_chunk
from landscape_app.core.surface_module import _bounds, module_surface
from landscape_app.core.surface_module_chunk import Chunk, Workspace, give_back, take_workspace
from landscape_app.core.surface_module_layers import _plane_weights, compile_layers
from test_surface_module import REL, reference
from test_surface_module_criteria import _offsets


def _mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 1))


def _classes(n, seed):
    """``n`` random 2-D inputs and 0/1 labels."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=gen), torch.randint(0, 2, (n, 1), generator=gen).float()


def _plane(module, seed=1):
    gen = torch.Generator().manual_seed(seed)
    origin = parameters_to_vector(module.parameters()).detach().double()
    return torch.stack([origin, torch.randn(len(origin), generator=gen, dtype=torch.float64),
                        torch.randn(len(origin), generator=gen, dtype=torch.float64)])


def test_combined_weights_are_the_points_parameters_exactly():
    """A later Linear's weights from one product are the flat parameters at each point, rounded the same way."""
    module = _mlp()
    plane = _plane(module)
    layers = compile_layers(module, _offsets(module), None)
    second = layers[2]                       # Linear(6, 5), after the first moving layer: not widened here
    coef = torch.tensor([[1.0, 0.3, -0.7], [1.0, -2.0, 0.25]], dtype=torch.float64)
    chunk = Chunk(coef, torch.float32, plane)
    weights = chunk.combine(_plane_weights(second, plane, widened=False))
    w = weights[:, :30].reshape(2, 6, 5).transpose(1, 2)
    b = weights[:, 30:]
    assert torch.equal(w, second.param("weight", chunk))
    assert torch.equal(b, second.param("bias", chunk))


def test_folded_bias_row_gives_the_bias():
    """Widened, the bias is one more input row over the constant column, the activation's value at 1."""
    module = _mlp()
    plane = _plane(module)
    layers = compile_layers(module, _offsets(module), None)
    second = layers[2]
    assert second.bias_column is not None
    chunk = Chunk(torch.tensor([[1.0, 0.5, 0.5]], dtype=torch.float64), torch.float64, plane)
    rows = chunk.combine(_plane_weights(second, plane, widened=True, dtype=torch.float64)).reshape(1, 7, 5)
    column = float(torch.tanh(torch.tensor(1.0, dtype=torch.float64)))
    torch.testing.assert_close(rows[0, 6] * column, second.param("bias", chunk)[0], rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("total, first, size, workers", [(2601, 2, 65, 2), (10, 2, 3, 2), (7, 7, 7, 1),
                                                          (1, 2, 5, 2), (100, 2, 1, 2), (50, 5, 5, 1)])
def test_bounds_cover_every_point_once(total, first, size, workers):
    bounds = _bounds(total, first, size, workers)
    assert bounds[0] == (0, min(first, total))
    assert [a for a, _ in bounds[1:]] == [b for _, b in bounds[:-1]]
    assert bounds[-1][1] == total and all(b > a for a, b in bounds)
    steps = [b - a for a, b in bounds[1:-1]]
    if workers == 1:
        assert set(steps) <= {size}
    else:
        assert set(steps) <= {size, max(1, size // 2)}
        # the last chunks are the halves: the workers finish closer together
        if total - first > 2 * workers * size:
            assert steps[-1] == max(1, size // 2) and steps[0] == size


def test_criterion_on_pieces_equals_the_whole(monkeypatch):
    module, plane = _mlp(), _plane(_mlp())
    x, y = _classes(40, seed=2)
    alpha = np.linspace(-1, 1, 7)
    whole = module_surface(module, nn.BCEWithLogitsLoss(), x, y, *plane, alpha, alpha, dtype=torch.float64)
    monkeypatch.setattr(surface_module, "SCORE_BYTES", 1)          # one point a piece
    pieces = module_surface(module, nn.BCEWithLogitsLoss(), x, y, *plane, alpha, alpha, dtype=torch.float64)
    np.testing.assert_allclose(pieces, whole, rtol=1e-13)
    theta = (torch.tensor([1.0, alpha[3], alpha[5]], dtype=torch.float64) @ plane)
    assert pieces[5, 3] == pytest.approx(reference(module, nn.BCEWithLogitsLoss(), x, y, theta), rel=REL)


def test_second_evaluation_reuses_the_spare_workspaces(monkeypatch):
    """The workspaces of one evaluation are taken by the next: its products write into the same buffers."""
    monkeypatch.setattr(surface_module_chunk, "_spare", [])
    module, plane = _mlp(), _plane(_mlp())
    x, y = _classes(300, seed=3)
    alpha = np.linspace(-1, 1, 9)
    first = module_surface(module, nn.BCEWithLogitsLoss(), x, y, *plane, alpha, alpha)
    kept = list(surface_module_chunk._spare)
    assert 1 <= len(kept) <= (os.cpu_count() or 1)
    buffers = {id(t) for w in kept for t in w.values()}
    assert buffers
    second = module_surface(module, nn.BCEWithLogitsLoss(), x, y, *plane, alpha, alpha)
    np.testing.assert_array_equal(second, first)
    assert {id(t) for w in surface_module_chunk._spare for t in w.values()} >= buffers


def test_give_back_keeps_one_per_core_within_the_limit(monkeypatch):
    monkeypatch.setattr(surface_module_chunk, "_spare", [])
    monkeypatch.setattr(surface_module_chunk, "KEEP_BYTES", 1000)
    like = torch.zeros(1)
    small, big, second = Workspace(), Workspace(), Workspace()
    small.buffer("a", (10,), like)                    # 40 bytes
    big.buffer("b", (1000,), like)                    # 4,000 bytes: over KEEP_BYTES
    second.buffer("c", (241,), like)                  # 964 bytes: fits alone, not beside the small one
    extra = [Workspace() for _ in range(os.cpu_count() or 1)]
    give_back([small, big, second] + extra)
    assert len(surface_module_chunk._spare) == (os.cpu_count() or 1)
    assert small.nbytes() == 40 and big.nbytes() == 0 and second.nbytes() == 0
    assert sum(w.nbytes() for w in surface_module_chunk._spare) <= 1000
    assert take_workspace() in [small, big, second] + extra


def test_a_gpus_buffers_are_not_kept(monkeypatch):
    monkeypatch.setattr(surface_module_chunk, "_spare", [])
    workspace = Workspace()
    workspace.buffer("a", (10,), torch.zeros(1, device="meta"))      # any device but the computer's memory
    give_back([workspace])
    assert workspace.nbytes() == 0
