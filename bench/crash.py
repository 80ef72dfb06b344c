"""Fault figure: the daemon killed with SIGKILL mid-run, then restarted on the same state.

A session gets a finished prompt (a `read_file` turn and an answer), then a second prompt
whose first `tool_turns` turns finish before the daemon is killed: inside a stalled model
stream, or inside `bash("… sleep 300")`. A new daemon then loads the session: the replayed
updates must show every completed turn, and the next prompt's request to the model must
carry each of them. Shared with tests/faults/test_crash.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Bench, Row, model_options
from bench.model import BenchModelServer, tool_turn
from bench.procfs import tagged
from bench.rpc import Daemon
from tests.fakes.model_server import text_reply

FIRST_ANSWER = "The first answer is complete."
SLEEPER = "echo started; sleep 300"
STALLED = "An answer that stalls half-way through."
ORPHAN_GRACE_S = 5.0
PLAN = {"entries": [{"content": "Step", "status": "in_progress"}]}


@dataclass
class CrashResult:
    completed_turns: int  # model turns that finished before the kill
    replayed_tool_calls: int  # completed tool calls shown by agent/session/load
    expected_tool_calls: int
    replayed_first_answer: bool
    transcript_turns: int  # completed assistant turns in the next request to the model
    transcript_ok: bool  # and in order, with every tool result
    orphans: list[tuple[int, str]] = field(default_factory=list)  # tool processes left

    @property
    def restored(self) -> bool:
        return (
            self.replayed_tool_calls == self.expected_tool_calls
            and self.replayed_first_answer
            and self.transcript_turns == self.completed_turns
            and self.transcript_ok
        )


async def start(root: Path, state: Path, server: BenchModelServer, tag: str, log: Path) -> Daemon:
    d = await Daemon.spawn(root, state, tag=tag, log=log)
    await d.initialize(model_options(server))
    return d


async def crash_and_restore(
    base: Path, server: BenchModelServer, tool_turns: int, inside: str
) -> CrashResult:
    """`inside` is "stream" (a stalled answer) or "bash" (a running `sleep 300`)."""
    root, state, tag = base / "ws", base / "state", f"crash-{uuid.uuid4().hex}"
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text("def add(a, b):\n    return a + b\n")
    server.clear()
    d = await start(root, state, server, tag, base / "log1")
    try:
        session = await d.new_session()
        server.script(tool_turn("read_file", {"path": "app.py"}), text_reply(FIRST_ANSWER))
        first = await d.prompt(session, "Read app.py.")
        if first["stopReason"] != "end_turn":
            raise RuntimeError(f"unexpected first run: {first}")
        server.script(*[tool_turn("update_plan", PLAN) for _ in range(tool_turns)])
        if inside == "bash":
            server.script(tool_turn("bash", {"command": SLEEPER}))
        else:
            server.script(text_reply(STALLED, chunk_size=len(STALLED) // 2, stall_after=2))
        d.start_request("agent/session/prompt", {"sessionId": session, "prompt": "Go on."})
        await d.until(lambda: _mid_run(d, session, inside))
    finally:
        await d.kill(signal.SIGKILL)
    orphans = await survivors(tag, ORPHAN_GRACE_S)
    for pid, _ in orphans:  # ours: they carry our tag
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # The bash turn is a finished model turn too (its call is stored; its result is not).
    completed = 2 + tool_turns + (inside == "bash")
    server.clear()
    d = await start(root, state, server, tag, base / "log2")
    try:
        loaded = await d.call("agent/session/load", {"sessionId": session})
        replay = d.updates(session)
        if loaded["updates"] != len(replay):
            raise RuntimeError(f"load said {loaded['updates']} updates, {len(replay)} came")
        done_calls = [
            u
            for u in replay
            if u["sessionUpdate"] == "tool_call_update" and u.get("status") == "completed"
        ]
        first_answer = FIRST_ANSWER in "".join(
            u["content"]["text"] for u in replay if u["sessionUpdate"] == "agent_message_chunk"
        )
        server.script(text_reply("Continuing."))
        after = await d.prompt(session, "Continue.")
        if after["stopReason"] != "end_turn":
            raise RuntimeError(f"unexpected run after the restart: {after}")
        messages = server.chat_requests[-1].body["messages"]
        turns, ok = check_transcript(messages, tool_turns)
    finally:
        await d.stop()
    return CrashResult(completed, len(done_calls), 1 + tool_turns, first_answer, turns, ok, orphans)


async def survivors(tag: str, grace_s: float) -> list[tuple[int, str]]:
    """Tagged processes still alive after `grace_s`: the shell tool's watchdog needs a
    moment to notice the daemon is gone and kill the command's group."""
    deadline = time.monotonic() + grace_s
    while (found := tagged(tag)) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # polling: no event exists for other processes' deaths
    return found


def _mid_run(d: Daemon, session: str, inside: str) -> bool:
    """The killed turn is under way: the sleeper printed, or the stalled answer streams."""
    updates = d.updates(session)
    if inside == "bash":
        return any(
            u["sessionUpdate"] == "tool_call_update"
            and "started" in "".join(c["content"].get("text", "") for c in u.get("content") or [])
            for u in updates
        )
    return STALLED[:8] in d.text_of(session)


def check_transcript(messages: list[dict[str, Any]], tool_turns: int) -> tuple[int, bool]:
    """(completed assistant turns found, whether they are all there in order)."""
    body = [m for m in messages if m["role"] != "system"]
    roles = [m["role"] for m in body]
    turns = sum(
        1
        for i, m in enumerate(body)
        if m["role"] == "assistant"
        and (m.get("content") or m.get("tool_calls"))
        and (not m.get("tool_calls") or (i + 1 < len(body) and body[i + 1]["role"] == "tool"))
    )
    expected = ["user", "assistant", "tool", "assistant", "user"] + [
        "assistant",
        "tool",
    ] * tool_turns
    ok = (
        roles[: len(expected)] == expected
        and body[3].get("content") == FIRST_ANSWER
        and body[-1] == {"role": "user", "content": "Continue."}
    )
    return turns, ok


async def run(bench: Bench) -> list[Row]:
    kills = [(k, inside) for k in (1, 3, 5) for inside in ("stream", "bash")]
    kills = kills[: bench.n(len(kills), 2)]
    results: list[CrashResult] = []
    with BenchModelServer() as server:
        for tool_turns, inside in kills:
            results.append(
                await crash_and_restore(bench.scratch("crash"), server, tool_turns, inside)
            )
    restored = sum(r.restored for r in results)
    turns = sum(r.completed_turns for r in results)
    back = sum(min(r.transcript_turns, r.completed_turns) for r in results if r.transcript_ok)
    orphans = [cmd for r in results for _, cmd in r.orphans]
    if orphans:
        bench.notes.append(
            f"SIGKILL: {len(orphans)} tool process(es) outlived the killed daemon "
            f"({', '.join(sorted(set(orphans)))}); the bench killed them."
        )
    return [
        Row(
            "F2",
            f"SIGKILL mid-run, restart: completed turns restored ({len(results)} kills)",
            f"{back}/{turns} turns; {restored}/{len(results)} sessions whole",
            "all",
            restored == len(results),
        ),
        Row(
            "F2",
            f"tool processes alive {ORPHAN_GRACE_S:g} s after a daemon was SIGKILLed",
            f"{len(orphans)} (in {sum(1 for r in results if r.orphans)} bash kills)",
        ),
    ]
