"""Inline edit over LSP: `inlineEdit: {uri, range}` limits the run's edits to those lines
of that file. The server enforces it in the edit path: an edit outside the range, a
write_file that changes other lines, a second file, a delete or a shell command are tool
errors (or absent tools) that tell the model the allowed range; edits inside land."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.lsp.harness import ALL_AGENT_CAPS, AgentClient, start, stop, tool_names, tool_results

TEN = "".join(f"line {i}\n" for i in range(1, 11))
BACKWARDS = {"start": {"line": 5, "character": 0}, "end": {"line": 2, "character": 0}}


def lines(first: int, last: int, end_character: int = 6) -> dict[str, Any]:
    """An LSP range over 1-based lines first..last."""
    return {
        "start": {"line": first - 1, "character": 0},
        "end": {"line": last - 1, "character": end_character},
    }


async def inline(agent: AgentClient, name: str, rng: dict[str, Any], *calls: Any) -> str:
    """Run an inline edit whose model makes these tool calls (one turn each)."""
    agent.server.script(*(tool_call_reply([c]) for c in calls), text_reply("done"))
    agent.editor.permission_answers.extend(["allow_once"] * len(calls))
    session = await agent.new_session()
    edit = {"uri": agent.uri(name), "range": rng}
    result = await agent.prompt(session, "make it shout", inlineEdit=edit)
    assert result["stopReason"] == "end_turn"
    return session


def last_user(model: FakeModelServer) -> str:
    messages = model.chat_requests[0].body["messages"]
    return str([m for m in messages if m["role"] == "user"][-1]["content"])


async def test_an_edit_inside_the_range_lands_and_the_prompt_names_the_range(
    agent: AgentClient,
) -> None:
    name = agent.write("a.py", TEN)
    edit = {"path": name, "old_string": "line 4\n", "new_string": "LINE 4\nLINE 4b\n"}
    # a second edit of the same run is judged against the range as it is now (4-6)
    second = {"path": name, "old_string": "line 5", "new_string": "LINE 5"}
    await inline(agent, "a.py", lines(4, 5), ("edit_file", edit), ("edit_file", second))
    assert agent.disk("a.py") == TEN.replace("line 4\n", "LINE 4\nLINE 4b\n").replace(
        "line 5", "LINE 5"
    )
    prompt = last_user(agent.server)
    assert prompt.startswith("make it shout\n\nThis is an inline edit of lines 4-5 of ")
    assert "(the selected lines):\n```\nline 4\nline 5\n```" in prompt
    assert all(r.startswith("Edited ") for r in tool_results(agent.server))


@pytest.mark.parametrize(
    ("make", "outside"),
    [
        (lambda n: ("edit_file", {"path": n, "old_string": "line 8", "new_string": "X"}), 8),
        (
            lambda n: (
                "edit_file",
                {"path": n, "old_string": "line 4\nline 5\nline 6", "new_string": "X"},
            ),
            6,
        ),
        (lambda n: ("write_file", {"path": n, "content": TEN.replace("line 1\n", "")}), 1),
        (lambda n: ("write_file", {"path": n, "content": "LINE 4\nLINE 5\n"}), 1),
        (lambda n: ("write_file", {"path": n, "content": TEN + "line 11\n"}), 10),
    ],
)
async def test_an_edit_outside_the_range_is_a_tool_error_that_gives_the_range(
    agent: AgentClient, make: Any, outside: int
) -> None:
    name = agent.write("a.py", TEN)
    await inline(agent, "a.py", lines(4, 5), make(name))
    assert agent.disk("a.py") == TEN
    assert agent.editor.applied_edits == []
    assert agent.editor.permission_requests == []
    [told] = tool_results(agent.server)
    assert f"This is an inline edit of lines 4-5 of {name}" in told
    assert f"changes line {outside}, outside that range: not done" in told


async def test_write_file_of_the_whole_file_changing_only_the_range_lands(
    agent: AgentClient,
) -> None:
    name = agent.write("a.py", TEN)
    content = TEN.replace("line 4\nline 5\n", "")  # the selection deleted
    await inline(agent, "a.py", lines(4, 6, 0), ("write_file", {"path": name, "content": content}))
    assert agent.disk("a.py") == content  # a range ending at character 0 stops at line 5


async def test_other_files_deletes_and_other_tools_are_refused(agent: AgentClient) -> None:
    name = agent.write("a.py", TEN)
    other = agent.write("b.py", "b = 1\n")
    calls = [
        ("edit_file", {"path": other, "old_string": "b = 1", "new_string": "b = 2"}),
        ("write_file", {"path": agent.rel("new.py"), "content": "x = 1\n"}),
        ("run_shell", {"command": f"echo hacked > {name}"}),
    ]
    await inline(agent, "a.py", lines(2, 2), *calls)
    assert agent.disk("a.py") == TEN and agent.disk("b.py") == "b = 1\n"
    assert not agent.path("new.py").exists()
    told = tool_results(agent.server)
    assert f"only lines 2-2 of the selected file may change, so {other} was not changed" in told[0]
    assert "was not changed" in told[1]
    assert told[2].startswith("Unknown tool 'run_shell'")
    offered = tool_names(agent.server)
    assert "edit_file" in offered and "read_file" in offered
    assert not {"run_shell", "task"} & set(offered)


async def test_a_later_prompt_of_the_session_is_not_limited(agent: AgentClient) -> None:
    name = agent.write("a.py", TEN)
    session = await inline(agent, "a.py", lines(2, 2))
    agent.server.clear()
    agent.server.script(
        tool_call_reply([("edit_file", {"path": name, "old_string": "line 9", "new_string": "X"})]),
        text_reply("done"),
    )
    agent.editor.permission_answers.append("allow_once")
    await agent.prompt(session, "now line 9")
    assert "X\n" in agent.disk("a.py")


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        ({"uri": "file:///etc/passwd", "range": lines(1, 1)}, "not a file inside the workspace"),
        ({"uri": "FILE", "range": lines(11, 12)}, "has 10 lines: lines 11-12 are past its end"),
        ({"uri": "FILE", "range": BACKWARDS}, "ends before it starts"),
        ({"uri": "MISSING", "range": lines(1, 1)}, "does not exist"),
        ({"uri": "FILE", "range": {"start": {"line": -1, "character": 0}}}, "inlineEdit"),
    ],
)
async def test_a_bad_inline_edit_is_invalid_params(
    agent: AgentClient, edit: dict[str, Any], error: str
) -> None:
    agent.write("a.py", TEN)
    uri = {"FILE": agent.uri("a.py"), "MISSING": agent.uri("missing.py")}.get(edit["uri"])
    session = await agent.new_session()
    with pytest.raises(JsonRpcException) as raised:
        await agent.prompt(session, "go", inlineEdit={**edit, "uri": uri or edit["uri"]})
    assert error in str(raised.value)
    assert agent.server.chat_requests == []


async def test_with_review_an_inline_edit_is_reviewed_and_one_outside_is_never_shown(
    tmp_path: Path, lsp_model: FakeModelServer
) -> None:
    """The scope is checked before the review: the user reviews only edits inside it."""
    lsp_model.clear()
    (tmp_path / "ws").mkdir()
    client = await start(
        tmp_path / "ws",
        tmp_path / "state",
        lsp_model,
        agent_caps={**ALL_AGENT_CAPS, "review": True},
        settings={"editor": {"review": "hunks"}},
    )
    try:
        name = client.write("a.py", TEN)
        uri = client.open("a.py")
        outside = {"path": name, "content": TEN.replace("line 9", "X")}
        inside = {"path": name, "old_string": "line 3", "new_string": "LINE 3"}
        lsp_model.script(
            tool_call_reply([("write_file", outside)]),
            tool_call_reply([("edit_file", inside)]),
            text_reply("done"),
        )
        client.editor.review_answers.append({"accepted": [0], "rejected": []})
        session = await client.new_session()
        edit = {"uri": uri, "range": lines(3, 3)}
        await client.prompt(session, "shout", inlineEdit=edit)
        buffer = client.editor.docs[uri].text
    finally:
        await stop(client)
    [review] = client.editor.review_requests
    assert review["proposed"] == TEN.replace("line 3", "LINE 3")
    assert buffer == TEN.replace("line 3", "LINE 3")
    told = tool_results(lsp_model)
    assert "changes line 9, outside that range: not done" in told[0]
    assert told[1].startswith(f"Edited {name}: replaced 1 occurrence at line 3.")
