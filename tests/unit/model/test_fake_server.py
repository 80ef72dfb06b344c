"""The fake model server itself: scripting, recording, faults, and its CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fakes.model_server import (
    FakeModelServer,
    FakeResponse,
    RecordedRequest,
    collapse,
    context_overflow_reply,
    error_reply,
    text_reply,
    tool_call_reply,
)

ROOT = Path(__file__).parents[3]


def post(
    server: FakeModelServer, body: object, path: str = "/v1/chat/completions"
) -> httpx.Response:
    return httpx.post(server.root_url + path, json=body, timeout=10)


def test_script_is_consumed_in_order_then_exhausted(model_server: FakeModelServer) -> None:
    model_server.script(text_reply("one"), text_reply("two"))
    first = post(model_server, {"messages": []}).json()
    second = post(model_server, {"messages": []}, path="/chat/completions").json()
    assert first["choices"][0]["message"]["content"] == "one"
    assert second["choices"][0]["message"]["content"] == "two"
    exhausted = post(model_server, {})
    assert exhausted.status_code == 500
    assert "fake server: script exhausted" in exhausted.text
    assert model_server.pending == 0


def test_repeat_serves_forever(model_server: FakeModelServer) -> None:
    model_server.script(error_reply(503, "busy"), text_reply("again", repeat=True))
    codes = [post(model_server, {}).status_code for _ in range(4)]
    assert codes == [503, 200, 200, 200]


def test_respond_with_sees_the_request(model_server: FakeModelServer) -> None:
    def echo(request: RecordedRequest) -> FakeResponse:
        return text_reply(f"{len(request.body['messages'])} messages")

    model_server.script(text_reply("scripted first")).respond_with(echo)
    assert "scripted first" in post(model_server, {"messages": [1]}).text
    assert "3 messages" in post(model_server, {"messages": [1, 2, 3]}).text


def test_requests_are_recorded(model_server: FakeModelServer) -> None:
    model_server.script(text_reply("x"))
    httpx.post(
        model_server.base_url + "/chat/completions",
        json={"stream": True, "model": "m"},
        headers={"Authorization": "Bearer k"},
    )
    httpx.get(model_server.base_url + "/models")
    assert model_server.wait_for_requests(2, timeout=5)
    chat, models = model_server.requests
    assert (chat.method, chat.route, chat.body) == (
        "POST",
        "/chat/completions",
        {"stream": True, "model": "m"},
    )
    assert chat.headers["authorization"] == "Bearer k"
    assert (models.method, models.route, models.body) == ("GET", "/models", None)
    assert model_server.chat_requests == [chat]
    assert not model_server.wait_for_requests(3, timeout=0.01)


def test_static_endpoints(model_server: FakeModelServer) -> None:
    model_server.n_ctx = 1234
    props = httpx.get(model_server.root_url + "/props").json()
    assert props["default_generation_settings"]["n_ctx"] == 1234
    assert httpx.get(model_server.base_url + "/health").json() == {"status": "ok"}
    assert httpx.get(model_server.root_url + "/health").json() == {"status": "ok"}
    assert httpx.get(model_server.base_url + "/models").json()["data"][0]["id"] == "fake-model"
    assert httpx.get(model_server.root_url + "/nowhere").status_code == 404


def test_stream_shape(model_server: FakeModelServer) -> None:
    model_server.script(text_reply("abcdef", chunk_size=2))
    resp = post(model_server, {"stream": True})
    assert resp.headers["content-type"] == "text/event-stream"
    data = [line[6:] for line in resp.text.split("\n") if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": None}
    assert [c["choices"][0]["delta"].get("content") for c in chunks[1:4]] == ["ab", "cd", "ef"]
    assert chunks[4]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert chunks[5]["choices"] == [] and chunks[5]["usage"]["prompt_tokens"] == 12


def test_collapse_repeat_name_tool_calls() -> None:
    reply = tool_call_reply([("f", {"a": 1}), ("g", "raw")], repeat_name=True, chunk_size=2)
    message = collapse(reply.chunks or [])["choices"][0]["message"]
    assert [(c["function"]["name"], c["function"]["arguments"]) for c in message["tool_calls"]] == [
        ("f", '{"a": 1}'),
        ("g", "raw"),
    ]


def test_empty_and_cut(model_server: FakeModelServer) -> None:
    model_server.script(FakeResponse(empty=True), text_reply("abcdef", chunk_size=1, cut_after=2))
    empty = post(model_server, {"stream": True})
    assert (empty.status_code, empty.content) == (200, b"")
    with pytest.raises(httpx.RemoteProtocolError):
        post(model_server, {"stream": True})
    assert model_server.disconnects == 0  # the server hung up, not the client


def test_disconnect_counts_abandoned_responses_only(model_server: FakeModelServer) -> None:
    model_server.script(text_reply("done"), text_reply("abc", stall_after=2))
    post(model_server, {"stream": True})
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(model_server.base_url + "/chat/completions", json={"stream": True}, timeout=0.2)
    assert model_server.wait_for_disconnect(timeout=5)
    assert model_server.disconnects == 1


def test_response_dict_round_trip() -> None:
    reply = error_reply(429, "later", retry_after=3)
    again = FakeResponse.from_dict(json.loads(json.dumps(reply.to_dict())))
    assert again == reply
    built = FakeResponse.from_dict({"builder": "text_reply", "text": "hi", "repeat": True})
    assert built.repeat and built.chunks == text_reply("hi").chunks
    with pytest.raises(ValueError, match="unknown response keys"):
        FakeResponse.from_dict({"stauts": 200})


def test_cli_serves_a_script_file(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            [
                {"builder": "tool_call_reply", "calls": [["read_file", {"path": "a"}]]},
                {"builder": "text_reply", "text": "Done.", "repeat": True},
            ]
        )
    )
    log = tmp_path / "requests.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.model_server",
            "--script",
            str(script),
            "--log",
            str(log),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        first = httpx.post(url, json={"messages": []}, timeout=10).json()
        assert first["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "read_file"
        for _ in range(2):
            again = httpx.post(url, json={"messages": []}, timeout=10).json()
            assert again["choices"][0]["message"]["content"] == "Done."
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert len(log.read_text().splitlines()) == 3


def test_context_overflow_reply_is_the_recorded_body(model_server: FakeModelServer) -> None:
    recorded = ROOT / "tests/fixtures/sse/xllamacpp-qwen0.5b-fence/overflow.sse"
    model_server.script(context_overflow_reply())
    resp = post(model_server, {"stream": True})
    assert resp.status_code == 400
    assert resp.content == recorded.read_bytes()


def test_failing_handler_answers_500(model_server: FakeModelServer) -> None:
    def broken(request: RecordedRequest) -> FakeResponse:
        raise KeyError("oops")

    model_server.respond_with(broken)
    resp = post(model_server, {})
    assert resp.status_code == 500 and "handler failed" in resp.text
