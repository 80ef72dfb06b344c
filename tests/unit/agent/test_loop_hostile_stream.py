"""The engine against a hostile model stream (issue 11): huge lines, huge tool arguments,
streams that never end. Each run ends, with the stop reason its limit names."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lsp_agent.agent.events import RunFinished, TextDelta, ToolCallFinished
from tests.agent_harness import Harness, sent_messages
from tests.fakes.model_server import (
    FakeModelServer,
    endless_reply,
    huge_line_reply,
    text_reply,
    tool_call_reply,
)

# Without the limits these runs never end; the test fails instead of hanging.
WAIT_S = 60


@pytest.fixture
def harness(tmp_path: Path, model_server: FakeModelServer) -> Harness:
    return Harness(tmp_path, model_server)


async def run(h: Harness, prompt: str = "go") -> RunFinished:
    async with asyncio.timeout(WAIT_S):
        return await h.run(prompt)


def streamed_text(h: Harness) -> str:
    return "".join(e.text for e in h.events if isinstance(e, TextDelta))


async def test_a_line_over_max_line_mb_ends_the_run_with_a_model_error(harness: Harness) -> None:
    harness.overrides = {"model": {"maxLineMb": 1}}
    harness.server.script(huge_line_reply(3 * 1024 * 1024))
    result = await run(harness)
    assert result.stop_reason == "model_error"
    assert result.error is not None and "model.maxLineMb" in result.error
    assert len(harness.server.chat_requests) == 1  # not retried: it would come again


async def test_tool_arguments_over_the_cap_get_a_tool_error_and_the_run_goes_on(
    harness: Harness,
) -> None:
    harness.overrides = {"model": {"maxToolArgsKb": 64, "contextWindow": 10_000_000}}
    big = "x" * (200 * 1024)  # over the cap, in fragments the cap is checked on
    harness.server.script(
        tool_call_reply([("write_file", {"path": "big.txt", "content": big})], chunk_size=64),
        text_reply("I will write less."),
    )
    result = await run(harness)
    assert result.stop_reason == "end_turn"
    [done] = [e for e in harness.events if isinstance(e, ToolCallFinished)]
    assert done.status == "failed" and "model.maxToolArgsKb" in done.output
    assert not (harness.root / "big.txt").exists()
    # What goes back to the model: the note instead of the arguments, and the tool error.
    assistant, tool = sent_messages(harness.server)[-2:]
    arguments = assistant["tool_calls"][0]["function"]["arguments"]
    assert len(arguments) < 1000 and "model.maxToolArgsKb" in arguments
    assert "model.maxToolArgsKb" in tool["content"]
    assert streamed_text(harness) == "I will write less."


async def test_an_endless_stream_stops_at_the_run_output_budget(harness: Harness) -> None:
    harness.overrides = {"limits": {"maxOutputTokens": 500}}
    harness.server.script(endless_reply("la ", per_chunk=10))
    result = await run(harness)
    assert (result.stop_reason, result.limit) == ("budget", "maxOutputTokens")
    text = streamed_text(harness)
    assert text.startswith("la la ")
    assert result.usage.completion_tokens >= 500
    # What was received is kept in the conversation.
    assert harness.history[-1].content == text


async def test_an_endless_stream_is_cut_at_model_max_output_tokens_per_call(
    harness: Harness,
) -> None:
    harness.overrides = {"model": {"maxOutputTokens": 100}}
    harness.server.script(endless_reply("la ", per_chunk=10))
    harness.server.script(*(endless_reply() for _ in range(3)))
    result = await run(harness)
    # Each call is cut as if the server had said "length"; the continuations are bounded.
    assert result.stop_reason == "end_turn"
    assert len(harness.server.chat_requests) == 4


async def test_a_call_past_call_timeout_s_ends_with_a_clear_error(harness: Harness) -> None:
    harness.overrides = {"model": {"callTimeoutS": 0.5}}
    harness.server.script(endless_reply(), text_reply("unused"))
    result = await run(harness)
    assert result.stop_reason == "model_error"
    assert result.error is not None and "model.callTimeoutS" in result.error
    assert len(harness.server.chat_requests) == 1
