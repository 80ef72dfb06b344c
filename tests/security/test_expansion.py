"""Expansion tricks: what bash expands is what is judged. Each command below deletes (or
creates) a file once bash has expanded it; text matching would call it harmless."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.conftest import Attacker, bash

# In read-only mode every one of these must be refused, and the victim must survive.
READ_ONLY_ESCAPES = [
    "{rm,-f,victim.txt}",
    "$'\\x72\\x6d' -f victim.txt",
    "rm${IFS}-f${IFS}victim.txt",
    "[[ 'a[$(rm -f victim.txt)]' -eq 0 ]]",
    "test -v 'a[$(rm -f victim.txt)]'",
    "printf -v 'a[$(rm -f victim.txt)]' x",
    "declare -n ref='a[$(rm -f victim.txt)]'; echo $ref",
    "PS4='$(rm -f victim.txt)'; set -x; true",
    "x='a[$(rm -f victim.txt)]'; [[ $x -eq 0 ]]",
    "/bin/r? -f victim.txt",
    "$CMD -f victim.txt",
]

# In auto mode these are destructive once expanded: they must be asked (and are rejected).
AUTO_ASKS = [
    "{rm,-rf,victim.txt}",
    "echo 'rm -rf victim.txt' | sh",
    "env -S 'rm -rf victim.txt'",
    "find . -maxdepth 0 -exec sh -c 'rm -rf victim.txt' \\;",
    "setsid rm -rf victim.txt",
    "bash <<< 'rm -rf victim.txt'",
    "sh <<'EOF'\nrm -rf victim.txt\nEOF",
    "nohup setsid rm -rf victim.txt",
]


class TestExpansionTricks:
    @pytest.mark.parametrize("command", READ_ONLY_ESCAPES)
    def test_read_only_mode_refuses_what_expands_into_a_write(
        self, attack: Attacker, ws: Path, command: str
    ) -> None:
        result = attack(bash(command), mode="read-only")
        assert (ws / "victim.txt").read_text() == "precious\n"
        assert result.statuses == ["denied"], result.results

    @pytest.mark.parametrize("command", AUTO_ASKS)
    def test_auto_mode_asks_before_what_expands_into_a_deletion(
        self, attack: Attacker, ws: Path, command: str
    ) -> None:
        result = attack(bash(command), mode="auto", answers="n\n")
        assert result.asked == 1
        assert result.statuses == ["denied"]
        assert (ws / "victim.txt").read_text() == "precious\n"
