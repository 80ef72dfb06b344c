"""Figure 2: delta latency, from the fake server writing a chunk to the client reading the
`agent/session/update` that carries it.

Chunk k of run r reads " r<r>k<k>."; the fake server notes when it handed the chunk to the
socket, the client when it read the notification (same process, same clock). The model
streams at 100 tokens/s, a fast local model; every chunk waits for its ~40 ms frame.
"""

from __future__ import annotations

import re

from bench.common import Bench, Row, daemon, ms, pct
from bench.model import BenchModelServer, paced_text
from bench.rpc import UPDATE, Received

RATE = 100
MARK = re.compile(r" (r\d+k)(\d+)\.")


async def run(bench: Bench) -> list[Row]:
    runs, tokens = bench.n(4, 2), bench.n(300, 150)
    latencies: list[float] = []
    seen: dict[tuple[str, int], int] = {}

    def on_update(n: Received) -> None:
        if n.method != UPDATE or n.params["update"].get("sessionUpdate") != "agent_message_chunk":
            return
        for m in MARK.finditer(n.params["update"]["content"]["text"]):
            seen[(m.group(1), int(m.group(2)))] = n.t_ns

    with BenchModelServer() as server:
        async with daemon(bench, server) as d:
            d.on_notification = on_update
            for r in range(runs):
                session = await d.new_session()
                server.script(paced_text(tokens, tokens_per_s=RATE, mark=f"r{r}k"))
                result = await d.prompt(session, "Stream me an answer.")
                if result["stopReason"] != "end_turn":
                    raise RuntimeError(f"unexpected run result: {result}")
    for key, sent in server.sent_ns.items():
        if key in seen:
            latencies.append(ms(seen[key] - sent))
    missing = len(server.sent_ns) - len(latencies)
    if missing:
        raise RuntimeError(f"{missing} chunks never reached the client")
    p50, p99 = pct(latencies, 50), pct(latencies, 99)
    return [
        Row(
            "2",
            f"delta latency p50 ({len(latencies):,} chunks at {RATE} tokens/s)",
            f"{p50:.1f} ms",
        ),
        Row(
            "2",
            "delta latency p99 (includes the 40 ms frame)",
            f"{p99:.1f} ms",
            "≤ 60 ms",
            p99 <= 60,
        ),
        Row("2", "delta latency max", f"{max(latencies):.1f} ms"),
    ]
