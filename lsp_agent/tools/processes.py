"""Live shell process groups, so they can be killed on timeout, cancellation or shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable

TERM_GRACE_S = 1.0  # time to exit cleanly after SIGTERM before SIGKILL
_KILL_WAIT_S = 5.0
_REAP_WAIT_S = 3.0

_live: set[int] = set()
_cleanups: set[asyncio.Task[None]] = set()  # strong refs: shielded cleanups must not be GC'd


def register(pgid: int) -> None:
    _live.add(pgid)


def unregister(pgid: int) -> None:
    _live.discard(pgid)


def live() -> list[int]:
    """Process group ids of the commands still running."""
    return sorted(_live)


def keep_until_done(task: asyncio.Task[None]) -> None:
    _cleanups.add(task)
    task.add_done_callback(_cleanups.discard)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else (the id was reused)
    return True


def _signal(pgid: int, sig: signal.Signals) -> bool:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def has_live_member(pgid: int) -> bool:
    """Like group_alive, but zombies (dead, not yet reaped by their parent) do not count."""
    if not group_alive(pgid):
        return False
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return True  # no procfs: assume the worst
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        state, _ppid, pgrp = stat[stat.rfind(b")") + 2 :].split()[:3]
        if int(pgrp) == pgid and state not in (b"Z", b"X"):
            return True
    return False


async def _until_false(check: Callable[[int], bool], pgid: int, seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    delay = 0.005
    while check(pgid):
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(delay)  # polling: there is no wait-for-group syscall
        delay = min(delay * 2, 0.1)
    return True


async def kill_group(pgid: int, grace_s: float = TERM_GRACE_S) -> None:
    """SIGTERM the whole group, SIGKILL whatever still runs after `grace_s`, then give the
    zombies' parents (often init, for orphans) a moment to reap them."""
    if not _signal(pgid, signal.SIGTERM):
        return
    if not await _until_false(has_live_member, pgid, grace_s):
        _signal(pgid, signal.SIGKILL)
        await _until_false(has_live_member, pgid, _KILL_WAIT_S)
    # Bounded: an init that never reaps must not stall every command.
    await _until_false(group_alive, pgid, _REAP_WAIT_S)


async def kill_all(grace_s: float = TERM_GRACE_S) -> None:
    """For daemon shutdown: end every command still running, and its children."""
    pgids = live()
    await asyncio.gather(*(kill_group(p, grace_s) for p in pgids))
    for p in pgids:
        unregister(p)


def kill_all_now() -> None:
    """SIGKILL every live group at once; for atexit and signal handlers without a loop."""
    for pgid in live():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        unregister(pgid)


def kill_children_now() -> None:
    """SIGKILL every child process of ours (and the group of one that leads its own):
    before a hard exit, so that no MCP server, search worker or command outlives us.
    Linux only (/proc); elsewhere the registered groups are all that is killed."""
    pids: set[int] = set()
    with contextlib.suppress(OSError):
        for task in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError), open(f"/proc/self/task/{task}/children") as f:
                pids.update(int(p) for p in f.read().split())
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
