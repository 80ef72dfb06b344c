"""Processes that try to outlive their command (setsid, nohup, double forks), and
commands that try to take the machine down (fork bombs, floods of output or of file
size). The sandbox's PID namespace and limits contain them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.procs import running, sleep_marker
from tests.security.conftest import Attacker, bash

MARK = sleep_marker()


class TestProcessEscapes:
    @pytest.mark.parametrize(
        "command",
        [
            f"setsid sleep {MARK} &",
            f"nohup setsid sleep {MARK} > /dev/null 2>&1 &",
            f"(setsid sh -c 'sleep {MARK} & exit' &)",
            f"setsid -f sleep {MARK}; disown -a",
        ],
    )
    def test_nothing_outlives_its_command(self, attack: Attacker, command: str) -> None:
        result = attack(bash(command), mode="auto")
        assert result.statuses == ["completed"]
        assert running(MARK) == []

    def test_a_fork_bomb_hits_the_process_limit_and_is_cleaned_up(self, attack: Attacker) -> None:
        attack.settings("[shell]\nmaxProcesses = 64\n")
        # Not the classic one-liner (which is judged destructive): a bomb the user approved.
        bomb = f"b() {{ sleep {MARK} & b & b; }}; b"
        result = attack(bash(bomb, timeout_s=3), mode="auto", answers="y\n")
        output = result.results[0].output
        assert "Resource temporarily unavailable" in output or "retry" in output, output[-500:]
        assert running(MARK) == []

    def test_a_file_cannot_grow_past_the_size_limit(self, attack: Attacker, ws: Path) -> None:
        attack.settings("[shell]\nmaxFileMb = 1\n")
        result = attack(bash("head -c 5000000 /dev/zero > big; ls -l big"), mode="auto")
        assert (ws / "big").stat().st_size <= 1024 * 1024
        assert "File size limit exceeded" in result.results[0].output

    def test_an_output_flood_is_capped(self, attack: Attacker) -> None:
        result = attack(bash("yes flood | head -c 50000000"), mode="auto")
        assert result.statuses == ["completed"]
        assert len(result.results[0].output) < 40_000  # head and tail only
        assert "live output stopped here" in result.run.stdout
