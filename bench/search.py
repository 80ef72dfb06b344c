"""Figure 7: the grep and glob tools (called through `lsp_agent.tools` on a `DiskWorkspace`)
on a generated repository of 50,000 files, against the same `rg` binary run directly.

The repository is a git repository (`git init`, so plain `rg` honours its .gitignore as
the tools do), in /dev/shm when there is one: writing 50,000 files to a busy disk takes
long, and with a warm page cache the search itself reads memory either way. Each case
runs 5 times, tool and rg interleaved, page cache warm; medians.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

from bench.common import Bench, Row, median, ms
from bench.repo import Repo, generate
from lsp_agent.config import Settings
from lsp_agent.tools.base import ToolContext
from lsp_agent.tools.disk_search import _rg_args, find_rg
from lsp_agent.tools.search import GlobArgs, GrepArgs, glob, grep
from lsp_agent.workspace import DiskWorkspace

# name, tool, tool arguments, rg arguments (after the binary), text the tool output must hold
CASES: list[tuple[str, str, dict[str, str], list[str], str]] = [
    ("grep a rare regex", "grep", {"pattern": r"needle_\d+"}, [r"needle_\d+"], "needle_1'"),
    (
        "grep with a file glob",
        "grep",
        {"pattern": r"widget-1200\b", "glob": "*.json"},
        ["-g", "*.json", r"widget-1200\b"],
        "data_01200.json",
    ),
    ("glob **/*.json", "glob", {"pattern": "**/*.json"}, ["--files", "-g", "*.json"], ".json"),
    (
        "glob pkg_07/**/test_*.py",
        "glob",
        {"pattern": "pkg_07/**/test_*.py"},
        ["--files", "-g", "pkg_07/**/test_*.py"],
        "test_mod_",
    ),
]


async def tool_ms(ctx: ToolContext, kind: str, args: dict[str, str], expect: str) -> float:
    started = time.perf_counter_ns()
    if kind == "grep":
        result = await grep.run(GrepArgs.model_validate(args), ctx)
    else:
        result = await glob.run(GlobArgs.model_validate(args), ctx)
    spent = ms(time.perf_counter_ns() - started)
    if expect not in result.output:
        raise RuntimeError(f"{kind} {args}: unexpected output {result.output[:300]!r}")
    return spent


async def rg_ms(rg: str, root: Path, args: list[str]) -> float:
    started = time.perf_counter_ns()
    proc = await asyncio.create_subprocess_exec(
        rg,
        *args,
        ".",  # name the path: without it, rg searches its stdin when that is not a tty
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    out, _ = await proc.communicate()
    spent = ms(time.perf_counter_ns() - started)
    if not out:
        raise RuntimeError(f"rg {args} found nothing")
    return spent


def make_repo(bench: Bench) -> Repo:
    started = time.monotonic()
    files = bench.n(50_000, 20_000)  # fewer leave no pkg_07 for the last case
    repo = generate(bench.scratch("repo7", memory=True) / "repo", files)
    subprocess.run(["git", "init", "-q", str(repo.root)], check=True)
    bench.notes.append(
        f"Figure 7: generated {repo.files:,} files in {time.monotonic() - started:.1f} s."
    )
    return repo


async def run(bench: Bench) -> list[Row]:
    rg = find_rg()
    if rg is None:
        raise RuntimeError("no rg binary (pip install ripgrep)")
    repo = make_repo(bench)  # before any timing: blocking the loop is fine
    reps = bench.n(5, 3)
    rows = await tool_vs_rg("7", rg, repo, reps)
    # What the grep tool's own rg invocation costs (its flags: --sort path, --json, ...).
    flags = [*_rg_args(rg)[1:], "--json", "--case-sensitive", "--regexp", r"needle_\d+", "--"]
    own = median([await rg_ms(rg, repo.root, flags) for _ in range(reps)])
    bench.notes.append(f"Figure 7: rg with the grep tool's flags alone takes {own:.0f} ms.")
    return rows


async def tool_vs_rg(figure: str, rg: str, repo: Repo, reps: int) -> list[Row]:
    """Each case through the tool and through rg, interleaved, page cache warm; medians."""
    ctx = ToolContext(DiskWorkspace([repo.root]), Settings(), "call_0", lambda e: None)
    rows: list[Row] = []
    for name, kind, args, rg_args, expect in CASES:
        await tool_ms(ctx, kind, args, expect)  # warm the page cache and the tool's caches
        await rg_ms(rg, repo.root, rg_args)
        tools, rgs = [], []
        for _ in range(reps):
            tools.append(await tool_ms(ctx, kind, args, expect))
            rgs.append(await rg_ms(rg, repo.root, rg_args))
        tool, direct = median(tools), median(rgs)
        ratio = tool / direct
        rows.append(
            Row(
                figure,
                f"{name} ({repo.files:,} files): tool vs rg",
                f"{tool:.0f} vs {direct:.0f} ms ({ratio:.2f}×)",
                "≤ 1.3× rg",
                ratio <= 1.3,
            )
        )
    return rows
