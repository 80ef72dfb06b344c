"""MCP servers through the language server (pytest-lsp): configured in the editor's
settings, started with a session's first prompt, kept across prompts, and their
destructive tools asked in auto mode."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.lsp.harness import AgentClient, start, stop

DEMO = str(Path(__file__).parent / "servers" / "demo.py")
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module")
async def agent(tmp_path: Path) -> AsyncIterator[AgentClient]:
    (tmp_path / "ws").mkdir()
    marks = tmp_path / "marks"
    marks.mkdir()
    servers = {
        "demo": {"command": sys.executable, "args": [DEMO], "env": {"DEMO_MARKS": str(marks)}},
        "broken": {"command": "/nonexistent/mcp-server"},
    }
    with FakeModelServer() as model:
        client = await start(
            tmp_path / "ws",
            tmp_path / "state",
            model,
            settings={"permissions": {"mode": "auto"}, "mcp": {"servers": servers}},
        )
        try:
            yield client
        finally:
            await stop(client)


async def test_tools_stay_up_across_prompts_and_destructive_ones_are_asked(
    agent: AgentClient, tmp_path: Path
) -> None:
    agent.server.script(
        tool_call_reply([("mcp__demo__echo", {"text": "one"})]),
        text_reply("first"),
        tool_call_reply(
            [("mcp__demo__echo", {"text": "two"}), ("mcp__demo__wipe", {"target": "x"})]
        ),
        text_reply("second"),
    )
    session = await agent.new_session()
    first = await agent.prompt(session, "echo")
    assert first["stopReason"] == "end_turn"
    agent.editor.permission_answers.append("reject_once")
    second = await agent.prompt(session, "echo and wipe")
    assert second["stopReason"] == "end_turn"
    done = [
        u["rawOutput"]["output"]
        for u in agent.editor.of(session, "tool_call_update")
        if u.get("status") in ("completed", "failed") and "rawOutput" in u
    ]
    one, two, wiped = done
    assert "echo: one" in one and "echo: two" in two
    pid = one.split("pid ")[1].split(",")[0]
    assert f"pid {pid}," in two  # one server process for the session's prompts
    assert "denied" in wiped
    assert not (tmp_path / "marks" / "wiped").exists()
    assert agent.editor.permission_requests, "the destructive tool was asked in auto mode"
    thoughts = [u["content"]["text"] for u in agent.editor.of(session, "agent_thought_chunk")]
    said = [t for t in thoughts if "MCP server 'broken' is unavailable" in t]
    assert len(said) == 1  # reported once, on the first prompt only
    tools = [t["function"]["name"] for t in agent.server.chat_requests[0].body["tools"]]
    assert "mcp__demo__echo" in tools and not any("broken" in n for n in tools)
