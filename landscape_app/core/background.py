"""Background work yields the processor to the window: its threads run at a lower scheduling priority.

On a machine with few cores the training process and the surface jobs keep every core busy, and the window's
thread then waits its turn for one: tens of milliseconds at a time, visible as a stalled window
(``benchmarks/bench_gui_stall.py``). Lowered, they still use every idle cycle, and they share the processor
among themselves as before.
"""
from __future__ import annotations

import os
import sys
import threading

NICE = 10     # the nice value of background threads (0 is normal, 19 the lowest)


def lower_this_thread() -> None:
    """Lower the calling thread (and the threads it starts later, which inherit it). Linux only: there each
    thread has its own nice value; elsewhere it would lower the whole process, the window's thread with it."""
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < NICE:
            os.setpriority(os.PRIO_PROCESS, tid, NICE)
    except OSError:     # not permitted here (a sandbox): it runs at the normal priority
        pass


__all__ = ["NICE", "lower_this_thread"]
