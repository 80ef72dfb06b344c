"""Engine events -> ACP session updates (pure: also used to replay stored sessions)."""

from __future__ import annotations

from lsp_agent.agent.events import (
    Compacted,
    Event,
    PlanUpdated,
    Retrying,
    RunStarted,
    TextDelta,
    ThoughtDelta,
    ToolCallFinished,
    ToolCallProgress,
    ToolCallStarted,
    ToolKind,
    ToolOutputDelta,
    UsageUpdated,
)
from lsp_agent.server import protocol as p

RESULT_SHOWN = 4_000  # characters of a non-streamed tool result shown in the transcript

ACP_KIND: dict[ToolKind, p.AcpToolKind] = {
    "read": "read",
    "search": "search",
    "edit": "edit",
    "execute": "execute",
    "think": "think",
}


def to_updates(event: Event, streamed: set[str] | None = None) -> list[p.Wire]:
    """The updates an event becomes (often one, sometimes none).

    `streamed` holds the ids of tool calls whose output was streamed, so their final
    result is not shown twice.
    """
    if event.parent_tool_call_id is not None:
        return _nested(event, event.parent_tool_call_id, streamed)
    if isinstance(event, RunStarted):
        notes = [  # e.g. an MCP server that failed to start: said once, as a thought
            p.AgentThoughtChunk(content=p.TextContent(text=f"\n! {note}\n")) for note in event.notes
        ]
        return [p.UserMessageChunk(content=p.TextContent(text=event.prompt)), *notes]
    if isinstance(event, TextDelta):
        return [p.AgentMessageChunk(content=p.TextContent(text=event.text))]
    if isinstance(event, ThoughtDelta):
        return [p.AgentThoughtChunk(content=p.TextContent(text=event.text))]
    if isinstance(event, Retrying):  # ACP cannot take text back: say what happened
        note = f"\n↻ retrying ({event.attempt}/{event.max_attempts}): {event.error}\n"
        return [p.AgentThoughtChunk(content=p.TextContent(text=note))]
    if isinstance(event, ToolCallStarted):
        return [
            p.ToolCallUpdateShape(
                tool_call_id=event.tool_call_id,
                title=event.title,
                kind=ACP_KIND[event.kind],
                raw_input=event.raw_input,
                locations=[p.Location(path=loc) for loc in event.locations] or None,
            )
        ]
    if isinstance(event, ToolCallProgress):
        return [p.ToolCallProgressShape(tool_call_id=event.tool_call_id, status="in_progress")]
    if isinstance(event, ToolOutputDelta):
        if streamed is not None:
            streamed.add(event.tool_call_id)
        return [
            p.ToolCallProgressShape(
                tool_call_id=event.tool_call_id,
                content=[p.ContentItem(content=p.TextContent(text=event.text))],
            )
        ]
    if isinstance(event, ToolCallFinished):
        return [finished_update(event, streamed)]
    if isinstance(event, PlanUpdated):
        entries = [
            p.PlanEntryShape(content=e.content, priority=e.priority, status=e.status)
            for e in event.entries
        ]
        return [p.PlanUpdate(entries=entries)]
    if isinstance(event, Compacted):
        return [
            p.CompactionUpdate(
                method=event.method,
                tokens_before=event.tokens_before,
                tokens_after=event.tokens_after,
                reason=event.reason,
            )
        ]
    if isinstance(event, UsageUpdated):
        cost = p.Cost(amount=event.cost_usd) if event.cost_usd is not None else None
        return [p.UsageUpdate(used=event.context_used, size=event.context_window, cost=cost)]
    return []


def _nested(event: Event, parent: str, streamed: set[str] | None) -> list[p.Wire]:
    """A sub-agent's update: tagged with its `task` call. Its text is a thought (a client
    that does not nest must not mix it into the answer); its usage and plan are not shown
    (the context meter and the plan are the parent's)."""
    if isinstance(event, TextDelta | ThoughtDelta):
        return [
            p.AgentThoughtChunk(content=p.TextContent(text=event.text), parent_tool_call_id=parent)
        ]
    if isinstance(event, UsageUpdated | PlanUpdated):
        return []
    top = event.model_copy(update={"parent_tool_call_id": None})
    updates = to_updates(top, streamed)
    for update in updates:
        if isinstance(
            update,
            p.ToolCallUpdateShape
            | p.ToolCallProgressShape
            | p.AgentThoughtChunk
            | p.CompactionUpdate,
        ):
            update.parent_tool_call_id = parent
    return updates


def finished_update(event: ToolCallFinished, streamed: set[str] | None) -> p.ToolCallProgressShape:
    content: list[p.ContentItem | p.DiffItem] = []
    if event.diff is not None:
        d = event.diff
        content.append(p.DiffItem(path=d.path, old_text=d.old_text, new_text=d.new_text))
    elif streamed is None or event.tool_call_id not in streamed:
        shown = event.output
        if len(shown) > RESULT_SHOWN:
            shown = shown[:RESULT_SHOWN] + f"\n… ({len(event.output) - RESULT_SHOWN} more)"
        content.append(p.ContentItem(content=p.TextContent(text=shown)))
    if streamed is not None:
        streamed.discard(event.tool_call_id)
    return p.ToolCallProgressShape(
        tool_call_id=event.tool_call_id,
        status="completed" if event.status == "completed" else "failed",
        content=content or None,
        raw_output={"status": event.status, "output": event.output},
    )
