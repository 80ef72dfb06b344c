"""Every recorded real-server stream, replayed by the fake server, assembles as recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lsp_agent.model import errors
from lsp_agent.model.wire import AssistantTurn, TextChunk, ToolCallChunk, Usage
from tests.fakes.model_server import FakeModelServer, json_reply, replay

from .conftest import MakeClient, collect

SSE = Path(__file__).parents[2] / "fixtures" / "sse"
STREAMS = sorted(SSE.glob("*/*.sse"))
BODIES = sorted(SSE.glob("*/*.response.json"))


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_fixtures_are_there() -> None:
    assert len(STREAMS) >= 25 and len(BODIES) >= 5


@pytest.mark.parametrize("path", STREAMS, ids=case_id)
async def test_replayed_stream_matches_summary(
    model_server: FakeModelServer, make_client: MakeClient, path: Path
) -> None:
    case = path.name.removesuffix(".sse")
    summary = load(path.parent / f"{case}.summary.json")
    model_server.script(replay(path.parent, case))
    client = make_client(name="qwen2.5-coder-0.5b", max_attempts=1)
    if summary["status"] != 200:
        with pytest.raises(errors.ContextTooLong) as info:
            await collect(client)
        assert info.value.status == summary["status"]
        return
    events = await collect(client)
    turn = events[-1]
    assert isinstance(turn, AssistantTurn)
    assert turn.content == summary["content"]
    assert turn.reasoning == summary["reasoning"]
    assert turn.finish_reason == summary["finish_reason"]
    expected_calls = {
        int(i): (c["id"], c["name"], c["arguments"]) for i, c in summary["tool_calls"].items()
    }
    got_calls = {
        i: (c.id, c.function.name, c.function.arguments) for i, c in enumerate(turn.tool_calls)
    }
    assert got_calls == expected_calls
    assert turn.usage == Usage.from_openai(summary["usage"])
    # The streamed events add up to the same turn.
    assert "".join(e.text for e in events if isinstance(e, TextChunk)) == turn.content
    grown: dict[int, str] = {}
    for e in events:
        if isinstance(e, ToolCallChunk):
            grown[e.index] = grown.get(e.index, "") + e.arguments
    assert grown == {i: c[2] for i, c in expected_calls.items()}


@pytest.mark.parametrize("path", BODIES, ids=case_id)
async def test_replayed_body_non_streaming(
    model_server: FakeModelServer, make_client: MakeClient, path: Path
) -> None:
    case = path.name.removesuffix(".response.json")
    body = load(path)
    model_server.script(replay(path.parent, case))
    client = make_client(stream=False, max_attempts=1)
    if "error" in body:
        with pytest.raises(errors.ModelError) as info:
            await collect(client)
        assert info.value.status == body["error"]["code"]
        assert body["error"]["message"][:40] in str(info.value)
        return
    turn = (await collect(client))[-1]
    assert isinstance(turn, AssistantTurn)
    (choice,) = body["choices"]
    message = choice["message"]
    assert turn.content == message["content"]
    assert turn.finish_reason == choice["finish_reason"]
    assert [(c.id, c.function.name, c.function.arguments) for c in turn.tool_calls] == [
        (c["id"], c["function"]["name"], c["function"]["arguments"])
        for c in message.get("tool_calls", [])
    ]
    assert turn.usage == Usage.from_openai(body["usage"])


async def test_recorded_models_listing(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    """llama.cpp's real `/v1/models` body: the ids and `meta.n_ctx`."""
    recorded = load(SSE / "xllamacpp-qwen0.5b-fence" / "v1_models.json")
    model_server.routes[("GET", "/models")] = json_reply(recorded)
    model_server.routes[("GET", "/props")] = json_reply({"error": "no props"}, status=404)
    client = make_client(name="qwen2.5-coder-0.5b")
    assert await client.list_models() == ["qwen2.5-coder-0.5b"]
    assert await client.context_window() == 4096
