"""`python -m bench profile`: where a model turn's CPU goes (issue 16).

One daemon, prompts of 40 `update_plan` turns each against the fake model server. First
without a profiler: the CPU per turn of each daemon thread (/proc), the main thread (the
event loop) and the store's thread. Then the same prompts under cProfile (main thread CPU
time, armed after warm-up by bench/cprofile_daemon.py): self time by package, and the top
functions. cProfile's own cost falls on every call, so call-heavy code (the HTTP stack)
looks a little bigger than it is; the shares, not the profiled milliseconds, are the
figure.
"""

from __future__ import annotations

import os
import pstats
import signal
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import Bench, Row, model_options
from bench.model import BenchModelServer, paced_text, tool_turn
from bench.overhead import PLAN
from bench.procfs import cpu_ns
from bench.rpc import Daemon

TURNS = 40
WRAPPER = Path(__file__).with_name("cprofile_daemon.py")
# Self time grouped by where the code lives (first match wins).
PACKAGES = [
    ("HTTP client (httpx, httpcore, h11, anyio)", ("httpx", "httpcore", "h11", "anyio", "sniffio")),
    ("model stream (lsp_agent/model)", ("lsp_agent/model/",)),
    ("engine (lsp_agent/agent, tools)", ("lsp_agent/agent/", "lsp_agent/tools/")),
    ("store calls (lsp_agent/store)", ("lsp_agent/store/",)),
    ("LSP front end (lsp_agent/server, pygls)", ("lsp_agent/server/", "pygls")),
    ("pydantic", ("pydantic",)),
    ("asyncio", ("asyncio/",)),
    ("json", ("json/", "_json")),
]
# What a turn is made of: (module, function) -> what it does; shares are cumulative.
KEY_FUNCTIONS = [
    (("model/client.py", "_attempt"), "one model request, HTTP and parsing"),
    (("model/sse_lines.py", "read_lines"), "reading the body (httpx underneath)"),
    (("model/client.py", "_handle_event"), "parsing and assembling chunks"),
    (("agent/tool_runner.py", "run_all"), "running the tool calls (with their events)"),
    (("agent/recorder.py", "emit"), "events: to the editor and the recorder"),
    (("server/server.py", "notify"), "JSON-RPC notifications written"),
    (("agent/conversation.py", "add"), "messages appended (store hops)"),
    (("agent/conversation.py", "fit"), "context-window check per turn"),
]


def thread_cpu(pid: int) -> dict[str, int]:
    """CPU ns of the main thread and of the others (the store's, to_thread workers):
    Python does not name its threads, so that is all /proc can tell apart."""
    out: Counter[str] = Counter()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            ns = int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        out["main" if tid == str(pid) else "other"] += ns
    return dict(out)


def package_of(filename: str) -> str:
    return next((p for p, keys in PACKAGES if any(k in filename for k in keys)), "other")


def self_time_by_package(raw: dict[Any, Any]) -> Counter[str]:
    """Self time per package; a builtin's (isinstance, dict.get) goes to its callers'."""
    out: Counter[str] = Counter()
    for (filename, _line, _name), (_cc, _nc, tt, _ct, callers) in raw.items():
        if filename != "~" or not callers:
            out[package_of(filename)] += tt
            continue
        spent = sum(c[2] for c in callers.values()) or 1.0
        for (caller_file, _l, _n), c in callers.items():
            out[package_of(caller_file)] += tt * c[2] / spent
    return out


async def prompts(d: Daemon, server: BenchModelServer, n: int) -> None:
    for _ in range(n):
        session = await d.new_session()
        server.script(*[tool_turn("update_plan", PLAN) for _ in range(TURNS)], paced_text(10))
        result = await d.prompt(session, "Plan the work, then explain it.")
        if result["stopReason"] != "end_turn":
            raise RuntimeError(f"unexpected run result: {result}")


async def run(bench: Bench) -> list[Row]:
    n = bench.n(10, 3)
    stats_path = bench.scratch("profile") / "turns.prof"
    base = bench.scratch("profile-daemon")
    (base / "ws").mkdir()
    with BenchModelServer() as server:
        d = await Daemon.spawn(
            base / "ws",
            base / "state",
            env={"LSP_AGENT_BENCH_PROFILE": str(stats_path)},
            log=base / "log",
            python_args=(str(WRAPPER),),
        )
        try:
            await d.initialize(model_options(server))
            await prompts(d, server, 2)  # warm up
            before, total = thread_cpu(d.pid), cpu_ns(d.pid)
            await prompts(d, server, n)
            after, total = thread_cpu(d.pid), cpu_ns(d.pid) - total
            os.kill(d.pid, signal.SIGUSR1)
            await prompts(d, server, n)
            os.kill(d.pid, signal.SIGUSR2)
            # Python runs the handler before the daemon's next bytecode: once this request
            # is answered, the stats are written.
            await d.call("agent/session/list", {})
        finally:
            await d.stop()
    turns = n * TURNS
    per = {k: (after.get(k, 0) - before.get(k, 0)) / turns / 1e6 for k in after}
    rows = [
        Row("P", "daemon CPU per turn, all threads (no profiler; incl. the final answers)",
            f"{total / turns / 1e6:.2f} ms"),
        Row("P", "… main thread (event loop) / other threads (store, to_thread)",
            f"{per.get('main', 0):.2f} / {per.get('other', 0):.2f} ms"),
    ]  # fmt: skip
    raw = pstats.Stats(str(stats_path)).stats  # type: ignore[attr-defined]
    whole = sum(entry[2] for entry in raw.values()) or 1.0
    shares = "; ".join(
        f"{p} {100 * t / whole:.0f}%" for p, t in self_time_by_package(raw).most_common()
    )
    rows.append(Row("P", "main thread self time by package (cProfile)", shares))
    by_name = {(f.split("lsp_agent/")[-1], name): entry for (f, _l, name), entry in raw.items()}
    for (module, name), what in KEY_FUNCTIONS:
        entry = by_name.get((module, name))
        if entry is not None:
            rows.append(
                Row("P", f"{what}: {module} {name}", f"{100 * entry[3] / whole:.0f}% (cumulative)")
            )
    bench.notes.append(
        f"profile: {turns} turns of update_plan per measurement ({n} prompts of {TURNS}); the "
        "store thread runs each turn's ~6 writes in ~2 hops (calls queued behind a busy "
        "thread run together); load average "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg()[:2])
        + "."
    )
    return rows


__all__ = ["run"]
