"""Run independent surface chunks on worker threads, each driving torch single-threaded.

torch's own intra-op threads meet at a barrier after every operation; on a machine whose cores are shared
(a GUI thread, a training thread, other programs) one descheduled thread stalls them all, and we measured
single operations taking 70x longer. Whole chunks per thread degrade gracefully instead.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable

import torch

# Below this many loss terms a thread pool costs more than it saves.
MIN_PARALLEL_TERMS = 4_000_000
# Worker threads; None: torch.get_num_threads(), at most one per core.
MAX_WORKERS: int | None = None


def run_tasks(fn: Callable, tasks: Iterable, terms: float) -> None:
    """Call ``fn(task)`` for every task: on ``torch.get_num_threads()`` worker threads when the work is large."""
    tasks = list(tasks)
    saved = torch.get_num_threads()
    threads = min(MAX_WORKERS or min(saved, os.cpu_count() or 1), len(tasks))
    if threads <= 1 or terms < MIN_PARALLEL_TERMS:
        for task in tasks:
            fn(task)
        return
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
