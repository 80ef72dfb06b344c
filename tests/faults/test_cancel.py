"""Cancelling runs that are inside a shell command or a stalled model stream: each prompt
answers `cancelled`, the model stream is closed, and no process of the run survives."""

from __future__ import annotations

import pytest

from bench.cancel import cancel_once
from bench.model import BenchModelServer
from bench.procfs import tagged
from bench.rpc import Daemon

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("inside", ["bash", "stream", "bash", "stream", "bash"])
async def test_cancel_stops_the_run_and_leaves_no_process(
    agent: Daemon, server: BenchModelServer, inside: str
) -> None:
    result = await cancel_once(agent, server, inside)
    assert result.stop_reason == "cancelled"
    assert result.orphans == []
    assert result.stream_closed
    assert tagged(agent.tag, exclude={agent.pid}) == []
