"""The OpenAI chat-completions shapes the engine speaks, and what one model turn yields."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from lsp_agent.safe_text import clean_value, may_hold_surrogates


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")
    _wire: dict[str, Any] | None = PrivateAttr(None)  # to_wire's cached dump
    _json: str | None = PrivateAttr(None)  # messages_json's cached encoding


# --- messages ---------------------------------------------------------------


class FunctionCall(_Wire):
    name: str
    arguments: str = ""  # raw JSON text, exactly as the model produced it


class ToolCall(_Wire):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class SystemMessage(_Wire):
    role: Literal["system"] = "system"
    content: str


class UserMessage(_Wire):
    role: Literal["user"] = "user"
    content: str


class AssistantMessage(_Wire):
    role: Literal["assistant"] = "assistant"
    content: str | None = None
    tool_calls: list[ToolCall] | None = None
    # Kept for the transcript; never sent back to the server (see to_wire).
    reasoning: str | None = Field(default=None, exclude=True)


class ToolMessage(_Wire):
    role: Literal["tool"] = "tool"
    tool_call_id: str
    content: str


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage,
    Field(discriminator="role"),
]


def to_wire(messages: list[Any]) -> list[dict[str, Any]]:
    """Dump messages as the JSON the server expects. Messages are not changed once in a
    conversation, so each is dumped once (every turn resends the whole history)."""
    out = []
    for m in messages:
        d = m.__pydantic_private__.get("_wire") if m.__pydantic_private__ else None
        if d is None:
            d = m.model_dump(exclude_none=True)
            if d["role"] == "assistant" and "content" not in d:
                d["content"] = None if d.get("tool_calls") else ""
            m._wire = d
        out.append(d)
    return out


def message_json(m: Any) -> str:
    """One message's JSON, encoded once (messages do not change once in a conversation)."""
    text: str | None = m.__pydantic_private__.get("_json") if m.__pydantic_private__ else None
    if text is None:
        (d,) = to_wire([m])
        text = json.dumps(d, separators=(",", ":"))  # ASCII, so it always encodes
        if may_hold_surrogates(text):  # a lone one (a non-UTF-8 file name) becomes U+FFFD
            text = json.dumps(clean_value(d), separators=(",", ":"))
        m._json = text
    return text


class HistoryJSON:
    """The messages as one JSON array. Every turn resends the whole history; the longest
    prefix already joined is reused, so a turn's cost does not grow with the session."""

    def __init__(self) -> None:
        self._held: list[Any] = []  # keeps the ids below unique while they are compared
        self._ids: list[int] = []
        self._joined = ""

    def encode(self, messages: list[Any]) -> str:
        ids = list(map(id, messages))  # compared in C: cheap even for a long session
        n = len(self._ids)
        if n and ids[:n] == self._ids:
            new = messages[n:]
            if new:
                self._joined = ",".join([self._joined, *map(message_json, new)])
                self._held.extend(new)
        else:
            self._joined = ",".join(map(message_json, messages))
            self._held = list(messages)
        self._ids = ids
        return "[" + self._joined + "]"


# --- usage ------------------------------------------------------------------


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
        )

    @classmethod
    def from_openai(cls, raw: dict[str, Any]) -> Usage:
        prompt_details = raw.get("prompt_tokens_details") or {}
        completion_details = raw.get("completion_tokens_details") or {}
        return cls(
            prompt_tokens=int(raw.get("prompt_tokens") or 0),
            completion_tokens=int(raw.get("completion_tokens") or 0),
            cached_tokens=int(prompt_details.get("cached_tokens") or 0),
            reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
        )


# --- what one streamed model turn yields ---------------------------------------

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "other"]


class TextChunk(BaseModel):
    kind: Literal["text"] = "text"
    text: str


class ReasoningChunk(BaseModel):
    kind: Literal["reasoning"] = "reasoning"
    text: str


class ToolCallChunk(BaseModel):
    """A tool call became known (name) or grew: `arguments` is the text this delta added."""

    kind: Literal["tool_call"] = "tool_call"
    index: int
    id: str
    name: str
    arguments: str


class RetryNotice(BaseModel):
    """The request failed in a retryable way; anything streamed so far is void."""

    kind: Literal["retry"] = "retry"
    attempt: int  # the attempt that is about to start, 2-based
    max_attempts: int
    delay_s: float
    error: str


class AssistantTurn(BaseModel):
    """One model turn, assembled."""

    kind: Literal["done"] = "done"
    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    finish_reason: FinishReason = "stop"
    usage: Usage | None = None

    def to_message(self) -> AssistantMessage:
        return AssistantMessage(
            content=self.content or None,
            tool_calls=self.tool_calls or None,
            reasoning=self.reasoning or None,
        )


ModelEvent = TextChunk | ReasoningChunk | ToolCallChunk | RetryNotice | AssistantTurn
