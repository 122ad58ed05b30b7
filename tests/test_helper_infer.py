"""The helper draws the loop's own loss: it recognises the module, weighs the recorded losses, switches to the
criterion they show, and warns once, naming the keyword, where they cannot tell."""
import io
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from landscape_app.core import helper_infer as infer
from landscape_app.course import LossSurface

X = torch.arange(-1, 1, 0.1).view(-1, 1)
LABELS = (X > 0.2).float()
LINE_X = torch.arange(-3, 3, 0.1).view(-1, 1)
LINE_Y = LINE_X - 1 + 0.1 * torch.randn(LINE_X.size(), generator=torch.Generator().manual_seed(0))


def sigmoid_losses(w, b, x=X, y=LABELS):
    p = torch.sigmoid(w * x + b)
    return float(nn.MSELoss()(p, y)), float(nn.BCELoss()(p, y))


def test_full_batch_losses_switch_the_surface_to_their_criterion():
    helper = LossSurface(15, 13, X, LABELS, 30, go=False)
    assert (helper.experiment.model, helper.experiment.criterion) == ("logistic", "bce")    # labels 0/1: a guess
    assert helper.guessed
    for k in range(5):
        w, b = 5.0 + k, -10.0 + k
        helper.set_para_loss(w, b, sigmoid_losses(w, b)[0])     # the loop's loss is the sigmoid's MSE
    assert (helper.experiment.model, helper.experiment.criterion) == ("logistic", "mse")
    assert not helper.guessed
    x, y = X.double().numpy()[:, 0], LABELS.double().numpy()[:, 0]
    p = 1 / (1 + np.exp(-(helper.w[..., None] * x + helper.b[..., None])))
    np.testing.assert_allclose(helper.Z, ((p - y) ** 2).mean(axis=-1), rtol=1e-9)
    # The recorded points' full-data losses follow the switch: the path lies on the drawn surface.
    np.testing.assert_allclose(helper.trajectory.loss, helper.LOSS, rtol=1e-5)


def test_a_line_trained_on_l1_is_drawn_on_l1():
    helper = LossSurface(15, 13, LINE_X, LINE_Y, 30, go=False)
    assert helper.experiment.criterion == "mse"
    for w, b in ((-15.0, -10.0), (-12.0, -8.0), (-9.0, -6.0)):
        helper.set_para_loss(w, b, float(nn.L1Loss()(w * LINE_X + b, LINE_Y)))
    assert (helper.experiment.model, helper.experiment.criterion) == ("linear", "l1")


def test_a_module_ending_in_a_sigmoid_is_logistic_at_once():
    helper = LossSurface(15, 13, LINE_X, LINE_Y, 30, go=False)       # continuous targets: a line, so far
    model = nn.Sequential(nn.Linear(1, 1), nn.Sigmoid())
    helper.set_para_loss(model, 0.3)
    assert helper.experiment.model == "logistic" and helper.experiment.criterion == "mse"


class BiasFirst(nn.Module):
    """A hand-made module whose first parameter is the bias."""

    def __init__(self):
        super().__init__()
        self.b = nn.Parameter(torch.tensor(-2.0))
        self.w = nn.Parameter(torch.tensor(0.5))

    def forward(self, x):
        return self.w * x + self.b


def test_the_module_says_which_parameter_is_the_weight():
    helper = LossSurface(15, 13, LINE_X, LINE_Y, 30, go=False)
    model = BiasFirst()
    helper.set_para_loss(model, nn.MSELoss()(model(LINE_X), LINE_Y).item())
    assert (helper.W, helper.B) == ([0.5], [-2.0])


def test_indistinguishable_losses_warn_once_naming_the_keyword(tmp_path, qapp):
    """Mini-batch losses given as numbers (no module to watch) fit a sigmoid's MSE and its BCE alike."""
    helper = LossSurface(15, 13, X, LABELS, 30, go=False)
    w, b, lr = torch.tensor(5.0, requires_grad=True), torch.tensor(-10.0, requires_grad=True), 2.0
    for epoch in range(3):
        for i in range(0, 20, 3):
            x, y = X[i:i + 3], LABELS[i:i + 3]
            loss = torch.mean((torch.sigmoid(w * x + b) - y) ** 2)
            helper.set_para_loss(w.data.tolist(), b.data.tolist(), loss.tolist())
            loss.backward()
            with torch.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
    with pytest.warns(UserWarning) as record:
        helper.plot_ps(tmp_path / "a.png")
    assert len(record) == 1
    message = str(record[0].message)
    assert "\n" not in message and "criterion='bce'" in message and "criterion='mse'" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        helper.plot_ps(tmp_path / "b.png")        # once only
    # Said outright, nothing is guessed and nothing is said.
    said = LossSurface(15, 13, X, LABELS, 30, go=False, criterion="mse")
    for k, loss in enumerate(helper.LOSS):
        said.set_para_loss(helper.W[k], helper.B[k], loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        said.plot_ps(tmp_path / "c.png")
    assert said.experiment.criterion == "mse" and said.experiment.model == "logistic"


def test_losses_that_fit_nothing_warn_and_keep_the_surface(tmp_path, qapp):
    helper = LossSurface(15, 13, LINE_X, LINE_Y, 30, go=False)
    for k in range(4):
        helper.set_para_loss(-1.0 + k, 0.5, 1e6)        # far above any sample's loss anywhere near
    with pytest.warns(UserWarning, match="match none of the losses it knows.*criterion= and model="):
        helper.plot_ps(tmp_path / "a.png")
    assert helper.experiment.criterion == "mse"


def test_a_watched_module_can_still_be_saved_whole():
    helper = LossSurface(15, 13, LINE_X, LINE_Y, 30, go=False)
    model = nn.Linear(1, 1)
    helper.set_para_loss(model, 1.0)
    buffer = io.BytesIO()
    torch.save(model, buffer)                       # the batch probe pickles (inert)
    buffer.seek(0)
    copy = torch.load(buffer, weights_only=False)
    assert torch.equal(copy(LINE_X), model(LINE_X))


def test_per_sample_losses_are_torch_s():
    x, y = X.double().numpy()[:, 0], LABELS.double().numpy()[:, 0]
    params = (3.0, -1.0)
    z = torch.tensor(3.0 * x - 1.0).float()
    yt = torch.tensor(y).float()
    cases = {("linear", "mse"): nn.MSELoss(reduction="none")(z, yt),
             ("linear", "l1"): nn.L1Loss(reduction="none")(z, yt),
             ("linear", "huber"): nn.HuberLoss(reduction="none")(z, yt),
             ("logistic", "bce"): nn.BCELoss(reduction="none")(torch.sigmoid(z), yt),
             ("logistic", "mse"): nn.MSELoss(reduction="none")(torch.sigmoid(z), yt),
             ("logistic", "bce-logits"): nn.BCEWithLogitsLoss(reduction="none")(z, yt)}
    for combo, expected in cases.items():
        np.testing.assert_allclose(infer.per_sample(combo, params, x, y), expected.double().numpy(), rtol=1e-5,
                                   atol=1e-7, err_msg=str(combo))


def test_a_coincidence_does_not_hold_the_wrong_loss():
    """A guess confirmed once by chance gives way to the pair that reproduces the losses again and again."""
    mse, bce = ("logistic", "mse"), ("logistic", "bce")
    evidence = infer.Evidence()
    evidence.add({bce: "strong", mse: "strong"})
    assert infer.decide(bce, (bce, mse), evidence) == (bce, "confirmed")
    for _ in range(5):
        evidence.add({bce: "ok", mse: "strong"})
    assert infer.decide(bce, (bce, mse), evidence) == (mse, "confirmed")
    evidence.add({bce: "contra", mse: "strong"})
    assert infer.decide(mse, (mse, bce), evidence) == (mse, "confirmed")
    assert not evidence.consistent(bce)


def _sgd_lab(helper, model, criterion, batch_size, epochs, record, *, shuffle=False, seed=0):
    """A course lab's loop over a DataLoader; ``record(helper, model, loss)`` before or after the step."""
    from torch.utils.data import DataLoader, TensorDataset
    torch.manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=1)
    x_all, y_all = helper_data(helper)
    for _ in range(epochs):
        for x, y in DataLoader(TensorDataset(x_all, y_all), batch_size=batch_size, shuffle=shuffle):
            loss = criterion(model(x), y)
            if record == "before":
                helper.set_para_loss(model, loss.tolist())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if record == "after":
                helper.set_para_loss(model, loss.tolist())


def helper_data(helper):
    return torch.from_numpy(helper.x).float().view(-1, 1), torch.from_numpy(helper.y).float().view(-1, 1)


def test_a_run_s_first_loss_recorded_after_the_step_rules_nothing_out(tmp_path, qapp):
    """Recorded after optimizer.step(), the first loss was taken at a start the helper never saw: it once
    counted against the right criterion, and a logistic BCE lab was drawn as the line's MSE bowl, unwarned."""
    helper = LossSurface(15, 13, X, LABELS, 30, go=False)
    model = nn.Sequential(nn.Linear(1, 1), nn.Sigmoid())
    with torch.no_grad():
        model[0].weight.fill_(-0.3)
        model[0].bias.fill_(2.9)
    from torch.utils.data import DataLoader, TensorDataset
    optimizer = torch.optim.SGD(model.parameters(), lr=1)
    for _ in range(10):
        for x, y in DataLoader(TensorDataset(X, LABELS), batch_size=5):
            loss = nn.BCELoss()(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            helper.set_para_loss(model[0].weight.data.tolist(), model[0].bias.data.tolist(), loss.tolist())
    assert helper.experiment.criterion == "bce" and helper.experiment.model == "logistic"
    # Mini-batch losses given as numbers cannot tell it from every other loss: said once, naming the keyword,
    # and never offering "BCE with logits", which is the same surface.
    with pytest.warns(UserWarning) as record:
        helper.plot_ps(tmp_path / "a.png")
    message = str(record[0].message)
    assert "criterion='bce'" in message and "logits" not in message

    # The module form, recorded after the step, shuffled: a correct MSE loop is confirmed, with no warning.
    line = LossSurface(15, 13, LINE_X, LINE_Y, 30, go=False)
    model = nn.Linear(1, 1)
    _sgd_lab(line, model, nn.MSELoss(), 7, 2, "after", shuffle=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        line.plot_ps(tmp_path / "b.png")
    assert (line.experiment.model, line.experiment.criterion) == ("linear", "mse") and line._state == "confirmed"


def test_near_zero_losses_are_no_evidence():
    """A well-fitted batch's loss is near zero under every criterion: matching one sample's 9e-8 BCE with a
    1e-9 MSE is float32 noise, and once drew a sigmoid MSE lab as BCE."""
    x, y = np.array([-1.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0])
    combos = (("logistic", "mse"), ("logistic", "bce"))
    at = [(np.array([15.0, -7.0]), None, False)]
    bce = infer.per_sample(combos[1], at[0][0], x, y)
    assert bce[0] < 1e-9 < 1e-4 < bce[1:].min()       # one sample's BCE is next to nothing, the others are not
    verdicts, single = infer.judge(1e-10, at, x, y, combos)
    assert verdicts == {c: "ok" for c in combos} and single is None
    verdicts, _ = infer.judge(0.25, [(np.array([0.0, 0.0]), None, False)], x, y, combos)
    assert verdicts[("logistic", "mse")] == "strong"            # σ(0) = 0.5 everywhere: MSE is exactly 0.25


def test_two_names_of_one_surface_are_no_ambiguity():
    bce, logits = ("logistic", "bce"), ("logistic", "bce-logits")
    evidence = infer.Evidence()
    evidence.add({bce: "strong", logits: "strong"})
    assert infer.decide(bce, (bce, logits), evidence) == (bce, "confirmed")
    assert infer.distinct((logits, ("linear", "mse"), bce)) == (logits, ("linear", "mse"))


def test_looking_at_the_module_leaves_the_loop_s_random_state_and_mode_alone():
    model = nn.Sequential(nn.Linear(1, 1), nn.Dropout(0.5), nn.Sigmoid())
    helper = LossSurface(15, 13, X, LABELS, 30, go=False)
    state = torch.get_rng_state()
    helper.set_para_loss(model, 0.5)             # the first sight of the module calls it on the data
    assert torch.equal(torch.get_rng_state(), state) and model.training
