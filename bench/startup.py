"""Figure 5: process spawn to the initialize response (median of 10), against the floor
`python -c "import pygls.lsp.server"` (spawn to exit), interleaved. Then `-X importtime`
names what the daemon imports before it can answer."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path

from bench.common import Bench, Row, median, model_options, ms
from bench.model import BenchModelServer
from bench.rpc import Daemon

FLOOR = "import pygls.lsp.server"
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)")


async def floor_ms() -> float:
    started = time.perf_counter_ns()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", FLOOR)
    await proc.wait()
    return ms(time.perf_counter_ns() - started)


async def daemon_ms(bench: Bench, server: BenchModelServer, root: Path, state: Path) -> float:
    d = await Daemon.spawn(root, state, log=bench.tmp / "startup.log")
    try:
        message = await d.request("initialize", initialize_params(d, server))
        if "error" in message:
            raise RuntimeError(f"initialize failed: {message}")
        return ms(message["t_ns"] - d.spawned_ns)
    finally:
        await d.stop()


def initialize_params(d: Daemon, server: BenchModelServer) -> dict[str, object]:
    from lsp_agent.server.uris import path_to_uri

    uri = path_to_uri(d.root)
    return {
        "processId": None,
        "rootUri": uri,
        "workspaceFolders": [{"uri": uri, "name": "ws"}],
        "capabilities": {},
        "initializationOptions": {"lspAgent": model_options(server)},
    }


async def import_profile(bench: Bench, server: BenchModelServer, root: Path, state: Path) -> str:
    """Where the import time goes by the initialize answer, per top-level package."""
    log = bench.tmp / "importtime.log"
    d = await Daemon.spawn(root, state, log=log, python_args=("-X", "importtime"))
    try:
        await d.request("initialize", initialize_params(d, server))
    finally:
        await d.stop()
    totals: dict[str, int] = {}
    for line in log.read_text().splitlines():
        m = IMPORT_LINE.match(line)
        if m:  # self time, summed per top-level package
            top = m.group(3).split(".")[0]
            totals[top] = totals.get(top, 0) + int(m.group(1))
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:10]
    total = sum(totals.values()) / 1000
    shown = ", ".join(f"{name} {us / 1000:.0f}" for name, us in ranked)
    return f"{total:.0f} ms in all; by package (self time, ms): {shown}"


async def run(bench: Bench) -> list[Row]:
    n = bench.n(10, 5)
    root, state = bench.scratch("startup"), bench.scratch("startup-state")
    floors: list[float] = []
    starts: list[float] = []
    with BenchModelServer() as server:
        await floor_ms()
        await daemon_ms(bench, server, root, state)  # warm: .pyc files, the store's file
        for _ in range(n):
            floors.append(await floor_ms())
            starts.append(await daemon_ms(bench, server, root, state))
        imports = await import_profile(bench, server, root, state)
    floor, start = median(floors), median(starts)
    ratio = start / floor
    bench.notes.append(f"Figure 5: the largest imports by initialize (-X importtime): {imports}.")
    return [
        Row("5", f"spawn → initialize response (median of {n})", f"{start:.0f} ms"),
        Row("5", "floor: python -c 'import pygls.lsp.server'", f"{floor:.0f} ms"),
        Row("5", "startup / floor", f"{ratio:.2f}×", "≤ 1.15×", ratio <= 1.15),  # issue 16
    ]
