"""A surface as Ray tasks: blocks per second with 1 and 2 local workers, and what Ray costs per block.

The surface: the built-in CNN (conv 8, conv 16, linear) on the 1,797 digits, cross-entropy, on a plane through
its start and two random points, 21 x 21, one row per block (21 blocks); or, with ``--logistic``, a logistic
model's BCE over 5,000 samples on a 401 x 401 grid in blocks of 8 rows (51 blocks). Timed, each after a warm-up
that starts the workers and loads the package in them:

  (a) this process: the whole grid in one call, then block after block (``engine="local"``), then block after
      block into an HDF5 store; torch as compute_surface runs it (its own worker threads, one per core);
  (b) a local Ray with 1 worker, then with 2 (each worker runs torch on one thread, as Ray sets it);
  (c) Ray's overhead per block: a trivial block (zeros, nothing computed) through Ray against the same function
      called directly, with 2 workers, 400 blocks.

Ray's start-up (``ray.init``) is printed apart: a cluster is started once per computation, not per block.
The machine may be shared: the load average is printed; nothing about time is asserted.

    .venv/bin/python benchmarks/bench_distributed.py [--logistic] [--quick] [--repeat N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import landscape_app as la
from landscape_app.core.distributed import compute_surface_blocks
from landscape_app.core.surface_job import SurfaceJob, experiment_dict, plane_record
from landscape_app.core.surface_store import open_store
from report import Report                  # a sibling script of the benchmarks

TRIVIAL_BLOCKS = 400


def trivial_block(exp, plane, alpha, beta_rows, **options):
    return np.zeros((len(beta_rows), len(alpha)))


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logistic", action="store_true", help="the logistic surface instead of the CNN's")
    parser.add_argument("--quick", action="store_true", help="a smaller surface (CNN: 11 x 11; logistic: "
                                                             "201 x 201, 2,000 samples)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is printed")
    args = parser.parse_args(argv)
    import ray

    if args.logistic:
        n, res = (2000, 201) if args.quick else (5000, 401)
        exp = la.Experiment(model="logistic", criterion="bce",
                            data=la.make_dataset("logistic", n_samples=n, seed=0), grid=la.Grid(resolution=(res, res)))
        grid, rows_per_block = {}, 8
        what = f"logistic BCE, {n:,} samples, {res} x {res} grid"
    else:
        res = 11 if args.quick else 21
        exp = la.Experiment(model="cnn", data=la.make_dataset("digits"))
        p0 = exp.start_vector()
        rng = np.random.default_rng(0)
        plane = la.Plane.through(p0, p0 + 0.5 * rng.normal(size=p0.size), p0 + 0.5 * rng.normal(size=p0.size))
        grid, rows_per_block = dict(plane=plane, span=1.0, resolution=res), 1
        what = f"CNN on {len(exp.data):,} digits ({exp.param_count:,} parameters), cross-entropy, {res} x {res} plane"
    blocks = -(-res // rows_per_block)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"surface: {what}, {blocks} blocks of {rows_per_block} row(s); {os.cpu_count()} cores, "
          f"load average {load:.2f} at start")

    t_whole, _ = timed(lambda: la.compute_surface(exp, **grid), args.repeat)
    print(f"  this process, the whole grid:       {t_whole:7.2f} s  {blocks / t_whole:7.1f} blocks/s")
    t_local, reference = timed(lambda: compute_surface_blocks(exp, block_rows=rows_per_block, **grid),
                                 args.repeat)
    print(f"  this process, block after block:    {t_local:7.2f} s  {blocks / t_local:7.1f} blocks/s")
    with tempfile.TemporaryDirectory() as tmp:
        def stored():
            store = Path(tmp) / f"local-{time.perf_counter_ns()}.h5"
            return compute_surface_blocks(exp, block_rows=rows_per_block, store=store, **grid)
        t_stored, _ = timed(stored, args.repeat)
        # The store's own cost, timed alone (the difference of two runs drowns in a shared machine's noise).
        job = SurfaceJob(experiment_dict(exp), plane_record(reference.plane), reference.w, reference.b,
                         rows_per_block)
        with open_store(Path(tmp) / "writes.h5", job, reference) as kept:
            t0 = time.perf_counter()
            for k in range(job.n_blocks):
                kept.write_block(k, reference.loss[job.rows(k)])
            t_write = (time.perf_counter() - t0) / job.n_blocks
    print(f"  ... each block into an HDF5 store:  {t_stored:7.2f} s  {blocks / t_stored:7.1f} blocks/s  "
          f"(writing and flushing a block: {t_write * 1e3:.2f} ms)")

    report = Report(__file__, doc=__doc__,
                    baseline="`la.compute_surface`, the whole grid in one call in this process (torch's own threads)",
                    ratio="the baseline's seconds / ours (a speed-up: higher is better)")
    how = f"{what}, {blocks} blocks, median of {args.repeat}"

    def row(measured, seconds):
        report.row(measured, seconds, "s", baseline=t_whole, ratio=t_whole / seconds,
                   note=f"{blocks / seconds:.1f} blocks/s")
    row(f"block after block in this process: {how}", t_local)
    row(f"block after block into an HDF5 store: {how}", t_stored)
    figures, inits = {}, {}
    for workers in (1, 2):
        t0 = time.perf_counter()
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        started = time.perf_counter() - t0
        try:
            def on_ray():
                return compute_surface_blocks(exp, engine="ray", workers=workers, block_rows=rows_per_block, **grid)
            on_ray()                                   # warm-up: workers started, package imported
            t, surface = timed(on_ray, args.repeat)
            if not np.array_equal(surface.loss, reference.loss):       # said in the table, then the run fails
                worst = np.max(np.abs(surface.loss - reference.loss))
                report.not_run(f"Ray, {workers} worker{'s' if workers > 1 else ''}: {how}",
                               f"Ray's blocks differ from this process's (by up to {worst:.1e})")
                report.write()
                raise SystemExit("Ray's blocks differ from this process's")
            figures[workers] = t
            inits[workers] = started
            print(f"  Ray, {workers} worker{'s' if workers > 1 else ' '}:                      {t:7.2f} s  "
                  f"{blocks / t:7.1f} blocks/s   (ray.init: {started:.1f} s)")
            if workers == 2:
                rows = TRIVIAL_BLOCKS
                small = la.Experiment(grid=la.Grid(resolution=(res, rows)))

                def trivial_on_ray():
                    return compute_surface_blocks(small, engine="ray", workers=2, block_rows=1,
                                                  block_function=trivial_block)
                trivial_on_ray()
                t_ray, _ = timed(trivial_on_ray, args.repeat)
                alpha, beta = small.grid_axes_values()

                def trivial_here():
                    for i in range(rows):
                        trivial_block(small, None, alpha, beta[i:i + 1])
                t_here, _ = timed(trivial_here, args.repeat)
        finally:
            ray.shutdown()
    print(f"  speed-up of 2 workers over 1: {figures[1] / figures[2]:.2f}x; 2 workers against this process: "
          f"{t_local / figures[2]:.2f}x")
    per_block = (t_ray - t_here) / TRIVIAL_BLOCKS
    print(f"  Ray's overhead per block (2 workers, {TRIVIAL_BLOCKS} trivial blocks): {per_block * 1e3:.2f} ms "
          f"({t_ray:.2f} s through Ray, {t_here * 1e3:.1f} ms called directly)")
    print(f"  load average at the end: {os.getloadavg()[0]:.2f}")
    for workers in (1, 2):
        row(f"Ray, {workers} worker{'s' if workers > 1 else ''}: {how}", figures[workers])
    report.row(f"Ray's overhead per block, 2 workers, {TRIVIAL_BLOCKS} trivial blocks", per_block * 1e3, "ms",
               baseline=t_here / TRIVIAL_BLOCKS * 1e3, note="baseline: the same block function called directly")
    report.row("writing and flushing a block into the HDF5 store", t_write * 1e3, "ms")
    report.row("starting a local Ray (`ray.init`), once per computation", max(inits.values()), "s",
               note=f"1 worker {inits[1]:.1f} s, 2 workers {inits[2]:.1f} s")
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
