"""Agent types from `.lsp-agent/agents/*.md` and the user's folder."""

from __future__ import annotations

import os
from pathlib import Path

from lsp_agent.agent.agents import DEFAULT_AGENT, load_agents, parse_list


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_workspace_agents_override_the_users_and_general_is_built_in(tmp_path: Path) -> None:
    root, user = tmp_path / "ws", tmp_path / "user"
    write(user, "reviewer.md", "---\ndescription: The user's.\n---\nYou review.\n")
    write(user, "helper.md", "You help with anything.\n")
    write(
        root / ".lsp-agent" / "agents",
        "review.md",
        "---\nname: Reviewer\ndescription: The workspace's.\ntools: [read_file, 'grep']\n"
        "model: small\n---\nYou review carefully.\n",
    )
    agents = load_agents(root, user)
    assert list(agents.found) == [DEFAULT_AGENT, "helper", "reviewer"]
    reviewer = agents.found["reviewer"]
    assert reviewer.description == "The workspace's." and reviewer.source == "workspace"
    assert reviewer.tools == ("read_file", "grep") and reviewer.model == "small"
    assert reviewer.prompt == "You review carefully."
    helper = agents.found["helper"]  # no frontmatter: the first line describes it
    assert helper.description == "You help with anything." and helper.tools is None
    assert agents.notes == []
    assert agents.listing().splitlines()[1:] == [
        "- helper: You help with anything.",
        "- reviewer: The workspace's.",
    ]


def test_bad_files_are_skipped_with_a_note(tmp_path: Path) -> None:
    folder = tmp_path / "ws" / ".lsp-agent" / "agents"
    write(folder, "empty.md", "---\ndescription: nothing\n---\n")
    write(folder, "open.md", "---\ndescription: never closed\n")
    write(folder, "bad name.md", "---\nname: two words\n---\nHi.\n")
    write(folder, "general.md", "I replace the built-in.\n")
    write(folder, "notes.txt", "not an agent\n")
    os.symlink("/etc/passwd", folder / "link.md")
    agents = load_agents(tmp_path / "ws", tmp_path / "no-user-dir")
    assert list(agents.found) == [DEFAULT_AGENT]
    assert agents.found[DEFAULT_AGENT].source is None
    notes = "\n".join(agents.notes)
    assert "bad name.md skipped: 'two words' is not a name" in notes
    assert "empty.md skipped: the system prompt (the body) is empty" in notes
    assert "general.md skipped: 'general' is built in" in notes
    assert "link.md skipped: it is a symlink" in notes
    assert "open.md skipped: the frontmatter's '---' block is never closed" in notes
    assert len(agents.notes) == 5


def test_tool_lists() -> None:
    assert parse_list("read_file, grep") == ("read_file", "grep")
    assert parse_list('["read_file", "grep"]') == ("read_file", "grep")
    assert parse_list("[]") == ()
