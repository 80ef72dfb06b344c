"""Engine events -> ACP `session/update` notifications, in order, coalesced like the LSP's.

The mapping is the LSP front end's (`server/updates.py`: its payloads are ACP-shaped
already); here paths become absolute, as ACP requires, and each update is validated into
the SDK's model before it is sent.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from acp.schema import SessionNotification
from pydantic import BaseModel

from lsp_agent.acp.terminal import ShellOutput
from lsp_agent.agent.events import Compacted, Event, UsageUpdated
from lsp_agent.agent.service import Sequencer
from lsp_agent.server import protocol as p
from lsp_agent.server.sink import Progress, UpdateSink
from lsp_agent.server.updates import to_updates

log = logging.getLogger(__name__)


class Outbox:
    """One session's updates, sent one after another by a single task (a notification
    is awaited by the SDK; order must not depend on task scheduling)."""

    def __init__(self, conn: Any, session_id: str, root: Path) -> None:
        self.conn, self.session_id, self.root = conn, session_id, root
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None

    def put(self, update: dict[str, Any]) -> None:
        self._queue.put_nowait(self._fix(update))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.ensure_future(self._send_all())

    def send(self, update: p.Wire) -> None:
        self.put(update.dump())

    def send_update(self, update: BaseModel) -> None:
        self.put(update.model_dump(by_alias=True, exclude_none=True, mode="json"))

    async def drain(self) -> None:
        """Wait until everything queued is written (before a prompt's result goes out)."""
        await self._queue.join()

    async def _send_all(self) -> None:
        while True:
            update = await self._queue.get()
            try:
                note = SessionNotification.model_validate(
                    {"sessionId": self.session_id, "update": update}
                )
                await self.conn.session_update(session_id=self.session_id, update=note.update)
            except Exception:  # one bad update must not stop the others (or the prompt)
                log.exception("could not send a session/update")
            finally:
                self._queue.task_done()

    def _fix(self, update: dict[str, Any]) -> dict[str, Any]:
        """Absolute paths, as ACP requires; a usage size even when the window is unknown;
        a sub-agent's parent call in `_meta` (ACP has no field for it)."""
        if (parent := update.pop("parentToolCallId", None)) is not None:
            update["_meta"] = {**(update.get("_meta") or {}), **nested_meta(parent)}
        if update.get("sessionUpdate") == "usage_update":
            update.setdefault("size", 0)
        for loc in update.get("locations") or ():
            loc["path"] = str(self.root / loc["path"])
        for item in update.get("content") or ():
            if isinstance(item, dict) and item.get("type") == "diff":
                item["path"] = str(self.root / item["path"])
        return update


def nested_meta(parent: str) -> dict[str, Any]:
    """`_meta` of a sub-agent's update: ours, and the key clients of claude-agent-acp read
    (`claudeCode.parentToolUseId`), so they nest it under the `task` call too."""
    return {"parentToolCallId": parent, "claudeCode": {"parentToolUseId": parent}}


class AcpSink:
    """The engine's EventSink for one prompt: coalesced deltas (UpdateSink), then ACP."""

    def __init__(
        self, outbox: Outbox, prior_cost: float | None = None, *, terminal: bool = False
    ) -> None:
        self._outbox = outbox
        self._prior_cost = prior_cost or 0.0  # the session's earlier prompts: ACP's cost is
        # the session's cumulative cost, the engine's is this prompt's
        self._frames = _Frames(outbox, ShellOutput(terminal, outbox.root))

    def emit(self, event: Event) -> None:
        if isinstance(event, UsageUpdated) and event.cost_usd is not None and self._prior_cost:
            event = event.model_copy(update={"cost_usd": event.cost_usd + self._prior_cost})
        self._frames.emit(event)
        if isinstance(event, Compacted):  # the LSP shows it as progress; ACP as a thought
            sizes = f"{event.tokens_before:,} → {event.tokens_after:,}"
            note = f"\ncompacted the conversation: {sizes} tokens\n"
            self._outbox.send(
                p.AgentThoughtChunk(
                    content=p.TextContent(text=note),
                    parent_tool_call_id=event.parent_tool_call_id,  # a sub-agent's, maybe
                )
            )

    def flush(self) -> None:
        self._frames.flush()


class _Frames(UpdateSink):
    """The LSP front end's coalescing, with shell output shaped for ACP (acp/terminal.py)."""

    def __init__(self, outbox: Outbox, shell: ShellOutput) -> None:
        super().__init__(outbox.session_id, _unused, Sequencer(), Progress(None, None))
        self._outbox, self._shell = outbox, shell

    def _publish(self, event: Event) -> None:
        publish(self._outbox, self._shell, event, self._streamed)


def _unused(method: str, params: dict[str, Any]) -> None:
    raise AssertionError("ACP updates go through the outbox")


def publish(outbox: Outbox, shell: ShellOutput, event: Event, streamed: set[str]) -> None:
    # ACP has no compaction update: AcpSink says it as a thought instead
    shown = to_updates(event, streamed)
    updates = [u.dump() for u in shown if not isinstance(u, p.CompactionUpdate)]
    for update in shell.rewrite(event, updates):
        outbox.put(update)


def replay(outbox: Outbox, events: list[Event], *, terminal: bool = False) -> None:
    """A stored session's history, as the updates it streamed."""
    shell = ShellOutput(terminal, outbox.root)
    streamed: set[str] = set()
    for event in events:
        publish(outbox, shell, event, streamed)
