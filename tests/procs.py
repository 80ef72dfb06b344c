"""Finding test processes by a marker in their command line: works inside the sandbox's
PID namespace too, where `$$` is not the host's pid."""

from __future__ import annotations

import contextlib
import os
import select
import time


def running(marker: str) -> list[int]:
    """Host pids of live processes with `marker` as one of their arguments (zombies have
    an empty command line, so they do not count)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read().split(b"\0"):
                    found.append(int(pid))
        except OSError:
            continue
    return found


def sleep_marker() -> str:
    """A `sleep` argument no other process has: 300 s and this process's id."""
    return f"300.{os.getpid()}"


def spawn_two(marker: str) -> str:
    """A command that starts two sleeps (one in a session of its own, which a process-group
    kill misses), then prints "started" once both run, and waits."""
    return (
        f"setsid sleep {marker} & sleep {marker} & "
        f"until [ $(pgrep -fxc 'sleep {marker}') = 2 ]; do :; done; echo started; wait"
    )


def wait_gone(marker: str, wait_s: float = 20) -> list[int]:
    """Wait (on pidfds, no polling) until no process has the marker; what is left if not."""
    deadline = time.monotonic() + wait_s
    while (pids := running(marker)) and time.monotonic() < deadline:
        fds = []
        for pid in pids:
            with contextlib.suppress(OSError):  # gone already
                fds.append(os.pidfd_open(pid))
        try:
            if fds:
                select.select(fds, [], [], max(deadline - time.monotonic(), 0))
        finally:
            for fd in fds:
                os.close(fd)
    return running(marker)
