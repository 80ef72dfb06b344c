"""Sessions outlive the daemon (`agent/session/load` after a restart), are listed, and the
agent's edits of a turn can be undone, through the editor for open buffers."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.lsp.conftest import one_flavour
from tests.lsp.harness import AgentClient, start, stop

ORIGINAL = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"


async def test_load_replays_a_session_after_a_restart(
    tmp_path: Path, lsp_model: FakeModelServer
) -> None:
    root, state = tmp_path / "ws", tmp_path / "state"
    root.mkdir()
    (root / "app.py").write_text(ORIGINAL)
    lsp_model.clear()
    lsp_model.script(
        tool_call_reply([("read_file", {"path": "app.py"})]),
        text_reply("It subtracts instead of adding."),
        text_reply("Yes, I am sure."),
    )
    first = await start(root, state, lsp_model)
    try:
        session = await first.new_session()
        await first.prompt(session, "review app.py")
        live = first.editor.of(session)
    finally:
        await stop(first)

    second = await start(root, state, lsp_model, flavour="neovim")
    try:
        [listed] = (await second.request("agent/session/list", {}))["sessions"]
        assert listed["sessionId"] == session and listed["title"] == "review app.py"
        assert listed["turns"] == 1 and listed["cwd"] == str(root)

        loaded = await second.request("agent/session/load", {"sessionId": session})
        replayed = second.editor.of(session)
        assert loaded == {
            "sessionId": session,
            "updates": len(replayed),
            "mode": "ask",
            "model": "fake-model",
            "review": "auto",
        }
        assert second.editor.seqs(session) == list(range(len(replayed)))
        kinds = [u["sessionUpdate"] for u in replayed]
        assert kinds[0] == "user_message_chunk"
        assert replayed[0]["content"]["text"] == "review app.py"
        assert second.editor.text_of(session) == "It subtracts instead of adding."
        [call] = second.editor.calls(session)
        assert call.call["title"] == "Read app.py" and call.call["kind"] == "read"
        assert call.final is not None and "return a - b" in call.output
        assert replayed[-1] == {"sessionUpdate": "session_info_update", "title": "review app.py"}
        # the same story as it was told live (frames may be cut differently)
        assert [k for k in kinds if k != "agent_message_chunk"] == [
            u["sessionUpdate"] for u in live if u["sessionUpdate"] != "agent_message_chunk"
        ]

        result = await second.prompt(session, "are you sure?")
        assert result["stopReason"] == "end_turn"
        sent = lsp_model.chat_requests[-1].body["messages"]
        said = [(m["role"], m.get("content")) for m in sent if m["role"] != "system"]
        assert said[0] == ("user", "review app.py")
        assert ("assistant", "It subtracts instead of adding.") in said
        assert any(role == "tool" and "return a - b" in str(text) for role, text in said)
        assert said[-1] == ("user", "are you sure?")
        seqs = second.editor.seqs(session)
        assert seqs == list(range(len(seqs)))  # the seq goes on after the replay
    finally:
        await stop(second)


async def fix(agent: AgentClient, name: str) -> str:
    path = agent.write(name, ORIGINAL)
    agent.server.script(
        tool_call_reply(
            [("edit_file", {"path": path, "old_string": "a - b", "new_string": "a + b"})]
        ),
        text_reply("done"),
    )
    agent.editor.permission_answers.append("allow_once")
    session = await agent.new_session()
    assert (await agent.prompt(session, f"fix {name}"))["editedUris"] == [agent.uri(name)]
    return session


async def test_undo_on_disk(agent: AgentClient) -> None:
    session = await fix(agent, "calc.py")
    assert agent.disk("calc.py") == FIXED
    result = await agent.request("agent/session/undo", {"sessionId": session})
    assert result == {"revertedUris": [agent.uri("calc.py")], "conflicts": []}
    assert agent.disk("calc.py") == ORIGINAL


async def test_undo_in_an_open_buffer(agent: AgentClient) -> None:
    agent.write("calc.py", ORIGINAL)
    uri = agent.open("calc.py")
    session = await fix(agent, "calc.py")
    assert agent.editor.docs[uri].text == FIXED
    result = await agent.request("agent/session/undo", {"sessionId": session})
    assert result == {"revertedUris": [uri], "conflicts": []}
    _edit, undo = agent.editor.applied_edits
    assert undo["label"] == "Undo the agent's edits"
    assert agent.editor.docs[uri].text == ORIGINAL
    assert agent.disk("calc.py") == ORIGINAL  # never saved, never written


@one_flavour
async def test_undo_reports_a_conflict_when_the_user_changed_the_text(
    agent: AgentClient,
) -> None:
    agent.write("calc.py", ORIGINAL)
    uri = agent.open("calc.py")
    session = await fix(agent, "calc.py")
    mine = FIXED + "# the user's line\n"
    agent.type_text(uri, mine)
    result = await agent.call(
        "workspace/executeCommand",
        {"command": "lspAgent.undo", "arguments": [{"sessionId": session}]},
    )
    assert result == {"revertedUris": [], "conflicts": [uri]}
    assert agent.editor.docs[uri].text == mine
    assert len(agent.editor.applied_edits) == 1  # only the agent's own edit
