"""Recording a run in the session store while its events flow to the front end.

Deltas are merged into one event per message (or per tool call's output), so the stored
log replays the run faithfully without thousands of tiny rows. Writes are queued on the
store's own thread in order and never block the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsp_agent.agent.events import (
    Event,
    EventSink,
    Retrying,
    RunFinished,
    TextDelta,
    ThoughtDelta,
    ToolCallFinished,
    ToolOutputDelta,
    UsageUpdated,
)
from lsp_agent.model.wire import Message, Usage
from lsp_agent.store import AsyncSessionStore

log = logging.getLogger(__name__)
OUTPUT_KEPT = 64_000  # characters of one tool's streamed output kept for replay


class StoreTranscript:
    """The Transcript of one session: messages and checkpoints go to the store."""

    def __init__(self, store: AsyncSessionStore, session_id: str, turn: int) -> None:
        self.store, self.session_id, self.turn = store, session_id, turn

    async def append(self, *messages: Message) -> None:
        await self.store.append_messages(self.session_id, messages, self.turn)

    async def checkpoint(self, position: int, prefix: list[Message]) -> None:
        await self.store.save_checkpoint(self.session_id, position, prefix)


class RecordingSink:
    """Forwards every event to `inner`, and records the run in the store.

    Events of one loop iteration go to the store in one transaction; an abandoned attempt's
    partial text (a retry follows) is not recorded, so a replay shows the answer once.
    """

    def __init__(
        self, inner: EventSink, store: AsyncSessionStore, session_id: str, run_id: int, turn: int
    ) -> None:
        self.inner = inner
        self.store, self.session_id, self.run_id, self.turn = store, session_id, run_id, turn
        self._text_kind: type[TextDelta] | type[ThoughtDelta] | None = None
        self._text_parent: str | None = None  # whose text: the agent's, or a sub-agent's
        self._text: list[str] = []
        self._outputs: dict[str, list[str]] = {}
        self._queue: list[Event] = []
        self._writes: set[asyncio.Task[Any]] = set()

    def emit(self, event: Event) -> None:
        self.inner.emit(event)
        if isinstance(event, TextDelta | ThoughtDelta):
            if self._text_kind is not type(event) or self._text_parent != event.parent_tool_call_id:
                self._flush_text()
                self._text_kind, self._text_parent = type(event), event.parent_tool_call_id
            self._text.append(event.text)
            return
        if isinstance(event, Retrying):
            self._text_kind, self._text = None, []  # the void attempt's partial answer
        self._flush_text()
        if isinstance(event, ToolOutputDelta):
            self._add_output(event)
            return
        if isinstance(event, ToolCallFinished):
            if (output := self._outputs.pop(event.tool_call_id, None)) is not None:
                text = "".join(output)[:OUTPUT_KEPT]
                self._record(
                    ToolOutputDelta(
                        tool_call_id=event.tool_call_id,
                        text=text,
                        parent_tool_call_id=event.parent_tool_call_id,
                    )
                )
            if event.diff is not None and event.status == "completed":
                for diff in event.diffs or [event.diff]:  # every file of a multi-file edit
                    self._write(
                        self.store.record_change(
                            self.session_id, self.turn, diff.path, diff.old_text, diff.new_text
                        )
                    )
        self._record(event)
        if isinstance(event, UsageUpdated | RunFinished):
            usage = Usage(**event.usage.model_dump(exclude={"total_tokens"}))
            self._write(self.store.record_usage(self.run_id, usage, event.cost_usd))
        if isinstance(event, RunFinished):
            self._write(self.store.finish_run(self.run_id, event.stop_reason))

    async def flush(self) -> None:
        """Wait for every queued write (call at the end of a run)."""
        self._flush_text()
        self._flush_queue()
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _add_output(self, event: ToolOutputDelta) -> None:
        kept = self._outputs.setdefault(event.tool_call_id, [])
        if sum(map(len, kept)) < OUTPUT_KEPT:
            kept.append(event.text)

    def _flush_text(self) -> None:
        if self._text_kind is not None and self._text:
            text = "".join(self._text)
            self._record(self._text_kind(text=text, parent_tool_call_id=self._text_parent))
        self._text_kind, self._text = None, []

    def _record(self, event: Event) -> None:
        """Queue an event; the queue is written once per loop iteration, in one go."""
        if not self._queue:
            asyncio.get_running_loop().call_soon(self._flush_queue)
        self._queue.append(event)

    def _flush_queue(self) -> None:
        if self._queue:
            events, self._queue = self._queue, []
            self._write(self.store.append_events(self.session_id, events))

    def _write(self, job: Any) -> None:
        self._flush_queue()  # keep the store's order the order things happened in
        task = asyncio.ensure_future(job)
        self._writes.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("could not record an event in the session store: %s", error)
