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
from report import Report                  # a sibling script of the benchmarks


def best_time(fn, repeat: int, budget: float = 0.0) -> tuple[float, float, object]:
    """Best wall time over ``repeat`` runs (more while under ``budget`` seconds), its CPU time, the result."""
    result, best, cpu, spent, runs = None, float("inf"), float("nan"), 0.0, 0
    while runs < repeat or spent < budget:
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        dt = time.perf_counter() - t0
        if dt < best:
            best, cpu = dt, time.process_time() - c0
        spent += dt
        runs += 1
    return best, cpu, result


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


def case(title, exp, res, quick, report=None):
    X, Y = np.linspace(*exp.grid.x_range, res), np.linspace(*exp.grid.y_range, res)
    n = len(exp.data)
    la.compute_surface(exp, w=X[:5], b=Y[:5])          # warm-up: imports, first allocations
    ours, cpu, surface = best_time(lambda: la.compute_surface(exp, w=X, b=Y), 3, 0.5 if quick else 2.0)
    terms = res * res * n
    loop_rows = np.linspace(0, res - 1, 2 if quick else 4).astype(int)
    loop = per_point_loop(exp, X, Y, loop_rows) * res * res
    rows = np.arange(0, res, 5)                         # every 5th row, timed and scaled
    bt, _, ref = best_time(lambda: broadcasting(exp, X, Y[rows]), 1)
    bt *= res / len(rows)
    err = np.max(np.abs(surface.loss[rows] - ref) / np.maximum(np.abs(ref), 1e-300))
    print(f"{title:<40} {ours * 1e3:8.2f} ms {terms / ours / 1e9:6.2f} G/s (cpu {cpu * 1e3:7.1f} ms) | "
          f"loop {loop:6.1f} s x{loop / ours:<7,.0f}| broadcast {bt * 1e3:6.0f} ms {terms / bt / 1e9:5.2f} G/s "
          f"x{bt / ours:<6,.1f}| max rel diff {err:.0e}")
    if report is not None:
        # The one target is in its title, "(closed form; target < 5 ms)".
        name, _, target = title.partition("; target ")
        goal = {}
        if target:
            name += ")"
            goal = dict(target=target.rstrip(")"), met=ours * 1e3 < float(target.split()[1]))
        for baseline, seconds, how in (("the per-point loop", loop, f"{len(loop_rows)} rows timed, scaled"),
                                       ("broadcasting", bt, "every 5th row timed, scaled")):
            report.row(f"{name}, {res} x {res}, {n:,} samples: against {baseline}", ours * 1e3, "ms",
                       baseline=seconds * 1e3, ratio=seconds / ours, note=f"baseline: {how}", **goal)
    return ours


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    report = Report(__file__, doc=__doc__,
                    baseline="(a) the course helper's per-point loop (set the parameters, call the criterion); "
                             "(b) plain torch broadcasting over row chunks of ~32 MB; same grid, in this process",
                    ratio="the baseline's time / ours (a speed-up: higher is better)")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores, "
          f"load average {load:.2f} (other programs slow every figure)")
    print("grid 501 x 501, 1,000 samples unless stated; G/s = grid points x samples per second (wall);")
    print("the loop (a few rows) and broadcasting (every 5th row) are timed on part of the grid and scaled;")
    print("x = how many times slower than compute_surface; max rel diff = compute_surface vs broadcasting.")
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
        case(title, exp, 501, args.quick, report)
        sys.stdout.flush()
    big = la.make_dataset("logistic", n_samples=100_000, seed=1)
    for crit in ("bce", "mse"):
        exp = la.Experiment(data=big, model="logistic", criterion=crit)
        X = np.linspace(-10, 10, 201)
        t, cpu, _ = best_time(lambda: la.compute_surface(exp, w=X, b=X), 1)
        print(f"{crit.upper() + ', logistic, 201 x 201, 100,000 samples':<40} {t * 1e3:8.0f} ms "
              f"{201 * 201 * 1e5 / t / 1e9:6.2f} G/s (cpu {cpu * 1e3:7.0f} ms)")
        report.row(f"{crit.upper()}, logistic, 201 x 201, 100,000 samples", t * 1e3, "ms",
                   note="no baseline run at this size")
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
