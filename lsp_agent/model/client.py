"""The model client: one chat-completions turn as a stream of events, with retries."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import random
import ssl
import time
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import Any

import httpx

from lsp_agent.config import ModelSettings
from lsp_agent.model import errors
from lsp_agent.model.assemble import TurnBuilder
from lsp_agent.model.errors import ErrorContext, ModelError
from lsp_agent.model.sse import EventTooLarge, SSEEvent, SSEParser
from lsp_agent.model.sse_lines import LineTooLong, read_lines
from lsp_agent.model.urls import endpoint, without_v1
from lsp_agent.model.wire import HistoryJSON, Message, ModelEvent, RetryNotice, to_wire
from lsp_agent.safe_text import clean_value, may_hold_surrogates

USER_AGENT = "lsp-agent/0.1"
_MAX_BACKOFF_S = 30.0
DRAIN_S = 2.0  # after [DONE], how long to wait for the body's end before giving up on it


class ModelClient:
    def __init__(
        self,
        settings: ModelSettings,
        api_key: str | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff_base_s: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._key = api_key or None
        self._backoff_base_s = backoff_base_s
        self._rng = rng or random.Random()
        self._tools_cache: tuple[list[dict[str, Any]], str] | None = None
        self._history = HistoryJSON()
        self._base = settings.base_url.rstrip("/")
        self._ctx = ErrorContext(self._base, settings.name, settings.api_key_env, self._key)
        timeout = httpx.Timeout(
            connect=settings.connect_timeout_s,
            read=settings.read_timeout_s,  # the longest gap between two reads
            write=settings.read_timeout_s,
            pool=settings.connect_timeout_s,
        )
        self._http = httpx.AsyncClient(
            timeout=timeout, transport=transport, verify=_ssl_context_for(self._base)
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ModelClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- requests ---

    def _headers(self, stream: bool) -> dict[str, str]:
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        if stream:
            headers["Accept"] = "text/event-stream"
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        headers.update(self.settings.headers)
        return headers

    def request_body(self, messages: list[Message], tools: list[dict[str, Any]]) -> dict[str, Any]:
        body = self._options(tools)
        body["messages"] = to_wire(messages)
        if tools:
            body["tools"] = tools
        return body

    def encoded_body(self, messages: list[Message], tools: list[dict[str, Any]]) -> bytes:
        """`request_body` as JSON, from the messages' and tools' cached encodings."""
        head = json.dumps(self._options(tools), separators=(",", ":"))
        parts = [head[:-1], ',"messages":', self._history.encode(messages)]
        if tools:
            parts += [',"tools":', self._tools_json(tools)]
        parts.append("}")
        return "".join(parts).encode("ascii")  # json.dumps escapes all else

    def _tools_json(self, tools: list[dict[str, Any]]) -> str:
        # The specs are built once per tool, so the same list is seen every turn.
        if self._tools_cache is None or self._tools_cache[0] is not tools:
            text = json.dumps(tools, separators=(",", ":"))
            self._tools_cache = (tools, text)
        return self._tools_cache[1]

    def _options(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        s = self.settings
        body: dict[str, Any] = {"model": s.name}
        if s.temperature is not None:
            body["temperature"] = s.temperature
        if s.max_output_tokens is not None:
            body["max_tokens"] = s.max_output_tokens
        if s.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    async def turn(
        self, messages: list[Message], tools: list[dict[str, Any]]
    ) -> AsyncGenerator[ModelEvent, None]:
        """Events of one turn, ending with exactly one AssistantTurn; raises ModelError.

        A RetryNotice means everything yielded before it is void: a new attempt starts.
        Consume it inside `contextlib.aclosing(...)`: a cancel that lands in the loop body
        then still closes the HTTP response at once.
        """
        body = self.encoded_body(messages, tools)
        stream = bool(self.settings.stream)
        max_attempts = self.settings.max_attempts
        attempt, first_failure = 1, 0.0
        while True:
            failure: ModelError
            try:
                # aclosing: an early close of this generator must reach the response now,
                # not whenever the inner generator is garbage-collected.
                async with aclosing(self._attempt(body, stream)) as events:
                    async for event in events:
                        yield event
                return
            except ModelError as e:
                failure = e
            if attempt == 1:
                first_failure = time.monotonic()
            if not failure.retryable or attempt >= max_attempts:
                raise failure
            delay = self._backoff(attempt, failure)
            # The budget bounds the retrying: from the first failure to the next attempt.
            if time.monotonic() - first_failure + delay > self.settings.retry_budget_s:
                raise failure
            attempt += 1
            yield RetryNotice(
                attempt=attempt, max_attempts=max_attempts, delay_s=delay, error=str(failure)
            )
            await asyncio.sleep(delay)

    def _backoff(self, attempt: int, failure: ModelError) -> float:
        if isinstance(failure, errors.RateLimited) and failure.retry_after is not None:
            return failure.retry_after
        ceiling = min(_MAX_BACKOFF_S, self._backoff_base_s * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + self._rng.random() / 2)  # jitter keeps clients apart

    async def _attempt(self, body: bytes, stream: bool) -> AsyncGenerator[ModelEvent, None]:
        url = endpoint(self._base, "chat/completions")
        builder = TurnBuilder(max_tool_args=self.settings.max_tool_args_kb * 1024)
        # The read timeout bounds each silence; this bounds the whole body (a server that
        # streams forever). Checked around each read, never across a yield.
        deadline = time.monotonic() + self.settings.call_timeout_s
        got_headers = False
        try:
            # `async with` closes the response on cancel or aclose(): the server sees it.
            async with self._http.stream(
                "POST", url, content=body, headers=self._headers(stream)
            ) as resp:
                got_headers = True
                if resp.status_code != 200:
                    raise await self._status_error(resp)
                ctype = resp.headers.get("content-type", "")
                if stream and "text/event-stream" in ctype:
                    async with aclosing(self._read_stream(resp, builder, deadline)) as sse:
                        async for event in sse:
                            yield event
                else:  # non-stream mode, or a server that ignored `stream`
                    raw = await self._read_body(resp, deadline)
                    for event in self._read_json(raw, builder):
                        yield event
        except (httpx.RequestError, httpx.InvalidURL) as e:
            if builder.finish_reason is None:
                raise self._transport_error(e, got_headers) from None
            # else the answer is complete; only the trailing usage or [DONE] was lost
        last, turn = builder.end()
        for event in last:
            yield event
        yield turn

    @property
    def _max_line(self) -> int:
        return int(self.settings.max_line_mb * 1024 * 1024)

    def _too_large(self) -> errors.MalformedStream:
        return errors.MalformedStream(
            f"The model server sent a line (one event) longer than {self.settings.max_line_mb:g} "
            f"MB, so the answer was abandoned. Check the server; raise model.maxLineMb only "
            f"if such answers are expected.",
        )

    def _timed_out(self) -> errors.CallTimeout:
        return errors.CallTimeout(
            f"The model call took longer than {self.settings.call_timeout_s:g} s "
            f"(model.callTimeoutS), so it was stopped. The server may be generating without "
            f"end; if it is just slow, raise model.callTimeoutS.",
        )

    async def _read_body(self, resp: httpx.Response, deadline: float) -> bytes:
        """A non-stream body, capped in size and time like a stream."""
        body = bytearray()
        chunks = aiter(resp.aiter_bytes())
        while True:
            try:
                async with asyncio.timeout(deadline - time.monotonic()):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return bytes(body)
            except TimeoutError:
                raise self._timed_out() from None
            body += chunk
            if len(body) > self._max_line:
                raise self._too_large()

    async def _read_stream(
        self, resp: httpx.Response, builder: TurnBuilder, deadline: float
    ) -> AsyncGenerator[ModelEvent, None]:
        parser = SSEParser(self._max_line)
        done = False
        lines = read_lines(resp, self._max_line, deadline)
        try:
            async for line in lines:
                if line is None:
                    raise self._timed_out()
                event = parser.feed(line)
                if event is None:
                    continue
                if event.data.strip() == "[DONE]":
                    done = True
                    break
                for out in self._handle_event(event, builder):
                    yield out
        except (LineTooLong, EventTooLarge):
            raise self._too_large() from None
        if done:  # read the body's end, so the connection can serve the next turn
            with contextlib.suppress(TimeoutError, httpx.HTTPError, LineTooLong):
                async with asyncio.timeout(DRAIN_S):
                    async for rest in lines:
                        if rest is None:
                            break
        if not done:
            last = parser.flush()
            if last is not None and last.data.strip() == "[DONE]":
                done = True
            elif last is not None:
                for out in self._handle_event(last, builder):
                    yield out
        if done or builder.finish_reason is not None:
            return  # some servers close without [DONE] once the turn is finished
        if not parser.saw_anything:
            # Some servers answer a prompt that does not fit with an empty 200.
            raise errors.context_too_long(self._ctx, "HTTP 200 with an empty body")
        raise errors.StreamCut(
            "The model server ended the stream before the answer was complete. Try again; if "
            "it keeps happening, check the server's log.",
        )

    def _handle_event(self, event: SSEEvent, builder: TurnBuilder) -> list[ModelEvent]:
        try:
            chunk: Any = json.loads(event.data)
        except ValueError:
            raise self._malformed(event.data) from None
        if may_hold_surrogates(event.data):
            chunk = clean_value(chunk)  # a lone surrogate is never meant: it becomes U+FFFD
        if event.event == "error" or (isinstance(chunk, dict) and chunk.get("error")):
            raise errors.from_stream_error(chunk, self._ctx)
        if not isinstance(chunk, dict):
            raise self._malformed(event.data)
        builder.set_usage(chunk.get("usage"))
        out: list[ModelEvent] = []
        for choice in chunk.get("choices") or []:
            if isinstance(choice, Mapping) and choice.get("index", 0) == 0:
                out.extend(builder.choice(choice))
        return out

    def _read_json(self, raw: bytes, builder: TurnBuilder) -> list[ModelEvent]:
        if not raw.strip():
            raise errors.context_too_long(self._ctx, "HTTP 200 with an empty body")
        text = raw.decode("utf-8", errors="replace")
        try:
            data: Any = json.loads(text)
        except ValueError:
            raise self._malformed(text) from None
        if may_hold_surrogates(text):
            data = clean_value(data)
        if isinstance(data, dict) and data.get("error"):
            raise errors.from_stream_error(data, self._ctx)
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
            raise self._malformed(text)
        builder.set_usage(data.get("usage"))
        return builder.choice(choices[0])

    def _malformed(self, data: str) -> errors.MalformedStream:
        snippet = errors.trim(self._ctx.scrub(data), 120)
        return errors.MalformedStream(
            f"The model server sent something that is not valid chat-completion JSON: "
            f"{snippet!r}. Check that model.baseUrl ({self._ctx.scrub(self._base)}) points to "
            f"an OpenAI-compatible server.",
        )

    async def _status_error(self, resp: httpx.Response) -> ModelError:
        raw = await resp.aread()
        return errors.from_status(
            resp.status_code, raw.decode("utf-8", errors="replace"), resp.headers, self._ctx
        )

    def _transport_error(
        self, e: httpx.RequestError | httpx.InvalidURL, mid_stream: bool
    ) -> ModelError:
        where = self._ctx.scrub(self._base)
        cause = self._ctx.scrub(str(e) or type(e).__name__)
        if isinstance(e, httpx.UnsupportedProtocol | httpx.InvalidURL):
            error = errors.ConnectError(
                f"The model server URL {where} is not usable ({cause}). Set model.baseUrl to "
                f"an http:// or https:// URL, such as http://127.0.0.1:8080/v1.",
            )
            error.retryable = False  # retrying cannot fix a setting
            return error
        if isinstance(e, httpx.DecodingError):
            return errors.MalformedStream(
                f"The model server sent a body that cannot be decoded ({cause}). Check that "
                f"model.baseUrl ({where}) points to an OpenAI-compatible server.",
            )
        if isinstance(e, httpx.ReadTimeout):
            return errors.ConnectError(
                f"The model server at {where} sent nothing for {self.settings.read_timeout_s:g} s "
                f"(read timeout). It may be overloaded; if it is just slow, raise "
                f"model.readTimeoutS.",
            )
        if isinstance(e, httpx.TimeoutException):
            return errors.ConnectError(
                f"Timed out connecting to the model server at {where} ({cause}). Check that it "
                f"is running and reachable, and model.baseUrl.",
            )
        if mid_stream and isinstance(e, httpx.RemoteProtocolError | httpx.ReadError):
            return errors.StreamCut(
                f"The model server broke off the answer ({cause}). Try again; if it keeps "
                f"happening, check the server's log.",
            )
        return errors.ConnectError(
            f"Could not reach the model server at {where} ({cause}). Check that it is running "
            f"and that model.baseUrl is right.",
        )

    # --- discovery ---

    async def _get_json(self, url: str) -> Any:
        try:
            resp = await self._http.get(url, headers=self._headers(False))
        except (httpx.RequestError, httpx.InvalidURL) as e:
            raise self._transport_error(e, False) from None
        if resp.status_code != 200:
            raise errors.from_status(resp.status_code, resp.text, resp.headers, self._ctx)
        try:
            return resp.json()
        except ValueError:
            raise self._malformed(resp.text) from None

    async def list_models(self) -> list[str]:
        """Model ids the server offers (`GET /models`)."""
        data = await self._get_json(endpoint(self._base, "models"))
        entries = data.get("data") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise self._malformed(json.dumps(data))
        return [str(e["id"]) for e in entries if isinstance(e, dict) and "id" in e]

    async def context_window(self) -> int | None:
        """The context size in tokens: settings, else the server's say; None if unknown."""
        if self.settings.context_window is not None:
            return self.settings.context_window
        root = without_v1(self._base)
        for probe in (self._n_ctx_from_props, self._n_ctx_from_models):
            try:
                found = await probe(root)
            except Exception:  # a probe: any failure just means "unknown here"
                continue
            if found:
                return found
        return None

    async def _n_ctx_from_props(self, root: str) -> int | None:
        props = await self._get_json(endpoint(root, "props"))  # llama.cpp
        if not isinstance(props, dict):
            return None
        settings = props.get("default_generation_settings")
        found = settings.get("n_ctx") if isinstance(settings, dict) else None
        return _positive(found) or _positive(props.get("n_ctx"))

    async def _n_ctx_from_models(self, _root: str) -> int | None:
        data = await self._get_json(endpoint(self._base, "models"))
        entries = data.get("data") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not entries:
            return None
        named = [e for e in entries if isinstance(e, dict) and e.get("id") == self.settings.name]
        entry = named[0] if named else entries[0]
        if not isinstance(entry, dict):
            return None
        meta = entry.get("meta")
        candidates = [
            entry.get("max_model_len"),  # vLLM
            meta.get("n_ctx") if isinstance(meta, dict) else None,  # llama.cpp
            entry.get("context_length"),  # OpenRouter, LM Studio
            entry.get("context_window"),
        ]
        return next((n for n in map(_positive, candidates) if n), None)


def _ssl_context_for(base_url: str) -> ssl.SSLContext:
    """The CA bundle takes 20-100 ms to load: an http:// server (vLLM, Ollama, llama.cpp on
    this machine) never needs it, so it gets a context that trusts nothing and fails any
    TLS it would meet (redirects are not followed; a proxy in the environment gets the
    real context)."""
    if base_url.lower().startswith("http://") and not any(
        name.lower().endswith("_proxy") and value for name, value in os.environ.items()
    ):
        return _trust_nothing()
    return _default_ssl_context()


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~0.1 s; share it instead of paying that per client.
    return httpx.create_ssl_context()


@functools.cache
def _trust_nothing() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificates, trusts no CA


def _positive(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None
