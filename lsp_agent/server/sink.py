"""Events -> `agent/session/update` notifications and `$/progress`, coalesced into frames.

Deltas (answer text, thoughts, tool output) are merged for up to FRAME_S, so a client sees
a bounded rate of notifications however fast tokens arrive. Order is kept exactly: any
other event flushes the frame first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from lsp_agent.agent.events import (
    Compacted,
    Event,
    Retrying,
    RunFinished,
    TextDelta,
    ThoughtDelta,
    ToolCallStarted,
    ToolOutputDelta,
)
from lsp_agent.agent.service import Sequencer
from lsp_agent.server import protocol as p
from lsp_agent.server.updates import to_updates

FRAME_S = 0.035  # with the client's read gap, a delta reaches the editor within ~50 ms

Send = Callable[[str, dict[str, Any]], None]


class Progress:
    """One `$/progress` token: begin, report, end (all optional if the client can't)."""

    def __init__(self, report: Callable[[str, dict[str, Any]], None] | None, token: Any) -> None:
        self._send, self.token = report, token
        self.ended = False

    def __call__(self, kind: str, **value: Any) -> None:
        if kind == "end":
            if self.ended:
                return
            self.ended = True
        if self._send is not None and self.token is not None:
            self._send("$/progress", {"token": self.token, "value": {"kind": kind, **value}})


class UpdateSink:
    def __init__(
        self,
        session_id: str,
        send: Send,
        seq: Sequencer,
        progress: Progress,
    ) -> None:
        self.session_id, self._send, self._seq, self._progress = session_id, send, seq, progress
        self._key: tuple[str, str, str | None] | None = None  # what the buffered deltas are
        self._buffer: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        self._streamed: set[str] = set()

    def emit(self, event: Event) -> None:
        key = _delta_key(event)
        if key is not None:
            if key != self._key:
                self.flush()
                self._key = key
            self._buffer.append(event.text)  # type: ignore[union-attr]
            if self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(FRAME_S, self.flush)
            return
        self.flush()
        self._publish(event)
        self._report(event)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._key is None:
            return
        kind, call_id, parent = self._key
        text = "".join(self._buffer)
        self._key, self._buffer = None, []
        event: Event
        if kind == "text":
            event = TextDelta(text=text, parent_tool_call_id=parent)
        elif kind == "thought":
            event = ThoughtDelta(text=text, parent_tool_call_id=parent)
        else:
            event = ToolOutputDelta(tool_call_id=call_id, text=text, parent_tool_call_id=parent)
        self._publish(event)

    def _publish(self, event: Event) -> None:
        for update in to_updates(event, self._streamed):
            self.send_update(update)

    def send_update(self, update: p.Wire) -> None:
        params = {"sessionId": self.session_id, "seq": self._seq.take(), "update": update.dump()}
        self._send(p.SESSION_UPDATE, params)

    def _report(self, event: Event) -> None:
        if event.parent_tool_call_id is not None:  # a sub-agent's: the task call's title stands
            return
        if isinstance(event, ToolCallStarted):
            self._progress("report", message=event.title)
        elif isinstance(event, Retrying):
            self._progress(
                "report", message=f"retrying ({event.attempt}/{event.max_attempts}): {event.error}"
            )
        elif isinstance(event, Compacted):
            self._progress(
                "report",
                message=f"compacted the conversation: {event.tokens_before:,} → "
                f"{event.tokens_after:,} tokens",
            )
        elif isinstance(event, RunFinished):
            self._progress("end", message=event.error or event.stop_reason)


def _delta_key(event: Event) -> tuple[str, str, str | None] | None:
    """What deltas may merge with: same kind, same tool call, same (sub-)agent."""
    parent = event.parent_tool_call_id
    if isinstance(event, TextDelta):
        return ("text", "", parent)
    if isinstance(event, ThoughtDelta):
        return ("thought", "", parent)
    if isinstance(event, ToolOutputDelta):
        return ("output", event.tool_call_id, parent)
    return None
