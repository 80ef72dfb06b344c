"""What `lsp-agent acp` sends is valid ACP v1: every frame of a session that exercises
each update kind, captured at the real client's side, against the official JSON Schema
(vendored from @agentclientprotocol/sdk 2.4.0, see acp_v1/README.md) and against our own
generated `schemas/acp/`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from acp import RequestError

from lsp_agent.server.schema import ACP_REQUESTS, ACP_RESULTS
from tests.acp.harness import RecordingClient, acp_agent, prompt_of
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply

HERE = Path(__file__).parent
OFFICIAL = json.loads((HERE / "acp_v1" / "schema.json").read_text(encoding="utf-8"))
OURS = Path(__file__).parents[2] / "schemas"
# The official schema's type of each payload we send, by method (named once, in the server).
RESULTS, PARAMS = ACP_RESULTS, ACP_REQUESTS


def official(definition: str) -> jsonschema.protocols.Validator:
    schema = {"$schema": OFFICIAL["$schema"], "$defs": OFFICIAL["$defs"]}
    schema["$ref"] = f"#/$defs/{definition}"
    cls = jsonschema.validators.validator_for(OFFICIAL)
    return cls(schema)


MESSAGE = jsonschema.validators.validator_for(OFFICIAL)(OFFICIAL)


def ours(method: str, role: str) -> jsonschema.protocols.Validator:
    index = json.loads((OURS / "index.json").read_text(encoding="utf-8"))
    schema = json.loads((OURS / index["acp"]["methods"][method][role]).read_text("utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


async def capture(workspace: Path, state: Path, model: FakeModelServer) -> list[Any]:
    """Every frame of a session that streams each kind of update we have."""
    (workspace / "a.py").write_text("x = 1\r\ny = 2\r\n", encoding="utf-8")
    plan = {"entries": [{"content": "Read a.py"}, {"content": "Fix x", "status": "pending"}]}
    model.script(
        text_reply("thinking done", reasoning="Let me look."),
    )
    model.script(
        tool_call_reply([("update_plan", plan)]),
        tool_call_reply([("read_file", {"path": "a.py"})]),
        tool_call_reply(
            [("edit_file", {"path": "a.py", "old_string": "x = 1", "new_string": "x = 3"})]
        ),
        tool_call_reply([("bash", {"command": "echo hi"})]),
        text_reply("All done."),
    )
    client = RecordingClient()
    async with acp_agent(workspace, state, model, client, fs=True) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("think"))
        await agent.conn.set_session_mode(mode_id="ask", session_id=sid)
        await agent.conn.set_config_option(config_id="model", session_id=sid, value="fake-model")
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("fix a.py"))
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("/sessions"))
        await agent.conn.list_sessions(cwd=str(workspace))
        with pytest.raises(RequestError):
            await agent.conn.prompt(session_id="missing", prompt=prompt_of("x"))
    async with acp_agent(workspace, state, model, client) as agent:
        await agent.conn.load_session(cwd=str(workspace), session_id=sid)
        await agent.conn.resume_session(cwd=str(workspace), session_id=sid)
        await agent.conn.close_session(session_id=sid)
    return client.frames


async def test_every_frame_we_send_is_valid_acp_v1(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    frames = await capture(workspace, state, model)
    sent_methods: dict[Any, str] = {}
    checked: dict[str, int] = {}
    errors = 0
    for direction, message in frames:
        if direction == "outgoing":  # the client's: remember what each id asked
            if "method" in message and "id" in message:
                sent_methods[message["id"]] = message["method"]
            continue
        MESSAGE.validate(message)  # a valid ACP message as a whole
        if "method" in message:
            method = message["method"]
            official(PARAMS[method]).validate(message["params"])
            ours(method, "params").validate(message["params"])
            key = method
            if method == "session/update":
                key = f"update:{message['params']['update']['sessionUpdate']}"
        elif "error" in message:
            official("Error").validate(message["error"])
            errors += 1
            continue
        else:
            method = sent_methods[message["id"]]
            official(RESULTS[method]).validate(message["result"])
            ours(method, "result").validate(message["result"])
            key = f"result:{method}"
        checked[key] = checked.get(key, 0) + 1
    kinds = {k.removeprefix("update:") for k in checked if k.startswith("update:")}
    assert kinds >= {
        "user_message_chunk",
        "agent_message_chunk",
        "agent_thought_chunk",
        "tool_call",
        "tool_call_update",
        "plan",
        "usage_update",
        "session_info_update",
        "available_commands_update",
        "current_mode_update",
        "config_option_update",
    }, checked
    for method in ("session/request_permission", "fs/read_text_file", "fs/write_text_file"):
        assert checked.get(method), (method, checked)
    assert errors == 1


def test_a_wrong_payload_fails_the_official_schema() -> None:
    bad = {"sessionId": "s", "update": {"sessionUpdate": "tool_call", "toolCallId": "c"}}
    with pytest.raises(jsonschema.ValidationError):
        official("SessionNotification").validate(bad)  # a tool_call needs its title
