"""A pids cgroup per command, for root: the kernel does not apply RLIMIT_NPROC to uid 0,
so `ulimit -u` inside the sandbox cannot stop a fork bomb that root runs."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
from pathlib import Path

from lsp_agent.sandbox.launch import Launch

log = logging.getLogger(__name__)

_V1 = Path("/sys/fs/cgroup/pids")
_V2 = Path("/sys/fs/cgroup")
_counter = itertools.count()
# Joins the cgroup, then becomes the sandbox: nothing it starts can be outside the cap.
_JOIN = 'echo $$ > "$0" || exit 126; exec "$@"'


def _parent() -> Path | None:
    if os.geteuid() != 0:
        return None
    if (_V1 / "pids.max").exists() or (_V1 / "cgroup.procs").exists():
        base = _V1
    else:
        try:
            controls = (_V2 / "cgroup.subtree_control").read_text()
        except OSError:
            return None
        if "pids" not in controls.split():
            return None
        base = _V2
    parent = base / f"lsp-agent-{os.getpid()}"
    try:
        parent.mkdir(exist_ok=True)
    except OSError:
        return None
    return parent


def new_group(max_processes: int) -> Path | None:
    """A fresh pids cgroup capped at `max_processes`, when one can be made (root)."""
    parent = _parent()
    if parent is None:
        return None
    group = parent / f"cmd-{next(_counter)}"
    try:
        group.mkdir()
        (group / "pids.max").write_text(f"{max_processes}\n")
    except OSError as e:
        log.debug("no pids cgroup for this command: %s", e)
        with contextlib.suppress(OSError):
            group.rmdir()
        return None
    return group


def cap_processes(launch: Launch, max_processes: int) -> Launch:
    """Start `launch` inside a fresh pids cgroup when one can be made (root); else as is."""
    group = new_group(max_processes)
    if group is None:
        return launch
    launch.argv = ["/bin/sh", "-c", _JOIN, str(group / "cgroup.procs"), *launch.argv]
    launch.cleanups.append(lambda: remove(group))
    return launch


def remove(group: Path) -> None:
    """rmdir once empty; one still busy is left for remove_parent at exit."""
    with contextlib.suppress(OSError):
        group.rmdir()


def remove_parent() -> None:
    """At exit: the per-daemon parent, if every command's group is gone."""
    parent = _parent_path()
    if parent is not None:
        with contextlib.suppress(OSError):
            for child in parent.iterdir():
                if child.is_dir():
                    child.rmdir()
            parent.rmdir()


def _parent_path() -> Path | None:
    for base in (_V1, _V2):
        p = base / f"lsp-agent-{os.getpid()}"
        if p.is_dir():
            return p
    return None
