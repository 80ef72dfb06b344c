"""The local provider on a real model: llama.cpp (xllamacpp) loads Gemma 3 270M in a child
process, the normal client streams from it, tool calls come back parsed by llama.cpp with
the template the provider chose, and the child stops, crashes and restarts as it should."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from lsp_agent.config import Settings, validate
from lsp_agent.local.provider import LocalProvider
from lsp_agent.local.server import LocalModelError
from lsp_agent.local.templates import FAMILIES, render_template
from lsp_agent.model.client import ModelClient
from lsp_agent.model.wire import (
    AssistantMessage,
    AssistantTurn,
    FunctionCall,
    Message,
    ModelEvent,
    SystemMessage,
    TextChunk,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
    UserMessage,
)
from tests.local.helpers import llama_children
from tests.lsp.harness import process_exit

pytestmark = pytest.mark.asyncio(loop_scope="module")

READ_FILE = {
    "type": "function",
    "function": {
        "name": "read_file",
        "description": "Read a UTF-8 text file from the workspace and return its contents.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string", "description": "Relative path"}},
            "required": ["path"],
        },
    },
}


def local_settings(path: Path, **local: Any) -> Settings:
    return validate(
        {
            "model": {"provider": "local", "path": str(path), "temperature": 0},
            "local": {"contextSize": 2048, "parallel": 1, **local},
        }
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(
    gemma_gguf: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LocalProvider]:
    provider = LocalProvider(tmp_path_factory.mktemp("logs"))
    try:
        yield provider
    finally:
        await provider.aclose()


async def events(
    settings: Settings, messages: list[Message], tools: list[dict[str, Any]], max_tokens: int
) -> list[ModelEvent]:
    model = settings.model.model_copy(update={"max_output_tokens": max_tokens})
    async with ModelClient(model, None) as client, aclosing(client.turn(messages, tools)) as turn:
        return [event async for event in turn]


async def test_llama_cpp_serves_the_model_and_an_answer_streams(
    shared: LocalProvider, gemma_gguf: Path
) -> None:
    settings = local_settings(gemma_gguf)
    model = await shared.model_settings(settings)
    assert model.base_url.startswith("http://127.0.0.1:") and model.base_url.endswith("/v1")
    assert model.name == "gemma-3-270m-q4_k_m"
    assert llama_children(os.getpid()) == [shared.server.pid if shared.server else -1]
    async with ModelClient(model, None) as client:
        assert await client.list_models() == [str(gemma_gguf)]
        assert await client.context_window() == 2048  # one session's share of n_ctx
    got = await events(
        settings.model_copy(update={"model": model}),
        [UserMessage(content="The capital of France is")],
        [],
        max_tokens=12,
    )
    chunks = [e.text for e in got if isinstance(e, TextChunk)]
    final = got[-1]
    assert isinstance(final, AssistantTurn)
    assert len(chunks) > 1  # streamed, not one block
    assert "".join(chunks) == final.content and final.content.strip()
    assert final.usage is not None and final.usage.completion_tokens > 0


async def test_sessions_share_one_server(shared: LocalProvider, gemma_gguf: Path) -> None:
    settings = local_settings(gemma_gguf)
    first = await shared.model_settings(settings)
    again = await shared.model_settings(settings)
    assert first.base_url == again.base_url
    assert len(llama_children(os.getpid())) == 1


async def test_a_real_tool_call_comes_back_parsed_with_the_chosen_template(
    shared: LocalProvider, gemma_gguf: Path
) -> None:
    """Gemma 3 270M is a base model (not instruction-tuned): asked cold, at temperature 0,
    it never calls a tool, with any template; it only repeats the prompt. With one earlier
    call and its result in the conversation, rendered by the provider's gemma template as a
    fenced JSON block, it writes the next call the same way, and llama.cpp (which learned
    that form from the template) streams it as a real `tool_calls` delta. Nothing in the
    client parses text: the call arrives as ToolCallChunk events."""
    settings = local_settings(gemma_gguf)
    model = await shared.model_settings(settings)
    assert shared.server is not None and shared.server.spec.template.name == "gemma"
    earlier = ToolCall(
        id="call_1", function=FunctionCall(name="read_file", arguments='{"path": "README.md"}')
    )
    messages: list[Message] = [
        SystemMessage(content="You are a coding agent."),
        UserMessage(content="What is in the file README.md? Read it."),
        AssistantMessage(tool_calls=[earlier]),
        ToolMessage(tool_call_id="call_1", content="# demo\nSee src/app.py for the entry point."),
        AssistantMessage(content="README.md says the entry point is src/app.py."),
        UserMessage(content="Now read src/app.py."),
    ]
    got = await events(
        settings.model_copy(update={"model": model}), messages, [READ_FILE], max_tokens=40
    )
    streamed = [e for e in got if isinstance(e, ToolCallChunk)]
    final = got[-1]
    assert isinstance(final, AssistantTurn)
    assert streamed and streamed[0].name == "read_file"
    call = final.tool_calls[0]
    assert call.function.name == "read_file"
    assert "path" in json.loads(call.function.arguments)
    assert '"name"' not in final.content  # the call's JSON is not left as text


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "gemma"])
async def test_llama_cpp_accepts_each_shipped_template_for_tool_calls(
    gemma_gguf: Path, tmp_path: Path, family: str
) -> None:
    """The other families' markup means nothing to Gemma, so no call is expected from it;
    llama.cpp must still load each template and find tool-call support in it, and render
    an earlier call as the fenced block it parses."""
    provider = LocalProvider(tmp_path)
    try:
        model = await provider.model_settings(local_settings(gemma_gguf, chatTemplate=family))
        root = model.base_url.removesuffix("/v1")
        async with httpx.AsyncClient() as http:
            props = (await http.get(f"{root}/props")).json()
            body = {
                "messages": [
                    {"role": "user", "content": "read it"},
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "c1",
                                "type": "function",
                                "function": {"name": "read_file", "arguments": '{"path": "a"}'},
                            }
                        ],
                    },
                    {"role": "tool", "tool_call_id": "c1", "content": "A"},
                    {"role": "user", "content": "thanks"},
                ],
                "tools": [READ_FILE],
            }
            rendered = (await http.post(f"{root}/apply-template", json=body)).json()
    finally:
        await provider.aclose()
    assert props["chat_template"] == render_template(family).strip()
    assert props["chat_template_caps"]["supports_tool_calls"] is True
    prompt = rendered["prompt"]
    assert '```json\n{"name": "read_file", "arguments": {"path": "a"}}\n```' in prompt
    assert FAMILIES[family].user[0] in prompt
    assert "<tool_response>\nA\n</tool_response>" in prompt


async def test_stop_ends_the_child_and_removes_its_log(gemma_gguf: Path, tmp_path: Path) -> None:
    provider = LocalProvider(tmp_path)
    await provider.model_settings(local_settings(gemma_gguf))
    assert provider.server is not None and provider.server.pid is not None
    pid, log = provider.server.pid, provider.server.log_path
    assert log.exists()
    await provider.aclose()
    await process_exit(pid)
    assert not log.exists()
    assert pid not in llama_children(os.getpid())


async def test_a_crash_is_reported_with_its_log_and_the_next_request_restarts(
    gemma_gguf: Path, tmp_path: Path
) -> None:
    reports: list[str] = []
    reported = asyncio.Event()

    def on_crash(report: str) -> None:
        reports.append(report)
        reported.set()

    provider = LocalProvider(tmp_path, on_crash=on_crash)
    try:
        await provider.model_settings(local_settings(gemma_gguf))
        assert provider.server is not None and provider.server.pid is not None
        crashed = provider.server
        os.kill(crashed.pid or -1, signal.SIGKILL)
        async with asyncio.timeout(30):  # liveness guard
            await reported.wait()
        assert len(reports) == 1
        assert f"code {-signal.SIGKILL}" in reports[0]
        assert "listening on http://127.0.0.1:" in reports[0]  # the log's tail came along
        await provider.model_settings(local_settings(gemma_gguf))
        assert provider.server is not crashed and provider.server.alive
        first = provider.server.pid
        # A changed server setting restarts it; the old one is stopped.
        await provider.model_settings(local_settings(gemma_gguf, contextSize=1024))
        assert provider.server.pid != first
        await process_exit(first or -1)
    finally:
        await provider.aclose()


async def test_a_model_llama_cpp_cannot_load_fails_with_its_log_tail(
    gemma_gguf: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.gguf"
    with gemma_gguf.open("rb") as f:
        cut.write_bytes(f.read(8 << 20))  # the header is intact, the tensors are not
    provider = LocalProvider(tmp_path / "logs")
    before = llama_children(os.getpid())
    with pytest.raises(LocalModelError) as caught:
        await provider.model_settings(local_settings(cut))
    message = str(caught.value)
    assert f"llama.cpp could not load {cut}" in message
    assert "model loading error" in message  # llama.cpp's own words, from the log
    assert llama_children(os.getpid()) == before  # the failed child is gone
