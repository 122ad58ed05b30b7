"""A run's speed against the bare torch loop, side by side in this process, at 1 and 2 torch threads.

For the first run of the ``mlp-moons`` and ``cnn-digits`` presets: steps per second of the plain loop (the
course's DataLoader, module, criterion and optimizer; nothing recorded) and of ``la.run`` (the same updates, bit
for bit, plus the run's own bookkeeping: the full-data loss after every step and the records), and their ratio
(target: at most 1.5 at the thread count the experiment chooses, marked ``*``). ``floor`` is the ratio that the
full-data loss alone allows: a bare step plus one float64 evaluation of the whole data, over a bare step.

Both run in one thread of their own, alternating, best of ``--repeat``; the load average is printed beside each
pair. ``--busy`` keeps another process spinning on a core meanwhile, as other work does on a shared machine.

    .venv/bin/python benchmarks/bench_training.py
    .venv/bin/python benchmarks/bench_training.py --busy
It prints; it asserts nothing about time (the machine may be shared).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

import landscape_app as la
from landscape_app.core.models import build_criterion
from landscape_app.core.module_points import LiveLoss
from landscape_app.core.optimizers import build_optimizer
from landscape_app.core.presets import load_preset
from landscape_app.core.surface_parallel import torch_threads

PRESETS = ("mlp-moons", "cnn-digits")
REPEATS = 3


def bare(exp) -> int:
    """The plain loop, as the labs write it; returns the number of updates."""
    model = exp.build_module()
    criterion = build_criterion(exp.criterion, exp.criterion_options)
    optimizer = build_optimizer(exp.optimizer, model.parameters(), exp.lr, exp.optimizer_options)
    loader = DataLoader(TensorDataset(exp.data.x, exp.targets()), batch_size=exp.effective_batch_size,
                        shuffle=exp.shuffle, generator=torch.Generator().manual_seed(exp.seed))
    n = 0
    for _ in range(exp.epochs):
        for x, y in loader:
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            n += 1
    return n


def full_loss_seconds(exp, repeat: int = 20) -> float:
    """One float64 evaluation of the whole data, as the run makes after every step (best of ``repeat``)."""
    records = LiveLoss(exp, exp.build_module())
    records.take()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        records.loss()
        best = min(best, time.perf_counter() - t0)
    return best


def in_thread(fn):
    """``fn()`` in a thread of its own, as the training process runs its loop; returns (result, seconds)."""
    out = {}

    def go():
        t0 = time.perf_counter()
        out["result"] = fn()
        out["seconds"] = time.perf_counter() - t0
    thread = threading.Thread(target=go, name="bench-training")
    thread.start()
    thread.join()
    return out["result"], out["seconds"]


def measure(exp, threads: int, repeat: int) -> dict:
    exp = exp.replace(threads=threads)

    def bare_at_count():
        with torch_threads(threads):
            return bare(exp)
    in_thread(bare_at_count)                                     # warm up (first optimizer step, caches)
    best_bare = best_run = float("inf")
    steps = 0
    loads = []
    for _ in range(repeat):
        loads.append(os.getloadavg()[0])
        steps, seconds = in_thread(bare_at_count)
        best_bare = min(best_bare, seconds)
        path, seconds = in_thread(lambda: la.run(exp))
        assert len(path) == steps + 1
        best_run = min(best_run, seconds)
    step = best_bare / steps
    full = in_thread(lambda: full_loss_seconds(exp))[0]     # single-threaded whatever the run's count
    return {"bare": steps / best_bare, "run": steps / best_run, "ratio": best_run / best_bare,
            "floor": (step + full) / step, "steps": steps, "load": (min(loads), max(loads))}


def spinner() -> subprocess.Popen:
    """Another process keeping one core busy."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--busy", action="store_true", help="keep another process spinning on a core meanwhile")
    parser.add_argument("--repeat", type=int, default=REPEATS, help=f"pairs per case (default {REPEATS})")
    args = parser.parse_args()
    busy = spinner() if args.busy else None
    done = []         # (preset, experiment, threads, figures): the results table's rows
    try:
        print(f"torch {torch.__version__}, {os.cpu_count()} cores, default {torch.get_num_threads()} threads"
              f"{', another process spinning on a core' if busy else ''}; best of {args.repeat}")
        for name in PRESETS:
            exp = load_preset(name).runs[0]
            print(f"{name} ({exp.param_count:,} parameters, batch {exp.effective_batch_size}, "
                  f"{len(exp.data):,} samples): chooses {exp.threads} thread(s)")
            for threads in (1, 2):
                r = measure(exp, threads, args.repeat)
                done.append((name, exp, threads, r))
                mark = "*" if threads == exp.threads else " "
                print(f" {mark}{threads} thread(s): bare {r['bare']:6,.0f} steps/s   la.run {r['run']:6,.0f} steps/s   "
                      f"ratio {r['ratio']:.2f}   floor {r['floor']:.2f}   ({r['steps']} steps, load {r['load'][0]:.1f}-"
                      f"{r['load'][1]:.1f})", flush=True)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    write_report(done, args)
    return 0


def write_report(done, args) -> None:
    """The figures as rows of the results table (benchmarks/report.py)."""
    from report import Report
    report = Report(__file__, doc=__doc__, busy=args.busy,
                    baseline="the bare torch loop (`bare`: DataLoader, module, criterion, optimizer; nothing "
                             "recorded), same updates, alternating with ours in this process",
                    ratio="ours / the baseline's seconds for the same steps (lower is better; x1.00 = no cost)")
    for name, exp, threads, r in done:
        chosen = threads == exp.threads
        report.row(f"{name}, first run, {threads} thread(s){' (its choice)' if chosen else ''}: steps/s, best of "
                   f"{args.repeat}", r["run"], "steps/s", baseline=r["bare"], ratio=r["ratio"],
                   target="<= x1.5" if chosen else None, met=r["ratio"] <= 1.5 if chosen else None,
                   load=r["load"][1], note=f"floor x{r['floor']:.2f}: a bare step plus one full-data loss")
    report.write()


if __name__ == "__main__":
    sys.exit(main())
