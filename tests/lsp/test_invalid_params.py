"""Invalid params to every custom method (and to our commands) get -32602 InvalidParams
with a message saying what is wrong, and the server keeps serving."""

from __future__ import annotations

from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from tests.fakes.model_server import text_reply
from tests.lsp.conftest import one_flavour
from tests.lsp.harness import AgentClient

INVALID_PARAMS = -32602
SESSION = "<a real session id>"

CASES: list[tuple[str, Any, str]] = [
    # (method, params, a word the message must contain)
    ("agent/session/new", [1, 2], "object"),
    ("agent/session/new", {"cwd": 5}, "cwd"),
    ("agent/session/new", {"cwd": "/definitely/not/in/the/workspace"}, "cwd"),
    ("agent/session/new", {"title": ["x"]}, "title"),
    ("agent/session/prompt", {"prompt": "hi"}, "sessionId"),
    ("agent/session/prompt", {"sessionId": 5, "prompt": "hi"}, "sessionId"),
    ("agent/session/prompt", {"sessionId": "no-such-session", "prompt": "hi"}, "no-such-session"),
    ("agent/session/prompt", ["hi"], "object"),
    ("agent/session/prompt", {"sessionId": SESSION}, "prompt"),
    ("agent/session/prompt", {"sessionId": SESSION, "prompt": 5}, "prompt"),
    ("agent/session/prompt", {"sessionId": SESSION, "prompt": "   "}, "empty"),
    ("agent/session/prompt", {"sessionId": SESSION, "prompt": [{"type": "image"}]}, "prompt"),
    (
        "agent/session/prompt",
        {"sessionId": SESSION, "prompt": "hi", "context": {"range": "line 3"}},
        "range",
    ),
    ("agent/session/prompt", {"sessionId": SESSION, "prompt": "hi", "workDoneToken": [1]}, "work"),
    ("agent/session/list", [1], "object"),
    ("agent/session/load", {}, "sessionId"),
    ("agent/session/load", {"sessionId": 3}, "sessionId"),
    ("agent/session/load", {"sessionId": "no-such-session"}, "no-such-session"),
    ("agent/session/undo", {"sessionId": SESSION, "turns": 0}, "turns"),
    ("agent/session/undo", {"sessionId": SESSION, "turns": "two"}, "turns"),
    ("agent/session/undo", {"sessionId": "no-such-session"}, "no-such-session"),
    ("agent/session/undo", "x", "object"),
]

COMMANDS: list[tuple[str, Any, str]] = [
    ("lspAgent.fix", [], "argument"),
    ("lspAgent.fix", [{"uri": 5, "range": None}], "uri"),
    ("lspAgent.fix", [{"uri": "file:///x.py"}], "range"),
    ("lspAgent.fix", [{}, {}], "argument"),
    ("lspAgent.ask", [{"uri": "file:///x.py", "range": {}}], "range"),
    ("lspAgent.ask", ["not an object"], "object"),
    ("lspAgent.run", [{"prompt": ""}], "prompt"),
    ("lspAgent.run", [{}], "prompt"),
    ("lspAgent.cancel", [{}], "sessionId"),
    ("lspAgent.undo", [{"sessionId": "no-such-session"}], "no-such-session"),
    ("lspAgent.no-such-command", [], "no-such-command"),
]


async def expect_invalid(agent: AgentClient, method: str, params: Any, word: str) -> None:
    try:
        result = await agent.call(method, params)
    except JsonRpcException as e:
        assert e.code == INVALID_PARAMS, (method, params, e.code, e.message)
        assert word.lower() in e.message.lower(), (method, params, e.message)
        return
    raise AssertionError(f"{method} {params!r} was accepted: {result!r}")


def fill(params: Any, session: str) -> Any:
    if isinstance(params, dict) and params.get("sessionId") == SESSION:
        return {**params, "sessionId": session}
    return params


@one_flavour
async def test_invalid_params_to_custom_methods(agent: AgentClient) -> None:
    session = await agent.new_session()
    for method, params, word in CASES:
        await expect_invalid(agent, method, fill(params, session), word)
    await serves(agent, session)


@one_flavour
async def test_invalid_command_arguments(agent: AgentClient) -> None:
    for command, arguments, word in COMMANDS:
        params = {"command": command, "arguments": arguments}
        await expect_invalid(agent, "workspace/executeCommand", params, word)
    await expect_invalid(
        agent, "workspace/executeCommand", {"command": "lspAgent.run", "arguments": {}}, "argument"
    )
    # params lsprotocol cannot even read (pygls would never answer these)
    await expect_invalid(agent, "workspace/executeCommand", {"arguments": []}, "command")
    await expect_invalid(
        agent,
        "textDocument/codeAction",
        {"textDocument": {"uri": "file:///x.py"}, "range": "all", "context": {"diagnostics": []}},
        "range",
    )
    await serves(agent, await agent.new_session())


@one_flavour
async def test_invalid_cancel_notification_is_reported_and_harmless(agent: AgentClient) -> None:
    agent.notify("agent/session/cancel", {"session": "typo"})
    await agent.editor.until(lambda: bool(agent.editor.shown))
    [shown] = agent.editor.shown
    assert "sessionId" in shown["message"]
    await serves(agent, await agent.new_session())


@one_flavour
@pytest.mark.parametrize(
    ("message", "code", "word"),
    [
        ({"method": "agent/session/list", "params": {}}, -32600, "jsonrpc"),
        ({"jsonrpc": "1.0", "method": "agent/session/list", "params": {}}, -32600, "jsonrpc"),
        ({"jsonrpc": "2.0", "method": ["agent/session/list"], "params": {}}, -32600, "method"),
        ({"jsonrpc": "2.0", "method": "agent/session/list", "params": {}, "x": 1}, -32602, ""),
    ],
)
async def test_malformed_requests_are_answered(
    agent: AgentClient, message: dict[str, Any], code: int, word: str
) -> None:
    try:
        result = await agent.send_message(message)
    except JsonRpcException as e:
        assert e.code == code and word in e.message, e
    else:
        raise AssertionError(f"{message} was accepted: {result!r}")
    await serves(agent, await agent.new_session())


async def serves(agent: AgentClient, session: str) -> None:
    """The server still answers, and runs prompts."""
    listed = await agent.request("agent/session/list", {})
    assert session in [s["sessionId"] for s in listed["sessions"]]
    agent.server.script(text_reply("still here"))
    result = await agent.prompt(session, "are you there?")
    assert result["stopReason"] == "end_turn"
    assert agent.editor.text_of(session) == "still here"


@pytest.mark.parametrize("params", [None, {}])
@one_flavour
async def test_new_session_needs_no_params(agent: AgentClient, params: Any) -> None:
    result = await agent.call("agent/session/new", params)
    assert isinstance(result["sessionId"], str) and result["sessionId"]
