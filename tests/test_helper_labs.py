"""The course's six labs, each as the course wrote it with one line changed: ``plot_error_surfaces = la.LossSurface``.

Each must run, draw the lab's own loss (checked against the lab's own model and criterion over the grid), keep its
runs apart, and show every figure it asks for. The figures go "inline" here (as in the course's notebooks) into a
stand-in for IPython's ``display``, so every ``plot_ps``/``final_plot`` call is really drawn.
"""
import numpy as np
import pytest
import torch
from torch import nn, optim
from torch.utils.data import DataLoader, Dataset

import landscape_app as la
from landscape_app import course as helper_module

plot_error_surfaces = la.LossSurface        # the one changed line


@pytest.fixture
def shown(monkeypatch, qapp):
    """Every figure the labs show, as decoded images (the labs run as in a notebook)."""
    display = pytest.importorskip("IPython.display")
    from PySide6.QtGui import QImage
    images = []
    monkeypatch.setattr(helper_module, "output_place", lambda show: "inline")
    monkeypatch.setattr(display, "display", lambda obj: images.append(QImage.fromData(obj.data, "PNG")))
    return images


def lab_surface(helper, forward, criterion, X, Y) -> np.ndarray:
    """The lab's own loss over the helper's grid, from the lab's own forward and criterion (float64)."""
    Xd, Yd = torch.as_tensor(X).double(), torch.as_tensor(Y).double()
    Z = np.empty_like(helper.Z)
    for i, b in enumerate(helper.surface.b):
        for j, w in enumerate(helper.surface.w):
            with torch.no_grad():
                Z[i, j] = float(criterion(forward(Xd, torch.tensor(w, dtype=torch.float64),
                                                  torch.tensor(b, dtype=torch.float64)), Yd))
    return Z


def sizes(images):
    return [(i.width(), i.height()) for i in images]


# -- 1. linear regression by batch gradient descent ------------------------------------------------------------
def test_lab1_batch_gradient_descent(shown):
    torch.manual_seed(1)
    w = torch.tensor(-15.0, requires_grad=True)
    b = torch.tensor(-10.0, requires_grad=True)
    X = torch.arange(-3, 3, 0.1).view(-1, 1)
    f = 1 * X - 1
    Y = f + 0.1 * torch.randn(X.size())

    def forward(x):
        return w * x + b

    def criterion(yhat, y):
        return torch.mean((yhat - y) ** 2)

    get_surface = plot_error_surfaces(15, 15, X, Y, 30)
    lr = 0.1
    LOSS = []

    def train_model(iter):
        for epoch in range(iter):
            Yhat = forward(X)
            loss = criterion(Yhat, Y)
            get_surface.set_para_loss(w.data.tolist(), b.data.tolist(), loss.tolist())
            if epoch % 3 == 0:
                get_surface.plot_ps()
            LOSS.append(loss.item())
            loss.backward()
            w.data = w.data - lr * w.grad.data
            b.data = b.data - lr * b.grad.data
            w.grad.data.zero_()
            b.grad.data.zero_()

    train_model(15)
    assert (get_surface.experiment.model, get_surface.experiment.criterion) == ("linear", "mse")
    np.testing.assert_allclose(get_surface.Z, lab_surface(get_surface, lambda x, w, b: w * x + b, criterion, X, Y),
                               rtol=1e-9)
    assert get_surface.n == 15 and len(get_surface.trajectories) == 1
    np.testing.assert_allclose(get_surface.LOSS, LOSS, rtol=1e-6)
    # go=True's surface (its contour: no OpenGL offscreen), then plot_ps at epochs 0, 3, 6, 9, 12.
    assert sizes(shown) == [(560, 440)] + [(1000, 440)] * 5


# -- 2. stochastic gradient descent, then the same helper for a DataLoader run ---------------------------------
class Data(Dataset):
    def __init__(self, noise=0.0, seed=1):
        self.x = torch.arange(-3, 3, 0.1).view(-1, 1)
        self.y = 1 * self.x - 1 + noise * torch.randn(self.x.size(), generator=torch.Generator().manual_seed(seed))
        self.len = self.x.shape[0]

    def __getitem__(self, index):
        return self.x[index], self.y[index]

    def __len__(self):
        return self.len


def test_lab2_stochastic_gradient_descent_then_a_dataloader_run(shown):
    torch.manual_seed(1)
    X = torch.arange(-3, 3, 0.1).view(-1, 1)
    f = 1 * X - 1
    Y = f + 0.1 * torch.randn(X.size())
    w = torch.tensor(-15.0, requires_grad=True)
    b = torch.tensor(-10.0, requires_grad=True)

    def forward(x):
        return w * x + b

    def criterion(yhat, y):
        return torch.mean((yhat - y) ** 2)

    get_surface = plot_error_surfaces(15, 13, X, Y, 30, go=False)
    lr = 0.1
    LOSS_SGD = []

    def train_model_SGD(iter):
        for epoch in range(iter):
            Yhat = forward(X)
            LOSS_SGD.append(criterion(Yhat, Y).tolist())
            for x, y in zip(X, Y):
                yhat = forward(x)
                loss = criterion(yhat, y)
                get_surface.set_para_loss(w.data.tolist(), b.data.tolist(), loss.tolist())
                loss.backward()
                w.data = w.data - lr * w.grad.data
                b.data = b.data - lr * b.grad.data
                w.grad.data.zero_()
                b.grad.data.zero_()
            get_surface.plot_ps()

    train_model_SGD(10)
    first = get_surface.trajectory
    assert first.params[:, 1].min() < -13                  # SGD dips below the grid's b range...
    assert get_surface.display_box()[1][0] < first.params[:, 1].min()      # ...and the view takes it in
    # SGD's loss is one sample's: the data view rings that sample.
    assert [len(bt) for bt in first.batches[:3]] == [1, 1, 1] and list(first.batches[1]) == [1]

    dataset = Data(noise=0.1)
    trainloader = DataLoader(dataset=dataset, batch_size=1)
    w = torch.tensor(-15.0, requires_grad=True)
    b = torch.tensor(-10.0, requires_grad=True)
    LOSS_Loader = []

    def train_model_DataLoader(epochs):
        for epoch in range(epochs):
            Yhat = forward(X)
            LOSS_Loader.append(criterion(Yhat, Y).tolist())
            for x, y in trainloader:
                yhat = forward(x)
                loss = criterion(yhat, y)
                get_surface.set_para_loss(w.data.tolist(), b.data.tolist(), loss.tolist())
                loss.backward()
                w.data = w.data - lr * w.grad.data
                b.data = b.data - lr * b.grad.data
                w.grad.data.zero_()
                b.grad.data.zero_()
            get_surface.plot_ps()

    train_model_DataLoader(10)
    assert (get_surface.experiment.model, get_surface.experiment.criterion) == ("linear", "mse")
    assert [len(t) for t in get_surface.trajectories] == [600, 600]   # back at the start: a second run
    assert get_surface.n == 1200 and sizes(shown) == [(1000, 440)] * 20
    np.testing.assert_allclose(get_surface.Z, lab_surface(get_surface, lambda x, w, b: w * x + b, criterion, X, Y),
                               rtol=1e-9)


# -- 3. mini-batch gradient descent, batch sizes 5, 10 and 20 into one helper ---------------------------------
def test_lab3_mini_batches_of_several_sizes(shown):
    torch.manual_seed(1)
    X = torch.arange(-3, 3, 0.1).view(-1, 1)
    f = 1 * X - 1
    Y = f + 0.1 * torch.randn(X.size())
    dataset = Data()
    dataset.y = Y                      # the lab's dataset holds the same noisy targets

    def forward(x):
        return w * x + b

    def criterion(yhat, y):
        return torch.mean((yhat - y) ** 2)

    get_surface = plot_error_surfaces(15, 13, X, Y, 30, go=False)
    lr = 0.1
    losses = {}
    for size in (5, 10, 20):
        trainloader = DataLoader(dataset=dataset, batch_size=size)
        w = torch.tensor(-15.0, requires_grad=True)
        b = torch.tensor(-10.0, requires_grad=True)
        LOSS_MINI = losses.setdefault(size, [])

        def train_model_Mini(epochs):
            for epoch in range(epochs):
                Yhat = forward(X)
                get_surface.set_para_loss(w.data.tolist(), b.data.tolist(), criterion(Yhat, Y).tolist())
                get_surface.plot_ps()
                LOSS_MINI.append(criterion(forward(X), Y).tolist())
                for x, y in trainloader:
                    yhat = forward(x)
                    loss = criterion(yhat, y)
                    get_surface.set_para_loss(w.data.tolist(), b.data.tolist(), loss.tolist())
                    loss.backward()
                    w.data = w.data - lr * w.grad.data
                    b.data = b.data - lr * b.grad.data
                    w.grad.data.zero_()
                    b.grad.data.zero_()

        train_model_Mini(4)
    assert (get_surface.experiment.model, get_surface.experiment.criterion) == ("linear", "mse")
    assert [len(t) for t in get_surface.trajectories] == [4 * 13, 4 * 7, 4 * 4]   # each epoch: 1 + 60/size
    assert sizes(shown) == [(1000, 440)] * 12
    np.testing.assert_allclose(get_surface.Z, lab_surface(get_surface, lambda x, w, b: w * x + b, criterion, X, Y),
                               rtol=1e-9)


# -- 4. the "PyTorch way": a module, optim.SGD, set_para_loss(model, loss) ------------------------------------
class linear_regression(nn.Module):
    def __init__(self, input_size, output_size):
        super(linear_regression, self).__init__()
        self.linear = nn.Linear(input_size, output_size)

    def forward(self, x):
        yhat = self.linear(x)
        return yhat


@pytest.mark.parametrize("kind", ["custom module", "nn.Linear"])
def test_lab4_the_pytorch_way(shown, kind):
    torch.manual_seed(1)
    train_data = Data(noise=0.1)
    criterion = nn.MSELoss()
    trainloader = DataLoader(dataset=train_data, batch_size=1)
    if kind == "nn.Linear":
        model = nn.Linear(1, 1)
        model.state_dict()['weight'][0] = -15
        model.state_dict()['bias'][0] = -10
    else:
        model = linear_regression(1, 1)
        model.state_dict()['linear.weight'][0] = -15
        model.state_dict()['linear.bias'][0] = -10
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    get_surface = plot_error_surfaces(15, 13, train_data[:][0], train_data[:][1], 30, go=False)
    LOSS = []

    def train_model_BGD(iter):
        for epoch in range(iter):
            for x, y in trainloader:
                yhat = model(x)
                loss = criterion(yhat, y)
                get_surface.set_para_loss(model, loss.tolist())
                LOSS.append(loss.item())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            get_surface.plot_ps()

    train_model_BGD(5)
    assert (get_surface.experiment.model, get_surface.experiment.criterion) == ("linear", "mse")
    assert get_surface.n == 300 and len(get_surface.trajectories) == 1
    assert get_surface.W[0] == -15 and get_surface.B[0] == -10
    # The module's mini-batch (one sample here) is seen: the data view rings it.
    t = get_surface.trajectory
    assert [list(bt) for bt in t.batches[1:4]] == [[1], [2], [3]]
    assert sizes(shown) == [(1000, 440)] * 5
    np.testing.assert_allclose(get_surface.Z, lab_surface(get_surface, lambda x, w, b: w * x + b,
                                                          nn.MSELoss(), train_data.x, train_data.y), rtol=1e-9)


# -- 5 and 6. logistic regression from a bad start, with MSE and with cross-entropy ---------------------------
class LogisticData(Dataset):
    def __init__(self):
        self.x = torch.arange(-1, 1, 0.1).view(-1, 1)
        self.y = torch.zeros(self.x.shape[0], 1)
        self.y[self.x[:, 0] > 0.2] = 1
        self.len = self.x.shape[0]

    def __getitem__(self, index):
        return self.x[index], self.y[index]

    def __len__(self):
        return self.len


class logistic_regression(nn.Module):
    def __init__(self, n_inputs):
        super(logistic_regression, self).__init__()
        self.linear = nn.Linear(n_inputs, 1)

    def forward(self, x):
        yhat = torch.sigmoid(self.linear(x))
        return yhat


def own_cross_entropy(yhat, y):
    out = -1 * torch.mean(y * torch.log(yhat) + (1 - y) * torch.log(1 - yhat))
    return out


def run_logistic_lab(criterion, epochs=100):
    torch.manual_seed(0)
    data_set = LogisticData()
    model = logistic_regression(1)
    model.state_dict()['linear.weight'].data[0] = torch.tensor([5])
    model.state_dict()['linear.bias'].data[0] = torch.tensor([-10])
    trainloader = DataLoader(dataset=data_set, batch_size=3)
    learning_rate = 2
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    get_surface = plot_error_surfaces(15, 13, data_set[:][0], data_set[:][1], 30)

    def train_model(epochs):
        for epoch in range(epochs):
            for x, y in trainloader:
                yhat = model(x)
                loss = criterion(yhat, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                get_surface.set_para_loss(model, loss.tolist())
            if epoch % 20 == 0:
                get_surface.plot_ps()

    train_model(epochs)
    get_surface.final_plot()
    return get_surface, data_set


def sigmoid_forward(x, w, b):
    return torch.sigmoid(w * x + b)


def test_lab5_logistic_regression_with_mse_draws_the_sigmoid_mse_not_the_line_bowl(shown):
    get_surface, data = run_logistic_lab(nn.MSELoss())
    assert (get_surface.experiment.model, get_surface.experiment.criterion) == ("logistic", "mse")
    Z = lab_surface(get_surface, sigmoid_forward, nn.MSELoss(), data.x, data.y)
    np.testing.assert_allclose(get_surface.Z, Z, rtol=1e-9)
    assert get_surface.Z.max() <= 1.0                     # not the line's bowl, whose colour bar ran to ~250
    # The bad start's flat plateau is flat on the drawn surface: the path's full-data loss hardly moves at first.
    t = get_surface.trajectory
    assert abs(t.loss[20] - t.loss[0]) < 1e-3 and t.loss[-1] < 0.5 * t.loss[0]
    # go=True's surface, epochs 0, 20, 40, 60, 80, then final_plot (2-D panels: no OpenGL offscreen).
    assert sizes(shown) == [(560, 440)] + [(1000, 440)] * 5 + [(1300, 440)]
    titles = get_surface._figures["final_plot"].panels
    assert titles["data"].title.text() == f"Data space · iteration {get_surface.n}"


@pytest.mark.parametrize("criterion", [nn.BCELoss(), own_cross_entropy], ids=["BCELoss", "the lab's own"])
def test_lab6_logistic_regression_with_cross_entropy(shown, criterion):
    get_surface, data = run_logistic_lab(criterion)
    assert (get_surface.experiment.model, get_surface.experiment.criterion) == ("logistic", "bce")
    Z = lab_surface(get_surface, sigmoid_forward, own_cross_entropy, data.x, data.y)
    np.testing.assert_allclose(get_surface.Z, Z, rtol=1e-7)
    assert 10 < get_surface.Z.max() < 16
    assert len(shown) == 7 and get_surface.loss_name == "BCE of σ(w·x + b)"
