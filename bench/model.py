"""The fake model server, with streams paced at a token rate and chunk send times recorded.

`BenchModelServer` is `tests.fakes.model_server.FakeModelServer`; a `Paced` response is a
`FakeResponse` whose SSE events are sent on an absolute schedule (n / tokens_per_s after the
first), so rates above the event loop's 1 ms timer resolution are honest. The time each
keyed event is written to the socket is kept in `sent_ns` (perf_counter_ns, taken just
before the write; the client uses the same clock: both live in the bench process).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.model_server import (
    FakeModelServer,
    FakeResponse,
    _Conn,
    _event,
    _frame,
    _head,
    text_reply,
    tool_call_reply,
)


@dataclass
class Paced(FakeResponse):
    tokens_per_s: float = 0.0  # 0: as fast as the socket takes them
    keys: list[Any] = field(default_factory=list)  # per chunk: record its send time under key


@dataclass
class StreamTimes:
    first_ns: int
    last_ns: int
    tokens: int


class BenchModelServer(FakeModelServer):
    def __init__(self) -> None:
        super().__init__()
        self.sent_ns: dict[Any, int] = {}
        self.streams: list[StreamTimes] = []

    async def _stream(self, conn: _Conn, r: FakeResponse) -> bool:
        if not isinstance(r, Paced):
            return await super()._stream(conn, r)
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", **r.headers}
        headers["Transfer-Encoding"] = "chunked"
        await conn.send(_head(r.status, headers))
        chunks = list(r.chunks or [])
        events = [_event(c) for c in chunks] + ["data: [DONE]\n\n"]
        keys = list(r.keys) + [None] * (len(events) - len(r.keys))
        loop = asyncio.get_running_loop()
        start = loop.time()
        first = last = 0
        for n, (event, key) in enumerate(zip(events, keys, strict=True)):
            if r.tokens_per_s:
                delay = start + n / r.tokens_per_s - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            last = time.perf_counter_ns()  # taken before the write: never after the read
            first = first or last
            if key is not None:
                self.sent_ns[key] = last
            await conn.send(_frame(event.encode()))
        self.streams.append(StreamTimes(first, last, len(events)))
        await conn.send(b"0\r\n\r\n")
        return True


def paced_text(
    tokens: int, *, tokens_per_s: float = 0.0, mark: str | None = None, word: str = " tok"
) -> Paced:
    """An answer of `tokens` text chunks. With `mark`, chunk k reads f"{mark}{k}." and its
    send time is kept under (mark, k)."""
    texts = [f" {mark}{k}." if mark is not None else word for k in range(tokens)]
    base = text_reply("".join(texts), chunk_size=1 << 30)
    head, tail = base.chunks[:1], base.chunks[2:]  # type: ignore[index]
    body = [{**head[0], "choices": [{"index": 0, "delta": {"content": t}}]} for t in texts]
    keys = [None] + [(mark, k) if mark is not None else None for k in range(tokens)]
    return Paced(
        headers=base.headers,
        chunks=[*head, *body, *tail],
        tokens_per_s=tokens_per_s,
        keys=keys,
    )


def tool_turn(name: str, args: dict[str, Any]) -> FakeResponse:
    return tool_call_reply([(name, args)])


__all__ = ["BenchModelServer", "Paced", "StreamTimes", "paced_text", "tool_turn"]
