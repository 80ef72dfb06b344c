"""A session's transcript in memory: persisted as it grows, measured, and compacted to fit."""

from __future__ import annotations

from typing import Any, Protocol

from lsp_agent.agent.compact import (
    Summarizer,
    fallback_summary,
    latest_request,
    rebuild,
    snip_tool_outputs,
    summary_cut,
    to_summarize,
)
from lsp_agent.agent.events import Compacted
from lsp_agent.agent.tokens import TokenCounter
from lsp_agent.model.errors import ModelError
from lsp_agent.model.wire import AssistantMessage, Message, SystemMessage

Specs = list[dict[str, Any]]


class Transcript(Protocol):
    """Where a conversation is persisted (the session store, for one session)."""

    async def append(self, *messages: Message) -> None: ...

    async def checkpoint(self, position: int, prefix: list[Message]) -> None:
        """From now on the model sees `prefix` + the stored messages from `position` on."""
        ...


class Conversation:
    """The system prompt plus the messages the model sees.

    The store keeps every message ever added; compaction only changes what is sent.
    """

    def __init__(
        self,
        system: SystemMessage,
        messages: list[Message],
        counter: TokenCounter,
        window: int,
        *,
        transcript: Transcript | None = None,
        stored: int | None = None,
        threshold: float = 0.8,
    ) -> None:
        self.messages: list[Message] = [system, *messages]
        self.counter = counter
        self.window = window
        self.threshold = threshold
        self._transcript = transcript
        self._stored = len(messages) if stored is None else stored  # messages in the store
        self.tool_ids = {  # every tool call id used so far, kept unique by the loop
            call.id
            for m in messages
            if isinstance(m, AssistantMessage)
            for call in m.tool_calls or []
        }

    async def add(self, *messages: Message) -> None:
        """Append and persist (committed before this returns): a crash loses at most the
        messages in flight. A turn's tool results come together, and are stored together."""
        self.messages.extend(messages)
        if self._transcript is not None and messages:
            await self._transcript.append(*messages)
        self._stored += len(messages)

    @property
    def stored(self) -> int:
        return self._stored

    def estimate(self, specs: Specs) -> int:
        return self.counter.prompt(self.messages, specs)

    def learn_window(self, n_ctx: int | None) -> None:
        """The server said how big its context is (in an overflow error): believe it."""
        if n_ctx and n_ctx > 0:
            self.window = min(self.window, n_ctx)

    async def fit(
        self,
        specs: Specs,
        summarize: Summarizer,
        *,
        reason: str = "threshold",
        force: bool = False,
    ) -> Compacted | None:
        """Compact when the next request would pass the threshold (or when forced)."""
        before = self.estimate(specs)
        limit = int(self.threshold * self.window)
        if not force and before <= limit:
            return None
        harder = reason != "threshold"
        goal = int(limit * (0.5 if harder else 0.75))
        snipped = snip_tool_outputs(self.messages, self.counter, specs, goal, 1 if harder else 2)
        if self.estimate(specs) <= goal and reason != "requested":
            return self._event("snip", before, specs, reason) if snipped else None
        # Asked for (/compact): summarize it all; else keep a verbatim tail of recent work.
        tail_budget = 0 if reason == "requested" else goal // 2
        cut = summary_cut(self.messages, self.counter, tail_budget)
        old = to_summarize(self.messages, cut)
        request = latest_request(self.messages)
        if not old or old == [self.messages[request]]:  # the request alone: nothing to drop
            return self._event("snip", before, specs, reason) if snipped else None
        try:
            summary = await summarize(old)
        except ModelError as e:
            summary = fallback_summary(old, str(e))
        rebuilt = rebuild(self.messages, cut, summary)
        if self.counter.prompt(rebuilt, specs) >= self.estimate(specs):
            # A summary longer than what it replaces (tiny histories, a fallback note):
            # keep the messages, so compaction never makes the prompt bigger.
            return self._event("snip", before, specs, reason) if snipped else None
        self.messages = rebuilt
        await self._checkpoint(carried=self.messages[1:2])
        return self._event("summarize", before, specs, reason)

    async def clear(self, specs: Specs) -> Compacted:
        """Forget the conversation (the store keeps it): only the system prompt remains."""
        before = self.estimate(specs)
        self.messages = self.messages[:1]
        await self._checkpoint(carried=[])
        return self._event("clear", before, specs, "requested")

    async def _checkpoint(self, carried: list[Message]) -> None:
        """Persist that the model now sees `carried` + the verbatim tail (a stored suffix)."""
        self.counter.forget(self.messages)
        tail = len(self.messages) - 1 - len(carried)
        if self._transcript is not None:
            await self._transcript.checkpoint(self._stored - tail, carried)

    def _event(self, method: Any, before: int, specs: Specs, reason: Any) -> Compacted:
        return Compacted(
            method=method, tokens_before=before, tokens_after=self.estimate(specs), reason=reason
        )
