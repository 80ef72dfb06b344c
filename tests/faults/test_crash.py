"""The daemon killed with SIGKILL mid-run, then restarted on the same state: every
completed turn comes back through agent/session/load and in the next request to the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crash import crash_and_restore
from bench.model import BenchModelServer


@pytest.mark.parametrize("inside", ["stream", "bash"])
async def test_sigkill_mid_run_loses_no_completed_turn(
    inside: str, tmp_path: Path, server: BenchModelServer
) -> None:
    result = await crash_and_restore(tmp_path, server, tool_turns=2, inside=inside)
    # the first prompt's two turns, two plan turns, and (for bash) the turn that called it
    assert result.completed_turns == 4 + (inside == "bash")
    assert result.replayed_first_answer
    assert result.replayed_tool_calls == result.expected_tool_calls == 3
    assert result.transcript_ok
    assert result.transcript_turns == result.completed_turns
