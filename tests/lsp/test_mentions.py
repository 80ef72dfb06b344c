"""@mentions over LSP: `@file:10-20` and resource links with a line range, the editor's
`@problems` and `@selection` as embedded resources, and bad ranges or names that give a
note, never a crash and never a read outside the roots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from lsp_agent.server.uris import path_to_uri
from tests.fakes.model_server import FakeModelServer, text_reply
from tests.lsp.harness import AgentClient

TEN = "".join(f"line {i}\n" for i in range(1, 11))


def last_user(model: FakeModelServer) -> str:
    messages = model.chat_requests[-1].body["messages"]
    return str([m for m in messages if m["role"] == "user"][-1]["content"])


def notes(agent: AgentClient, session: str) -> str:
    return "".join(u["content"]["text"] for u in agent.editor.of(session, "agent_thought_chunk"))


async def ask(agent: AgentClient, prompt: Any) -> tuple[str, str]:
    """Send a prompt: (what the model got, the notes the editor was shown)."""
    agent.server.script(text_reply("ok"))
    session = await agent.new_session()
    await agent.prompt(session, prompt)
    return last_user(agent.server), notes(agent, session)


async def test_a_line_range_attaches_only_those_lines(agent: AgentClient) -> None:
    name = agent.write("ten.py", TEN)
    sent, _ = await ask(agent, f"explain @{name}:3-4 and @{name}:9")
    assert f"{name}:3-4 (attached):\n```\nline 3\nline 4\n```" in sent
    assert f"{name}:9 (attached):\n```\nline 9\n```" in sent
    assert "line 5" not in sent and "line 10" not in sent


async def test_a_resource_link_with_a_range_attaches_those_lines_of_the_buffer(
    agent: AgentClient,
) -> None:
    agent.write("ten.py", TEN)
    agent.open("ten.py", TEN.replace("line 6", "unsaved 6"))
    link = {"type": "resource_link", "uri": agent.uri("ten.py") + "#L5-6", "name": "ten.py"}
    sent, _ = await ask(agent, [{"type": "text", "text": "look at"}, link])
    assert "```\nline 5\nunsaved 6\n```" in sent and "line 7" not in sent


@pytest.mark.parametrize(
    ("suffix", "note"),
    [
        (":0", "line numbers start at 1"),
        (":7-3", "the range ends before it starts (write :3-7)"),
        (":11", "has 10 lines"),
        (":40-50", "has 10 lines"),
        (":" + "9" * 6000, "are not lines of a source file"),
    ],
)
async def test_a_bad_range_gives_a_note_and_attaches_nothing(
    agent: AgentClient, suffix: str, note: str
) -> None:
    name = agent.write("ten.py", TEN)
    sent, told = await ask(agent, f"see @{name}{suffix}")
    assert note in told
    assert "(attached)" not in sent and "line 1\n" not in sent


async def test_a_range_past_the_end_attaches_what_there_is_and_says_so(
    agent: AgentClient,
) -> None:
    name = agent.write("ten.py", TEN)
    sent, told = await ask(agent, f"see @{name}:9-500")
    assert "```\nline 9\nline 10\n```" in sent
    assert "attached lines 9-10" in told and "has 10 lines" in told


async def test_odd_names_and_paths_outside_the_roots_are_never_read(
    agent: AgentClient, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("TOP SECRET\n")
    agent.path("link.txt").parent.mkdir(parents=True, exist_ok=True)
    agent.path("link.txt").symlink_to(outside)
    link = {"type": "resource_link", "uri": path_to_uri(outside) + "#L1-1"}
    prompt = [
        {"type": "text", "text": f"@{agent.rel('link.txt')}:1 @../../secret.txt:1"},
        {"type": "text", "text": '@"a\u0000b.py":2 @"\ud800.py":1-2'},
        link,
    ]
    sent, told = await ask(agent, prompt)
    assert "TOP SECRET" not in sent
    assert told.count("outside the workspace") == 2
    assert told.count("control or invalid characters") == 2


def problems(*files: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    text = json.dumps([{"uri": uri, "diagnostics": diags} for uri, diags in files])
    resource = {"uri": "lsp-agent:problems", "mimeType": "application/json", "text": text}
    return {"type": "resource", "resource": resource}


def diag(line: int, message: str, severity: int = 1) -> dict[str, Any]:
    at = {"line": line, "character": 4}
    return {"range": {"start": at, "end": at}, "message": message, "severity": severity,
            "source": "lint"}  # fmt: skip


async def test_problems_and_the_selection_come_as_embedded_resources(
    agent: AgentClient, tmp_path: Path
) -> None:
    a = agent.write("a.py", TEN)
    selection = {
        "type": "resource",
        "resource": {"uri": agent.uri("a.py") + "#L2-3", "text": "line 2\nline 3\n"},
    }
    prompt = [
        {"type": "text", "text": "fix @problems in @selection"},
        problems(
            (agent.uri("a.py"), [diag(1, "undefined name 'x'"), diag(6, "unused", 2)]),
            (path_to_uri(tmp_path / "elsewhere.py"), [diag(0, "SECRET MESSAGE")]),
        ),
        selection,
    ]
    sent, _ = await ask(agent, prompt)
    assert "Problems (the editor's diagnostics: 2 in 1 file(s)):" in sent
    assert f"{a}:\n- line 2, column 5: error: undefined name 'x' [lint]" in sent
    assert "- line 7, column 5: warning: unused [lint]" in sent
    assert "[1 in files outside the workspace are left out]" in sent
    assert "SECRET MESSAGE" not in sent
    assert f"{a}:2-3 (the user's selection):\n```\nline 2\nline 3\n```" in sent


async def test_no_problems_and_many_problems(agent: AgentClient) -> None:
    agent.write("a.py", TEN)
    sent, _ = await ask(agent, [{"type": "text", "text": "@problems"}, problems()])
    assert "Problems (the editor's diagnostics: 0 in 0 file(s)): none." in sent
    many = [diag(i % 10, f"p{i} " + "x" * 2000) for i in range(500)]
    prompt = [{"type": "text", "text": "@problems"}, problems((agent.uri("a.py"), many))]
    sent, _ = await ask(agent, prompt)
    assert "[only the first 200 are listed]" in sent
    assert "p199 " in sent and "p200 " not in sent
    assert len(sent) < 200 * 600


@pytest.mark.parametrize("text", ["not json", '{"uri": 1}', '[{"uri": "x"}]', "[1]"])
async def test_malformed_problems_are_invalid_params(agent: AgentClient, text: str) -> None:
    session = await agent.new_session()
    block = {"type": "resource", "resource": {"uri": "lsp-agent:problems", "text": text}}
    with pytest.raises(JsonRpcException) as raised:
        await agent.prompt(session, [{"type": "text", "text": "@problems"}, block])
    assert "lsp-agent:problems must be a JSON list of {uri, diagnostics}" in str(raised.value)
    assert agent.server.chat_requests == []
