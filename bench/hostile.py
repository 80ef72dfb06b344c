"""`python -m bench hostile` (issue 11): the daemon against hostile input.

- `agent/session/list` round trips (every 10 ms) while a prompt's grep runs a pattern that
  forces Python's backtracking engine, `(a|aa)+(?<!x)$`, on lines of 'a'*60 + '!';
- the daemon's peak RSS (VmHWM; a fresh daemon per case) and the prompt's wall time for an
  endless reply cut by `model.maxOutputTokens`, a write_file argument streamed in 4-character
  fragments, and a single-line file read by read_file, each at 3 sizes;
- the time `TurnBuilder` takes to assemble one tool argument from 4-character fragments,
  in-process (no server), at 0.25 / 0.5 / 1 MB.

Growth: for sizes s1 < s3, "ratio" is (Δ3 / Δ1) / (s3 / s1), with Δ the peak RSS above the
idle daemon's (or the time): about 1 is linear, well above 1 faster than linear.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import Bench, Row, daemon, median, model_options, ms, pct
from bench.model import BenchModelServer, tool_turn
from bench.procfs import rss_bytes
from bench.rpc import UPDATE
from lsp_agent.model.assemble import TurnBuilder
from tests.fakes.model_server import endless_reply, text_reply, tool_call_reply

MB = 1024 * 1024
PATTERN = "(a|aa)+(?<!x)$"


def peak_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no VmHWM for {pid}")


def growth(sizes: Sequence[float], values: Sequence[float]) -> float:
    return (values[-1] / values[0]) / (sizes[-1] / sizes[0]) if values[0] > 0 else float("nan")


async def list_during_grep(bench: Bench) -> list[Row]:
    root = bench.scratch("hostile-grep") / "ws"
    root.mkdir()
    (root / "aaa.txt").write_text(("a" * 60 + "!\n") * 200)
    seconds = bench.n(6, 3)
    server = BenchModelServer()
    with server:
        options = model_options(server)
        options["tools"] = {"regexTimeoutS": seconds + 4}
        async with daemon(bench, server, root=root, options=options) as d:
            for _ in range(20):
                await d.call("agent/session/list", {})
            server.script(tool_turn("grep", {"pattern": PATTERN}), text_reply("done"))
            session = await d.new_session()
            prompt = d.start_request(
                "agent/session/prompt", {"sessionId": session, "prompt": "grep it"}
            )
            await asyncio.sleep(0.5)  # the grep has started
            out: list[float] = []
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                sent = time.perf_counter_ns()
                message = await d.request("agent/session/list", {})
                if "error" in message:
                    raise RuntimeError(f"unexpected list answer: {message}")
                out.append(ms(message["t_ns"] - sent))
                await asyncio.sleep(0.01)
            busy = not d._pending[prompt].done()  # still grepping meanwhile?
            await d.call("agent/session/cancel", {"sessionId": session})
            await d.response(prompt, 60)
    p50, p99 = median(out), pct(out, 99)
    bench.notes.append(
        f"hostile: {len(out)} agent/session/list requests over {seconds} s while the grep "
        f"{'was still running' if busy else 'had ended'} (regexTimeoutS {seconds + 4} s)."
    )
    return [
        Row(
            "h1",
            f"agent/session/list p50 / p99 during a pathological grep ({len(out)} requests)",
            f"{p50:.2f} / {p99:.2f} ms",
            "p99 ≤ 50 ms",
            p99 <= 50,
        )
    ]


async def one_case(
    bench: Bench, setup: Any, reply: Any, model: dict[str, Any] | None = None
) -> tuple[int, int, float, str]:
    """(idle RSS, peak RSS, prompt seconds) of a fresh daemon for one scripted prompt."""
    root = bench.scratch("hostile-case") / "ws"
    root.mkdir()
    setup(root)
    server = BenchModelServer()
    with server:
        options = model_options(server, **(model or {}))
        async with daemon(bench, server, root=root, options=options) as d:
            await d.call("agent/session/list", {})
            idle = rss_bytes(d.pid)
            server.script(*reply)
            session = await d.new_session()
            started = time.perf_counter()
            result = await d.prompt(session, "go", wait_s=300)
            took = time.perf_counter() - started
            peak = peak_bytes(d.pid)
            outputs = [
                str(u.get("rawOutput", {}).get("output", ""))
                for u in (n.params["update"] for n in d.notifications if n.method == UPDATE)
                if u["sessionUpdate"] == "tool_call_update" and "rawOutput" in u
            ]
    said = f"{result['stopReason']}" + (f", tool said {outputs[-1][:90]!r}" if outputs else "")
    return idle, peak, took, said


async def rss_cases(bench: Bench) -> list[Row]:
    rows: list[Row] = []

    def nothing(root: Path) -> None:
        pass

    cases: list[tuple[str, str, list[float], Any]] = []
    tokens = [250_000.0, 500_000.0, 1_000_000.0]
    cases.append(
        (
            "endless reply cut by maxOutputTokens",
            "k tokens",
            tokens,
            lambda n: (
                nothing,
                (endless_reply("la ", per_chunk=100), text_reply("x")),
                {"maxOutputTokens": int(n), "contextWindow": 10_000_000},
            ),
        )
    )
    arg_mb = [0.25, 0.5, 1.0]
    cases.append(
        (
            "write_file argument in 4-char fragments",
            "MB",
            arg_mb,
            lambda n: (
                nothing,
                (
                    tool_call_reply(
                        [("write_file", {"path": "w.txt", "content": "ab\n" * int(n * MB / 4)})],
                        chunk_size=4,
                    ),
                    text_reply("x"),
                ),
                {"contextWindow": 10_000_000},
            ),
        )
    )
    file_mb = [12.5, 25.0, 50.0]

    def big(n: float) -> Any:
        def setup(root: Path) -> None:
            (root / "line.txt").write_bytes(b"x" * int(n * MB))

        return setup

    cases.append(
        (
            "read_file of a single-line file",
            "MB",
            file_mb,
            lambda n: (big(n), (tool_turn("read_file", {"path": "line.txt"}), text_reply("x")), {}),
        )
    )
    for name, unit, sizes, make in cases:
        deltas, times, peaks = [], [], []
        for size in sizes:
            setup, reply, model = make(size)
            idle, peak, took, said = await one_case(bench, setup, reply, model)
            bench.notes.append(f"hostile: {name} at {size:g}: {said}")
            deltas.append(max(peak - idle, 1))
            peaks.append(peak)
            times.append(took)
        shown = [f"{s / 1000:g}" if unit == "k tokens" else f"{s:g}" for s in sizes]
        rows.append(
            Row(
                "h2",
                f"{name}: peak RSS at {' / '.join(shown)} {unit}",
                " / ".join(f"{p / MB:.0f}" for p in peaks)
                + " MB (+"
                + " / +".join(f"{x / MB:.1f}" for x in deltas)
                + " over idle)",
            )
        )
        rss_g, time_g = growth(sizes, deltas), growth(sizes, times)
        rows.append(
            Row(
                "h2",
                f"{name}: time {' / '.join(f'{t:.2f}' for t in times)} s; "
                f"growth ratio RSS / time (×{sizes[-1] / sizes[0]:g} size)",
                f"{rss_g:.2f} / {time_g:.2f}",
                "≤ 1.5 (linear)",
                rss_g <= 1.5 and time_g <= 1.5,
            )
        )
    return rows


def assemble_seconds(size: int) -> float:
    fragment = 'a"b\\'  # 4 characters, escapes included
    pieces = [
        {"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]}
        for _ in range(size // 4)
    ]
    head = {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "x", "arguments": ""}}]}
    started = time.perf_counter()
    builder = TurnBuilder(max_tool_args=size * 2)
    builder.delta(head)
    for piece in pieces:
        builder.delta(piece)
    _, turn = builder.end()
    took = time.perf_counter() - started
    if len(turn.tool_calls[0].function.arguments) != size // 4 * 4:
        raise RuntimeError("the argument was not assembled whole")
    return took


async def assembly(bench: Bench) -> list[Row]:
    sizes = [0.25, 0.5, 1.0]
    runs = bench.n(5, 3)
    times = [median([assemble_seconds(int(s * MB)) for _ in range(runs)]) for s in sizes]
    g = growth(sizes, times)
    return [
        Row(
            "h3",
            "assemble one tool argument from 4-char fragments, 0.25 / 0.5 / 1 MB "
            f"(median of {runs})",
            " / ".join(f"{t * 1000:.0f}" for t in times) + f" ms; growth ratio {g:.2f}",
            "≤ 1.5 (linear)",
            g <= 1.5,
        )
    ]


async def run(bench: Bench) -> list[Row]:
    load = os.getloadavg()
    rows = await list_during_grep(bench)
    rows += await assembly(bench)
    rows += await rss_cases(bench)
    bench.notes.append(
        f"hostile: load average at the start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
        f"(1 / 5 / 15 min), {os.cpu_count()} cores shared with other work."
    )
    return rows
