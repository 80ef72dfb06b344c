"""Typed errors, retries, timeouts and cancellation, against the fake server."""

from __future__ import annotations

import asyncio
import os
import socket
import traceback
from contextlib import aclosing

import pytest

from lsp_agent.model import errors
from lsp_agent.model.wire import AssistantTurn, RetryNotice, TextChunk
from tests.fakes.model_server import (
    FakeModelServer,
    FakeResponse,
    chunk,
    context_overflow_reply,
    error_reply,
    text_reply,
)

from .conftest import HELLO, KEY, MakeClient, collect


def retries(events: list[object]) -> list[RetryNotice]:
    return [e for e in events if isinstance(e, RetryNotice)]


# --- typed errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "kind", "words"),
    [
        (error_reply(401, "Invalid API key"), errors.AuthError, "OPENAI_API_KEY"),
        (error_reply(403, "forbidden"), errors.AuthError, "API key"),
        (error_reply(404, "model 'x' not found"), errors.ModelNotFound, "model.name"),
        (error_reply(400, "tools[0].type is invalid"), errors.BadRequest, "tools[0].type"),
        (error_reply(422, "unprocessable"), errors.BadRequest, "HTTP 422"),
        (context_overflow_reply(), errors.ContextTooLong, "context window"),
        (
            error_reply(400, "This model's maximum context length is 8192 tokens."),
            errors.ContextTooLong,
            "8192",
        ),
        (
            error_reply(400, "too long", code="context_length_exceeded"),
            errors.ContextTooLong,
            "too long",
        ),
        (FakeResponse(empty=True), errors.ContextTooLong, "empty body"),
        (
            FakeResponse(chunks=[chunk({"content": "a"}), "{not json"]),
            errors.MalformedStream,
            "not json",
        ),
        (FakeResponse(body="<html>oops</html>"), errors.MalformedStream, "<html>"),
    ],
)
async def test_non_retryable_errors(
    model_server: FakeModelServer,
    make_client: MakeClient,
    response: FakeResponse,
    kind: type[errors.ModelError],
    words: str,
) -> None:
    model_server.script(response, text_reply("never reached"))
    with pytest.raises(kind) as info:
        await collect(make_client())
    assert words in str(info.value)
    assert not info.value.retryable
    assert len(model_server.chat_requests) == 1  # not retried


async def test_context_overflow_reports_sizes(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(context_overflow_reply())
    with pytest.raises(errors.ContextTooLong) as info:
        await collect(make_client())
    assert (info.value.prompt_tokens, info.value.n_ctx) == (7534, 4096)
    assert info.value.status == 400
    assert "exceeds the available context size" in info.value.detail


async def test_error_event_inside_stream(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    error = {"error": {"code": 400, "message": "exceeds the available context size"}}
    model_server.script(FakeResponse(chunks=[chunk({"content": "a"}), error]))
    with pytest.raises(errors.ContextTooLong):
        await collect(make_client())


async def test_server_error_retried_then_gives_up(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(error_reply(503, "busy", repeat=True))
    events: list[object] = []
    with pytest.raises(errors.ServerError) as info:
        async for event in make_client(max_attempts=3).turn(HELLO, []):
            events.append(event)
    assert "busy" in str(info.value) and info.value.retryable
    assert [(r.attempt, r.max_attempts) for r in retries(events)] == [(2, 3), (3, 3)]
    assert len(model_server.chat_requests) == 3


# --- retries ------------------------------------------------------------------------------


async def test_rate_limit_then_success(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(error_reply(429, "slow down", retry_after=0), text_reply("done"))
    events = await collect(make_client())
    (notice,) = retries(events)
    assert (notice.attempt, notice.delay_s) == (2, 0.0)
    assert "slow down" in notice.error
    assert isinstance(events[-1], AssistantTurn) and events[-1].content == "done"
    assert len(model_server.chat_requests) == 2


async def test_server_error_then_success(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(error_reply(500, "oops"), text_reply("done"))
    events = await collect(make_client())
    (notice,) = retries(events)
    assert 0 < notice.delay_s <= 0.01
    assert isinstance(events[-1], AssistantTurn) and events[-1].content == "done"
    assert len(model_server.chat_requests) == 2


@pytest.mark.parametrize("chunked", [True, False])
async def test_cut_stream_then_success(
    model_server: FakeModelServer, make_client: MakeClient, chunked: bool
) -> None:
    model_server.script(
        text_reply("partial answer", cut_after=3, chunked=chunked), text_reply("whole answer")
    )
    events = await collect(make_client())
    (notice,) = retries(events)
    cut = events.index(notice)
    assert "".join(e.text for e in events[:cut] if isinstance(e, TextChunk)) == "partia"
    assert isinstance(events[-1], AssistantTurn) and events[-1].content == "whole answer"
    assert "stream" in notice.error or "broke off" in notice.error
    assert len(model_server.chat_requests) == 2


async def test_stream_without_finish_or_done_is_cut(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(text_reply("abc", finish_reason=None, usage=None, done=False))
    with pytest.raises(errors.StreamCut):
        await collect(make_client(max_attempts=1))


async def test_connection_refused_is_connect_error(make_client: MakeClient) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/v1", max_attempts=2)
    events: list[object] = []
    with pytest.raises(errors.ConnectError) as info:
        async for event in client.turn(HELLO, []):
            events.append(event)
    assert f"127.0.0.1:{port}" in str(info.value) and "model.baseUrl" in str(info.value)
    assert len(retries(events)) == 1


async def test_retry_budget_exhausted(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    # The server asks for a wait longer than the whole retry budget: give up at once.
    model_server.script(error_reply(429, "later", retry_after=120), text_reply("never"))
    with pytest.raises(errors.RateLimited) as info:
        async with asyncio.timeout(30):  # a guard: waiting out the 120 s is the bug
            await collect(make_client(retry_budget_s=5))
    assert info.value.retry_after == 120
    assert len(model_server.chat_requests) == 1


async def test_retry_budget_bounds_backoff(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(error_reply(500, "a"), text_reply("never"))
    client = make_client(retry_budget_s=0.001)  # smaller than any backoff delay
    with pytest.raises(errors.ServerError):
        await collect(client)
    assert len(model_server.chat_requests) == 1


async def test_exhausted_quota_is_not_retried(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(
        error_reply(429, "You exceeded your current quota", code="insufficient_quota"),
        text_reply("never"),
    )
    with pytest.raises(errors.RateLimited) as info:
        await collect(make_client())
    assert not info.value.retryable and "quota" in str(info.value)
    assert len(model_server.chat_requests) == 1


# --- timeouts and cancellation --------------------------------------------------------


async def test_stall_past_read_timeout(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(text_reply("slow", stall_after=2))
    with pytest.raises(errors.ConnectError) as info:
        await collect(make_client(read_timeout_s=0.2, max_attempts=1))
    assert "read timeout" in str(info.value) and "model.readTimeoutS" in str(info.value)
    assert await model_server.wait_for_disconnect_async()


async def test_stall_before_headers_past_read_timeout(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(FakeResponse(json={}, stall_after=0), text_reply("fast"))
    events = await collect(make_client(read_timeout_s=0.2))
    assert len(retries(events)) == 1 and isinstance(events[-1], AssistantTurn)
    assert events[-1].content == "fast"


async def test_cancel_closes_the_connection(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(text_reply("one two three", stall_after=3))
    first = asyncio.Event()
    seen: list[object] = []

    async def consume() -> None:
        async for event in make_client().turn(HELLO, []):
            seen.append(event)
            if isinstance(event, TextChunk):
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 10)
    assert model_server.disconnects == 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await model_server.wait_for_disconnect_async()
    assert model_server.disconnects == 1
    assert not any(isinstance(e, AssistantTurn) for e in seen)


async def test_cancel_in_loop_body_closes_the_connection(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    """A cancel that lands outside the generator closes it through `aclosing`."""
    model_server.script(text_reply("one two three", stall_after=3))
    first, never = asyncio.Event(), asyncio.Event()

    async def consume() -> None:
        async with aclosing(make_client().turn(HELLO, [])) as events:
            async for _ in events:
                first.set()
                await never.wait()  # e.g. waiting on the editor

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await model_server.wait_for_disconnect_async()


async def test_aclose_closes_the_connection(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(text_reply("one two three", stall_after=3))
    events = make_client().turn(HELLO, [])
    assert isinstance(await anext(events), TextChunk)
    await events.aclose()
    assert await model_server.wait_for_disconnect_async()


# --- the API key never leaks ------------------------------------------------------------


@pytest.mark.parametrize(
    "response",
    [
        error_reply(401, f"Incorrect API key provided: {KEY}"),
        error_reply(500, f"crashed while handling Bearer {KEY}"),
        error_reply(400, f"bad request from {KEY}"),
        error_reply(429, f"{KEY} is rate limited", retry_after=0),
        FakeResponse(chunks=[f'{{"echo": "{KEY}"']),
    ],
)
async def test_api_key_never_in_errors(
    model_server: FakeModelServer, make_client: MakeClient, response: FakeResponse
) -> None:
    model_server.script(response, response)
    events: list[object] = []
    with pytest.raises(errors.ModelError) as info:
        async for event in make_client(max_attempts=2).turn(HELLO, []):
            events.append(event)
    shown = [str(info.value), repr(info.value), info.value.detail]
    shown += [str(info.value.__cause__), str(info.value.__context__)]
    shown += traceback.format_exception(info.value)
    shown += [r.error for r in retries(events)]
    assert all(KEY not in text for text in shown)
    assert errors.REDACTED in str(info.value)
    assert model_server.chat_requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_unusable_base_url_is_not_retried(make_client: MakeClient) -> None:
    events: list[object] = []
    with pytest.raises(errors.ConnectError) as info:
        async for event in make_client(base_url="localhost:8080/v1").turn(HELLO, []):
            events.append(event)
    assert not info.value.retryable and "http://" in str(info.value)
    assert retries(events) == []


def test_an_http_server_gets_a_context_that_trusts_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No CA bundle load for a local http:// server, and nothing unverified either: any TLS
    that context meets fails. With a proxy in the environment, the real context."""
    import ssl

    from lsp_agent.model.client import _default_ssl_context, _ssl_context_for

    for name in [n for n in os.environ if n.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    local = _ssl_context_for("http://127.0.0.1:8000/v1")
    assert local.verify_mode == ssl.CERT_REQUIRED and local.check_hostname
    assert local.get_ca_certs() == [] and local is not _default_ssl_context()
    assert _ssl_context_for("https://api.openai.com/v1") is _default_ssl_context()
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.example:3128")
    assert _ssl_context_for("http://127.0.0.1:8000/v1") is _default_ssl_context()
