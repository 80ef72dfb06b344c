""" "Allow always" remembers a narrow rule: approving one harmless use of a program that can
run code must not approve every use of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.conftest import Attacker, bash

PAIRS = [
    ("awk '{print $1}' victim.txt", "awk 'BEGIN{system(\"touch pwned\")}'"),
    ("sed -n 1p victim.txt", "sed -n '1e touch pwned' victim.txt"),
    ("find . -name victim.txt", "find . -name victim.txt -exec touch pwned \\;"),
    ("git log --oneline", "git log --output=pwned"),
    ("tar tf x.tar", "tar xf x.tar --to-command='touch pwned'"),
    ("make -n", "make -n --eval='x: ; touch pwned'"),
    ("python3 -V", 'python3 -c \'open("pwned", "w")\''),
    ("npm test", "npm exec -- touch pwned"),
]


class TestAllowAlways:
    @pytest.mark.parametrize(("approved", "attack_command"), PAIRS)
    def test_always_does_not_cover_a_code_running_variant(
        self, attack: Attacker, ws: Path, approved: str, attack_command: str
    ) -> None:
        result = attack(bash(approved), bash(attack_command), mode="ask", answers="a\nn\n")
        assert result.asked == 2  # the variant is asked again
        assert result.statuses[1] == "denied"
        assert not (ws / "pwned").exists()

    def test_always_covers_the_same_command_again(self, attack: Attacker) -> None:
        command = "awk '{print $1}' victim.txt"
        result = attack(bash(command), bash(command), mode="ask", answers="a\n")
        assert result.asked == 1 and result.statuses == ["completed", "completed"]
