"""A surface computed in blocks of rows, in this process or as Ray tasks, optionally into a resumable store.

``compute_surface(exp, ..., engine="ray", workers=N)`` lands here. Each block is one call of
``surface_job.block_function`` (on a worker: one Ray task that rebuilds the experiment from its TOML dict and
receives the plane as a value of arrays), results are placed by their rows, and with ``store=path`` each block is written to an
HDF5 store as it arrives, so a run stopped for any reason resumes with the missing blocks only.

Ray is optional (``pip install 'landscape-app[distributed]'``); it is imported only when asked for.
"""
from __future__ import annotations

import logging
from collections import deque
from contextlib import contextmanager
from typing import Callable

import numpy as np

from .errors import ComputeError, ConfigError, LandscapeError
from .files import writing
from .surface_job import (SurfaceJob, block_function as default_block_function, check_block_rows,
                          default_block_rows, experiment_dict, experiment_from_dict, plane_record,
                          surface_from_values)

ENGINES = ("local", "ray")
INSTALL_RAY = "pip install 'landscape-app[distributed]' (or pip install 'ray>=2.9')"


def compute_surface_blocks(exp, plane=None, alpha=None, beta=None, *, engine: str = "local",
                           workers: int | None = None, address: str | None = None, store=None,
                           block_rows: int | None = None, gpus_per_task: float | None = None,
                           max_retries: int = 3, metric: str = "loss", resolution=None, span=None,
                           progress: Callable[[int, int], None] | None = None,
                           block_function=default_block_function, **options):
    """The surface of ``exp`` computed in blocks of ``block_rows`` rows (see ``compute_surface``).

    ``plane`` None: the (w, b) grid, ``alpha``/``beta`` its w and b values. ``engine``: "local" (this process,
    block after block) or "ray" (one Ray task per block; ``address``: a running cluster, else a local Ray with
    ``workers`` CPUs). ``workers`` also bounds the blocks in flight (twice as many).
    ``store``: an HDF5 file that keeps every finished block; computing again with the same store computes only
    the blocks it lacks (a store made for another surface is refused). ``gpus_per_task``: GPUs per Ray task
    (default: 1 where the cluster has GPUs, else 0); a task given one evaluates on "cuda". ``max_retries``: how
    often Ray reruns a block whose worker died. ``progress(done, total)`` after each block. A block that fails
    raises ``ComputeError`` naming it; ``options`` (``held``, ``batch``, ``bn``, ``device``, ``chunk_bytes``) go
    to each block's ``compute_surface``.
    """
    if engine not in ENGINES:
        raise ConfigError("engine", f"must be one of {', '.join(ENGINES)}, not {engine!r}")
    workers = _whole("workers", workers, 1)
    max_retries = _whole("max_retries", max_retries, 0)
    if gpus_per_task is not None and (isinstance(gpus_per_task, bool) or not isinstance(gpus_per_task, (int, float))
                                      or not 0 <= gpus_per_task):
        raise ConfigError("gpus_per_task", f"must be a number >= 0, not {gpus_per_task!r}")
    if address is not None and engine != "ray":
        raise ConfigError("address", "a cluster address needs engine='ray'")
    # Everything compute_surface checks, before any work; and the axes, resolved.
    template = surface_from_values(exp, plane, alpha, beta, None, metric=metric, resolution=resolution,
                                   span=span, **options)
    alpha, beta = template.w, template.b
    if block_rows is None and store is not None:
        from .surface_store import stored_block_rows
        block_rows = stored_block_rows(store)
    rows = default_block_rows(len(beta), workers) if block_rows is None else check_block_rows(block_rows, len(beta))
    # The plane the surface lies on (for the (w, b) grid, its axes plane): what a store remembers and checks.
    job = SurfaceJob(experiment_dict(exp), plane_record(template.plane), np.array(alpha), np.array(beta), rows,
                     metric, dict(options))
    if engine == "ray":
        _ray()   # refuse before making a store when Ray is missing
    values = np.full(job.shape, np.nan)
    with _maybe_store(store, job, template) as kept:
        todo = list(range(job.n_blocks))
        if kept is not None:
            todo = kept.missing()
            for k in set(range(job.n_blocks)) - set(todo):
                values[job.rows(k)] = kept.read_block(k)
        done = job.n_blocks - len(todo)

        def landed(k: int, block: np.ndarray) -> None:
            nonlocal done
            values[job.rows(k)] = block
            if kept is not None:
                with writing(kept.path):
                    kept.write_block(k, block)
            done += 1
            if progress is not None:
                progress(done, job.n_blocks)

        if todo:
            if engine == "local":
                _run_local(job, exp, plane, todo, block_function, landed)
            else:
                _run_ray(job, plane, todo, block_function, landed, workers=workers, address=address,
                         gpus_per_task=gpus_per_task, max_retries=max_retries)
    return surface_from_values(exp, plane, alpha, beta, values, metric=metric, **options)


def _whole(name: str, value, low: int):
    if value is None and name == "workers":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(name, f"must be a whole number >= {low}, not {value!r}")
    return int(value)


@contextmanager
def _maybe_store(path, job: SurfaceJob, template):
    if path is None:
        yield None
        return
    from .surface_store import open_store
    with open_store(path, job, template) as kept:
        yield kept


def _check_block(job: SurfaceJob, k: int, block) -> np.ndarray:
    arr = np.asarray(block, dtype=np.float64)
    rows = job.rows(k)
    expected = (rows.stop - rows.start, len(job.alpha))
    if arr.shape != expected:
        raise ComputeError(f"{job.describe(k)} came back with shape {arr.shape}, expected {expected}")
    return arr


# -- this process -----------------------------------------------------------------------------------------------

def _run_local(job: SurfaceJob, exp, plane, todo, block_function, landed) -> None:
    opts = _block_options(job)
    for k in todo:
        landed(k, _check_block(job, k, block_function(exp, plane, job.alpha, job.beta[job.rows(k)], **opts)))


def _block_options(job: SurfaceJob) -> dict:
    opts = dict(job.options)
    if job.metric != "loss":
        opts["metric"] = job.metric
    return opts


# -- Ray -----------------------------------------------------------------------------------------------------------

def _ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("engine", f"the Ray engine needs Ray, which is not installed: {INSTALL_RAY}") from None
    return ray


@contextmanager
def ray_cluster(address: str | None = None, workers: int | None = None):
    """Ray, connected: the running session if there is one, else ``address``'s cluster, else a local Ray with
    ``workers`` CPUs (shut down again at the end; a session found running is left as it was)."""
    ray = _ray()
    if ray.is_initialized():
        yield ray
        return
    settings = dict(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    try:
        if address is not None:
            ray.init(address=address, **settings)
        else:
            ray.init(num_cpus=workers, **settings)
    except (OSError, RuntimeError, ValueError) as exc:   # ConnectionError, TimeoutError, a socket path
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise ConfigError("address" if address else "engine", f"cannot start or reach {where}: "
                                                               f"{_first_line(exc)}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


# Workers keep the experiments they rebuilt (a few: each holds its data), keyed by the experiment's digest.
_EXPERIMENTS: dict[str, object] = {}


def run_block(key: str, table, plane, alpha, beta_rows, options, block_function):
    """One block on a worker: rebuild the experiment from its TOML dict, evaluate, return the rows.

    ``plane``: the ``Plane`` (numpy arrays and labels only) or None for the (w, b) grid. A task given a GPU
    evaluates there.
    """
    exp = _EXPERIMENTS.get(key)
    if exp is None:
        if len(_EXPERIMENTS) >= 4:
            _EXPERIMENTS.clear()
        exp = _EXPERIMENTS[key] = experiment_from_dict(table)
    import ray
    if ray.get_gpu_ids():
        options = {**options, "device": "cuda"}
    return np.asarray(block_function(exp, plane, alpha, beta_rows, **options), dtype=np.float64)


def _run_ray(job: SurfaceJob, plane, todo, block_function, landed, *, workers, address, gpus_per_task,
             max_retries) -> None:
    with ray_cluster(address, workers) as ray:
        from ray.exceptions import RayError, RayTaskError
        if gpus_per_task is None:
            gpus_per_task = 1 if ray.cluster_resources().get("GPU", 0) > 0 else 0
        task = ray.remote(run_block).options(num_cpus=1, num_gpus=gpus_per_task, max_retries=max_retries,
                                             retry_exceptions=False)
        shared = [ray.put(v) for v in (job.experiment_key(), job.experiment, plane, job.alpha)]
        opts, fn = ray.put(_block_options(job)), ray.put(block_function)
        queue = deque(todo)
        window = 2 * workers if workers else len(queue)
        pending: dict = {}
        failure: ComputeError | None = None
        try:
            while queue or pending:
                while queue and failure is None and len(pending) < window:
                    k = queue.popleft()
                    pending[task.remote(*shared, job.beta[job.rows(k)], opts, fn)] = k
                if not pending:
                    break
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    k = pending.pop(ref)
                    try:
                        block = _check_block(job, k, ray.get(ref))
                    except RayTaskError as exc:
                        failure = failure or _task_failure(job, k, exc)
                        continue
                    except RayError as exc:
                        failure = failure or ComputeError(
                            f"{job.describe(k)} was lost: its worker died {max_retries + 1} time(s) "
                            f"({_first_line(exc)})")
                        continue
                    except ComputeError as exc:
                        failure = failure or exc
                        continue
                    # Blocks still running when another failed are kept: they are finished work.
                    landed(k, block)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        if failure is not None:
            raise failure


def _task_failure(job: SurfaceJob, k: int, exc) -> ComputeError:
    cause = getattr(exc, "cause", None)
    if isinstance(cause, LandscapeError):
        text = str(cause)
    elif cause is not None:
        text = f"{type(cause).__name__}: {cause}"
    else:
        text = _first_line(exc)
    error = ComputeError(f"{job.describe(k)} failed on a worker: {text}")
    error.__cause__ = cause if isinstance(cause, BaseException) else None
    return error


def _first_line(exc) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


__all__ = ["compute_surface_blocks", "ray_cluster", "run_block", "ENGINES", "INSTALL_RAY"]
