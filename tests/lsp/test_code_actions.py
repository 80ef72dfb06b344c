"""Code actions for any diagnostic in the request's context, and the commands they run:
`workspace/executeCommand` answers `{sessionId}` at once, then progress and updates
follow and the edit lands in the open buffer."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.fakes.model_server import text_reply, tool_call_reply
from tests.lsp.conftest import one_flavour
from tests.lsp.harness import AgentClient

ORIGINAL = "import os\n\ndef add(a, b):\n    return a - b\n"


def diagnostic(message: str, line: int, source: str = "pyright") -> dict[str, Any]:
    return {
        "range": {"start": {"line": line, "character": 4}, "end": {"line": line, "character": 16}},
        "message": message,
        "severity": 1,
        "source": source,
        "code": "reportX",
    }


def rng(start: int, end: int) -> dict[str, Any]:
    return {"start": {"line": start, "character": 0}, "end": {"line": end, "character": 0}}


async def code_actions(
    agent: AgentClient, uri: str, selection: dict[str, Any], diags: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    result = await agent.call(
        "textDocument/codeAction",
        {"textDocument": {"uri": uri}, "range": selection, "context": {"diagnostics": diags}},
    )
    assert isinstance(result, list)
    return result


async def test_code_actions_for_diagnostics_and_selection(agent: AgentClient) -> None:
    agent.write("calc.py", ORIGINAL)
    uri = agent.open("calc.py")
    unused = diagnostic('"os" is not accessed', 0, source="pylance")
    wrong = diagnostic("Wrong operator\nsecond line of detail", 3, source="mylinter")
    actions = await code_actions(agent, uri, rng(0, 3), [unused, wrong])

    fixes = [a for a in actions if a.get("kind") == "quickfix"]
    assert [a["title"] for a in fixes] == [
        'Ask agent to fix: "os" is not accessed',
        "Ask agent to fix: Wrong operator",
    ]
    for action, diag in zip(fixes, [unused, wrong], strict=True):
        assert action["diagnostics"] == [diag]
        assert action["command"]["command"] == "lspAgent.fix"
        assert action["command"]["arguments"] == [
            {"uri": uri, "range": diag["range"], "diagnostics": [diag]}
        ]
    [ask] = [a for a in actions if a["title"] == "Ask agent about selection"]
    assert ask["command"]["command"] == "lspAgent.ask"
    assert ask["command"]["arguments"] == [{"uri": uri, "range": rng(0, 3)}]
    assert len(actions) == 3

    # an empty selection offers only the fixes
    at_cursor = {"start": {"line": 3, "character": 2}, "end": {"line": 3, "character": 2}}
    actions = await code_actions(agent, uri, at_cursor, [wrong])
    assert [a["title"] for a in actions] == ["Ask agent to fix: Wrong operator"]
    assert await code_actions(agent, uri, at_cursor, []) == []
    # a blank message (some servers send one) still gets a title
    actions = await code_actions(agent, uri, at_cursor, [diagnostic(" \n", 3)])
    assert [a["title"] for a in actions] == ["Ask agent to fix: this problem"]


async def test_fix_command_starts_a_run_and_the_edit_lands(agent: AgentClient) -> None:
    path = agent.write("calc.py", ORIGINAL)
    uri = agent.open("calc.py")
    wrong = diagnostic("Wrong operator", 3)
    [action] = await code_actions(agent, uri, rng(3, 3), [wrong])
    command = action["command"]
    agent.server.script(
        tool_call_reply(
            [("edit_file", {"path": path, "old_string": "a - b", "new_string": "a + b"})]
        ),
        text_reply("Fixed the operator."),
    )
    answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    agent.editor.permission_answers.append(answer)

    # answered while the run still waits for its permission: it did not wait for the run
    result = await agent.call(
        "workspace/executeCommand",
        {"command": command["command"], "arguments": command["arguments"]},
    )
    session = result["sessionId"]
    await agent.editor.until(lambda: bool(agent.editor.permission_requests))
    answer.set_result("allow_once")
    [token] = agent.editor.progress_created
    await agent.editor.until(
        lambda: any(v["kind"] == "end" for v in agent.editor.progress_of(token))
    )

    assert agent.editor.docs[uri].text == ORIGINAL.replace("a - b", "a + b")
    [applied] = agent.editor.applied_edits
    assert applied["edit"]["documentChanges"][0]["textDocument"]["uri"] == uri
    kinds = [u["sessionUpdate"] for u in agent.editor.of(session)]
    assert kinds[0] == "user_message_chunk" and "tool_call" in kinds
    assert agent.editor.text_of(session) == "Fixed the operator."
    values = agent.editor.progress_of(token)
    assert values[0]["title"] == "Agent" and values[0]["message"].startswith("Fix these problems")
    assert values[-1] == {"kind": "end", "message": "end_turn"}
    sent = agent.server.chat_requests[0].body["messages"][-1]["content"]
    assert f"Fix these problems in {path}" in sent and "Wrong operator" in sent
    assert "return a - b" in sent  # the code around the problem


@one_flavour
async def test_ask_and_run_commands(agent: AgentClient) -> None:
    path = agent.write("calc.py", ORIGINAL)
    uri = agent.open("calc.py")
    agent.server.script(text_reply("It adds."), text_reply("Hello."))
    asked = await agent.call(
        "workspace/executeCommand",
        {
            "command": "lspAgent.ask",
            "arguments": [{"uri": uri, "range": rng(2, 4), "prompt": "What does this do?"}],
        },
    )
    await agent.editor.until(lambda: agent.editor.text_of(asked["sessionId"]) == "It adds.")
    sent = agent.server.chat_requests[0].body["messages"][-1]["content"]
    assert sent.startswith("What does this do?")
    assert f"the user is in {path}" in sent and "def add(a, b):" in sent

    ran = await agent.call(
        "workspace/executeCommand", {"command": "lspAgent.run", "arguments": [{"prompt": "hi"}]}
    )
    assert ran["sessionId"] != asked["sessionId"]
    await agent.editor.until(lambda: agent.editor.text_of(ran["sessionId"]) == "Hello.")


@one_flavour
async def test_cancel_command_stops_a_command_run(agent: AgentClient) -> None:
    agent.server.script(text_reply("thinking", stall_after=2))
    started = await agent.call(
        "workspace/executeCommand", {"command": "lspAgent.run", "arguments": [{"prompt": "go"}]}
    )
    session = started["sessionId"]
    await agent.editor.until(lambda: bool(agent.editor.text_of(session)))
    await agent.call(
        "workspace/executeCommand",
        {"command": "lspAgent.cancel", "arguments": [{"sessionId": session}]},
    )
    [token] = agent.editor.progress_created
    await agent.editor.until(lambda: agent.editor.progress_of(token)[-1]["kind"] == "end")
    assert agent.editor.progress_of(token)[-1]["message"] == "cancelled"
    assert await agent.server.wait_for_disconnect_async()
