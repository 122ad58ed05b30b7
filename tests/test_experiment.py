"""The Experiment: validation naming the field, and exact TOML round trips (Experiment and Session)."""
import shutil

import numpy as np
import pytest

import torch

import landscape_app as la
from landscape_app.core.experiment import MAX_RESOLUTION
from landscape_app.core.optimizers import OPTIMIZERS, SCHEDULERS, build_optimizer
from landscape_app.core.tomlio import experiment_to_dict

LINEAR = la.make_dataset("linear", n_samples=20, seed=1)
PLANE = la.make_dataset("plane", n_samples=20, seed=1)


def test_defaults_are_valid_and_filled_in():
    exp = la.Experiment()
    assert exp.model == "linear" and exp.start == (-15.0, -10.0) and exp.param_names == ("w", "b")
    assert exp.grid.axes == ("w", "b") and exp.grid.x_range == (-20.0, 20.0) and exp.grid.resolution == (201, 201)
    assert exp.optimizer_options == {"momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0}
    assert exp.effective_batch_size == len(exp.data) and exp.steps_per_epoch == 1
    assert exp.replace(batch_size=7).steps_per_epoch == 9          # 60 samples: 8 batches of 7 and one of 4
    assert exp.replace(batch_size=60).batch_size is None           # as large as the data: the full batch
    plane = la.Experiment(data=PLANE, model="plane")
    assert plane.start == (-4.0, 4.0, 3.0) and plane.grid.axes == ("w1", "w2")
    x, y = la.Experiment(grid=la.Grid(resolution=(3, 5))).grid_axes_values()
    assert x.tolist() == [-20.0, 0.0, 20.0] and len(y) == 5


@pytest.mark.parametrize("kwargs, field, message", [
    (dict(lr=-0.1), "lr", "must be a positive number"),
    (dict(lr=0.0), "lr", "must be a positive number"),
    (dict(lr=float("nan")), "lr", "must be a finite number"),
    (dict(lr="fast"), "lr", "must be a finite number"),
    (dict(optimizer="adamm"), "optimizer", "unknown optimizer 'adamm'; choose one of sgd, adam"),
    (dict(criterion="hinge"), "criterion", "unknown criterion 'hinge'; choose one of mse"),
    (dict(criterion="cross-entropy"), "criterion", "'cross-entropy' needs one output per class"),
    (dict(model="perceptron"), "model", "unknown model 'perceptron'; choose one of linear, logistic, plane, mlp"),
    (dict(criterion="bce"), "criterion", "'bce' needs a probability"),
    (dict(model="plane"), "data", "the 'plane' model needs 2 input feature(s) but the data has 1"),
    (dict(data=[[1, 2]]), "data", "must be a dataset"),
    (dict(criterion="huber", criterion_options={"delta": -1.0}), "criterion_options.delta", "positive"),
    (dict(criterion_options={"delta": 1.0}), "criterion_options", "'mse' has no option 'delta'"),
    (dict(optimizer_options={"momentun": 0.9}), "optimizer_options.momentun", "its hyperparameters: momentum"),
    (dict(optimizer_options={"momentum": 1.5}), "optimizer_options.momentum", "must be between 0 and"),
    (dict(optimizer_options={"nesterov": 1}), "optimizer_options.nesterov", "must be true or false"),
    (dict(optimizer_options={"nesterov": True}), "optimizer_options.nesterov", "needs momentum > 0"),
    (dict(optimizer="lbfgs", optimizer_options={"max_iter": 2.5}), "optimizer_options.max_iter", "whole number"),
    (dict(optimizer="lbfgs", optimizer_options={"line_search_fn": "armijo"}), "optimizer_options.line_search_fn",
     "must be one of none, strong_wolfe"),
    (dict(optimizer="adam", optimizer_options={"betas": 0.9}), "optimizer_options.betas",
     "must be two numbers (beta1, beta2), not 0.9"),
    (dict(optimizer="adam", optimizer_options={"betas": "ab"}), "optimizer_options.betas", "must be two numbers"),
    (dict(optimizer="nadam", optimizer_options={"betas": (0.9, 0.99, 0.9)}), "optimizer_options.betas",
     "must be two numbers"),
    (dict(optimizer="adamw", optimizer_options={"betas": (0.9, 1.5)}), "optimizer_options.betas[1]",
     "must be between 0 and 0.999999, not 1.5"),
    (dict(optimizer="radam", optimizer_options={"betas": (None, 0.9)}), "optimizer_options.betas[0]",
     "must be a finite number"),
    (dict(optimizer="adam", optimizer_options={"betas": (0.9, 0.99), "beta2": 0.9}), "optimizer_options.beta2",
     "give betas or beta1 and beta2, not both"),
    (dict(optimizer="adam", optimizer_options={"beta2": 1.5}), "optimizer_options.beta2",
     "must be between 0 and 0.999999, not 1.5"),
    (dict(optimizer="sgd", optimizer_options={"betas": (0.9, 0.99)}), "optimizer_options.betas",
     "SGD has no such hyperparameter"),
    (dict(optimizer="adam", optimizer_options={"beta3": 0.9}), "optimizer_options.beta3",
     "(its hyperparameters: betas, eps, weight_decay, amsgrad)"),
    (dict(optimizer="rprop", optimizer_options={"etas": (0.5, 1.0)}), "optimizer_options.etas",
     "0 < eta minus < 1 < eta plus, not (0.5, 1)"),
    (dict(optimizer="rprop", optimizer_options={"etas": (0.0, 1.2)}), "optimizer_options.etas",
     "0 < eta minus"),
    (dict(optimizer="rprop", optimizer_options={"etas": (1.5, 2.0)}), "optimizer_options.etas[0]",
     "must be between 0 and 1"),
    (dict(optimizer="rprop", optimizer_options={"step_sizes": (1.0, 0.5)}), "optimizer_options.step_sizes",
     "the min step (1) must not exceed the max step (0.5)"),
    (dict(optimizer="rprop", optimizer_options={"step_sizes": (-1.0, 0.5)}), "optimizer_options.step_sizes[0]",
     "must be between 0 and"),
    (dict(scheduler="linear"), "scheduler", "unknown scheduler 'linear'"),
    (dict(scheduler_options={"gamma": 0.5}), "scheduler_options", "given without a scheduler"),
    (dict(scheduler="step", scheduler_options={"step_size": 0}), "scheduler_options.step_size", "between 1"),
    (dict(batch_size=0), "batch_size", "from 1 to 20 or none"),
    (dict(batch_size=2.5), "batch_size", "whole number"),
    (dict(shuffle="yes"), "shuffle", "true or false"),
    (dict(epochs=0), "epochs", "from 1 to"),
    (dict(seed=-1), "seed", "whole number >= 0"),
    (dict(start=(1.0,)), "start", "must give 2 values (w, b)"),
    (dict(start=(1.0, 2.0, 3.0)), "start", "must give 2 values (w, b)"),
    (dict(start="ab"), "start", "must give 2 values"),
    (dict(start=(1.0, float("inf"))), "start.b", "finite"),
    (dict(start=(1e9, 0.0)), "start.w", "within"),
    (dict(grid=la.Grid(x_range=(2.0, 2.0))), "grid.x_range", "is empty: low (2) must be less than high (2)"),
    (dict(grid=la.Grid(y_range=(5.0, -5.0))), "grid.y_range", "is empty"),
    (dict(grid=la.Grid(x_range=(0.0,))), "grid.x_range", "two numbers"),
    (dict(grid=la.Grid(resolution=0)), "grid.resolution", f"from 2 to {MAX_RESOLUTION}"),
    (dict(grid=la.Grid(resolution=(201, 0))), "grid.resolution", "from 2 to"),
    (dict(grid=la.Grid(resolution=10**6)), "grid.resolution", "from 2 to"),
    (dict(grid=la.Grid(resolution=(50.5, 50))), "grid.resolution", "whole numbers"),
    (dict(grid=la.Grid(axes=("w", "w"))), "grid.axes", "two different parameters of w, b"),
    (dict(grid=la.Grid(axes=("w1", "b"))), "grid.axes", "two different parameters"),
    (dict(grid=la.Grid(held=float("nan"))), "grid.held", "finite"),
])
def test_config_errors_name_the_field(kwargs, field, message):
    kwargs.setdefault("data", LINEAR)
    with pytest.raises(la.ConfigError) as err:
        la.Experiment(**kwargs)
    assert err.value.field == field
    assert message in str(err.value) and str(err.value).startswith(f"{field}: ")


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_describes_its_hyperparameters_and_builds(name):
    spec = OPTIMIZERS[name]
    defaults = {h.name: h.default for h in spec.hypers}
    exp = la.Experiment(data=LINEAR, optimizer=name, lr=spec.default_lr, epochs=1, batch_size=5)
    assert exp.optimizer_options == defaults
    for h in spec.hypers:
        assert h.kind in ("float", "int", "bool", "choice", "pair")
        if h.kind in ("float", "int"):
            assert h.low is None or h.low <= h.default
            assert h.high is None or h.default <= h.high
        if h.kind == "pair":      # torch's shape: a pair, each value within its own bounds (None: torch's choice)
            assert len(h.default) == len(h.low) == len(h.high) == len(h.parts) == 2
            assert all(d is None and h.optional and i == 0 or lo <= d <= hi
                       for i, (d, lo, hi) in enumerate(zip(h.default, h.low, h.high)))
    # the defaults are torch's own: building with them equals building with torch's defaults
    torch_defaults = spec.cls([torch.zeros(1, requires_grad=True)]).defaults
    assert {k: torch_defaults[k] for k in defaults if k != "line_search_fn"} == \
        {k: v for k, v in defaults.items() if k != "line_search_fn"}
    assert la.run(exp).outcome == "finished"


def _assert_same_session(a: la.Session, b: la.Session):
    assert (a.names, a.colors, a.title, a.description) == (b.names, b.colors, b.title, b.description)
    assert a.runs == b.runs
    for x, y in zip(a.runs, b.runs):
        assert experiment_to_dict(x) == experiment_to_dict(y)


@pytest.mark.parametrize("exp", [
    la.Experiment(),
    la.Experiment(data=la.make_dataset("linear-outliers", n_samples=33, noise=0.123456789, outlier_fraction=0.3,
                                       seed=12), criterion="huber", criterion_options={"delta": 0.3},
                  optimizer="adam", lr=0.1 + 0.2, optimizer_options={"betas": (0.85, 0.99), "amsgrad": True},
                  scheduler="cosine", scheduler_options={"T_max": 7}, batch_size=4, shuffle=True, epochs=13,
                  seed=2**40, start=(1 / 3, -2 / 7),
                  grid=la.Grid(x_range=(-3.25, 1 / 3), y_range=(-1e-3, 7.0), resolution=(17, 401))),
    la.Experiment(data=la.make_dataset("logistic", seed=5), model="logistic", criterion="bce", optimizer="lbfgs",
                  lr=1.0, optimizer_options={"line_search_fn": "strong_wolfe", "max_iter": 3}, start=(0.1, 0.2)),
    la.Experiment(data=PLANE, model="plane", grid=la.Grid(axes=("b", "w1"), held=0.75)),
    la.Experiment(data=LINEAR, optimizer="rprop", lr=0.3, optimizer_options={"etas": (0.4, 1.3),
                                                                              "step_sizes": (1e-4, 2.5)}),
    la.Experiment(data=la.dataset_from_arrays(np.linspace(-1, 1, 7) / 3, np.sin(np.arange(7.0)))),
    la.Experiment(data=la.dataset_from_arrays(np.random.default_rng(0).normal(size=(9, 2)), np.arange(9.0)),
                  model="plane", start=(0.1, 0.2, 0.3)),
], ids=["default", "outliers-huber-adam-cosine", "logistic-lbfgs", "plane-held", "rprop", "arrays",
        "arrays-plane"])
def test_experiment_toml_round_trip_is_exact(tmp_path, exp):
    path = tmp_path / "exp.toml"
    la.save(exp, path)
    back = la.load_experiment(path)
    assert back == exp
    assert experiment_to_dict(back) == experiment_to_dict(exp)
    assert back.data == exp.data and np.array_equal(back.data.x.numpy(), exp.data.x.numpy())
    la.save(back, tmp_path / "again.toml")
    assert (tmp_path / "again.toml").read_text() == path.read_text()
    assert la.run(back).equals(la.run(exp))


def test_csv_data_is_referenced_relative_to_the_file_and_moves_with_it(tmp_path, monkeypatch):
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "points.csv").write_text("x,y\n0,1\n1,3\n2,5.5\n")
    monkeypatch.chdir(folder)
    exp = la.Experiment(data=la.dataset_from_csv("data/points.csv"), epochs=3)   # relative to the cwd
    (folder / "runs").mkdir()
    la.save(exp, folder / "runs" / "exp.toml")
    text = (folder / "runs" / "exp.toml").read_text()
    assert 'path = "../data/points.csv"' in text
    assert la.load_experiment(folder / "runs" / "exp.toml") == exp
    monkeypatch.chdir(tmp_path)
    moved = tmp_path / "moved"
    shutil.move(folder, moved)
    loaded = la.load_experiment(moved / "runs" / "exp.toml")
    assert loaded.data.source.path == str(moved / "data" / "points.csv")
    assert loaded.data.x.tolist() == exp.data.x.tolist() and la.run(loaded).equals(la.run(exp))


def test_session_with_several_runs_round_trips(tmp_path):
    base = la.Experiment(data=LINEAR, batch_size=5, shuffle=True, epochs=4)
    session = la.Session(runs=(base, base.replace(optimizer_options={"momentum": 0.9}),
                               base.replace(optimizer="adam", lr=0.5, seed=3), base.replace(start=(2.0, 1.5))),
                         names=("plain", "momentum", "adam", ""), colors=("#E69F00", None, "#56B4E9", None),
                         title="Momentum vs plain SGD", description="Same data, four optimizers.")
    path = tmp_path / "race.toml"
    la.save(session, path)
    back = la.load_session(path)
    assert session.names == ("plain", "momentum", "adam", "SGD, lr 0.1")    # a blank name gets the default
    _assert_same_session(back, session)
    la.save(back, tmp_path / "again.toml")
    assert (tmp_path / "again.toml").read_text() == path.read_text()
    assert la.load_experiment(path) == base                # the first run


def test_session_runs_must_share_data_model_and_grid():
    base = la.Experiment(data=LINEAR)
    with pytest.raises(la.ConfigError) as err:
        la.Session(runs=(base, base.replace(grid=la.Grid(resolution=11))))
    assert err.value.field == "runs[2].grid"
    with pytest.raises(la.ConfigError, match="runs: a session needs at least one run"):
        la.Session(runs=())
    with pytest.raises(la.ConfigError, match="at most 8 runs"):
        la.Session(runs=(base,) * 9)


MINIMAL = '[experiment]\nmodel = "linear"\n'


@pytest.mark.parametrize("text, field, message", [
    ('titel = "x"\n' + MINIMAL, "titel", "unknown key; a session has title, description, edited, experiment, runs"),
    ('title = "x"\n', "experiment", "missing"),
    (MINIMAL + "learning_rate = 0.1\n", "experiment.learning_rate", "unknown field; the fields are model"),
    (MINIMAL + "lr = -1.0\n", "experiment.lr", "must be a positive number"),
    (MINIMAL + 'optimizer = "adamm"\n', "experiment.optimizer", "unknown optimizer 'adamm'"),
    (MINIMAL + "[experiment.grid]\nresolution = [0, 10]\n", "experiment.grid.resolution", "from 2 to"),
    (MINIMAL + "[experiment.grid]\nrez = 3\n", "experiment.grid.rez", "unknown field; the fields are x_range"),
    (MINIMAL + "[experiment.grid]\nx_range = [1.0, -1.0]\n", "experiment.grid.x_range", "is empty"),
    (MINIMAL + '[experiment.data]\nkind = "excel"\n', "experiment.data.kind", "must be generator, csv or arrays"),
    (MINIMAL + '[experiment.data]\nkind = "csv"\npath = "a.csv"\nsep = ";"\n', "experiment.data",
     "takes only 'path'"),
    (MINIMAL + '[[runs]]\nname = "a"\nmodel = "plane"\n', "runs[1].model", "a run may set only name, color"),
    (MINIMAL + '[[runs]]\nname = "a"\n[[runs]]\nepochs = 0\n', "runs[2].epochs", "from 1 to"),
    (MINIMAL + "runs = 3\n", "experiment.runs", "unknown field"),
    ('runs = 3\n' + MINIMAL, "runs", "must be an array of tables"),
])
def test_bad_toml_names_file_and_field(tmp_path, text, field, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(la.ConfigError) as err:
        la.load_session(path)
    assert err.value.field == f"{path}: {field}"
    assert message in str(err.value)


def test_invalid_toml_and_missing_files(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('[experiment]\nlr = 0.1\nlr = 0.2\n')
    with pytest.raises(la.ConfigError, match=r"broken.toml: not valid TOML \(.*line 3"):
        la.load_experiment(path)
    path.write_text('[experiment\n')
    with pytest.raises(la.ConfigError, match="not valid TOML"):
        la.load_experiment(path)
    with pytest.raises(la.ConfigError, match="nothing.toml: no such file"):
        la.load_experiment(tmp_path / "nothing.toml")


def test_data_errors_in_toml_name_the_file(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text(MINIMAL + '[experiment.data]\nname = "linear"\nslopes = 2\n')
    with pytest.raises(la.DataError, match="exp.toml: dataset 'linear' has no knob 'slopes'"):
        la.load_experiment(path)
    path.write_text(MINIMAL + '[experiment.data]\nkind = "csv"\npath = "gone.csv"\n')
    with pytest.raises(la.DataError, match="gone.csv: no such file"):
        la.load_experiment(path)


def test_scheduler_catalogue_builds():
    for name, (_, hypers) in SCHEDULERS.items():
        exp = la.Experiment(data=LINEAR, scheduler=name, epochs=3)
        assert exp.scheduler_options == {h.name: h.default for h in hypers}
        assert la.run(exp).outcome == "finished"


def test_replace_resets_options_that_belong_to_what_changed():
    exp = la.Experiment(data=LINEAR, optimizer_options={"momentum": 0.9}, criterion="huber",
                        criterion_options={"delta": 0.5}, scheduler="step", scheduler_options={"step_size": 3})
    adam = exp.replace(optimizer="adam")
    assert adam.optimizer_options["betas"] == (0.9, 0.999) and "momentum" not in adam.optimizer_options
    assert adam.criterion_options == {"delta": 0.5} and adam.scheduler_options["step_size"] == 3
    assert exp.replace(criterion="mse").criterion_options == {}
    assert exp.replace(scheduler="exponential").scheduler_options == {"gamma": 0.95}
    assert exp.replace(scheduler=None).scheduler_options == {}
    assert exp.replace(lr=0.2).optimizer_options["momentum"] == 0.9       # kept when the optimizer stays
    assert exp.replace(optimizer="sgd").optimizer_options["momentum"] == 0.9
    with pytest.raises(la.ConfigError, match="optimizer_options.momentum"):
        exp.replace(optimizer="adam", optimizer_options={"momentum": 0.9})


def test_a_run_in_toml_may_change_the_optimizer_alone(tmp_path):
    path = tmp_path / "race.toml"
    path.write_text(MINIMAL + '[experiment.optimizer_options]\nmomentum = 0.9\n'
                    '[[runs]]\nname = "momentum"\n[[runs]]\nname = "adam"\noptimizer = "adam"\nlr = 0.5\n')
    session = la.load_session(path)
    assert session.runs[0].optimizer_options["momentum"] == 0.9
    assert session.runs[1].optimizer == "adam" and session.runs[1].optimizer_options["betas"] == (0.9, 0.999)


def test_optimizer_options_in_torchs_shapes_from_toml_and_the_older_beta1_beta2(tmp_path):
    path = tmp_path / "race.toml"
    path.write_text(MINIMAL + 'optimizer = "adam"\n[experiment.optimizer_options]\nbetas = [0.8, 0.99]\n'
                    '[[runs]]\n[[runs]]\noptimizer = "adamax"\noptimizer_options = { beta2 = 0.95 }\n'
                    '[[runs]]\noptimizer = "rprop"\noptimizer_options = { etas = [0.3, 1.5], step_sizes = [0, 3] }\n')
    session = la.load_session(path)
    assert session.runs[0].optimizer_options["betas"] == (0.8, 0.99)
    # Files saved with beta1/beta2 keep loading: the missing one takes torch's default.
    assert session.runs[1].optimizer_options["betas"] == (0.9, 0.95)
    assert session.runs[2].optimizer_options == {"etas": (0.3, 1.5), "step_sizes": (0.0, 3.0)}
    # Saved in the one canonical form: torch's names, a pair as an array.
    la.save(session, tmp_path / "again.toml")
    text = (tmp_path / "again.toml").read_text()
    assert "beta1" not in text and "beta2 =" not in text and "betas = [" in text and "etas = [" in text
    assert la.load_session(tmp_path / "again.toml").runs == session.runs
    path.write_text(MINIMAL + 'optimizer = "adam"\n[experiment.optimizer_options]\nbetas = [0.8]\n')
    with pytest.raises(la.ConfigError, match=r"experiment.optimizer_options.betas: must be two numbers"):
        la.load_session(path)


def test_options_in_torchs_shapes_build_torchs_optimizer():
    exp = la.Experiment(data=LINEAR, optimizer="adam", lr=0.3, optimizer_options={"betas": [0.8, 0.95]})
    assert exp.optimizer_options["betas"] == (0.8, 0.95)
    optimizer = build_optimizer(exp.optimizer, [torch.zeros(1, requires_grad=True)], exp.lr,
                                exp.optimizer_options)
    assert optimizer.defaults["betas"] == (0.8, 0.95)
    assert la.Experiment(data=LINEAR, optimizer="adam", optimizer_options={"beta1": 0.8}) == \
        exp.replace(lr=0.1, optimizer_options={"betas": (0.8, 0.999)})


@pytest.mark.skipif("adafactor" not in OPTIMIZERS, reason="torch < 2.5 has no Adafactor")
def test_adafactor_eps_keeps_torchs_none_and_saves_it_as_none(tmp_path):
    exp = la.Experiment(data=LINEAR, optimizer="adafactor", lr=0.5)
    assert exp.optimizer_options["eps"] == (None, 1e-3)
    la.save(exp, tmp_path / "a.toml")
    assert 'eps = [\n    "none",' in (tmp_path / "a.toml").read_text()
    assert la.load_experiment(tmp_path / "a.toml") == exp
    assert exp.replace(optimizer_options={"eps": ("none", 0.01)}).optimizer_options["eps"] == (None, 0.01)
    with pytest.raises(la.ConfigError, match=r"optimizer_options.eps\[1\]: must be a finite number"):
        exp.replace(optimizer_options={"eps": (1e-30, None)})


def test_adafactor_is_offered_only_where_torch_has_it(monkeypatch):
    monkeypatch.delitem(OPTIMIZERS, "adafactor", raising=False)
    with pytest.raises(la.ConfigError, match=r"^optimizer: adafactor needs torch >= 2.5 \(this is torch "):
        la.Experiment(data=LINEAR, optimizer="adafactor")


def test_a_saved_session_gets_the_permissions_of_a_plain_new_file(tmp_path):
    """Atomic saving goes through mkstemp, whose files only their owner may read; a session must not stay so."""
    import os
    from landscape_app.core.files import default_mode
    path = tmp_path / "session.toml"
    la.save(la.Experiment(), path)
    assert os.stat(path).st_mode & 0o777 == default_mode()
    assert [p.name for p in tmp_path.iterdir()] == ["session.toml"]


def test_save_takes_an_experiment_or_a_session_and_writes_nothing_for_anything_else(tmp_path):
    exp = la.Experiment(data=LINEAR, epochs=3)
    session = la.Session((exp, exp.replace(lr=0.05)), title="Two rates")
    la.save(session, tmp_path / "race.toml")
    la.save(exp, tmp_path / "one.toml")
    assert la.load_session(tmp_path / "race.toml") == session
    assert la.load_session(tmp_path / "one.toml").runs == (exp,)
    with pytest.raises(la.ConfigError, match=r"^value: must be an Experiment or a Session, not dict$"):
        la.save({"lr": 0.1}, tmp_path / "bad.toml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.toml", "race.toml"]
