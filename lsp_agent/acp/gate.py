"""`session/request_permission`: the LSP front end's gate (the whole command, the diff,
allow/reject once/always; only an explicit allow approves), sent through the ACP SDK."""

from __future__ import annotations

import logging
from typing import Any

from acp.schema import RequestPermissionRequest

from lsp_agent.server.gate import EditorGate

log = logging.getLogger(__name__)


def permission_gate(conn: Any, session_id: str) -> EditorGate:
    async def request(method: str, params: dict[str, Any], msg_id: str) -> Any:
        asked = RequestPermissionRequest.model_validate(params)
        answer = await conn.request_permission(
            session_id=asked.session_id, tool_call=asked.tool_call, options=asked.options
        )
        return answer.model_dump(by_alias=True, exclude_none=True, mode="json")

    def notify(method: str, params: dict[str, Any]) -> None:
        # A cancelled prompt: ACP clients answer their open permission requests with
        # `cancelled` themselves on session/cancel, so there is nothing to send.
        log.debug("not sent over ACP: %s", method)

    return EditorGate(session_id, request, notify, agent_protocol=True)
