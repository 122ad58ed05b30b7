"""The first release's names keep working: each deprecated alias gives what its new spelling gives, and warns
(a DeprecationWarning at the caller's line that names the new spelling)."""
import subprocess
import sys
import warnings

import numpy as np
import pytest

import landscape_app as la
from landscape_app.core import tomlio

HERE = __file__


def _exp():
    return la.Experiment(data=la.make_dataset("linear", n_samples=20, seed=3), optimizer="adam", lr=0.05,
                         batch_size=5, epochs=2, grid=la.Grid(resolution=(11, 9)))


def _session():
    exp = _exp()
    return la.Session(runs=(exp, exp.replace(optimizer="sgd", lr=0.1)), names=("adam", "sgd"), title="Two runs",
                      description="Adam and SGD from the same start.")


def _warns(spelling: str):
    """The alias warns once, naming the new spelling, at the line in this file that called it."""
    return pytest.warns(DeprecationWarning, match=f"is deprecated; use {spelling}")


def _called_here(record) -> None:
    assert len(record) == 1, [str(w.message) for w in record]
    assert record[0].filename == HERE       # stacklevel: the caller's line, not the alias's


def test_experiment_save_and_load_work_and_warn(tmp_path):
    exp = _exp()
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    with _warns(r"la\.save\(experiment, path\)") as record:
        assert exp.save(old) is None
    _called_here(record)
    la.save(exp, new)
    assert old.read_text() == new.read_text()
    with _warns(r"la\.load_experiment\(path\)") as record:
        loaded = la.Experiment.load(old)
    _called_here(record)
    assert isinstance(loaded, la.Experiment) and loaded == la.load_experiment(new) == exp


def test_session_save_and_load_work_and_warn(tmp_path):
    session = _session()
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    with _warns(r"la\.save\(session, path\)") as record:
        session.save(old)
    _called_here(record)
    la.save(session, new)
    assert old.read_text() == new.read_text()
    with _warns(r"la\.load_session\(path\)") as record:
        loaded = la.Session.load(old)
    _called_here(record)
    assert isinstance(loaded, la.Session) and loaded == la.load_session(new)
    assert loaded.names == ("adam", "sgd") and loaded.title == "Two runs"


def test_to_dict_and_from_dict_work_and_warn(tmp_path):
    exp, session = _exp(), _session()
    with _warns(r"landscape_app\.core\.tomlio\.experiment_to_dict") as record:
        table = exp.to_dict(tmp_path)
    _called_here(record)
    assert table == tomlio.experiment_to_dict(exp, tmp_path)
    with _warns(r"landscape_app\.core\.tomlio\.experiment_from_dict") as record:
        back = la.Experiment.from_dict(table, tmp_path, "experiment.")
    _called_here(record)
    assert back == tomlio.experiment_from_dict(table, tmp_path, "experiment.") == exp
    with _warns(r"landscape_app\.core\.tomlio\.session_to_dict") as record:
        table = session.to_dict()
    _called_here(record)
    assert table == tomlio.session_to_dict(session)
    with _warns(r"landscape_app\.core\.tomlio\.session_from_dict") as record:
        assert la.Session.from_dict(table) == tomlio.session_from_dict(table) == session
    _called_here(record)


def test_the_aliases_pass_new_arguments_through(tmp_path, monkeypatch):
    """Keywords the new spelling gains (say trust=) reach it through the old one unchanged."""
    seen = []
    monkeypatch.setattr(tomlio, "load_session", lambda path, *args, **kwargs: seen.append((args, kwargs)) or "s")
    monkeypatch.setattr(tomlio, "load_experiment", lambda path, *args, **kwargs: seen.append((args, kwargs)) or "e")
    with _warns("la.load_session"):
        assert la.Session.load(tmp_path / "x.toml", 1, trust=True) == "s"
    with _warns("la.load_experiment"):
        assert la.Experiment.load(tmp_path / "x.toml", trust=False) == "e"
    assert seen == [((1,), {"trust": True}), ((), {"trust": False})]


def test_a_mistake_through_an_alias_is_the_new_spellings_error(tmp_path):
    with _warns("la.load_experiment"), pytest.raises(la.ConfigError, match="no such file"):
        la.Experiment.load(tmp_path / "missing.toml")
    with _warns("la.save"), pytest.raises(la.ConfigError, match="must be an Experiment or a Session"):
        la.Session.save("not a session", tmp_path / "x.toml")
    assert not list(tmp_path.iterdir())


def test_surface_x_and_y_are_alpha_and_beta():
    exp = _exp()
    surface = la.compute_surface(exp)
    with _warns(r"surface\.alpha") as record:
        x = surface.x
    _called_here(record)
    with _warns(r"surface\.beta"):
        y = surface.y
    assert x is surface.alpha and y is surface.beta
    assert x.shape == (11,) and y.shape == (9,)


def test_la_covering_span_is_the_planes_method():
    rng = np.random.default_rng(0)
    plane = la.Plane(origin=np.zeros(5), d1=np.eye(5)[0], d2=np.eye(5)[1])
    path = rng.normal(size=(12, 5))
    with _warns(r"plane\.covering_span\(paths, margin, origin\)") as record:
        old = la.covering_span(plane, path, 0.2, origin=False)
    _called_here(record)
    assert old == plane.covering_span(path, margin=0.2, origin=False)
    with _warns("plane.covering_span"):
        assert la.covering_span(plane, [path]) == plane.covering_span([path])


def test_deprecated_names_are_not_offered_but_answer():
    """Old names work; ``dir()``, ``__all__`` and ``import *`` offer only the new ones."""
    assert "covering_span" not in la.__all__ and "covering_span" not in dir(la)
    assert "covering_span" not in la.core.__all__
    assert callable(la.core.covering_span) and la.covering_span is la.core.covering_span
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        la.no_such_name  # noqa: B018


def test_the_class_methods_are_there_in_a_fresh_interpreter():
    """tomlio attaches them; la.Experiment and la.Session load it, so a script's first use finds them."""
    script = ("import landscape_app as la; "
              "print(all(hasattr(c, m) for c in (la.Session, la.Experiment) "
              "for m in ('save', 'load', 'to_dict', 'from_dict')))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_the_new_spellings_do_not_warn(tmp_path):
    exp = _exp()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        la.save(exp, tmp_path / "s.toml")
        la.load_experiment(tmp_path / "s.toml")
        la.load_session(tmp_path / "s.toml")
        la.compute_surface(exp).alpha  # noqa: B018


def test_the_course_helpers_first_sixth_argument_the_criterion_still_works():
    """The first release took the criterion sixth; the course's helper (and ours since) takes go there."""
    data = la.make_dataset("linear", n_samples=20, seed=1)
    x, y = data.numpy()
    with _warns(r"LossSurface\(\.\.\., criterion='l1'\)") as record:
        old = la.LossSurface(3.0, 3.0, x, y, 7, "l1", show="none")
    _called_here(record)
    new = la.LossSurface(3.0, 3.0, x, y, 7, go=False, criterion="l1", show="none")
    assert old.experiment.criterion == new.experiment.criterion == "l1"
    np.testing.assert_array_equal(old.Z, new.Z)
    with pytest.raises(TypeError, match="multiple values for argument 'criterion'"):
        la.LossSurface(3.0, 3.0, x, y, 7, "l1", criterion="mse", show="none")
