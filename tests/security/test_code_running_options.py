"""Options that make a read-only program write a file or run a program: git's
--upload-pack and (abbreviated) --open-files-in-pager, GNU long-option abbreviations,
`git remote -v add`. Read-only mode must refuse them; nothing may change."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.security.conftest import Attacker, bash


@pytest.fixture
def repo(ws: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    return ws


CASES = [
    "git ls-remote --upload-pack='touch pwned' .",
    "git ls-remote -u 'touch pwned' .",
    "git grep --open='touch pwned' precious",
    "git grep --open-files='touch pwned' precious",
    "git -c core.pager='touch pwned' log",
    "sort --out=pwned victim.txt",
    "sort --outp=pwned victim.txt",
    "date --se='2000-01-01' && touch pwned",
    "git remote -v add evil https://example.invalid/x",
    "git -C . remote add evil https://example.invalid/x",
]


class TestCodeRunningOptions:
    @pytest.mark.parametrize("command", CASES)
    def test_read_only_mode_refuses_them(self, attack: Attacker, repo: Path, command: str) -> None:
        config = (repo / ".git" / "config").read_text()
        result = attack(bash(command), mode="read-only")
        assert result.statuses == ["denied"], result.results
        assert not (repo / "pwned").exists()
        assert (repo / ".git" / "config").read_text() == config  # no remote was added

    def test_plain_reads_still_run(self, attack: Attacker, repo: Path) -> None:
        result = attack(bash("git status --short && sort victim.txt"), mode="read-only")
        assert result.statuses == ["completed"]
        assert "precious" in result.results[0].output
