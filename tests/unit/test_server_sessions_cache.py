"""The session service keeps a bounded number of idle sessions in memory (the store has them all),
and a session's `seq` goes on after it was dropped and loaded again."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from lsp_agent.agent.service import MAX_LIVE, LiveSession, SessionService


def live(session_id: str) -> LiveSession:
    session: Any = SimpleNamespace(id=session_id)
    return LiveSession(session)


async def test_idle_sessions_beyond_the_cap_are_dropped_oldest_first() -> None:
    server = SessionService()
    running = live("busy")
    running.task = asyncio.get_running_loop().create_future()  # type: ignore[assignment]
    server.keep(running)
    for i in range(MAX_LIVE + 5):
        server.keep(live(f"s{i}"))
    assert len(server.sessions) == MAX_LIVE
    assert "busy" in server.sessions  # a running session is never dropped
    assert "s0" not in server.sessions and f"s{MAX_LIVE + 4}" in server.sessions
    server.keep(server.sessions["s10"])  # used again: now the most recent
    server.keep(live("new"))
    assert "s10" in server.sessions
    running.task.cancel()  # type: ignore[union-attr]


def test_seq_survives_eviction() -> None:
    server = SessionService()
    seq = server.sequencer("a")
    seq.take()
    seq.take()
    assert server.sequencer("a").next == 2
