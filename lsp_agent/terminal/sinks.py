"""Event sinks for the terminal: readable text, or one JSON event per line."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from pydantic_core import PydanticSerializationError

from lsp_agent import safe_text
from lsp_agent.agent.events import (
    Compacted,
    Event,
    PlanUpdated,
    Retrying,
    RunFinished,
    RunStarted,
    TextDelta,
    ThoughtDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolOutputDelta,
    UsageInfo,
)

STATUS_MARK = {"completed": "✓", "failed": "✗", "denied": "⊘"}
PLAN_MARK = {"pending": "☐", "in_progress": "▶", "completed": "☑"}


class JsonlSink:
    """One JSON object per event on stdout, flushed as it happens."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def emit(self, event: Event) -> None:
        self.out.write(event_json(event) + "\n")
        self.out.flush()


def event_json(event: Event) -> str:
    try:
        return event.model_dump_json()
    except PydanticSerializationError:  # a lone surrogate, which UTF-8 cannot hold
        return safe_text.dumps(event.model_dump(mode="json"))


class ConsoleSink:
    """The answer streams to stdout; tool calls, thoughts and the summary go to stderr."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.color = self.err.isatty() and "NO_COLOR" not in os.environ
        self._titles: dict[str, str] = {}
        self._mid_line = False  # stdout holds a partial line of answer text
        self._headed: str | None = None  # the task call whose sub-agent's work shows last
        self._nested_text: dict[str, str] = {}  # a sub-agent's partial line of text

    def emit(self, event: Event) -> None:
        if event.parent_tool_call_id is not None:
            self._nested(event, event.parent_tool_call_id)
        elif isinstance(event, TextDelta):
            self.out.write(event.text)
            self.out.flush()
            self._mid_line = not event.text.endswith("\n")
        elif isinstance(event, ThoughtDelta):
            self._meta(self._dim(event.text), newline=False)
        elif isinstance(event, ToolCallStarted):
            self._titles[event.tool_call_id] = event.title
        elif isinstance(event, ToolOutputDelta):
            self._meta(self._dim(event.text), newline=False)
        elif isinstance(event, ToolCallFinished):
            self._tool_line(event)
        elif isinstance(event, PlanUpdated):
            self._meta(
                "plan:\n" + "\n".join(f"  {PLAN_MARK[e.status]} {e.content}" for e in event.entries)
            )
        elif isinstance(event, RunStarted):
            for note in event.notes:  # e.g. an MCP server that failed to start
                self._meta(f"! {note}")
        elif isinstance(event, Retrying):
            self._meta(
                f"↻ retry {event.attempt}/{event.max_attempts} in {event.delay_s:.1f}s: "
                f"{event.error}"
            )
        elif isinstance(event, Compacted):
            self._meta(compaction(event))
        elif isinstance(event, RunFinished):
            self._meta(summary(event))

    def _nested(self, event: Event, parent: str) -> None:
        """A sub-agent's work, indented under its `task` call (headed once)."""
        if parent != self._headed:  # headed again when concurrent sub-agents take turns
            if self._headed is not None:
                self._end_nested_text(self._headed)
            self._headed = parent
            self._meta(f"▸ {self._titles.get(parent, parent)}")
        if isinstance(event, TextDelta | ThoughtDelta):
            text = self._nested_text.pop(parent, "") + event.text
            *lines, rest = text.split("\n")
            for line in lines:
                self._meta(self._dim(f"  │ {line}"))
            if rest:
                self._nested_text[parent] = rest
            return
        self._end_nested_text(parent)
        if isinstance(event, ToolCallStarted):
            self._titles[event.tool_call_id] = event.title
        elif isinstance(event, ToolOutputDelta):
            self._meta(self._dim(event.text), newline=False)
        elif isinstance(event, ToolCallFinished):
            self._tool_line(event, indent="  ")
        elif isinstance(event, Retrying):
            self._meta(f"  ↻ retry {event.attempt}/{event.max_attempts}: {event.error}")
        elif isinstance(event, Compacted):
            self._meta(f"  {compaction(event)}")

    def _end_nested_text(self, parent: str) -> None:
        if rest := self._nested_text.pop(parent, ""):
            self._meta(self._dim(f"  │ {rest}"))

    def _tool_line(self, event: ToolCallFinished, indent: str = "") -> None:
        self._end_nested_text(event.tool_call_id)
        if self._headed == event.tool_call_id:
            self._headed = None
        title = self._titles.pop(event.tool_call_id, event.tool_call_id)
        line = f"{indent}{STATUS_MARK[event.status]} {title}"
        if event.status != "completed":
            line += f" — {event.output.splitlines()[0] if event.output else event.status}"
        if event.diff is not None:
            added = sum(1 for x in event.diff.unified.splitlines() if x[:1] == "+")
            removed = sum(1 for x in event.diff.unified.splitlines() if x[:1] == "-")
            line += f" (+{max(added - 1, 0)} -{max(removed - 1, 0)})"
        self._meta(line)

    def _meta(self, text: str, newline: bool = True) -> None:
        if self._mid_line:
            self.out.write("\n")
            self.out.flush()
            self._mid_line = False
        self.err.write(text + ("\n" if newline else ""))
        self.err.flush()

    def _dim(self, text: str) -> str:
        return f"\x1b[2m{text}\x1b[0m" if self.color else text


def compaction(event: Compacted) -> str:
    what = {
        "snip": "old tool outputs removed",
        "summarize": "older turns summarized",
        "clear": "conversation cleared",
    }[event.method]
    why = {"threshold": "", "overflow": " (the server's context overflowed)", "requested": ""}
    return (
        f"⇣ context compacted: {what}{why[event.reason]}, "
        f"{event.tokens_before:,} → {event.tokens_after:,} tokens"
    )


def summary(event: RunFinished) -> str:
    parts = [event.stop_reason + (f" ({event.limit})" if event.limit else "")]
    parts.append(f"{event.turns} turn{'s' * (event.turns != 1)}")
    parts.append(f"{event.tool_calls} tool call{'s' * (event.tool_calls != 1)}")
    parts.append(tokens(event.usage))
    if event.cost_usd is not None:
        parts.append(f"${event.cost_usd:.4f}")
    parts.append(f"{event.duration_s:.1f}s")
    line = "── " + " · ".join(parts)
    if event.error:
        line += f"\nerror: {event.error}"
    return line


def tokens(usage: UsageInfo) -> str:
    text = f"{usage.prompt_tokens:,} in / {usage.completion_tokens:,} out tokens"
    if usage.cached_tokens:
        text += f" ({usage.cached_tokens:,} cached)"
    return text
