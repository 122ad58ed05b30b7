"""How fast the classifier pictures are made and drawn: once per drawn frame while a network trains (~10-30 Hz).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_predictions.py

Two parts, each the median of repeated calls:
- the core's values (off the GUI thread in the app): ``decision_map`` for an MLP on each 2-D set (100 points along
  the box's longer side, plus the 1,000 samples), ``digit_predictions`` for softmax and the small CNN on all 1,797
  digits (the confusion matrix needs every sample);
- the GUI thread's share: the view's ``show_predictions`` and one paint at the window's data-pane size
  (400 x 300 at 1280x720, 600 x 450 at 1920x1080).
Targets: the core under 33 ms (30 Hz) for the MLP, under 100 ms (10 Hz) for the CNN; the GUI thread under 16 ms.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

import landscape_app as la
from landscape_app.core.predictions import decision_map, digit_predictions
from report import Report                  # a sibling script of the benchmarks

REPEATS = 30


def median_ms(fn, repeats: int = REPEATS) -> float:
    fn()     # warm: caches, first-call allocations
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def core_figures() -> dict[str, tuple[object, object, float]]:
    out = {}
    for name in ("moons", "circles", "xor", "spirals"):
        exp = la.Experiment(data=la.make_dataset(name), model="mlp")     # 2-32-32-1, tanh: the default MLP
        params = exp.start_vector()
        out[f"decision_map  MLP 2-32-32-1, {name}"] = (exp, params, median_ms(lambda: decision_map(exp, params)))
    for model in ("softmax", "cnn"):
        exp = la.Experiment(data=la.make_dataset("digits"), model=model)
        params = exp.start_vector()
        out[f"digit_predictions  {model}, 1,797 digits"] = (
            exp, params, median_ms(lambda: digit_predictions(exp, params), 15))
    return out


def core_target_ms(label: str) -> float | None:
    """The docstring's targets: the MLP's pictures at 30 Hz, the CNN's at 10 Hz (softmax has none)."""
    return 33.0 if "MLP" in label else 100.0 if "cnn" in label else None


def gui_figures(core, report=None) -> None:
    from PySide6.QtWidgets import QApplication

    from landscape_app.gui.views import DecisionView, DigitsView
    app = QApplication.instance() or QApplication([])
    for label, (exp, params, _) in core.items():
        if "moons" not in label and "cnn" not in label:
            continue
        digits = "digit" in label
        view = DigitsView() if digits else DecisionView()
        make = digit_predictions if digits else decision_map
        # A slightly different picture every frame, as training gives: the parameters move.
        rng = np.random.default_rng(0)
        values = [make(exp, params + 0.01 * rng.standard_normal(params.shape)) for _ in range(8)]
        for size in ((400, 300), (600, 450)):
            view.resize(*size)
            view.render_image(*size)
            frame = iter(range(10 ** 9))

            def draw():
                view.show_predictions(values[next(frame) % len(values)])
                view.grab_image()
            ms = median_ms(draw)
            print(f"  {type(view).__name__:<13} {size[0]}x{size[1]}: show_predictions + paint {ms:6.2f} ms")
            if report is not None:
                report.row(f"GUI thread: {type(view).__name__} show_predictions + paint, {size[0]}x{size[1]} "
                           f"({label.split('  ')[1]})", ms, "ms", target="< 16 ms", met=ms < 16.0)
    app.processEvents()


def main() -> None:
    report = Report(__file__, doc=__doc__,
                    baseline="none: no other way of making these pictures is run here; the targets are frame rates",
                    ratio="none")
    core = core_figures()
    print("core (one call, median):")
    for label, (_, _, ms) in core.items():
        print(f"  {label:<44} {ms:7.2f} ms  ({1000 / ms:5.0f} per second)")
        target = core_target_ms(label)
        report.row(f"core: {' '.join(label.split())} (median)", ms, "ms",
                   target=None if target is None else f"< {target:g} ms", met=None if target is None else ms < target)
    print("GUI thread (median):")
    gui_figures(core, report)
    report.write()


if __name__ == "__main__":
    main()
