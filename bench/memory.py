"""Figure 6: the daemon's RSS when idle after initialize, and after 200 consecutive runs
against after 10. Each run is a new session (as editor commands make them): one `read_file`
tool call, then a 300-token answer."""

from __future__ import annotations

import asyncio

from bench.common import Bench, Row, daemon
from bench.model import BenchModelServer, paced_text, tool_turn
from bench.procfs import rss_bytes

MB = 1024 * 1024


async def run(bench: Bench) -> list[Row]:
    total = bench.n(200, 60)
    with BenchModelServer() as server:
        async with daemon(bench, server) as d:
            await d.call("agent/session/list", {})
            await asyncio.sleep(1)  # let initialized's background work settle
            idle = rss_bytes(d.pid)
            at: dict[int, int] = {}
            for n in range(1, total + 1):
                session = await d.new_session()
                server.script(tool_turn("read_file", {"path": "app.py"}), paced_text(300))
                result = await d.prompt(session, f"Read app.py and explain it ({n}).")
                if result["stopReason"] != "end_turn":
                    raise RuntimeError(f"unexpected run result: {result}")
                at[n] = rss_bytes(d.pid)
    after10, after_all = at[10], at[total]
    growth = (after_all - after10) / after10 * 100
    slope_kb = (after_all - after10) / (total - 10) / 1024
    marks = sorted({10, total // 4, total // 2, 3 * total // 4, total})
    trend = ", ".join(f"{n}: {at[n] / MB:.1f}" for n in marks)
    bench.notes.append(
        f"Figure 6: RSS (MB) after n runs: {trend}; {slope_kb:.0f} KB per run after the 10th."
    )
    return [
        Row("6", "RSS idle after initialize", f"{idle / MB:.1f} MB", "≤ 90 MB", idle <= 90 * MB),
        Row(
            "6",
            f"RSS after {total} runs vs after 10",
            f"{after_all / MB:.1f} vs {after10 / MB:.1f} MB (+{growth:.1f}%)",
            "growth ≤ 10%",
            growth <= 10,
        ),
    ]
