"""Make a stored transcript valid again after a run died mid-tool (every provider checks)."""

from __future__ import annotations

from collections.abc import Sequence

from lsp_agent.model.wire import AssistantMessage, Message, ToolCall, ToolMessage

INTERRUPTED = "interrupted: the previous run stopped before this tool call finished"


def repair(messages: Sequence[Message]) -> list[Message]:
    """A valid copy of `messages`: each assistant tool call is answered exactly once, right
    after its assistant message.

    A tool result belongs to the closest assistant message before it, and only when nothing
    but tool results lies between them. Missing results become INTERRUPTED results (in call
    order, after the results that exist); results for unknown or already-answered calls are
    dropped, as are repeated call ids within one assistant message. Everything else is kept
    as is, in order. Pure: the input is not modified; unchanged messages are reused.
    """
    out: list[Message] = []
    i, n = 0, len(messages)
    while i < n:
        message = messages[i]
        i += 1
        if isinstance(message, ToolMessage):
            continue  # an orphan: no assistant message right before it made this call
        if not (isinstance(message, AssistantMessage) and message.tool_calls):
            out.append(message)
            continue
        calls = _unique(message.tool_calls)
        if len(calls) != len(message.tool_calls):
            message = message.model_copy(update={"tool_calls": calls})
        out.append(message)
        wanted = {call.id for call in calls}
        answered: set[str] = set()
        while i < n:
            result = messages[i]
            if not isinstance(result, ToolMessage):
                break
            i += 1
            if result.tool_call_id in wanted and result.tool_call_id not in answered:
                answered.add(result.tool_call_id)
                out.append(result)
        out.extend(
            ToolMessage(tool_call_id=call.id, content=INTERRUPTED)
            for call in calls
            if call.id not in answered
        )
    return out


def _unique(calls: list[ToolCall]) -> list[ToolCall]:
    seen: set[str] = set()
    kept = []
    for call in calls:
        if call.id not in seen:
            seen.add(call.id)
            kept.append(call)
    return kept
