"""How fast is the module evaluator? Figures and ratios against the ``loss-landscapes`` package run in this process.

Two cases, each on the same model, data and kind of plane (random directions, filter-normalised, made with
loss-landscapes' own functions exactly as its ``random_plane`` makes them) and the same number of grid points:

  MLP 2-32-32-1 (tanh) on 1,000 moons samples (make_moons(1000, noise=0.1, random_state=0)), 51 x 51, BCE with
      logits;
  CNN on scikit-learn's 1,797 digits (x / 16, (1, 8, 8) images), 21 x 21, cross-entropy:
      conv 3x3 1->8 (padding 1), ReLU, max-pool 2; conv 3x3 8->16 (padding 1), ReLU, max-pool 2; linear 64->10.

The baseline is ``loss_landscapes.random_plane`` (a per-point loop: set the parameters, call the model and the
loss); ours is ``la.compute_surface`` (the batched evaluator, ``module_surface``) in float32 (its default, like the baseline's float32 model). The two alternate
``--repeats`` times so that a change in the machine's load hits both alike; the figures are medians (wall time,
and CPU time of the process's threads, which a loaded machine inflates less); the garbage of the previous call is
collected before each timed call.
GFLOP/s counts the model's own multiply-adds (2 per MAC of its Linear and Conv layers, the work a per-point
evaluation does) over the wall time, beside this machine's sgemm peak (a 2048 x 2048 torch.mm, measured here).
Targets: at least 3x faster than loss-landscapes on the MLP, 2x on the CNN.

Run:  .venv/bin/python benchmarks/bench_module_surface.py [--repeats 5] [--threads 1] [--only mlp|cnn]
It prints; it asserts nothing about time (the machine may be shared). Needs the ``bench`` extra.
"""
from __future__ import annotations

import argparse
import copy
import gc
import os
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

import landscape_app as la
from landscape_app.core.surface_module import module_surface
from report import Report                  # a sibling script of the benchmarks


def sgemm_peak() -> float:
    """GFLOP/s of the best of a few 2048 x 2048 float32 matrix products."""
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    torch.mm(a, b)
    best = min(_timed(lambda: torch.mm(a, b))[0] for _ in range(5))
    return 2 * 2048 ** 3 / best / 1e9


def _timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def _timed_cpu(fn):
    """Wall and CPU seconds (this process, all threads) of one call, after collecting the garbage that the
    previous call left: loss-landscapes leaves cyclic garbage behind each surface, and left uncollected it made
    the next call here 15-25% slower (0.17-0.19 s against 0.13-0.15 s), whichever ran; it is collected before
    every timed call of both."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def moons_mlp():
    """The built-in ``mlp`` (2-32-32-1, tanh) on the built-in ``moons`` (make_moons(1000, noise=0.1, seed 0))."""
    exp = la.Experiment(data=la.make_dataset("moons"), model="mlp",
                        model_options={"hidden": (32, 32), "activation": "tanh"})
    return exp, exp.build_module(), nn.BCEWithLogitsLoss(), exp.data.x, exp.data.y


def digits_cnn():
    """The built-in ``cnn`` (conv 3x3 1->8, ReLU, max-pool 2, conv 3x3 8->16, ReLU, max-pool 2, linear 64->10) on
    the built-in ``digits`` (the 1,797 images, x / 16)."""
    exp = la.Experiment(data=la.make_dataset("digits"), model="cnn")
    return exp, exp.build_module(), nn.CrossEntropyLoss(), exp.data.x, exp.targets()


def model_flops(model: nn.Module, x: torch.Tensor) -> float:
    """FLOPs of one forward pass over ``x``: 2 per multiply-add of the Linear and Conv layers."""
    total = [0]

    def count(m, _inputs, out):
        if isinstance(m, nn.Linear):
            total[0] += 2 * out.numel() * m.in_features
        elif isinstance(m, nn.Conv2d):
            total[0] += 2 * out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
    hooks = [m.register_forward_hook(count) for m in model.modules()]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return float(total[0])


def plane_like_random_plane(model: nn.Module, steps: int, seed: int):
    """Origin, d1, d2 (flat float32) and the grid coordinates of ``random_plane(model, ..., distance=1, steps)``:
    its directions, filter-normalised and scaled by loss-landscapes' own code; its points origin + i d1 + j d2."""
    from loss_landscapes.model_interface.model_parameters import orthogonal_to, rand_u_like
    from loss_landscapes.model_interface.model_wrapper import wrap_model
    start = wrap_model(copy.deepcopy(model)).get_module_parameters()
    torch.manual_seed(seed)
    one = rand_u_like(start)
    two = orthogonal_to(one)
    one.filter_normalize_(start)
    two.filter_normalize_(start)
    one.mul_((start.model_norm() / steps) / one.model_norm())
    two.mul_((start.model_norm() / steps) / two.model_norm())
    flat = [torch.cat([p.reshape(-1) for p in v.parameters]) for v in (start, one, two)]
    coords = np.arange(steps) - steps / 2
    return flat, coords


def baseline(model, criterion, x, y, steps: int, seed: int) -> np.ndarray:
    from loss_landscapes import random_plane
    from loss_landscapes.metrics import Loss
    torch.manual_seed(seed)
    with torch.no_grad():
        return random_plane(model, Loss(criterion, x, y), distance=1, steps=steps, normalization="filter",
                            deepcopy_model=True)


def check(model, criterion, x, y, flat, coords, surface, samples: int = 5) -> float:
    """Largest relative difference between the surface and torch's own float32 evaluation at a few points."""
    origin, d1, d2 = flat
    probe = copy.deepcopy(model).eval()
    rng = np.random.default_rng(0)
    worst = 0.0
    for i, j in rng.integers(0, len(coords), size=(samples, 2)):
        with torch.no_grad():
            vector_to_parameters(origin + float(coords[j]) * d1 + float(coords[i]) * d2, probe.parameters())
            ref = float(criterion(probe(x), y))
        worst = max(worst, abs(surface[i, j] - ref) / abs(ref))
    return worst


def case(title, exp, model, criterion, x, y, steps, repeats, peak, report=None, target=None):
    flat, coords = plane_like_random_plane(model, steps, seed=1)
    points = steps * steps
    flops = model_flops(model, x) * points
    plane = la.Plane(*flat)        # the same directions, through the public API: la.compute_surface
    ours_fn = lambda: la.compute_surface(exp, plane=plane, alpha=coords, beta=coords).loss  # noqa: E731
    la.compute_surface(exp, plane=plane, alpha=coords[:3], beta=coords[:3])       # warm-up
    theirs, ours, cpu_theirs, cpu_ours = [], [], [], []
    for _ in range(repeats):
        t, c = _timed_cpu(lambda: baseline(model, criterion, x, y, steps, seed=1))
        theirs.append(t)
        cpu_theirs.append(c)
        t, c = _timed_cpu(ours_fn)
        ours.append(t)
        cpu_ours.append(c)
    surface = ours_fn()
    t64 = min(_timed(lambda: module_surface(model, criterion, x, y, *flat, coords, coords, dtype=torch.float64))[0]
              for _ in range(2))
    t_theirs, t_ours = statistics.median(theirs), statistics.median(ours)
    c_theirs, c_ours = statistics.median(cpu_theirs), statistics.median(cpu_ours)
    err = check(model, criterion, x, y, flat, coords, surface)
    print(f"{title}: {points} points, {len(x)} samples, {flops / points / 1e6:.1f} MFLOP a point")
    print(f"  loss-landscapes  {t_theirs:7.3f} s  {t_theirs / points * 1e6:8.0f} us/point  "
          f"{flops / t_theirs / 1e9:6.1f} GFLOP/s ({100 * flops / t_theirs / 1e9 / peak:4.1f}% of sgemm peak)  "
          f"cpu {c_theirs:7.3f} s")
    print(f"  compute_surface  {t_ours:7.3f} s  {t_ours / points * 1e6:8.0f} us/point  "
          f"{flops / t_ours / 1e9:6.1f} GFLOP/s ({100 * flops / t_ours / 1e9 / peak:4.1f}% of sgemm peak)  "
          f"cpu {c_ours:7.3f} s")
    print(f"  speed-up x{t_theirs / t_ours:.2f} (median of {repeats}; runs: ours "
          f"{', '.join(f'{t:.3f}' for t in ours)} s, theirs {', '.join(f'{t:.3f}' for t in theirs)} s); "
          f"max rel diff vs torch per point {err:.1e}")
    print(f"  module_surface in float64 (best of 2): {t64:.3f} s, x{t64 / t_ours:.2f} the float32 time")
    if report is not None:
        report.row(f"{title.split(' (target')[0]}: the surface, median of {repeats}", t_ours, "s", baseline=t_theirs,
                   ratio=t_theirs / t_ours, target=f">= x{target:g}", met=t_theirs / t_ours >= target,
                   note=f"CPU {c_ours:.2f} s ours, {c_theirs:.2f} s theirs; max rel. diff. to torch {err:.0e}")
    return t_theirs / t_ours


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each (medians are printed)")
    parser.add_argument("--only", choices=("mlp", "cnn"), help="run one case")
    parser.add_argument("--threads", type=int, help="torch threads for both (default: torch's own choice); on a "
                        "loaded machine 1 measures the work per core without torch's threads waiting on each other")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    report = Report(__file__, doc=__doc__,
                    baseline="`loss_landscapes.random_plane` 3.0.6 (a per-point loop), same model, data, "
                             "directions and points",
                    ratio="the baseline's seconds / ours (a speed-up: higher is better)")
    peak = sgemm_peak()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores, load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (other programs slow every figure); sgemm peak "
          f"{peak:.0f} GFLOP/s")
    if args.only in (None, "mlp"):
        case("MLP 2-32-32-1 tanh, moons, 51 x 51, BCE with logits (target x3)", *moons_mlp(), 51, args.repeats,
             peak, report, 3)
        sys.stdout.flush()
    if args.only in (None, "cnn"):
        case("CNN conv8-conv16-linear, digits, 21 x 21, cross-entropy (target x2)", *digits_cnn(), 21,
             args.repeats, peak, report, 2)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
