"""A benchmark's result rows, kept as JSON beside the scripts so that docs/performance.md is made from them.

Each ``bench_*.py`` script makes one ``Report``, adds a row per figure it prints (what was measured, ours, the
baseline run beside it in the same process, their ratio, the project's target and whether it is met) and calls
``write()`` at the end: the rows go to ``benchmarks/results/<script>[-busy].json`` with the machine, the date,
the load condition and the load average, replacing that file's previous run. ``make_tables.py`` turns the files
into one table per benchmark. Standard library only: it must not change what the scripts import or time.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
FORMAT = 1          # bumped when a file's keys change meaning, so that the generator can refuse old files


@dataclass(frozen=True)
class Row:
    """One figure. ``ours`` and ``baseline`` share ``unit``; ``ratio`` is as the benchmark defines it (see the
    report's ``ratio``); ``ours`` None with a ``note`` is a figure that could not be measured here, and why."""
    measured: str
    ours: float | None
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    target: str | None = None
    met: bool | None = None
    load: float | None = None      # the 1-minute load average when the figure was taken
    note: str | None = None


def _figure(value) -> float | None:
    """A figure kept to 5 significant digits: timings carry no more, and the committed files stay readable."""
    return None if value is None else float(f"{float(value):.5g}")


def load_average() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine() -> dict:
    """What the figures depend on besides the code. torch's version is read from its metadata: importing torch
    here would add seconds to scripts that time a fresh process (bench_startup.py never imports it)."""
    try:
        torch = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch = None
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "system": f"{platform.system()} {platform.machine()}",
            "torch": torch, "python": platform.python_version()}


class Report:
    """The rows of one run of one benchmark script.

    ``script``: the script's ``__file__``; ``doc``: its docstring (the first paragraph titles the table);
    ``baseline``: what the baseline column holds; ``ratio``: how the ratio is formed and which way is better;
    ``busy``: whether another process kept a core busy meanwhile (the script's ``--busy``).
    """

    def __init__(self, script: str, *, doc: str, baseline: str, ratio: str, busy: bool = False,
                 results: Path | None = None):
        self.name = Path(script).stem
        self.title = " ".join(doc.strip().split("\n\n")[0].split())
        self.baseline = baseline
        self.ratio = ratio
        self.busy = busy
        self.results = Path(results) if results is not None else RESULTS
        self.rows: list[Row] = []
        self.started = datetime.datetime.now().astimezone()
        self.load_start = load_average()
        self.options = list(sys.argv[1:])      # e.g. --quick, --repeat 2: shown beside the load

    def row(self, measured: str, ours: float | None, unit: str, *, baseline: float | None = None,
            ratio: float | None = None, target: str | None = None, met: bool | None = None,
            load: float | None = None, note: str | None = None) -> Row:
        """Add a figure; ``load`` defaults to the load average now (the minute the figure was measured in)."""
        row = Row(measured, _figure(ours), unit, _figure(baseline), _figure(ratio), target,
                  None if met is None else bool(met), _figure(load_average() if load is None else load), note)
        self.rows.append(row)
        return row

    def not_run(self, measured: str, why: str) -> Row:
        """A figure this machine could not give (no display, no OpenGL, a missing package): said, not skipped."""
        return self.row(measured, None, "", note=f"not measured: {why}")

    @property
    def path(self) -> Path:
        return self.results / f"{self.name}{'-busy' if self.busy else ''}.json"

    def as_dict(self) -> dict:
        return {"format": FORMAT, "benchmark": self.name, "title": self.title, "baseline": self.baseline,
                "ratio": self.ratio, "busy": self.busy, "options": self.options,
                "date": self.started.date().isoformat(), "started": self.started.isoformat(timespec="seconds"),
                "machine": machine(), "load_start": _figure(self.load_start), "load_end": _figure(load_average()),
                "rows": [asdict(r) for r in self.rows]}

    def write(self) -> Path:
        """Write the rows (replacing this script's previous results for the same load condition)."""
        self.results.mkdir(parents=True, exist_ok=True)
        path = self.path
        text = json.dumps(self.as_dict(), indent=1, ensure_ascii=False) + "\n"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)          # a run stopped midway leaves the previous results whole
        print(f"results written to {path}")
        return path
