"""The structure reads one way: no module of the window or the exporter imports one that imports it back, the
views know no controller, and the palette is defined once."""
import pytest

grimp = pytest.importorskip("grimp")


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("landscape_app")


def _cycles(graph, prefixes):
    found = set()
    for module in graph.modules:
        if not module.startswith(prefixes):
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.find_shortest_chain(importer=imported, imported=module):
                found.add(tuple(sorted((module, imported))))
    return sorted(found)


def test_gui_and_export_have_no_import_cycles(graph):
    assert _cycles(graph, ("landscape_app.gui", "landscape_app.export")) == []


@pytest.mark.parametrize("a, b", [("landscape_app.export.frames", "landscape_app.export.stills"),
                                  ("landscape_app.export.gif", "landscape_app.export.writers"),
                                  ("landscape_app.gui.views.data_plane3d", "landscape_app.gui.views.data_view")])
def test_the_circles_once_found_stay_open(graph, a, b):
    assert not (graph.find_shortest_chain(importer=a, imported=b)
                and graph.find_shortest_chain(importer=b, imported=a))


def test_views_know_no_controller_and_compute_no_losses(graph):
    views = {m for m in graph.modules if m.startswith("landscape_app.gui.views")}
    for forbidden in ("landscape_app.gui.controller", "landscape_app.gui.scene_controller",
                      "landscape_app.gui.main_window", "landscape_app.core.surface", "landscape_app.gui.lifted"):
        for view in views:
            assert not graph.find_shortest_chain(importer=view, imported=forbidden), (view, forbidden)


def test_the_palette_is_defined_once():
    import inspect

    import landscape_app
    from pathlib import Path
    root = Path(inspect.getfile(landscape_app)).parent
    defining = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
                if "RUN_COLORS = (" in p.read_text(encoding="utf-8")]
    assert defining == ["core/palette.py"]
