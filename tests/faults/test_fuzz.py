"""Malformed JSON-RPC frames and random params (hypothesis) crash nothing; every request
with an id is answered (malformed ones with an error); a normal request still works."""

from __future__ import annotations

import json

import pytest

from bench.fuzz import Fuzzer, fuzz
from bench.rpc import Daemon

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_fuzzed_frames_crash_nothing_and_requests_are_answered(agent: Daemon) -> None:
    tally = await fuzz(agent, frames_total=300, strict=True)
    assert tally.frames == 300
    assert tally.requests > 0 and tally.answered == tally.requests, tally.unanswered[:3]
    assert agent.proc.returncode is None
    assert "sessionId" in await agent.call("agent/session/new", {})


@pytest.mark.parametrize(
    "params", [None, [], [1, 2], "text", 7, 10**40, -1.5, True, {}, {"sessionId": 10**40}]
)
@pytest.mark.parametrize(
    "method",
    ["agent/session/prompt", "agent/session/load", "agent/session/undo", "agent/session/cancel"],
)
async def test_params_of_every_json_type_get_invalid_params(
    agent: Daemon, method: str, params: object
) -> None:
    answer = await agent.request(method, params)
    assert answer["error"]["code"] == -32602, answer
    assert answer["error"]["message"]


@pytest.mark.parametrize("kind", ["no_jsonrpc", "version", "extra", "method_type", "lsp_params"])
async def test_malformed_request_with_an_id_gets_an_error_response(
    agent: Daemon, kind: str
) -> None:
    fuzzer = Fuzzer(agent)
    body, msg_id, _ = fuzzer.encode(("bad_request", kind, ("agent/session/list", {"x": 1})))
    agent.write_frame(body)
    await agent.call("agent/session/list", {})
    await agent.call("agent/session/list", {})  # two barriers: see Fuzzer.batch
    answer = agent.responses.get(msg_id)
    assert answer is not None and answer["error"]["code"] in (-32600, -32602), json.loads(body)


async def test_a_nested_jsonrpc_key_in_params_does_not_drop_the_request(agent: Daemon) -> None:
    msg_id = agent.start_request("agent/session/new", {"title": "t", "meta": {"jsonrpc": "2.0"}})
    await agent.call("agent/session/list", {})
    await agent.call("agent/session/list", {})  # two barriers: see Fuzzer.batch
    assert msg_id in agent.responses
