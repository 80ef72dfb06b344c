"""Asking the editor's user for permission: `agent/session/request_permission`, else
`window/showMessageRequest`. Only an explicit allow approves; anything else denies."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from lsp_agent.permissions import Decision, PermissionRequest
from lsp_agent.permissions.approval import SHOW_LIMIT, prompt_text
from lsp_agent.server import protocol as p
from lsp_agent.server.updates import ACP_KIND

log = logging.getLogger(__name__)

Request = Callable[[str, dict[str, Any], str], Awaitable[Any]]
Notify = Callable[[str, dict[str, Any]], None]

OPTIONS = [
    p.PermissionOption(option_id="allow_once", name="Allow", kind="allow_once"),
    p.PermissionOption(option_id="allow_always", name="Always allow", kind="allow_always"),
    p.PermissionOption(option_id="reject_once", name="Reject", kind="reject_once"),
]
SHOW_ALL = "Show the whole command"


def options(request: PermissionRequest) -> list[p.PermissionOption]:
    """The options, "always" naming what it would allow for the rest of the session."""
    if not request.always:
        return OPTIONS
    always = OPTIONS[1].model_copy(update={"name": f"Always allow {request.always}"})
    return [OPTIONS[0], always, OPTIONS[2]]


def describe(request: PermissionRequest, limit: int = SHOW_LIMIT) -> str:
    return prompt_text(
        request.title, request.command, request.reason, request.asked_parts, limit=limit
    )


class EditorGate:
    """`request(method, params, msg_id)` sends a request to the client and awaits its result."""

    def __init__(
        self,
        session_id: str,
        request: Request,
        notify: Notify,
        *,
        agent_protocol: bool,
    ) -> None:
        self.session_id = session_id
        self._request, self._notify = request, notify
        self._agent_protocol = agent_protocol

    async def ask(self, request: PermissionRequest) -> Decision:
        # The engine checks that the edit it applies is the diff shown here.
        if self._agent_protocol:
            return await self._ask_agent(request)
        return await self._ask_message(request)

    async def _ask_agent(self, request: PermissionRequest) -> Decision:
        # A command is shown whole (every line) with why it is asked; an edit by its diff.
        content: list[p.ContentItem | p.DiffItem] = []
        if request.kind == "execute":
            text = describe(request, limit=1 << 30)
            content.append(p.ContentItem(content=p.TextContent(text=text)))
        if request.diff is not None:
            d = request.diff
            content.append(p.DiffItem(path=d.path, old_text=d.old_text, new_text=d.new_text))
        params = p.RequestPermissionParams(
            session_id=self.session_id,
            tool_call=p.PermissionToolCall(
                tool_call_id=request.tool_call_id,
                title=request.title,
                kind=ACP_KIND[request.kind],
                raw_input=request.raw_input,
                content=content or None,
            ),
            options=options(request),
        )
        raw = await self._send(p.REQUEST_PERMISSION, params.dump())
        try:
            outcome = p.RequestPermissionResult.model_validate(raw).outcome
        except ValidationError:
            log.warning("unusable permission answer from the client: %r", raw)
            return "reject"
        if isinstance(outcome, p.SelectedOutcome):
            chosen = next((o for o in params.options if o.option_id == outcome.option_id), None)
            if chosen is not None and chosen.kind == "allow_once":
                return "allow_once"
            if chosen is not None and chosen.kind == "allow_always":
                return "allow_always"
        return "reject"

    async def _ask_message(self, request: PermissionRequest) -> Decision:
        message = describe(request)
        actions: dict[str, Decision | None] = {"Allow": "allow_once"}
        if request.always:
            actions[f"Always allow {request.always}"] = "allow_always"
        actions["Reject"] = "reject"
        if message != describe(request, limit=1 << 30):
            actions[SHOW_ALL] = None  # cut: the log gets it whole, then we ask again
        while True:
            params = {
                "type": 2,  # Warning: the user should read it
                "message": message,
                "actions": [{"title": title} for title in actions],
            }
            raw = await self._send("window/showMessageRequest", params)
            title = raw.get("title") if isinstance(raw, dict) else None
            if title == SHOW_ALL:
                whole = describe(request, limit=1 << 30)
                self._notify("window/logMessage", {"type": 3, "message": whole})
                message = f"{describe(request)}\n(The whole command is in the output log.)"
                continue
            answer = actions.get(title) if isinstance(title, str) else None
            if answer == "allow_once":
                return "allow_once"
            return "allow_always" if answer == "allow_always" else "reject"

    async def _send(self, method: str, params: dict[str, Any]) -> Any:
        msg_id = f"perm-{uuid.uuid4().hex[:12]}"
        try:
            return await self._request(method, params, msg_id)
        except asyncio.CancelledError:
            self._notify("$/cancelRequest", {"id": msg_id})  # close the dialog in the editor
            raise
