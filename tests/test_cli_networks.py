"""`landscape-app surface|run` for networks: an experiment from options (an MLP on moons, a CNN on digits, a user's
module from a file), planes through its parameters, the files they write, and one-line refusals."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

import landscape_app as la
from landscape_app import commands
from landscape_app.export.data import load_runs, load_surface

MOONS = ["--model", "mlp", "--data", "moons", "--data-option", "n_samples=60", "--data-option", "noise=0.2",
         "--hidden", "6", "--activation", "relu"]
DIGITS = ["--model", "cnn", "--data", "digits", "--data-option", "n_samples=120", "--model-option",
          "channels=[2, 3]"]


def moons_experiment(**changes):
    kw = dict(data=la.make_dataset("moons", n_samples=60, noise=0.2), model="mlp",
              model_options={"hidden": (6,), "activation": "relu"})
    kw.update(changes)
    return la.Experiment(**kw)


def torch_losses(exp, plane, alpha, beta, buffers=None):
    """The loss at each grid point as plain torch computes it: the module at those parameters, in float64.
    A surface equals it within 1e-5 relative (the batched evaluator's promise)."""
    module = exp.build_module().double().eval()
    if buffers:
        for name, b in module.named_buffers():
            if name in buffers:
                b.copy_(torch.as_tensor(buffers[name]))
    criterion = {"bce-logits": nn.BCEWithLogitsLoss(), "cross-entropy": nn.CrossEntropyLoss()}[exp.criterion]
    target = exp.targets()
    target = target.double() if target.dtype.is_floating_point else target
    out = np.empty((len(beta), len(alpha)))
    with torch.no_grad():
        for i, b in enumerate(beta):
            for j, a in enumerate(alpha):
                nn.utils.vector_to_parameters(torch.from_numpy(plane.point(a, b)), module.parameters())
                out[i, j] = float(criterion(module(exp.data.x.double()), target))
    return out


def err_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# -- an MLP on moons --------------------------------------------------------------------------------------------
def test_mlp_on_moons_surface_over_two_named_parameters(tmp_path, capsys):
    out = tmp_path / "s.npz"
    code = commands.main(["surface", *MOONS, "--plane", "axes", "--axes", "0.weight[1,0],2.bias[0]",
                          "--span=-2,2,-1,3", "--resolution", "5x4", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "5x4 grid over (0.weight[1,0], 2.bias[0]) on an axes plane" in capsys.readouterr().out
    z = np.load(out)
    exp = moons_experiment()
    np.testing.assert_array_equal(z["alpha"], np.linspace(-2, 2, 5))
    np.testing.assert_array_equal(z["beta"], np.linspace(-1, 3, 4))
    assert z["loss"].shape == (4, 5) and str(z["plane_kind"]) == "axes" and str(z["metric"]) == "loss"
    names = exp.param_names
    ix, iy = names.index("0.weight[1,0]"), names.index("2.bias[0]")
    origin = exp.start_vector()
    origin[[ix, iy]] = 0.0
    np.testing.assert_array_equal(z["plane_origin"], origin)
    assert np.flatnonzero(z["plane_d1"]).tolist() == [ix] and np.flatnonzero(z["plane_d2"]).tolist() == [iy]
    assert list(z["plane_labels"]) == ["0.weight[1,0]", "2.bias[0]"]
    session, surface = load_surface(out)
    assert session.experiment.model == "mlp" and session.experiment.model_options["hidden"] == (6,)
    assert session.experiment.data == exp.data                     # the knobs came back: the same samples
    expected = torch_losses(exp, surface.plane, surface.alpha, surface.beta)
    np.testing.assert_allclose(surface.loss, expected, rtol=1e-5)
    assert "path_alpha" not in z.files                            # nothing trained, no path


def test_the_csv_is_long_form_alpha_beta_loss_with_the_plane(tmp_path, capsys):
    args = ["surface", *MOONS, "--plane", "axes", "--axes", "0.weight[0,0],0.weight[0,1]", "--span", "1",
            "--resolution", "3x2"]
    assert commands.main([*args, "-o", str(tmp_path / "s.csv")]) == 0
    assert commands.main([*args, "-o", str(tmp_path / "s.npz")]) == 0
    text = (tmp_path / "s.csv").read_text()
    rows = [line for line in text.splitlines() if not line.startswith("#")]
    assert rows[0] == '"0.weight[0,0]","0.weight[0,1]",loss'
    values = np.array([[float(v) for v in r.split(",")] for r in rows[1:]])
    assert values.shape == (6, 3)
    z = np.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(values[:, 2], z["loss"].ravel())
    np.testing.assert_array_equal(values[:3, 0], z["alpha"])
    _, from_csv = load_surface(tmp_path / "s.csv")
    np.testing.assert_array_equal(from_csv.loss, z["loss"])
    np.testing.assert_array_equal(from_csv.plane.origin, z["plane_origin"])
    assert from_csv.plane.kind == "axes"


def test_run_writes_the_path_of_the_plain_loop(tmp_path, capsys):
    out = tmp_path / "path.csv"
    code = commands.main(["run", *MOONS, "--optimizer", "adam", "--lr", "0.02", "--optimizer-option",
                          "betas=[0.8, 0.99]", "--batch-size", "16", "--shuffle", "--epochs", "3", "--seed", "5",
                          "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    session, (path,) = load_runs(out)
    exp = session.experiment
    assert (exp.optimizer, exp.lr, exp.batch_size, exp.shuffle, exp.seed) == ("adam", 0.02, 16, True, 5)
    assert exp.optimizer_options["betas"] == (0.8, 0.99)
    fresh = la.run(moons_experiment(optimizer="adam", lr=0.02, optimizer_options={"betas": (0.8, 0.99)},
                                    batch_size=16, shuffle=True, epochs=3, seed=5))
    assert len(path) == 1 + 3 * 4
    np.testing.assert_array_equal(path.params, fresh.params)
    np.testing.assert_array_equal(path.loss, fresh.loss)


def test_at_end_trains_and_keeps_the_projected_path(tmp_path, capsys):
    out = tmp_path / "end.npz"
    code = commands.main(["surface", *MOONS, "--model-option", "batchnorm=true", "--epochs", "2",
                          "--batch-size", "20", "--optimizer", "sgd", "--lr", "0.1", "--plane", "axes", "--axes", "3.weight[0,0],3.bias[0]", "--at", "end",
                          "--span=-3,3", "--resolution", "3", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    z = np.load(out)
    exp = moons_experiment(model_options={"hidden": (6,), "activation": "relu", "batchnorm": True}, epochs=2,
                           batch_size=20)
    path = la.run(exp)
    names = exp.param_names
    ix, iy = names.index("3.weight[0,0]"), names.index("3.bias[0]")
    end = path.params[-1]
    assert z["path_alpha"].shape == (len(path),)
    np.testing.assert_array_equal(z["path_iteration"], path.iteration)
    np.testing.assert_array_equal(z["path_alpha"], path.params[:, ix])   # an axes plane: the parameter itself
    np.testing.assert_array_equal(z["path_beta"], path.params[:, iy])
    np.testing.assert_array_equal(z["path_loss"], path.loss)             # the true loss, at the real parameters
    assert z["path_distance"][-1] == 0 and z["path_distance"][0] > 0     # the end lies on the plane
    assert z["path_surface"][-1] == pytest.approx(path.loss[-1], rel=1e-12)
    held = np.delete(np.arange(len(names)), [ix, iy])
    np.testing.assert_array_equal(z["plane_origin"][held], end[held])
    _, surface = load_surface(out)
    # BatchNorm evaluated with the trained end's running statistics, as the path's own losses are
    expected = torch_losses(exp, surface.plane, surface.alpha, surface.beta, buffers=path.buffers)
    np.testing.assert_allclose(surface.loss, expected, rtol=1e-5)


def test_a_cnn_on_digits_trains_with_the_defaults(tmp_path, capsys):
    out = tmp_path / "cnn.csv"
    assert commands.main(["run", "--model", "cnn", "--data", "digits", "-q", "-o", str(out)]) == 0, \
        capsys.readouterr().err
    session, (path,) = load_runs(out)
    exp = session.experiment
    assert (exp.optimizer, exp.lr, exp.batch_size, exp.epochs, exp.threads) == ("adam", 0.01, 64, 3, 1)
    assert path.loss[0] > 2.2 and path.loss[-1] < 0.5          # it was 2.304 -> 2.283 on 20 full-batch SGD steps
    assert path.batches[1].size == 64
    # A closed-form model keeps the course's full-batch SGD; another optimizer brings its own learning rate.
    assert commands.main(["run", "--model", "linear", "--data", "linear", "-q", "-o", str(tmp_path / "l.csv")]) == 0
    linear = load_runs(tmp_path / "l.csv")[0].experiment
    assert (linear.optimizer, linear.lr, linear.batch_size, linear.epochs) == ("sgd", 0.1, None, 20)
    assert commands.main(["run", *MOONS, "--optimizer", "sgd", "--epochs", "1", "-q", "-o",
                          str(tmp_path / "m.csv")]) == 0
    mlp = load_runs(tmp_path / "m.csv")[0].experiment
    assert (mlp.optimizer, mlp.lr, mlp.batch_size) == ("sgd", 0.1, None)    # 64 >= the 60 samples: the full batch


def test_the_surface_of_one_mini_batch(tmp_path, capsys):
    exp = moons_experiment(batch_size=16, shuffle=True, epochs=2, seed=3)
    steps = list(la.train(exp))
    out = tmp_path / "batch.npz"
    code = commands.main(["surface", *MOONS, "--batch-size", "16", "--shuffle", "--epochs", "2", "--seed", "3",
                          "--optimizer", "sgd", "--lr", "0.1", "--plane", "axes", "--axes", "0.bias[0],0.bias[1]", "--resolution", "3", "--batch", "6",
                          "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    z = np.load(out)
    np.testing.assert_array_equal(z["batch"], steps[6].batch)          # iteration 6: the second epoch's second
    plane = la.Plane.axes(exp, "0.bias[0]", "0.bias[1]")
    want = la.compute_surface(exp, plane=plane, resolution=3, batch=steps[6].batch)
    np.testing.assert_array_equal(z["loss"], want.loss)
    assert commands.main(["surface", *MOONS, "--batch-size", "full", "--epochs", "20", "--plane", "axes", "--batch",
                          "21", "-o", str(tmp_path / "x.npz")]) == 2
    assert "--batch: must be an iteration of the run, from 1 to 20, not 21" in err_line(capsys)   # 20 full batches


# -- a CNN on digits --------------------------------------------------------------------------------------------
def test_cnn_on_digits_trains_and_draws_its_accuracy(tmp_path, capsys):
    run_out = tmp_path / "cnn.json"
    code = commands.main(["run", *DIGITS, "--optimizer", "sgd", "--optimizer-option", "momentum=0.9", "--lr", "0.1",
                          "--batch-size", "60", "--epochs", "2", "-o", str(run_out)])
    assert code == 0, capsys.readouterr().err
    session, (path,) = load_runs(run_out)
    assert session.experiment.criterion == "cross-entropy" and len(path) == 5 and path.outcome == "finished"
    exp = session.experiment
    assert exp.model == "cnn" and exp.model_options["channels"] == (2, 3) and len(exp.data) == 120
    out = tmp_path / "acc.npz"
    code = commands.main(["surface", *DIGITS, "--plane", "axes", "--axes", "1.bias[0],1.bias[1]", "--span", "5",
                          "--resolution", "3", "--metric", "accuracy", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    _, surface = load_surface(out)
    assert surface.metric == "accuracy" and surface.criterion == "cross-entropy"
    module = exp.build_module().double().eval()
    with torch.no_grad():
        for i, b in enumerate(surface.beta):
            for j, a in enumerate(surface.alpha):
                nn.utils.vector_to_parameters(torch.from_numpy(surface.plane.point(a, b)), module.parameters())
                right = (module(exp.data.x.double()).argmax(1) == exp.targets()).double().mean()
                # a logit tie a rounding apart may go either way: at most one of the 120 samples
                assert surface.loss[i, j] == pytest.approx(float(right), abs=1.5 / 120)


# -- a user's module from a file --------------------------------------------------------------------------------
USER_FILE = '''\
import torch
from torch import nn


def make(width=4):
    return nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, 1))


class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)
        raise RuntimeError("no weights here")


def broken():
    return Broken()


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
        return self.lin(x) * float("nan")


def nan():
    return Nan()
'''


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "my_net.py"
    path.write_text(USER_FILE)
    return path


def test_a_users_module_from_a_file(tmp_path, user_file, capsys):
    source = ["--model", f"{user_file}:make", "--model-option", "width=3", "--data", "moons", "--data-option",
              "n_samples=40"]
    assert commands.main(["run", *source, "--epochs", "2", "-o", str(tmp_path / "p.json")]) == 0
    session, (path,) = load_runs(tmp_path / "p.json", trust=True)      # its session names code: trusted
    assert session.experiment.param_count == 2 * 3 + 3 + 3 + 1 and len(path) == 3
    table = json.loads((tmp_path / "p.json").read_text())
    assert table["session"]["experiment"]["model"] == "my_net.py:make"    # relative to the file, moves with it
    code = commands.main(["surface", *source, "--plane", "axes", "--axes", "2.weight[0,0],2.bias[0]",
                          "--resolution", "3", "-o", str(tmp_path / "s.npz")])
    assert code == 0, capsys.readouterr().err
    _, surface = load_surface(tmp_path / "s.npz", trust=True)
    exp = session.experiment
    np.testing.assert_allclose(surface.loss, torch_losses(exp, surface.plane, surface.alpha, surface.beta),
                               rtol=1e-5)


@pytest.mark.parametrize("func, line, text", [
    ("broken", 13, "RuntimeError: no weights here"),
    ("flat", 25, "returned shape (40,) for 40 samples"),
    ("nan", 38, "the loss at the start is nan"),
    ("missing", None, "has no function 'missing'"),
])
@pytest.mark.parametrize("command", ["surface", "run"])
def test_a_users_failing_module_is_one_line_naming_file_and_line(tmp_path, user_file, capsys, func, line, text,
                                                                 command):
    out = tmp_path / ("s.npz" if command == "surface" else "p.csv")
    code = commands.main([command, "--model", f"{user_file}:{func}", "--data", "moons", "--data-option",
                          "n_samples=40", "-o", str(out)])
    assert code == 2
    err = err_line(capsys)
    assert err.startswith(f"landscape-app {command}: error: --model: ")
    assert text in err
    if line is not None:
        assert f"{user_file} line {line}" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_net.py"]       # nothing written


def test_a_failing_module_in_the_real_program(tmp_path, user_file):
    done = subprocess.run([sys.executable, "-m", "landscape_app", "surface", "--model", f"{user_file}:nan",
                           "--data", "moons", "-o", str(tmp_path / "s.npz")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"{user_file} line 38" in done.stderr and done.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_net.py"]


# -- refusals ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, words", [
    (["--model", "perceptron", "--data", "moons"], "--model: unknown model 'perceptron'"),
    (["--model", "mlp", "--data", "blobs"], "--data blobs: unknown dataset generator 'blobs'"),
    (["--model", "mlp", "--data", "moons", "--data-option", "noize=1"], "has no knob 'noize'"),
    (["--model", "mlp", "--data", "moons", "--data-option", "noise"], "--data-option 'noise': write KEY=VALUE"),
    (["--model", "mlp", "--data", "moons", "--hidden", "8,x"], "--hidden '8,x': give the widths"),
    (["--model", "mlp", "--data", "moons", "--hidden", "0"], "--hidden: must be a list of whole numbers"),
    (["--model", "mlp", "--data", "moons", "--activation", "swish"], "--activation: must be one of tanh"),
    (["--model", "mlp", "--data", "moons", "--model-option", "width=3"], "--model-option width: the 'mlp' model "
                                                                         "has no such option"),
    (["--model", "softmax", "--data", "digits", "--criterion", "mse"],
     "--criterion: 'mse' compares one output per sample with the label, but the model gives 10 outputs"),
    (["--model", "mlp", "--data", "moons", "--optimizer", "adamm"], "--optimizer: unknown optimizer 'adamm'"),
    (["--model", "mlp", "--data", "moons", "--lr", "-1"], "--lr"),
    (["--model", "mlp", "--data", "moons", "--batch-size", "some"], "--batch-size 'some'"),
    (["--model", "mlp", "--data", "moons", "--epochs", "0"], "--epochs: must be a whole number from 1"),
    (["--model", "mlp", "--data", "moons", "--optimizer-option", "momentom=0.9"], "--optimizer-option"),
    (["--model", "mlp"], "--model needs --data NAME"),
    (["--preset", "adam-vs-sgd", "--lr", "0.5"], "--lr describes a new experiment and goes with --model"),
    (["--preset", "adam-vs-sgd", "--model", "mlp", "--data", "moons"], "give a SESSION.toml, --preset NAME, or "
                                                                      "--model SPEC --data NAME (one of them)"),
    (["--model", "mlp", "--data", "moons", "--plane", "flat"], "argument --plane: invalid choice: 'flat'"),
    (["--model", "mlp", "--data", "moons", "--plane", "axes", "--axes", "w,b"], "--axes: 'w' is not a parameter"),
    (["--model", "mlp", "--data", "moons", "--plane", "axes", "--axes", "w"], "--axes 'w': name two parameters"),
    (["--model", "mlp", "--data", "moons", "--plane", "random", "--axes", "w,b"], "--axes: names the parameters "
                                                                                   "of an axes plane"),
    (["--model", "mlp", "--data", "moons", "--span", "1,2,3"], "--span '1,2,3': give a half-width"),
    (["--model", "mlp", "--data", "moons", "--span", "2,1", "--plane", "axes"], "--span: must give finite ranges"),
    (["--model", "mlp", "--data", "moons", "--resolution", "1", "--plane", "axes"], "--resolution"),
    (["--model", "mlp", "--data", "moons", "--plane", "pca", "--at", "start"], "--at start: a PCA plane is "
                                                                                 "centred on the path's end"),
    (["--model", "linear", "--data", "linear", "--metric", "accuracy"], "--metric: the accuracy surface is for "
                                                                         "classifier networks"),
    (["--model", "mlp", "--data", "moons", "--device", "toaster"], "--device: 'toaster' is not a torch device"),
    (["--model", "mlp", "--data", "moons", "--ignore", "weights"], "--ignore 'weights': give bias, bn"),
])
def test_mistakes_are_one_line_and_write_nothing(tmp_path, capsys, args, words):
    assert commands.main(["surface", *args, "-o", str(tmp_path / "s.npz")]) == 2
    err = err_line(capsys)
    assert words in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_a_cuda_device_where_there_is_none_is_refused(tmp_path, capsys):
    assert commands.main(["surface", *MOONS, "--device", "cuda", "-o", str(tmp_path / "s.npz")]) == 2
    assert "--device: 'cuda': torch sees no CUDA device" in err_line(capsys)


def test_surface_and_run_import_no_qt(tmp_path):
    script = f"""
import sys
from landscape_app import commands
for argv in (["surface", "--model", "mlp", "--data", "moons", "--data-option", "n_samples=30", "--plane", "axes",
              "--resolution", "3", "--at", "end", "--epochs", "2", "-q", "-o", {str(tmp_path / 's.npz')!r}],
             ["run", "--model", "mlp", "--data", "moons", "--data-option", "n_samples=30", "--epochs", "2", "-q",
              "-o", {str(tmp_path / 'p.csv')!r}]):
    assert commands.main(argv) == 0, argv
print(sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph", "OpenGL")))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv", "s.npz"]


# -- random, PCA and Hessian planes -----------------------------------------------------------------------------
needs_planes = pytest.mark.skipif(not hasattr(la.Plane, "random"), reason="Plane.random, pca and hessian not here")


@needs_planes
def test_a_networks_default_plane_is_the_pca_of_its_path(tmp_path, capsys):
    out = tmp_path / "default.npz"
    assert commands.main(["surface", *MOONS, "--resolution", "4x3", "-o", str(out)]) == 0
    default = np.load(out)
    assert str(default["plane_kind"]) == "pca" and len(default["path_iteration"]) > 1    # it trained, and keeps it
    ratios = json.loads(str(default["plane_info"]))["explained_variance_ratio"]
    assert ratios[0] >= ratios[1] > 0 and str(default["plane_labels"][0]).startswith("PCA 1 (")
    # the path travels on it: its projection spans a good part of the view
    assert np.ptp(default["path_alpha"]) > 0.15 * np.ptp(default["alpha"])


def test_a_networks_random_plane_is_seeded(tmp_path, capsys):
    def surface(name, *extra):
        assert commands.main(["surface", *MOONS, "--resolution", "4x3", *extra, "-o", str(tmp_path / name)]) == 0
        return np.load(tmp_path / name)
    first, again = surface("a.npz", "--plane", "random"), surface("b.npz", "--plane", "random")
    other = surface("c.npz", "--plane-seed", "1")
    assert str(first["plane_kind"]) == "random" and json.loads(str(first["plane_info"]))["seed"] == 0
    for key in ("plane_d1", "plane_d2", "loss"):
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.array_equal(first["plane_d1"], other["plane_d1"])
    exp = moons_experiment()
    np.testing.assert_array_equal(first["plane_origin"], exp.start_vector())
    np.testing.assert_array_equal(first["alpha"], np.linspace(-1, 1, 4))      # a network's view: -1..1
    _, s = load_surface(tmp_path / "a.npz")
    np.testing.assert_allclose(s.loss, torch_losses(exp, s.plane, s.alpha, s.beta), rtol=1e-5)


@needs_planes
def test_a_pca_plane_of_a_race_trains_first_and_covers_the_paths(tmp_path, capsys):
    exp = moons_experiment(optimizer="adam", lr=0.02, batch_size=20, shuffle=True, epochs=3)
    la.save(la.Session((exp, exp.replace(optimizer="sgd", lr=0.5))), tmp_path / "race.toml")
    out = tmp_path / "pca.npz"
    assert commands.main(["surface", str(tmp_path / "race.toml"), "--plane", "pca", "--resolution", "5",
                          "-o", str(out)]) == 0, capsys.readouterr().err
    assert "on a pca plane (explained variance" in capsys.readouterr().out
    z = np.load(out)
    paths = [la.run(r) for r in la.load_session(tmp_path / "race.toml").runs]
    np.testing.assert_array_equal(z["plane_origin"], paths[0].params[-1])     # centred on the first run's end
    assert z["path_run"].tolist() == [0] * len(paths[0]) + [1] * len(paths[1])
    np.testing.assert_array_equal(z["path_loss"], np.concatenate([p.loss for p in paths]))
    a, b, d = la.Plane(z["plane_origin"], z["plane_d1"], z["plane_d2"]).project(np.concatenate([p.params
                                                                                              for p in paths]))
    np.testing.assert_allclose(z["path_alpha"], a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(z["path_distance"], d, rtol=1e-9, atol=1e-12)
    # the view covers every projected step
    assert z["alpha"][0] < z["path_alpha"].min() and z["path_alpha"].max() < z["alpha"][-1]
    assert z["beta"][0] < z["path_beta"].min() and z["path_beta"].max() < z["beta"][-1]
    end = len(paths[0]) - 1
    assert z["path_distance"][end] == 0 and z["path_surface"][end] == pytest.approx(z["path_loss"][end], rel=1e-12)


@needs_planes
def test_a_hessian_plane_at_the_trained_end(tmp_path, capsys):
    out = tmp_path / "h.npz"
    assert commands.main(["surface", *MOONS, "--epochs", "3", "--optimizer", "sgd", "--lr", "0.1",
                          "--batch-size", "full", "--plane", "hessian", "--at", "end",
                          "--resolution", "3", "--span", "0.5", "-o", str(out)]) == 0, capsys.readouterr().err
    z = np.load(out)
    path = la.run(moons_experiment(epochs=3))
    np.testing.assert_array_equal(z["plane_origin"], path.params[-1])
    eigenvalues = json.loads(str(z["plane_info"]))["eigenvalues"]
    assert len(eigenvalues) == 2 and abs(eigenvalues[0]) >= abs(eigenvalues[1])
    assert str(z["plane_labels"][0]).startswith("Hessian 1")
    assert np.dot(z["plane_d1"], z["plane_d2"]) == pytest.approx(0, abs=1e-8)
    assert z["path_distance"][-1] == 0


@needs_planes
def test_a_random_plane_of_a_linear_model_needs_its_bias(tmp_path, capsys):
    la.save(la.Experiment(data=la.make_dataset("linear", n_samples=20), epochs=2), tmp_path / "line.toml")
    source = ["surface", str(tmp_path / "line.toml"), "--plane", "random", "--resolution", "3"]
    assert commands.main([*source, "-o", str(tmp_path / "a.npz")]) == 2
    assert "(here: --normalization none --ignore none, or --plane axes)" in err_line(capsys)
    assert commands.main([*source, "--normalization", "none", "--ignore", "none", "-o", str(tmp_path / "a.npz")]) == 0
    _, surface = load_surface(tmp_path / "a.npz")
    assert surface.plane.kind == "random" and surface.loss.shape == (3, 3)
    assert commands.main([*source, "--normalization", "none", "--ignore", "none", "-o", str(tmp_path / "a.csv")]) == 0
    rows = [r for r in (tmp_path / "a.csv").read_text().splitlines() if not r.startswith("#")]
    assert rows[0] == "alpha,beta,loss" and len(rows) == 1 + 9     # long form; the labels are in the plane's line
    _, again = load_surface(tmp_path / "a.csv")
    np.testing.assert_array_equal(again.loss, surface.loss)
    assert again.axes == surface.axes == ("random 1", "random 2")


def test_data_from_a_csv_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(float)
    rows = "".join(f"{a!r},{b!r},{c!r}\n" for (a, b), c in zip(x.tolist(), y.tolist()))
    (tmp_path / "xor.csv").write_text("x1,x2,y\n" + rows)
    out = tmp_path / "p.json"
    assert commands.main(["run", "--model", "mlp", "--hidden", "4", "--data", str(tmp_path / "xor.csv"),
                          "--epochs", "2", "-o", str(out)]) == 0, capsys.readouterr().err
    session, (path,) = load_runs(out)
    np.testing.assert_array_equal(session.experiment.data.numpy()[1], y)
    assert session.experiment.criterion == "bce-logits" and len(path) == 3
    assert commands.main(["run", "--model", "mlp", "--data", str(tmp_path / "xor.csv"), "--data-option", "noise=1",
                          "-o", str(out)]) == 2
    assert "--data-option: a CSV file" in err_line(capsys)


# -- a session file's own [plane] -------------------------------------------------------------------------------
def _session_file(tmp_path, plane):
    from landscape_app.core.session import Session
    from landscape_app.core.tomlio import save
    exp = moons_experiment(epochs=3, batch_size=20, grid=la.Grid(resolution=(9, 9)))
    path = tmp_path / "race.toml"
    save(Session((exp, exp.replace(optimizer="adam", lr=0.05)), plane=plane), path)
    return path


@pytest.mark.parametrize("settings", [la.PlaneSettings("random", seed=3, normalization="layer"),
                                      la.PlaneSettings("pca"), la.PlaneSettings("through", points=(1, 2))])
def test_a_session_files_plane_is_the_surfaces(tmp_path, settings):
    """Without --plane, a session's [plane] is the one the window would show; PCA and three points train first."""
    from landscape_app.core import tomlio
    from landscape_app.core.plane_build import build_plane
    from landscape_app.export.scene import train_session
    source = _session_file(tmp_path, settings)
    out = tmp_path / "s.npz"
    assert commands.main(["surface", str(source), "-o", str(out), "--resolution", "5", "-q"]) == 0
    session = tomlio.load_session(source)
    paths = list(train_session(session)) if settings.needs_finished_runs else []
    expected = build_plane(settings, session.experiment, paths)
    _, surface = load_surface(out)
    assert surface.plane.kind == expected.kind
    np.testing.assert_allclose(surface.plane.d1, expected.d1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(surface.plane.d2, expected.d2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(surface.loss, torch_losses(session.experiment, expected, surface.alpha,
                                                          surface.beta), rtol=1e-5)


@pytest.mark.parametrize("option, seed", [(["--plane", "random"], 0), (["--plane-seed", "7"], 7),
                                          (["--normalization", "filter"], 0)])
def test_a_plane_option_wins_over_the_sessions(tmp_path, option, seed):
    source = _session_file(tmp_path, la.PlaneSettings("random", seed=3, normalization="layer"))
    out = tmp_path / "s.npz"
    assert commands.main(["surface", str(source), *option, "-o", str(out), "--resolution", "5", "-q"]) == 0
    from landscape_app.core import tomlio
    exp = tomlio.load_session(source).experiment
    np.testing.assert_allclose(load_surface(out)[1].plane.d1, la.Plane.random(exp, seed=seed).d1, rtol=1e-12)
