"""`agent/session/new { cwd }`: the session's working directory inside the workspace.

Relative paths of every tool, the shell and the system prompt start at the cwd; the roots
stay the boundary and the permission root; the cwd is stored, so a load after a restart
starts there again, and `agent/session/list` finds the session for the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.lsp.harness import start, stop, tool_results

SETTINGS = {"permissions": {"mode": "accept-edits", "deny": ["edit(sub/locked.txt)"]}}


def _system(server: FakeModelServer) -> str:
    return str(server.chat_requests[-1].body["messages"][0]["content"])


async def test_a_session_works_in_its_cwd_inside_the_roots(
    tmp_path: Path, lsp_model: FakeModelServer
) -> None:
    root, state = tmp_path / "ws", tmp_path / "state"
    sub = root / "sub"
    sub.mkdir(parents=True)
    (sub / "here.txt").write_text("in sub\n")
    (root / "top.txt").write_text("at the root\n")
    real_sub = str(sub.resolve())
    lsp_model.clear()
    lsp_model.script(
        tool_call_reply([("write_file", {"path": "new.txt", "content": "made in sub\n"})]),
        tool_call_reply([("read_file", {"path": "here.txt"})]),
        tool_call_reply([("read_file", {"path": "../top.txt"})]),  # inside the roots
        tool_call_reply([("grep", {"pattern": "in sub"})]),
        tool_call_reply([("glob", {"pattern": "*.txt"})]),
        tool_call_reply(
            [("edit_file", {"path": "../top.txt", "old_string": "at", "new_string": "AT"})]
        ),
        tool_call_reply([("write_file", {"path": "locked.txt", "content": "no\n"})]),  # denied
        tool_call_reply([("bash", {"command": "pwd; ls"})]),
        text_reply("done"),
    )
    agent = await start(root, state, lsp_model, settings=SETTINGS)
    try:
        agent.editor.permission_answers += ["allow_once"]  # the command, unless sandboxed
        new = await agent.request("agent/session/new", {"cwd": str(sub)})
        session = new["sessionId"]
        result = await agent.prompt(session, "work in sub")
        assert result["stopReason"] == "end_turn"
        _wrote, here, top, grep, glob, _edit, locked, shell = tool_results(lsp_model)
        assert (sub / "new.txt").read_text() == "made in sub\n"
        assert not (root / "new.txt").exists()
        assert "in sub" in here and "at the root" in top
        assert "here.txt" in grep and "sub/here.txt" not in grep  # names from the cwd
        assert "here.txt" in glob and "new.txt" in glob and "top.txt" not in glob
        assert (root / "top.txt").read_text() == "AT the root\n"  # edits inside the roots
        assert "Denied by rule" in locked and not (sub / "locked.txt").exists()  # root rule
        assert shell.splitlines()[0] == real_sub or real_sub in shell
        assert "here.txt" in shell and "top.txt" not in shell
        assert f"Working directory: {real_sub}" in _system(lsp_model)
        asked = [r for r in agent.editor.permission_requests if "edit" in str(r).lower()]
        assert asked == []  # accept-edits: ../top.txt is inside the workspace

        with pytest.raises(JsonRpcException) as outside:
            await agent.request("agent/session/new", {"cwd": str(tmp_path)})
        assert outside.value.code == -32602 and "cwd" in str(outside.value)

        [listed] = (await agent.request("agent/session/list", {}))["sessions"]
        assert listed["sessionId"] == session and listed["cwd"] == real_sub
    finally:
        await stop(agent)

    lsp_model.script(tool_call_reply([("bash", {"command": "pwd"})]), text_reply("again"))
    again = await start(root, state, lsp_model, settings=SETTINGS)
    try:
        [listed] = (await again.request("agent/session/list", {}))["sessions"]
        assert listed["sessionId"] == session  # found for the workspace after a restart
        await again.request("agent/session/load", {"sessionId": session})
        again.editor.permission_answers += ["allow_once"]
        assert (await again.prompt(session, "where?"))["stopReason"] == "end_turn"
        assert tool_results(lsp_model)[-1].splitlines()[0] == real_sub
        assert f"Working directory: {real_sub}" in _system(lsp_model)
    finally:
        await stop(again)
