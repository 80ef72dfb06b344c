"""A small Server-Sent Events parser, fed one line at a time (as httpx `aiter_lines` gives).

Handles `data:` with or without the space, `:` comments, multi-line data, a last event that
is not followed by a blank line, and the non-standard `error:` field some servers send.
"""

from __future__ import annotations

from dataclasses import dataclass


class EventTooLarge(ValueError):
    """An event's data grew past the parser's cap (a server that never ends an event)."""


@dataclass(frozen=True)
class SSEEvent:
    data: str
    event: str = "message"


class SSEParser:
    def __init__(self, max_chars: int | None = None) -> None:
        self._data: list[str] = []
        self._size = 0  # characters in _data
        self._max = max_chars
        self._event = "message"
        self.saw_anything = False  # any line at all, comments included

    def feed(self, line: str) -> SSEEvent | None:
        """Take one line (without its line ending); return the event it completes, if any."""
        line = line.rstrip("\r\n")
        if line:
            self.saw_anything = True
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # comment, e.g. a keep-alive
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._add(value)
        elif name == "event":
            self._event = value or "message"
        elif name == "error":
            # Non-standard, but llama.cpp has sent `error: {...}` lines mid-stream.
            self._event = "error"
            self._add(value)
        # `id`, `retry` and unknown fields are ignored, as the spec says.
        return None

    def _add(self, value: str) -> None:
        self._size += len(value) + 1
        if self._max is not None and self._size > self._max:
            self._data, self._size = [], 0
            raise EventTooLarge(f"an event longer than {self._max} characters")
        self._data.append(value)

    def flush(self) -> SSEEvent | None:
        """The event still pending when the stream ends without a blank line."""
        return self._dispatch()

    def _dispatch(self) -> SSEEvent | None:
        if not self._data:
            self._event = "message"
            return None
        event = SSEEvent("\n".join(self._data), self._event)
        self._data, self._event, self._size = [], "message", 0
        return event
