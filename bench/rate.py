"""Figure 3: `agent/session/update` notifications per second for one session while the
model streams 5,000 tokens/s (the fake server keeps an absolute schedule)."""

from __future__ import annotations

from bench.common import Bench, Row, daemon, median
from bench.model import BenchModelServer, paced_text
from bench.rpc import UPDATE

RATE = 5000
CHUNK = "agent_message_chunk"


async def run(bench: Bench) -> list[Row]:
    runs, seconds = bench.n(3, 1), bench.n(4, 2)
    rates: list[float] = []
    achieved: list[float] = []
    with BenchModelServer() as server:
        async with daemon(bench, server) as d:
            for _ in range(runs):
                session = await d.new_session()
                server.script(paced_text(RATE * seconds, tokens_per_s=RATE))
                result = await d.prompt(session, "Stream me a long answer.")
                if result["stopReason"] != "end_turn":
                    raise RuntimeError(f"unexpected run result: {result}")
                stream = server.streams[-1]
                updates = [
                    n
                    for n in d.notifications
                    if n.method == UPDATE and n.params["sessionId"] == session
                ]
                chunks = [n.t_ns for n in updates if n.params["update"]["sessionUpdate"] == CHUNK]
                first, last = min(chunks), max(chunks)  # while the answer streamed to the client
                during = [n for n in updates if first <= n.t_ns <= last]
                rates.append(len(during) / ((last - first) / 1e9))
                # what the daemon kept up with: the tokens, over the time until the last arrived
                achieved.append(stream.tokens / ((last - stream.first_ns) / 1e9))
    rate = max(rates)
    return [
        Row(
            "3",
            f"updates/s per session at {median(achieved):,.0f} tokens/s (worst of {runs})",
            f"{rate:.1f}/s",
            "≤ ~30/s",
            rate <= 30,
        )
    ]
