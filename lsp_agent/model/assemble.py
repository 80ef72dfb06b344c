"""Assemble one turn from streamed deltas (or from a non-stream message).

Tool calls are only ever taken from `tool_calls`: JSON that a model writes into its content
(a fenced block, say) stays text.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lsp_agent.model.think import Piece, ThinkSplitter
from lsp_agent.model.wire import (
    AssistantTurn,
    FinishReason,
    FunctionCall,
    ModelEvent,
    ReasoningChunk,
    TextChunk,
    ToolCall,
    ToolCallChunk,
    Usage,
)

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "eos": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "max_tokens": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
}


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


def normalize_finish(reason: str | None, has_tool_calls: bool) -> FinishReason:
    if reason is None:
        return "tool_calls" if has_tool_calls else "stop"
    out = _FINISH.get(reason, "other")
    # Some servers say "stop" after emitting tool calls; the calls are what matters.
    return "tool_calls" if out == "stop" and has_tool_calls else out


# Stands in for arguments dropped for being too large (valid JSON: it goes back to the
# server in the history); the tool runner answers such a call with `dropped_note`.
_DROPPED = '{"$dropped": '


def dropped_args(size: int, cap: int) -> str:
    note = (
        f"The arguments of this call were {size} characters, over the limit of {cap} "
        f"(setting model.maxToolArgsKb = {cap // 1024} KB; it also bounds write_file's "
        f"content), and were dropped unread. Send smaller arguments: split a large file "
        f"into several smaller writes or edits."
    )
    return _DROPPED + json.dumps(note) + "}"


def dropped_note(arguments: str) -> str | None:
    """The tool error for a call whose arguments were dropped; None for any other call."""
    if not arguments.startswith(_DROPPED):
        return None
    with contextlib.suppress(ValueError):
        value = json.loads(arguments).get("$dropped")
        return value if isinstance(value, str) else None
    return None


@dataclass
class _Call:
    index: int
    id: str = ""
    name: str = ""
    # Fragments, joined once at the end: `+=` on a str is quadratic in the worst case.
    parts: list[str] = field(default_factory=list)
    size: int = 0  # characters received, kept or not
    name_done: bool = False  # once arguments flow, the name is complete

    def arguments(self, cap: int | None) -> str:
        if cap is not None and self.size > cap:
            return dropped_args(self.size, cap)
        return "".join(self.parts)


class ToolCallAssembler:
    """Merge `tool_calls` deltas by `index`.

    `id` and `function.name` may come once, or be repeated in every delta; a repeated name is
    not appended. A name split across deltas is joined, until arguments start to arrive.
    Arguments past `max_args` characters are dropped as they come (only their size is kept),
    and the call's arguments become a note saying so.
    """

    def __init__(
        self, id_factory: Callable[[], str] = new_call_id, max_args: int | None = None
    ) -> None:
        self._calls: dict[int, _Call] = {}
        self._new_id = id_factory
        self._max_args = max_args

    def feed(self, deltas: list[Any]) -> list[ToolCallChunk]:
        changed: dict[int, tuple[_Call, list[str]]] = {}
        for position, raw in enumerate(deltas):
            if not isinstance(raw, Mapping):
                continue
            call = self._call_for(raw, position)
            fn = raw.get("function") if isinstance(raw.get("function"), Mapping) else {}
            assert isinstance(fn, Mapping)
            if isinstance(raw.get("id"), str) and raw["id"] and not call.id:
                call.id = raw["id"]
            self._merge_name(call, fn.get("name"))
            args = fn.get("arguments")
            if isinstance(args, Mapping | list):  # some servers send an object, not text
                args = json.dumps(args)
            added = changed.setdefault(call.index, (call, []))[1]
            if isinstance(args, str) and args:
                call.size += len(args)
                if self._max_args is None or call.size <= self._max_args:
                    call.parts.append(args)
                    added.append(args)
                elif call.parts:
                    call.parts = []  # over the cap: free what was kept
                call.name_done = True
        out = []
        for call, added in changed.values():
            if not call.name:
                continue
            call.id = call.id or self._new_id()
            out.append(
                ToolCallChunk(
                    index=call.index, id=call.id, name=call.name, arguments="".join(added)
                )
            )
        return out

    def _call_for(self, raw: Mapping[str, Any], position: int) -> _Call:
        index = raw.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            # No index (some servers): match by id, else a new call per list position.
            by_id = [c for c in self._calls.values() if raw.get("id") and c.id == raw.get("id")]
            if by_id:
                return by_id[0]
            index = position if not raw.get("id") else len(self._calls)
        if index not in self._calls:
            self._calls[index] = _Call(index)
        return self._calls[index]

    @staticmethod
    def _merge_name(call: _Call, name: Any) -> None:
        if not isinstance(name, str) or not name or name == call.name or call.name_done:
            return
        if not call.name or name.startswith(call.name):
            call.name = name  # first sight, or a provider resending the name so far
        else:
            call.name += name  # a fragment

    def calls(self) -> list[ToolCall]:
        """The finished calls, in index order; calls that never got a name are dropped."""
        out = []
        for index in sorted(self._calls):
            call = self._calls[index]
            if not call.name:
                continue
            call.id = call.id or self._new_id()
            out.append(
                ToolCall(
                    id=call.id,
                    function=FunctionCall(name=call.name, arguments=call.arguments(self._max_args)),
                )
            )
        return out


class TurnBuilder:
    """Everything one attempt has received, turned into events and a final AssistantTurn."""

    def __init__(
        self, id_factory: Callable[[], str] = new_call_id, max_tool_args: int | None = None
    ) -> None:
        self.tools = ToolCallAssembler(id_factory, max_tool_args)
        self._think = ThinkSplitter()
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self.finish_reason: str | None = None
        self.usage: Usage | None = None

    def delta(self, delta: Mapping[str, Any]) -> list[ModelEvent]:
        """A streamed `delta`, or a non-stream `message` (same keys)."""
        out: list[ModelEvent] = []
        # Servers name the field either way; some send both with the same text.
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            out.append(self._reason(reasoning))
        content = delta.get("content")
        if isinstance(content, str) and content:
            out.extend(self._split(self._think.feed(content)))
        calls = delta.get("tool_calls")
        if isinstance(calls, list) and calls:
            out.extend(self.tools.feed(calls))
        return out

    def choice(self, choice: Mapping[str, Any]) -> list[ModelEvent]:
        body = choice.get("delta")
        if not isinstance(body, Mapping):
            body = choice.get("message")
        events = self.delta(body) if isinstance(body, Mapping) else []
        if isinstance(choice.get("finish_reason"), str):
            self.finish_reason = choice["finish_reason"]
        return events

    def set_usage(self, raw: Any) -> None:
        if isinstance(raw, Mapping):
            self.usage = Usage.from_openai(dict(raw))

    def end(self) -> tuple[list[ModelEvent], AssistantTurn]:
        """Flush held-back text; return the last events and the assembled turn."""
        events = self._split(self._think.flush())
        calls = self.tools.calls()
        turn = AssistantTurn(
            content="".join(self._content),
            reasoning="".join(self._reasoning),
            tool_calls=calls,
            finish_reason=normalize_finish(self.finish_reason, bool(calls)),
            usage=self.usage,
        )
        return events, turn

    def _reason(self, text: str) -> ReasoningChunk:
        self._reasoning.append(text)
        return ReasoningChunk(text=text)

    def _split(self, pieces: list[Piece]) -> list[ModelEvent]:
        out: list[ModelEvent] = []
        for kind, text in pieces:
            if kind == "reasoning":
                out.append(self._reason(text))
            else:
                self._content.append(text)
                out.append(TextChunk(text=text))
        return out
