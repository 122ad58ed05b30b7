"""Hessian planes: the top eigenpairs from Hessian-vector products equal those of the explicit Hessian
(torch.autograd.functional.hessian), by every method, on networks (BatchNorm included) and the linear family."""
import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons
from torch import nn
from torch.func import functional_call

import landscape_app as la
from landscape_app.core.hessian import top_eigenpairs
from landscape_app.core.models import build_criterion


def moons(n=50, seed=1):
    x, y = make_moons(n, noise=0.2, random_state=seed)
    return la.dataset_from_arrays(x, y)


def explicit_hessian(exp, params, buffers=None):
    """The full-data Hessian by torch.autograd.functional.hessian: a float64 copy of the module, eval mode."""
    module = exp.build_module().double().eval()
    for name, value in (buffers or {}).items():
        module.get_buffer(name).copy_(torch.as_tensor(value))
    shapes = [(name, p.shape) for name, p in module.named_parameters()]
    x = exp.data.x.double()
    target = exp.targets()
    target = target.double() if target.dtype.is_floating_point else target
    criterion = build_criterion(exp.criterion, exp.criterion_options)

    def loss(flat):
        tensors, i = {}, 0
        for name, shape in shapes:
            tensors[name] = flat[i:i + shape.numel()].reshape(shape)
            i += shape.numel()
        return criterion(functional_call(module, tensors, (x,)), target)
    return torch.autograd.functional.hessian(loss, torch.tensor(params, dtype=torch.float64)).numpy()


def top_two(h):
    values, vectors = np.linalg.eigh(h)
    order = np.argsort(-np.abs(values))
    return values[order], vectors[:, order]


@pytest.fixture(scope="module")
def mlp():
    return la.Experiment(model="mlp", data=moons(), model_options={"hidden": (5,)}, seed=2)


@pytest.fixture(scope="module")
def mlp_hessian(mlp):
    values, vectors = top_two(explicit_hessian(mlp, mlp.start_vector()))
    # The comparison means something only where the top eigenvalues stand apart (eigenvectors are then unique).
    assert abs(values[0]) > 1.05 * abs(values[1]) > 1.05 * abs(values[2])
    return values, vectors


@pytest.mark.parametrize("method", ["dense", "lanczos", "power"])
def test_every_method_finds_the_explicit_hessians_top_eigenpairs(mlp, mlp_hessian, method):
    values, vectors = mlp_hessian
    plane = la.Plane.hessian(mlp, method=method)
    assert plane.kind == "hessian" and plane.info["method"] == method
    np.testing.assert_array_equal(plane.origin, mlp.start_vector())
    np.testing.assert_allclose(plane.info["eigenvalues"], values[:2], rtol=1e-6)
    for d, v in ((plane.d1, vectors[:, 0]), (plane.d2, vectors[:, 1])):
        assert np.linalg.norm(d) == pytest.approx(1, abs=1e-12)
        assert abs(d @ v) == pytest.approx(1, abs=1e-6)
    assert max(plane.info["residuals"]) < 1e-5 * abs(values[0])
    lam = plane.info["eigenvalues"]
    assert plane.labels == (f"Hessian 1 (λ={lam[0]:.3g})", f"Hessian 2 (λ={lam[1]:.3g})")


def test_more_eigenpairs_and_repeatable_signs(mlp, mlp_hessian):
    values, _ = mlp_hessian
    got, vectors, info = top_eigenpairs(mlp, k=4, method="lanczos", seed=7)
    np.testing.assert_allclose(got, values[:4], rtol=1e-6)
    again, vectors2, _ = top_eigenpairs(mlp, k=4, method="lanczos", seed=8)
    # Whatever the starting vector, each eigenvector's largest entry is positive: the same plane comes back.
    np.testing.assert_allclose(vectors, vectors2, atol=1e-6)
    assert info["products"] > 0


def test_a_hessian_plane_at_a_runs_end_with_its_batchnorm_statistics():
    exp = la.Experiment(model="mlp", data=moons(), model_options={"hidden": (4,), "batchnorm": True},
                        optimizer="adam", lr=0.05, epochs=4, batch_size=10, seed=1)
    run = la.run(exp)
    plane = la.Plane.hessian(exp, run, method="dense")
    np.testing.assert_array_equal(plane.origin, run.params[-1])
    assert set(plane.buffers) == set(run.buffers)
    values, vectors = top_two(explicit_hessian(exp, run.params[-1], run.buffers))
    np.testing.assert_allclose(plane.info["eigenvalues"], values[:2], rtol=1e-6)
    assert abs(plane.d1 @ vectors[:, 0]) == pytest.approx(1, abs=1e-6)
    # With the start's statistics instead the curvature differs: the buffers are really used.
    other = la.Plane.hessian(exp, run.params[-1], method="dense")
    assert other.info["eigenvalues"][0] != pytest.approx(values[0], rel=1e-3)


def test_the_linear_models_hessian_is_the_closed_form():
    exp = la.Experiment()                     # linear, MSE: H = 2/n [[sum x^2, sum x], [sum x, n]]
    x = exp.data.x.double().reshape(-1).numpy()
    n = x.shape[0]
    h = 2 / n * np.array([[x @ x, x.sum()], [x.sum(), n]])
    plane = la.Plane.hessian(exp)
    values, vectors = top_two(h)
    np.testing.assert_allclose(plane.info["eigenvalues"], values, rtol=1e-10)
    assert abs(plane.d1 @ vectors[:, 0]) == pytest.approx(1, abs=1e-10)
    logistic = la.Experiment(model="logistic", data=la.make_dataset("logistic", n_samples=30))
    plane = la.Plane.hessian(logistic, [0.5, -0.2])
    values, _ = top_two(explicit_hessian(logistic, [0.5, -0.2]))
    np.testing.assert_allclose(plane.info["eigenvalues"], values, rtol=1e-9)


@pytest.mark.parametrize("method", ["dense", "lanczos"])
def test_any_module_with_convolution_pooling_and_batchnorm(method):
    module = nn.Sequential(nn.Unflatten(1, (1, 2)), nn.Conv1d(1, 3, 2, padding=1), nn.BatchNorm1d(3), nn.ReLU(),
                           nn.MaxPool1d(3), nn.Flatten(), nn.Linear(3, 2))
    exp = la.Experiment(model=module, data=moons(), criterion="cross-entropy", seed=5)
    plane = la.Plane.hessian(exp, method=method, k=3)
    values, vectors = top_two(explicit_hessian(exp, exp.start_vector()))
    np.testing.assert_allclose(plane.info["eigenvalues"], values[:3], rtol=1e-6)
    assert abs(plane.d1 @ vectors[:, 0]) == pytest.approx(1, abs=1e-6)


@pytest.mark.parametrize("kwargs, field, text", [
    (dict(k=1), "k", "must be a whole number from 2"),
    (dict(k=1000), "k", "to 21 (the model's parameters)"),
    (dict(method="newton"), "method", "must be one of auto, lanczos, power, dense"),
    (dict(params=[1.0]), "params", "must have 21 values"),
    (dict(method="lanczos", k=21), "k", "Lanczos finds at most 20 eigenpairs"),
])
def test_hessian_plane_refuses_bad_settings(mlp, kwargs, field, text):
    with pytest.raises(la.ConfigError) as info:
        la.Plane.hessian(mlp, **kwargs)
    assert info.value.field == field and text in str(info.value)


@pytest.mark.parametrize("method", ["lanczos", "power", "dense"])
def test_a_hessian_plane_stops_when_asked(method):
    """The window's scene stops a Hessian plane it no longer needs (another plane, the export dialog closed)."""
    import threading
    from landscape_app.core.surface_module import EvaluationStopped
    exp = la.Experiment(model="mlp", data=moons(), model_options={"hidden": (5,)})
    products = []

    def after_three():                      # set once three products were made
        products.append(1)
        return len(products) > 3
    if method != "dense":                   # (the dense Hessian is one batched product, looked at before it)
        with pytest.raises(EvaluationStopped, match="stopped after 3 "):
            la.Plane.hessian(exp, method=method, stop=after_three)
    event = threading.Event()
    event.set()
    with pytest.raises(EvaluationStopped, match="after 0 "):
        la.Plane.hessian(exp, method=method, stop=event)
    plane = la.Plane.hessian(exp, method=method, stop=threading.Event())      # never set: the same plane
    np.testing.assert_allclose(np.abs(plane.d1 @ la.Plane.hessian(exp, method=method).d1), 1.0, rtol=1e-6)
