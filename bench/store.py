"""Figure 8: the session store. Persisting a message (`AsyncSessionStore.append_message`
awaited from the event loop, as the engine does: a committed SQLite transaction on the
store's thread) and loading a 2,000-message session the way a resume does
(`load_session`: repair, interrupted calls, transcript), in a fresh store on disk."""

from __future__ import annotations

import time
from pathlib import Path

from bench.common import Bench, Row, median, ms, pct
from lsp_agent.agent.session import load_session
from lsp_agent.model.wire import (
    AssistantMessage,
    FunctionCall,
    Message,
    ToolCall,
    ToolMessage,
    UserMessage,
)
from lsp_agent.store import AsyncSessionStore

MESSAGES = 2000
PROSE = "The function adds two numbers; the test expects the sum, and it gets it. " * 6
CODE = "def add(a, b):\n    return a + b\n\n" * 40  # ~1.3 KB of tool output


def message(i: int) -> Message:
    """A realistic mix: a prompt, then assistant tool calls with results, and answers."""
    kind = i % 4
    if kind == 0:
        return UserMessage(content=f"Step {i}: look at app.py and fix what is wrong.")
    if kind == 1:
        call = ToolCall(
            id=f"call_{i}", function=FunctionCall(name="read_file", arguments='{"path":"app.py"}')
        )
        return AssistantMessage(content="Let me read it.", tool_calls=[call])
    if kind == 2:
        return ToolMessage(tool_call_id=f"call_{i - 1}", content=CODE)
    return AssistantMessage(content=PROSE)


async def run(bench: Bench) -> list[Row]:
    folder = bench.scratch("store")
    path = folder / "sessions.db"
    n = bench.n(MESSAGES, 500)
    writes: list[float] = []
    async with await AsyncSessionStore.open(path) as store:
        info = await store.create_session(str(folder), "bench")
        for i in range(n):
            m = message(i)
            started = time.perf_counter_ns()
            await store.append_message(info.id, m, i // 4 + 1)
            writes.append(ms(time.perf_counter_ns() - started))
    loads: list[float] = []
    for _ in range(bench.n(5, 3)):
        loads.append(await load_once(path, info.id, n))
    write50, write99, load = median(writes), pct(writes, 99), median(loads)
    size = path.stat().st_size + _wal(path)
    bench.notes.append(
        f"Figure 8: the store is {size / 1024 / 1024:.1f} MB for {n:,} messages "
        f"(SQLite WAL, synchronous=NORMAL, on {_fs(folder)})."
    )
    return [
        Row(
            "8",
            "persist one message p50 / p99",
            f"{write50:.2f} / {write99:.2f} ms",
            "≤ 2 ms",
            write50 <= 2,
        ),
        Row(
            "8",
            f"load a {n:,}-message session (median of {len(loads)})",
            f"{load:.0f} ms",
            "≤ 150 ms",
            load <= 150,
        ),
    ]


async def load_once(path: Path, session_id: str, expect: int) -> float:
    async with await AsyncSessionStore.open(path) as store:
        started = time.perf_counter_ns()
        session = await load_session(store, session_id)
        spent = ms(time.perf_counter_ns() - started)
    if session.stored != expect:
        raise RuntimeError(f"loaded {session.stored} messages, expected {expect}")
    return spent


def _wal(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def _fs(folder: Path) -> str:
    """The filesystem type holding folder (from /proc/mounts), for the note."""
    best, kind = "", "an unknown filesystem"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            _, mount, fstype, *_ = line.split()
            if str(folder).startswith(mount) and len(mount) > len(best):
                best, kind = mount, fstype
    except OSError:
        pass
    return kind
