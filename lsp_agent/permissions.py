"""Permission modes, allow/deny rules, the shell classifier, and the gate interface.

INTERFACE SKETCH — to be implemented (see the helper brief).
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel

from lsp_agent.agent.events import Diff, ToolKind

Decision = Literal["allow_once", "allow_always", "reject"]


class PermissionRequest(BaseModel):
    tool_call_id: str
    tool: str  # the tool's name, e.g. "bash", "edit_file"
    kind: ToolKind
    title: str
    raw_input: dict[str, Any]
    subject: str | None = None  # the shell command, or the path as the model gave it
    diff: Diff | None = None  # for edits: what would change


class PermissionGate(Protocol):
    """The front end's way to ask the user. Anything but an allow is a deny."""

    async def ask(self, request: PermissionRequest) -> Decision: ...
