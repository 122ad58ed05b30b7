"""Threads for the surface: serial torch in the calling thread, independent chunks on worker threads.

torch's own intra-op threads meet at a barrier after every operation; on a machine whose cores are shared
(a GUI thread, a training thread, other programs) one descheduled thread stalls them all: we measured single
operations taking 70x longer, and a 1 ms surface taking 8 ms. Whole chunks per worker thread, each driving
torch single-threaded, degrade gracefully instead.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

import torch

# Below this many loss terms a thread pool costs more than it saves.
MIN_PARALLEL_TERMS = 4_000_000
# Worker threads; None: torch.get_num_threads() of the calling thread, at most one per core.
MAX_WORKERS: int | None = None

# Read once: os.cpu_count() costs tens of microseconds, and serial_torch runs at every training step.
CPU_COUNT = os.cpu_count() or 1
# A training step with less work than this (parameters x batch size) runs fastest on one torch thread: the
# intra-op threads' barrier after every small operation costs more than the split saves, and far more where a
# core is busy with other work. Measured on a shared two-core machine (load 4-5): one thread was faster from MLPs
# of 337 weights to CNNs at batch 1,797 (2 threads 0.13-0.85 as fast) and even at 70M; at 540M the two were
# level. The bound sits below that, where a quiet machine's second core starts to pay (bench_training.py).
SERIAL_TRAINING_WORK = 50_000_000
# This process's own default, read before the app changes it anywhere.
DEFAULT_THREADS = max(1, min(torch.get_num_threads(), CPU_COUNT))

_local = threading.local()


def choose_threads(param_count: int, batch_size: int) -> int:
    """The fastest torch thread count for a training step of a model this size: 1 for small steps, else the
    process's default."""
    return 1 if param_count * batch_size < SERIAL_TRAINING_WORK else DEFAULT_THREADS


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """torch's intra-op threads set to ``threads`` in this thread for the block, and the count put back after.

    The count is per OS thread for the OpenMP pool, but setting it also changes the default that threads started
    later inherit: it is put back even where the block did not change it itself.
    """
    saved = torch.get_num_threads()
    if threads != saved:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


@contextmanager
def serial_torch() -> Iterator[None]:
    """Run torch single-threaded in this thread for the block; ``run_tasks`` inside still uses the workers."""
    saved = torch.get_num_threads()
    outer = getattr(_local, "workers", None)
    _local.workers = outer or MAX_WORKERS or min(saved, CPU_COUNT)
    try:
        with torch_threads(1):
            yield
    finally:
        _local.workers = outer


def run_tasks(fn: Callable, tasks: Iterable, terms: float) -> None:
    """Call ``fn(task)`` for every task: on worker threads (torch single-threaded in each) when work is large."""
    tasks = list(tasks)
    workers = getattr(_local, "workers", None) or MAX_WORKERS or min(torch.get_num_threads(), CPU_COUNT)
    threads = min(workers, len(tasks))
    if threads <= 1 or terms < MIN_PARALLEL_TERMS:
        with serial_torch():
            for task in tasks:
                fn(task)
        return
    saved = torch.get_num_threads()
    # set_num_threads is per OS thread for the OpenMP pool, but it also changes the default that threads
    # started later inherit: put that back once the workers are done.
    try:
        with ThreadPoolExecutor(threads, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            futures = [pool.submit(fn, task) for task in tasks]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    finally:
        torch.set_num_threads(saved)
