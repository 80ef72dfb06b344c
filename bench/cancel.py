"""Fault figure: cancel latency (from `agent/session/cancel` to the prompt's answer with
`stopReason: "cancelled"`) and orphaned processes, across cancels of runs that are inside
`bash("echo started; sleep 300")` or inside a stalled model stream, alternately.

A process is ours when its environment carries the daemon's bench tag; any such process
but the daemon still alive after a cancel is an orphan. Shared with
tests/faults/test_cancel.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.common import Bench, Row, daemon, median, ms, pct
from bench.crash import SLEEPER, STALLED, _mid_run
from bench.model import BenchModelServer, tool_turn
from bench.procfs import tagged
from bench.rpc import Daemon
from tests.fakes.model_server import text_reply


@dataclass
class Cancelled:
    inside: str
    latency_ms: float
    stop_reason: str
    orphans: list[tuple[int, str]]  # tagged processes alive when the answer came
    stream_closed: bool  # the model server saw the client leave (stream cancels)


async def cancel_once(d: Daemon, server: BenchModelServer, inside: str) -> Cancelled:
    session = await d.new_session()
    disconnects = server.disconnects
    if inside == "bash":
        server.script(tool_turn("bash", {"command": SLEEPER}))
    else:
        server.script(text_reply(STALLED, chunk_size=len(STALLED) // 2, stall_after=2))
    prompt = d.start_request("agent/session/prompt", {"sessionId": session, "prompt": "Go."})
    await d.until(lambda: _mid_run(d, session, inside))
    started = time.perf_counter_ns()
    d.notify("agent/session/cancel", {"sessionId": session})
    answer = await d.response(prompt)
    latency = ms(answer["t_ns"] - started)
    orphans = tagged(d.tag, exclude={d.pid})
    closed = inside == "bash" or await server.wait_for_disconnect_async(10)
    server.clear()
    return Cancelled(
        inside,
        latency,
        answer.get("result", {}).get("stopReason", str(answer.get("error"))),
        orphans,
        closed and (inside == "bash" or server.disconnects >= disconnects),
    )


async def run(bench: Bench) -> list[Row]:
    n = bench.n(100, 10)
    results: list[Cancelled] = []
    with BenchModelServer() as server:
        async with daemon(bench, server) as d:
            for i in range(n):
                results.append(await cancel_once(d, server, "bash" if i % 2 else "stream"))
            left = tagged(d.tag, exclude={d.pid})
    latencies = [r.latency_ms for r in results]
    cancelled = sum(r.stop_reason == "cancelled" for r in results)
    orphans = sum(len(r.orphans) for r in results) + len(left)
    by = {k: [r.latency_ms for r in results if r.inside == k] for k in ("bash", "stream")}
    bench.notes.append(
        "Cancels: p50 / p99 "
        + "; ".join(f"inside {k}: {median(v):.0f} / {pct(v, 99):.0f} ms" for k, v in by.items())
        + f"; {sum(not r.stream_closed for r in results)} model streams left open."
    )
    return [
        Row(
            "F4",
            f"cancel latency p50 / p99 ({n} cancels)",
            f"{median(latencies):.0f} / {pct(latencies, 99):.0f} ms",
        ),
        Row(
            "F4",
            "cancels answered with stopReason cancelled",
            f"{cancelled}/{n}",
            "all",
            cancelled == n,
        ),
        Row("F4", "orphan processes after the cancels", str(orphans), "0", orphans == 0),
    ]
