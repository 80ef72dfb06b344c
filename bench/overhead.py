"""Figure 1: the daemon's CPU time per model turn and per streamed token.

Four kinds of run, interleaved, each in a fresh session of one daemon:

    base   one turn, a 10-token answer
    text   one turn, a 2,000-token answer
    tools  20 tool-call turns (`update_plan`, the cheapest tool) then a 10-token answer
    full   20 tool-call turns then a 2,000-token answer (the run the issue names)

per token = (text - base) / 1,990 and per turn = (tools - base) / 20 - the tool's own cost
(measured in-process), from the medians of the daemon's CPU time (all threads, /proc).
The fake model streams as fast as the daemon reads; `paced` repeats `text` at 1,000
tokens/s, where every token costs an event-loop wake-up of its own.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench.common import Bench, Row, daemon, median
from bench.model import BenchModelServer, paced_text, tool_turn
from bench.procfs import cpu_ns
from bench.rpc import Daemon

PLAN = {"entries": [{"content": "Read the code", "status": "in_progress"}]}
TOKENS, TURNS = 2000, 20
KINDS = {"base": (0, 10), "text": (0, TOKENS), "tools": (TURNS, 10), "full": (TURNS, TOKENS)}


async def one_run(
    d: Daemon, server: BenchModelServer, turns: int, tokens: int, rate: float = 0
) -> float:
    """The daemon's CPU ms for one prompt, from sending it to its answer."""
    session = await d.new_session()
    replies = [tool_turn("update_plan", PLAN) for _ in range(turns)]
    server.script(*replies, paced_text(tokens, tokens_per_s=rate))
    before = cpu_ns(d.pid)
    result = await d.prompt(session, "Plan the work, then explain it.")
    spent = cpu_ns(d.pid) - before
    if result["stopReason"] != "end_turn" or result["turns"] != turns + 1:
        raise RuntimeError(f"unexpected run result: {result}")
    return spent / 1e6


async def tool_cost_ms(n: int = 500) -> float:
    """CPU time of `update_plan` itself (parse + run), which the per-turn figure excludes."""
    from lsp_agent.config import Settings
    from lsp_agent.tools.base import ToolContext
    from lsp_agent.tools.plan import update_plan
    from lsp_agent.workspace import DiskWorkspace

    ctx = ToolContext(DiskWorkspace([Path.cwd()]), Settings(), "call_0", lambda e: None)
    raw = json.dumps(PLAN)
    start = time.thread_time_ns()
    for _ in range(n):
        await update_plan.run(update_plan.parse(raw), ctx)
    return (time.thread_time_ns() - start) / n / 1e6


async def run(bench: Bench) -> list[Row]:
    reps = bench.n(7, 3)
    samples: dict[str, list[float]] = {k: [] for k in KINDS}
    paced: list[float] = []
    with BenchModelServer() as server:
        async with daemon(bench, server) as d:
            for _ in range(2):  # warm up: first-use imports, caches, the connection pool
                await one_run(d, server, 2, 200)
            for _ in range(reps):
                for kind, (turns, tokens) in KINDS.items():
                    samples[kind].append(await one_run(d, server, turns, tokens))
            for _ in range(bench.n(3, 1)):
                paced.append(await one_run(d, server, 0, TOKENS, rate=1000))
    tool_ms = await tool_cost_ms()
    med = {k: median(v) for k, v in samples.items()}
    per_token_us = (med["text"] - med["base"]) / (TOKENS - 10) * 1000
    per_turn_ms = (med["tools"] - med["base"]) / TURNS - tool_ms
    paced_us = (median(paced) - med["base"]) / (TOKENS - 10) * 1000
    return [
        Row(
            "1",
            "CPU per model turn (tools excluded)",
            f"{per_turn_ms:.2f} ms",
            "≤ 2 ms",
            per_turn_ms <= 2,
        ),
        Row(
            "1",
            "CPU per streamed token (unpaced stream)",
            f"{per_token_us:.1f} µs",
            "≤ 20 µs",
            per_token_us <= 20,
        ),
        Row(
            "1",
            "CPU per streamed token at 1,000 tokens/s",
            f"{paced_us:.1f} µs",
            "≤ 20 µs",
            paced_us <= 20,
        ),
        Row(
            "1",
            f"CPU per run: {TURNS} tool calls + {TOKENS:,}-token answer",
            f"{med['full']:.0f} ms (base run {med['base']:.0f} ms, tool {tool_ms * 1000:.0f} µs)",
        ),
    ]
