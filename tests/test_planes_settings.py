"""A network's plane as a setting: the [plane] table of a session file, and the planes it builds."""
import numpy as np
import pytest

import landscape_app as la
from landscape_app.core.errors import ConfigError
from landscape_app.core.plane_build import build_plane, plane_span
from landscape_app.core.plane_settings import PlaneSettings
from landscape_app.core.presets import load_preset
from landscape_app.core.session import DEFAULT_NETWORK_PLANE
from landscape_app.core.tomlio import load_session, session_from_dict, session_to_dict
from landscape_app.core.training import run


def network_session(**plane):
    session = load_preset("mlp-moons")
    return session.replace(plane=PlaneSettings(**plane) if plane else None)


@pytest.mark.parametrize("plane", [dict(kind="random", seed=7, normalization="none"),
                                   dict(kind="random", seed=0, normalization="layer"),
                                   dict(kind="pca"), dict(kind="hessian", at="current"),
                                   dict(kind="hessian", at="start"), dict(kind="through", points=(2, 1)),
                                   dict(kind="pca", beside="random", seed=3, normalization="none"),
                                   dict(kind="hessian", beside="random", seed=0, normalization="filter")])
def test_the_plane_table_round_trips(tmp_path, plane):
    session = network_session(**plane)
    path = tmp_path / "s.toml"
    la.save(session, path)
    text = path.read_text()
    assert "[plane]" in text and f'kind = "{plane["kind"]}"' in text
    loaded = load_session(path)
    assert loaded.plane == session.plane and loaded == session


def test_only_what_the_kind_reads_is_written():
    assert PlaneSettings("pca", seed=3).to_dict() == {"kind": "pca"}
    assert PlaneSettings("random", seed=3).to_dict() == {"kind": "random", "seed": 3, "normalization": "filter"}
    assert PlaneSettings("hessian", at="current").to_dict() == {"kind": "hessian", "at": "current"}
    assert PlaneSettings("through", points=(1, 3)).to_dict() == {"kind": "through", "points": [1, 3]}
    # The random slice beside the paths' plane writes the seed and normalisation it is drawn with.
    assert PlaneSettings("pca", seed=3, normalization="none", beside="random").to_dict() == {
        "kind": "pca", "beside": "random", "seed": 3, "normalization": "none"}


def test_the_slice_beside_is_saved_in_the_plane_table(tmp_path):
    session = network_session(kind="pca", beside="random", normalization="none")
    path = tmp_path / "s.toml"
    la.save(session, path)
    assert 'beside = "random"' in path.read_text()
    loaded = load_session(path)
    assert loaded.plane.beside == "random" and loaded.plane.normalization == "none"
    assert loaded.plane.main == PlaneSettings("pca")        # the main plane is the paths' own


def test_the_slice_beside_changes_nothing_of_the_main_plane():
    pca = PlaneSettings("pca")
    assert pca.replace(beside="random", normalization="none").main == pca.main
    assert PlaneSettings("random", seed=2).main == PlaneSettings("random", seed=2)


def test_a_session_without_a_plane_is_on_the_plane_of_its_paths(tmp_path):
    session = load_preset("mlp-moons").replace(plane=None)
    assert session.plane_settings == PlaneSettings("pca") == DEFAULT_NETWORK_PLANE
    assert "plane" not in session_to_dict(session)
    linear = load_preset("adam-vs-sgd")
    assert linear.plane is None and "plane" not in session_to_dict(linear)


@pytest.mark.parametrize("table, field, words", [
    ({"kind": "sideways"}, "plane.kind", "random, pca, hessian, through"),
    ({"kind": "random", "seed": -1}, "plane.seed", ">= 0"),
    ({"kind": "random", "seed": 1.5}, "plane.seed", "whole number"),
    ({"kind": "random", "normalization": "batch"}, "plane.normalization", "filter, layer, none"),
    ({"kind": "hessian", "at": "end"}, "plane.at", "'start' or 'current'"),
    ({"kind": "through", "points": [1, 1]}, "plane.points", "two different run numbers"),
    ({"kind": "through", "points": [1, 3]}, "plane.points", "the session has 2 run(s)"),
    ({"kind": "random", "colour": "red"}, "plane.colour", "unknown key"),
    ({"kind": "pca", "beside": "sideways"}, "plane.beside", "none, random"),
    ({"kind": "pca", "beside": 1}, "plane.beside", "none, random"),
    ({"kind": "random", "beside": "random"}, "plane.beside", "a random slice itself"),
    ("pca", "plane", "must be a table"),
])
def test_a_bad_plane_table_is_named(table, field, words):
    raw = session_to_dict(load_preset("mlp-moons"))
    raw["plane"] = table
    with pytest.raises(ConfigError) as caught:
        session_from_dict(raw)
    assert caught.value.field == field and words in str(caught.value)


def test_a_linear_session_has_no_plane_to_choose():
    raw = session_to_dict(load_preset("adam-vs-sgd"))
    raw["plane"] = {"kind": "pca"}
    with pytest.raises(ConfigError, match="linear model"):
        session_from_dict(raw)
    # Edited into a linear model, a network session drops its plane (the surface spans the parameters).
    session = network_session(kind="pca")
    linear = load_preset("adam-vs-sgd")
    assert session.replace(runs=linear.runs, names=linear.names, colors=linear.colors).plane is None


def test_build_plane_makes_each_kind():
    session = load_preset("mlp-moons")
    exp = session.runs[0].replace(epochs=2)
    paths = [run(r.replace(epochs=2)) for r in session.runs]
    random = build_plane(PlaneSettings(seed=4, normalization="layer"), exp)
    assert random.kind == "random" and random.info["seed"] == 4 and random.info["normalization"] == "layer"
    pca = build_plane(PlaneSettings("pca"), exp, paths)
    assert pca.kind == "pca" and pca.labels == la.Plane.pca(paths).labels
    with pytest.raises(ConfigError, match="train them first"):
        build_plane(PlaneSettings("pca"), exp, [])
    through = build_plane(PlaneSettings("through", points=(2, 1)), exp, paths)
    np.testing.assert_allclose(through.point(1, 0), paths[1].params[-1])
    np.testing.assert_allclose(through.point(0, 1), paths[0].params[-1])
    (a_lo, a_hi), (b_lo, b_hi) = plane_span(PlaneSettings("through"), through, paths)
    assert a_lo < 0 < 1 < a_hi and b_lo < 0 < 1 < b_hi
    assert plane_span(PlaneSettings("pca"), pca, paths) is None        # a PCA plane carries its own span
    at = paths[0].upto(5)
    hessian = build_plane(PlaneSettings("hessian", at="current"), exp, current=at)
    np.testing.assert_allclose(hessian.origin, at.params[-1])
    assert hessian.info["at"] == f"iteration {int(at.iteration[-1])}" and len(hessian.info["eigenvalues"]) == 2


def test_the_api_names_the_plane_settings(tmp_path):
    """``la.Session(..., plane=la.PlaneSettings("pca"))``: a session file written from a script."""
    session = load_preset("mlp-moons")
    mine = la.Session(session.runs, session.names, plane=la.PlaneSettings("hessian", at="current"))
    la.save(mine, tmp_path / "mine.toml")
    assert la.load_session(tmp_path / "mine.toml").plane == la.PlaneSettings("hessian", at="current")
    assert la.build_plane(la.PlaneSettings(seed=2), session.runs[0]).info["seed"] == 2
