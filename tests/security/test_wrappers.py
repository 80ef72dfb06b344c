"""Wrapper programs that run another command: the command they run is judged, and deny
rules see it by its base name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.conftest import Attacker, bash

WRAPPED_DELETIONS = [
    "env rm -rf victim.txt",
    "nice -n 5 rm -rf victim.txt",
    "timeout 5 rm -rf victim.txt",
    "setsid rm -rf victim.txt",
    "ionice -c 3 rm -rf victim.txt",
    "stdbuf -o0 rm -rf victim.txt",
    "flock /tmp/x.lock rm -rf victim.txt",
    "taskset 1 rm -rf victim.txt",
    "xargs rm -rf <<< victim.txt",
    "find . -name victim.txt -exec sh -c 'rm -rf \"$0\"' {} \\;",
    "bash -c \"bash -c 'rm -rf victim.txt'\"",
    "sh -s <<< 'rm -rf victim.txt'",
    "cat victim.txt | bash",
]


class TestWrappers:
    @pytest.mark.parametrize("command", WRAPPED_DELETIONS)
    def test_auto_mode_sees_the_deletion_through_the_wrapper(
        self, attack: Attacker, ws: Path, command: str
    ) -> None:
        result = attack(bash(command), mode="auto", answers="n\n")
        assert result.asked == 1, result.run.stderr
        assert result.statuses == ["denied"]
        assert (ws / "victim.txt").exists()

    @pytest.mark.parametrize(
        "command", ["setsid touch made", "env touch made", "watch -n1 -g true"]
    )
    def test_read_only_mode_refuses_what_the_wrapper_runs(
        self, attack: Attacker, ws: Path, command: str
    ) -> None:
        result = attack(bash(command), mode="read-only")
        assert result.statuses == ["denied"]
        assert not (ws / "made").exists()
