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

    async def append(self, message: Message) -> None:
        await self.store.append_message(self.session_id, message, self.turn)

    async def checkpoint(self, position: int, prefix: list[Message]) -> None:
        await self.store.save_checkpoint(self.session_id, position, prefix)


class RecordingSink:
    """Forwards every event to `inner`, and records the run in the store."""

    def __init__(
        self, inner: EventSink, store: AsyncSessionStore, session_id: str, run_id: int, turn: int
    ) -> None:
        self.inner = inner
        self.store, self.session_id, self.run_id, self.turn = store, session_id, run_id, turn
        self._text: TextDelta | ThoughtDelta | None = None
        self._outputs: dict[str, ToolOutputDelta] = {}
        self._writes: set[asyncio.Task[Any]] = set()

    def emit(self, event: Event) -> None:
        self.inner.emit(event)
        if isinstance(event, TextDelta | ThoughtDelta):
            if self._text is not None and type(self._text) is type(event):
                self._text = type(event)(text=self._text.text + event.text)
                return
            self._flush_text()
            self._text = event
            return
        self._flush_text()
        if isinstance(event, ToolOutputDelta):
            self._add_output(event)
            return
        if isinstance(event, ToolCallFinished):
            if (output := self._outputs.pop(event.tool_call_id, None)) is not None:
                self._write(self.store.append_event(self.session_id, output))
            if event.diff is not None and event.status == "completed":
                diff = event.diff
                self._write(
                    self.store.record_change(
                        self.session_id, self.turn, diff.path, diff.old_text, diff.new_text
                    )
                )
        self._write(self.store.append_event(self.session_id, event))
        if isinstance(event, UsageUpdated | RunFinished):
            usage = Usage(**event.usage.model_dump(exclude={"total_tokens"}))
            cost = event.cost_usd
            self._write(self.store.record_usage(self.run_id, usage, cost))
        if isinstance(event, RunFinished):
            self._write(self.store.finish_run(self.run_id, event.stop_reason))

    async def flush(self) -> None:
        """Wait for every queued write (call at the end of a run)."""
        self._flush_text()
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _add_output(self, event: ToolOutputDelta) -> None:
        kept = self._outputs.get(event.tool_call_id)
        if kept is None:
            self._outputs[event.tool_call_id] = event
        elif len(kept.text) < OUTPUT_KEPT:
            text = (kept.text + event.text)[:OUTPUT_KEPT]
            self._outputs[event.tool_call_id] = kept.model_copy(update={"text": text})

    def _flush_text(self) -> None:
        if self._text is not None:
            self._write(self.store.append_event(self.session_id, self._text))
            self._text = None

    def _write(self, job: Any) -> None:
        task = asyncio.ensure_future(job)
        self._writes.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("could not record an event in the session store: %s", error)
