"""`agent/session/config`: the editor reads a session's mode, model and review mode and
switches them mid-session; the next prompt uses them, and a restarted server keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.lsp.harness import start, stop


async def test_mode_and_model_switch_mid_session_and_survive_a_restart(
    tmp_path: Path, lsp_model: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, state = tmp_path / "ws", tmp_path / "state"
    root.mkdir()
    lsp_model.clear()
    monkeypatch.setattr(lsp_model, "models", ["fake-model", "big-model"])  # a shared server
    lsp_model.script(
        text_reply("first"),
        tool_call_reply([("write_file", {"path": "new.txt", "content": "x"})]),
        text_reply("could not write"),
    )
    client = await start(root, state, lsp_model)
    try:
        created = await client.request("agent/session/new", {})
        session = created["sessionId"]
        before = await client.request("agent/session/config", {"sessionId": session})
        await client.prompt(session, "hello")
        switched = await client.request(
            "agent/session/config",
            {"sessionId": session, "mode": "read-only", "model": "big-model", "review": "hunks"},
        )
        await client.prompt(session, "write it")
        problems = []
        for bad in (
            {"sessionId": session, "mode": "yolo"},
            {"sessionId": session, "model": ""},
            {"sessionId": session, "review": "lines"},
            {"sessionId": "no-such-session"},
        ):
            with pytest.raises(JsonRpcException) as e:
                await client.request("agent/session/config", bad)
            problems.append((e.value.code, str(e.value)))
    finally:
        await stop(client)

    assert (before["mode"], before["model"]) == ("ask", "fake-model")
    assert before["models"] == ["fake-model", "big-model"]
    assert [m["id"] for m in before["modes"]] == ["read-only", "ask", "accept-edits", "auto"]
    assert (switched["mode"], switched["model"]) == ("read-only", "big-model")
    assert (before["review"], switched["review"]) == ("auto", "hunks")
    models_used = [r.body["model"] for r in lsp_model.chat_requests]
    assert models_used == ["fake-model", "big-model", "big-model"]
    assert not (root / "new.txt").exists()  # read-only: denied, never asked
    assert client.editor.permission_requests == []
    assert [code for code, _ in problems] == [-32602] * 4
    assert "yolo" in problems[0][1] or "mode" in problems[0][1]

    again = await start(root, state, lsp_model)
    try:
        loaded = await again.request("agent/session/load", {"sessionId": session})
        kept = await again.request("agent/session/config", {"sessionId": session})
    finally:
        await stop(again)
    assert (kept["mode"], kept["model"], kept["review"]) == ("read-only", "big-model", "hunks")
    # new and load say the choices too, so an editor shows them without asking
    assert (created["mode"], created["model"]) == ("ask", "fake-model")
    assert (loaded["mode"], loaded["model"], loaded["review"]) == (
        "read-only",
        "big-model",
        "hunks",
    )
    assert created["review"] == "auto"
