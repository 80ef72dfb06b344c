"""What /proc says about a process: CPU time, RSS, and processes carrying our tag."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def cpu_ns(pid: int) -> int:
    """CPU time (user + system) of every thread, in ns.

    The sum of the threads' schedstat (ns resolution) plus what exited threads left in the
    process's utime+stime: `max` of the precise sum and the tick count keeps both honest.
    """
    return max(_schedstat_sum(pid, 0), ticks_ns(pid))


def runqueue_wait_ns(pid: int) -> int:
    """How long the live threads have waited, runnable, for a CPU."""
    return _schedstat_sum(pid, 1)


def _schedstat_sum(pid: int, field: int) -> int:
    """A field of /proc/PID/task/*/schedstat (0: time on a CPU, 1: time waiting for one)."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[field])
            except (OSError, ValueError, IndexError):
                continue
    except OSError:
        pass
    return total


def ticks_ns(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_NS  # utime, stime


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no VmRSS for {pid}")


def tagged(tag: str, exclude: set[int] | frozenset[int] = frozenset()) -> list[tuple[int, str]]:
    """Live processes (not zombies) whose environment holds `LSP_AGENT_BENCH_TAG=tag`."""
    needle = f"LSP_AGENT_BENCH_TAG={tag}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in exclude:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            if state in (b"Z", b"X"):
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        found.append((int(entry), cmd))
    return found


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    py = f"Python {platform.python_version()} ({sys.implementation.name})"
    system = f"{platform.system()} {platform.release()}"
    return f"{model}, {os.cpu_count()} cores{mem}; {py}; {system}"
