"""Slash commands (/compact, /clear, /undo [N], /sessions) and the prompt's answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from acp import RequestError
from acp.schema import AgentMessageChunk, PromptResponse, TextContentBlock, Usage

from lsp_agent.acp.client_fs import ClientWorkspace, session_bounds
from lsp_agent.acp.content import invalid
from lsp_agent.agent.events import RunFinished, StopReason
from lsp_agent.agent.service import LiveSession, ServiceError
from lsp_agent.workspace import WorkspaceError

if TYPE_CHECKING:
    from lsp_agent.acp.agent import AcpAgent

# The engine's stop reasons in ACP's words (the engine's own goes in _meta).
ACP_STOP: dict[StopReason, str] = {
    "end_turn": "end_turn",
    "cancelled": "cancelled",
    "max_turns": "max_turn_requests",
    "budget": "max_tokens",
    "context_overflow": "max_tokens",
    "model_error": "end_turn",  # not sent: a model error is a JSON-RPC error
}


async def run(agent: AcpAgent, live: LiveSession, text: str) -> PromptResponse | None:
    """Run a slash command; None when the text is not one."""
    name, _, arg = text.partition(" ")
    if name in ("/compact", "/clear"):
        return await agent.run(live, name)
    if name == "/undo":
        return await _undo(agent, live, arg.strip())
    if name == "/sessions":
        found = await agent.service.list_sessions([live.session.root])
        lines = [f"- `{s.id}` {s.title or '(untitled)'} ({s.turns} turns)" for s in found]
        _say(agent, live, "Sessions in this workspace:\n" + "\n".join(lines))
        return PromptResponse(stop_reason="end_turn")
    return None


async def _undo(agent: AcpAgent, live: LiveSession, arg: str) -> PromptResponse:
    if arg and not (arg.isdigit() and int(arg) > 0):
        raise invalid(f"prompt: /undo takes a number of turns, not {arg!r}")
    fs = agent.client.fs
    roots, cwd = session_bounds(live.extras.get("root"), live.session.root)
    workspace = ClientWorkspace(
        roots,
        agent.conn,
        live.id,
        read=bool(fs and fs.read_text_file),
        write=bool(fs and fs.write_text_file),
        cwd=cwd,
    )
    try:
        result = await agent.service.undo(live, workspace, int(arg or 1))
    except ServiceError as e:
        raise RequestError(-32002, str(e)) from None
    except WorkspaceError as e:
        raise RequestError(-32603, f"undo failed: {e}") from None
    names = [workspace.display(x) for x in result.reverted + result.deleted]
    if result.conflicts and not result.applied:
        changed = ", ".join(workspace.display(x) for x in result.conflicts)
        text = f"Nothing undone: changed since the agent's edit: {changed}"
    else:
        turns = int(arg or 1)
        nothing = f"Nothing to undo: the agent changed no files in the last {turns} turn(s)."
        text = f"Undone: {', '.join(names)}" if names else nothing
    _say(agent, live, text)
    return PromptResponse(stop_reason="end_turn")


def _say(agent: AcpAgent, live: LiveSession, text: str) -> None:
    chunk = AgentMessageChunk(
        session_update="agent_message_chunk", content=TextContentBlock(type="text", text=text)
    )
    agent._outbox(live).send_update(chunk)


def response(finished: RunFinished) -> PromptResponse:
    if finished.stop_reason == "model_error":
        raise RequestError(-32603, finished.error or "the model failed")
    usage = finished.usage
    meta: dict[str, Any] = {
        "stopReason": finished.stop_reason,
        "turns": finished.turns,
        "toolCalls": finished.tool_calls,
        "editedPaths": finished.edited_paths,
    }
    if finished.limit:
        meta["limit"] = finished.limit
    if finished.cost_usd is not None:
        meta["costUsd"] = finished.cost_usd
    return PromptResponse(
        stop_reason=ACP_STOP[finished.stop_reason],
        usage=Usage(
            total_tokens=usage.total_tokens,
            input_tokens=usage.prompt_tokens,
            output_tokens=usage.completion_tokens,
            thought_tokens=usage.reasoning_tokens or None,
            cached_read_tokens=usage.cached_tokens or None,
        ),
        field_meta={"lspAgent": meta},
    )
