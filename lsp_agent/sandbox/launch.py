"""How a sandboxed command is started: the argv, environment, and what runs in the child."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lsp_agent.sandbox.policy import SandboxPolicy


@dataclass
class Launch:
    argv: list[str]
    env: dict[str, str]
    preexec: Callable[[], None] | None = None  # runs in the child between fork and exec
    pass_fds: tuple[int, ...] = ()
    dies_with_parent: bool = False  # the sandbox ends itself if the daemon is killed
    cleanups: list[Callable[[], None]] = field(default_factory=list)  # after the command

    def cleanup(self) -> None:
        for fn in self.cleanups:
            fn()


def limited_bash(command: str, policy: SandboxPolicy) -> list[str]:
    """`bash -c command` under process and file-size limits set inside the sandbox (an
    unprivileged user namespace counts processes per sandbox there, not per user)."""
    blocks = policy.max_file_bytes // 1024
    setup = (
        f"ulimit -u {policy.max_processes} 2>/dev/null; ulimit -f {blocks} 2>/dev/null; "
        'exec /bin/bash -c "$1" /bin/bash'
    )
    return ["/bin/bash", "-c", setup, "lsp-agent-sandbox", command]
