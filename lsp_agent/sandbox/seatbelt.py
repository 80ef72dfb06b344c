"""macOS: a Seatbelt (`sandbox-exec`) profile generated from the same policy.

Reads are allowed but for the denied paths; writes only to the writable paths, the
protected ones excepted, and a private tmp; network only when allowed (unix sockets too:
`deny default` covers them); signals only within the sandbox. Later rules win in SBPL,
so the denials come after the grants.
"""

from __future__ import annotations

from pathlib import Path

from lsp_agent.sandbox.launch import Launch, limited_bash
from lsp_agent.sandbox.policy import SandboxPolicy

NAME = "seatbelt"
SANDBOX_EXEC = "/usr/bin/sandbox-exec"

_BASE = """(version 1)
(deny default)
(allow process-exec)
(allow process-fork)
(allow signal (target same-sandbox))
(allow process-info* (target same-sandbox))
(allow sysctl-read)
(allow mach-lookup)
(allow ipc-posix-shm)
(allow pseudo-tty)
(allow file-ioctl)
(allow file-read*)
(allow file-write* (literal "/dev/null") (literal "/dev/zero") (literal "/dev/tty")
  (regex #"^/dev/fd/[0-9]+$"))"""


def quote(path: Path | str) -> str:
    """An SBPL string literal."""
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def profile(policy: SandboxPolicy, tmp: Path) -> str:
    lines = [_BASE]
    writable = [*policy.writable, tmp]
    lines.append("(allow file-write* " + " ".join(f"(subpath {quote(p)})" for p in writable) + ")")
    if policy.read_only:
        denied = " ".join(f"(subpath {quote(p)})" for p in policy.read_only)
        lines.append(f"(deny file-write* {denied})")
    if policy.hidden:
        hidden = " ".join(f"(subpath {quote(p)})" for p in policy.hidden)
        lines.append(f"(deny file-read* file-write* {hidden})")
    if policy.network:
        lines.append("(allow network*)")
    return "\n".join(lines) + "\n"


def launch(command: str, policy: SandboxPolicy, env: dict[str, str], tmp: Path) -> Launch:
    argv = [SANDBOX_EXEC, "-p", profile(policy, tmp), *limited_bash(command, policy)]
    return Launch(argv, {**env, "TMPDIR": str(tmp), **policy.extra_env})
