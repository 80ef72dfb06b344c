"""ACP `session/new { cwd }`: the session's working directory and boundary, stored; a
session begun in a subfolder is listed for, and loadable from, the folder that holds it."""

from __future__ import annotations

from pathlib import Path

import pytest
from acp import RequestError

from tests.acp.harness import acp_agent, prompt_of
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply


def _results(model: FakeModelServer) -> list[str]:
    messages = model.chat_requests[-1].body["messages"]
    return [str(m["content"]) for m in messages if m["role"] == "tool"]


async def test_a_session_in_a_subfolder_is_listed_and_loaded_from_the_workspace(
    workspace: Path, state: Path, model: FakeModelServer
) -> None:
    sub = workspace / "sub"
    sub.mkdir()
    (workspace / "top.txt").write_text("at the top\n")
    real_sub = str(sub.resolve())
    model.script(
        tool_call_reply([("write_file", {"path": "new.txt", "content": "made in sub\n"})]),
        tool_call_reply([("bash", {"command": "pwd"})]),
        text_reply("done"),
    )
    model.script(tool_call_reply([("read_file", {"path": "../top.txt"})]), text_reply("read"))
    async with acp_agent(workspace, state, model) as agent:
        with pytest.raises(RequestError):
            await agent.conn.new_session(cwd="sub", mcp_servers=[])  # not absolute
        sid = (await agent.conn.new_session(cwd=str(sub), mcp_servers=[])).session_id
        result = await agent.conn.prompt(session_id=sid, prompt=prompt_of("work"))
        assert result.stop_reason == "end_turn"
        assert (sub / "new.txt").read_text() == "made in sub\n"
        assert _results(model)[-1].splitlines()[0] == real_sub
        assert (
            f"Working directory: {real_sub}"
            in model.chat_requests[-1].body["messages"][0]["content"]
        )

        listed = await agent.conn.list_sessions(cwd=str(workspace))
        assert [(s.session_id, s.cwd) for s in listed.sessions] == [(sid, real_sub)]

        await agent.conn.load_session(cwd=str(workspace), session_id=sid)
        result = await agent.conn.prompt(session_id=sid, prompt=prompt_of("read the top"))
        assert result.stop_reason == "end_turn"
        assert "at the top" in _results(model)[-1]  # bounded by the folder it was loaded in
