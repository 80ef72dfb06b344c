"""Everything a run reports, as one discriminated union, and the sink it flows into."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, Field, TypeAdapter

ToolKind = Literal["read", "search", "edit", "execute", "think"]
ToolStatus = Literal["pending", "in_progress", "completed", "failed", "denied"]
StopReason = Literal[
    "end_turn", "max_turns", "budget", "cancelled", "model_error", "context_overflow"
]
PlanStatus = Literal["pending", "in_progress", "completed"]
OutputStream = Literal["stdout", "stderr"]


class _Event(BaseModel):
    parent_tool_call_id: str | None = Field(
        None,
        description="Set on a sub-agent's events: the id of the parent's `task` tool call "
        "that runs it (the event's own tool call ids are then `PARENT/ID`).",
    )


class Diff(BaseModel):
    path: str
    old_text: str | None  # None: the file was created
    new_text: str
    unified: str


class PlanEntry(BaseModel):
    content: str = Field(min_length=1)
    status: PlanStatus = "pending"
    priority: Literal["high", "medium", "low"] = "medium"


class UsageInfo(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0


class RunStarted(_Event):
    type: Literal["run_started"] = "run_started"
    model: str
    workspace: str
    prompt: str
    instructions: list[str] = Field(default_factory=list, description="Instruction files loaded.")
    notes: list[str] = Field(
        default_factory=list, description="Problems said once, e.g. an MCP server that failed."
    )


class TextDelta(_Event):
    type: Literal["text_delta"] = "text_delta"
    text: str


class ThoughtDelta(_Event):
    type: Literal["thought_delta"] = "thought_delta"
    text: str


class ToolCallStarted(_Event):
    """A tool call is known and waits (for validation, permission, its turn)."""

    type: Literal["tool_call"] = "tool_call"
    tool_call_id: str
    name: str
    title: str
    kind: ToolKind
    raw_input: dict[str, Any] | str
    locations: list[str] = Field(default_factory=list)
    status: Literal["pending"] = "pending"


class ToolCallProgress(_Event):
    type: Literal["tool_call_update"] = "tool_call_update"
    tool_call_id: str
    status: Literal["in_progress"] = "in_progress"


class ToolOutputDelta(_Event):
    """Streamed output of a running tool (shell stdout/stderr)."""

    type: Literal["tool_output"] = "tool_output"
    tool_call_id: str
    stream: OutputStream = "stdout"
    text: str


class ToolCallFinished(_Event):
    type: Literal["tool_call_finished"] = "tool_call_finished"
    tool_call_id: str
    status: Literal["completed", "failed", "denied"]
    output: str = Field(description="What the model is told.")
    diff: Diff | None = None
    diffs: list[Diff] = Field(
        default_factory=list,
        description="Every file's diff when the edit changed several (a rename); `diff` "
        "then shows them all as one.",
    )


class PlanUpdated(_Event):
    type: Literal["plan"] = "plan"
    entries: list[PlanEntry]


class UsageUpdated(_Event):
    type: Literal["usage"] = "usage"
    usage: UsageInfo
    context_used: int
    context_window: int | None = None
    cost_usd: float | None = None


class Retrying(_Event):
    type: Literal["retry"] = "retry"
    attempt: int
    max_attempts: int
    delay_s: float
    error: str


class Compacted(_Event):
    """The conversation was shrunk to fit the context window."""

    type: Literal["compaction"] = "compaction"
    method: Literal["snip", "summarize", "clear"]
    tokens_before: int
    tokens_after: int
    reason: Literal["threshold", "overflow", "requested"] = "threshold"


class RunFinished(_Event):
    type: Literal["run_finished"] = "run_finished"
    stop_reason: StopReason
    usage: UsageInfo
    cost_usd: float | None = None
    turns: int
    tool_calls: int
    duration_s: float
    edited_paths: list[str] = Field(default_factory=list)
    limit: str | None = Field(None, description="The budget that stopped the run.")
    error: str | None = None


Event = Annotated[
    RunStarted
    | TextDelta
    | ThoughtDelta
    | ToolCallStarted
    | ToolCallProgress
    | ToolOutputDelta
    | ToolCallFinished
    | PlanUpdated
    | UsageUpdated
    | Retrying
    | Compacted
    | RunFinished,
    Field(discriminator="type"),
]

event_adapter: TypeAdapter[Event] = TypeAdapter(Event)


class EventSink(Protocol):
    """Where a run's events go. Must not block: front ends buffer or schedule."""

    def emit(self, event: Event) -> None: ...


class ListSink:
    """Collects events; used by tests and by callers that post-process a run."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[_Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]
