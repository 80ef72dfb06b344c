"""Figure 9: what the sandbox around every shell command costs.

The bash tool (called through `lsp_agent.tools` on a `DiskWorkspace`, mode `auto`) runs
`true` and a small `grep -r` with `shell.sandbox` set to the backend this machine uses
and to `off`, interleaved; medians and p99. The cost is starting bwrap (namespaces, mounts)
or applying Landlock, once per command.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.common import Bench, Row, median, ms, pct
from lsp_agent import sandbox
from lsp_agent.config import PermissionSettings, Settings, ShellSettings
from lsp_agent.permissions.policy import Permissions
from lsp_agent.sandbox.detect import BACKENDS
from lsp_agent.tools.base import ToolContext
from lsp_agent.tools.shell import BashArgs, bash
from lsp_agent.workspace import DiskWorkspace

COMMANDS = [("bash `true`", "true"), ("bash `grep -r needle .` (200 files)", "grep -rc needle .")]


def context(root: Path, setting: str) -> ToolContext:
    shell = ShellSettings.model_validate({"sandbox": setting})
    settings = Settings(shell=shell)
    perms = Permissions(PermissionSettings(mode="auto"), workspace_root=root, shell=shell)
    return ToolContext(DiskWorkspace([root]), settings, "call_0", lambda e: None, permissions=perms)


async def call_ms(ctx: ToolContext, command: str) -> float:
    started = time.perf_counter_ns()
    result = await bash.run(BashArgs(command=command), ctx)
    spent = ms(time.perf_counter_ns() - started)
    if "exit code" in result.output and "exit code 0" not in result.output:
        raise RuntimeError(f"{command}: {result.output[:300]!r}")
    return spent


async def run(bench: Bench) -> list[Row]:
    backends = [b for b in BACKENDS if (await sandbox.status_async(b)).backend == b]
    if not backends:
        raise RuntimeError(f"no sandbox here: {(await sandbox.status_async('auto')).detail}")
    root = bench.scratch("sandbox9")
    for i in range(200):
        (root / f"f{i:03}.txt").write_text("hay\n" * 50 + ("needle\n" if i % 7 == 0 else ""))
    plain = context(root, "off")
    reps = bench.n(100, 20)
    rows: list[Row] = []
    for backend in backends:
        boxed = context(root, backend)
        for name, command in COMMANDS:
            await call_ms(boxed, command)  # warm: the sandbox's detection, the page cache
            await call_ms(plain, command)
            inside, outside = [], []
            for _ in range(reps):
                inside.append(await call_ms(boxed, command))
                outside.append(await call_ms(plain, command))
            mi, mo = median(inside), median(outside)
            rows.append(
                Row(
                    "9",
                    f"{name}: {backend} vs no sandbox, median (p99)",
                    f"{mi:.1f} ({pct(inside, 99):.1f}) vs {mo:.1f} ({pct(outside, 99):.1f}) ms, "
                    f"+{mi - mo:.1f} ms ({mi / mo:.1f}×)",
                    "≤ +15 ms",
                    mi - mo <= 15,
                )
            )
    bench.notes.append(
        f"Figure 9: {reps} interleaved calls per case, mode auto; backends: {', '.join(backends)}."
    )
    return rows
