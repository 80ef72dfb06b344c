"""Custom slash commands and @mentions over `lsp-agent acp` (the real process, the ACP SDK's
client side, the fake model server recording what the model was sent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from acp.schema import ResourceContentBlock

from tests.acp.harness import RecordingClient, acp_agent, prompt_of
from tests.fakes.model_server import FakeModelServer, text_reply


@pytest.fixture
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # the agent inherits it
    folder = tmp_path / "config" / "lsp-agent" / "commands"
    folder.mkdir(parents=True)
    return folder


def last_user(model: FakeModelServer) -> str:
    messages = model.chat_requests[-1].body["messages"]
    return str([m for m in messages if m["role"] == "user"][-1]["content"])


async def test_custom_commands_are_listed_and_expanded(
    workspace: Path, state: Path, model: FakeModelServer, user_config: Path
) -> None:
    folder = workspace / ".lsp-agent" / "commands"
    folder.mkdir(parents=True)
    (folder / "review.md").write_text(
        "---\ndescription: Review a change\nargument-hint: the file\n---\nReview $ARGUMENTS.\n"
    )
    (folder / "undo.md").write_text("not the built-in\n")
    (user_config / "mine.md").write_text("Mine: $1\n")
    model.script(text_reply("reviewed"), text_reply("mine"))
    async with acp_agent(workspace, state, model) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("/review a.py"))
        await agent.conn.prompt(session_id=sid, prompt=prompt_of("/mine x y"))
        listed = agent.client.of("available_commands_update", sid)[0]["availableCommands"]
    by_name = {c["name"]: c for c in listed}
    assert list(by_name)[:4] == ["compact", "clear", "undo", "sessions"]
    assert by_name["review"]["description"] == "Review a change"
    assert by_name["review"]["input"] == {"hint": "the file"}
    assert by_name["mine"]["description"] == "Mine: $1"
    assert by_name["undo"]["description"].startswith("Revert")  # the built-in kept
    assert [m["content"] for m in model.chat_requests[0].body["messages"][1:]] == ["Review a.py."]
    assert last_user(model) == "Mine: x"


async def test_mentions_and_resource_links_attach_the_clients_text(
    workspace: Path, state: Path, model: FakeModelServer, tmp_path: Path
) -> None:
    target = workspace / "src" / "main.py"
    target.parent.mkdir()
    target.write_text("print('disk')\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("OUTSIDE SECRET\n")
    (workspace / "escape.txt").symlink_to(tmp_path / "secret.txt")
    client = RecordingClient(buffers={str(target): "print('unsaved')\n"})
    model.script(text_reply("one"), text_reply("two"))
    async with acp_agent(workspace, state, model, client, fs=True) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace))).session_id
        await agent.conn.prompt(
            session_id=sid, prompt=prompt_of("explain @src/main.py and @../secret.txt")
        )
        first = last_user(model)
        link = ResourceContentBlock(type="resource_link", uri=target.as_uri(), name="main.py")
        await agent.conn.prompt(session_id=sid, prompt=[*prompt_of("and @escape.txt, then"), link])
        second = last_user(model)
    assert "src/main.py (attached):\n```\nprint('unsaved')\n```" in first  # the client's buffer
    assert "@../secret.txt" in first and "OUTSIDE SECRET" not in first
    assert second.startswith("and @escape.txt, then\n@src/main.py\n\nsrc/main.py")
    assert "print('unsaved')" in second and "OUTSIDE SECRET" not in second
    assert str(tmp_path / "secret.txt") not in client.reads
