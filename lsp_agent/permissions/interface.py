"""The types the engine and the front ends share: the request, the gate, the verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from lsp_agent.agent.events import Diff, ToolKind

Decision = Literal["allow_once", "allow_always", "reject"]  # the user's answer
Outcome = Literal["allow", "deny", "ask"]  # the policy's answer, before asking


class PermissionRequest(BaseModel):
    tool_call_id: str
    tool: str  # the tool's name, e.g. "bash", "edit_file"
    kind: ToolKind
    title: str
    raw_input: dict[str, Any]
    subject: str | None = None  # the shell command, or the path as the model gave it
    diff: Diff | None = None  # for edits: what would change
    # Workspace-relative, "/"-separated path, when the caller has resolved it already.
    relative_path: str | None = None
    destructive: bool = False  # an MCP tool's destructiveHint: asked in every mode
    # Filled in by the policy before asking: why it is asked, the parts of a command line
    # that need approval, and what "allow always" would allow for the session.
    reason: str | None = None
    asked_parts: list[str] = []
    always: str | None = None

    @property
    def command(self) -> str | None:
        """The whole shell command, for execute requests."""
        if self.kind != "execute":
            return None
        raw = self.subject if self.subject is not None else self.raw_input.get("command")
        return raw if isinstance(raw, str) else None


class PermissionGate(Protocol):
    """The front end's way to ask the user. Anything but an allow is a deny."""

    async def ask(self, request: PermissionRequest) -> Decision: ...


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str  # why; on a denial, what the model is told
    asked: bool = False  # the user approved it at a prompt (protected paths open up)
