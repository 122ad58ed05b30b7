"""How fast is compute_surface? Prints figures and ratios against two baselines run in this process, same grid:

  (a) the course helper's method: set the model's parameters at each grid point, call the torch criterion;
  (b) plain torch broadcasting: every (grid point, sample) term at once, in row chunks of ~32 MB.

Run:  .venv/bin/python benchmarks/bench_surface.py [--quick]
It prints; it asserts nothing about time (the machine may be shared).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import landscape_app as la
from landscape_app.core.models import build_criterion, build_model, output_is_probability


def best_time(fn, repeat: int) -> tuple[float, object]:
    result, best = None, float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def per_point_loop(exp, X, Y, rows) -> float:
    """Seconds per grid point of the course helper's loop (timed on ``rows`` rows)."""
    x, y = exp.data.x.double(), exp.data.y.double()
    model = build_model(exp.model, exp.criterion, exp.start).double()
    linear = model[0] if isinstance(model, torch.nn.Sequential) else model
    criterion = build_criterion(exp.criterion, exp.criterion_options)
    names = exp.param_names
    ix, iy = (names.index(a) for a in exp.grid.axes)
    params = np.array(exp.start, dtype=np.float64)
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in rows:
            for j in range(len(X)):
                params[ix], params[iy] = X[j], Y[i]
                linear.weight.copy_(torch.from_numpy(params[None, :-1]))
                linear.bias.fill_(params[-1])
                criterion(model(x), y).item()
    return (time.perf_counter() - t0) / (len(rows) * len(X))


def broadcasting(exp, X, Y) -> np.ndarray:
    """Plain torch: z for every (row, column, sample) of a row chunk, the criterion with reduction='none'."""
    x, y = exp.data.x.double(), exp.data.y.double()[:, 0]
    names = exp.param_names
    ax, ay = exp.grid.axes
    p = dict(zip(names, (torch.tensor(v, dtype=torch.float64) for v in exp.start)))
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    rows = max(1, (4 << 20) // (len(X) * len(y)))
    out = np.empty((len(Y), len(X)))
    for i0 in range(0, len(Y), rows):
        q = dict(p)
        q[ax] = Xt[None, :, None]
        q[ay] = Yt[i0:i0 + rows, None, None]
        z = q["b"] + sum(q[n] * x[:, k] for k, n in enumerate(names[:-1]))
        pred = torch.sigmoid(z) if output_is_probability(exp.model, exp.criterion) else z
        t = y.expand_as(pred)
        loss = {"mse": F.mse_loss, "l1": F.l1_loss, "bce": F.binary_cross_entropy,
                "bce-logits": F.binary_cross_entropy_with_logits,
                "huber": lambda a, b, reduction: F.huber_loss(a, b, reduction=reduction,
                                                             **exp.criterion_options)}[exp.criterion]
        out[i0:i0 + rows] = loss(pred, t, reduction="none").mean(-1).numpy()
    return out


def case(title, exp, res, quick):
    X, Y = np.linspace(*exp.grid.x_range, res), np.linspace(*exp.grid.y_range, res)
    n = len(exp.data)
    la.compute_surface(exp, w=X[:5], b=Y[:5])          # warm-up: imports, first allocations
    ours, surface = best_time(lambda: la.compute_surface(exp, w=X, b=Y), 2 if quick else 5)
    terms = res * res * n
    loop_rows = np.linspace(0, res - 1, 2 if quick else 4).astype(int)
    loop = per_point_loop(exp, X, Y, loop_rows) * res * res
    bt, ref = best_time(lambda: broadcasting(exp, X, Y), 1)
    err = np.max(np.abs(surface.loss - ref) / np.maximum(np.abs(ref), 1e-300))
    print(f"{title:<44} {ours * 1e3:9.2f} ms  {terms / ours / 1e9:7.2f} G terms/s | "
          f"loop {loop:8.1f} s (x{loop / ours:,.0f}) | broadcast {bt * 1e3:8.0f} ms "
          f"{terms / bt / 1e9:5.2f} G/s (x{bt / ours:,.1f}) | max rel diff {err:.1e}")
    return ours


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores, "
          f"load average {load:.2f} (other programs slow every figure)")
    print("grid 501 x 501, 1,000 samples unless stated; the per-point loop is timed on a few rows and scaled.")
    lin = la.make_dataset("linear-outliers", n_samples=1000, seed=1)
    logi = la.make_dataset("logistic", n_samples=1000, seed=1)
    plane = la.make_dataset("plane", n_samples=1000, seed=1)
    cases = [
        ("MSE, linear (closed form; target < 5 ms)", la.Experiment(data=lin, criterion="mse")),
        ("L1, linear (sorted breakpoints)", la.Experiment(data=lin, criterion="l1")),
        ("Huber 1.0, linear (sorted breakpoints)", la.Experiment(data=lin, criterion="huber")),
        ("BCE, logistic (kernel)", la.Experiment(data=logi, model="logistic", criterion="bce")),
        ("BCE with logits, logistic (kernel)", la.Experiment(data=logi, model="logistic", criterion="bce-logits")),
        ("MSE, logistic (kernel)", la.Experiment(data=logi, model="logistic", criterion="mse")),
        ("Huber 0.5, logistic (kernel)", la.Experiment(data=logi, model="logistic", criterion="huber",
                                                       criterion_options={"delta": 0.5})),
        ("plane slice (w1, w2), MSE", la.Experiment(data=plane, model="plane", criterion="mse")),
        ("plane slice (w2, b), Huber", la.Experiment(data=plane, model="plane", criterion="huber",
                                                     grid=la.Grid(axes=("w2", "b")))),
    ]
    for title, exp in cases:
        case(title, exp, 501, args.quick)
        sys.stdout.flush()
    big = la.make_dataset("logistic", n_samples=100_000, seed=1)
    exp = la.Experiment(data=big, model="logistic", criterion="bce")
    X = np.linspace(-10, 10, 501)
    t, _ = best_time(lambda: la.compute_surface(exp, w=X, b=X), 1)
    print(f"{'BCE, logistic, 100,000 samples':<44} {t * 1e3:9.0f} ms  {501 * 501 * 1e5 / t / 1e9:7.2f} G terms/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
