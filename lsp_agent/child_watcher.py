"""How asyncio waits for child processes (rg, bash): light, since both entry points import
it before anything else."""

from __future__ import annotations

import asyncio
import os
import sys


def watch_children_with_pidfds() -> None:
    """Call before the event loop starts. Python 3.11 waits for each child process in a
    thread of its own, started (and waited for) on the event loop: ~1.5 ms per rg or bash,
    far more on a busy machine. A pidfd needs no thread; 3.12 uses one by itself."""
    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return  # a kernel older than 5.3
    asyncio.get_event_loop_policy().set_child_watcher(asyncio.PidfdChildWatcher())
