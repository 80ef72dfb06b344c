"""Figure 10: costs that must not grow with scale.

- the daemon's CPU per model turn (an `update_plan` call each) in a 10-turn prompt at the
  start of a session, and again after 200 turns of the same session;
- loading a 20,000-message session from the store (the mix of figure 8);
- grep and glob on 200,000 generated files against the same `rg` (figure 7's cases).
"""

from __future__ import annotations

import subprocess
import time

from bench.common import Bench, Row, daemon, median, model_options
from bench.model import BenchModelServer, paced_text, tool_turn
from bench.overhead import PLAN
from bench.procfs import cpu_ns
from bench.repo import Repo, generate
from bench.rpc import Daemon
from bench.search import tool_vs_rg
from bench.store import load_once, message
from lsp_agent.store import AsyncSessionStore
from lsp_agent.tools.disk_search import find_rg

LIMITS = {"limits": {"maxTurns": 10_000, "maxToolCalls": 10_000}}


async def prompt_ms(d: Daemon, server: BenchModelServer, session: str, turns: int) -> float:
    server.script(*[tool_turn("update_plan", PLAN) for _ in range(turns)], paced_text(10))
    before = cpu_ns(d.pid)
    result = await d.prompt(session, "Plan the work.")
    if result["stopReason"] != "end_turn":
        raise RuntimeError(f"unexpected run result: {result}")
    return (cpu_ns(d.pid) - before) / 1e6


async def per_turn(bench: Bench) -> list[Row]:
    early, late = [], []
    with BenchModelServer() as server:
        async with daemon(bench, server, options={**model_options(server), **LIMITS}) as d:
            await prompt_ms(d, server, await d.new_session(), 10)  # warm: imports, caches
            for _ in range(bench.n(3, 1)):
                session = await d.new_session()
                early.append(await prompt_ms(d, server, session, 10) / 10)
                await prompt_ms(d, server, session, bench.n(190, 90))
                late.append(await prompt_ms(d, server, session, 10) / 10)
    a, b = median(early), median(late)
    at = bench.n(200, 100)
    return [
        Row(
            "10",
            f"CPU per turn: turns 1–10 vs turns {at + 1}–{at + 10} of one session",
            f"{a:.2f} vs {b:.2f} ms ({b / a:.2f}×)",
            "≤ 1.2×",
            b / a <= 1.2,
        )
    ]


async def big_load(bench: Bench) -> list[Row]:
    n = bench.n(20_000, 2_000)
    path = bench.scratch("store10") / "sessions.db"
    async with await AsyncSessionStore.open(path) as store:
        info = await store.create_session(str(path.parent), "bench")
        for i in range(0, n, 4):  # a turn's messages together, as the loop stores them
            for k in range(i, min(i + 4, n)):
                await store.append_message(info.id, message(k), k // 4 + 1)
    loads = [await load_once(path, info.id, n) for _ in range(bench.n(5, 2))]
    load = median(loads)
    return [Row("10", f"load a {n:,}-message session", f"{load:.0f} ms", "≤ 1 s", load <= 1000)]


def make_repo(bench: Bench) -> Repo:
    started = time.monotonic()
    repo = generate(bench.scratch("repo10", memory=True) / "repo", bench.n(200_000, 20_000))
    subprocess.run(["git", "init", "-q", str(repo.root)], check=True)
    spent = time.monotonic() - started
    bench.notes.append(f"Figure 10: generated {repo.files:,} files in {spent:.1f} s.")
    return repo


async def big_search(bench: Bench) -> list[Row]:
    rg = find_rg()
    if rg is None:
        raise RuntimeError("no rg binary (pip install ripgrep)")
    repo = make_repo(bench)  # before any timing: blocking the loop is fine
    return await tool_vs_rg("10", rg, repo, bench.n(3, 1))


async def run(bench: Bench) -> list[Row]:
    return [*await per_turn(bench), *await big_load(bench), *await big_search(bench)]
