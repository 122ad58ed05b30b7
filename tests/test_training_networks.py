"""Training a network is the course's plain loop, bit for bit: the same module built by hand under the same seed,
the course's Dataset and DataLoader, criterion and optimizer written out with torch, every step's parameters (and
BatchNorm statistics) compared exactly. The linear family's cases are in test_training.py."""
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

import landscape_app as la
from landscape_app.core.surface_parallel import torch_threads


class Data(Dataset):
    """The course's dataset class: samples one by one, stacked by the DataLoader's default collate."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __getitem__(self, index):
        return self.x[index], self.y[index]

    def __len__(self):
        return self.x.shape[0]


def course_loop(model, x, y, criterion, optimizer, batch_size, shuffle, seed, epochs, seed_dropout=False):
    """The loop as the labs write it; returns each update's flat float64 parameters, buffers and batch loss."""
    loader = DataLoader(Data(x, y), batch_size=batch_size, shuffle=shuffle,
                        generator=torch.Generator().manual_seed(seed))
    if seed_dropout:
        torch.manual_seed(seed)          # dropout's masks come from torch's global random state
    params, buffers, losses = [], [], []
    for _ in range(epochs):
        for xb, yb in loader:
            yhat = model(xb)
            loss = criterion(yhat, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            params.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]).double().numpy())
            buffers.append({k: b.detach().double().numpy().copy() for k, b in model.named_buffers()
                            if b.dtype.is_floating_point})
    return np.array(params), buffers, np.array(losses)


def check_bit_identical(exp, model, criterion, optimizer, targets, seed_dropout=False):
    steps = list(la.train(exp))
    # The course's loop at the run's thread count (dropout's masks, for one, depend on it).
    with torch_threads(exp.threads):
        params, buffers, losses = course_loop(model, exp.data.x, targets, criterion, optimizer, exp.batch_size,
                                              exp.shuffle, exp.seed, exp.epochs, seed_dropout)
    assert len(steps) == 1 + len(params) == 1 + exp.epochs * exp.steps_per_epoch
    got = np.array([s.params for s in steps[1:]])
    assert np.array_equal(got, params), np.abs(got - params).max()
    assert np.array_equal(np.array([s.batch_loss for s in steps[1:]]), losses)
    for step, expected in zip(steps[1:], buffers):
        assert (step.buffers or {}).keys() == expected.keys()
        for name, value in expected.items():
            assert np.array_equal(step.buffers[name], value), name
    return steps


MOONS = la.make_dataset("moons", n_samples=200, noise=0.2, seed=1)


def test_mlp_with_adam_and_shuffled_mini_batches():
    exp = la.Experiment(data=MOONS, model="mlp", model_options={"hidden": (16, 16), "activation": "tanh"},
                        optimizer="adam", lr=0.01, optimizer_options={"betas": (0.8, 0.99)}, batch_size=32,
                        shuffle=True, epochs=3, seed=7)
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99))
    steps = check_bit_identical(exp, model, nn.BCEWithLogitsLoss(), optimizer, MOONS.y)
    assert steps[-1].loss < steps[0].loss                 # it learnt something: the comparison is not vacuous


def test_mlp_with_dropout_and_batchnorm_is_reproducible_from_the_seed():
    exp = la.Experiment(data=MOONS, model="mlp",
                        model_options={"hidden": (12, 8), "activation": "relu", "batchnorm": True, "dropout": 0.3},
                        optimizer="sgd", lr=0.1, optimizer_options={"momentum": 0.9}, batch_size=25, shuffle=True,
                        epochs=2, seed=4)
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(2, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(12, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch.manual_seed(12345)                              # whatever the global state before, the run is the same
    steps = check_bit_identical(exp, model, nn.BCEWithLogitsLoss(), optimizer, MOONS.y, seed_dropout=True)
    assert set(steps[-1].buffers) == {"1.running_mean", "1.running_var", "5.running_mean", "5.running_var"}
    torch.manual_seed(999)
    again = la.run(exp)
    np.testing.assert_array_equal(again.params[1:], np.array([s.params for s in steps[1:]]))


def test_cnn_on_digits():
    digits = la.make_dataset("digits", n_samples=300)
    exp = la.Experiment(data=digits, model="cnn", model_options={"channels": (4, 6)}, optimizer="sgd", lr=0.2,
                        optimizer_options={"momentum": 0.5, "nesterov": True}, batch_size=64, shuffle=True,
                        epochs=2, seed=2)
    assert exp.criterion == "cross-entropy"
    torch.manual_seed(2)
    model = nn.Sequential(nn.Unflatten(1, (1, 8, 8)),
                          nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(6 * 2 * 2, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.5, nesterov=True)
    labels = digits.y.reshape(-1).long()                  # class indices, as CrossEntropyLoss wants them
    steps = check_bit_identical(exp, model, nn.CrossEntropyLoss(), optimizer, labels)
    assert len(steps) == 1 + 2 * 5


@pytest.mark.parametrize("model, options", [("mlp", {"hidden": (5,), "batchnorm": True, "dropout": 0.2}),
                                            ("softmax", {})])
def test_a_network_session_round_trips_through_toml(tmp_path, model, options):
    data = la.make_dataset("moons", n_samples=80, noise=0.3, seed=9) if model == "mlp" else \
        la.make_dataset("digits", n_samples=50, seed=2)
    exp = la.Experiment(data=data, model=model, model_options=options, optimizer="adam", lr=0.01, batch_size=16,
                        shuffle=True, epochs=2, seed=3)
    la.save(la.Session((exp, exp.replace(optimizer="sgd", lr=0.1)), title="net"), tmp_path / "s.toml")
    text = (tmp_path / "s.toml").read_text()
    assert f'model = "{model}"' in text
    back = la.load_session(tmp_path / "s.toml")
    again = back.experiment
    assert again.model == model and again.model_options == exp.model_options
    assert again.data == data and again.data.source.params == data.source.params
    assert (again.optimizer, again.lr, again.batch_size, again.shuffle, again.seed) == ("adam", 0.01, 16, True, 3)
    np.testing.assert_array_equal(again.start_vector(), exp.start_vector())
    np.testing.assert_array_equal(la.run(again).params, la.run(exp).params)
    assert back.runs[1].optimizer == "sgd"
