"""A turn against the fake server: what is sent, and the events that come back."""

from __future__ import annotations

import json

import pytest

from lsp_agent.model.wire import (
    AssistantMessage,
    AssistantTurn,
    FunctionCall,
    ReasoningChunk,
    SystemMessage,
    TextChunk,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
    Usage,
    UserMessage,
)
from tests.fakes.model_server import (
    FakeModelServer,
    FakeResponse,
    chunk,
    sse_comment,
    sse_nospace,
    text_reply,
    tool_call_reply,
)

from .conftest import KEY, MakeClient, collect

TOOL = {
    "type": "function",
    "function": {"name": "read_file", "parameters": {"type": "object", "properties": {}}},
}


def texts(events: list[object]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextChunk))


def reasoning(events: list[object]) -> str:
    return "".join(e.text for e in events if isinstance(e, ReasoningChunk))


def final(events: list[object]) -> AssistantTurn:
    turns = [e for e in events if isinstance(e, AssistantTurn)]
    assert len(turns) == 1 and events[-1] is turns[0]
    return turns[0]


async def test_streamed_text(model_server: FakeModelServer, make_client: MakeClient) -> None:
    model_server.script(text_reply("Hello there, world!", chunk_size=2))
    events = await collect(make_client())
    assert len([e for e in events if isinstance(e, TextChunk)]) == 10
    assert texts(events) == "Hello there, world!"
    turn = final(events)
    assert turn.content == "Hello there, world!"
    assert turn.finish_reason == "stop"
    assert turn.tool_calls == []
    assert turn.usage == Usage(prompt_tokens=12, completion_tokens=5)


async def test_request_body_and_headers(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(text_reply("ok"))
    client = make_client(temperature=0.2, max_output_tokens=64, headers={"X-Extra": "yes"})
    messages = [
        SystemMessage(content="be brief"),
        UserMessage(content="read it"),
        AssistantMessage(
            tool_calls=[ToolCall(id="c1", function=FunctionCall(name="read_file", arguments="{}"))],
            reasoning="private",
        ),
        ToolMessage(tool_call_id="c1", content="text"),
    ]
    await collect(client, messages, [TOOL])
    (request,) = model_server.chat_requests
    assert request.method == "POST"
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["x-extra"] == "yes"
    body = request.body
    assert body["model"] == "fake-model"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 64
    assert body["tools"] == [TOOL]
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "tool"]
    assert body["messages"][2]["content"] is None
    assert "reasoning" not in body["messages"][2]


async def test_minimal_request_omits_optional_fields(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(text_reply("ok"))
    await collect(make_client(api_key=None))
    (request,) = model_server.chat_requests
    assert "authorization" not in request.headers
    for key in ("tools", "temperature", "max_tokens"):
        assert key not in request.body


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_fields(
    model_server: FakeModelServer, make_client: MakeClient, field: str
) -> None:
    model_server.script(text_reply("42", reasoning="Let me think.", reasoning_field=field))
    events = await collect(make_client())
    assert reasoning(events) == "Let me think."
    assert texts(events) == "42"
    turn = final(events)
    assert (turn.reasoning, turn.content) == ("Let me think.", "42")


async def test_think_tags_split_across_chunks(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    content = "<think>Plan: add 1.</think>\n\nThe answer is <b>2</b>."
    model_server.script(text_reply(content, chunk_size=3))  # splits `<think>` and `</think>`
    events = await collect(make_client())
    turn = final(events)
    assert turn.reasoning == "Plan: add 1."
    assert turn.content == "The answer is <b>2</b>."
    assert reasoning(events) == turn.reasoning
    assert texts(events) == turn.content


async def test_think_mentioned_later_stays_text(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    content = "Models wrap thoughts in <think></think> tags."
    model_server.script(text_reply(content, chunk_size=4))
    turn = final(await collect(make_client()))
    assert (turn.content, turn.reasoning) == (content, "")


async def test_single_tool_call(model_server: FakeModelServer, make_client: MakeClient) -> None:
    model_server.script(tool_call_reply([("read_file", {"path": "README.md"})], chunk_size=3))
    events = await collect(make_client(), tools=[TOOL])
    grown = [e for e in events if isinstance(e, ToolCallChunk)]
    assert len(grown) > 3  # the arguments arrived in fragments
    assert "".join(g.arguments for g in grown) == '{"path": "README.md"}'
    assert all(g.id == "call_0" and g.name == "read_file" for g in grown)
    turn = final(events)
    assert turn.finish_reason == "tool_calls"
    assert turn.tool_calls == [
        ToolCall(
            id="call_0", function=FunctionCall(name="read_file", arguments='{"path": "README.md"}')
        )
    ]


@pytest.mark.parametrize("repeat_name", [False, True])
async def test_parallel_tool_calls(
    model_server: FakeModelServer, make_client: MakeClient, repeat_name: bool
) -> None:
    calls = [("read_file", {"path": "a.py"}), ("grep", {"pattern": "def main"})]
    model_server.script(
        tool_call_reply(calls, text="Reading.", repeat_name=repeat_name, chunk_size=2)
    )
    turn = final(await collect(make_client(), tools=[TOOL]))
    assert turn.content == "Reading."
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in turn.tool_calls] == [
        ("call_0", "read_file", {"path": "a.py"}),
        ("call_1", "grep", {"pattern": "def main"}),
    ]


async def test_raw_arguments_kept_verbatim(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    raw = '{\n    "path": "x"\n  '  # not valid JSON: the agent decides what to do with it
    model_server.script(tool_call_reply([("read_file", raw)]))
    turn = final(await collect(make_client()))
    assert turn.tool_calls[0].function.arguments == raw


async def test_tool_call_without_id_gets_one(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    deltas = [
        {"index": 0, "function": {"name": "read_file", "arguments": ""}},
        {"index": 0, "function": {"arguments": '{"path"'}},
        {"index": 0, "function": {"arguments": ': "a"}'}},
    ]
    chunks = [chunk({"tool_calls": [d]}) for d in deltas] + [chunk({}, finish_reason="tool_calls")]
    model_server.script(FakeResponse(chunks=list(chunks)))
    events = await collect(make_client())
    turn = final(events)
    (call,) = turn.tool_calls
    assert call.id.startswith("call_") and len(call.id) > 8
    assert call.function.arguments == '{"path": "a"}'
    assert {e.id for e in events if isinstance(e, ToolCallChunk)} == {call.id}


async def test_fenced_json_in_content_is_not_a_tool_call(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    content = '```json\n{"name": "read_file", "arguments": {"path": "a"}}\n```'
    model_server.script(text_reply(content))
    turn = final(await collect(make_client(), tools=[TOOL]))
    assert turn.tool_calls == []
    assert turn.content == content
    assert turn.finish_reason == "stop"


async def test_usage_chunk_with_empty_choices(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "total_tokens": 120,
        "prompt_tokens_details": {"cached_tokens": 64},
        "completion_tokens_details": {"reasoning_tokens": 7},
    }
    usage_chunk = chunk(usage=usage)
    usage_chunk["timings"] = {"prompt_n": 36}  # llama.cpp's extra, to be ignored
    model_server.script(
        FakeResponse(
            chunks=[chunk({"content": "hi"}), chunk({}, finish_reason="stop"), usage_chunk]
        )
    )
    turn = final(await collect(make_client()))
    assert turn.usage == Usage(
        prompt_tokens=100, completion_tokens=20, cached_tokens=64, reasoning_tokens=7
    )


async def test_sse_variants(model_server: FakeModelServer, make_client: MakeClient) -> None:
    """Comments, `data:` without a space, and a finish without [DONE] (clean close)."""
    model_server.script(
        FakeResponse(
            chunks=[
                sse_comment(),
                sse_nospace(chunk({"content": "a"})),
                sse_comment("still here"),
                chunk({"content": "b"}),
                chunk({}, finish_reason="length"),
            ],
            done=False,
        )
    )
    turn = final(await collect(make_client()))
    assert (turn.content, turn.finish_reason, turn.usage) == ("ab", "length", None)


async def test_finish_then_close_without_done_is_complete_unchunked(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.script(text_reply("fine", done=False, chunked=False))
    turn = final(await collect(make_client()))
    assert turn.content == "fine"
    assert len(model_server.chat_requests) == 1


async def test_non_streaming_mode(model_server: FakeModelServer, make_client: MakeClient) -> None:
    model_server.script(
        tool_call_reply([("read_file", {"path": "a"})], text="<think>hm</think>Sure.")
    )
    events = await collect(make_client(stream=False))
    (request,) = model_server.chat_requests
    assert "stream" not in request.body and "stream_options" not in request.body
    turn = final(events)
    assert (turn.content, turn.reasoning, turn.finish_reason) == ("Sure.", "hm", "tool_calls")
    assert turn.tool_calls[0].function.arguments == '{"path": "a"}'
    assert [type(e).__name__ for e in events] == [
        "ReasoningChunk",
        "TextChunk",
        "ToolCallChunk",
        "AssistantTurn",
    ]
    assert turn.usage is not None and turn.usage.prompt_tokens == 12


async def test_server_ignoring_stream_flag_still_works(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    body = {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "plain"}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1},
    }
    model_server.script(FakeResponse(json=body))
    turn = final(await collect(make_client()))
    assert (turn.content, turn.finish_reason) == ("plain", "stop")


async def test_finished_turns_leave_no_response_alive(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    """A daemon runs thousands of turns: nothing may keep their HTTP responses."""
    import gc

    import httpx

    client = make_client()
    for _ in range(3):
        model_server.script(text_reply("Hello", chunk_size=2))
        assert texts(await collect(client)) == "Hello"
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, httpx.Response)]
    assert alive == []
