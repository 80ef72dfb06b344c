"""The editor-aware workspace: open buffers win over disk, edits to them go through
versioned `workspace/applyEdit`, the user's unsaved text is never overwritten, buffers are
saved before a shell runs, and diagnostics from the editor reach the model."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.fakes.model_server import text_reply, tool_call_reply
from tests.lsp.conftest import one_flavour
from tests.lsp.harness import AgentClient, tool_names, tool_results

ORIGINAL = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"


def edit(path: str, old: str = "a - b", new: str = "a + b") -> Any:
    return tool_call_reply([("edit_file", {"path": path, "old_string": old, "new_string": new})])


async def test_edit_to_an_open_buffer_goes_through_apply_edit(agent: AgentClient) -> None:
    path = agent.write("calc.py", ORIGINAL)
    uri = agent.open("calc.py")
    agent.server.script(
        edit(path), tool_call_reply([("read_file", {"path": path})]), text_reply("done")
    )
    agent.editor.permission_answers.append("allow_once")
    session = await agent.new_session()
    result = await agent.prompt(session, "fix calc.py")
    assert result["stopReason"] == "end_turn"
    assert result["editedUris"] == [uri]

    [applied] = agent.editor.applied_edits
    assert applied["label"] == f"edit_file {path}"
    [change] = applied["edit"]["documentChanges"]
    assert change["textDocument"] == {"uri": uri, "version": 1}
    assert agent.editor.docs[uri].text == FIXED
    assert agent.disk("calc.py") == ORIGINAL  # the buffer is unsaved: the disk is untouched
    edited, read = tool_results(agent.server)
    assert edited.startswith("Edited")
    assert "a + b" in read  # the server's mirror followed the editor's change


async def test_refused_apply_edit_tells_the_model_to_read_again(agent: AgentClient) -> None:
    path = agent.write("calc.py", ORIGINAL)
    uri = agent.open("calc.py")
    agent.server.script(edit(path), text_reply("I will read it again."))
    agent.editor.permission_answers.append("allow_once")
    agent.editor.refuse_edits = 1
    session = await agent.new_session()
    result = await agent.prompt(session, "fix calc.py")
    assert result["stopReason"] == "end_turn"  # no crash: the run goes on
    assert result["editedUris"] == []
    [told] = tool_results(agent.server)
    assert "changed in the editor" in told and "read it again" in told.lower()
    [view] = agent.editor.calls(session)
    assert view.final is not None and view.final["status"] == "failed"
    assert agent.editor.docs[uri].text == ORIGINAL


@one_flavour
@pytest.mark.parametrize(
    "answer",
    [
        {"applied": True, "failedChange": "not a number"},  # unreadable
        RuntimeError("the editor crashed applying it"),  # an error answer
    ],
)
async def test_a_bad_apply_edit_answer_is_a_refusal(agent: AgentClient, answer: Any) -> None:
    path = agent.write("calc.py", ORIGINAL)
    uri = agent.open("calc.py")
    agent.server.script(edit(path), text_reply("ok"))
    agent.editor.permission_answers.append("allow_once")
    agent.editor.edit_answers.append(answer)
    result = await agent.prompt(await agent.new_session(), "fix calc.py")
    assert result["stopReason"] == "end_turn" and result["editedUris"] == []
    [told] = tool_results(agent.server)
    assert f"The editor refused the edit to {path}" in told
    assert agent.editor.docs[uri].text == ORIGINAL


async def test_user_typing_while_the_edit_is_in_flight_wins(agent: AgentClient) -> None:
    path = agent.write("calc.py", ORIGINAL)
    uri = agent.open("calc.py")
    mine = "# the user's unsaved line\n" + ORIGINAL
    agent.server.script(edit(path), text_reply("ok"))
    agent.editor.permission_answers.append("allow_once")
    agent.editor.before_edit.append(lambda: agent.type_text(uri, mine))
    session = await agent.new_session()
    result = await agent.prompt(session, "fix calc.py")
    assert result["stopReason"] == "end_turn"
    assert agent.editor.docs[uri].text == mine
    assert agent.disk("calc.py") == ORIGINAL
    [told] = tool_results(agent.server)
    assert "changed in the editor" in told


@one_flavour
async def test_user_typing_while_permission_is_asked_is_not_overwritten(
    agent: AgentClient,
) -> None:
    """The user approves a diff computed before they typed: the agent must not then
    replace their new text."""
    path = agent.write("notes.py", ORIGINAL)
    uri = agent.open("notes.py")
    agent.server.script(
        tool_call_reply([("write_file", {"path": path, "content": "rewritten\n"})]),
        text_reply("ok"),
    )
    answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    agent.editor.permission_answers.append(answer)
    session = await agent.new_session()
    _, pending = agent.start_prompt(session, "rewrite notes.py")
    await agent.editor.until(lambda: bool(agent.editor.permission_requests))
    mine = ORIGINAL + "# typed while the agent waited\n"
    agent.type_text(uri, mine)
    answer.set_result("allow_once")
    result = await pending
    assert result["stopReason"] == "end_turn"
    assert agent.editor.docs[uri].text == mine
    [told] = tool_results(agent.server)
    assert "not the edit they approved" in told and "read the file again" in told.lower()


async def test_read_file_sees_the_unsaved_buffer(agent: AgentClient) -> None:
    path = agent.write("notes.txt", "as on disk\n")
    uri = agent.open("notes.txt", "as in the buffer\nsecond line\n")
    agent.insert(uri, 1, 0, "typed ")  # an incremental change
    agent.server.script(tool_call_reply([("read_file", {"path": path})]), text_reply("ok"))
    await agent.prompt(await agent.new_session(), "read notes.txt")
    [told] = tool_results(agent.server)
    assert "as in the buffer" in told and "typed second line" in told
    assert "as on disk" not in told


async def test_buffers_are_saved_before_a_shell_runs(agent: AgentClient) -> None:
    path = agent.write("calc.py", ORIGINAL)
    uri = agent.open("calc.py")
    agent.server.script(
        edit(path),
        tool_call_reply([("bash", {"command": f"cat {path}"})]),
        tool_call_reply([("bash", {"command": "true"})]),
        text_reply("done"),
    )
    agent.editor.permission_answers += ["allow_once", "allow_once", "allow_once"]
    result = await agent.prompt(await agent.new_session(), "fix and show calc.py")
    assert result["stopReason"] == "end_turn"
    assert agent.editor.saved == [[uri]]  # once: the second command has nothing to save
    _, shell, _ = tool_results(agent.server)
    assert "a + b" in shell and "unsaved" not in shell
    assert agent.disk("calc.py") == FIXED


async def test_without_save_documents_the_shell_result_names_unsaved_buffers(
    plain_agent: AgentClient,
) -> None:
    agent = plain_agent
    path = agent.write("calc.py", ORIGINAL)
    uri = agent.open("calc.py")
    agent.server.script(
        edit(path),
        tool_call_reply([("bash", {"command": f"cat {path}"})]),
        text_reply("done"),
    )
    agent.editor.message_answers += ["Allow", "Allow"]
    result = await agent.prompt(await agent.new_session(), "fix and show calc.py")
    assert result["stopReason"] == "end_turn"
    assert agent.editor.docs[uri].text == FIXED
    _, shell = tool_results(agent.server)
    assert f"your edits to {path} are in unsaved editor buffers" in shell
    assert "a - b" in shell  # the shell saw the disk
    assert agent.disk("calc.py") == ORIGINAL


async def test_diagnostics_tool_and_feedback_after_an_edit(agent: AgentClient) -> None:
    path = agent.write("calc.py", ORIGINAL)
    uri = agent.open("calc.py")

    def diagnose(doc_uri: str, text: str) -> list[dict[str, Any]]:
        if doc_uri != uri or "undefined_name" not in text:
            return []
        line = text.splitlines().index("    return undefined_name")
        return [
            {
                "range": {
                    "start": {"line": line, "character": 11},
                    "end": {"line": line, "character": 25},
                },
                "message": '"undefined_name" is not defined',
                "severity": 1,
                "source": "pyright",
            }
        ]

    agent.editor.diagnose = diagnose
    agent.server.script(
        edit(path, "a - b", "undefined_name"),
        tool_call_reply([("diagnostics", {"paths": [path]})]),
        text_reply("I broke it."),
    )
    agent.editor.permission_answers.append("allow_once")
    result = await agent.prompt(await agent.new_session(), "change calc.py")
    assert result["stopReason"] == "end_turn"
    assert "diagnostics" in tool_names(agent.server)
    edited, checked = tool_results(agent.server)
    assert f"1 new problem(s) (1 error(s)) in {path}:" in edited
    assert f'{path}:2:12 error: "undefined_name" is not defined (pyright)' in edited
    assert '"undefined_name" is not defined' in checked


async def test_without_get_diagnostics_there_is_no_editor_diagnostics_tool(
    plain_agent: AgentClient,
) -> None:
    """A client without getDiagnostics is never asked for them; a `diagnostics` tool may
    still be offered, but only the daemon's own language servers' (when one is on PATH)."""
    plain_agent.server.script(text_reply("hi"))
    await plain_agent.prompt(await plain_agent.new_session(), "hi")
    tools = {
        t["function"]["name"]: t["function"]
        for t in plain_agent.server.chat_requests[-1].body["tools"]
    }
    assert "read_file" in tools
    if "diagnostics" in tools:
        assert "the editor" not in tools["diagnostics"]["description"]
        assert "from the language servers" in tools["diagnostics"]["description"]
