"""Custom slash commands and @mentions through `lsp-agent run`: a real process against the
fake model server, which records what the model was sent."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_cli import LSP_AGENT, cli, cli_env
from tests.fakes.model_server import FakeModelServer, text_reply

SECRET = "sk-e2e-SECRET-commands-4f9a8b"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / ".lsp-agent" / "commands").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "src" / "a.py").write_text("".join(f"line {i}\n" for i in range(1, 31)))
    return root


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config" / "lsp-agent" / "commands"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = cli_env(tmp_path, SECRET)
    clean["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # the user-level commands folder
    return clean


def sent(server: FakeModelServer) -> str:
    """The last user message the model received."""
    messages = server.chat_requests[-1].body["messages"]
    return str([m for m in messages if m["role"] == "user"][-1]["content"])


def run(server: FakeModelServer, workspace: Path, env: dict[str, str], text: str) -> list[dict]:
    server.script(text_reply("done"))
    result = cli(server, workspace, env, "run", text, "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_workspace_command_is_expanded_with_its_arguments(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], user_dir: Path
) -> None:
    (workspace / ".lsp-agent/commands/review.md").write_text(
        "---\ndescription: Review a file\n---\nReview $1 for bugs. Focus: $ARGUMENTS.\n"
    )
    (user_dir / "review.md").write_text("the user's review, overridden\n")
    (user_dir / "greet.md").write_text("Say hello to $ARGUMENTS.\n")
    run(model_server, workspace, env, "/review src/a.py naming")
    assert sent(model_server) == "Review src/a.py for bugs. Focus: src/a.py naming."
    run(model_server, workspace, env, "/greet the team")
    assert sent(model_server) == "Say hello to the team."


def test_builtins_cannot_be_overridden_and_bad_files_are_notes(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], user_dir: Path
) -> None:
    folder = workspace / ".lsp-agent/commands"
    (folder / "clear.md").write_text("not the built-in\n")
    (folder / "broken.md").write_text("---\ndescription: never closed\n")
    (folder / "latin.md").write_bytes(b"caf\xe9 $ARGUMENTS\n")
    (folder / "huge.md").write_text("x" * 200_000)
    (folder / "ok.md").write_text("Fine: $ARGUMENTS\n")
    events = run(model_server, workspace, env, "/ok go")
    assert sent(model_server) == "Fine: go"
    notes = "\n".join(events[0]["notes"])
    assert "/clear is a built-in" in notes
    assert "broken.md skipped: the frontmatter's '---' block is never closed" in notes
    assert "latin.md skipped: not UTF-8" in notes
    assert "huge.md skipped: larger than 64 KiB" in notes


def test_a_mention_attaches_the_file_or_its_lines(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    run(model_server, workspace, env, "explain @src/a.py:10-12, please")
    text = sent(model_server)
    assert text.startswith("explain @src/a.py:10-12, please\n\nsrc/a.py:10-12 (attached):")
    assert "line 10\nline 11\nline 12\n```" in text and "line 13" not in text
    run(model_server, workspace, env, "what is in @src/a.py")
    assert "line 1\n" in sent(model_server) and "line 30" in sent(model_server)


def test_a_command_template_can_mention_files(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    (workspace / ".lsp-agent/commands/explain.md").write_text("Explain @$1:1-2\n")
    run(model_server, workspace, env, "/explain src/a.py")
    assert "src/a.py:1-2 (attached):\n```\nline 1\nline 2\n```" in sent(model_server)


def test_hostile_mentions_are_never_read(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("TOP SECRET OUTSIDE\n")
    (workspace / "link.txt").symlink_to(outside)
    with open(workspace / "big.bin", "wb") as f:  # 100 MB, sparse: cheap to make
        f.truncate(100 * 1024 * 1024)
    prompt = "look at @../../etc/passwd and @link.txt and @/etc/hostname and @big.bin"
    events = run(model_server, workspace, env, prompt)
    text = sent(model_server)
    assert text == prompt  # nothing attached, the mentions are left as text
    notes = "\n".join(events[0]["notes"])
    assert "@../../etc/passwd is outside the workspace: left as text, not read" in notes
    assert "@link.txt is outside the workspace" in notes
    assert "@/etc/hostname is outside the workspace" in notes
    assert "@big.bin not attached" in notes and "TOP SECRET" not in json.dumps(events)


def test_a_command_file_named_with_dots_is_not_a_path(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], tmp_path: Path
) -> None:
    # A file cannot be named `../x.md`, but `/../x` must not reach a file outside the folder.
    (workspace / ".lsp-agent/x.md").write_text("ESCAPED the folder\n")
    (workspace / ".lsp-agent/commands/..x.md").write_text("dots\n")
    events = run(model_server, workspace, env, "/../x")
    assert sent(model_server) == "/../x"
    assert "..x.md' skipped" not in "\n".join(events[0]["notes"])  # not loaded for a non-command
    run(model_server, workspace, env, "/..x")
    assert sent(model_server) == "/..x"


def test_the_cli_lists_the_builtins_then_the_custom_commands(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], user_dir: Path
) -> None:
    (workspace / ".lsp-agent/commands/review.md").write_text(
        "---\ndescription: Review a file\nargument-hint: FILE\n---\nReview $1.\n"
    )
    (user_dir / "standup.md").write_text("Summarize what changed since yesterday.\n")
    (workspace / ".lsp-agent/commands/help.md").write_text("shadowing a built-in\n")
    listing = subprocess.run(
        [LSP_AGENT, "commands", "--json", "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert listing.returncode == 0, listing.stderr
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    assert [(r["name"], r["source"]) for r in rows] == [
        ("compact", "builtin"),
        ("clear", "builtin"),
        ("help", "builtin"),
        ("review", "workspace"),
        ("standup", "user"),
    ]
    assert rows[3]["hint"] == "FILE" and rows[3]["description"] == "Review a file"
    assert "help.md skipped" in listing.stderr

    # `run /help` prints the same list, and the model is never asked.
    shown = cli(model_server, workspace, env, "run", "/help")
    assert shown.returncode == 0, shown.stderr
    assert "/review FILE" in shown.stdout and "(user)" in shown.stdout
    assert model_server.chat_requests == []
