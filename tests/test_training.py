"""train() is the plain torch loop: same parameters bit for bit, stop flag, divergence, points on the surface."""
import math
import threading

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

import landscape_app as la
from landscape_app.core.training import DIVERGENCE_BOUND, Outcome


def hand_loop(exp, torch_optimizer, make_scheduler=None):
    """The course's loop written out by hand with torch, not through our builders.

    Returns the flat float64 parameters after every update, the batch losses and the learning rates used.
    """
    n_in = exp.data.n_features
    linear = nn.Linear(n_in, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([list(exp.start[:-1])]))
        linear.bias.copy_(torch.tensor([exp.start[-1]]))
    model = nn.Sequential(linear, nn.Sigmoid()) if exp.criterion == "bce" else linear
    criterion = {"mse": nn.MSELoss(), "l1": nn.L1Loss(), "huber": nn.HuberLoss(**exp.criterion_options),
                 "bce": nn.BCELoss(), "bce-logits": nn.BCEWithLogitsLoss()}[exp.criterion]
    optimizer = torch_optimizer(model.parameters())
    scheduler = make_scheduler(optimizer) if make_scheduler else None
    loader = DataLoader(exp.data, batch_size=exp.batch_size or len(exp.data), shuffle=exp.shuffle,
                        generator=torch.Generator().manual_seed(exp.seed))
    params, losses, lrs = [], [], []
    for _ in range(exp.epochs):
        for x, y in loader:
            lrs.append(optimizer.param_groups[0]["lr"])
            if isinstance(optimizer, torch.optim.LBFGS):
                def closure():
                    optimizer.zero_grad()
                    loss = criterion(model(x), y)
                    loss.backward()
                    return loss
                losses.append(optimizer.step(closure).item())
            else:
                yhat = model(x)
                loss = criterion(yhat, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            params.append(np.concatenate([p.detach().double().numpy().ravel() for p in model.parameters()]))
        if scheduler:
            scheduler.step()
    return np.array(params), np.array(losses), np.array(lrs)


LINEAR = la.make_dataset("linear", n_samples=30, noise=0.5, slope=2.0, intercept=-1.0, seed=3)
LOGISTIC = la.make_dataset("logistic", n_samples=30, overlap=1.0, seed=4)
PLANE = la.make_dataset("plane", n_samples=30, noise=0.3, seed=5)

O = torch.optim
CASES = {
    "sgd-plain": (dict(optimizer="sgd", lr=0.05), lambda p: O.SGD(p, lr=0.05)),
    "sgd-momentum": (dict(optimizer="sgd", lr=0.02, optimizer_options={"momentum": 0.9, "dampening": 0.1}),
                     lambda p: O.SGD(p, lr=0.02, momentum=0.9, dampening=0.1)),
    "sgd-nesterov": (dict(optimizer="sgd", lr=0.02, optimizer_options={"momentum": 0.8, "nesterov": True,
                                                                      "weight_decay": 0.01}),
                     lambda p: O.SGD(p, lr=0.02, momentum=0.8, nesterov=True, weight_decay=0.01)),
    "adam": (dict(optimizer="adam", lr=0.3, optimizer_options={"betas": (0.8, 0.99), "amsgrad": True}),
             lambda p: O.Adam(p, lr=0.3, betas=(0.8, 0.99), amsgrad=True)),
    # the older spelling, as saved in earlier session files
    "adam-beta1": (dict(optimizer="adam", lr=0.3, optimizer_options={"beta1": 0.8, "amsgrad": True}),
                   lambda p: O.Adam(p, lr=0.3, betas=(0.8, 0.999), amsgrad=True)),
    "adamw": (dict(optimizer="adamw", lr=0.3), lambda p: O.AdamW(p, lr=0.3)),
    "adamw-betas": (dict(optimizer="adamw", lr=0.3, optimizer_options={"betas": [0.7, 0.9], "weight_decay": 0.1}),
                    lambda p: O.AdamW(p, lr=0.3, betas=(0.7, 0.9), weight_decay=0.1)),
    "rmsprop": (dict(optimizer="rmsprop", lr=0.1, optimizer_options={"momentum": 0.5, "centered": True}),
                lambda p: O.RMSprop(p, lr=0.1, momentum=0.5, centered=True)),
    "adagrad": (dict(optimizer="adagrad", lr=1.0), lambda p: O.Adagrad(p, lr=1.0)),
    "adadelta": (dict(optimizer="adadelta", lr=5.0), lambda p: O.Adadelta(p, lr=5.0)),
    "adamax": (dict(optimizer="adamax", lr=0.5, optimizer_options={"betas": (0.85, 0.95)}),
               lambda p: O.Adamax(p, lr=0.5, betas=(0.85, 0.95))),
    "nadam": (dict(optimizer="nadam", lr=0.5, optimizer_options={"betas": (0.8, 0.9)}),
              lambda p: O.NAdam(p, lr=0.5, betas=(0.8, 0.9))),
    "radam": (dict(optimizer="radam", lr=0.5, optimizer_options={"betas": (0.95, 0.98)}),
              lambda p: O.RAdam(p, lr=0.5, betas=(0.95, 0.98))),
    "rprop": (dict(optimizer="rprop", lr=0.5), lambda p: O.Rprop(p, lr=0.5)),
    "rprop-etas": (dict(optimizer="rprop", lr=0.2, optimizer_options={"etas": (0.3, 1.5), "step_sizes": (0.01, 2.0)}),
                   lambda p: O.Rprop(p, lr=0.2, etas=(0.3, 1.5), step_sizes=(0.01, 2.0))),
    "asgd": (dict(optimizer="asgd", lr=0.05), lambda p: O.ASGD(p, lr=0.05)),
    "lbfgs": (dict(optimizer="lbfgs", lr=0.5, optimizer_options={"max_iter": 5}),
              lambda p: O.LBFGS(p, lr=0.5, max_iter=5)),
    "lbfgs-wolfe": (dict(optimizer="lbfgs", lr=1.0, optimizer_options={"line_search_fn": "strong_wolfe"}),
                    lambda p: O.LBFGS(p, lr=1.0, line_search_fn="strong_wolfe")),
}
if hasattr(O, "Adafactor"):      # torch >= 2.5
    CASES["adafactor"] = (dict(optimizer="adafactor", lr=0.5), lambda p: O.Adafactor(p, lr=0.5))
    CASES["adafactor-eps"] = (
        dict(optimizer="adafactor", lr=0.3, optimizer_options={"eps": (0.3, 0.05), "beta2_decay": -0.5}),
        lambda p: O.Adafactor(p, lr=0.3, eps=(0.3, 0.05), beta2_decay=-0.5))


def check_identical(exp, torch_optimizer, make_scheduler=None):
    steps = list(la.train(exp))
    params, losses, lrs = hand_loop(exp, torch_optimizer, make_scheduler)
    assert len(steps) == 1 + exp.epochs * exp.steps_per_epoch == 1 + len(params)
    assert steps[0].iteration == 0 and math.isnan(steps[0].batch_loss) and steps[0].batch.size == 0
    np.testing.assert_array_equal(steps[0].params, np.array(exp.start, dtype=np.float32).astype(np.float64))
    got = np.array([s.params for s in steps[1:]])
    # Bit for bit: the same float32 values, not merely close ones.
    assert np.array_equal(got, params), np.abs(got - params).max()
    assert np.array_equal(np.array([s.batch_loss for s in steps[1:]]), losses)
    assert np.array_equal(np.array([s.lr for s in steps[1:]]), lrs)
    assert [s.iteration for s in steps] == list(range(len(steps)))
    assert all(s.params.dtype == np.float64 for s in steps)
    return steps


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("batch_size, shuffle", [(1, True), (10, False), (7, True), (None, False), (None, True)])
def test_optimizers_match_the_hand_written_loop(case, batch_size, shuffle):
    kw, torch_optimizer = CASES[case]
    epochs = 2 if batch_size == 1 else 4
    exp = la.Experiment(data=LINEAR, model="linear", criterion="mse", batch_size=batch_size, shuffle=shuffle,
                        epochs=epochs, seed=11, start=(-3.0, 2.5), **kw)
    check_identical(exp, torch_optimizer)


@pytest.mark.parametrize("model, data, criterion, options, start", [
    ("linear", LINEAR, "l1", {}, (0.3, -0.7)),
    ("linear", LINEAR, "huber", {"delta": 0.5}, (0.3, -0.7)),
    ("logistic", LOGISTIC, "bce", {}, (-2.0, 1.5)),
    ("logistic", LOGISTIC, "bce-logits", {}, (-2.0, 1.5)),
    ("linear", LOGISTIC, "bce-logits", {}, (0.5, 0.5)),
    ("plane", PLANE, "mse", {}, (-1.0, 2.0, 0.5)),
])
@pytest.mark.parametrize("batch_size", [None, 4])
def test_each_model_and_criterion_matches(model, data, criterion, options, start, batch_size):
    exp = la.Experiment(data=data, model=model, criterion=criterion, criterion_options=options,
                        optimizer="sgd", lr=0.1, optimizer_options={"momentum": 0.5}, batch_size=batch_size,
                        shuffle=True, epochs=3, seed=2, start=start)
    steps = check_identical(exp, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5))
    assert steps[-1].params.shape == (len(start),)


@pytest.mark.parametrize("case", ["rprop-etas", "adafactor-eps", "adam", "nadam"])
@pytest.mark.parametrize("model, data, criterion, start", [
    ("plane", PLANE, "huber", (-1.0, 2.0, 0.5)),       # the weight is a (1, 2) matrix: Adafactor factors it
    ("logistic", LOGISTIC, "bce", (-2.0, 1.5)),
])
def test_torch_shaped_options_on_the_other_models(case, model, data, criterion, start):
    if case not in CASES:
        pytest.skip("torch < 2.5 has no Adafactor")
    kw, torch_optimizer = CASES[case]
    exp = la.Experiment(data=data, model=model, criterion=criterion, batch_size=None, epochs=25, start=start, **kw)
    steps = check_identical(exp, torch_optimizer)
    # each option reaches torch: without it the path is another one
    for key in exp.optimizer_options:
        if key in kw.get("optimizer_options", {}):
            others = {k: v for k, v in kw["optimizer_options"].items() if k != key}
            path = la.run(exp.replace(optimizer_options=others)).params
            assert not np.array_equal(path, np.array([s.params for s in steps])), key


@pytest.mark.parametrize("scheduler, options, make", [
    ("step", {"step_size": 2, "gamma": 0.5}, lambda o: torch.optim.lr_scheduler.StepLR(o, 2, 0.5)),
    ("exponential", {"gamma": 0.9}, lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
    ("cosine", {"T_max": 3, "eta_min": 0.01}, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 3, 0.01)),
])
def test_schedulers_step_once_per_epoch(scheduler, options, make):
    exp = la.Experiment(data=LINEAR, optimizer="sgd", lr=0.05, scheduler=scheduler, scheduler_options=options,
                        batch_size=10, shuffle=True, epochs=5, seed=1, start=(-3.0, 2.5))
    steps = check_identical(exp, lambda p: torch.optim.SGD(p, lr=0.05), make)
    by_epoch = {}
    for s in steps[1:]:
        by_epoch.setdefault(s.epoch, set()).add(s.lr)
    assert sorted(by_epoch) == [1, 2, 3, 4, 5]
    assert all(len(v) == 1 for v in by_epoch.values())     # constant within an epoch
    assert len({v.pop() for v in by_epoch.values()}) > 1    # but it changes between them


def test_batches_are_the_loaders_indices():
    exp = la.Experiment(data=LINEAR, batch_size=7, shuffle=True, epochs=3, seed=5)
    steps = list(la.train(exp))[1:]
    loader = DataLoader(exp.data, batch_size=7, shuffle=True, generator=torch.Generator().manual_seed(5))
    expected_x = [x for _ in range(3) for x, _ in loader]
    assert len(steps) == len(expected_x) == 3 * 5
    for step, x in zip(steps, expected_x):
        assert step.batch.dtype == np.int64
        assert torch.equal(exp.data.x[torch.from_numpy(step.batch)], x)
    for epoch in (1, 2, 3):   # every sample once per epoch, in a different order each epoch
        idx = np.concatenate([s.batch for s in steps if s.epoch == epoch])
        assert sorted(idx.tolist()) == list(range(len(LINEAR)))
    orders = [tuple(np.concatenate([s.batch for s in steps if s.epoch == e])) for e in (1, 2, 3)]
    assert len(set(orders)) == 3
    unshuffled = [s.batch for s in la.train(exp.replace(shuffle=False))][1:6]
    assert [b.tolist() for b in unshuffled] == [list(range(i, min(i + 7, 30))) for i in range(0, 30, 7)]


def test_batch_loss_is_the_loss_of_the_batch_before_the_update():
    exp = la.Experiment(data=LINEAR, batch_size=4, shuffle=True, epochs=2, seed=7, start=(1.0, -2.0))
    steps = list(la.train(exp))
    x, y = exp.data.numpy()
    u = 2.0 ** -24      # float32's unit roundoff: torch computes the batch loss in float32
    for before, step in zip(steps, steps[1:]):
        w, b = before.params             # float32 values, like the data: the float64 arithmetic here is exact
        sel = step.batch
        wx, target = w * x[sel, 0].astype(np.float64), y[sel].astype(np.float64)
        r = wx + b - target
        expected = np.mean(r ** 2)
        # A bound on torch's rounding that holds in any order of operations and sums (any processor): each
        # residual is off by at most 3u (|w x| + |w x + b| + |r|), each square and the mean by a few u more.
        dr = 3 * u * (np.abs(wx) + np.abs(wx + b) + np.abs(r))
        bound = np.mean(2 * np.abs(r) * dr + dr ** 2) + (len(sel) + 2) * u * expected
        assert abs(step.batch_loss - expected) <= bound
        # the loss after the update is another value: the test can tell
        after = np.mean((step.params[0] * x[sel, 0] + step.params[1] - y[sel]) ** 2)
        assert abs(after - expected) > 10 * bound


def test_every_point_lies_on_the_surface():
    exp = la.Experiment(data=LOGISTIC, model="logistic", criterion="bce", optimizer="adam", lr=0.5,
                        batch_size=5, shuffle=True, epochs=3, seed=0)
    steps = list(la.train(exp))
    x, y = exp.data.numpy()
    for s in steps:
        p = 1 / (1 + np.exp(-(s.params[0] * x[:, 0] + s.params[1])))
        expected = -np.mean(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100))
        assert s.loss == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("model, data, criterion", [
    ("linear", LINEAR, "mse"), ("linear", LINEAR, "huber"), ("logistic", LOGISTIC, "bce"),
    ("logistic", LOGISTIC, "bce-logits"), ("plane", PLANE, "l1"),
])
def test_full_data_losses_are_the_surface_values(model, data, criterion):
    exp = la.Experiment(data=data, model=model, criterion=criterion, optimizer="adam", lr=0.3, batch_size=6,
                        shuffle=True, epochs=3)
    trajectory = la.run(exp)
    np.testing.assert_array_equal(trajectory.loss, la.loss_at(exp, trajectory.params))
    # Each point reads the same loss as the drawn surface at that node (for the plane model, the slice that
    # holds b at the step's value, as the views do while training).
    for p, loss in zip(trajectory.params[::4], trajectory.loss[::4]):
        held = {"b": float(p[2])} if model == "plane" else None
        surface = la.compute_surface(exp, w=p[:1], b=p[1:2], held=held)
        assert surface.loss[0, 0] == pytest.approx(loss, rel=1e-9)


def test_stop_flag_ends_the_run_between_steps():
    exp = la.Experiment(data=LINEAR, batch_size=1, epochs=50)
    event = threading.Event()
    training = la.train(exp, stop=event, run_id=7)
    steps = [next(training) for _ in range(4)]
    assert training.outcome == "running"
    event.set()
    with pytest.raises(StopIteration) as end:
        next(training)
    assert end.value.value == Outcome("stopped", training.message)
    assert training.outcome == "stopped" and "iteration 3" in training.message
    assert [s.run_id for s in steps] == [7] * 4

    calls = []
    trajectory = la.run(exp, stop=lambda: len(calls.append(1) or calls) > 10)
    assert trajectory.outcome == "stopped" and len(trajectory) == 11
    assert trajectory.iteration.tolist() == list(range(11))


def test_finished_outcome():
    exp = la.Experiment(data=LINEAR, batch_size=10, epochs=2)
    training = la.train(exp)
    steps = list(training)
    assert training.outcome == "finished" and len(steps) == 7
    assert training.result.outcome == "finished"
    trajectory = la.run(exp)
    assert trajectory.outcome == "finished" and trajectory.param_names == ("w", "b")
    np.testing.assert_array_equal(trajectory.params, np.array([s.params for s in steps]))
    np.testing.assert_array_equal(trajectory.epoch, [0, 1, 1, 1, 2, 2, 2])


@pytest.mark.parametrize("lr, momentum", [(5.0, 0.0), (1e6, 0.0), (1.0, 0.9)])
def test_divergence_keeps_the_path(lr, momentum):
    exp = la.Experiment(data=LINEAR, optimizer="sgd", lr=lr, optimizer_options={"momentum": momentum},
                        epochs=200, start=(-3.0, 2.5))
    trajectory = la.run(exp)
    assert trajectory.outcome == "diverged"
    assert f"iteration {len(trajectory)}" in trajectory.message and "learning rate" in trajectory.message
    assert len(trajectory) >= 1
    assert np.all(np.isfinite(trajectory.params)) and np.all(np.abs(trajectory.params) <= DIVERGENCE_BOUND)
    assert np.all(np.isfinite(trajectory.loss))
    # The kept path is the prefix of the hand loop, which goes on to blow up.
    params, _, _ = hand_loop(exp.replace(epochs=len(trajectory)),
                             lambda p: torch.optim.SGD(p, lr=lr, momentum=momentum))
    np.testing.assert_array_equal(trajectory.params[1:], params[: len(trajectory) - 1])
    assert not np.all(np.abs(params[len(trajectory) - 1]) <= DIVERGENCE_BOUND)


def test_no_update_yields_only_the_start_when_stopped_at_once():
    exp = la.Experiment(data=PLANE, model="plane")
    trajectory = la.run(exp, stop=lambda: True)
    assert len(trajectory) == 1 and trajectory.outcome == "stopped"
    assert trajectory.param_names == ("w1", "w2", "b")
    np.testing.assert_array_equal(trajectory.params[0], exp.start)
