"""An editor that never answers `workspace/applyEdit` must not hang the prompt: after
`editor.applyEditTimeoutS` the edit is withdrawn ($/cancelRequest) and the tool call fails
with the truth; an answer that still comes later (applied) is recorded and shown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from lsprotocol import types as t

from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.lsp.harness import AgentClient, start, stop, tool_results

ORIGINAL = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"


@pytest_asyncio.fixture(loop_scope="session")
async def slow_editor(tmp_path: Path, lsp_model: FakeModelServer) -> AsyncIterator[AgentClient]:
    (tmp_path / "ws").mkdir()
    lsp_model.clear()
    agent = await start(
        tmp_path / "ws",
        tmp_path / "state",
        lsp_model,
        settings={"editor": {"applyEditTimeoutS": 0.5}, "permissions": {"mode": "auto"}},
    )
    try:
        yield agent
    finally:
        await stop(agent)


def edit(path: str) -> Any:
    return tool_call_reply(
        [("edit_file", {"path": path, "old_string": "a - b", "new_string": "a + b"})]
    )


async def test_an_unanswered_edit_fails_the_call_and_a_late_one_is_recorded(
    slow_editor: AgentClient,
) -> None:
    agent = slow_editor
    path = agent.write("calc.py", ORIGINAL)
    uri = agent.open("calc.py")
    held: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    agent.editor.edit_answers.append(held)
    agent.server.script(edit(path), text_reply("I will look again."))
    session = await agent.new_session()

    async with asyncio.timeout(60):  # liveness guard: without the timeout it hung forever
        result = await agent.prompt(session, "fix calc.py")

    assert result["stopReason"] == "end_turn" and result["editedUris"] == []
    [told] = tool_results(agent.server)
    assert "did not answer the edit to calc.py within 0.5 s" in told
    assert "nothing was changed" in told
    assert agent.editor.cancelled == [t.WORKSPACE_APPLY_EDIT]  # withdrawn
    assert agent.editor.docs[uri].text == ORIGINAL

    # The editor applies it anyway, late: the user is told, the agent's next read sees it.
    held.set_result("apply")
    await agent.editor.until(lambda: any("applied" in m["message"] for m in agent.editor.shown))
    [shown] = [m for m in agent.editor.shown if "applied" in m["message"]]
    assert "calc.py" in shown["message"] and "told it failed" in shown["message"]
    assert agent.editor.docs[uri].text == FIXED
    agent.server.script(tool_call_reply([("read_file", {"path": path})]), text_reply("ok"))
    await agent.prompt(session, "look again")
    assert "a + b" in tool_results(agent.server)[-1]
