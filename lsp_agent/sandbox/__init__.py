"""The OS sandbox around every shell command: what a permission mode means, enforced by
the kernel (bubblewrap or Landlock on Linux, Seatbelt on macOS)."""

from lsp_agent.sandbox.detect import SandboxStatus, launch, status, status_async
from lsp_agent.sandbox.launch import Launch
from lsp_agent.sandbox.policy import SandboxPolicy, policy_for
from lsp_agent.sandbox.protected import is_protected

__all__ = [
    "Launch",
    "SandboxPolicy",
    "SandboxStatus",
    "is_protected",
    "launch",
    "policy_for",
    "status",
    "status_async",
]
