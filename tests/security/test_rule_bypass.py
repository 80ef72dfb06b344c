"""Deny rules are matched on what will really run and on resolved paths, not as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.conftest import Attacker, bash

ENV_SECRET = "DB_PASSWORD=hunter2-do-not-read"


@pytest.fixture
def denying(attack: Attacker, ws: Path) -> Attacker:
    (ws / ".env").write_text(ENV_SECRET + "\n")
    (ws / "secrets").mkdir()
    (ws / "secrets" / "key.pem").write_text("-----BEGIN hunter2-do-not-read-----\n")
    attack.settings(
        '[permissions]\ndeny = ["bash(rm*)", "bash(git push*)", "read(.env)", "read(secrets/**)"]\n'
    )
    return attack


class TestRuleBypasses:
    @pytest.mark.parametrize(
        "command",
        [
            "/bin/rm victim.txt",
            "command rm victim.txt",
            "{rm,victim.txt}",
            "$'\\x72m' victim.txt",
            "git -C . push origin main",
            "git -c x.y=z --no-pager push",
            "{git,push}",
            "echo push | xargs git",
            "xargs -I{} git {} origin <<< push",
            "sudo -u nobody git push",
        ],
    )
    def test_deny_rules_see_the_program_that_runs(
        self, denying: Attacker, ws: Path, command: str
    ) -> None:
        result = denying(bash(command), mode="auto")
        assert result.statuses == ["denied"], result.results
        assert "Denied by rule deny" in result.results[0].output
        assert (ws / "victim.txt").exists()

    @pytest.mark.parametrize(
        "path", [".env", "./.env", "sub/../.env", "/proc/self/root{ws}/.env", "link-to-env"]
    )
    def test_read_deny_rules_judge_the_resolved_path(
        self, denying: Attacker, ws: Path, path: str
    ) -> None:
        (ws / "sub").mkdir()
        (ws / "link-to-env").symlink_to(".env")
        result = denying(("read_file", {"path": path.format(ws=ws)}))
        assert result.statuses == ["denied"], result.results
        assert "do-not-read" not in result.everything()

    def test_grep_and_glob_leave_read_denied_files_out(self, denying: Attacker) -> None:
        result = denying(("grep", {"pattern": "hunter2"}), ("glob", {"pattern": "**/*"}))
        grep, glob = result.results
        assert grep.status == "completed" and "No matches" in grep.output
        assert ".env" not in glob.output and "key.pem" not in glob.output
        assert "left out: read-deny rules" in grep.output + glob.output
        assert "do-not-read" not in result.everything()

    @pytest.mark.parametrize(
        "command", ["cat .env", "cat secrets/key.pem", "grep -r hunter2 .", "tar cf - . | strings"]
    )
    def test_the_shell_cannot_read_them_either(self, denying: Attacker, command: str) -> None:
        result = denying(bash(command), mode="auto")
        assert result.statuses == ["completed"]
        assert "do-not-read" not in result.everything()
