"""A scripted, fault-injecting fake of an OpenAI-compatible chat-completions server.

It is a real HTTP/1.1 server on 127.0.0.1, built on `asyncio.start_server`, that runs its own
event loop in a background thread. So it serves in-process async tests, blocking tests that
run a CLI in a subprocess, and editor clients alike.

    with FakeModelServer() as server:
        server.script(text_reply("Hello!"), error_reply(429, "slow down", retry_after=0))
        ...  # point a client at server.base_url
        assert server.chat_requests[0].body["stream"] is True

A response is a `FakeResponse` (a dataclass whose `to_dict()`/`from_dict()` round-trip through
JSON), so scripts can also be loaded from files; see `main()` for the CLI.

Chat requests consume the script in order. Once it is empty, the `respond_with` handler (if
any) answers; otherwise the server answers 500 "fake server: script exhausted", which a test
will notice. An SSE response sent to a request without `"stream": true` is collapsed into one
`chat.completion` JSON body, so the same builders serve both modes.

Each SSE chunk is a dict (sent as `data: {json}`), a str (sent verbatim after `data: `, so
malformed JSON can be injected), or `{"$raw": text}` (text sent verbatim, for comments or
`data:` without a space; see `sse_comment` and `sse_nospace`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

Chunk: TypeAlias = dict[str, Any] | str
Handler: TypeAlias = Callable[["RecordedRequest"], "FakeResponse | dict[str, Any]"]

RAW = "$raw"
MODEL = "fake-model"
DEFAULT_USAGE: dict[str, Any] = {
    "prompt_tokens": 12,
    "completion_tokens": 5,
    "total_tokens": 17,
    "prompt_tokens_details": {"cached_tokens": 0},
}
# The exact body llama.cpp answers, with HTTP 400, when the prompt does not fit (recorded).
LLAMA_CPP_OVERFLOW = (
    '{"error":{"code":400,"message":"request (7534 tokens) exceeds the available context size'
    ' (4096 tokens), try increasing it","type":"exceed_context_size_error",'
    '"n_prompt_tokens":7534,"n_ctx":4096}}'
)
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class FakeResponse:
    """One scripted answer. Exactly one of `json`, `body`, `chunks` is normally set."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None  # a non-stream JSON body
    body: str | None = None  # a raw body, sent verbatim
    chunks: list[Chunk] | None = None  # SSE events
    done: bool = True  # send `data: [DONE]` after the chunks
    delay_s: float = 0.0  # before each chunk (or before a non-stream response)
    cut_after: int | None = None  # close the socket after N chunks, mid-body
    stall_after: int | None = None  # send N chunks, then go silent until the client leaves
    empty: bool = False  # answer with this status and an empty body
    chunked: bool = True  # SSE framing: chunked encoding, else delimited by closing
    repeat: bool = False  # stay at the head of the script: serve this for every request
    forever: bool = False  # after the chunks, resend the last one until the client leaves

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v != _DEFAULTS[k]}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FakeResponse:
        """Load a response; `{"builder": "text_reply", "text": ...}` calls a builder."""
        data = dict(raw)
        if "builder" in data:
            name = data.pop("builder")
            repeat = bool(data.pop("repeat", False))
            builder = _BUILDERS.get(name)
            if builder is None:
                raise ValueError(f"unknown builder {name!r}; use one of {sorted(_BUILDERS)}")
            response = builder(**data)
            response.repeat = repeat
            return response
        unknown = set(data) - set(_DEFAULTS)
        if unknown:
            raise ValueError(f"unknown response keys {sorted(unknown)}")
        return cls(**data)


_DEFAULTS = dataclasses.asdict(FakeResponse())


@dataclass
class RecordedRequest:
    method: str
    path: str  # as sent, query included
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None
    raw_body: bytes = b""

    @property
    def route(self) -> str:
        return _route(self.path)


def _route(path: str) -> str:
    """`/v1/chat/completions?x=1` -> `/chat/completions`: the `/v1` prefix is optional."""
    path = path.split("?", 1)[0].rstrip("/") or "/"
    return path[3:] or "/" if path == "/v1" or path.startswith("/v1/") else path


# --- builders -----------------------------------------------------------------------


def chunk(
    delta: Mapping[str, Any] | None = None,
    *,
    finish_reason: str | None = None,
    usage: Mapping[str, Any] | None = None,
    id: str = "chatcmpl-fake",
    model: str = MODEL,
) -> dict[str, Any]:
    """One `chat.completion.chunk`; with `usage` and no delta it has `choices: []`."""
    out: dict[str, Any] = {"id": id, "object": "chat.completion.chunk", "created": 0}
    out["model"] = model
    if delta is None and usage is not None:
        out["choices"] = []
    else:
        out["choices"] = [{"index": 0, "delta": dict(delta or {}), "finish_reason": finish_reason}]
    if usage is not None:
        out["usage"] = dict(usage)
    return out


def sse_comment(text: str = "keep-alive") -> dict[str, Any]:
    return {RAW: f": {text}\n\n"}


def sse_nospace(obj: Any) -> dict[str, Any]:
    """`data:{json}` without the space after the colon."""
    return {RAW: f"data:{json.dumps(obj)}\n\n"}


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), max(1, size))]


def text_reply(
    text: str = "",
    *,
    chunk_size: int = 3,
    reasoning: str | None = None,
    reasoning_field: str = "reasoning_content",
    finish_reason: str | None = "stop",
    usage: Mapping[str, Any] | None = DEFAULT_USAGE,
    done: bool = True,
    **response: Any,
) -> FakeResponse:
    """A streamed answer: role chunk, reasoning and text deltas, finish chunk, usage chunk."""
    chunks: list[Chunk] = [chunk({"role": "assistant", "content": None})]
    for piece in _pieces(reasoning or "", chunk_size):
        chunks.append(chunk({reasoning_field: piece}))
    for piece in _pieces(text, chunk_size):
        chunks.append(chunk({"content": piece}))
    return _finish(chunks, finish_reason, usage, done, response)


def tool_call_reply(
    calls: Sequence[tuple[str, Mapping[str, Any] | str] | Sequence[Any]],
    text: str | None = None,
    repeat_name: bool = False,
    *,
    chunk_size: int = 4,
    finish_reason: str | None = "tool_calls",
    usage: Mapping[str, Any] | None = DEFAULT_USAGE,
    done: bool = True,
    **response: Any,
) -> FakeResponse:
    """Streamed tool calls, one after the other, arguments in fragments of `chunk_size`.

    `args` may be a dict (dumped as JSON) or a raw string (sent as is, even if not JSON).
    With `repeat_name`, every delta repeats `id`, `type` and `function.name`, as some
    providers do. The ids are `call_0`, `call_1`, ...
    """
    chunks: list[Chunk] = [chunk({"role": "assistant", "content": None})]
    for piece in _pieces(text or "", chunk_size):
        chunks.append(chunk({"content": piece}))
    for index, (name, args) in enumerate(calls):
        raw = args if isinstance(args, str) else json.dumps(args)
        head = {"index": index, "id": f"call_{index}", "type": "function"}
        chunks.append(
            chunk({"tool_calls": [{**head, "function": {"name": name, "arguments": ""}}]})
        )
        for piece in _pieces(raw, chunk_size):
            delta: dict[str, Any] = {"index": index, "function": {"arguments": piece}}
            if repeat_name:
                delta = {**head, "function": {"name": name, "arguments": piece}}
            chunks.append(chunk({"tool_calls": [delta]}))
    return _finish(chunks, finish_reason, usage, done, response)


def _finish(
    chunks: list[Chunk],
    finish_reason: str | None,
    usage: Mapping[str, Any] | None,
    done: bool,
    response: dict[str, Any],
) -> FakeResponse:
    if finish_reason is not None:
        chunks.append(chunk({}, finish_reason=finish_reason))
    if usage is not None:
        chunks.append(chunk(usage=usage))
    headers = {"Content-Type": "text/event-stream"}
    return FakeResponse(chunks=chunks, done=done, headers=headers, **response)


def endless_reply(piece: str = "la ", *, per_chunk: int = 1) -> FakeResponse:
    """A text stream that never finishes: `piece` * per_chunk per chunk, until the client
    leaves (a model looping on one token, ignoring max_tokens)."""
    return FakeResponse(
        chunks=[
            chunk({"role": "assistant", "content": None}),
            chunk({"content": piece * per_chunk}),
        ],
        forever=True,
    )


def huge_line_reply(size: int) -> FakeResponse:
    """A stream whose second event is one `data:` line of `size` characters with no newline
    after it, then the end of the body."""
    return FakeResponse(
        chunks=[chunk({"role": "assistant", "content": None}), {RAW: "data: " + "a" * size}],
        done=False,
    )


def error_reply(
    status: int,
    message: str,
    retry_after: float | str | None = None,
    *,
    type: str | None = None,
    code: str | int | None = None,
    **response: Any,
) -> FakeResponse:
    """An OpenAI-style error body: `{"error": {"message", "type", "code"}}`."""
    error: dict[str, Any] = {"message": message, "type": type or _error_type(status)}
    error["code"] = code if code is not None else status
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return FakeResponse(status=status, json={"error": error}, headers=headers, **response)


def _error_type(status: int) -> str:
    if status in (401, 403):
        return "authentication_error"
    if status == 404:
        return "not_found_error"
    if status == 429:
        return "rate_limit_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def context_overflow_reply(**response: Any) -> FakeResponse:
    """llama.cpp's HTTP 400 for a prompt larger than the context (recorded verbatim)."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    return FakeResponse(status=400, body=LLAMA_CPP_OVERFLOW, headers=headers, **response)


def json_reply(body: Any, status: int = 200, **response: Any) -> FakeResponse:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    return FakeResponse(status=status, json=body, headers=headers, **response)


def replay(fixture_dir: str | Path, case: str, **response: Any) -> FakeResponse:
    """Serve a recording: `CASE.sse` verbatim (event by event), else `CASE.response.json`.

    The status comes from `CASE.summary.json` (e.g. `overflow` is a 400 JSON body), or for a
    `.response.json` from its `error.code`.
    """
    folder = Path(fixture_dir)
    sse = folder / f"{case}.sse"
    if sse.is_file():
        raw = sse.read_text(encoding="utf-8")
        summary_path = folder / f"{case}.summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
        status = int(summary.get("status", 200))
        ctype = summary.get("content_type", "text/event-stream")
        if status != 200 or "event-stream" not in ctype:
            return FakeResponse(
                status=status, body=raw, headers={"Content-Type": ctype}, **response
            )
        events = [{RAW: e + "\n\n"} for e in raw.split("\n\n") if e.strip()]
        chunks: list[Chunk] = list(events)
        headers = {"Content-Type": ctype}
        return FakeResponse(chunks=chunks, done=False, headers=headers, **response)
    body_path = folder / f"{case}.response.json"
    text = body_path.read_text(encoding="utf-8")
    error = json.loads(text).get("error")
    status = int(error.get("code", 500)) if isinstance(error, dict) else 200
    headers = {"Content-Type": "application/json; charset=utf-8"}
    return FakeResponse(status=status, body=text, headers=headers, **response)


_BUILDERS: dict[str, Callable[..., FakeResponse]] = {
    "text_reply": text_reply,
    "tool_call_reply": tool_call_reply,
    "error_reply": error_reply,
    "endless_reply": endless_reply,
    "huge_line_reply": huge_line_reply,
    "context_overflow_reply": context_overflow_reply,
    "json_reply": json_reply,
    "replay": replay,
}


# --- collapsing a stream for a non-stream request -------------------------------------


def _chunk_objects(chunks: Iterable[Chunk]) -> Iterable[dict[str, Any]]:
    for c in chunks:
        if isinstance(c, dict) and RAW not in c:
            yield c
            continue
        text = c if isinstance(c, str) else str(c[RAW])
        for line in text.replace("\r\n", "\n").split("\n"):
            data = line[5:].strip() if line.startswith("data:") else line.strip()
            with contextlib.suppress(ValueError):
                obj = json.loads(data)
                if isinstance(obj, dict):
                    yield obj


def collapse(chunks: Iterable[Chunk]) -> dict[str, Any]:
    """Assemble SSE chunks into the `chat.completion` body a non-stream request gets."""
    content, reasoning, finish, usage = "", "", None, None
    calls: dict[int, dict[str, Any]] = {}
    for obj in _chunk_objects(chunks):
        usage = obj.get("usage") or usage
        for choice in obj.get("choices") or []:
            delta = choice.get("delta") or {}
            finish = choice.get("finish_reason") or finish
            content += delta.get("content") or ""
            reasoning += delta.get("reasoning_content") or delta.get("reasoning") or ""
            for tc in delta.get("tool_calls") or []:
                call = calls.setdefault(tc.get("index", 0), {"id": "", "name": "", "arguments": ""})
                call["id"] = call["id"] or tc.get("id") or ""
                fn = tc.get("function") or {}
                call["name"] = call["name"] or fn.get("name") or ""
                call["arguments"] += fn.get("arguments") or ""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning:
        message["reasoning_content"] = reasoning
    if calls:
        message["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"]},
            }
            for _, c in sorted(calls.items())
        ]
    body: dict[str, Any] = {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0}
    body.update(model=MODEL, choices=[{"index": 0, "message": message, "finish_reason": finish}])
    if usage is not None:
        body["usage"] = usage
    return body


# --- the server -------------------------------------------------------------------------


class _Disconnected(Exception):
    """The client went away before the response was complete."""


class _Conn:
    """One client connection: buffered request reading and disconnect watching."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.buf = bytearray()
        self.gone = asyncio.Event()

    async def _fill(self) -> None:
        try:
            data = await self.reader.read(65536)
        except ConnectionError:
            data = b""  # a reset: a client that closed with unread data in its buffer
        if not data:
            self.gone.set()
            raise _Disconnected
        self.buf += data

    async def read_until(self, sep: bytes, limit: int = 1 << 20) -> bytes:
        while (pos := self.buf.find(sep)) < 0:
            if len(self.buf) > limit:
                raise ValueError("request head too large")
            await self._fill()
        out = bytes(self.buf[: pos + len(sep)])
        del self.buf[: pos + len(sep)]
        return out

    async def read_exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            await self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def watch(self) -> None:
        """Read (and keep) whatever arrives until EOF, which marks the client gone."""
        with contextlib.suppress(_Disconnected, ConnectionError):
            while True:
                await self._fill()

    async def send(self, data: bytes) -> None:
        if self.gone.is_set():
            raise _Disconnected
        try:
            self.writer.write(data)
            await self.writer.drain()
        except ConnectionError as e:
            self.gone.set()
            raise _Disconnected from e

    async def pause(self, seconds: float | None) -> None:
        """Sleep, or until the client leaves (then raise); `None` waits for the client."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.gone.wait(), seconds)
        if self.gone.is_set():
            raise _Disconnected


class FakeModelServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self._want_port = host, port
        self.port = 0
        self.n_ctx: int | None = 4096  # reported by /props and /models; None hides it
        self.models: list[str] = [MODEL]
        self.routes: dict[tuple[str, str], FakeResponse] = {}  # override ("GET", "/props"), ...
        self.log_path: Path | None = None  # append each request as a JSON line
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._script: deque[FakeResponse] = deque()
        self._handler: Handler | None = None
        self._requests: list[RecordedRequest] = []
        self._disconnects = 0
        self._disconnected = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- lifecycle ---

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeModelServer:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._serve, self.host, self._want_port)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as e:
                failure.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-model-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop may already be gone
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = self._loop = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- scripting ---

    def script(self, *responses: FakeResponse | Mapping[str, Any]) -> FakeModelServer:
        """Append responses for the next chat requests, consumed in order."""
        loaded = [
            r if isinstance(r, FakeResponse) else FakeResponse.from_dict(r) for r in responses
        ]
        with self._lock:
            self._script.extend(loaded)
        return self

    def respond_with(self, handler: Handler | None) -> FakeModelServer:
        """Answer chat requests with `handler(request)` once the script is empty."""
        with self._lock:
            self._handler = handler
        return self

    def clear(self) -> None:
        with self._lock:
            self._script.clear()
            self._requests.clear()
            self._disconnects = 0
            self._disconnected.clear()

    @property
    def pending(self) -> int:
        """Scripted responses not yet served."""
        with self._lock:
            return len(self._script)

    # --- observation ---

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == "/chat/completions"]

    @property
    def disconnects(self) -> int:
        """Responses the client abandoned before they were complete."""
        with self._lock:
            return self._disconnects

    def wait_for_requests(self, n: int, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self._requests) >= n, timeout)

    def wait_for_chat_requests(self, n: int, timeout: float = 10.0) -> bool:
        """Until `n` chat requests came (other routes, e.g. /models, do not count)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: sum(r.route == "/chat/completions" for r in self._requests) >= n, timeout
            )

    def wait_for_disconnects(self, n: int, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._disconnects >= n, timeout)

    def wait_for_disconnect(self, timeout: float = 10.0) -> bool:
        return self._disconnected.wait(timeout)

    async def wait_for_requests_async(self, n: int, wait_s: float = 10.0) -> bool:
        return await asyncio.to_thread(self.wait_for_requests, n, wait_s)

    async def wait_for_disconnect_async(self, wait_s: float = 10.0) -> bool:
        return await asyncio.to_thread(self.wait_for_disconnect, wait_s)

    # --- serving ---

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = _Conn(reader, writer)
        try:
            while await self._one_exchange(conn):
                pass
        except (_Disconnected, ConnectionError, ValueError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _one_exchange(self, conn: _Conn) -> bool:
        """Serve one request; False when the connection must close."""
        head = (await conn.read_until(b"\r\n\r\n")).decode("latin-1")
        lines = head.split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if headers.get("expect", "").lower() == "100-continue":
            await conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        raw = await self._read_body(conn, headers)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = RecordedRequest(method, path, headers, body, raw)
        self._record(request)
        response = self._choose(request)
        keep = headers.get("connection", "").lower() != "close"
        watcher = asyncio.create_task(conn.watch())
        try:
            keep = await self._respond(conn, request, response) and keep
        except _Disconnected:
            with self._changed:
                self._disconnects += 1
                self._changed.notify_all()
            self._disconnected.set()
            return False
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        return keep and not conn.gone.is_set()

    async def _read_body(self, conn: _Conn, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            out = bytearray()
            while True:
                size = int((await conn.read_until(b"\r\n")).split(b";")[0], 16)
                out += await conn.read_exactly(size)
                await conn.read_until(b"\r\n")
                if size == 0:
                    return bytes(out)
        return await conn.read_exactly(int(headers.get("content-length") or 0))

    def _record(self, request: RecordedRequest) -> None:
        with self._changed:
            self._requests.append(request)
            self._changed.notify_all()
        if self.log_path is not None:
            line = {"method": request.method, "path": request.path, "headers": request.headers}
            line["body"] = request.body
            with self.log_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")

    def _choose(self, request: RecordedRequest) -> FakeResponse:
        route = request.route
        override = self.routes.get((request.method, route))
        if override is not None:
            return override
        if request.method == "POST" and route == "/chat/completions":
            return self._next_chat(request)
        if request.method == "GET" and route == "/models":
            return json_reply(self._models_body())
        if request.method == "GET" and route == "/props":
            settings = {"n_ctx": self.n_ctx} if self.n_ctx is not None else {}
            return json_reply({"default_generation_settings": settings, "total_slots": 1})
        if request.method == "GET" and route == "/health":
            return json_reply({"status": "ok"})
        return error_reply(404, f"fake server: no route {request.method} {request.path}")

    def _models_body(self) -> dict[str, Any]:
        data = []
        for name in self.models:
            entry: dict[str, Any] = {"id": name, "object": "model", "owned_by": "llamacpp"}
            if self.n_ctx is not None:
                entry["meta"] = {"n_ctx": self.n_ctx}
            data.append(entry)
        return {"object": "list", "data": data}

    def _next_chat(self, request: RecordedRequest) -> FakeResponse:
        with self._lock:
            if self._script:
                head = self._script[0]
                if not head.repeat:
                    self._script.popleft()
                return head
            handler = self._handler
        if handler is not None:
            try:
                out = handler(request)
                return out if isinstance(out, FakeResponse) else FakeResponse.from_dict(out)
            except Exception as e:  # answer, so the test sees it instead of a hang-up
                return error_reply(500, f"fake server: handler failed: {e!r}")
        return error_reply(500, "fake server: script exhausted", type="fake_server_error")

    async def _respond(self, conn: _Conn, request: RecordedRequest, r: FakeResponse) -> bool:
        """Send `r`; False when the connection must close afterwards."""
        wants_stream = isinstance(request.body, dict) and request.body.get("stream") is True
        if r.chunks is not None and wants_stream and not r.empty:
            return await self._stream(conn, r)
        if r.stall_after is not None:
            await conn.pause(None)  # silent before the headers, until the client leaves
        if r.delay_s:
            await conn.pause(r.delay_s)
        if r.empty:
            payload = b""
        elif r.chunks is not None:
            payload = json.dumps(collapse(r.chunks)).encode()
        elif r.body is not None:
            payload = r.body.encode()
        else:
            payload = json.dumps(r.json).encode() if r.json is not None else b""
        headers = {"Content-Type": "application/json; charset=utf-8", **r.headers}
        if r.chunks is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        headers["Content-Length"] = str(len(payload))
        await conn.send(_head(r.status, headers) + payload)
        return True

    async def _stream(self, conn: _Conn, r: FakeResponse) -> bool:
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", **r.headers}
        if r.chunked:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers["Connection"] = "close"
        await conn.send(_head(r.status, headers))
        chunks = list(r.chunks or [])
        done = r.done and not r.forever
        events = [_event(c) for c in chunks] + (["data: [DONE]\n\n"] if done else [])
        for n, event in enumerate(events):
            if n == r.cut_after:
                return False  # abrupt close: no terminating chunk, no [DONE]
            if n == r.stall_after:
                await conn.pause(None)
            if r.delay_s:
                await conn.pause(r.delay_s)
            data = event.encode()
            await conn.send(_frame(data) if r.chunked else data)
        if r.forever and events:  # an endless stream: only the client can end it
            frame = events[-1].encode()
            frame = _frame(frame) if r.chunked else frame
            while True:
                await conn.send(frame)
                await asyncio.sleep(0)  # let the disconnect watcher run
        if r.cut_after is not None and r.cut_after >= len(events):
            return False
        if r.stall_after is not None and r.stall_after >= len(events):
            await conn.pause(None)
        if r.chunked:
            await conn.send(b"0\r\n\r\n")
            return True
        return False


def _event(c: Chunk) -> str:
    if isinstance(c, str):
        return f"data: {c}\n\n"
    if RAW in c:
        return str(c[RAW])
    return f"data: {json.dumps(c, separators=(',', ':'))}\n\n"


def _frame(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _head(status: int, headers: Mapping[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", "Server: fake-model-server"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# --- CLI ----------------------------------------------------------------------------------


def load_script(path: str | Path) -> list[FakeResponse]:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: a script is a JSON list of responses")
    return [FakeResponse.from_dict(r) for r in raw]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.model_server",
        description="Serve a scripted fake OpenAI-compatible model; print the port, then serve.",
    )
    parser.add_argument("--script", required=True, help="JSON list of responses")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--log", help="append each request to this file as a JSON line")
    args = parser.parse_args(argv)
    server = FakeModelServer(args.host, args.port)
    server.script(*load_script(args.script))
    if args.log:
        server.log_path = Path(args.log)
    server.start()
    print(server.port, flush=True)
    print(f"serving {server.base_url}", file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


__all__ = [
    "DEFAULT_USAGE",
    "FakeModelServer",
    "FakeResponse",
    "RecordedRequest",
    "chunk",
    "collapse",
    "context_overflow_reply",
    "error_reply",
    "json_reply",
    "load_script",
    "replay",
    "sse_comment",
    "sse_nospace",
    "text_reply",
    "tool_call_reply",
]

if __name__ == "__main__":
    sys.exit(main())
