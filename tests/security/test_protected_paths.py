"""Fake git dirs and symlinked protected paths: in accept-edits mode the agent writes a
directory that git takes for a repository (its config runs a program on `git status`), or
writes through a symlink that points at .git/config. Neither may happen unasked."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.security.conftest import Attacker, bash

PAYLOAD = "[core]\n\tfsmonitor = touch pwned\n"


def write(path: str, content: str) -> tuple[str, dict[str, str]]:
    return ("write_file", {"path": path, "content": content})


@pytest.fixture
def repo(ws: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    return ws


class TestFakeGitDirsAndSymlinkedProtectedPaths:
    @pytest.mark.parametrize(
        "order",
        [
            ["objects/x", "refs/x", "config", "HEAD"],
            ["HEAD", "config", "objects/x", "refs/x"],
        ],
    )
    def test_the_write_that_completes_a_git_dir_is_asked(
        self, attack: Attacker, ws: Path, order: list[str]
    ) -> None:
        content = {"HEAD": "ref: refs/heads/main\n", "config": PAYLOAD}
        writes = [write(f"evil/{name}", content.get(name, "")) for name in order]
        result = attack(
            *writes,
            bash("git -C evil status; cd evil && git status"),
            mode="accept-edits",
            answers="n\nn\n",
        )
        assert result.statuses[:3] == ["completed"] * 3
        assert result.statuses[3:] == ["denied", "denied"]  # the last write, then git -C
        assert not (ws / "pwned").exists()

    def test_a_symlink_to_git_config_is_written_only_when_asked(
        self, attack: Attacker, repo: Path
    ) -> None:
        (repo / "notes.cfg").symlink_to(".git/config")
        before = (repo / ".git" / "config").read_text()
        result = attack(write("notes.cfg", PAYLOAD), mode="accept-edits", answers="n\n")
        assert result.asked == 1 and result.statuses == ["denied"]
        assert (repo / ".git" / "config").read_text() == before

    @pytest.mark.parametrize(
        "target",
        [
            ".git/config",
            ".git/hooks/pre-commit",
            "pyproject.toml",
            ".lsp-agent.toml",
            ".vscode/tasks.json",
            ".env",
            "AGENTS.md",
        ],
    )
    def test_protected_paths_are_asked_even_in_auto_mode(
        self, attack: Attacker, repo: Path, target: str
    ) -> None:
        result = attack(write(target, "x = 1\n"), mode="auto", answers="n\n")
        assert result.asked == 1 and result.statuses == ["denied"]
        assert not (repo / target).exists() or (repo / target).read_text() != "x = 1\n"

    @pytest.mark.parametrize(
        "command",
        [
            "echo '[alias] x = !touch pwned' >> .git/config",
            "mkdir -p .git/hooks && printf '#!/bin/sh\\ntouch pwned\\n' > .git/hooks/pre-commit",
            "mv .git/config .git/config.old; echo '[core] fsmonitor = touch pwned' > .git/config",
            "echo 'x' >> pyproject.toml",
        ],
    )
    def test_the_sandbox_keeps_protected_paths_read_only_for_unasked_commands(
        self, attack: Attacker, repo: Path, command: str
    ) -> None:
        (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
        config = (repo / ".git" / "config").read_text()
        result = attack(bash(command), mode="auto")
        assert result.statuses == ["completed"]  # auto mode runs it: the kernel refuses
        assert "Read-only file system" in result.results[0].output
        assert (repo / ".git" / "config").read_text() == config
        assert not (repo / ".git" / "hooks" / "pre-commit").exists()
        assert (repo / "pyproject.toml").read_text() == "[project]\nname = 'x'\n"
        subprocess.run(["git", "-C", str(repo), "status"], check=True, capture_output=True)
        assert not (repo / "pwned").exists()

    def test_a_command_the_user_approved_may_change_them(
        self, attack: Attacker, repo: Path
    ) -> None:
        result = attack(bash("git config user.name Tester"), mode="ask", answers="y\n")
        assert result.statuses == ["completed"]
        assert "Tester" in (repo / ".git" / "config").read_text()

    def test_commits_still_work_in_auto_mode(self, attack: Attacker, repo: Path) -> None:
        command = "git add victim.txt && git -c user.name=a -c user.email=a@b commit -qm x"
        result = attack(bash(command), mode="auto", answers="y\n")
        assert result.statuses == ["completed"], result.results
        log = subprocess.run(["git", "-C", str(repo), "log", "--oneline"], capture_output=True)
        assert log.stdout.strip()
