"""What one shell command may touch, derived from the permission mode; the backends
(bubblewrap, Landlock, Seatbelt) turn it into kernel rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lsp_agent.sandbox.protected import read_only_paths

MAX_PROCESSES = 1024  # per command: a fork bomb stops here
MAX_FILE_BYTES = 4 * 1024**3  # one file a command writes
# Host paths holding sockets into other processes (D-Bus, the Docker socket, ssh-agent):
# hidden, so a command cannot ask something outside the sandbox to run code.
RUNTIME_DIRS = ("/run", "/var/run", "/tmp", "/var/tmp", "/dev/shm")


@dataclass(frozen=True)
class SandboxPolicy:
    cwd: Path
    roots: tuple[Path, ...]  # the workspace roots, readable in every mode
    writable: tuple[Path, ...]  # empty in read-only mode; a private /tmp is always writable
    read_only: tuple[Path, ...] = ()  # protected paths inside `writable`
    hidden: tuple[Path, ...] = ()  # read-denied paths: not readable at all
    network: bool = False
    max_processes: int = MAX_PROCESSES
    max_file_bytes: int = MAX_FILE_BYTES
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def writes(self) -> bool:
        return bool(self.writable)


def policy_for(
    mode: str,
    roots: Sequence[Path],
    cwd: Path,
    *,
    network: bool | None,
    extra_writable: Iterable[Path] = (),
    hidden: Iterable[Path] = (),
    user_approved: bool = False,
) -> SandboxPolicy:
    """read-only: nothing writable but a private tmp, network off unless set. Other modes:
    the roots (and the user's extra paths) writable, protected paths read-only unless the
    user approved this very command at a prompt, network on unless set off."""
    if mode == "read-only":
        writable: tuple[Path, ...] = ()
        protected: tuple[Path, ...] = ()
        net = bool(network)
    else:
        writable = (*roots, *extra_writable)
        protected = () if user_approved else tuple(read_only_paths(roots))
        net = True if network is None else network
    return SandboxPolicy(
        cwd=cwd,
        roots=tuple(roots),
        writable=writable,
        read_only=protected,
        hidden=tuple(hidden),
        network=net,
    )
