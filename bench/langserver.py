"""Language servers (issue 13): the tools of `lsp_agent.langserver` called in-process on a
`DiskWorkspace` with real basedpyright, as a run calls them (no model, no daemon).

- edit → diagnostics: `edit_file` (wrapped by check-after-edit) alternately breaking and
  fixing a call's argument type in a 2-file project; the whole call, until its result holds
  the introduced error (or none); median and p99.
- first use: a fresh session's first `definition` call (start, initialize, the server's
  first diagnostics, the answer) against the next, warm one.
- tokens: `references` vs `grep` (word-bounded) of one function in a generated 2,000-file
  project where every module also has a method of the same name (grep cannot tell them
  apart); tiktoken o200k_base, the offline encoding of `lsp_agent.agent.tokens`.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

from bench.common import Bench, Row, median, pct
from lsp_agent.agent.tokens import load_encoding
from lsp_agent.config import Settings
from lsp_agent.langserver.manager import LangServers
from lsp_agent.langserver.tools import Lsp, with_tools
from lsp_agent.tools import default_tools
from lsp_agent.tools.base import Tool, ToolContext, ToolSet
from lsp_agent.workspace import DiskWorkspace

A = 'def greet(name: str) -> str:\n    return "hi " + name\n'
B = 'from a import greet\n\nprint(greet("x"))\nprint(greet("y"))\n'
FILES = 2000
USERS = 40  # modules that call the function


class Session:
    """One session's workspace, servers and tools."""

    def __init__(self, root: Path) -> None:
        self.settings = Settings.model_validate({"langserver": {"diagnosticsWaitS": 10}})
        self.ws = DiskWorkspace([root])
        self.servers = LangServers({}, self.settings.langserver, (root,))
        self.tools: ToolSet = with_tools(Lsp(self.servers), default_tools())
        self.calls = 0

    async def call(self, name: str, args: dict[str, Any]) -> str:
        self.calls += 1
        ctx = ToolContext(
            workspace=self.ws,
            settings=self.settings,
            tool_call_id=f"call-{self.calls}",
            emit=lambda _e: None,
        )
        tool: Tool[Any] | None = self.tools.get(name)
        assert tool is not None, name
        result = await tool.run(tool.args_model.model_validate(args), ctx)
        return result.output

    async def close(self) -> None:
        await self.servers.close()


def small_project(bench: Bench) -> Path:
    root = bench.scratch("ls-small")
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0"\n')
    (root / "a.py").write_text(A)
    (root / "b.py").write_text(B)
    return root


def big_project(bench: Bench) -> Path:
    """2,000 modules with a class whose method is `save`; USERS of them call `core.save`."""
    root = bench.scratch("ls-big", memory=True)
    (root / "pyproject.toml").write_text('[project]\nname = "big"\nversion = "0"\n')
    pkg = root / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "core.py").write_text(
        "def save(record: dict[str, int]) -> int:\n    return len(record)\n"
    )
    for i in range(FILES - 2):
        calls = i < USERS
        head = "from app.core import save\n\n" if calls else ""
        body = (
            f"class Store{i}:\n"
            f"    def save(self, value: int) -> int:\n"
            f"        return value + {i}\n\n"
            f"    def flush(self) -> int:\n"
            f"        return self.save({i})\n\n\n"
            f"def run_{i}() -> int:\n"
            f"    store = Store{i}()\n"
            f"    total = store.save({i})\n"
        )
        if calls:
            body += f"    total += save({{'k': {i}}})\n"
        (pkg / f"mod_{i}.py").write_text(head + body + "    return total\n")
    return root


async def edit_to_diagnostics(bench: Bench) -> list[Row]:
    s = Session(small_project(bench))
    try:
        await s.call("definition", {"path": "b.py", "line": 3, "symbol": "greet"})  # warm
        times: list[float] = []
        for k in range(bench.n(40, 8)):
            old, new = ('greet("y")', "greet(2)") if k % 2 == 0 else ("greet(2)", 'greet("y")')
            started = time.perf_counter()
            out = await s.call("edit_file", {"path": "b.py", "old_string": old, "new_string": new})
            times.append((time.perf_counter() - started) * 1000)
            if (k % 2 == 0) != ("introduced" in out):
                raise RuntimeError(f"edit {k}: unexpected result {out!r}")
    finally:
        await s.close()
    n = len(times)
    return [
        Row("LS1", f"edit → diagnostics in the result, median (n={n})", f"{median(times):.0f} ms"),
        Row("LS1", "edit → diagnostics in the result, p99", f"{pct(times, 99):.0f} ms"),
    ]


async def first_use(bench: Bench) -> list[Row]:
    cold: list[float] = []
    warm: list[float] = []
    for _ in range(bench.n(3, 1)):
        s = Session(small_project(bench))
        try:
            for into in (cold, warm):
                started = time.perf_counter()
                out = await s.call("definition", {"path": "b.py", "line": 3, "symbol": "greet"})
                into.append((time.perf_counter() - started) * 1000)
                assert out.startswith("a.py:1:5"), out
        finally:
            await s.close()
    return [
        Row("LS2", "first definition of a session (server start)", f"{median(cold):.0f} ms"),
        Row("LS2", "next definition (warm)", f"{median(warm):.1f} ms"),
    ]


async def tokens(bench: Bench) -> list[Row]:
    root = big_project(bench)
    enc = load_encoding("o200k_base")
    s = Session(root)
    try:
        started = time.perf_counter()
        refs = await s.call("references", {"path": "app/core.py", "line": 1, "symbol": "save"})
        first_s = time.perf_counter() - started
        grep_default = await s.call("grep", {"pattern": r"\bsave\b"})
        grep_all = await s.call("grep", {"pattern": r"\bsave\b", "max_results": 1000})
    finally:
        await s.close()
    found = refs.count("\n")  # "N reference(s):" then one row each
    if found < USERS + 1:
        raise RuntimeError(f"references found {found} of {USERS + 1}: {refs[:300]!r}")
    # every match, as grep prints them (its max_results stops at 1,000)
    word = re.compile(r"\bsave\b")
    every = [
        f"{f.relative_to(root)}:{n}: {line.strip()}"
        for f in sorted(root.rglob("*.py"))
        for n, line in enumerate(f.read_text().split("\n"), 1)
        if word.search(line)
    ]
    t_refs, t_grep, t_all, t_every = (
        len(enc.encode(x)) for x in (refs, grep_default, grep_all, "\n".join(every))
    )
    return [
        Row("LS3", f"references of `save` ({found} hits, {FILES} files)", f"{t_refs} tokens"),
        Row("LS3", "grep \\bsave\\b, default max_results=100 (truncated)", f"{t_grep} tokens"),
        Row(
            "LS3", "grep \\bsave\\b, max_results=1000 (cut by tools.outputLimit)", f"{t_all} tokens"
        ),
        Row("LS3", f"all {len(every)} grep matches (what grep would need)", f"{t_every} tokens"),
        Row("LS3", "tokens: grep (1000) / references", f"{t_all / t_refs:.1f}×"),
        Row("LS3", "tokens: all grep matches / references", f"{t_every / t_refs:.1f}×"),
        Row("LS3", "first references call on 2,000 files (indexing)", f"{first_s:.1f} s"),
    ]


async def run(bench: Bench) -> list[Row]:
    if not shutil.which("basedpyright-langserver"):
        return [Row("LS", "language servers", "skipped: basedpyright-langserver not on PATH")]
    return [*await first_use(bench), *await edit_to_diagnostics(bench), *await tokens(bench)]
