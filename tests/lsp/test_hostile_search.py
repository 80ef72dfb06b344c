"""Hostile searches never freeze the daemon: a regex that backtracks forever runs in a
child process the daemon can kill, and glob patterns match in linear time."""

from __future__ import annotations

import asyncio

from tests.fakes.model_server import text_reply, tool_call_reply
from tests.lsp.conftest import one_flavour
from tests.lsp.harness import AgentClient
from tests.procs import running

CHILD = "lsp_agent.tools.py_grep"  # the regex child's argument (python -m ...)
# Needs Python's engine (a look-behind) and backtracks for ages on a line of a's.
EXPONENTIAL = r"(a|aa)+(?<!x)$"


@one_flavour
async def test_a_runaway_regex_leaves_the_server_answering_and_cancel_kills_it(
    agent: AgentClient,
) -> None:
    agent.write("a.txt", "a" * 60 + "!\n")
    agent.server.script(
        tool_call_reply([("grep", {"pattern": EXPONENTIAL, "path": agent.rel("")})]),
        text_reply("never asked for"),
    )
    session = await agent.new_session()
    _, pending = agent.start_prompt(session, "search")
    await agent.editor.until(
        lambda: any(
            u.get("status") == "in_progress" for c in agent.editor.calls(session) for u in c.updates
        )
    )

    listed = await agent.request("agent/session/list", {})  # answered while the regex runs
    assert session in [s["sessionId"] for s in listed["sessions"]]

    agent.notify("agent/session/cancel", {"sessionId": session})
    async with asyncio.timeout(30):  # liveness guard: an ignored cancel fails, not hangs
        result = await pending
    assert result["stopReason"] == "cancelled"
    assert running(CHILD) == []


@one_flavour
async def test_a_glob_with_many_globstars_finishes(agent: AgentClient) -> None:
    deep = "/".join(["d"] * 40)
    agent.write(f"{deep}/x/file.txt", "hello\n")
    agent.write(f"{deep}/e/file.txt", "hello\n")
    pattern = "**/" * 12 + "e/file.txt"
    agent.server.script(
        tool_call_reply([("glob", {"pattern": pattern, "path": agent.rel("")})]),
        text_reply("Found it."),
    )
    session = await agent.new_session()
    async with asyncio.timeout(60):  # liveness guard: the naive matcher takes hours here
        result = await agent.prompt(session, "find")
    assert result["stopReason"] == "end_turn"
    [view] = agent.editor.calls(session)
    assert view.output.strip().splitlines() == [f"{agent.rel(deep)}/e/file.txt"]
    listed = await agent.request("agent/session/list", {})
    assert session in [s["sessionId"] for s in listed["sessions"]]
