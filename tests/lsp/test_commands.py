"""Custom slash commands and @mentions over LSP: `agent/commands` lists them for the
editors' pickers, a prompt expands them, and a mention attaches the editor's unsaved text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.model_server import FakeModelServer, text_reply
from tests.lsp.harness import start, stop


def last_user(model: FakeModelServer) -> str:
    messages = model.chat_requests[-1].body["messages"]
    return str([m for m in messages if m["role"] == "user"][-1]["content"])


async def test_commands_are_listed_expanded_and_mentions_attach_the_buffer(
    tmp_path: Path, lsp_model: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # the server inherits it
    root, state = tmp_path / "ws", tmp_path / "state"
    folder = root / ".lsp-agent" / "commands"
    folder.mkdir(parents=True)
    (folder / "explain.md").write_text("---\ndescription: Explain code\n---\nExplain @$1\n")
    (folder / "compact.md").write_text("shadowing the built-in\n")
    user = tmp_path / "config" / "lsp-agent" / "commands"
    user.mkdir(parents=True)
    (user / "tidy.md").write_text("Tidy $ARGUMENTS\n")
    (root / "app.py").write_text("saved = 1\n")
    (tmp_path / "secret.txt").write_text("OUTSIDE SECRET\n")
    lsp_model.clear()
    lsp_model.script(text_reply("explained"), text_reply("tidied"))
    client = await start(root, state, lsp_model)
    try:
        listed = await client.request("agent/commands", {})
        client.open("app.py", "unsaved = 2\n")
        session = await client.new_session()
        await client.prompt(session, "/explain app.py")
        explained = last_user(lsp_model)
        await client.prompt(session, "/tidy @../secret.txt")
        tidied = last_user(lsp_model)
    finally:
        await stop(client)
    names = [(c["name"], c["source"]) for c in listed["commands"]]
    assert names == [
        ("compact", "builtin"),
        ("clear", "builtin"),
        ("explain", "workspace"),
        ("tidy", "user"),
    ]
    assert listed["commands"][2]["description"] == "Explain code"
    assert any("/compact is a built-in" in n for n in listed["notes"])
    assert (
        explained == "Explain @app.py\n\napp.py (the editor's current text):\n```\nunsaved = 2\n```"
    )
    assert tidied == "Tidy @../secret.txt"  # outside the workspace: left as text, never read
